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

"""The monitor-lifecycle functions of the DB API (compare-and-swap)."""

import datetime
from unittest import mock

from oslo_utils import timeutils

from tacker_vimmon.db import api as db_api
from tacker_vimmon.tests import base
from tacker_vimmon.tests import fixtures as vimmon_fixtures


class TestMonitorAssign(base.DbTestCase):

    def setUp(self):
        super().setUp()
        self.vim = db_api.vim_create(self.context, vimmon_fixtures.vim_values(
            action_id='a1'))

    def _monitor_events(self):
        return [e for e in db_api.event_get_all(
            self.context, filters={'resource_id': self.vim.id})
            if e.event_type == 'MONITOR']

    def test_assign_records_the_monitor_when_the_action_is_still_wanted(self):
        before = db_api.vim_monitor_assign(self.context, self.vim.id, 'a1',
                                           'a1', 'wf1', 'ex1')
        self.assertEqual({'status': 'PENDING', 'action_id': 'a1',
                          'workflow_id': None, 'execution_id': None,
                          'silent': False, 'auth_status': None}, before)
        vim = db_api.vim_get(self.context, self.vim.id)
        self.assertEqual(('a1', 'wf1', 'ex1'),
                         (vim.action_id, vim.workflow_id, vim.execution_id))
        self.assertEqual([], self._monitor_events())

    def test_replacement_swaps_in_the_new_action_and_writes_an_event(self):
        db_api.vim_monitor_assign(self.context, self.vim.id, 'a1', 'a1',
                                  'wf1', 'ex1')
        before = db_api.vim_monitor_assign(
            self.context, self.vim.id, 'a1', 'a2', 'wf2', 'ex2',
            status='PENDING', event_details={'monitor': 'replaced'})
        self.assertEqual(('a1', 'wf1', 'ex1'), (
            before['action_id'], before['workflow_id'],
            before['execution_id']))
        vim = db_api.vim_get(self.context, self.vim.id)
        self.assertEqual(('a2', 'wf2', 'ex2'),
                         (vim.action_id, vim.workflow_id, vim.execution_id))
        self.assertEqual([{'monitor': 'replaced'}],
                         [e.event_details for e in self._monitor_events()])

    def test_a_writer_holding_an_old_action_id_loses_and_changes_nothing(self):
        db_api.vim_monitor_assign(self.context, self.vim.id, 'a1', 'a2',
                                  'wf2', 'ex2')
        self.assertIsNone(db_api.vim_monitor_assign(
            self.context, self.vim.id, 'a1', 'a3', 'wf3', 'ex3',
            event_details={'monitor': 'replaced'}))
        vim = db_api.vim_get(self.context, self.vim.id)
        self.assertEqual(('a2', 'wf2'), (vim.action_id, vim.workflow_id))
        self.assertEqual([], self._monitor_events())

    def test_assign_on_a_deleted_vim_returns_none(self):
        db_api.vim_destroy(self.context, self.vim.id)
        self.assertIsNone(db_api.vim_monitor_assign(
            self.context, self.vim.id, 'a1', 'a1', 'wf1', 'ex1'))

    def test_failure_shows_error_reason_and_event(self):
        self.assertTrue(db_api.vim_monitor_failed(
            self.context, self.vim.id, 'a1', 'a2', 'Mistral is down'))
        vim = db_api.vim_get(self.context, self.vim.id)
        self.assertEqual(('ERROR', 'Mistral is down', 'a2', None),
                         (vim.status, vim.monitor_error, vim.action_id,
                          vim.workflow_id))
        [event] = self._monitor_events()
        self.assertEqual('ERROR', event.resource_state)
        self.assertEqual('Mistral is down', event.event_details['reason'])

    def test_failures_are_counted_until_a_report_succeeds(self):
        db_api.vim_monitor_failed(self.context, self.vim.id, 'a1', 'a2',
                                  'Mistral is down')
        db_api.vim_monitor_failed(self.context, self.vim.id, 'a2', 'a3',
                                  'Mistral is down')
        self.assertEqual('ERROR', db_api.vim_monitor_start_failed(
            self.context, self.vim.id, 'a3', 'bad probe settings'))
        vim = db_api.vim_get(self.context, self.vim.id)
        self.assertEqual(3, vim.monitor_failures)
        # A new monitor alone proves nothing; its first report does.
        db_api.vim_monitor_assign(self.context, self.vim.id, 'a3', 'a4',
                                  'wf4', 'ex4', status='PENDING')
        self.assertEqual(3, db_api.vim_get(self.context,
                                           self.vim.id).monitor_failures)
        db_api.vim_monitor_report(self.context, self.vim.id, 'a4',
                                  'REACHABLE')
        self.assertEqual(0, db_api.vim_get(self.context,
                                           self.vim.id).monitor_failures)

    def test_an_action_that_cannot_start_is_recorded_for_its_monitor(self):
        db_api.vim_monitor_assign(self.context, self.vim.id, 'a1', 'a1',
                                  'wf1', 'ex1')
        self.assertEqual('ERROR', db_api.vim_monitor_start_failed(
            self.context, self.vim.id, 'a1', 'no ICMP'))
        vim = db_api.vim_get(self.context, self.vim.id)
        # The workflow stays recorded: the next monitor's repair removes it.
        self.assertEqual(('ERROR', 'no ICMP', 'a1', 'wf1', 'ex1', 1),
                         (vim.status, vim.monitor_error, vim.action_id,
                          vim.workflow_id, vim.execution_id,
                          vim.monitor_failures))
        [event] = self._monitor_events()
        self.assertEqual(('ERROR', {'monitor': 'start failed',
                                    'reason': 'no ICMP', 'action_id': 'a1'}),
                         (event.resource_state, event.event_details))

    def test_a_stale_action_that_cannot_start_writes_nothing(self):
        before = db_api.vim_get(self.context, self.vim.id)
        self.assertIsNone(db_api.vim_monitor_start_failed(
            self.context, self.vim.id, 'a0', 'no ICMP'))
        self.assertIsNone(db_api.vim_monitor_start_failed(
            self.context, 'no-such-vim', 'a1', 'no ICMP'))
        after = db_api.vim_get(self.context, self.vim.id)
        self.assertEqual(('PENDING', None, 0, before.updated_at),
                         (after.status, after.monitor_error,
                          after.monitor_failures, after.updated_at))
        self.assertEqual([], self._monitor_events())

    def test_failure_of_a_stale_writer_is_not_recorded(self):
        self.assertFalse(db_api.vim_monitor_failed(
            self.context, self.vim.id, 'other', 'a2', 'late'))
        self.assertEqual('PENDING',
                         db_api.vim_get(self.context, self.vim.id).status)

    def test_a_successful_assign_clears_the_error(self):
        db_api.vim_monitor_failed(self.context, self.vim.id, 'a1', 'a2',
                                  'Mistral is down')
        db_api.vim_monitor_assign(self.context, self.vim.id, 'a2', 'a3',
                                  'wf3', 'ex3', status='PENDING')
        vim = db_api.vim_get(self.context, self.vim.id)
        self.assertEqual(('PENDING', None), (vim.status, vim.monitor_error))


