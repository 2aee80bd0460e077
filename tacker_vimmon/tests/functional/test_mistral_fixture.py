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

"""The Mistral fixture runs a real Mistral that runs workflows."""

import os

import sqlalchemy as sa

from tacker_vimmon.tests import fixtures as vimmon_fixtures
from tacker_vimmon.tests.functional import base
from tacker_vimmon.tests.functional import mistral


class TestMistralFixture(base.FunctionalTestCase):

    def test_noop_workflow_succeeds_and_server_stops(self):
        fixture = self.use_service(mistral.MistralFixture(
            thread_pool_size=7, extra_config={'api': {'api_workers': 1}}))
        self.assertConfigAvoidsTheTraps(fixture)
        workflow = fixture.client.workflows.create(
            vimmon_fixtures.NOOP_WORKFLOW)[0]
        execution = fixture.client.executions.create(workflow.id)

        def state():
            current = fixture.client.executions.get(execution.id).state
            return current if current in ('SUCCESS', 'ERROR') else None

        self.assertEqual('SUCCESS', vimmon_fixtures.wait_for(
            state, 60, interval=0.2, message='the no-op execution'))
        self.assertIn(mistral.template_name(fixture.version),
                      _databases(fixture))
        pid = fixture.process.pid
        fixture.stop()
        self.assertIsNotNone(fixture.process.returncode)
        # No api, engine or executor child outlives the master.
        self.assertRaises(ProcessLookupError, os.killpg, pid, 0)

    def test_every_process_reads_the_shipped_settings(self):
        fixture = self.use_service(mistral.MistralFixture(
            thread_pool_size=5, separate_executor=True))

        def log():
            with open(fixture.log_path, errors='replace') as f:
                return f.read()

        # The engine's checker and the executor's sender both say so once
        # they have read [action_heartbeat] max_missed_heartbeats = 0.
        vimmon_fixtures.wait_for(
            lambda: ('Action heartbeats are disabled' in log() and
                     'Action heartbeat reporting is disabled' in log()),
            60, interval=0.2, message="Mistral's action heartbeat disabled")
        # The big pool is the executor's alone.
        with open(fixture.config_path) as f:
            self.assertNotIn('executor_thread_pool_size', f.read())
        with open(fixture.executor_config_path) as f:
            self.assertIn('executor_thread_pool_size = 5', f.read())

    def assertConfigAvoidsTheTraps(self, fixture):
        with open(fixture.config_path) as f:
            text = f.read()
        for line in ('auth_enable = False', 'enabled = False',
                     'executor_thread_pool_size = 7', 'api_workers = 1',
                     fixture.vhost.name, fixture.database.name):
            self.assertIn(line, text)


def _databases(fixture):
    with fixture.database._admin_engine().connect() as connection:
        return connection.execute(sa.text(
            'SELECT datname FROM pg_database')).scalars().all()
