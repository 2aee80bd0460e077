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

"""Monitor lifecycle against a scripted Mistral and a real (SQLite) DB."""

from tacker_vimmon.common import exception
from tacker_vimmon.db import api as db_api
from tacker_vimmon.tests import base
from tacker_vimmon.tests import fixtures as vimmon_fixtures
from tacker_vimmon.workflow import lifecycle


class LifecycleTestCase(base.DbTestCase):

    def setUp(self):
        super().setUp()
        scripted = vimmon_fixtures.ScriptedLifecycle(self.conf.conf)
        self.monitors, self.woken, self.lifecycle = (
            scripted.monitors, scripted.woken, scripted.lifecycle)
        self.vim = db_api.vim_create(self.context, vimmon_fixtures.vim_values(
            action_id='first-action'))

    def events(self, event_type='MONITOR'):
        return [e for e in db_api.event_get_all(
            self.context, filters={'resource_id': self.vim.id})
            if e.event_type == event_type]


class TestStart(LifecycleTestCase):

    def test_start_records_workflow_and_execution(self):
        vim = self.lifecycle.start(self.context, self.vim)
        self.assertEqual(('first-action', 'wf1', 'ex1', 'PENDING'),
                         (vim.action_id, vim.workflow_id, vim.execution_id,
                          vim.status))
        [(vim_id, action_id, target, probe)] = self.monitors.created
        self.assertEqual((self.vim.id, 'first-action', self.vim.auth_url),
                         (vim_id, action_id, target))
        self.assertEqual({'count', 'interval', 'timeout',
                          'failure_threshold', 'check_interval',
                          'heartbeat_interval', 'recovery_threshold',
                          'checks', 'api', 'api_interval', 'api_timeout'},
                         set(probe))
        # An OpenStack VIM: its Keystone's version document, verified.
        self.assertEqual(({'path': None, 'verify': True, 'ca_cert': None},
                          'both'), (probe['api'], probe['checks']))
        self.assertEqual([], self.monitors.deleted_executions)
        self.assertEqual([], self.monitors.deleted_workflows)

    def test_registration_makes_one_workflow_for_the_vim(self):
        self.lifecycle.start(self.context, self.vim)
        self.assertEqual([self.vim.id], self.monitors.created_workflows)
        self.assertEqual(['wf1'], self.monitors.started_in)

    def test_mistral_failure_shows_as_error_with_the_reason(self):
        self.monitors.fail_create = exception.MistralUnavailable(
            url='http://mistral:8989/v2', reason='connection refused')
        vim = self.lifecycle.start(self.context, self.vim)
        self.assertEqual('ERROR', vim.status)
        self.assertIn('connection refused', vim.monitor_error)
        [event] = self.events()
        self.assertIn('connection refused', event.event_details['reason'])

    def test_of_two_concurrent_repairs_only_the_first_to_swap_starts(self):
        # An API node and a reconciler repair the same failed monitor at
        # once: the row names the new action before its execution starts,
        # so whoever swaps second starts nothing at all.
        other = lifecycle.MonitorLifecycle(
            self.conf.conf, monitors=self.monitors.api,
            wakeups=vimmon_fixtures.recording_wakeups(self.woken))
        failed = db_api.vim_get(self.context, self.vim.id)

        def the_other_one_meanwhile():
            self.monitors.on_create = None
            self.assertFalse(other.repair(self.context, failed, 'retry'))
        self.monitors.on_create = the_other_one_meanwhile
        self.assertTrue(self.lifecycle.repair(self.context, failed, 'test'))
        self.assertEqual([self.vim.id], self.monitors.created_workflows)
        self.assertEqual(['wf1'], self.monitors.started_in)
        vim = db_api.vim_get(self.context, self.vim.id)
        self.assertEqual(('wf1', 'ex1'), (vim.workflow_id, vim.execution_id))
        self.assertEqual([], self.monitors.deleted_executions)
        self.assertEqual([], self.monitors.deleted_workflows)

    def test_the_row_names_the_new_action_before_it_runs(self):
        # A monitor may report at its host's first reply, before
        # executions.create has returned: it must find itself current.
        failed = db_api.vim_get(self.context, self.vim.id)
        seen = []

        def the_action_reports_at_once():
            seen.append(db_api.vim_get(self.context, self.vim.id).action_id)
        self.monitors.on_create = the_action_reports_at_once
        self.assertTrue(self.lifecycle.repair(self.context, failed, 'test'))
        vim = db_api.vim_get(self.context, self.vim.id)
        self.assertEqual([vim.action_id], seen)
        self.assertNotEqual(failed.action_id, vim.action_id)


