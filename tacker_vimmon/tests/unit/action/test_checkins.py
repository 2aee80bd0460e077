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

"""Routine check-ins made by the process's check-in thread.

The monitor loop runs with the scripted verdict and conductor of
test_loop, on its fake clock; each 1 s round that reaches a pass of the
check-ins runs it, as the check-in thread would.
"""

import itertools
import threading
import time
import types

import fixtures

from tacker_vimmon.action import checkins
from tacker_vimmon.action import loop
from tacker_vimmon.common import states
from tacker_vimmon.tests import base
from tacker_vimmon.tests.unit.action import test_loop

R = states.REACHABLE
U = states.UNREACHABLE
OWN, PASS = 'own thread', 'check-in pass'


class ScriptWithPasses(test_loop.Script):
    """A Script whose rounds also run the check-in passes that are due."""

    check_ins = None
    passes_stopped = False
    in_pass = False

    def wait(self, timeout):
        if self._set:
            return True
        deadline = self.clock.now + timeout
        while self.clock.now + self.round_seconds <= deadline + 1e-9:
            # One round at a time, each with the passes due by its end.
            if test_loop.Script.wait(self, self.round_seconds):
                return True
            self._run_passes()
            if self._set:
                return True
        return test_loop.Script.wait(self, deadline - self.clock.now)

    def _run_passes(self):
        at = self.check_ins.next_pass()
        if self.passes_stopped or at is None or at > self.clock.now:
            return
        self.in_pass = True
        try:
            self.check_ins.run_pass()
        finally:
            self.in_pass = False

    def report(self, status):
        # Who made it: the monitor's own thread or a check-in pass.
        self.reports.append((self.round, status,
                             PASS if self.in_pass else OWN))
        answer = self.answers.get(self.round, status)
        if isinstance(answer, Exception):
            raise answer
        return answer


class TestDelegatedCheckIns(base.TestCase):

    # True: the passes send their check-ins in update_vims calls.
    together = False

    def run_loop(self, rounds, answers=None, slot=7.0, passes_stopped=False):
        clock = test_loop.FakeClock()
        script = ScriptWithPasses(self, rounds, clock, answers,
                                  round_seconds=1.0)

        def send(reports):
            self.assertEqual(['vim-1'], [r['vim_id'] for r in reports])
            return [script.report(r['status']) for r in reports]

        script.check_ins = checkins.CheckIns(
            slot, clock=clock, run_thread=False,
            send=send if self.together else None)
        script.passes_stopped = passes_stopped
        result = loop.MonitorLoop(
            'vim-1', 'action-1', script, script.report,
            test_loop.SETTINGS, wakeup=script, clock=clock,
            check_ins=script.check_ins).run()
        return script, result

    def test_check_ins_are_made_by_the_passes_up_to_a_slot_early(self):
        script, result = self.run_loop([R] * 120,
                                       answers={113: states.BAD_ACTION})
        # First report at 1001 by the monitor; then due at 1061 and 1117,
        # made in the passes at 1057 and 1113 (multiples of 7).
        self.assertEqual([(1, R, OWN), (57, R, PASS), (113, R, PASS)],
                         script.reports)
        # 'bad_action' heard by the pass ends the monitor's loop.
        self.assertEqual('bad_action', result['exit_reason'])
        self.assertEqual(0, len(script.check_ins))

    def test_a_change_is_reported_at_once_by_the_monitor(self):
        rounds = [R] * 70 + [U] * 60
        script, _ = self.run_loop(rounds, answers={127: states.BAD_ACTION})
        # The change at 1071 (no pass time) is reported by the monitor;
        # its next check-in, due at 1131, is the pass's at 1127.
        self.assertEqual([(1, R, OWN), (57, R, PASS), (71, U, OWN),
                          (127, U, PASS)], script.reports)

    def test_a_failed_check_in_goes_back_to_the_monitor(self):
        unreachable = loop.ConductorUnreachable('no conductor answered')
        script, _ = self.run_loop([R] * 130, answers={
            57: unreachable, 120: states.BAD_ACTION})
        # The pass at 1057 finds no conductor; the monitor makes that
        # check-in itself when it is due (1061), then hands its check-ins
        # back: due 1121, made in the pass at 1120.
        self.assertEqual([(1, R, OWN), (57, R, PASS), (61, R, OWN),
                          (120, R, PASS)], script.reports)

    def test_the_monitor_checks_in_itself_when_no_pass_comes(self):
        # A check-in thread that is stuck or gone: the monitor checks in
        # a whole check_interval after its check-in was due (1061 + 60).
        script, _ = self.run_loop([R] * 130, passes_stopped=True,
                                  answers={121: states.BAD_ACTION})
        self.assertEqual([(1, R, OWN), (121, R, OWN)], script.reports)

    def test_slots_too_long_for_the_check_interval_are_not_used(self):
        # 4 slots of 16 s exceed 60 s: the monitor checks in by itself.
        script, _ = self.run_loop([R] * 70, slot=16.0,
                                  answers={61: states.BAD_ACTION})
        self.assertEqual([(1, R, OWN), (61, R, OWN)], script.reports)
        self.assertEqual(0, len(script.check_ins))


