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

"""Each check of tacker-vimmon-status upgrade check, for each result."""

import os
import threading

import fixtures
from oslo_db import exception as db_exc
import oslo_messaging as messaging

from tacker_vimmon import upgradecheck
from tacker_vimmon.common import exception
from tacker_vimmon.common import rpc
from tacker_vimmon.conductor import manager
from tacker_vimmon.db import api as db_api
from tacker_vimmon.db import migration
from tacker_vimmon.registry import crypto
from tacker_vimmon.tests import base
from tacker_vimmon.tests import fixtures as vimmon_fixtures
from tacker_vimmon.workflow import definition
from tacker_vimmon.workflow import mistral

SUCCESS = upgradecheck.Code.SUCCESS
WARNING = upgradecheck.Code.WARNING
FAILURE = upgradecheck.Code.FAILURE


class ChecksTestCase(base.DbTestCase):

    def setUp(self):
        super().setUp()
        self.keys = os.path.join(self.useFixture(fixtures.TempDir()).path,
                                 'keys')
        self.flags(group='vim_keys', key_repository=self.keys)
        self.checks = upgradecheck.Checks(self.conf.conf)

    def assertResult(self, code, words, result):
        self.assertEqual(code, result.code, result.details)
        for word in words:
            self.assertIn(word, result.details)


class TestSchema(ChecksTestCase):

    def test_at_head(self):
        migration.stamp('head', engine=self.db.engine)
        self.assertResult(SUCCESS, [migration.head_revision()],
                          self.checks.check_schema())

    def test_behind_says_what_to_run(self):
        self.assertResult(FAILURE, ['none (empty database)', 'upgrade head'],
                          self.checks.check_schema())

    def test_database_away(self):
        self.useFixture(fixtures.MockPatch(
            'tacker_vimmon.db.migration.check_schema_current',
            side_effect=db_exc.DBConnectionError('connection refused')))
        self.assertResult(FAILURE, ['Cannot use the database',
                                    'connection refused'],
                          self.checks.check_schema())


class TestSecretKeys(ChecksTestCase):

    def store_vim(self, name, repository):
        token = crypto.encrypt_secrets({'password': 'pw'}, repository)
        return db_api.vim_create(self.context, vimmon_fixtures.vim_values(
            name=name, auth_cred_secret=token))

    def test_no_key_at_all(self):
        self.assertResult(FAILURE, ['tacker-vimmon-manage-keys setup'],
                          self.checks.check_secret_keys())

    def test_keys_and_no_secret_yet(self):
        crypto.KeyRepository(self.keys).setup()
        self.assertResult(SUCCESS, ['has 1 key(s)', 'no VIM secret'],
                          self.checks.check_secret_keys())

    def test_every_secret_decrypts(self):
        repository = crypto.KeyRepository(self.keys)
        repository.setup()
        self.store_vim('a', repository)
        self.assertResult(SUCCESS, ['secrets of all 1 VIM(s)'],
                          self.checks.check_secret_keys())

    def test_a_rotation_to_finish_is_said(self):
        repository = crypto.KeyRepository(self.keys)
        repository.setup()
        self.store_vim('a', repository)
        repository.rotate()
        self.assertResult(SUCCESS, ['1 of them still need an older key',
                                    'reencrypt'],
                          self.checks.check_secret_keys())

    def test_secrets_of_other_keys(self):
        crypto.KeyRepository(self.keys).setup()
        other = crypto.KeyRepository(os.path.join(self.keys, '..', 'other'))
        other.setup()
        vim = self.store_vim('a', other)
        self.assertResult(FAILURE, ['1 of 1 VIM(s)', vim.id, self.keys],
                          self.checks.check_secret_keys())

    def test_unreadable_database(self):
        crypto.KeyRepository(self.keys).setup()
        self.useFixture(fixtures.MockPatch(
            'tacker_vimmon.db.api.vim_secret_get_all',
            side_effect=db_exc.DBError('no such table: vims')))
        self.assertResult(FAILURE, ['no such table', 'schema check'],
                          self.checks.check_secret_keys())