class TestReplace(LifecycleTestCase):

    def setUp(self):
        super().setUp()
        self.vim = self.lifecycle.start(self.context, self.vim)

    def test_new_monitor_first_then_the_old_one_goes_and_is_woken(self):
        vim = self.lifecycle.replace(self.context, self.vim,
                                     'auth_url changed', status='PENDING')
        self.assertNotEqual('first-action', vim.action_id)
        self.assertEqual(('wf1', 'ex2'), (vim.workflow_id, vim.execution_id))
        self.assertEqual(['ex1'], self.monitors.deleted_executions)
        self.assertEqual(['first-action'], self.woken)
        [event] = self.events()
        self.assertEqual('auth_url changed', event.event_details['reason'])
        self.assertEqual(vim.action_id, event.event_details['action_id'])

    def test_replacement_is_an_execution_and_no_new_workflow(self):
        self.lifecycle.replace(self.context, self.vim, 'auth_url changed')
        self.lifecycle.repair(self.context, db_api.vim_get(
            self.context, self.vim.id), 'silent')
        self.assertEqual([self.vim.id], self.monitors.created_workflows)
        self.assertEqual(['wf1'] * 3, self.monitors.started_in)
        self.assertEqual(['ex1', 'ex2'], self.monitors.deleted_executions)
        self.assertEqual([], self.monitors.deleted_workflows)
        # Only registration had to make sure of the workflow.
        self.assertEqual(1, self.monitors.api.ensure_workflow.call_count)

    def test_losing_a_race_removes_only_the_monitor_it_made(self):
        # Another writer replaces our new monitor while its execution is
        # being created.
        def someone_else_wins():
            self.monitors.on_create = None
            ours = db_api.vim_get(self.context, self.vim.id).action_id
            db_api.vim_monitor_assign(self.context, self.vim.id, ours,
                                      'other', 'wf1', 'exX')
        self.monitors.on_create = someone_else_wins
        self.assertRaises(exception.MonitorReplacedConcurrently,
                          self.lifecycle.replace, self.context, self.vim,
                          'test')
        self.assertEqual(['ex2'], self.monitors.deleted_executions)
        self.assertEqual([], self.monitors.deleted_workflows)
        self.assertEqual([], self.woken)
        self.assertEqual('other',
                         db_api.vim_get(self.context, self.vim.id).action_id)

    def test_replacing_a_deregistered_vim_is_not_found(self):
        db_api.vim_destroy(self.context, self.vim.id)
        self.assertRaises(exception.VimNotFound, self.lifecycle.replace,
                          self.context, self.vim, 'test')
        # Nothing was started for it.
        self.assertEqual(['wf1'], self.monitors.started_in)
        self.assertEqual([], self.monitors.deleted_executions)

    def test_failed_replacement_retires_the_old_monitor_too(self):
        self.monitors.fail_create = exception.MistralRequestFailed(
            operation='create', status=500, reason='boom')
        vim = self.lifecycle.replace(self.context, self.vim,
                                     'auth_url changed')
        self.assertEqual('ERROR', vim.status)
        self.assertNotEqual('first-action', vim.action_id)
        self.assertIsNone(vim.workflow_id)
        self.assertEqual(['ex1'], self.monitors.deleted_executions)
        self.assertEqual([], self.monitors.deleted_workflows)
        self.assertEqual(['first-action'], self.woken)

    def test_retry_after_a_failure_reuses_the_vims_workflow(self):
        self.monitors.fail_create = exception.MistralUnavailable(
            url='x', reason='down')
        failed = self.lifecycle.replace(self.context, self.vim, 'moved')
        self.monitors.fail_create = None
        self.assertTrue(self.lifecycle.repair(self.context, failed, 'retry'))
        vim = db_api.vim_get(self.context, self.vim.id)
        self.assertEqual('wf1', vim.workflow_id)
        self.assertEqual([self.vim.id], self.monitors.created_workflows)


