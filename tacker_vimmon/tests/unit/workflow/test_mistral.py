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

"""Setting up and removing monitors through python-mistralclient.

requests-mock answers for Mistral and Keystone, so the real mistralclient
and keystoneauth code paths run; the end-to-end tests use a real Mistral.
"""

import json

from keystoneauth1 import loading as ks_loading
from requests_mock.contrib import fixture as rm_fixture

from tacker_vimmon.common import exception
from tacker_vimmon.tests import base
from tacker_vimmon.workflow import mistral

MISTRAL = 'http://127.0.0.1:8989/v2'
VIM_ID = '4406cf8f-f2af-46cc-bfb9-e00add5805b7'
ACTION_ID = '9b2a5c8e-0d7f-4a61-8e7d-51f0c3a9e111'
WF_ID = 'c8d2e9a0-51b4-4f0e-9a57-0e4ad36f9c11'
EX_ID = '0f9f7c52-37a5-4c5e-b1a8-3c9b1d2e4f60'
WF_NAME = 'tacker_vimmon-vim-' + VIM_ID
PROBE = {'count': 3, 'interval': 1.0, 'timeout': 1.0,
         'failure_threshold': 3, 'check_interval': 60}


class MistralTestCase(base.TestCase):

    def setUp(self):
        super().setUp()
        self.requests = self.useFixture(rm_fixture.Fixture())
        self.flags(group='mistral', endpoint_override=MISTRAL)
        self.monitors = mistral.MistralMonitors()

    def mock_workflow_created(self):
        self.requests.post(MISTRAL + '/workflows', status_code=201, json={
            'workflows': [{'id': WF_ID, 'name': WF_NAME,
                           'created_at': '2026-11-30 10:00:00'}]})

    def mock_execution_created(self, status_code=201):
        self.requests.post(MISTRAL + '/executions', status_code=status_code,
                           json={'id': EX_ID, 'state': 'RUNNING',
                                 'workflow_id': WF_ID,
                                 'workflow_name': WF_NAME}
                           if status_code == 201 else
                           {'faultstring': 'engine is down'})


class TestCreate(MistralTestCase):

    def test_creates_workflow_then_starts_execution_with_inputs(self):
        self.mock_workflow_created()
        self.mock_execution_created()
        monitor = self.monitors.create(VIM_ID, ACTION_ID, '192.0.2.10',
                                       PROBE)
        self.assertEqual((WF_ID, WF_NAME, EX_ID), tuple(monitor))
        wf_request, ex_request = self.requests.request_history
        self.assertIn(VIM_ID, wf_request.text)
        body = ex_request.json()
        self.assertEqual(WF_ID, body['workflow_id'])
        self.assertEqual({'vim_id': VIM_ID, 'action_id': ACTION_ID,
                          'target': '192.0.2.10', 'probe': PROBE},
                         json.loads(body['input']))

    def test_failed_start_keeps_the_vims_workflow_and_says_why(self):
        # The workflow is the VIM's for as long as it is registered: the
        # retry starts an execution of it.
        self.mock_workflow_created()
        self.mock_execution_created(status_code=500)
        error = self.assertRaises(exception.MistralRequestFailed,
                                  self.monitors.create, VIM_ID, ACTION_ID,
                                  '192.0.2.10', PROBE)
        self.assertIn('start the monitor of VIM %s' % VIM_ID,
                      error.format_message())
        self.assertIn('engine is down', error.format_message())
        self.assertEqual(['POST', 'POST'], [
            r.method for r in self.requests.request_history])

    def test_unreachable_mistral_names_the_url(self):
        self.flags(group='mistral', endpoint_override='http://127.0.0.1:1/v2')
        self.requests.stop()
        error = self.assertRaises(exception.MistralUnavailable,
                                  mistral.MistralMonitors().create, VIM_ID,
                                  ACTION_ID, '192.0.2.10', PROBE)
        self.assertIn('http://127.0.0.1:1/v2', error.format_message())
        self.assertEqual(503, error.code)

    def test_without_endpoint_or_auth_it_says_what_to_configure(self):
        self.flags(group='mistral', endpoint_override=None)
        error = self.assertRaises(exception.MistralNotConfigured,
                                  mistral.MistralMonitors().create, VIM_ID,
                                  ACTION_ID, '192.0.2.10', PROBE)
        self.assertIn('endpoint_override', error.format_message())


