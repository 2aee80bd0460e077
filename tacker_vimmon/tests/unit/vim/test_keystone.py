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

"""Credential validation against a VIM's Keystone (requests-mock)."""

from keystoneauth1 import exceptions as ks_exc
from requests_mock.contrib import fixture as requests_mock_fixture

from tacker_vimmon.common import exception
from tacker_vimmon.tests import base
from tacker_vimmon.vim import keystone

AUTH_URL = 'http://vim.example/identity/v3'
CRED = {'username': 'u', 'password': 'p-secret', 'user_domain_name': 'D',
        'cert_verify': 'True'}
PROJECT = {'name': 'nfv', 'project_domain_name': 'D'}
TOKEN_BODY = {'token': {
    'methods': ['password'], 'expires_at': '2099-01-01T00:00:00Z',
    'user': {'id': 'u1', 'name': 'u', 'domain': {'id': 'd', 'name': 'D'}},
    'project': {'id': 'p1', 'name': 'nfv',
                'domain': {'id': 'd', 'name': 'D'}},
    'catalog': [{'type': 'compute', 'endpoints': [
        {'region_id': 'West', 'interface': 'public', 'url': 'http://c'},
        {'region_id': 'East', 'interface': 'public', 'url': 'http://c'}]}],
}}


class TestDiscoverRegions(base.TestCase):

    def setUp(self):
        super().setUp()
        self.mock = self.useFixture(requests_mock_fixture.Fixture())

    def token(self, **kwargs):
        self.mock.post(AUTH_URL + '/auth/tokens', **kwargs)

    def test_regions_from_the_regions_api(self):
        self.token(json=TOKEN_BODY, status_code=201,
                   headers={'X-Subject-Token': 'tok'})
        self.mock.get(AUTH_URL + '/regions', json={'regions': [
            {'id': 'RegionTwo'}, {'id': 'RegionOne'}]})
        self.assertEqual(['RegionOne', 'RegionTwo'], keystone.discover_regions(
            AUTH_URL, CRED, PROJECT))
        sent = self.mock.request_history[0].json()['auth']
        self.assertEqual('p-secret',
                         sent['identity']['password']['user']['password'])
        self.assertEqual('nfv', sent['scope']['project']['name'])
        self.assertEqual('tok',
                         self.mock.request_history[1].headers['X-Auth-Token'])

    def test_regions_from_the_catalog_when_the_api_is_forbidden(self):
        self.token(json=TOKEN_BODY, status_code=201,
                   headers={'X-Subject-Token': 'tok'})
        self.mock.get(AUTH_URL + '/regions', status_code=403)
        self.assertEqual(['East', 'West'], keystone.discover_regions(
            AUTH_URL, CRED, PROJECT))

    def test_wrong_password_is_rejected_without_the_password(self):
        self.token(status_code=401, json={'error': {'code': 401}})
        error = self.assertRaises(exception.VimCredentialsRejected,
                                  keystone.discover_regions, AUTH_URL, CRED,
                                  PROJECT)
        self.assertEqual(400, error.code)
        self.assertIn(AUTH_URL, str(error))
        self.assertNotIn('p-secret', str(error))

    def test_unreachable_keystone(self):
        self.token(exc=ks_exc.ConnectFailure('refused'))
        error = self.assertRaises(exception.VimKeystoneUnreachable,
                                  keystone.discover_regions, AUTH_URL, CRED,
                                  PROJECT)
        self.assertIn('cannot be reached', str(error))

    def test_something_that_is_not_keystone(self):
        self.token(status_code=200, text='<html>hello</html>')
        error = self.assertRaises(exception.VimKeystoneUnreachable,
                                  keystone.discover_regions, AUTH_URL, CRED,
                                  PROJECT)
        self.assertIn('not a usable Keystone v3 answer', str(error))
