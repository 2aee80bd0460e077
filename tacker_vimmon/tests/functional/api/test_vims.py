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

"""The VIM and event API over real HTTP, on MariaDB and PostgreSQL.

The server is the real ``tacker-vimmon-server`` process; the client is the
real, unmodified python-tackerclient (legacy v1.0 client, noauth).
"""

import json

import requests
import sqlalchemy as sa
from tackerclient.common import exceptions as tacker_exc
from tackerclient.v1_0 import client as tacker_client

from tacker_vimmon.tests.functional import base
from tacker_vimmon.tests.functional.api import api_server

OPENSTACK_PASSWORD = 'pw-Openstack-7f3a9c'
K8S_TOKEN = 'tok-Kube-51d2e8'
K8S_CLIENT_SECRET = 'cs-Oidc-93b0aa'
K8S_CA = '-----BEGIN CERTIFICATE-----\nMIIca-f00d\n-----END CERTIFICATE-----'
SECRETS = (OPENSTACK_PASSWORD, K8S_TOKEN, K8S_CLIENT_SECRET, 'MIIca-f00d')


def openstack_vim(name, **fields):
    vim = {
        'name': name, 'type': 'openstack', 'description': 'a test VIM',
        'auth_url': 'http://192.0.2.10/identity',
        'auth_cred': {'username': 'nfv_user', 'password': OPENSTACK_PASSWORD,
                      'user_domain_name': 'Default', 'cert_verify': 'True'},
        'vim_project': {'name': 'nfv', 'project_domain_name': 'Default'},
    }
    vim.update(fields)
    return {'vim': vim}


