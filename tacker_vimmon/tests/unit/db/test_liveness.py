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

"""Monitor liveness in the DB API: heartbeats, silence, repair claims."""

import datetime

from oslo_utils import timeutils
from oslo_utils import uuidutils
import sqlalchemy as sa

from tacker_vimmon.db import api as db_api
from tacker_vimmon.db import models
from tacker_vimmon.tests import base
from tacker_vimmon.tests import fixtures as vimmon_fixtures

SECOND = datetime.timedelta(seconds=1)
# A fixed, old updated_at that the liveness writes must leave alone.
LONG_AGO = datetime.datetime(2020, 1, 1, 12, 0, 0)


class LivenessTestCase(base.DbTestCase):

    def _vim(self, name, **columns):
        """A VIM with a running monitor (action and workflow), then columns.

        The columns are written with a plain UPDATE, so that updated_at is
        exactly what is given (or stays as it was).
        """
        vim = db_api.vim_create(self.context, vimmon_fixtures.vim_values(
            name=name, action_id=name + '-action',
            workflow_id='wf-' + name, execution_id='ex-' + name))
        self._write(vim.id, **columns)
        return vim.id

    def _write(self, vim_id, **columns):
        if columns:
            # Unless given, updated_at stays (not its onupdate default).
            columns.setdefault('updated_at', models.Vim.updated_at)
            with self.db.engine.begin() as connection:
                connection.execute(
                    sa.update(models.Vim).where(models.Vim.id == vim_id)
                    .values(**columns))

    def _get(self, vim_id):
        return db_api.vim_get(self.context, vim_id)

    def _monitor_events(self, vim_id=None):
        filters = {'event_type': 'MONITOR'}
        if vim_id:
            filters['resource_id'] = vim_id
        return [(e.resource_id, e.resource_state, e.event_details)
                for e in db_api.event_get_all(self.context, filters=filters)]


class TestHeard(LivenessTestCase):

    def test_sets_last_check_in_and_leaves_updated_at(self):
        named = self._vim('named', updated_at=LONG_AGO)
        other = self._vim('other', updated_at=LONG_AGO)
        before = timeutils.utcnow()
        self.assertEqual((1, []), db_api.vim_monitors_heard(
            self.context, ['named-action', 'nobodys-action']))
        heard = self._get(named)
        self.assertGreaterEqual(heard.last_check_in_at, before)
        self.assertEqual(LONG_AGO, heard.updated_at)
        self.assertIsNone(self._get(other).last_check_in_at)
        self.assertEqual(LONG_AGO, self._get(other).updated_at)
        self.assertEqual([], self._monitor_events())

    def test_an_id_named_twice_counts_once(self):
        self._vim('named')
        self.assertEqual((1, []), db_api.vim_monitors_heard(
            self.context, ['named-action', 'named-action']))

    def test_a_silent_vim_heard_again_is_unmarked_with_one_event(self):
        silent = self._vim('silent', status='REACHABLE',
                           silent_since=LONG_AGO, updated_at=LONG_AGO)
        self._vim('fine', status='REACHABLE')
        self.assertEqual((2, [silent]), db_api.vim_monitors_heard(
            self.context, ['silent-action', 'fine-action']))
        vim = self._get(silent)
        self.assertIsNone(vim.silent_since)
        self.assertEqual(('REACHABLE', LONG_AGO), (vim.status, vim.updated_at))
        expected = [(silent, 'REACHABLE', {
            'old_status': 'UNKNOWN', 'new_status': 'REACHABLE',
            'reason': 'heard from again'})]
        self.assertEqual(expected, self._monitor_events())
        # Heard again: nothing more to record.
        self.assertEqual((2, []), db_api.vim_monitors_heard(
            self.context, ['silent-action', 'fine-action']))
        self.assertEqual(expected, self._monitor_events())

    def test_more_ids_than_one_chunk_are_all_recorded(self):
        count = 2 * db_api._HEARTBEAT_CHUNK + 1
        self.assertEqual(500, db_api._HEARTBEAT_CHUNK)
        rows = [dict(vimmon_fixtures.vim_values(
            id=uuidutils.generate_uuid(), name='vim-%04d' % n,
            action_id='action-%04d' % n), status='PENDING',
            silent_since=None)
            for n in range(count)]
        # Silent ones in the first and the last chunk.
        rows[0]['silent_since'] = rows[-1]['silent_since'] = LONG_AGO
        with self.db.engine.begin() as connection:
            connection.execute(sa.insert(models.Vim), rows)
        ids = ['action-%04d' % n for n in range(count)]
        heard, recovered = db_api.vim_monitors_heard(
            self.context, list(reversed(ids)))
        self.assertEqual(count, heard)
        self.assertEqual(sorted([rows[0]['id'], rows[-1]['id']]),
                         sorted(recovered))
        with self.db.engine.connect() as connection:
            unheard = connection.execute(
                sa.select(sa.func.count()).select_from(models.Vim).where(
                    sa.or_(models.Vim.last_check_in_at.is_(None),
                           models.Vim.silent_since.isnot(None)))).scalar()
        self.assertEqual(0, unheard)
        self.assertEqual(2, len(self._monitor_events()))


