#    Licensed under the Apache License, Version 2.0 (the "License"); you may
#    not use this file except in compliance with the License. You may obtain
#    a copy of the License at
#
#         http://www.apache.org/licenses/LICENSE-2.0
#
#    Unless required by applicable law or agreed to in writing, software
#    distributed under the License is distributed on an "AS IS" BASIS, WITHOUT
#    WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied. See the
#    License for the specific language governing permissions and limitations
#    under the License.

"""Policy enforcement with oslo.policy; the defaults are in policies/."""

import threading

from oslo_policy import policy

from tacker_vimmon.api import policies
from tacker_vimmon.common import exception
from tacker_vimmon.conf import CONF

_ENFORCER = None
_LOCK = threading.Lock()


def get_enforcer():
    """The process's enforcer (entry point ``oslo.policy.enforcer``)."""
    global _ENFORCER
    with _LOCK:
        if _ENFORCER is None:
            enforcer = policy.Enforcer(CONF)
            enforcer.register_defaults(policies.list_rules())
            _ENFORCER = enforcer
    return _ENFORCER


def reset():
    global _ENFORCER
    with _LOCK:
        _ENFORCER = None


def is_admin(context):
    """True when the caller may act on every project."""
    return get_enforcer().enforce('context_is_admin', {}, context)


def authorize(context, action, project_id):
    """Raise PolicyNotAuthorized unless action is allowed on project_id."""
    target = {'project_id': project_id}
    if not get_enforcer().enforce(action, target, context):
        raise exception.PolicyNotAuthorized(action=action)
