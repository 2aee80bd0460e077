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

"""Two real tacker-vimmon-conductor processes, real RabbitMQ, real databases.

Each test has its own RabbitMQ vhost and its own database; the conductors
are started with the documented command and stopped with SIGTERM.
"""

import concurrent.futures
import os
import signal
import threading
import time

from oslo_config import cfg
import oslo_messaging as messaging
import sqlalchemy as sa

from tacker_vimmon.action import loop
from tacker_vimmon.action import runtime
from tacker_vimmon.common import exception
from tacker_vimmon.common import rpc
from tacker_vimmon.conductor import rpcapi
from tacker_vimmon.db import api as db_api
from tacker_vimmon.tests import fixtures as vimmon_fixtures
from tacker_vimmon.tests.functional import base
from tacker_vimmon.tests.functional import processes
from tacker_vimmon.tests.functional import rabbit

OLD_ACTION = '0ld0ac71-0000-4000-8000-000000000000'
NEW_ACTION = '0ew0ac71-0000-4000-8000-000000000001'
TOPIC = 'tacker_vimmon_conductor'
HOSTS = ('conductor-a', 'conductor-b')


class ConductorTestBase(base.FunctionalTestCase):
    backend = None
    conductors = HOSTS

    def setUp(self):
        super().setUp()
        self.database = self.real_database(self.backend)
        self.database_url = self.database.url.render_as_string(
            hide_password=False)
        self.processes = {}
        if self.conductors:
            self._start_conductors()

    def _start_conductors(self):
        self.vhost = self.use_service(rabbit.RabbitVhost())
        self.processes = {
            host: self.useFixture(processes.ConductorProcess(
                self.vhost.transport_url, self.database_url, host,
                upgrade=(host == self.conductors[0]), wait=False))
            for host in self.conductors}
        for process in self.processes.values():
            process.wait_serving()
        # Runs before the fixtures' own clean-ups: all stop side by side.
        self.addCleanup(self._begin_stop_all)
        self.use_db_api(self.database_url)
        self.transport = rpc.get_transport_for(cfg.ConfigOpts(),
                                               self.vhost.transport_url)
        self.addCleanup(self.transport.cleanup)
        self.api = rpcapi.ConductorAPI(topic=TOPIC, transport=self.transport,
                                       timeout=30)

    def _begin_stop_all(self):
        for process in self.processes.values():
            process.begin_stop()

    def new_vim(self, action_id=OLD_ACTION, name='edge-1'):
        vim = db_api.vim_create(self.context,
                                vimmon_fixtures.vim_values(name=name))
        db_api.vim_update(self.context, vim.id, {'action_id': action_id})
        return vim.id

    def monitor_events(self, vim_id):
        return db_api.event_get_all(self.context, filters={
            'resource_id': vim_id, 'event_type': 'MONITOR'})

    def call_on(self, host, **kwargs):
        """update_vim with raw arguments, on one named conductor."""
        client = self.api.client.prepare(version='1.0', server=host,
                                         timeout=30)
        return client.call(self.context, 'update_vim', **kwargs)

    def assertNoServerTraceback(self):
        for host, process in self.processes.items():
            self.assertTrue(process.running(), host)
            self.assertNotIn('Traceback', process.log(), host)


