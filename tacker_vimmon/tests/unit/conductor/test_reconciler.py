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

"""The reconciler's pass against a scripted Mistral and SQLite."""

import datetime
import itertools
import threading

from oslo_utils import timeutils

from tacker_vimmon.common import exception
from tacker_vimmon.conductor import reconciler
from tacker_vimmon.db import api as db_api
from tacker_vimmon.tests import base
from tacker_vimmon.tests import fixtures as vimmon_fixtures
from tacker_vimmon.workflow import definition
from tacker_vimmon.workflow import mistral

LONG_AGO = timeutils.utcnow() - datetime.timedelta(hours=1)
SECOND = datetime.timedelta(seconds=1)
GONE_VIM = '0d6e2d36-4ad8-4d3e-a34e-2f4f0bb1c0de'


def former_name(vim_id, action_id):
    """A per-monitor workflow's name, as monitors were made before."""
    return '%s%s-%s' % (definition.WORKFLOW_PREFIX, vim_id, action_id[:8])


class TestReconciler(base.DbTestCase):

    def setUp(self):
        super().setUp()
        scripted = vimmon_fixtures.ScriptedLifecycle(self.conf.conf)
        self.monitors, self.woken, self.lifecycle = (
            scripted.monitors, scripted.woken, scripted.lifecycle)
        self.reconciler = reconciler.Reconciler(self.lifecycle,
                                                self.monitors.api)

    def _vim(self, name, **values):
        vim = db_api.vim_create(self.context, vimmon_fixtures.vim_values(
            name=name, action_id=name + '-action'))
        vim = self.lifecycle.start(self.context, vim)
        if values:
            db_api.vim_update(self.context, vim.id, values)
        return db_api.vim_get(self.context, vim.id)

    def test_silent_monitor_is_recreated_and_healthy_one_left_alone(self):
        healthy = self._vim('healthy', last_check_in_at=timeutils.utcnow())
        silent = self._vim('silent', last_check_in_at=LONG_AGO)
        repaired, removed = self.reconciler.run_once(self.context)
        self.assertEqual((1, 0), (repaired, removed))
        self.assertEqual('healthy-action', db_api.vim_get(
            self.context, healthy.id).action_id)
        now_silent = db_api.vim_get(self.context, silent.id)
        self.assertNotEqual('silent-action', now_silent.action_id)
        self.assertIsNotNone(now_silent.workflow_id)
        self.assertEqual(['silent-action'], self.woken)

    def test_failed_set_up_is_retried_once_due(self):
        self.monitors.fail_create = exception.MistralUnavailable(
            url='x', reason='down')
        vim = self._vim('failing')
        self.assertEqual('ERROR', vim.status)
        self.monitors.fail_create = None
        # Not yet: the failure is fresh (retry_after).
        self.assertEqual((0, 0), self.reconciler.run_once(self.context))
        self.flags(group='reconciler', retry_after=5)
        timeutils.set_time_override(
            timeutils.utcnow() + datetime.timedelta(seconds=10))
        self.addCleanup(timeutils.clear_time_override)
        self.assertEqual((1, 0), self.reconciler.run_once(self.context))
        repaired = db_api.vim_get(self.context, vim.id)
        self.assertIsNone(repaired.monitor_error)
        self.assertIsNotNone(repaired.workflow_id)

    def at(self, seconds):
        """Let the reconciler and the database see time start + seconds."""
        self.now = self.start + datetime.timedelta(seconds=seconds)

    def test_a_failing_monitor_is_retried_with_a_doubling_wait(self):
        self.start = self.now = timeutils.utcnow()
        self.useFixture(base.fixtures.MockPatch(
            'oslo_utils.timeutils.utcnow', side_effect=lambda: self.now))
        self.flags(group='reconciler', retry_after=60, max_retry_after=200)
        self.monitors.fail_create = exception.MistralUnavailable(
            url='x', reason='down')
        vim = self._vim('failing')
        elapsed = 0
        # Waits of 60, 120, then the cap (200) after the 1st, 2nd, 3rd and
        # 4th failure in a row.
        for failures, wait in ((1, 60), (2, 120), (3, 200), (4, 200)):
            self.assertEqual(failures, db_api.vim_get(
                self.context, vim.id).monitor_failures)
            self.at(elapsed + wait - 1)
            self.reconciler.run_once(self.context)
            self.assertEqual(failures, len(self.monitors_tried(vim)))
            elapsed += wait
            self.at(elapsed)
            self.reconciler.run_once(self.context)
            self.assertEqual(failures + 1, len(self.monitors_tried(vim)))
        failed = db_api.vim_get(self.context, vim.id)
        self.assertEqual(('ERROR', 5), (failed.status,
                                         failed.monitor_failures))

    def monitors_tried(self, vim):
        # Every attempt, failed or not, is one create() or one MONITOR
        # event with set-up failed.
        return [e for e in db_api.event_get_all(
            self.context, filters={'resource_id': vim.id,
                                   'event_type': 'MONITOR'})
            if e.event_details.get('monitor') == 'set-up failed']

    def test_a_monitor_that_works_again_resets_the_back_off(self):
        self.monitors.fail_create = exception.MistralUnavailable(
            url='x', reason='down')
        vim = self._vim('failing')
        self.monitors.fail_create = None
        self.flags(group='reconciler', retry_after=5)
        self.useFixture(base.fixtures.MockPatch(
            'oslo_utils.timeutils.utcnow', return_value=(
                timeutils.utcnow() + datetime.timedelta(seconds=10))))
        self.assertEqual((1, 0), self.reconciler.run_once(self.context))
        repaired = db_api.vim_get(self.context, vim.id)
        self.assertEqual(1, repaired.monitor_failures)
        db_api.vim_monitor_report(self.context, vim.id, repaired.action_id,
                                  'REACHABLE')
        self.assertEqual(0, db_api.vim_get(self.context,
                                           vim.id).monitor_failures)

    def test_orphaned_workflows_old_enough_are_removed(self):
        vim = self._vim('kept')
        wanted = mistral.MonitorWorkflow(
            'wf-kept', definition.workflow_name(vim.id), LONG_AGO)
        orphan = mistral.MonitorWorkflow(
            'wf-gone', definition.workflow_name(GONE_VIM), LONG_AGO)
        young = mistral.MonitorWorkflow(
            'wf-young', definition.workflow_name(
                'b5f2ad4e-4f6d-4d1b-9b63-6a3c7e2d0f11'), timeutils.utcnow())
        self.monitors.workflows = [wanted, orphan, young]
        self.assertEqual((0, 1), self.reconciler.run_once(self.context))
        self.assertEqual(['wf-gone'], self.monitors.deleted_workflows)

    def test_former_per_monitor_workflows_kept_while_wanted(self):
        vim = self._vim('kept')
        current = mistral.MonitorWorkflow(
            'wf-current', former_name(vim.id, vim.action_id), LONG_AGO)
        stale = mistral.MonitorWorkflow(
            'wf-stale', former_name(vim.id, 'deadbeef00'), LONG_AGO)
        orphan = mistral.MonitorWorkflow(
            'wf-gone', former_name(GONE_VIM, 'ab12cd34ef'), LONG_AGO)
        young = mistral.MonitorWorkflow(
            'wf-young', former_name(vim.id, 'feedface00'),
            timeutils.utcnow())
        self.monitors.workflows = [current, stale, orphan, young]
        self.assertEqual((0, 2), self.reconciler.run_once(self.context))
        self.assertEqual(['wf-gone', 'wf-stale'],
                         sorted(self.monitors.deleted_workflows))

    def test_repair_moves_a_former_monitor_to_the_vims_workflow(self):
        vim = self._vim('former', last_check_in_at=LONG_AGO)
        # As made before: a workflow of its own, and none for the VIM.
        db_api.vim_monitor_assign(self.context, vim.id, vim.action_id,
                                  vim.action_id, 'wf-old', 'ex-old')
        db_api.vim_update(self.context, vim.id,
                          {'last_check_in_at': LONG_AGO})
        self.monitors.vim_workflows.clear()
        self.monitors.workflows = [mistral.MonitorWorkflow(
            'wf-old', former_name(vim.id, vim.action_id), LONG_AGO)]
        self.assertEqual((1, 0), self.reconciler.run_once(self.context))
        repaired = db_api.vim_get(self.context, vim.id)
        self.assertEqual(self.monitors.vim_workflows[vim.id],
                         repaired.workflow_id)
        self.assertEqual(['wf-old'], self.monitors.deleted_workflows)
        self.assertEqual([vim.action_id], self.woken)

    def test_repair_is_an_execution_and_no_new_workflow(self):
        vim = self._vim('silent', last_check_in_at=LONG_AGO)
        self.assertEqual((1, 0), self.reconciler.run_once(self.context))
        repaired = db_api.vim_get(self.context, vim.id)
        self.assertEqual(vim.workflow_id, repaired.workflow_id)
        self.assertNotEqual(vim.execution_id, repaired.execution_id)
        self.assertEqual([vim.id], self.monitors.created_workflows)
        self.assertEqual([vim.execution_id],
                         self.monitors.deleted_executions)
        self.assertEqual([], self.monitors.deleted_workflows)

    def test_mistral_down_skips_orphans_without_failing_the_pass(self):
        self.monitors.fail_list = exception.MistralUnavailable(
            url='x', reason='down')
        self.assertEqual((0, 0), self.reconciler.run_once(self.context))


