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

"""The VIM handlers drive the monitor lifecycle (Mistral scripted)."""

from tacker_vimmon.api import app
from tacker_vimmon.tests import base
from tacker_vimmon.tests import fixtures as vimmon_fixtures

OPENSTACK_VIM = {'vim': {
    'name': 'os', 'type': 'openstack', 'auth_url': 'http://127.0.0.2:5000',
    'auth_cred': {'username': 'u', 'password': 'secret-pw'},
    'vim_project': {'name': 'nfv'}}}


class TestMonitorHookup(base.ApiTestCase):

    def setUp(self):
        super().setUp()
        # Nothing here may reach out: no Keystone check, Mistral scripted.
        self.flags(group='vim', validate_credentials=False)
        scripted = vimmon_fixtures.ScriptedLifecycle(self.conf.conf)
        self.monitors, self.woken = scripted.monitors, scripted.woken
        self.app = app.setup_app(self.conf.conf, scripted.lifecycle)

    def register(self):
        response = self.request('POST', '/v1.0/vims', OPENSTACK_VIM)
        self.assertEqual(201, response.status_int, response.text)
        return response.json['vim']

    def test_registration_starts_a_monitor_with_no_secret(self):
        vim = self.register()
        self.assertEqual('PENDING', vim['status'])
        [(vim_id, _action_id, target, probe)] = self.monitors.created
        self.assertEqual((vim['id'], 'http://127.0.0.2:5000/v3'),
                         (vim_id, target))
        self.assertNotIn('secret-pw', repr(self.monitors.created))

    def test_moving_replaces_the_monitor_and_other_updates_do_not(self):
        vim = self.register()
        path = '/v1.0/vims/%s' % vim['id']
        for unchanged in ({'name': 'renamed'},
                          {'auth_url': 'http://127.0.0.2:5000/v3'},
                          {'auth_cred': {'password': 'new-pw'}}):
            response = self.request('PUT', path, {'vim': unchanged})
            self.assertEqual(200, response.status_int, response.text)
        self.assertEqual(1, len(self.monitors.created))
        moved = self.request('PUT', path, {'vim': {
            'auth_url': 'http://127.0.0.3:5000'}})
        self.assertEqual(200, moved.status_int, moved.text)
        self.assertEqual('http://127.0.0.3:5000/v3',
                         moved.json['vim']['auth_url'])
        self.assertEqual('PENDING', moved.json['vim']['status'])
        self.assertEqual('http://127.0.0.3:5000/v3',
                         self.monitors.created[-1][2])
        self.assertEqual(['ex1'], self.monitors.deleted_executions)
        self.assertEqual([], self.monitors.deleted_workflows)
        self.assertEqual([self.monitors.created[0][1]], self.woken)

    def test_a_bad_new_auth_url_is_400_and_keeps_the_monitor(self):
        vim = self.register()
        response = self.request('PUT', '/v1.0/vims/%s' % vim['id'],
                                {'vim': {'auth_url': 'ftp://nowhere'}})
        self.assertEqual(400, response.status_int)
        self.assertIn('auth_url', self.fault(response)['message'])
        self.assertEqual(1, len(self.monitors.created))
        self.assertEqual([], self.monitors.deleted_executions)
        self.assertEqual([], self.monitors.deleted_workflows)

    def test_deregistration_retires_the_monitor(self):
        vim = self.register()
        self.assertEqual(204, self.request(
            'DELETE', '/v1.0/vims/%s' % vim['id']).status_int)
        self.assertEqual('tacker_vimmon-vim-' + vim['id'],
                         self.monitors.deleted_workflows[0])
        self.assertEqual({}, self.monitors.vim_workflows)
        self.assertEqual([self.monitors.created[0][1]], self.woken)