class _ContractTests:

    def test_update_vim_contract(self):
        # One test for several rules: starting two conductors costs more
        # than checking a rule.
        self._check_reports_and_check_ins(self.new_vim(name='reports'))
        self._check_bad_action(self.new_vim(name='stale',
                                            action_id=NEW_ACTION))
        self._check_bad_calls(self.new_vim(name='bad-calls'))
        self._check_many_in_one_call(self.new_vim(name='many-1'),
                                     self.new_vim(name='many-2'))
        self.assertNoServerTraceback()

    def _check_many_in_one_call(self, first, second):
        """update_vims: each report as its own update_vim, one call."""
        for host in self.conductors:
            client = self.api.client.prepare(server=host)
            api = rpcapi.ConductorAPI(topic=TOPIC, transport=self.transport,
                                      timeout=30)
            api.client = client
            self.assertEqual(['REACHABLE', 'UNREACHABLE', 'bad_action'],
                             api.update_vims(self.context, [
                {'vim_id': first, 'status': 'REACHABLE',
                 'action_id': OLD_ACTION},
                {'vim_id': second, 'status': 'UNREACHABLE',
                 'action_id': OLD_ACTION, 'reason': 'timeout',
                 'details': {'rtt': None, 'detail': 'no reply'}},
                {'vim_id': first, 'status': 'UNREACHABLE',
                 'action_id': NEW_ACTION}]))
        self.assertEqual(
            [('REACHABLE', None), ('UNREACHABLE', 'timeout')],
            [(vim.status, vim.status_reason) for vim in (
                db_api.vim_get(self.context, first),
                db_api.vim_get(self.context, second))])
        self.assertEqual(1, len(self.monitor_events(first)))
        # A bad report refuses the whole call, which writes nothing.
        error = self.assertRaises(
            exception.InvalidRpcCall, self.api.update_vims, self.context,
            [{'vim_id': first, 'status': 'UNREACHABLE',
              'action_id': OLD_ACTION},
             {'vim_id': second, 'status': 'down', 'action_id': OLD_ACTION}])
        self.assertIn('update_vims (report 1)', str(error))
        self.assertEqual('REACHABLE',
                         db_api.vim_get(self.context, first).status)

    def _check_reports_and_check_ins(self, vim_id):
        self.assertEqual('REACHABLE', self.api.update_vim(
            self.context, vim_id, 'REACHABLE', OLD_ACTION))
        vim = db_api.vim_get(self.context, vim_id)
        self.assertEqual('REACHABLE', vim.status)
        [event] = self.monitor_events(vim_id)
        self.assertEqual(('REACHABLE', 'project-a',
                          {'old_status': 'PENDING',
                           'new_status': 'REACHABLE'}),
                         (event.resource_state, event.tenant_id,
                          event.event_details))

        # A check-in on each conductor: time recorded, no event. (MySQL
        # keeps whole seconds: start from an older time to see it move.)
        db_api.vim_update(self.context, vim_id, {
            'last_check_in_at': vim.last_check_in_at.replace(year=2000)})
        vim = db_api.vim_get(self.context, vim_id)
        for host in self.conductors:
            self.assertEqual('REACHABLE', self.call_on(
                host, vim_id=vim_id, status='REACHABLE',
                action_id=OLD_ACTION))
        checked = db_api.vim_get(self.context, vim_id)
        self.assertGreater(checked.last_check_in_at, vim.last_check_in_at)
        self.assertEqual(vim.updated_at, checked.updated_at)
        self.assertEqual(1, len(self.monitor_events(vim_id)))

        self.assertEqual('UNREACHABLE', self.api.update_vim(
            self.context, vim_id, 'UNREACHABLE', OLD_ACTION))
        self.assertEqual(
            [{'old_status': 'PENDING', 'new_status': 'REACHABLE'},
             {'old_status': 'REACHABLE', 'new_status': 'UNREACHABLE'}],
            [e.event_details for e in self.monitor_events(vim_id)])

    def _check_bad_action(self, vim_id):
        before = db_api.vim_get(self.context, vim_id)
        for host in self.conductors:
            self.assertEqual('bad_action', self.call_on(
                host, vim_id=vim_id, status='REACHABLE',
                action_id=OLD_ACTION))
            self.assertEqual('bad_action', self.call_on(
                host, vim_id='00000000-0000-4000-8000-00000000dead',
                status='REACHABLE', action_id=NEW_ACTION))
        after = db_api.vim_get(self.context, vim_id)
        self.assertEqual(('PENDING', None, before.updated_at),
                         (after.status, after.last_check_in_at,
                          after.updated_at))
        self.assertEqual([], self.monitor_events(vim_id))
        db_api.vim_destroy(self.context, vim_id)
        self.assertEqual('bad_action', self.api.update_vim(
            self.context, vim_id, 'REACHABLE', NEW_ACTION))

    def _check_bad_calls(self, vim_id):
        good = {'vim_id': vim_id, 'status': 'REACHABLE',
                'action_id': OLD_ACTION}
        bad_calls = [
            ({'status': 'PENDING'}, 'status must be one of REACHABLE'),
            ({'status': 'up'}, 'status must be one of REACHABLE'),
            ({'status': None}, 'status must be str, not NoneType'),
            ({'vim_id': 42}, 'vim_id must be str, not int'),
            ({'action_id': ['x']}, 'action_id must be str, not list'),
            ({'extra': 1}, 'unexpected extra'),
            ({'action_id': None}, 'action_id must be str'),
        ]
        for host in self.conductors:
            for change, fragment in bad_calls:
                error = self.assertRaises(
                    exception.InvalidRpcCall, self.call_on, host,
                    **dict(good, **change))
                self.assertIn(fragment, str(error))
            missing = dict(good)
            del missing['action_id']
            error = self.assertRaises(exception.InvalidRpcCall,
                                      self.call_on, host, **missing)
            self.assertIn('missing action_id', str(error))
        vim = db_api.vim_get(self.context, vim_id)
        self.assertEqual(('PENDING', None),
                         (vim.status, vim.last_check_in_at))
        self.assertEqual([], self.monitor_events(vim_id))
        # Both conductors still serve, and logged no traceback.
        for host in self.conductors:
            self.assertEqual('REACHABLE', self.call_on(host, **good))
        self.assertNoServerTraceback()

    def test_an_old_action_never_writes_once_replaced(self):
        """Old and new action race; the guard is atomic with the write.

        Eight callers report for the old action, alternating the status,
        through both conductors, while the VIM's action_id is switched to
        the new one. Writers of the row hold its lock while they add their
        event, so event order is the order of the writes: the switch's
        UPDATE event splits the history, and after it only the new
        action's report may appear.
        """
        vim_id = self.new_vim(action_id=OLD_ACTION)
        stop = threading.Event()
        results = []  # (started, answer) of each old call

        def old_caller(index):
            statuses = ('REACHABLE', 'UNREACHABLE')
            while not stop.is_set():
                index += 1
                started = time.monotonic()
                answer = self.api.update_vim(
                    self.context, vim_id, statuses[index % 2], OLD_ACTION)
                results.append((started, answer))

        def refused_after(moment):
            return sum(1 for started, answer in results
                       if started > moment and answer == 'bad_action')

        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            futures = [pool.submit(old_caller, i) for i in range(8)]
            base.wait_for(lambda: len(results) >= 40, 30,
                          message='old action reports')
            db_api.vim_update(self.context, vim_id,
                              {'action_id': NEW_ACTION})
            switched = time.monotonic()
            base.wait_for(lambda: refused_after(switched) >= 20, 30,
                          message='old calls refused after the switch')
            current = db_api.vim_get(self.context, vim_id).status
            new_status = ('UNREACHABLE' if current == 'REACHABLE'
                          else 'REACHABLE')
            self.assertEqual(new_status, self.api.update_vim(
                self.context, vim_id, new_status, NEW_ACTION))
            reported = db_api.vim_get(self.context, vim_id)
            reported_at = time.monotonic()
            base.wait_for(lambda: refused_after(reported_at) >= 40, 30,
                          message='old calls after the new report')
            stop.set()
            for future in futures:
                future.result()

        # No old call that started after the switch was accepted.
        self.assertEqual([], [answer for started, answer in results
                              if started > switched
                              and answer != 'bad_action'])
        self.assertIn('bad_action', [a for _s, a in results])
        self.assertTrue([a for _s, a in results if a != 'bad_action'])
        events = db_api.event_get_all(self.context,
                                      filters={'resource_id': vim_id})
        kinds = [event.event_type for event in events]
        switch = kinds.index('UPDATE', kinds.index('UPDATE') + 1)
        self.assertIn('MONITOR', kinds[:switch])
        self.assertEqual([('MONITOR', new_status)],
                         [(e.event_type, e.resource_state)
                          for e in events[switch + 1:]])
        # The old calls after the new report did not even record a time.
        final = db_api.vim_get(self.context, vim_id)
        self.assertEqual((new_status, reported.last_check_in_at),
                         (final.status, final.last_check_in_at))
        self.assertNoServerTraceback()