class TestReconcilerPass(base.DbTestCase):
    """A pass: silence marked once, all due repaired in parallel, claims."""

    def setUp(self):
        super().setUp()
        # Repairs run side by side, each in a transaction of its own: on a
        # file (one connection each) rather than the in-memory database,
        # whose one connection the threads would share.
        self.useFixture(vimmon_fixtures.Database(
            'sqlite:///%s' % self.useFixture(
                base.fixtures.TempDir()).join('vimmon.db')))
        scripted = vimmon_fixtures.ScriptedLifecycle(self.conf.conf)
        self.monitors, self.woken, self.lifecycle = (
            scripted.monitors, scripted.woken, scripted.lifecycle)
        self.reconciler = reconciler.Reconciler(self.lifecycle,
                                                self.monitors.api)
        self.addCleanup(timeutils.clear_time_override)

    def _vim(self, name, **values):
        vim = db_api.vim_create(self.context, vimmon_fixtures.vim_values(
            name=name, action_id=name + '-action'))
        vim = self.lifecycle.start(self.context, vim)
        if values:
            db_api.vim_update(self.context, vim.id, values)
        return db_api.vim_get(self.context, vim.id)

    def _silent(self, name, **values):
        return self._vim(name, status='REACHABLE', last_check_in_at=LONG_AGO,
                         **values)

    def _unknown_events(self, vim_id):
        return [e.event_details for e in db_api.event_get_all(
            self.context, filters={'resource_id': vim_id,
                                   'event_type': 'MONITOR',
                                   'resource_state': 'UNKNOWN'})]

    def test_every_due_vim_is_repaired_in_one_pass_by_several_workers(self):
        self.assertEqual((2000, 8), (self.conf.conf.reconciler.batch_size,
                                     self.conf.conf.reconciler.repair_workers))
        vims = [self._silent('silent-%02d' % n) for n in range(30)]
        healthy = self._vim('healthy', last_check_in_at=timeutils.utcnow())
        self.assertEqual(31, len(self.monitors.created))
        # The first repair waits (up to a deadline) for a second one to
        # be under way at the same time.
        threads = []
        side_by_side = threading.Event()

        def on_create():
            threads.append(threading.current_thread().name)
            if len(threads) >= 2:
                side_by_side.set()
            if len(threads) == 1:
                side_by_side.wait(10)
        self.monitors.on_create = on_create
        self.assertEqual((30, 0), self.reconciler.run_once(self.context))
        self.assertTrue(side_by_side.is_set())
        self.assertGreater(len(set(threads)), 1, threads)
        self.assertTrue(all(name.startswith('tacker-vimmon-repair')
                            for name in threads), threads)
        repaired = self.monitors.created[31:]
        self.assertEqual(sorted(vim.id for vim in vims),
                         sorted(vim_id for vim_id, *_rest in repaired))
        for vim in vims:
            stored = db_api.vim_get(self.context, vim.id)
            self.assertNotEqual(vim.action_id, stored.action_id)
            self.assertIsNotNone(stored.workflow_id)
            # The new monitor has said nothing yet.
            self.assertEqual('PENDING', stored.status)
        self.assertEqual(sorted(vim.action_id for vim in vims),
                         sorted(self.woken))
        self.assertEqual(healthy.action_id, db_api.vim_get(
            self.context, healthy.id).action_id)
        # Nothing is due any more.
        self.assertEqual((0, 0), self.reconciler.run_once(self.context))
        self.assertEqual(61, len(self.monitors.created))

    def test_old_monitors_go_once_every_new_one_runs(self):
        vims = [self._silent('silent-%d' % n) for n in range(20)]
        started_before_each_removal = []
        removal = self.monitors.api.delete_execution.side_effect

        def delete_execution(execution_id):
            started_before_each_removal.append(len(self.monitors.created))
            return removal(execution_id)
        self.monitors.api.delete_execution.side_effect = delete_execution
        created = len(self.monitors.created)
        self.assertEqual((20, 0), self.reconciler.run_once(self.context))
        self.assertEqual(sorted(vim.execution_id for vim in vims),
                         sorted(self.monitors.deleted_executions))
        self.assertEqual([created + 20] * 20, started_before_each_removal)

    def test_one_failing_repair_does_not_stop_the_others(self):
        vims = [self._silent('silent-%d' % n) for n in range(4)]

        calls = itertools.count(1)

        def on_create():
            if next(calls) == 2:
                raise RuntimeError('a bug in one repair')
        self.monitors.on_create = on_create
        self.assertEqual((3, 0), self.reconciler.run_once(self.context))
        running = [vim for vim in vims if db_api.vim_get(
            self.context, vim.id).execution_id not in (None,
                                                       vim.execution_id)]
        self.assertEqual(3, len(running))

    def test_a_vim_claimed_by_another_conductor_is_left_to_it(self):
        now = timeutils.utcnow()
        claimed = self._silent('claimed', repair_claim='another-conductor',
                               repair_claim_until=now + 60 * SECOND)
        expired = self._silent('expired', repair_claim='a-dead-conductor',
                               repair_claim_until=now - SECOND)
        free = self._silent('free')
        self.assertEqual(3, len(self.monitors.created))
        self.assertEqual((2, 0), self.reconciler.run_once(self.context))
        self.assertEqual(claimed.action_id, db_api.vim_get(
            self.context, claimed.id).action_id)
        self.assertEqual('another-conductor', db_api.vim_get(
            self.context, claimed.id).repair_claim)
        for vim in (expired, free):
            stored = db_api.vim_get(self.context, vim.id)
            self.assertNotEqual(vim.action_id, stored.action_id)
            # Repaired, and the pass's claim released at its end.
            self.assertEqual((None, None), (stored.repair_claim,
                                            stored.repair_claim_until))
        self.assertNotIn(claimed.id, [vim_id for vim_id, *_rest
                                      in self.monitors.created[3:]])
        self.assertEqual(
            sorted([expired.id, free.id]),
            sorted(vim_id for vim_id, *_rest in self.monitors.created[3:]))

    def test_a_silent_vim_is_marked_unknown_once(self):
        now = timeutils.utcnow()
        # Claimed elsewhere, so that it stays silent across passes.
        silent = self._silent('silent', repair_claim='another-conductor',
                              repair_claim_until=now + 600 * SECOND)
        healthy = self._vim('healthy', last_check_in_at=now)
        self.reconciler.run_once(self.context)
        self.assertEqual([{
            'old_status': 'REACHABLE', 'new_status': 'UNKNOWN',
            'reason': 'no report or heartbeat since %s'
            % LONG_AGO.isoformat(' ')}], self._unknown_events(silent.id))
        self.assertIsNotNone(db_api.vim_get(self.context,
                                            silent.id).silent_since)
        self.reconciler.run_once(self.context)
        self.assertEqual(1, len(self._unknown_events(silent.id)))
        self.assertEqual([], self._unknown_events(healthy.id))
        self.assertIsNone(db_api.vim_get(self.context,
                                         healthy.id).silent_since)

    def test_orphans_are_looked_for_first_then_every_orphan_interval(self):
        self.flags(group='reconciler', orphan_interval=300)
        listed = self.monitors.api.list_workflows
        self.reconciler.run_once(self.context)
        self.assertEqual(1, listed.call_count)
        self.reconciler.run_once(self.context)
        self.assertEqual(1, listed.call_count)
        # Asked for: looked for whatever the time.
        self.reconciler.run_once(self.context, orphans=True)
        self.assertEqual(2, listed.call_count)
        timeutils.set_time_override(
            timeutils.utcnow() + 299 * SECOND)
        self.reconciler.run_once(self.context)
        self.assertEqual(2, listed.call_count)
        timeutils.advance_time_seconds(2)
        self.reconciler.run_once(self.context)
        self.assertEqual(3, listed.call_count)
        self.reconciler.run_once(self.context)
        self.assertEqual(3, listed.call_count)

    def test_orphans_can_be_skipped_even_on_the_first_pass(self):
        listed = self.monitors.api.list_workflows
        self.reconciler.run_once(self.context, orphans=False)
        self.assertEqual(0, listed.call_count)
        # Still due: the skipped pass was no look.
        self.reconciler.run_once(self.context)
        self.assertEqual(1, listed.call_count)
