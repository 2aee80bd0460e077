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

"""``openstack vim ...`` (python-openstackclient + python-tackerclient).

The real command line, run as an operator runs it, against a real server:
``openstack --os-auth-type none --os-endpoint URL vim ...``.
"""

import json
import os
import subprocess

import yaml

from tacker_vimmon.tests.functional import base
from tacker_vimmon.tests.functional.api import api_server

PASSWORD = 'cli-Secret-2b7c41'
NEW_PASSWORD = 'cli-Secret-new-9e0d'


class TestOpenStackCli(base.FunctionalTestCase):

    def setUp(self):
        super().setUp()
        database = self.real_database('postgresql')
        self.server = self.useFixture(api_server.ApiServerProcess(
            database.url))
        self.outputs = []

    def vim_config(self, password):
        path = os.path.join(self.server.directory, 'vim-%s.yaml' % password)
        with open(path, 'w') as config:
            yaml.safe_dump({
                'auth_url': 'https://192.0.2.30:5000',
                'username': 'nfv_user', 'password': password,
                'project_name': 'nfv', 'project_domain_name': 'Default',
                'user_domain_name': 'Default', 'cert_verify': 'False',
            }, config)
        return path

    def openstack(self, *args, check=True):
        result = subprocess.run(
            [api_server.console_script('openstack'), '--os-auth-type',
             'none', '--os-endpoint', self.server.url, 'vim', *args],
            capture_output=True, text=True, timeout=120,
            env=dict(os.environ, OS_CLOUD=''))
        self.outputs.append(result.stdout + result.stderr)
        if check:
            self.assertEqual(0, result.returncode, result.stderr)
        return result

    def test_register_list_show_set_delete(self):
        created = json.loads(self.openstack(
            'register', '--config-file', self.vim_config(PASSWORD),
            '--description', 'from the CLI', '--is-default', 'cli-vim',
            '-f', 'json').stdout)
        self.assertEqual(('PENDING', '***', True),
                         (created['status'], created['auth_cred']['password'],
                          created['is_default']))
        self.assertEqual('https://192.0.2.30:5000/v3', created['auth_url'])

        listed = json.loads(self.openstack('list', '-f', 'json').stdout)
        self.assertEqual([created['id']], [vim['ID'] for vim in listed])
        shown = json.loads(self.openstack('show', 'cli-vim', '-f',
                                          'json').stdout)
        self.assertEqual(created['id'], shown['id'])

        duplicate = self.openstack(
            'register', '--config-file', self.vim_config(PASSWORD),
            'cli-vim', check=False)
        self.assertNotEqual(0, duplicate.returncode)
        self.assertIn('A VIM named "cli-vim" already exists',
                      duplicate.stderr)

        changed = json.loads(self.openstack(
            'set', 'cli-vim', '--config-file', self.vim_config(NEW_PASSWORD),
            '--description', 'changed', '--is-default', 'False',
            '-f', 'json').stdout)
        self.assertEqual(('changed', False, '***'),
                         (changed['description'], changed['is_default'],
                          changed['auth_cred']['password']))

        self.assertIn('deleted successfully',
                      self.openstack('delete', 'cli-vim').stdout)
        self.assertEqual([], json.loads(
            self.openstack('list', '-f', 'json').stdout))
        for text in self.outputs + [self.server.log_text()]:
            self.assertNotIn(PASSWORD, text)
            self.assertNotIn(NEW_PASSWORD, text)
