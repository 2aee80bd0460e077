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
            'workflows': [{'id': WF_ID, 'name': 'tacker_vimmon-vim-x'}]})

    def mock_execution_created(self, status_code=201):
        self.requests.post(MISTRAL + '/executions', status_code=status_code,
                           json={'id': EX_ID, 'state': 'RUNNING'}
                           if status_code == 201 else
                           {'faultstring': 'engine is down'})


class TestCreate(MistralTestCase):

    def test_creates_workflow_then_starts_execution_with_inputs(self):
        self.mock_workflow_created()
        self.mock_execution_created()
        monitor = self.monitors.create(VIM_ID, ACTION_ID, '192.0.2.10',
                                       PROBE)
        self.assertEqual((WF_ID, 'tacker_vimmon-vim-x', EX_ID),
                         tuple(monitor))
        wf_request, ex_request = self.requests.request_history
        self.assertIn(VIM_ID, wf_request.text)
        body = ex_request.json()
        self.assertEqual(WF_ID, body['workflow_id'])
        self.assertEqual({'vim_id': VIM_ID, 'action_id': ACTION_ID,
                          'target': '192.0.2.10', 'probe': PROBE},
                         json.loads(body['input']))

    def test_failed_start_removes_the_workflow_and_says_why(self):
        self.mock_workflow_created()
        self.mock_execution_created(status_code=500)
        self.requests.delete(MISTRAL + '/workflows/' + WF_ID, status_code=204)
        error = self.assertRaises(exception.MistralRequestFailed,
                                  self.monitors.create, VIM_ID, ACTION_ID,
                                  '192.0.2.10', PROBE)
        self.assertIn('start the monitor of VIM %s' % VIM_ID,
                      error.format_message())
        self.assertIn('engine is down', error.format_message())
        self.assertEqual('DELETE', self.requests.request_history[-1].method)

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
                               {'id': WF_ID, 'name': 'n'}]})
        self.requests.post('http://mistral.test/v2/executions',
                           status_code=201, json={'id': EX_ID})
        mistral.MistralMonitors().create(VIM_ID, ACTION_ID, 'h', PROBE)
        mistral_calls = [r for r in self.requests.request_history
                         if r.hostname == 'mistral.test']
        self.assertEqual(2, len(mistral_calls))
        self.assertEqual('tok', mistral_calls[0].headers['X-Auth-Token'])


class TestDelete(MistralTestCase):

    def test_force_deletes_execution_then_workflow(self):
        self.requests.delete(MISTRAL + '/executions/' + EX_ID, status_code=204)
        self.requests.delete(MISTRAL + '/workflows/' + WF_ID, status_code=204)
        self.monitors.delete(WF_ID, EX_ID)
        calls = [(r.method, r.path, r.qs) for r in
                 self.requests.request_history]
        self.assertEqual('/v2/executions/' + EX_ID, calls[0][1])
        self.assertEqual(['true'], calls[0][2].get('force'))
        self.assertEqual('/v2/workflows/' + WF_ID, calls[1][1])

    def test_already_gone_is_fine(self):
        self.requests.delete(MISTRAL + '/executions/' + EX_ID, status_code=404,
                             json={'faultstring': 'not found'})
        self.requests.delete(MISTRAL + '/workflows/' + WF_ID, status_code=404,
                             json={'faultstring': 'not found'})
        self.monitors.delete(WF_ID, EX_ID)

    def test_other_errors_are_raised(self):
        self.requests.delete(MISTRAL + '/executions/' + EX_ID, status_code=500,
                             json={'faultstring': 'db locked'})
        self.assertRaises(exception.MistralRequestFailed,
                          self.monitors.delete, WF_ID, EX_ID)
