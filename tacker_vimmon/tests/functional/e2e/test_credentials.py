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

"""End to end: the conductor's credential check against a real Keystone.

A VIM whose auth_url is the test's own Keystone (on loopback, so ICMP and
the API check both answer), with the credentials of a user the test makes
there. Good credentials stay REACHABLE; a password changed in Keystone
makes the VIM AUTH_FAILED within the check's interval; the VIM's
credentials updated through the API make it REACHABLE again.
"""

from keystoneauth1 import session as ks_session
from oslo_utils import uuidutils
import requests

from tacker_vimmon.tests.functional import base
from tacker_vimmon.tests.functional import keystone
from tacker_vimmon.tests.functional import monitoring

INTERVAL = 3
# A check is due within INTERVAL, looked for every second.
CHECK_BOUND = INTERVAL + 15


class TestCredentialCheck(monitoring.MonitoringTestCase):

    HOSTS = 1
    VIM_MONITOR = {'status_checks': 'both', 'api_check_interval': 5}
    SECTIONS = {'credential_check': {'interval': INTERVAL,
                                     'poll_interval': 1, 'timeout': 10}}

    def before_services(self):
        self.keystone = self.use_service(keystone.KeystoneFixture())
        admin = self.keystone.admin
        self.admin = ks_session.Session(auth=admin.auth_plugin())
        self.identity = self.keystone.auth_url
        self.password = uuidutils.generate_uuid()
        self.user_id = self._make_user('tvm-vim-user', self.password)

    def _make_user(self, name, password):
        project = self.keystone.project_id('nfv')
        response = self.admin.post(self.identity + '/users', json={'user': {
            'name': name, 'password': password, 'domain_id': 'default',
            'default_project_id': project}})
        user_id = response.json()['user']['id']
        roles = self.admin.get(self.identity + '/roles',
                               params={'name': 'member'}).json()['roles']
        self.admin.put('%s/projects/%s/users/%s/roles/%s' % (
            self.identity, project, user_id, roles[0]['id']))
        return user_id

    def set_password(self, password):
        self.admin.patch('%s/users/%s' % (self.identity, self.user_id),
                         json={'user': {'password': password}})

    def wait_shown(self, vim_id, status, credentials):
        def shown():
            vim = self.vim(vim_id)
            found = vim['monitor'].get('credentials', {}).get('status')
            return (vim['status'], found) == (status, credentials) and vim
        return base.wait_for(shown, CHECK_BOUND, interval=0.5,
                             message='VIM %s %s, credentials %s' % (
                                 vim_id, status, credentials))

    def test_a_changed_password_shows_then_heals(self):
        vim = self.register(
            'keystone-vim', self.identity,
            auth_cred={'username': 'tvm-vim-user', 'password': self.password,
                       'user_domain_name': 'Default'},
            vim_project={'name': 'nfv', 'project_domain_name': 'Default'})
        good = self.wait_shown(vim['id'], 'REACHABLE', 'ok')
        self.assertEqual('ok', good['monitor']['reason'])

        self.set_password(uuidutils.generate_uuid())
        refused = self.wait_shown(vim['id'], 'AUTH_FAILED', 'auth_failed')
        monitor = refused['monitor']
        self.assertEqual(('auth_failed', 'REACHABLE'),
                         (monitor['reason'], monitor['last_status']))
        self.assertIn('refused the given credentials', monitor['detail'])
        # Never the password, old or new.
        self.assertNotIn(self.password, str(refused))

        new_password = uuidutils.generate_uuid()
        self.set_password(new_password)
        response = requests.put(
            self.api.url + '/v1.0/vims/' + vim['id'],
            json={'vim': {'auth_cred': {'password': new_password}}},
            timeout=60)
        self.assertEqual(200, response.status_code, response.text)
        self.wait_shown(vim['id'], 'REACHABLE', 'ok')
        self.assertNotIn(new_password, self.conductor.log())
        self.assertNotIn(new_password, self.mistral.log_tail(5000))