class TestFormerNaming(LifecycleTestCase):
    """A monitor made when each monitor had a workflow of its own."""

    def setUp(self):
        super().setUp()
        # Its row names its own workflow; Mistral has none for the VIM.
        db_api.vim_monitor_assign(self.context, self.vim.id, 'first-action',
                                  'first-action', 'wf-old', 'ex-old')
        self.vim = db_api.vim_get(self.context, self.vim.id)

    def test_repair_moves_it_to_a_workflow_of_the_vims_own(self):
        self.assertTrue(self.lifecycle.repair(self.context, self.vim,
                                              'silent'))
        vim = db_api.vim_get(self.context, self.vim.id)
        self.assertEqual(('wf1', 'ex1'), (vim.workflow_id, vim.execution_id))
        self.assertEqual([self.vim.id], self.monitors.created_workflows)
        # The old workflow goes, with its execution.
        self.assertEqual(['wf-old'], self.monitors.deleted_workflows)
        self.assertEqual(['first-action'], self.woken)

    def test_then_its_next_monitor_is_only_an_execution(self):
        self.lifecycle.repair(self.context, self.vim, 'silent')
        self.lifecycle.replace(self.context, db_api.vim_get(
            self.context, self.vim.id), 'moved')
        self.assertEqual([self.vim.id], self.monitors.created_workflows)
        self.assertEqual(['wf-old'], self.monitors.deleted_workflows)
        self.assertEqual(['ex1'], self.monitors.deleted_executions)

    def test_deregistration_removes_both_workflows(self):
        self.lifecycle.retire(self.vim)
        self.assertEqual(['tacker_vimmon-vim-' + self.vim.id, 'wf-old'],
                         self.monitors.deleted_workflows)
        self.assertEqual(['first-action'], self.woken)


class TestRetire(LifecycleTestCase):

    def test_retire_deletes_the_vims_workflow_and_wakes(self):
        vim = self.lifecycle.start(self.context, self.vim)
        self.lifecycle.retire(vim)
        # By name (whatever the row says), then the row's: the same one
        # here, so already gone.
        self.assertEqual(['tacker_vimmon-vim-' + vim.id, 'wf1'],
                         self.monitors.deleted_workflows)
        self.assertEqual({}, self.monitors.vim_workflows)
        self.assertEqual(['first-action'], self.woken)

    def test_retire_after_a_failed_set_up_still_removes_the_workflow(self):
        self.monitors.fail_create = exception.MistralUnavailable(
            url='x', reason='down')
        vim = self.lifecycle.start(self.context, self.vim)
        self.assertIsNone(vim.workflow_id)
        self.lifecycle.retire(vim)
        self.assertEqual(['tacker_vimmon-vim-' + vim.id],
                         self.monitors.deleted_workflows)

    def test_mistral_and_fast_path_failures_do_not_stop_retiring(self):
        vim = self.lifecycle.start(self.context, self.vim)
        self.monitors.fail_delete = exception.MistralUnavailable(
            url='x', reason='down')

        broken = vimmon_fixtures.recording_wakeups([])
        broken.wake.side_effect = RuntimeError('no broker')
        lifecycle.MonitorLifecycle(self.conf.conf,
                                   monitors=self.monitors.api,
                                   wakeups=broken).retire(vim)
        self.assertEqual([], self.monitors.deleted_workflows)
        self.assertEqual([], self.monitors.deleted_executions)
        broken.wake.assert_called_once_with(['first-action'])