class _ApiTestMixin:
    backend = None

    def setUp(self):
        super().setUp()
        database = self.real_database(self.backend)
        self.engine = database.engine
        self.server = self.useFixture(api_server.ApiServerProcess(
            database.url))
        self.client = tacker_client.Client(endpoint_url=self.server.url,
                                           auth_strategy='noauth')
        self.seen = []

    def call(self, method, path, body=None, headers=None, **kwargs):
        """A raw request; every answer is kept to check for secrets."""
        if isinstance(body, (dict, list)):
            body = json.dumps(body)
            headers = dict({'Content-Type': 'application/json'},
                           **(headers or {}))
        response = requests.request(method, self.server.url + path,
                                    data=body, headers=headers, timeout=30,
                                    **kwargs)
        self.seen.append(response.text)
        return response

    def assertFault(self, status, response, *words):
        self.assertEqual(status, response.status_code, response.text)
        error = response.json()['TackerError']
        self.assertEqual({'type', 'message', 'detail'}, set(error))
        for word in words:
            self.assertIn(word, error['message'])

    def assertNoSecretLeaked(self, *texts):
        texts = list(texts) + self.seen + [self.server.log_text()]
        for secret in SECRETS:
            for text in texts:
                self.assertNotIn(secret, text)

    def stored_vims(self):
        with self.engine.connect() as connection:
            return connection.execute(sa.text(
                'SELECT name, auth_cred, auth_cred_secret FROM vims'
            )).fetchall()

    def test_tackerclient_lifecycle_conflicts_and_events(self):
        created = self.client.create_vim(openstack_vim('vim-a'))['vim']
        self.assertEqual('PENDING', created['status'])
        self.assertEqual('***', created['auth_cred']['password'])
        self.assertEqual('http://192.0.2.10/identity/v3', created['auth_url'])
        self.assertEqual({'regions': []}, created['placement_attr'])
        self.assertFalse(created['is_default'])
        vim_id = created['id']

        self.assertEqual([vim_id], [v['id'] for v in
                                    self.client.list_vims()['vims']])
        self.assertEqual([vim_id], [v['id'] for v in self.client.list_vims(
            name='vim-a', fields='id')['vims']])
        self.assertEqual([], self.client.list_vims(name='other')['vims'])
        shown = self.client.show_vim(vim_id)['vim']
        self.assertEqual(created, shown)

        updated = self.client.update_vim(vim_id, {'vim': {
            'name': 'vim-b', 'description': 'renamed',
            'is_default': True}})['vim']
        self.assertEqual(('vim-b', 'renamed', True),
                         (updated['name'], updated['description'],
                          updated['is_default']))

        error = self.assertRaises(tacker_exc.Conflict, self.client.create_vim,
                                  openstack_vim('vim-b'))
        self.assertIn('A VIM named "vim-b" already exists', str(error))
        error = self.assertRaises(tacker_exc.Conflict, self.client.create_vim,
                                  openstack_vim('vim-c', is_default=True))
        self.assertIn('already has a default VIM (%s)' % vim_id, str(error))

        self.client.delete_vim(vim_id)
        self.assertRaises(tacker_exc.NotFound, self.client.show_vim, vim_id)
        events = self.client.get('/events', params={
            'resource_id': vim_id, 'resource_type': 'vim'})['events']
        self.assertEqual(['CREATE', 'UPDATE', 'DELETE'],
                         [event['event_type'] for event in events])
        only_update = self.client.get('/events', params={
            'resource_id': vim_id, 'event_type': 'UPDATE'})['events']
        self.assertEqual([events[1]], only_update)
        self.assertEqual(events[0], self.client.get(
            '/events/%s' % events[0]['id'])['event'])
        self.assertEqual([], self.stored_vims())
        self.assertNoSecretLeaked(json.dumps([created, shown, updated]))

    def test_kubernetes_secrets_are_encrypted_and_masked(self):
        token_vim = self.client.create_vim({'vim': {
            'name': 'k8s-token', 'type': 'kubernetes',
            'auth_url': 'https://192.0.2.20:6443/',
            'auth_cred': {'bearer_token': K8S_TOKEN, 'ssl_ca_cert': K8S_CA},
            'vim_project': {'name': 'default'}}})['vim']
        self.assertEqual({'bearer_token': '***', 'ssl_ca_cert': '***'},
                         token_vim['auth_cred'])
        self.assertEqual('https://192.0.2.20:6443', token_vim['auth_url'])
        oidc_vim = self.client.create_vim({'vim': {
            'name': 'k8s-oidc', 'type': 'kubernetes',
            'auth_url': 'https://192.0.2.21:6443',
            'auth_cred': {'oidc_token_url': 'https://192.0.2.22/token',
                          'client_id': 'tacker',
                          'client_secret': K8S_CLIENT_SECRET},
            'vim_project': {'name': 'nfv'}}})['vim']
        self.assertEqual('***', oidc_vim['auth_cred']['client_secret'])
        # Switching to a token drops the OIDC fields.
        switched = self.client.update_vim(oidc_vim['id'], {'vim': {
            'auth_cred': {'bearer_token': K8S_TOKEN}}})['vim']
        self.assertEqual({'bearer_token': '***'}, switched['auth_cred'])
        for _name, auth_cred, secret in self.stored_vims():
            self.assertIn('***', auth_cred)
            self.assertTrue(secret)
            for plain in SECRETS:
                self.assertNotIn(plain, auth_cred + secret)
        self.assertNoSecretLeaked(json.dumps([token_vim, oidc_vim, switched]))

    def test_client_mistakes_are_clear_4xx_and_store_nothing(self):
        vims = '/v1.0/vims'
        self.assertFault(400, self.call('POST', vims, '{"vim": ',
                                        {'Content-Type': 'application/json'}),
                         'not valid JSON')
        self.assertFault(415, self.call('POST', vims, '<vim/>',
                                        {'Content-Type': 'application/xml'}),
                         'must be JSON')
        self.assertFault(400, self.call('POST', vims, [1, 2]),
                         'must be a JSON object')
        self.assertFault(400, self.call('POST', vims, {'vim': 'x'}),
                         'vim', 'object')
        self.assertFault(400, self.call('POST', vims,
                                        openstack_vim('v', colour='red')),
                         'colour')
        self.assertFault(400, self.call('POST', vims,
                                        openstack_vim('n' * 300)),
                         'vim.name', 'at most 255')
        self.assertFault(400, self.call('POST', vims,
                                        openstack_vim('nul\x00name')),
                         'vim.name')
        self.assertFault(400, self.call('POST', vims,
                                        openstack_vim('v', type='vmware')),
                         'vim.type', 'openstack')
        self.assertFault(400, self.call('POST', vims,
                                        openstack_vim('v', auth_url='ftp:x')),
                         'vim.auth_url')
        no_password = openstack_vim('v')
        del no_password['vim']['auth_cred']['password']
        self.assertFault(400, self.call('POST', vims, no_password),
                         'vim.auth_cred', 'password')
        self.assertFault(400, self.call('POST', vims, openstack_vim(
            'v', is_default='yes')), 'vim.is_default', 'boolean')
        self.assertFault(413, self.call('POST', vims, openstack_vim(
            'v', description='d' * 200000)), 'larger than')
        chunks = (b'{"vim": {"description": "' + b'x' * 65536
                  for _ in range(3))
        self.assertFault(413, self.call('POST', vims, chunks, {
            'Content-Type': 'application/json'}), 'larger than')
        self.assertFault(404, self.call('GET', vims + '/not-a-uuid'),
                         'could not be found')
        self.assertFault(404, self.call(
            'PUT', vims + '/00000000-0000-0000-0000-000000000000',
            {'vim': {'name': 'x'}}), 'could not be found')
        self.assertFault(400, self.call('GET', vims + '?colour=red'),
                         'colour')
        self.assertFault(400, self.call('GET', vims + '?is_default=maybe'),
                         'is_default')
        self.assertFault(400, self.call('GET', vims + '?name=%00'),
                         'NUL')
        self.assertFault(404, self.call('GET', '/v1.0/events/abc'))
        self.assertFault(404, self.call('GET', '/v1.0/events/%d' % 2 ** 40))
        self.assertFault(405, self.call('DELETE', vims), 'GET, POST')
        self.assertFault(404, self.call('GET', '/v2/nothing'))

        self.assertEqual([], self.stored_vims())
        self.assertEqual(200, self.call('GET', '/healthcheck').status_code)
        self.assertNotIn('Traceback', self.server.log_text())

    def test_a_member_sees_only_its_own_project(self):
        def as_(project, roles='member'):
            return {'X-Project-Id': project, 'X-Roles': roles}

        created = self.call('POST', '/v1.0/vims', openstack_vim('vim-a'),
                            as_('project-a'))
        self.assertEqual(201, created.status_code, created.text)
        vim_path = '/v1.0/vims/%s' % created.json()['vim']['id']
        self.assertEqual('project-a', created.json()['vim']['tenant_id'])

        other = as_('project-b')
        self.assertEqual([], self.call('GET', '/v1.0/vims',
                                       headers=other).json()['vims'])
        self.assertFault(404, self.call('GET', vim_path, headers=other))
        self.assertFault(404, self.call('PUT', vim_path,
                                        {'vim': {'name': 'x'}}, other))
        self.assertFault(404, self.call('DELETE', vim_path, headers=other))
        self.assertEqual([], self.call('GET', '/v1.0/events',
                                       headers=other).json()['events'])
        self.assertFault(403, self.call(
            'POST', '/v1.0/vims',
            openstack_vim('vim-b', tenant_id='project-a'),
            other), 'Policy does not allow')
        self.assertFault(403, self.call(
            'POST', '/v1.0/vims', openstack_vim('vim-c'),
            as_('project-a', 'reader')))

        admin = as_('project-b', 'admin')
        listed = self.call('GET', '/v1.0/vims', headers=admin).json()['vims']
        self.assertEqual(['vim-a'], [vim['name'] for vim in listed])
        self.assertEqual(200, self.call('GET', vim_path,
                                        headers=as_('project-a',
                                                    'reader')).status_code)
        self.assertEqual(204, self.call('DELETE', vim_path,
                                        headers=admin).status_code)


class TestVimApiPostgreSQL(_ApiTestMixin, base.FunctionalTestCase):
    backend = 'postgresql'


class TestVimApiMySQL(_ApiTestMixin, base.FunctionalTestCase):
    backend = 'mysql'
