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

"""The monitor report writer of db_api on the real databases."""

from concurrent import futures

import fixtures
from oslo_db.sqlalchemy import enginefacade
from oslo_db.sqlalchemy import test_fixtures
import sqlalchemy as sa

from tacker_vimmon.common import context as vimmon_context
from tacker_vimmon.db import api as db_api
from tacker_vimmon.db import migration
from tacker_vimmon.tests import fixtures as vimmon_fixtures
from tacker_vimmon.tests.functional import base

ACTION = 'action-1'

# How many sessions of this test's database wait for a row lock.
_LOCK_WAITERS = {
    'postgresql': "SELECT count(*) FROM pg_stat_activity "
                  "WHERE datname = current_database() "
                  "AND wait_event_type = 'Lock'",
    'mysql': "SELECT count(*) FROM information_schema.innodb_trx "
             "WHERE trx_state = 'LOCK WAIT' AND trx_mysql_thread_id IN ("
             "SELECT id FROM information_schema.processlist "
             "WHERE db = database())",
}


class _MonitorReportTests:
    backend = None

    def setUp(self):
        super().setUp()
        self.database = database = self.real_database(self.backend)
        migration.upgrade('head', engine=database.engine)
        facade = enginefacade.transaction_context()
        facade.configure(connection=database.url.render_as_string(
            hide_password=False))
        self.addCleanup(lambda: facade.writer.get_engine().dispose())
        self.useFixture(_replace_facade(facade))
        self.vim_id = db_api.vim_create(self.context,
                                        vimmon_fixtures.vim_values()).id
        db_api.vim_update(self.context, self.vim_id, {'action_id': ACTION})

    def report(self, status, action_id=ACTION):
        return db_api.vim_monitor_report(self.context, self.vim_id,
                                         action_id, status)

    def one(self, writer, status):
        """The status before, of a group of one report by writer."""
        [previous] = statuses(writer([(self.vim_id, ACTION, status)]))
        return [previous]

    def monitor_events(self):
        return [e.event_details for e in db_api.event_get_all(
            self.context, filters={'resource_id': self.vim_id,
                                   'event_type': 'MONITOR'})]

    def test_change_check_in_and_stale(self):
        self.assertEqual('PENDING', self.report('REACHABLE'))
        self.assertEqual('REACHABLE', self.report('REACHABLE'))
        self.assertEqual('REACHABLE', self.report('UNREACHABLE'))
        self.assertIsNone(self.report('REACHABLE', action_id='other'))
        self.assertEqual(
            [{'old_status': 'PENDING', 'new_status': 'REACHABLE'},
             {'old_status': 'REACHABLE', 'new_status': 'UNREACHABLE'}],
            self.monitor_events())
        self.assertEqual('UNREACHABLE',
                         db_api.vim_get(self.context, self.vim_id).status)
        db_api.vim_destroy(self.context, self.vim_id)
        self.assertIsNone(self.report('UNREACHABLE'))

    def test_two_conductors_interleaving_never_confuse_the_outcome(self):
        # Each conductor keeps a writer; what one wrote, the other sees.
        first, second = (db_api.MonitorReportWriter(),
                         db_api.MonitorReportWriter())
        self.addCleanup(first.close)
        self.addCleanup(second.close)
        self.assertEqual(['PENDING'],
                         self.one(first, 'REACHABLE'))
        self.assertEqual(['REACHABLE'],
                         self.one(second, 'UNREACHABLE'))
        self.assertEqual(['UNREACHABLE'],
                         self.one(first, 'UNREACHABLE'))
        self.assertEqual(['UNREACHABLE'],
                         self.one(first, 'REACHABLE'))
        self.assertEqual(
            [{'old_status': 'PENDING', 'new_status': 'REACHABLE'},
             {'old_status': 'REACHABLE', 'new_status': 'UNREACHABLE'},
             {'old_status': 'UNREACHABLE', 'new_status': 'REACHABLE'}],
            self.monitor_events())

    def test_check_in_records_the_time_only(self):
        self.report('REACHABLE')
        db_api.vim_update(self.context, self.vim_id, {
            'last_check_in_at': sa.func.now() - sa.text("INTERVAL '1' DAY")
            if self.backend == 'postgresql' else
            sa.func.date_sub(sa.func.now(), sa.text('INTERVAL 1 DAY'))})
        before = db_api.vim_get(self.context, self.vim_id)
        self.report('REACHABLE')
        after = db_api.vim_get(self.context, self.vim_id)
        self.assertGreater(after.last_check_in_at, before.last_check_in_at)
        self.assertEqual(before.updated_at, after.updated_at)
        self.assertEqual(1, len(self.monitor_events()))

    def test_a_group_of_reports_in_one_call(self):
        writer = db_api.MonitorReportWriter()
        self.addCleanup(writer.close)
        other = db_api.vim_create(self.context,
                                  vimmon_fixtures.vim_values(name='other')).id
        db_api.vim_update(self.context, other, {'action_id': ACTION})
        self.report('REACHABLE')
        previous = statuses(writer([
            (self.vim_id, ACTION, 'REACHABLE'),        # check-in
            (other, ACTION, 'UNREACHABLE'),            # change
            (other + 'x', ACTION, 'REACHABLE'),        # unknown VIM
        ]))
        self.assertEqual(['REACHABLE', 'PENDING', None], previous)
        previous = statuses(writer([
            (other, 'stale', 'REACHABLE'),             # stale action
            (self.vim_id, ACTION, 'UNREACHABLE'),      # change
        ]))
        self.assertEqual([None, 'REACHABLE'], previous)
        # A group of one.
        self.assertEqual(['UNREACHABLE'],
                         self.one(writer, 'UNREACHABLE'))
        self.assertEqual('UNREACHABLE',
                         db_api.vim_get(self.context, other).status)
        self.assertEqual(
            [{'old_status': 'PENDING', 'new_status': 'UNREACHABLE'}],
            [e.event_details for e in db_api.event_get_all(
                self.context, filters={'resource_id': other,
                                       'event_type': 'MONITOR'})])
        self.assertEqual(
            [{'old_status': 'PENDING', 'new_status': 'REACHABLE'},
             {'old_status': 'REACHABLE', 'new_status': 'UNREACHABLE'}],
            self.monitor_events())


    def test_heartbeat_and_report_group_never_deadlock(self):
        # A heartbeat names monitors by action_id, which sorts unlike the
        # VIM ids; its chunks must not hold rows while waiting for lower
        # ids, which a group of reports (locking in id order) may hold.
        low, high = self.vim_id, 'f' * 8 + self.vim_id[8:]
        db_api.vim_create(self.context,
                          vimmon_fixtures.vim_values(id=high, name='high'))
        self.assertLess(low, high)
        db_api.vim_update(self.context, low, {'action_id': 'b-low'})
        db_api.vim_update(self.context, high, {'action_id': 'a-high'})
        self.useFixture(fixtures.MonkeyPatch(
            'tacker_vimmon.db.api._HEARTBEAT_CHUNK', 1))
        writer = db_api.MonitorReportWriter()
        self.addCleanup(writer.close)
        pool = futures.ThreadPoolExecutor(2)
        self.addCleanup(pool.shutdown)
        with self.database.engine.connect() as holder:
            # Another writer holds the low row: the report group waits for
            # it first, then the heartbeat, whose first chunk (a-high)
            # took the high row.
            holder.begin()
            holder.execute(sa.text('SELECT id FROM vims WHERE id = :id '
                                   'FOR UPDATE'), {'id': low})
            group = pool.submit(writer, [(low, 'b-low', 'REACHABLE'),
                                         (high, 'a-high', 'REACHABLE')])
            self.wait_for_lock_waiters(1)
            heartbeat = pool.submit(
                db_api.vim_monitors_heard, vimmon_context.get_admin_context(),
                ['a-high', 'b-low'])
            self.wait_for_lock_waiters(2)
            # The high row's heartbeat is committed while the heartbeat
            # waits: it holds nothing the group will want.
            self.assertIsNotNone(
                db_api.vim_get(self.context, high).last_check_in_at)
            holder.rollback()
        self.assertEqual(['PENDING', 'PENDING'],
                         statuses(group.result(timeout=30)))
        self.assertEqual((2, []), heartbeat.result(timeout=30))
        self.assertEqual(['REACHABLE', 'REACHABLE'],
                         [db_api.vim_get(self.context, vim_id).status
                          for vim_id in (low, high)])

    def wait_for_lock_waiters(self, count):
        def waiting():
            with self.database.engine.connect() as connection:
                return connection.execute(
                    sa.text(_LOCK_WAITERS[self.backend])).scalar() == count
        base.wait_for(waiting, 30, interval=0.05,
                      message='%d session(s) waiting for a row lock' % count)


