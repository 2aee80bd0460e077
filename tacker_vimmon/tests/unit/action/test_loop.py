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

"""The monitor loop's rules, with a scripted prober and conductor."""

import threading

from tacker_vimmon.action import loop
from tacker_vimmon.common import states
from tacker_vimmon.tests import base

SETTINGS = loop.ProbeSettings(count=1, interval=0.001, timeout=0.01,
                              failure_threshold=3, check_interval=60)


class FakeClock:
    """Time that moves only when a probe round runs (10 s per round)."""

    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


class Script:
    """Answers of the VIM per round, and of the conductor per report."""

    def __init__(self, test, rounds, clock, answers=None,
                 round_seconds=10.0):
        self.test = test
        self.rounds = list(rounds)
        self.clock = clock
        self.round_seconds = round_seconds
        self.answers = answers or {}
        self.reports = []
        self.round = 0

    def probe_round(self):
        if self.round >= len(self.rounds):
            self.test.fail('the loop did not stop after its script; '
                           'reports so far: %s' % self.reports)
        answered = self.rounds[self.round]
        self.round += 1
        self.clock.now += self.round_seconds
        return answered

    def report(self, status):
        self.reports.append((self.round, status))
        answer = self.answers.get(self.round, status)
        if isinstance(answer, Exception):
            raise answer
        return answer


class TestMonitorLoop(base.TestCase):

    def run_loop(self, rounds, answers=None, settings=SETTINGS,
                 wakeup=None, round_seconds=10.0):
        clock = FakeClock()
        script = Script(self, rounds, clock, answers, round_seconds)
        monitor = loop.MonitorLoop('vim-1', 'action-1', script.probe_round,
                                   script.report, settings, wakeup=wakeup,
                                   clock=clock)
        result = monitor.run()
        return script, result

    def test_reports_on_change_then_only_checks_in_each_interval(self):
        # 10 s per round, check-in every 60 s: round 1 reports the first
        # verdict, then rounds 7 and 13 check in; 'bad_action' at 13.
        script, result = self.run_loop([True] * 13,
                                       answers={13: states.BAD_ACTION})
        self.assertEqual([(1, 'REACHABLE'), (7, 'REACHABLE'),
                          (13, 'REACHABLE')], script.reports)
        self.assertEqual({'vim_id': 'vim-1', 'action_id': 'action-1',
                          'exit_reason': 'bad_action',
                          'last_status': 'REACHABLE'}, result)

    def test_failures_below_the_threshold_do_not_flip_the_status(self):
        rounds = [True, False, False, True, False, False, False, True]
        script, _ = self.run_loop(rounds, answers={8: states.BAD_ACTION})
        self.assertEqual([(1, 'REACHABLE'), (7, 'UNREACHABLE'),
                          (8, 'REACHABLE')], script.reports)

    def test_no_report_before_a_first_verdict(self):
        # Rounds 1 and 2 failed, below the threshold of 3: silence.
        script, _ = self.run_loop([False, False, False],
                                  answers={3: states.BAD_ACTION})
        self.assertEqual([(3, 'UNREACHABLE')], script.reports)

    def test_conductor_outage_backs_off_and_reports_when_back(self):
        unreachable = loop.ConductorUnreachable('MessagingTimeout')
        # 1 s per round; the conductor is away for rounds 1-7 and answers
        # at round 8 (with 'bad_action', which ends the script).
        answers = {n: unreachable for n in range(1, 8)}
        answers[8] = states.BAD_ACTION
        script, result = self.run_loop([True] * 8, answers=answers,
                                       round_seconds=1.0)
        # Retries 1, 2 and 4 s apart, not every round; probing went on.
        self.assertEqual([1, 2, 4, 8], [r for r, _ in script.reports])
        self.assertEqual('bad_action', result['exit_reason'])

    def test_back_off_never_exceeds_the_check_interval(self):
        unreachable = loop.ConductorUnreachable('connection refused')
        settings = SETTINGS._replace(check_interval=3)
        answers = {n: unreachable for n in range(1, 13)}
        answers[13] = states.BAD_ACTION
        script, _ = self.run_loop([True] * 13, answers=answers,
                                  settings=settings, round_seconds=1.0)
        self.assertEqual([1, 2, 4, 7, 10, 13],
                         [r for r, _ in script.reports])

    def test_wakeup_checks_in_at_once(self):
        wakeup = threading.Event()
        clock_rounds = [True, True, True]

        class WokenScript(Script):
            def probe_round(inner):
                answered = Script.probe_round(inner)
                if inner.round == 2:
                    wakeup.set()  # the fast path, between check-ins
                return answered

        clock = FakeClock()
        script = WokenScript(self, clock_rounds, clock,
                             answers={2: states.BAD_ACTION})
        result = loop.MonitorLoop('vim-1', 'action-1', script.probe_round,
                                  script.report, SETTINGS, wakeup=wakeup,
                                  clock=clock).run()
        self.assertEqual([(1, 'REACHABLE'), (2, 'REACHABLE')],
                         script.reports)
        self.assertEqual('bad_action', result['exit_reason'])
        self.assertFalse(wakeup.is_set())

    def test_wakeup_between_rounds_checks_in_before_probing(self):
        wakeup = threading.Event()

        class WokenDuringPause(Script):
            def report(inner, status):
                answer = Script.report(inner, status)
                wakeup.set()  # arrives while the loop pauses
                return answer

        clock = FakeClock()
        script = WokenDuringPause(self, [True, True], clock)
        replies = iter(['REACHABLE', states.BAD_ACTION])
        result = loop.MonitorLoop(
            'vim-1', 'action-1', script.probe_round,
            lambda status: script.report(status) and next(replies),
            SETTINGS, wakeup=wakeup, clock=clock).run()
        # Both reports came after the first round: no probe in between.
        self.assertEqual([(1, 'REACHABLE'), (1, 'REACHABLE')],
                         script.reports)
        self.assertEqual('bad_action', result['exit_reason'])


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
