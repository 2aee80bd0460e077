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

"""The workflow definition and input of one VIM's monitor."""

import json

from oslo_utils import uuidutils
import yaml

from tacker_vimmon.tests import base
from tacker_vimmon.workflow import definition

VIM_ID = '4406cf8f-f2af-46cc-bfb9-e00add5805b7'
ACTION_ID = '9b2a5c8e-0d7f-4a61-8e7d-51f0c3a9e111'


class TestWorkflowDefinition(base.TestCase):

    def test_one_direct_workflow_with_one_task_running_our_action(self):
        parsed = yaml.safe_load(definition.definition(VIM_ID))
        self.assertEqual('2.0', parsed.pop('version'))
        [(name, body)] = parsed.items()
        self.assertEqual(definition.workflow_name(VIM_ID), name)
        self.assertEqual('direct', body['type'])
        self.assertEqual(['vim_id', 'action_id', 'target', 'probe'],
                         body['input'])
        [(task_name, task)] = body['tasks'].items()
        self.assertEqual('tacker_vimmon.vim_monitor', task['action'])
        self.assertEqual({'vim_id': '{{ _.vim_id }}',
                          'action_id': '{{ _.action_id }}',
                          'target': '{{ _.target }}',
                          'probe': '{{ _.probe }}'}, task['input'])
        # A failed action must not be re-run by Mistral behind our back:
        # the reconciler decides about replacing monitors.
        self.assertNotIn('retry', task)

    def test_name_is_the_vims_alone_and_is_not_a_uuid(self):
        name = definition.workflow_name(VIM_ID)
        self.assertEqual('tacker_vimmon-vim-' + VIM_ID, name)
        self.assertFalse(uuidutils.is_uuid_like(name))

    def test_definition_names_no_monitor(self):
        # Every monitor of the VIM is an execution of this one workflow:
        # which monitor it is comes in as execution input only.
        text = definition.definition(VIM_ID)
        self.assertNotIn(ACTION_ID, text)
        self.assertEqual(text, definition.definition(VIM_ID))

    def test_definition_has_no_yaml_anchors(self):
        text = definition.definition(VIM_ID)
        self.assertNotIn('&id', text)
        self.assertNotIn('*id', text)

    def test_input_holds_only_what_the_action_needs(self):
        probe = {'count': 3, 'interval': 1.0, 'timeout': 1.0,
                 'failure_threshold': 3, 'check_interval': 60}
        value = definition.workflow_input(VIM_ID, ACTION_ID, '192.0.2.10',
                                        probe)
        self.assertEqual({'vim_id', 'action_id', 'target', 'probe'},
                         set(value))
        self.assertEqual(probe, value['probe'])
        json.dumps(value)  # Mistral takes JSON.


class TestParseName(base.TestCase):

    def test_round_trip_of_a_vims_workflow_name(self):
        vim_id = '0d6e2d36-4ad8-4d3e-a34e-2f4f0bb1c0de'
        name = definition.workflow_name(vim_id)
        self.assertEqual((vim_id, None), definition.parse_name(name))

    def test_per_monitor_name_of_the_former_naming(self):
        # <prefix><vim_id>-<first 8 characters of action_id>, as workflows
        # made before the VIMs had one of their own are named.
        vim_id = '0d6e2d36-4ad8-4d3e-a34e-2f4f0bb1c0de'
        name = 'tacker_vimmon-vim-%s-%s' % (vim_id, 'ab-d5678-rest'[:8])
        self.assertEqual((vim_id, 'ab-d5678'), definition.parse_name(name))

    def test_other_workflows_are_not_monitors(self):
        self.assertIsNone(definition.parse_name('std.noop'))
        self.assertIsNone(
            definition.parse_name(definition.WORKFLOW_PREFIX + 'x'))
        self.assertIsNone(definition.parse_name(
            definition.WORKFLOW_PREFIX + 'x' * 36 + '-abcd1234'))