class TestMistral(ChecksTestCase):

    def setUp(self):
        super().setUp()
        self.inputs = self.useFixture(fixtures.MockPatchObject(
            mistral.MistralMonitors, 'action_inputs')).mock

    def test_monitoring_off(self):
        self.flags(group='vim_monitor', enabled=False)
        self.assertResult(SUCCESS, ['Monitoring is off'],
                          self.checks.check_mistral())
        self.inputs.assert_not_called()

    def test_the_action_is_there(self):
        self.inputs.return_value = definition.WORKFLOW_INPUTS
        self.assertResult(SUCCESS, [definition.ACTION_NAME],
                          self.checks.check_mistral())
        self.inputs.assert_called_once_with(definition.ACTION_NAME)

    def test_the_action_is_missing(self):
        self.inputs.side_effect = exception.MistralNotFound(
            operation='look up', status=404, reason='not found')
        self.assertResult(FAILURE, ['has no action', 'install'],
                          self.checks.check_mistral())

    def test_the_action_of_another_release(self):
        self.inputs.return_value = ('vim_id', 'action_id', 'target')
        self.assertResult(FAILURE, ['takes (vim_id, action_id, target)',
                                    'upgrade tacker-vimmon'],
                          self.checks.check_mistral())

    def test_mistral_away(self):
        self.inputs.side_effect = exception.MistralUnavailable(
            url='http://mistral:8989/v2', reason='connection refused')
        self.assertResult(FAILURE, ['http://mistral:8989/v2'],
                          self.checks.check_mistral())


class OldConductor:
    """The endpoints of a conductor before RPC API 1.3."""

    target = messaging.Target(version='1.2')

    def update_vim(self, context, **kwargs):
        return kwargs['status']


class TestConductors(ChecksTestCase):

    def setUp(self):
        super().setUp()
        rpc.register_messaging_opts(self.conf.conf)
        self.transport = rpc.get_transport_for(self.conf.conf, 'fake://')
        self.addCleanup(self.transport.cleanup)
        # The check's own transport would be another fake broker; it gets
        # this one, which it must not close.
        self.useFixture(fixtures.MockPatch(
            'tacker_vimmon.common.rpc.get_transport_for',
            return_value=self.transport))
        self.useFixture(fixtures.MockPatchObject(self.transport, 'cleanup'))
        self.useFixture(fixtures.MockPatchObject(
            upgradecheck, 'CONDUCTOR_TIMEOUT', 1))
        self.useFixture(fixtures.MockPatchObject(
            upgradecheck, 'BROKER_TIMEOUT', 1))

    def serve(self, endpoint):
        server = rpc.get_server(
            rpc.target(self.conf.conf.conductor.topic, server='c1'),
            [endpoint], transport=self.transport)
        server.start()
        self.addCleanup(server.wait)
        self.addCleanup(server.stop)

    def test_a_conductor_answers(self):
        self.serve(manager.ConductorManager(host='conductor-1'))
        self.assertResult(SUCCESS, ['conductor-1', 'tacker_vimmon_conductor'],
                          self.checks.check_conductors())

    def test_no_conductor(self):
        self.assertResult(WARNING, ['No conductor answered',
                                    'Start tacker-vimmon-conductor'],
                          self.checks.check_conductors())

    def test_a_conductor_of_an_older_release(self):
        self.serve(OldConductor())
        self.assertResult(WARNING, ['cannot serve this release',
                                    'upgrade and restart'],
                          self.checks.check_conductors())

    def test_a_broker_that_takes_nothing(self):
        released = threading.Event()
        self.addCleanup(released.set)
        self.useFixture(fixtures.MockPatchObject(
            upgradecheck.Checks, '_ping',
            side_effect=lambda topic, outcome: released.wait(30)))
        self.assertResult(FAILURE, ['took no call within 2 s',
                                    'transport_url'],
                          self.checks.check_conductors())


class TestSettings(ChecksTestCase):

    def test_defaults_fit(self):
        self.assertResult(SUCCESS, ['silent_after (20 s)'],
                          self.checks.check_settings())

    def test_a_window_too_short(self):
        self.flags(group='reconciler', silent_after=9)
        self.assertResult(FAILURE, ['silent_after (9 s)', 'raise'],
                          self.checks.check_settings())


class TestCommand(ChecksTestCase):

    def test_every_check_is_listed(self):
        names = [name for name, _check in upgradecheck.Checks._upgrade_checks]
        self.assertEqual(['Database schema', 'VIM secret keys',
                          'Mistral monitor action', 'Conductors',
                          'Monitor settings'], names)

    def test_the_worst_result_is_the_exit_code_and_every_check_runs(self):
        @upgradecheck._never_raises
        def breaks(checks):
            raise RuntimeError('disk on fire')

        class Some(upgradecheck.Checks):
            _upgrade_checks = (
                ('settings', upgradecheck.Checks.check_settings),
                ('breaks', breaks),
                ('last', lambda checks: upgradecheck.Result(WARNING, 'w')))

        self.assertEqual(FAILURE, Some(self.conf.conf).check())
        table = self.useFixture(fixtures.StringStream('out')).stream
        with fixtures.MonkeyPatch('sys.stdout', table):
            Some(self.conf.conf).check()
        table.seek(0)
        shown = table.read()
        for words in ('Check: settings', 'Result: Success',
                      'Check: breaks', 'RuntimeError: disk on fire',
                      'Check: last', 'Result: Warning'):
            self.assertIn(words, shown)