class TestConductorPostgreSQL(_ContractTests, ConductorTestBase):
    backend = 'postgresql'


class TestConductorMySQL(_ContractTests, ConductorTestBase):
    backend = 'mysql'


class TestConductorLoss(ConductorTestBase):
    """One of two conductors dies (PostgreSQL)."""

    backend = 'postgresql'

    def _report_until_ok(self, vim_id, status, timeouts):
        # What the monitor action does: a call lost with a dying
        # conductor times out, and the next attempt goes to a live one.
        while True:
            try:
                return self.api.update_vim(self.context, vim_id, status,
                                           OLD_ACTION, timeout=5)
            except messaging.MessagingTimeout:
                timeouts.append(vim_id)

    def test_calls_continue_through_the_other_when_one_is_killed(self):
        vim_ids = [self.new_vim(name='edge-%d' % i) for i in range(8)]
        answers = []
        timeouts = []
        stop = threading.Event()

        def caller(vim_id):
            statuses = ('REACHABLE', 'UNREACHABLE')
            count = 0
            while not stop.is_set():
                count += 1
                status = statuses[count % 2]
                answers.append((time.monotonic(), status,
                                self._report_until_ok(vim_id, status,
                                                      timeouts)))

        victim, survivor = self.conductors
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            futures = [pool.submit(caller, vim_id) for vim_id in vim_ids]
            base.wait_for(lambda: len(answers) >= 80, 30,
                          message='calls before the kill')
            self.processes[victim].kill()
            killed = time.monotonic()
            base.wait_for(
                lambda: sum(1 for at, _s, _a in answers if at > killed)
                >= 200, 60, message='calls after the kill')
            stop.set()
            for future in futures:
                future.result()

        self.assertFalse(self.processes[victim].running())
        # Every call was answered with the status it reported; at most
        # the calls in flight in the killed conductor had to be retried.
        self.assertEqual([], [(s, a) for _at, s, a in answers if s != a])
        self.assertLessEqual(len(timeouts), 8)
        self.assertEqual('REACHABLE', self.call_on(
            survivor, vim_id=vim_ids[0], status='REACHABLE',
            action_id=OLD_ACTION))
        self.assertNotIn('Traceback', self.processes[survivor].log())