class _ReasonTests:

    def test_reasons_round_trip_times_and_their_events(self):
        writer = db_api.MonitorReportWriter()
        self.addCleanup(writer.close)
        checks = {'icmp': {'reason': 'timeout'}, 'api': {'reason': 'ok'}}
        [previous] = writer([db_api.Report(
            self.vim_id, ACTION, 'REACHABLE', 'icmp_blocked',
            {'rtt': 0.0021, 'detail': 'ICMP filtered', 'checks': checks})])
        self.assertEqual(('PENDING', None, 'project-a'), (
            previous.status, previous.reason, previous.tenant_id))
        stored = db_api.vim_get(self.context, self.vim_id)
        self.assertEqual(('icmp_blocked', 0.0021, checks), (
            stored.status_reason, stored.rtt,
            stored.monitor_details['checks']))
        since = stored.status_since
        # Same status, same reason: a check-in; another reason: an event.
        for reason in ('icmp_blocked', 'ok'):
            [previous] = writer([db_api.Report(
                self.vim_id, ACTION, 'REACHABLE', reason, {'rtt': 0.001})])
        self.assertEqual(('REACHABLE', 'icmp_blocked'),
                         (previous.status, previous.reason))
        self.assertEqual(since, db_api.vim_get(self.context,
                                               self.vim_id).status_since)
        self.assertEqual([
            {'old_status': 'PENDING', 'new_status': 'REACHABLE',
             'reason': 'icmp_blocked', 'rtt': 0.0021,
             'detail': 'ICMP filtered'},
            {'old_status': 'REACHABLE', 'new_status': 'REACHABLE',
             'reason': 'ok', 'rtt': 0.001}], self.monitor_events())