class TestKeystoneCatalog(MistralTestCase):

    def test_endpoint_comes_from_the_catalog_with_keystone_auth(self):
        keystone = 'http://127.0.0.1:5000/v3'
        # keystoneauth registers a plugin's options when it loads it; a
        # test that sets them first registers them itself.
        self.conf.register_opts(
            ks_loading.get_auth_plugin_conf_options('password'),
            group='mistral')
        self.flags(group='mistral', endpoint_override=None,
                   auth_type='password')
        self.flags(group='mistral', auth_url=keystone, username='svc',
                   password='pw', project_name='service',
                   user_domain_name='Default',
                   project_domain_name='Default')
        catalog = [{'type': 'workflowv2', 'name': 'mistral', 'endpoints': [
            {'interface': 'public', 'region': 'RegionOne',
             'region_id': 'RegionOne', 'url': 'http://mistral.test/v2'}]}]
        # Version discovery first, as keystoneauth's password plugin does.
        self.requests.get(keystone, json={'version': {
            'id': 'v3.14', 'status': 'stable',
            'links': [{'rel': 'self', 'href': keystone + '/'}]}})
        self.requests.post(keystone + '/auth/tokens', status_code=201,
                           headers={'X-Subject-Token': 'tok'},
                           json={'token': {
                               'catalog': catalog, 'methods': ['password'],
                               'user': {'id': 'u1', 'name': 'svc'},
                               'expires_at': '2099-01-01T00:00:00Z'}})
        self.requests.post('http://mistral.test/v2/workflows',
                           status_code=201, json={'workflows': [
                               {'id': WF_ID, 'name': WF_NAME}]})
        self.requests.post('http://mistral.test/v2/executions',
                           status_code=201, json={'id': EX_ID})
        mistral.MistralMonitors().create(VIM_ID, ACTION_ID, 'h', PROBE)
        mistral_calls = [r for r in self.requests.request_history
                         if r.hostname == 'mistral.test']
        self.assertEqual(2, len(mistral_calls))
        self.assertEqual('tok', mistral_calls[0].headers['X-Auth-Token'])


class TestEnsureWorkflow(MistralTestCase):

    def test_creates_the_vims_workflow(self):
        self.mock_workflow_created()
        workflow = self.monitors.ensure_workflow(VIM_ID)
        self.assertEqual((WF_ID, WF_NAME), workflow[:2])
        [request] = self.requests.request_history
        self.assertIn(WF_NAME + ':', request.text)
        self.assertNotIn(ACTION_ID, request.text)

    def test_one_that_exists_already_is_looked_up_and_shared(self):
        # Another node made the VIM's first monitor at the same moment.
        self.requests.post(MISTRAL + '/workflows', status_code=409,
                           json={'faultstring': 'Duplicate entry'})
        self.requests.get(MISTRAL + '/workflows/' + WF_NAME, json={
            'id': WF_ID, 'name': WF_NAME,
            'created_at': '2026-11-30 10:00:00'})
        workflow = self.monitors.ensure_workflow(VIM_ID)
        self.assertEqual((WF_ID, WF_NAME), workflow[:2])
        self.assertEqual(['POST', 'GET'], [
            r.method for r in self.requests.request_history])

    def test_other_refusals_are_raised(self):
        self.requests.post(MISTRAL + '/workflows', status_code=400,
                           json={'faultstring': 'Invalid DSL'})
        error = self.assertRaises(exception.MistralRequestFailed,
                                  self.monitors.ensure_workflow, VIM_ID)
        self.assertIn('Invalid DSL', error.format_message())
        self.assertEqual(1, len(self.requests.request_history))