class TestDelegatedCheckInsTogether(TestDelegatedCheckIns):
    """The same rules when the passes send update_vims calls."""

    together = True


class FakeMonitor:
    """What CheckIns calls on a monitor, recorded."""

    def __init__(self, name, calls, answer=None):
        self.name = name
        self.calls = calls
        self.answer = answer

    def routine_check_in(self, horizon):
        self.calls.append((self.name, 'check in'))
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer

    def take_back(self):
        self.calls.append((self.name, 'take back'))


class TestCheckIns(base.TestCase):

    def setUp(self):
        super().setUp()
        self.clock = test_loop.FakeClock()
        self.check_ins = checkins.CheckIns(5.0, clock=self.clock,
                                           run_thread=False)
        self.calls = []

    def test_a_pass_runs_at_the_slot_before_the_first_due(self):
        self.assertIsNone(self.check_ins.next_pass())
        self.check_ins.add(FakeMonitor('a', self.calls), 1063.0)
        self.check_ins.add(FakeMonitor('b', self.calls), 1061.0)
        self.assertEqual(1060.0, self.check_ins.next_pass())

    def test_a_pass_makes_what_is_due_within_a_slot_and_keeps_the_rest(
            self):
        self.check_ins.add(FakeMonitor('a', self.calls, 1124.0), 1004.9)
        self.check_ins.add(FakeMonitor('b', self.calls, None), 1003.0)
        self.check_ins.add(FakeMonitor('c', self.calls, 1130.0), 1005.0)
        self.assertEqual(2, self.check_ins.run_pass())
        # In due order; c is due at the next pass, not in this one.
        self.assertEqual([('b', 'check in'), ('a', 'check in')], self.calls)
        # b took its check-ins back (None); a's next one is kept.
        self.assertEqual(2, len(self.check_ins))
        self.assertEqual(1005.0, self.check_ins.next_pass())

    def test_after_a_failure_the_others_go_back_to_their_monitors(self):
        unreachable = loop.ConductorUnreachable('no conductor answered')
        self.check_ins.add(FakeMonitor('a', self.calls, unreachable), 1001.0)
        self.check_ins.add(FakeMonitor('b', self.calls, 1100.0), 1002.0)
        self.check_ins.add(FakeMonitor('c', self.calls, 1100.0), 1003.0)
        with self.assertLogs(checkins.LOG.logger.name, 'WARNING'):
            self.assertEqual(0, self.check_ins.run_pass())
        # No call waited behind the one that found no conductor.
        self.assertEqual([('a', 'check in'), ('b', 'take back'),
                          ('c', 'take back')], self.calls)
        self.assertEqual(0, len(self.check_ins))
        # After the thread's own back-off (1 s), it makes check-ins again.
        self.clock.now += 1.0
        self.check_ins.add(FakeMonitor('d', self.calls, 1100.0), 1002.0)
        self.assertEqual(1, self.check_ins.run_pass())


class TestCheckInThread(base.TestCase):
    """The real thread, on the real clock, in short slots."""

    def test_the_thread_makes_the_check_ins_as_they_come_due(self):
        made = []
        done = threading.Event()

        class Monitor:
            def routine_check_in(self, horizon):
                made.append(time.monotonic())
                if len(made) == 3:
                    done.set()
                    return None
                return time.monotonic() + 0.2

            def take_back(self):
                pass

        check_ins = checkins.CheckIns(0.05)
        began = time.monotonic()
        check_ins.add(Monitor(), began + 0.2)
        self.assertTrue(done.wait(10), 'only %d check-ins' % len(made))
        # Never more than a slot early.
        self.assertGreaterEqual(made[0], began + 0.2 - 0.05)
        for before, after in itertools.pairwise(made):
            self.assertGreaterEqual(after - before, 0.2 - 0.05 - 1e-3)


