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

"""The monitor loop's rules, with a scripted verdict and conductor."""

from tacker_vimmon.action import loop
from tacker_vimmon.common import states
from tacker_vimmon.tests import base

SETTINGS = loop.ProbeSettings(count=1, interval=0.001, timeout=0.01,
                              failure_threshold=3, check_interval=60)


class FakeClock:
    """Time that moves only when the loop waits."""

    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


class Script:
    """The engine's verdict per round, and the conductor's answers.

    It is the loop's verdict and its wake-up event at once, as in the
    action (the engine sets the event on a change): each wait() lets time
    pass round by round (round_seconds each) until the verdict changes, a
    scripted wake-up comes, or the timeout is over.
    """

    def __init__(self, test, rounds, clock, answers=None,
                 round_seconds=10.0, wake_at=()):
        self.test = test
        self.rounds = list(rounds)
        self.clock = clock
        self.round_seconds = round_seconds
        self.answers = answers or {}
        self.wake_at = set(wake_at)
        self.reports = []
        self.round = 0
        self.status = None
        self._set = False

    def is_set(self):
        return self._set

    def set(self):
        self._set = True

    def clear(self):
        self._set = False

    def wait(self, timeout):
        if self._set:
            return True
        self.test.assertIsNotNone(timeout, 'the loop must not wait forever')
        deadline = self.clock.now + timeout
        while self.clock.now + self.round_seconds <= deadline + 1e-9:
            if self.round >= len(self.rounds):
                self.test.fail('the loop did not stop after its script; '
                               'reports so far: %s' % self.reports)
            self.round += 1
            self.clock.now += self.round_seconds
            if self.rounds[self.round - 1] != self.current():
                self.status = self.rounds[self.round - 1]
                self._set = True
            if self.round in self.wake_at:
                self._set = True
            if self._set:
                return True
        self.clock.now = deadline
        return False

    def current(self):
        return self.status

    def report(self, status):
        self.reports.append((self.round, status))
        answer = self.answers.get(self.round, status)
        if isinstance(answer, Exception):
            raise answer
        return answer


R = states.REACHABLE
U = states.UNREACHABLE


class TestMonitorLoop(base.TestCase):

    def run_loop(self, rounds, answers=None, settings=SETTINGS,
                 round_seconds=10.0, wake_at=(), script_class=Script):
        clock = FakeClock()
        script = script_class(self, rounds, clock, answers, round_seconds,
                              wake_at)
        monitor = loop.MonitorLoop('vim-1', 'action-1', script,
                                   script.report, settings, wakeup=script,
                                   clock=clock)
        result = monitor.run()
        return script, result

    def test_reports_on_change_then_only_checks_in_each_interval(self):
        # 10 s per round, check-in every 60 s: round 1 reports the first
        # verdict, then rounds 7 and 13 check in; 'bad_action' at 13.
        script, result = self.run_loop([R] * 13,
                                       answers={13: states.BAD_ACTION})
        self.assertEqual([(1, 'REACHABLE'), (7, 'REACHABLE'),
                          (13, 'REACHABLE')], script.reports)
        self.assertEqual({'vim_id': 'vim-1', 'action_id': 'action-1',
                          'exit_reason': 'bad_action',
                          'last_status': 'REACHABLE'}, result)

    def test_each_change_is_reported_when_it_happens(self):
        # The verdict of the rounds [T, F, F, T, F, F, F, T] at threshold
        # 3 (engine.Verdict's rules are tested with the engine).
        rounds = [R, R, R, R, R, R, U, R]
        script, _ = self.run_loop(rounds, answers={8: states.BAD_ACTION})
        self.assertEqual([(1, 'REACHABLE'), (7, 'UNREACHABLE'),
                          (8, 'REACHABLE')], script.reports)

    def test_no_report_before_a_first_verdict(self):
        # Rounds 1 and 2 failed, below the threshold of 3: silence.
        script, _ = self.run_loop([None, None, U],
                                  answers={3: states.BAD_ACTION})
        self.assertEqual([(3, 'UNREACHABLE')], script.reports)

    def test_conductor_outage_backs_off_and_reports_when_back(self):
        unreachable = loop.ConductorUnreachable('MessagingTimeout')
        # 1 s per round; the conductor is away for rounds 1-7 and answers
        # at round 8 (with 'bad_action', which ends the script).
        answers = {n: unreachable for n in range(1, 8)}
        answers[8] = states.BAD_ACTION
        script, result = self.run_loop([R] * 8, answers=answers,
                                       round_seconds=1.0)
        # Retries 1, 2 and 4 s apart, not every round; probing went on.
        self.assertEqual([1, 2, 4, 8], [r for r, _ in script.reports])
        self.assertEqual('bad_action', result['exit_reason'])

    def test_back_off_never_exceeds_the_check_interval(self):
        unreachable = loop.ConductorUnreachable('connection refused')
        settings = SETTINGS._replace(check_interval=3)
        answers = {n: unreachable for n in range(1, 13)}
        answers[13] = states.BAD_ACTION
        script, _ = self.run_loop([R] * 13, answers=answers,
                                  settings=settings, round_seconds=1.0)
        self.assertEqual([1, 2, 4, 7, 10, 13],
                         [r for r, _ in script.reports])

    def test_a_change_during_a_back_off_waits_for_the_retry(self):
        unreachable = loop.ConductorUnreachable('connection refused')
        # Away at rounds 1 and 2 (the next retry 2 s later, at 4); the
        # verdict changes at round 3 and is reported at that retry.
        answers = {1: unreachable, 2: unreachable, 4: states.BAD_ACTION}
        script, _ = self.run_loop([R, R, U, U], answers=answers,
                                  round_seconds=1.0)
        self.assertEqual([(1, R), (2, R), (4, U)], script.reports)

    def test_wakeup_checks_in_at_once(self):
        # Woken during round 2, long before the next check-in is due.
        script, result = self.run_loop([R, R, R], wake_at=[2],
                                       answers={2: states.BAD_ACTION})
        self.assertEqual([(1, 'REACHABLE'), (2, 'REACHABLE')],
                         script.reports)
        self.assertEqual('bad_action', result['exit_reason'])
        self.assertFalse(script.is_set())

    def test_wakeup_before_the_first_verdict_waits_for_it(self):
        # Woken at round 1, with no verdict until round 2: then at once.
        script, _ = self.run_loop([None, R, R], wake_at=[1],
                                  answers={2: states.BAD_ACTION})
        self.assertEqual([(2, 'REACHABLE')], script.reports)

    def test_wakeup_between_rounds_checks_in_without_waiting(self):

        class WokenDuringPause(Script):
            def report(inner, status):
                answer = Script.report(inner, status)
                inner.set()  # arrives while the loop pauses
                return answer

        replies = iter(['REACHABLE', states.BAD_ACTION])
        clock = FakeClock()
        script = WokenDuringPause(self, [R, R], clock)
        result = loop.MonitorLoop(
            'vim-1', 'action-1', script,
            lambda status: script.report(status) and next(replies),
            SETTINGS, wakeup=script, clock=clock).run()
        # Both reports came after the first round: no waiting in between.
        self.assertEqual([(1, 'REACHABLE'), (1, 'REACHABLE')],
                         script.reports)
        self.assertEqual('bad_action', result['exit_reason'])

    def test_a_conductor_storing_another_status_hears_it_again(self):
        # It answers UNKNOWN to round 1: told again at the next round
        # (the probe interval), not in a busy loop nor a minute later.
        settings = SETTINGS._replace(interval=10.0)
        script, _ = self.run_loop([R, R, R],
                                  answers={1: 'UNKNOWN',
                                           2: states.BAD_ACTION},
                                  settings=settings)
        self.assertEqual([(1, R), (2, R)], script.reports)