class TestConductorStop(ConductorTestBase):
    """SIGTERM is graceful (PostgreSQL)."""

    backend = 'postgresql'
    conductors = HOSTS[:1]

    def test_sigterm_lets_the_call_in_flight_finish(self):
        vim_id = self.new_vim()
        conductor = self.processes[self.conductors[0]]
        engine = sa.create_engine(self.database_url,
                                  poolclass=sa.pool.NullPool)
        self.addCleanup(engine.dispose)
        with engine.connect() as holder:
            # Hold the VIM's row lock: the conductor's write waits on it.
            holder.execute(sa.text('SELECT id FROM vims WHERE id = :id '
                                   'FOR UPDATE'), {'id': vim_id})
            with concurrent.futures.ThreadPoolExecutor(1) as pool:
                answer = pool.submit(self.call_on, self.conductors[0],
                                     vim_id=vim_id, status='REACHABLE',
                                     action_id=OLD_ACTION)
                base.wait_for(lambda: self._lock_waiters(engine) >= 1, 30,
                              message='the conductor waiting on the lock')
                conductor.process.send_signal(15)
                base.wait_for(lambda: 'finishing calls in flight'
                              in conductor.log(), 30,
                              message='the conductor stopping')
                holder.rollback()
                self.assertEqual('REACHABLE', answer.result(timeout=30))
        self.assertEqual(0, conductor.process.wait(timeout=60))
        self.assertEqual('REACHABLE',
                         db_api.vim_get(self.context, vim_id).status)

    def _lock_waiters(self, engine):
        with engine.connect() as connection:
            return connection.execute(sa.text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = "
                "current_database() AND wait_event_type = 'Lock'")).scalar()



