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

"""The private Keystone fixture, against the real Keystone it starts."""

from keystoneauth1 import exceptions as ks_exceptions
from keystoneauth1 import session as ks_session
import requests

from tacker_vimmon.tests.functional import base
from tacker_vimmon.tests.functional import keystone


class TestKeystoneFixture(keystone.KeystoneTestCase):

    def _validate(self, token):
        """Validate token the way auth_token does, as the service user."""
        response = requests.get(
            self.keystone.auth_url + '/auth/tokens', timeout=30,
            headers={'X-Auth-Token': self.keystone.get_token(
                         self.keystone.service),
                     'X-Subject-Token': token})
        self.assertEqual(200, response.status_code, response.text)
        return response.json()['token']

    def test_member_token_is_scoped_to_its_project(self):
        token = self._validate(self.keystone.get_token(
            self.keystone.member('nfv')))
        self.assertEqual(self.keystone.project_id('nfv'),
                         token['project']['id'])
        self.assertEqual('nfv-member', token['user']['name'])
        self.assertEqual({'member', 'reader'},
                         {role['name'] for role in token['roles']})

    def test_admin_token_carries_the_admin_role(self):
        token = self._validate(self.keystone.get_token('admin'))
        self.assertIn('admin', {role['name'] for role in token['roles']})

    def test_projects_are_isolated(self):
        nfv, other = self.keystone.member('nfv'), self.keystone.member('other')
        self.assertNotEqual(self.keystone.project_id('nfv'),
                            self.keystone.project_id('other'))
        # A member of one project has no role in the other.
        for user, foreign in ((nfv, 'other'), (other, 'nfv')):
            self.assertRaises(ks_exceptions.Unauthorized,
                              self.keystone.get_token, user, foreign)

    def test_regions_and_the_catalog_name_this_keystone(self):
        session = ks_session.Session(
            auth=self.keystone.member('nfv').auth_plugin())
        regions = session.get(self.keystone.auth_url + '/regions').json()
        self.assertEqual(['RegionOne'],
                         [region['id'] for region in regions['regions']])
        # keystoneauth1 finds the identity service through the catalog.
        self.assertEqual(self.keystone.auth_url, session.get_endpoint(
            service_type='identity', interface='public').rstrip('/'))

    def test_wrong_password_is_refused(self):
        member = self.keystone.member('nfv')
        wrong = keystone.Credentials(member.auth_url, member.username,
                                     'not-' + member.password,
                                     member.project_name)
        self.assertRaises(ks_exceptions.Unauthorized,
                          self.keystone.get_token, wrong)

    def test_authtoken_config_names_the_service_user(self):
        options = self.keystone.authtoken_config()
        self.assertEqual(self.keystone.auth_url, options['auth_url'])
        self.assertEqual(self.keystone.auth_url,
                         options['www_authenticate_uri'])
        self.assertEqual('password', options['auth_type'])
        self.assertEqual(self.keystone.service.username, options['username'])
        self.assertEqual('service', options['project_name'])
        self.assertTrue(self.keystone.get_token(self.keystone.service))

    def test_credentials_never_show_the_password(self):
        member = self.keystone.member('nfv')
        self.assertNotIn(member.password, repr(member))


class TestKeystoneFixtureLifecycle(base.FunctionalTestCase):
    """A fixture used per test: its own port, stopped afterwards."""

    def test_private_instances_on_their_own_ports(self):
        first = self.use_service(keystone.KeystoneFixture())
        second = keystone.KeystoneFixture()
        second.setUp()
        self.assertNotEqual(first.url, second.url)
        self.assertTrue(second.get_token(second.member('other')))
        second.cleanUp()
        self.assertRaises(requests.ConnectionError, requests.get,
                          second.auth_url, timeout=5)
        self.assertEqual(200, requests.get(first.auth_url,
                                           timeout=5).status_code)