class TestCheckInsTogether(base.TestCase):
    """A pass's check-ins of many real monitor loops in few calls."""

    def setUp(self):
        super().setUp()
        self.clock = test_loop.FakeClock()
        self.sent = []
        self.answer = None
        self.check_ins = checkins.CheckIns(5.0, clock=self.clock,
                                           run_thread=False, send=self.send)

    def send(self, reports):
        self.sent.append(reports)
        if isinstance(self.answer, Exception):
            raise self.answer
        return [self.answer or report['status'] for report in reports]

    def monitor(self, index):
        """A monitor loop whose verdict the conductor holds, delegated."""
        verdict = types.SimpleNamespace(status=states.REACHABLE, reason=None)
        monitor = loop.MonitorLoop(
            'vim-%d' % index, 'action-%d' % index, verdict, self.own_report,
            test_loop.SETTINGS, clock=self.clock, check_ins=self.check_ins)
        monitor.status = states.REACHABLE
        monitor.reported = (states.REACHABLE, None)
        monitor._last_check_in = self.clock.now - 58.0
        monitor._delegated = True
        self.check_ins.add(monitor, monitor._check_in_due())
        return monitor

    def own_report(self, status, **findings):
        raise AssertionError('a check-in by its own monitor')

    def test_one_call_per_batch_answered_in_order(self):
        self.useFixture(fixtures.MonkeyPatch(
            'tacker_vimmon.action.checkins.MAX_BATCH', 3))
        monitors = [self.monitor(index) for index in range(5)]
        self.assertEqual(5, self.check_ins.run_pass())
        self.assertEqual([['vim-0', 'vim-1', 'vim-2'], ['vim-3', 'vim-4']],
                         [[r['vim_id'] for r in call] for call in self.sent])
        self.assertEqual({'vim_id': 'vim-0', 'action_id': 'action-0',
                          'status': states.REACHABLE}, self.sent[0][0])
        # Each checked in now; due again a check_interval later.
        self.assertEqual([self.clock.now] * 5,
                         [m._last_check_in for m in monitors])
        self.assertEqual(5, len(self.check_ins))
        self.assertEqual(1060.0, self.check_ins.next_pass())

    def test_bad_action_retires_each_monitor_it_answers(self):
        monitors = [self.monitor(index) for index in range(2)]
        self.answer = states.BAD_ACTION
        self.assertEqual(2, self.check_ins.run_pass())
        self.assertEqual([True, True], [m._retired for m in monitors])
        self.assertEqual(0, len(self.check_ins))

    def test_no_conductor_sends_the_monitors_back_to_their_own(self):
        monitors = [self.monitor(index) for index in range(3)]
        self.answer = loop.ConductorUnreachable('no conductor answered')
        with self.assertLogs(loop.LOG.logger.name, 'WARNING') as logs:
            self.assertEqual(0, self.check_ins.run_pass())
        self.assertEqual(1, len(self.sent))
        # One warning for the call, not one per monitor.
        self.assertEqual(1, len([line for line in logs.output
                                 if line.startswith('WARNING')]))
        # Each backs off and checks in itself; no lock is left held.
        for monitor in monitors:
            self.assertFalse(monitor._delegated)
            self.assertGreater(monitor._retry_at, self.clock.now)
            self.assertTrue(monitor._lock.acquire(blocking=False))
            monitor._lock.release()
        self.assertEqual(0, len(self.check_ins))

    def test_older_conductors_get_one_call_per_check_in_for_a_while(self):
        monitors = [self.monitor(index) for index in range(2)]
        self.answer = loop.ManyRefused('UnsupportedVersion')
        with self.assertLogs(checkins.LOG.logger.name, 'WARNING'):
            self.assertEqual(0, self.check_ins.run_pass())
        # Given back without a back-off: their own threads check in now.
        for monitor in monitors:
            self.assertFalse(monitor._delegated)
            self.assertEqual(0.0, monitor._retry_at)
            self.assertTrue(monitor._lock.acquire(blocking=False))
            monitor._lock.release()
        one_by_one = []
        later = self.monitor(7)
        later._report = lambda status, **findings: (
            one_by_one.append(status) or status)
        self.assertEqual(1, self.check_ins.run_pass())
        self.assertEqual([states.REACHABLE], one_by_one)
        self.assertEqual(1, len(self.sent))
        self.clock.now += checkins.ONE_BY_ONE_FOR
        later._last_check_in = self.clock.now - 58.0
        self.check_ins.run_pass()
        self.assertEqual(2, len(self.sent))

    def test_a_wrong_number_of_answers_is_refused(self):
        self.monitor(0)
        self.monitor(1)
        self.send = lambda reports: ['REACHABLE']
        self.check_ins._send = self.send
        with self.assertLogs(checkins.LOG.logger.name, 'WARNING') as logs:
            self.assertEqual(0, self.check_ins.run_pass())
        self.assertIn('1 answers to 2 check-ins', logs.output[0])
