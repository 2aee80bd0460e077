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

"""tacker-vimmon-server start-up checks and tacker-vimmon-manage-keys."""

import os
import subprocess
import sys

import fixtures
import requests
import sqlalchemy as sa

from tacker_vimmon.tests.functional import base
from tacker_vimmon.tests.functional.api import api_server

PASSWORD = 'rotate-Me-55e1'


class TestServerStartChecks(base.FunctionalTestCase):

    def test_refuses_to_start_before_the_schema_is_upgraded(self):
        database = self.real_database('postgresql')
        directory = self.useFixture(fixtures.TempDir()).path
        config_path = os.path.join(directory, 'tacker-vimmon.conf')
        with open(config_path, 'w') as config:
            config.write('[database]\nconnection = %s\n[api]\n'
                         'bind_port = %d\n' % (
                             database.url.render_as_string(hide_password=False),
                             base.free_port()))
        result = subprocess.run(
            [api_server.console_script('tacker-vimmon-server'),
             '--config-file', config_path],
            capture_output=True, text=True, timeout=60)
        self.assertEqual(2, result.returncode, result.stderr)
        self.assertIn('tacker-vimmon-db-manage --config-file %s upgrade head'
                      % config_path, result.stderr)


_WSGI_PROBE = """
import webob
from tacker_vimmon.wsgi import api
for path in ('/healthcheck', '/v1.0/vims'):
    print(path, webob.Request.blank(path).get_response(
        api.application).status_int)
"""


class TestWsgiModule(base.FunctionalTestCase):

    def test_the_module_builds_the_application_from_the_env_config(self):
        database = self.real_database('mysql')
        server = self.useFixture(api_server.ApiServerProcess(database.url))
        result = subprocess.run(
            [sys.executable, '-c', _WSGI_PROBE],
            capture_output=True, text=True, timeout=120,
            env=dict(os.environ,
                     TACKER_VIMMON_CONFIG_FILE=server.config_path))
        self.assertEqual(0, result.returncode, result.stderr)
        self.assertEqual('/healthcheck 200\n/v1.0/vims 200\n',
                         result.stdout)


class TestKeystoneStrategy(base.FunctionalTestCase):
    """auth_token is wired from our [keystone_authtoken] (no Keystone is
    needed to refuse a request without a token; the real-Keystone suite
    covers tokens)."""

    def test_no_token_is_401_and_healthcheck_stays_open(self):
        database = self.real_database('postgresql')
        nobody = 'http://127.0.0.1:%d/identity' % base.free_port()
        server = self.useFixture(api_server.ApiServerProcess(
            database.url, auth_strategy='keystone', sections={
                'keystone_authtoken': {'www_authenticate_uri': nobody,
                                       'auth_url': nobody,
                                       'auth_type': 'password'}}))
        response = requests.get(server.url + '/v1.0/vims', timeout=30)
        self.assertEqual(401, response.status_code, response.text)
        self.assertEqual('Keystone uri="%s"' % nobody,
                         response.headers['WWW-Authenticate'])
        self.assertEqual(200, requests.get(server.url + '/healthcheck',
                                           timeout=30).status_code)


class TestKeyRotation(base.FunctionalTestCase):

    def setUp(self):
        super().setUp()
        database = self.real_database('postgresql')
        self.engine = database.engine
        self.server = self.useFixture(api_server.ApiServerProcess(
            database.url))

    def register(self, name):
        response = requests.post(self.server.url + '/v1.0/vims', json={
            'vim': {'name': name, 'type': 'openstack',
                    'auth_url': 'http://192.0.2.40/identity',
                    'auth_cred': {'username': 'u', 'password': PASSWORD},
                    'vim_project': {'name': 'nfv'}}}, timeout=30)
        self.assertEqual(201, response.status_code, response.text)
        return response.json()['vim']['id']

    def change_project(self, vim_id, name):
        # Changing vim_project re-reads the stored password: it must
        # decrypt with whatever key wrote it.
        response = requests.put(
            self.server.url + '/v1.0/vims/' + vim_id,
            json={'vim': {'vim_project': {'name': name}}}, timeout=30)
        self.assertEqual(200, response.status_code, response.text)

    def ciphertexts(self):
        with self.engine.connect() as connection:
            return dict(connection.execute(sa.text(
                'SELECT id, auth_cred_secret FROM vims')).fetchall())

    def keys(self, *args, check=True):
        return self.server.run_command('tacker-vimmon-manage-keys', *args,
                                       check=check)

    def test_rotate_reencrypt_prune(self):
        old_vim = self.register('old')
        untouched = self.register('untouched')
        self.assertIn('New primary key 2', self.keys('rotate').stdout)
        self.register('new')
        # Read with the old key, written again with the new one.
        self.change_project(old_vim, 'nfv-2')

        refused = self.keys('prune', check=False)
        self.assertEqual(1, refused.returncode)
        self.assertIn('run "reencrypt" first', refused.stderr)

        before = self.ciphertexts()
        self.assertIn('3 VIM(s)', self.keys('reencrypt').stdout)
        after = self.ciphertexts()
        self.assertEqual(set(before), set(after))
        self.assertTrue(all(before[vim] != after[vim] for vim in before))
        self.assertIn('Removed key(s): 1.', self.keys('prune').stdout)
        self.assertEqual(['2'], os.listdir(self.server.key_repository))

        self.change_project(untouched, 'nfv-3')
        for token in self.ciphertexts().values():
            self.assertNotIn(PASSWORD, token)
        self.assertNotIn(PASSWORD, self.server.log_text())
