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
GONE_VIM = '0d6e2d36-4ad8-4d3e-a34e-2f4f0bb1c0de'


def former_name(vim_id, action_id):
    """A per-monitor workflow's name, as monitors were made before."""
    return '%s%s-%s' % (definition.WORKFLOW_PREFIX, vim_id, action_id[:8])


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

