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

"""Rules the resource rules are built from."""

from oslo_policy import policy

ADMIN = 'rule:context_is_admin'
ADMIN_OR_OWNER = 'rule:admin_or_owner'
ADMIN_OR_READER_OWNER = 'rule:admin_or_reader_owner'

rules = [
    policy.RuleDefault(
        'context_is_admin', 'role:admin',
        description='An administrator: sees and changes the VIMs of every '
                    'project.'),
    policy.RuleDefault(
        'admin_or_owner',
        'rule:context_is_admin or (role:member and '
        'project_id:%(project_id)s)',
        description='An administrator, or a member of the project that owns '
                    'the resource.'),
    policy.RuleDefault(
        'admin_or_reader_owner',
        'rule:context_is_admin or (role:reader and '
        'project_id:%(project_id)s) or (role:member and '
        'project_id:%(project_id)s)',
        description='An administrator, or a reader or member of the '
                    'project that owns the resource.'),
]


def list_rules():
    return rules