class TestMarkSilent(LivenessTestCase):

    def setUp(self):
        super().setUp()
        self.now = timeutils.utcnow()
        self.cutoff = self.now - 20 * SECOND

    def test_marks_only_monitors_not_heard_since_the_cutoff(self):
        old = self.now - 60 * SECOND
        recent = self.now - 5 * SECOND
        quiet = self._vim('quiet', status='REACHABLE',
                          last_check_in_at=old, updated_at=LONG_AGO)
        never = self._vim('never', updated_at=old)
        never_changed = self._vim('never-changed', created_at=old)
        untouched = {
            'heard': self._vim('heard', status='REACHABLE',
                               last_check_in_at=recent, updated_at=old),
            'just-set-up': self._vim('just-set-up', updated_at=recent),
            'no-action': self._vim('no-action', action_id=None,
                                   last_check_in_at=old),
            'no-workflow': self._vim('no-workflow', workflow_id=None,
                                     last_check_in_at=old),
            'failed': self._vim('failed', status='ERROR',
                                monitor_error='Mistral down',
                                last_check_in_at=old),
            'marked': self._vim('marked', status='UNREACHABLE',
                                last_check_in_at=old, silent_since=old),
        }
        marked = db_api.vim_monitors_mark_silent(self.context, self.cutoff)
        self.assertEqual(sorted([quiet, never, never_changed]),
                         sorted(vim.id for vim in marked))
        for vim_id in (quiet, never, never_changed):
            self.assertGreaterEqual(self._get(vim_id).silent_since, self.now)
        self.assertEqual(LONG_AGO, self._get(quiet).updated_at)
        self.assertEqual(old, self._get(never).updated_at)
        self.assertIsNone(self._get(never_changed).updated_at)
        for name, vim_id in untouched.items():
            self.assertEqual(old if name == 'marked' else None,
                             self._get(vim_id).silent_since, name)
        self.assertEqual(sorted([
            (quiet, 'UNKNOWN', {
                'old_status': 'REACHABLE', 'new_status': 'UNKNOWN',
                'reason': 'no report or heartbeat since %s'
                % old.isoformat(' ')}),
            (never, 'UNKNOWN', {
                'old_status': 'PENDING', 'new_status': 'UNKNOWN',
                'reason': 'the monitor never checked in'}),
            (never_changed, 'UNKNOWN', {
                'old_status': 'PENDING', 'new_status': 'UNKNOWN',
                'reason': 'the monitor never checked in'})]),
            sorted(self._monitor_events()))

    def test_a_second_call_marks_nothing_again(self):
        quiet = self._vim('quiet', last_check_in_at=self.now - 60 * SECOND)
        self.assertEqual([quiet], [vim.id for vim in
                                   db_api.vim_monitors_mark_silent(
                                       self.context, self.cutoff)])
        first = self._get(quiet).silent_since
        self.assertEqual([], db_api.vim_monitors_mark_silent(
            self.context, self.cutoff + 10 * SECOND))
        self.assertEqual(first, self._get(quiet).silent_since)
        self.assertEqual(1, len(self._monitor_events(quiet)))

    def test_heard_again_then_silent_again_is_marked_again(self):
        quiet = self._vim('quiet', last_check_in_at=self.now - 60 * SECOND)
        db_api.vim_monitors_mark_silent(self.context, self.cutoff)
        db_api.vim_monitors_heard(self.context, ['quiet-action'])
        self.assertEqual([], db_api.vim_monitors_mark_silent(
            self.context, self.cutoff))
        self._write(quiet, last_check_in_at=self.now - 30 * SECOND)
        self.assertEqual([quiet], [vim.id for vim in
                                   db_api.vim_monitors_mark_silent(
                                       self.context, self.cutoff)])
        self.assertEqual(['UNKNOWN', 'PENDING', 'UNKNOWN'],
                         [state for _id, state, _d
                          in self._monitor_events(quiet)])


