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

"""tacker-vimmon-status upgrade check against the real services.

PostgreSQL, RabbitMQ, a real Mistral 23 that loads this package's monitor
action, and a real conductor. The command runs as operators run it, as a
process of its own (``python -m tacker_vimmon.cmd.status``: the console
script exists only once the package is installed again).
"""

import json
import os
import subprocess
import sys

from alembic import script as alembic_script
import requests
import sqlalchemy as sa
from testtools import content

from tacker_vimmon.db import migration
from tacker_vimmon.registry import crypto
from tacker_vimmon.tests.functional import base
from tacker_vimmon.tests.functional import mistral
from tacker_vimmon.tests.functional import processes
from tacker_vimmon.tests.functional import rabbit
from tacker_vimmon.tests.functional.api import api_server

SUCCESS, WARNING, FAILURE = 0, 1, 2


def one_behind_head():
    scripts = alembic_script.ScriptDirectory.from_config(
        migration._alembic_config())
    return scripts.get_revision(scripts.get_current_head()).down_revision


class TestUpgradeCheck(base.FunctionalTestCase):

    TIMEOUT = 300

    def setUp(self):
        super().setUp()
        transport_url = self.use_service(rabbit.RabbitVhost()).transport_url
        self.mistral = self.use_service(mistral.MistralFixture())
        self.database = self.real_database('postgresql')
        self.db_url = self.database.url.render_as_string(hide_password=False)
        self.shared = {
            'DEFAULT': {'transport_url': transport_url},
            'mistral': {'endpoint_override': self.mistral.url,
                        'timeout': 10},
            'vim_monitor': {'enabled': True},
        }
        self.conductor = self.useFixture(processes.ConductorProcess(
            transport_url, self.db_url, 'status-conductor',
            conf=self.shared))
        # The API server's own configuration: the one operators check.
        self.api = self.useFixture(api_server.ApiServerProcess(
            self.db_url, sections=self.shared))

    def status(self, config_path):
        """(exit status, {check: (result, details)}) of the command."""
        command = [sys.executable, '-m', 'tacker_vimmon.cmd.status',
                   '--config-file', config_path, 'upgrade', 'check']
        table = subprocess.run(command, capture_output=True, text=True,
                               timeout=120)
        self.runs = getattr(self, 'runs', 0) + 1
        self.addDetail('table-%d-%s-exit-%d' % (
            self.runs, os.path.basename(config_path), table.returncode),
            content.text_content(table.stdout))
        result = subprocess.run(command + ['--json'], capture_output=True,
                                text=True, timeout=120)
        self.assertEqual(table.returncode, result.returncode, result.stderr)
        checks = {check['check']: (check['result'], check['details'])
                  for check in json.loads(result.stdout)['checks']}
        return result.returncode, checks

    def config_with(self, name, **sections):
        """The API server's configuration with some options changed."""
        path = os.path.join(self.api.directory, name)
        merged = self.api._sections()
        for section, options in sections.items():
            merged.setdefault(section, {}).update(options)
        base.write_config(path, merged)
        return path

    def register_vim(self):
        response = requests.post(self.api.url + '/v1.0/vims', json={'vim': {
            'name': 'lab', 'type': 'openstack',
            'auth_url': 'http://127.0.0.1:5000/v3',
            'auth_cred': {'username': 'nfv', 'password': 'secret-pw'},
            'vim_project': {'name': 'nfv'}}}, timeout=60)
        self.assertEqual(201, response.status_code, response.text)

    def test_a_healthy_deployment(self):
        self.register_vim()
        code, checks = self.status(self.api.config_path)
        self.assertEqual({name: SUCCESS for name in checks},
                         {name: result for name, (result, _) in
                          checks.items()}, checks)
        self.assertEqual(SUCCESS, code)
        self.assertIn('status-conductor', checks['Conductors'][1])
        self.assertIn('all 1 VIM(s)', checks['VIM secret keys'][1])
        self.assertIn('tacker_vimmon.vim_monitor',
                      checks['Mistral monitor action'][1])
        # The same deployment with the keys of another repository.
        other = os.path.join(self.api.directory, 'other-keys')
        crypto.KeyRepository(other).setup()
        code, checks = self.status(self.config_with(
            'other-keys.conf', vim_keys={'key_repository': other}))
        self.assertEqual(FAILURE, code)
        result, details = checks['VIM secret keys']
        self.assertEqual(FAILURE, result)
        self.assertIn('1 of 1 VIM(s)', details)

    def test_a_schema_one_behind(self):
        behind = self.real_database('postgresql')
        engine = sa.create_engine(behind.url, poolclass=sa.pool.NullPool)
        self.addCleanup(engine.dispose)
        migration.upgrade(one_behind_head(), engine=engine)
        path = self.config_with('behind.conf', database={
            'connection': behind.url.render_as_string(hide_password=False)})
        code, checks = self.status(path)
        self.assertEqual(FAILURE, code)
        result, details = checks['Database schema']
        self.assertEqual(FAILURE, result)
        self.assertIn('is at revision %s' % one_behind_head(), details)
        self.assertIn('tacker-vimmon-db-manage --config-file %s upgrade head'
                      % path, details)
        # Everything else is still judged.
        self.assertEqual(SUCCESS, checks['Conductors'][0])
        self.assertEqual(SUCCESS, checks['Mistral monitor action'][0])
        # With the conductors stopped, as during an upgrade: a warning.
        self.conductor.stop()
        code, checks = self.status(path)
        self.assertEqual(WARNING, checks['Conductors'][0])
        self.assertIn('No conductor answered', checks['Conductors'][1])