class TestMonitorsToRepair(base.DbTestCase):

    def _repair_ids(self, now, limit=None):
        return [vim.id for vim in db_api.vim_monitors_to_repair(
            self.context, now, silent_after=180, retry_after=60,
            max_retry_after=600, limit=limit)]

    def _vim(self, name, **values):
        vim = db_api.vim_create(self.context, vimmon_fixtures.vim_values(
            name=name, action_id=name))
        db_api.vim_monitor_assign(self.context, vim.id, name, name,
                                  'wf-' + name, 'ex-' + name)
        if values:
            db_api.vim_update(self.context, vim.id, values)
        return vim.id

    def test_silent_failed_and_missing_monitors_are_found(self):
        now = timeutils.utcnow()
        healthy = self._vim('healthy', last_check_in_at=now)
        silent = self._vim('silent', last_check_in_at=now -
                           datetime.timedelta(seconds=600))
        failed = self._vim('failed', monitor_error='Mistral down')
        # Rows just changed are left alone (their monitor may be being set
        # up); seen ten minutes later, the failed one is due for a retry.
        self.assertEqual([silent], self._repair_ids(now))
        later = now + datetime.timedelta(seconds=600)
        self.assertEqual({silent, failed},
                         set(self._repair_ids(later)) - {healthy})
        self.assertNotIn(healthy, self._repair_ids(
            now + datetime.timedelta(seconds=30)))

    def _failed(self, name, failures, at):
        vim_id = self._vim(name)
        with mock.patch.object(timeutils, 'utcnow', return_value=at):
            for _failure in range(failures):
                self.assertEqual('ERROR', db_api.vim_monitor_start_failed(
                    self.context, vim_id, name, 'cannot start'))
        return vim_id

    def test_a_failed_monitor_is_retried_after_a_doubling_wait(self):
        at = timeutils.utcnow()
        waits = {1: 60, 2: 120, 3: 240, 4: 480, 5: 600, 40: 600}
        failed = {failures: self._failed('f%d' % failures, failures, at)
                  for failures in waits}
        for failures, wait in waits.items():
            just_before = at + datetime.timedelta(seconds=wait - 1)
            self.assertNotIn(failed[failures], self._repair_ids(just_before))
            due = at + datetime.timedelta(seconds=wait)
            self.assertIn(failed[failures], self._repair_ids(due))

    def test_a_failed_monitor_is_not_taken_for_a_silent_one(self):
        # Failed monitors never check in: silent_after must not shortcut
        # the back-off.
        at = timeutils.utcnow()
        failed = self._failed('f', 4, at)   # due after 480 s
        self.assertEqual([], self._repair_ids(
            at + datetime.timedelta(seconds=300)))
        self.assertEqual([failed], self._repair_ids(
            at + datetime.timedelta(seconds=480)))

    def test_the_limit_counts_only_vims_that_are_due(self):
        at = timeutils.utcnow() - datetime.timedelta(seconds=1000)
        waiting = self._failed('waiting', 9, at + datetime.timedelta(
            seconds=900))
        due = [self._failed('due%d' % n, 1, at) for n in range(3)]
        now = at + datetime.timedelta(seconds=1000)
        self.assertNotIn(waiting, self._repair_ids(now))
        self.assertEqual(due[:2], self._repair_ids(now, limit=2))

    def test_retry_wait_doubles_up_to_the_cap(self):
        self.assertEqual([60, 60, 120, 240, 480, 960, 3600, 3600],
                         [db_api.retry_wait(failures, 60, 3600)
                          for failures in (0, 1, 2, 3, 4, 5, 7, 10 ** 6)])

    def test_monitor_ids_map_every_vim_to_its_action(self):
        vim_id = self._vim('one')
        self.assertEqual({vim_id: 'one'}, db_api.vim_monitor_ids(self.context))
