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

"""The API server with a real Keystone, in both of Keystone's roles.

1. The identity service in front of the API (``auth_strategy = keystone``,
   keystonemiddleware's auth_token): real tokens of two projects prove the
   policy rules.
2. The VIM's own Keystone, against which ``[vim] validate_credentials``
   checks the credentials of a VIM being registered.

The real ``tacker-vimmon-server`` runs on real databases (PostgreSQL for
the first, MariaDB for the second); Keystone is the private one of
tests/functional/keystone.py.
"""

import json

import requests

from tacker_vimmon.tests.functional import base
from tacker_vimmon.tests.functional import keystone
from tacker_vimmon.tests.functional.api import api_server

VIMS = '/v1.0/vims'
VIM_PASSWORD = 'pw-Vim-Keystone-4c1d9e'
UNUSED_UUID = '00000000-0000-4000-8000-000000000000'


def openstack_vim(name, auth_url='http://192.0.2.10/identity',
                  username='nfv_user', password=VIM_PASSWORD,
                  project='nfv'):
    return {'vim': {
        'name': name, 'type': 'openstack', 'auth_url': auth_url,
        'auth_cred': {'username': username, 'password': password,
                      'user_domain_name': 'Default'},
        'vim_project': {'name': project, 'project_domain_name': 'Default'},
    }}


class _ApiCalls:
    """Raw HTTP calls to self.server; every answer is kept for checks."""

    def call(self, method, path, body=None, token=None, headers=None):
        headers = dict(headers or {})
        if token:
            headers['X-Auth-Token'] = token
        if body is not None:
            headers['Content-Type'] = 'application/json'
            body = json.dumps(body)
        response = requests.request(method, self.server.url + path,
                                    data=body, headers=headers, timeout=60)
        self.answers.append(response.text)
        return response

    def assertStatus(self, status, response):
        self.assertEqual(status, response.status_code,
                         '%s %s: %s' % (response.request.method,
                                        response.request.url, response.text))
        return response.json() if response.content else None

    def assertNothingLeaked(self, *secrets):
        """No secret in any answer or in the server's log."""
        for text in self.answers + [self.server.log_text()]:
            for secret in secrets:
                self.assertNotIn(secret, text)


class TestKeystoneAuthStrategy(_ApiCalls, keystone.KeystoneTestCase):
    """auth_strategy = keystone: real tokens, the policy rules in effect."""

    def setUp(self):
        super().setUp()
        database = self.real_database('postgresql')
        self.server = self.useFixture(api_server.ApiServerProcess(
            database.url, auth_strategy='keystone',
            sections={'keystone_authtoken':
                      self.keystone.authtoken_config()}))
        self.answers = []
        self.tokens = {
            'nfv': self.keystone.get_token(self.keystone.member('nfv')),
            'other': self.keystone.get_token(self.keystone.member('other')),
            'admin': self.keystone.get_token(self.keystone.admin),
        }

    def test_a_request_without_a_valid_token_is_401(self):
        for token in (None, 'not-a-token'):
            response = self.call('GET', VIMS, token=token)
            self.assertEqual(401, response.status_code, response.text)
            self.assertIn(self.keystone.auth_url,
                          response.headers.get('WWW-Authenticate', ''))
        response = self.call('POST', VIMS, openstack_vim('vim-a'))
        self.assertEqual(401, response.status_code, response.text)
        # The health check stays open to load balancers.
        self.assertEqual(200, self.call('GET', '/healthcheck').status_code)
        self.assertEqual([], self.assertStatus(200, self.call(
            'GET', VIMS, token=self.tokens['nfv']))['vims'])

    def test_projects_see_and_change_only_their_own_vims(self):
        nfv, other, admin = (self.tokens[name]
                             for name in ('nfv', 'other', 'admin'))
        vim = self.assertStatus(201, self.call(
            'POST', VIMS, openstack_vim('vim-nfv'), token=nfv))['vim']
        self.assertEqual(self.keystone.project_id('nfv'), vim['tenant_id'])
        theirs = '%s/%s' % (VIMS, vim['id'])

        # Another project's VIM does not exist for a member of 'other'.
        self.assertStatus(404, self.call('GET', theirs, token=other))
        self.assertEqual([], self.assertStatus(200, self.call(
            'GET', VIMS, token=other))['vims'])
        self.assertStatus(404, self.call(
            'PUT', theirs, {'vim': {'name': 'taken'}}, token=other))
        self.assertStatus(404, self.call('DELETE', theirs, token=other))
        # Nor can it be registered into that project.
        self.assertStatus(403, self.call('POST', VIMS, {'vim': dict(
            openstack_vim('sneaked')['vim'],
            tenant_id=self.keystone.project_id('nfv'))}, token=other))
        self.assertEqual([], self.assertStatus(200, self.call(
            'GET', '/v1.0/events', token=other))['events'])

        other_vim = self.assertStatus(201, self.call(
            'POST', VIMS, openstack_vim('vim-other'), token=other))['vim']
        self.assertEqual(self.keystone.project_id('other'),
                         other_vim['tenant_id'])
        # The owner still sees its VIM unchanged, and only its own.
        shown = self.assertStatus(200, self.call('GET', theirs, token=nfv))
        self.assertEqual('vim-nfv', shown['vim']['name'])
        self.assertEqual([vim['id']], [v['id'] for v in self.assertStatus(
            200, self.call('GET', VIMS, token=nfv))['vims']])

        # The administrator sees every project's VIMs and may change them.
        self.assertEqual(
            {vim['id'], other_vim['id']},
            {v['id'] for v in self.assertStatus(200, self.call(
                'GET', VIMS, token=admin))['vims']})
        self.assertStatus(200, self.call('GET', theirs, token=admin))
        self.assertStatus(200, self.call(
            'PUT', theirs, {'vim': {'description': 'checked'}}, token=admin))

        self.assertStatus(204, self.call('DELETE', theirs, token=nfv))
        self.assertStatus(404, self.call('GET', theirs, token=admin))
        self.assertNothingLeaked(VIM_PASSWORD, self.keystone.service.password,
                                 *self.tokens.values())