def statuses(previous):
    """The statuses before, of a writer's answer (Previous or None)."""
    return [p.status if p is not None else None for p in previous]


def _replace_facade(facade):
    return test_fixtures.ReplaceEngineFacadeFixture(
        db_api.main_context_manager, facade)


class TestMonitorReportPostgreSQL(_MonitorReportTests, _ReasonTests,
                                  base.FunctionalTestCase):
    backend = 'postgresql'

    def test_writer_replaces_a_connection_the_database_dropped(self):
        writer = db_api.MonitorReportWriter()
        self.addCleanup(writer.close)
        self.assertEqual(['PENDING'],
                         self.one(writer, 'REACHABLE'))
        pid = writer._connection.exec_driver_sql(
            'SELECT pg_backend_pid()').scalar()
        with self.database.engine.connect() as admin:
            admin.execute(sa.text('SELECT pg_terminate_backend(:pid)'),
                          {'pid': pid})
        self.assertEqual(['REACHABLE'],
                         self.one(writer, 'UNREACHABLE'))
        self.assertEqual('UNREACHABLE',
                         db_api.vim_get(self.context, self.vim_id).status)


class TestMonitorReportMySQL(_MonitorReportTests, _ReasonTests,
                             base.FunctionalTestCase):
    backend = 'mysql'