class TestReportClearsSilence(LivenessTestCase):

    def test_a_report_of_the_same_status_after_silence_is_an_event(self):
        vim_id = self._vim('silent', status='REACHABLE', updated_at=LONG_AGO,
                           last_check_in_at=LONG_AGO, silent_since=LONG_AGO)
        self.assertEqual('REACHABLE', db_api.vim_monitor_report(
            self.context, vim_id, 'silent-action', 'REACHABLE'))
        vim = self._get(vim_id)
        self.assertIsNone(vim.silent_since)
        self.assertGreater(vim.last_check_in_at, LONG_AGO)
        # The status did not change: nor does updated_at.
        self.assertEqual(('REACHABLE', LONG_AGO), (vim.status, vim.updated_at))
        self.assertEqual([(vim_id, 'REACHABLE', {
            'old_status': 'UNKNOWN', 'new_status': 'REACHABLE'})],
            self._monitor_events())

    def test_a_new_status_after_silence_is_one_event_from_unknown(self):
        vim_id = self._vim('silent', status='REACHABLE',
                           silent_since=LONG_AGO)
        self.assertEqual('REACHABLE', db_api.vim_monitor_report(
            self.context, vim_id, 'silent-action', 'UNREACHABLE'))
        vim = self._get(vim_id)
        self.assertEqual(('UNREACHABLE', None),
                         (vim.status, vim.silent_since))
        self.assertEqual([(vim_id, 'UNREACHABLE', {
            'old_status': 'UNKNOWN', 'new_status': 'UNREACHABLE'})],
            self._monitor_events())

    def test_a_check_in_without_silence_is_no_event(self):
        vim_id = self._vim('fine', status='REACHABLE',
                           last_check_in_at=LONG_AGO)
        self.assertEqual('REACHABLE', db_api.vim_monitor_report(
            self.context, vim_id, 'fine-action', 'REACHABLE'))
        self.assertGreater(self._get(vim_id).last_check_in_at, LONG_AGO)
        self.assertEqual([], self._monitor_events())

    def test_a_stale_action_does_not_clear_the_silence(self):
        vim_id = self._vim('silent', status='REACHABLE',
                           silent_since=LONG_AGO)
        self.assertIsNone(db_api.vim_monitor_report(
            self.context, vim_id, 'an-older-action', 'REACHABLE'))
        self.assertEqual(LONG_AGO, self._get(vim_id).silent_since)
        self.assertEqual([], self._monitor_events())


class TestClaimRepairs(LivenessTestCase):

    def setUp(self):
        super().setUp()
        self.now = timeutils.utcnow()
        self.silent_since = self.now - 20 * SECOND
        self.retry_before = self.now - 60 * SECOND
        self.addCleanup(timeutils.clear_time_override)

    def _due(self, count):
        # Created oldest first: the claim takes them in that order.
        return [self._vim('due-%d' % n, updated_at=LONG_AGO,
                          created_at=LONG_AGO + n * SECOND,
                          last_check_in_at=self.now - 600 * SECOND)
                for n in range(count)]

    def claim(self, claim, limit=100, claim_until=None):
        return [vim.id for vim in db_api.vim_monitors_claim_repairs(
            self.context, timeutils.utcnow(), silent_after=20,
            retry_after=60, max_retry_after=3600, claim=claim,
            claim_until=claim_until or self.now + 120 * SECOND,
            limit=limit)]

    def test_claims_the_due_vims_and_no_other_claim_gets_them(self):
        due = self._due(3)
        healthy = self._vim('healthy', last_check_in_at=self.now)
        until = self.now + 120 * SECOND
        self.assertEqual(due, self.claim('first', claim_until=until))
        for vim_id in due:
            vim = self._get(vim_id)
            self.assertEqual(('first', until, LONG_AGO), (
                vim.repair_claim, vim.repair_claim_until, vim.updated_at))
        self.assertIsNone(self._get(healthy).repair_claim)
        self.assertEqual([], self.claim('second'))
        self.assertEqual('first', self._get(due[0]).repair_claim)

    def test_an_expired_claim_can_be_taken_over(self):
        due = self._due(2)
        self.assertEqual(due, self.claim(
            'first', claim_until=self.now + 120 * SECOND))
        timeutils.set_time_override(self.now + 119 * SECOND)
        self.assertEqual([], self.claim('second'))
        timeutils.set_time_override(self.now + 121 * SECOND)
        self.assertEqual(due, self.claim('second'))
        self.assertEqual({'second'},
                         {self._get(vim_id).repair_claim for vim_id in due})

    def test_limit_is_honoured_and_the_rest_left_for_the_next_claim(self):
        due = self._due(5)
        self.assertEqual(due[:2], self.claim('first', limit=2))
        self.assertEqual(due[2:4], self.claim('second', limit=2))
        self.assertEqual(due[4:], self.claim('third', limit=2))
        self.assertEqual(['first'] * 2 + ['second'] * 2 + ['third'],
                         [self._get(vim_id).repair_claim for vim_id in due])

    def test_failed_and_missing_monitors_are_claimed_once_due(self):
        failed = self._vim('failed', status='ERROR', workflow_id=None,
                           monitor_error='Mistral down', updated_at=LONG_AGO)
        fresh_failure = self._vim('fresh', status='ERROR', workflow_id=None,
                                  monitor_error='Mistral down',
                                  updated_at=self.now,
                                  last_check_in_at=self.now)
        self.assertEqual([failed], self.claim('first'))
        self.assertIsNone(self._get(fresh_failure).repair_claim)