class TestVimCredentialValidation(_ApiCalls, keystone.KeystoneTestCase):
    """[vim] validate_credentials against the VIM's own (real) Keystone."""

    def setUp(self):
        super().setUp()
        database = self.real_database('mysql')
        self.server = self.useFixture(api_server.ApiServerProcess(
            database.url, auth_strategy='noauth', validate_credentials=True))
        self.answers = []
        self.member = self.keystone.member('nfv')

    def register(self, name, **fields):
        defaults = {'auth_url': self.keystone.url,
                    'username': self.member.username,
                    'password': self.member.password,
                    'project': self.member.project_name}
        defaults.update(fields)
        return self.call('POST', VIMS, openstack_vim(name, **defaults))

    def assertNothingStored(self):
        self.assertEqual([], self.assertStatus(
            200, self.call('GET', VIMS))['vims'])
        self.assertEqual([], self.assertStatus(200, self.call(
            'GET', '/v1.0/events'))['events'])

    def assertRefused(self, response, *words):
        self.assertTrue(400 <= response.status_code < 500,
                        '%s: %s' % (response.status_code, response.text))
        message = response.json()['TackerError']['message']
        for word in words:
            self.assertIn(word, message)
        return message

    def test_good_credentials_register_with_the_regions_discovered(self):
        # The VIM's auth_url is given without /v3, as operators often do.
        vim = self.assertStatus(201, self.register('vim-real'))['vim']
        self.assertEqual(['RegionOne'], vim['placement_attr']['regions'])
        self.assertEqual(self.keystone.auth_url, vim['auth_url'])
        self.assertEqual('***', vim['auth_cred']['password'])
        self.assertEqual('PENDING', vim['status'])
        events = self.assertStatus(200, self.call(
            'GET', '/v1.0/events'))['events']
        self.assertEqual([('CREATE', vim['id'])],
                         [(e['event_type'], e['resource_id'])
                          for e in events])

        # Changed credentials are checked as well; refused, they change
        # nothing.
        path = '%s/%s' % (VIMS, vim['id'])
        wrong = 'not-' + self.member.password
        self.assertRefused(self.call('PUT', path, {'vim': {'auth_cred': {
            'password': wrong}}}), 'refused')
        self.assertEqual(vim, self.assertStatus(
            200, self.call('GET', path))['vim'])
        self.assertStatus(200, self.call('PUT', path, {'vim': {
            'auth_cred': {'password': self.member.password}}}))
        self.assertNothingLeaked(self.member.password, wrong)

    def test_refused_credentials_store_nothing(self):
        wrong = 'not-' + self.member.password
        message = self.assertRefused(
            self.register('vim-wrong', password=wrong),
            self.keystone.auth_url, 'refused')
        self.assertNotIn(wrong, message)
        # A project the user has no role in fails the same way.
        self.assertRefused(self.register('vim-foreign', project='other'),
                           'refused')
        # Nothing listens on this loopback port.
        closed = 'http://127.0.0.1:%d' % base.free_port()
        self.assertRefused(self.register('vim-nowhere', auth_url=closed),
                           closed, 'cannot be reached')
        self.assertNothingStored()
        self.assertNothingLeaked(wrong, self.member.password)