class ReasonedScript(Script):
    """A Script whose rounds are (status, reason) pairs."""

    _pair = None

    @property
    def status(self):
        return self._pair[0] if self._pair else None

    @status.setter
    def status(self, pair):
        self._pair = pair

    @property
    def reason(self):
        return self._pair[1] if self._pair else None

    def current(self):
        return self._pair

    def details(self):
        return {'rtt': 0.001, 'checks': {}}

    def report(self, status, reason=None, details=None):
        self.reports.append((self.round, status, reason))
        return self.answers.get(self.round, status)


class TestReasons(base.TestCase):

    def test_a_new_reason_is_reported_with_the_details(self):
        clock = FakeClock()
        script = ReasonedScript(self, [
            (R, 'ok'), (R, 'icmp_blocked'), (R, 'icmp_blocked'),
            (U, 'refused')], clock, answers={4: states.BAD_ACTION})
        loop.MonitorLoop('vim-1', 'action-1', script, script.report,
                         SETTINGS, wakeup=script, clock=clock).run()
        self.assertEqual([(1, R, 'ok'), (2, R, 'icmp_blocked'),
                          (4, U, 'refused')], script.reports)


class TestProbeSettings(base.TestCase):

    def test_from_workflow_input(self):
        settings = loop.ProbeSettings.from_dict(
            {'count': '3', 'interval': 1, 'timeout': 0.5,
             'failure_threshold': 2, 'check_interval': 60})
        self.assertEqual(3, settings.count)
        self.assertEqual(1.0, settings.interval)

    def test_bad_values_name_the_field(self):
        error = self.assertRaises(ValueError, loop.ProbeSettings.from_dict,
                                  {'count': 'x', 'interval': 1,
                                   'timeout': 1, 'failure_threshold': 2,
                                   'check_interval': 60})
        self.assertIn('count', str(error))
        error = self.assertRaises(ValueError, loop.ProbeSettings.from_dict,
                                  {'count': 1})
        self.assertIn('check_interval', str(error))
        error = self.assertRaises(ValueError, loop.ProbeSettings.from_dict,
                                  {'count': 1, 'interval': 0, 'timeout': 1,
                                   'failure_threshold': 2,
                                   'check_interval': 60})
        self.assertIn('interval', str(error))

    def test_recovery_threshold_is_optional(self):
        values = {'count': 3, 'interval': 1, 'timeout': 1,
                  'failure_threshold': 2, 'check_interval': 60}
        self.assertEqual(1, loop.ProbeSettings.from_dict(
            values).recovery_threshold)
        self.assertEqual(3, loop.ProbeSettings.from_dict(
            dict(values, recovery_threshold='3')).recovery_threshold)
        error = self.assertRaises(ValueError, loop.ProbeSettings.from_dict,
                                  dict(values, recovery_threshold=0))
        self.assertIn('recovery_threshold', str(error))