class TestStart(MistralTestCase):

    def test_an_execution_of_the_vims_workflow_and_nothing_else(self):
        self.mock_execution_created()
        monitor = self.monitors.start(VIM_ID, ACTION_ID, '192.0.2.10',
                                      PROBE)
        self.assertEqual((WF_ID, WF_NAME, EX_ID), tuple(monitor))
        [request] = self.requests.request_history
        body = request.json()
        # Named, so that only the VIM's own workflow is ever started.
        self.assertEqual(WF_NAME, body['workflow_name'])
        self.assertEqual({'vim_id': VIM_ID, 'action_id': ACTION_ID,
                          'target': '192.0.2.10', 'probe': PROBE},
                         json.loads(body['input']))

    def test_by_workflow_id(self):
        self.mock_execution_created()
        self.monitors.start(VIM_ID, ACTION_ID, '192.0.2.10', PROBE,
                            workflow_id=WF_ID)
        self.assertEqual(
            WF_ID, self.requests.request_history[0].json()['workflow_id'])

    def test_missing_workflow_is_not_found(self):
        self.requests.post(MISTRAL + '/executions', status_code=404,
                           json={'faultstring': 'Workflow not found'})
        error = self.assertRaises(exception.MistralNotFound,
                                  self.monitors.start, VIM_ID, ACTION_ID,
                                  '192.0.2.10', PROBE)
        self.assertIn('Workflow not found', error.format_message())


class TestDelete(MistralTestCase):

    def test_force_deletes_one_execution(self):
        self.requests.delete(MISTRAL + '/executions/' + EX_ID, status_code=204)
        self.monitors.delete_execution(EX_ID)
        [call] = self.requests.request_history
        self.assertEqual('/v2/executions/' + EX_ID, call.path)
        self.assertEqual(['true'], call.qs.get('force'))

    def test_workflow_goes_after_every_execution_of_it(self):
        other = '5b0f3d0e-8a8e-4f57-9d4c-1f0c2f1f3a77'
        self.requests.get(MISTRAL + '/executions', json={'executions': [
            {'id': EX_ID}, {'id': other}]})
        for ex_id in (EX_ID, other):
            self.requests.delete(MISTRAL + '/executions/' + ex_id,
                                 status_code=204)
        self.requests.delete(MISTRAL + '/workflows/' + WF_NAME,
                             status_code=204)
        self.monitors.delete_workflow(WF_NAME)
        calls = [(r.method, r.path, r.qs) for r in
                 self.requests.request_history]
        self.assertEqual([WF_NAME.lower()], calls[0][2]['workflow_name'])
        self.assertEqual(['/v2/executions/' + EX_ID,
                          '/v2/executions/' + other],
                         [path for _m, path, _q in calls[1:3]])
        self.assertEqual({'true'}, {q['force'][0] for _m, _p, q in
                                    calls[1:3]})
        self.assertEqual(('DELETE', '/v2/workflows/' + WF_NAME.lower()),
                         calls[3][:2])

    def test_workflow_by_id_lists_its_executions_by_id(self):
        self.requests.get(MISTRAL + '/executions', json={'executions': []})
        self.requests.delete(MISTRAL + '/workflows/' + WF_ID, status_code=204)
        self.monitors.delete_workflow(WF_ID)
        self.assertEqual(
            [WF_ID], self.requests.request_history[0].qs['workflow_id'])

    def test_already_gone_is_fine(self):
        self.requests.delete(MISTRAL + '/executions/' + EX_ID, status_code=404,
                             json={'faultstring': 'not found'})
        self.requests.get(MISTRAL + '/executions', json={'executions': []})
        self.requests.delete(MISTRAL + '/workflows/' + WF_ID, status_code=404,
                             json={'faultstring': 'not found'})
        self.monitors.delete_execution(EX_ID)
        self.monitors.delete_workflow(WF_ID)

    def test_other_errors_are_raised(self):
        self.requests.delete(MISTRAL + '/executions/' + EX_ID, status_code=500,
                             json={'faultstring': 'db locked'})
        self.assertRaises(exception.MistralRequestFailed,
                          self.monitors.delete_execution, EX_ID)