class _NoCallLost:
    """One of two conductors stops or dies under 8 monitors' reports.

    The callers are the monitor action's own reporter (the executor's
    Runtime, on its own configuration file): a report is lost only if it
    ends in ConductorUnreachable, and every report must be answered within
    report_timeout plus a second.
    """

    backend = 'postgresql'
    # Each try waits a third of it: 2 s, so that a call merely slowed by a
    # busy CI machine is not taken for one re-sent after a stop.
    REPORT_TIMEOUT = 6.0

    def reporters(self, vim_ids):
        path = os.path.join(self.useFixture(base.fixtures.TempDir()).path,
                            'tacker-vimmon-monitor.conf')
        base.write_config(path, {
            'DEFAULT': {'transport_url': self.vhost.transport_url},
            'vim_monitor': {'report_timeout': self.REPORT_TIMEOUT}})
        monitors = runtime.Runtime(runtime.load_config(path))
        self.addCleanup(monitors.transport.cleanup)
        return [monitors.reporter(vim_id, OLD_ACTION) for vim_id in vim_ids]

    def check_no_call_lost(self, fault, graceful):
        """:param graceful: the victim stops in order, answering every call
            it took: then no report even needs sending again.
        """
        vim_ids = [self.new_vim(name='edge-%d' % i) for i in range(8)]
        answers, lost = [], []
        stop = threading.Event()

        def caller(report):
            statuses = ('REACHABLE', 'UNREACHABLE')
            count = 0
            while not stop.is_set():
                count += 1
                status = statuses[count % 2]
                started = time.monotonic()
                try:
                    answer = report(status)
                except loop.ConductorUnreachable as error:
                    lost.append((status, str(error)))
                    continue
                answers.append((started, time.monotonic() - started,
                                status, answer))

        victim, survivor = self.conductors
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            futures = [pool.submit(caller, report)
                       for report in self.reporters(vim_ids)]
            base.wait_for(lambda: len(answers) >= 80, 30,
                          message='calls before the fault')
            at = time.monotonic()
            fault(self.processes[victim])
            base.wait_for(lambda: not self.processes[victim].running(), 60,
                          message='%s to end' % victim)
            base.wait_for(
                lambda: sum(1 for t, *_r in answers if t > at) >= 200, 60,
                message='calls after the fault')
            stop.set()
            for future in futures:
                future.result()

        self.assertEqual([], lost)
        self.assertEqual([], [(s, a) for _t, _d, s, a in answers if s != a])
        slowest = max(took for _t, took, _s, _a in answers)
        per_try = self.REPORT_TIMEOUT / runtime.REPORT_ATTEMPTS
        self.assertLessEqual(slowest, per_try
                             if graceful else self.REPORT_TIMEOUT + 1)
        self.assertNotIn('Traceback', self.processes[survivor].log())


class TestNoCallLostOnSigterm(_NoCallLost, ConductorTestBase):

    def test_sigterm_of_one_conductor_loses_no_call(self):
        self.check_no_call_lost(lambda victim: victim.begin_stop(),
                                graceful=True)


class TestNoCallLostOnMasterKill(_NoCallLost, ConductorTestBase):

    def test_kill_of_a_conductors_master_loses_no_call(self):
        # The worker sees its parent gone and stops itself.
        self.check_no_call_lost(
            lambda victim: os.kill(victim.process.pid, signal.SIGKILL),
            graceful=True)


class TestNoCallLostOnCrash(_NoCallLost, ConductorTestBase):

    def test_a_crashed_conductor_loses_no_call(self):
        # Master and worker at once: the calls it had taken are sent again.
        self.check_no_call_lost(lambda victim: victim.kill(), graceful=False)


class TestConductorStartCheck(ConductorTestBase):
    """The schema check at start-up (PostgreSQL)."""

    backend = 'postgresql'
    conductors = ()

    def test_refuses_to_start_when_the_database_is_not_at_head(self):
        # It exits before it connects to the broker.
        conductor = processes.ConductorProcess(
            base.RABBIT_URL, self.database_url, 'conductor-c',
            upgrade=False)
        error = self.assertRaises(Exception, self.useFixture, conductor)
        # The failure quotes the conductor's log.
        self.assertIn('conductor-c exited with 2', str(error))
        self.assertIn('tacker-vimmon-db-manage --config-file %s upgrade '
                      'head' % conductor.config_file, str(error))
