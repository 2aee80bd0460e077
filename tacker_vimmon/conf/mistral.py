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

"""The [mistral] group: how the API server and conductor reach Mistral.

Two ways, both through a keystoneauth session:

* A Mistral behind Keystone: set ``auth_type`` (e.g. ``password``) and its
  options; the endpoint is found in the catalog (service type
  ``workflowv2``) unless ``endpoint_override`` names it.
* A Mistral without auth (``[pecan] auth_enable = False``): leave
  ``auth_type`` unset and set ``endpoint_override`` to its v2 URL, for
  example ``http://127.0.0.1:8989/v2``.
"""

import copy

from keystoneauth1 import loading as ks_loading
from oslo_config import cfg

from tacker_vimmon.i18n import _

GROUP = cfg.OptGroup(
    'mistral', title='Mistral',
    help=_('Where Mistral is and how to authenticate to it. Leave auth_type '
           'unset and set endpoint_override for a Mistral without auth.'))

SERVICE_TYPE = 'workflowv2'

DEFAULT_TIMEOUT = 30


def _keystoneauth_opts():
    # The password plugin's options are listed so that the sample file and
    # the docs show the usual way to authenticate.
    opts = (ks_loading.get_session_conf_options()
            + ks_loading.get_auth_common_conf_options()
            + ks_loading.get_adapter_conf_options(include_deprecated=False)
            + ks_loading.get_auth_plugin_conf_options('password'))
    unique = {}
    for opt in opts:
        unique.setdefault(opt.dest, copy.deepcopy(opt))
    return list(unique.values())


def register_opts(conf):
    conf.register_group(GROUP)
    ks_loading.register_session_conf_options(conf, GROUP.name)
    ks_loading.register_auth_conf_options(conf, GROUP.name)
    ks_loading.register_adapter_conf_options(conf, GROUP.name,
                                             include_deprecated=False)
    conf.set_default('service_type', SERVICE_TYPE, group=GROUP.name)
    conf.set_default('timeout', DEFAULT_TIMEOUT, group=GROUP.name)


def list_opts():
    opts = _keystoneauth_opts()
    for opt in opts:
        if opt.dest == 'service_type':
            opt.default = SERVICE_TYPE
        elif opt.dest == 'timeout':
            opt.default = DEFAULT_TIMEOUT
    return {GROUP: opts}
