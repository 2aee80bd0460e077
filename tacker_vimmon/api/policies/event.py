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

"""Rules of the event API (/v1.0/events)."""

from oslo_policy import policy

from tacker_vimmon.api.policies import base

PREFIX = 'tacker_vimmon:event:%s'

rules = [
    policy.DocumentedRuleDefault(
        PREFIX % 'list', base.ADMIN_OR_READER_OWNER,
        'List events (an administrator sees every project\'s).',
        [{'method': 'GET', 'path': '/v1.0/events'}]),
    policy.DocumentedRuleDefault(
        PREFIX % 'show', base.ADMIN_OR_READER_OWNER,
        'Show an event.',
        [{'method': 'GET', 'path': '/v1.0/events/{event_id}'}]),
]


def list_rules():
    return rules
