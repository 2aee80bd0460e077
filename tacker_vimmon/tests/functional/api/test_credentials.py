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

"""Credential validation of OpenStack VIMs through real HTTP.

The server authenticates to the VIM's Keystone (here a small Keystone
look-alike on loopback) with keystoneauth, refuses what it refuses, and
discovers the regions. The real-Keystone suite repeats this with Keystone.
"""

import requests
import sqlalchemy as sa

from tacker_vimmon.tests.functional import base
from tacker_vimmon.tests.functional.api import api_server
from tacker_vimmon.tests.functional.api import fake_keystone


class TestCredentialValidation(base.FunctionalTestCase):

    def setUp(self):
        super().setUp()
        database = self.real_database('postgresql')
        self.engine = database.engine
        self.keystone = self.useFixture(fake_keystone.FakeKeystone())
        self.server = self.useFixture(api_server.ApiServerProcess(
            database.url, validate_credentials=True))

    def register(self, password, auth_url=None, name='vim-1'):
        return requests.post(self.server.url + '/v1.0/vims', json={'vim': {
            'name': name, 'type': 'openstack',
            'auth_url': auth_url or self.keystone.url,
            'auth_cred': {'username': 'nfv_user', 'password': password},
            'vim_project': {'name': 'nfv'}}}, timeout=30)

    def count_vims(self):
        with self.engine.connect() as connection:
            return connection.execute(
                sa.text('SELECT COUNT(*) FROM vims')).scalar()

    def test_good_credentials_register_with_regions(self):
        response = self.register(self.keystone.password)
        self.assertEqual(201, response.status_code, response.text)
        vim = response.json()['vim']
        self.assertEqual({'regions': ['RegionOne', 'RegionTwo']},
                         vim['placement_attr'])
        self.assertEqual(self.keystone.url, vim['auth_url'])
        self.assertEqual(['nfv_user'], self.keystone.attempts)

        # New credentials are checked too, and a refusal changes nothing.
        path = self.server.url + '/v1.0/vims/' + vim['id']
        refused = requests.put(path, json={'vim': {'auth_cred': {
            'password': 'not-it'}}}, timeout=30)
        self.assertEqual(400, refused.status_code, refused.text)
        renamed = requests.put(path, json={'vim': {'name': 'vim-2'}},
                               timeout=30)
        self.assertEqual(200, renamed.status_code, renamed.text)
        self.assertEqual(2, len(self.keystone.attempts))
        self.assertNotIn(self.keystone.password, self.server.log_text())

    def test_wrong_password_is_refused_and_nothing_stored(self):
        response = self.register('wrong-password-4411')
        self.assertEqual(400, response.status_code, response.text)
        error = response.json()['TackerError']
        self.assertEqual('VimCredentialsRejected', error['type'])
        self.assertIn('refused the given credentials', error['message'])
        self.assertIn(self.keystone.url, error['message'])
        self.assertEqual(0, self.count_vims())
        self.assertNotIn('wrong-password-4411', self.server.log_text())

    def test_unreachable_keystone_is_a_clear_4xx(self):
        nobody = 'http://127.0.0.1:%d/v3' % base.free_port()
        response = self.register('whatever', auth_url=nobody)
        self.assertEqual(400, response.status_code, response.text)
        error = response.json()['TackerError']
        self.assertEqual('VimKeystoneUnreachable', error['type'])
        self.assertIn('cannot be reached', error['message'])
        self.assertEqual(0, self.count_vims())
