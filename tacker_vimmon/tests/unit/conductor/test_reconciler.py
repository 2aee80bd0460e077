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

from oslo_utils import timeutils

from tacker_vimmon.common import exception
from tacker_vimmon.conductor import reconciler
from tacker_vimmon.db import api as db_api
from tacker_vimmon.tests import base
from tacker_vimmon.tests import fixtures as vimmon_fixtures
from tacker_vimmon.workflow import definition
from tacker_vimmon.workflow import lifecycle
from tacker_vimmon.workflow import mistral

LONG_AGO = timeutils.utcnow() - datetime.timedelta(hours=1)


class TestReconciler(base.DbTestCase):

    def setUp(self):
        super().setUp()
        self.monitors = vimmon_fixtures.ScriptedMistral()
        self.woken = []
        self.lifecycle = lifecycle.MonitorLifecycle(
            self.conf.conf, monitors=self.monitors.api,
            wakeups=vimmon_fixtures.recording_wakeups(self.woken))
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
            'wf-kept', definition.workflow_name(vim.id, vim.action_id),
            LONG_AGO)
        orphan = mistral.MonitorWorkflow(
            'wf-gone', definition.workflow_name(
                '0d6e2d36-4ad8-4d3e-a34e-2f4f0bb1c0de', 'ab12cd34ef'),
            LONG_AGO)
        stale = mistral.MonitorWorkflow(
            'wf-stale', definition.workflow_name(vim.id, 'deadbeef00'),
            LONG_AGO)
        young = mistral.MonitorWorkflow(
            'wf-young', definition.workflow_name(vim.id, 'feedface00'),
            timeutils.utcnow())
        self.monitors.workflows = [wanted, orphan, stale, young]
        self.assertEqual((0, 2), self.reconciler.run_once(self.context))
        self.assertEqual(['wf-gone', 'wf-stale'],
                         sorted(self.monitors.deleted_workflows))

    def test_mistral_down_skips_orphans_without_failing_the_pass(self):
        self.monitors.fail_list = exception.MistralUnavailable(
            url='x', reason='down')
        self.assertEqual((0, 0), self.reconciler.run_once(self.context))

