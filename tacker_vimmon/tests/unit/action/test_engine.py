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

"""The probing engine: rounds, verdicts and reply matching, on a fake clock.

The engine's scheduler is stepped by hand (run_due) as the fake clock
moves; replies are handed in as the prober's receive thread would. The API
checker is a fake that records each check; a test ends a check with the
result it chooses, as the checker's thread would.
"""

import errno
import gc
import random
import socket
import struct
import threading
from unittest import mock
import weakref

from tacker_vimmon.action import engine
from tacker_vimmon.action import loop
from tacker_vimmon.action import outcome
from tacker_vimmon.action import prober
from tacker_vimmon.action import target
from tacker_vimmon.common import exception
from tacker_vimmon.common import states
from tacker_vimmon.tests import base
from tacker_vimmon.tests import fixtures as tvm_fixtures

R = states.REACHABLE
U = states.UNREACHABLE
SETTINGS = loop.ProbeSettings(count=3, interval=1.0, timeout=1.0,
                              failure_threshold=2, check_interval=60)
HOST = target.ProbeTarget('http://192.0.2.10:5000/v3', '192.0.2.10')


class FakeClock:

    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


class TestVerdict(base.TestCase):

    def statuses(self, rounds, failure_threshold=3, recovery_threshold=1):
        verdict = engine.Verdict(failure_threshold, recovery_threshold)
        return [(verdict.observe(answered), verdict.status)[1]
                for answered in rounds]

    def test_failures_below_the_threshold_do_not_flip_the_status(self):
        self.assertEqual([R, R, R, R, R, R, U, R], self.statuses(
            [True, False, False, True, False, False, False, True]))

    def test_no_verdict_before_the_threshold_or_a_reply(self):
        self.assertEqual([None, None, U], self.statuses([False] * 3))
        self.assertEqual([None, R], self.statuses([False, True]))

    def test_recovery_needs_that_many_answered_rounds_in_a_row(self):
        # The first verdict needs one; after an outage, one answer among
        # failures does not flap the status.
        self.assertEqual([R, U, U, U, U, U, R], self.statuses(
            [True, False, True, False, True, True, True],
            failure_threshold=1, recovery_threshold=3))

    def test_observe_says_when_the_status_changed(self):
        verdict = engine.Verdict(2, 1)
        self.assertEqual([False, True, False, True, False], [
            verdict.observe(answered)
            for answered in (False, False, False, True, True)])


class FakeProberEngine(base.TestCase):
    """An Engine on a fake clock over a Prober (autospec) that records."""

    def setUp(self):
        super().setUp()
        self.clock = FakeClock()
        self.prober = mock.create_autospec(prober.Prober, instance=True)
        self.prober.destination.side_effect = lambda address: (
            prober.Destination(prober._IPV4, None, (address, 0)))
        self.sent = []  # (time, address, key, on_reply)
        self.prober.send.side_effect = self._send
        self.engine = engine.Engine(self.prober, clock=self.clock,
                                    start=False)
        self.addCleanup(self.engine.close)

    def _send(self, destination, on_reply):
        key = (socket.AF_INET, len(self.sent) + 1)
        self.sent.append((self.clock.now, destination.sockaddr[0], key,
                          on_reply))
        return key

    def advance(self, to):
        """Step the scheduler through every due time up to ``to``."""
        while True:
            due = self.engine.next_due()
            if due is None or due > to:
                break
            self.clock.now = max(self.clock.now, due)
            self.engine.run_due()
        self.clock.now = to

    def reply(self, index, at=None):
        """The reply to the index-th request sent, at the time given."""
        _when, _address, key, on_reply = self.sent[index]
        on_reply(key, self.clock.now if at is None else at)

    def add(self, settings=SETTINGS, where=HOST):
        signal = threading.Event()
        monitor = self.engine.add(where, settings, signal)
        self.engine.run_due()
        return monitor, signal


class TestRounds(FakeProberEngine):

    def test_first_reply_of_a_round_is_reachable_at_once(self):
        monitor, signal = self.add()
        self.assertEqual([(0.0, '192.0.2.10')], [s[:2] for s in self.sent])
        self.clock.now = 0.02
        self.reply(0)
        self.assertEqual(R, monitor.status)
        self.assertTrue(signal.is_set())
        # The round is over: nothing more is sent until the next one,
        # one round length (3 x 1 s) after this one started, and the
        # request is forgotten.
        self.prober.forget.assert_called_once_with([(socket.AF_INET, 1)])
        self.advance(2.99)
        self.assertEqual(1, len(self.sent))
        self.advance(3.0)
        self.assertEqual([0.0, 3.0], [s[0] for s in self.sent])

    def test_unreachable_exactly_after_threshold_failed_rounds(self):
        monitor, signal = self.add()
        # Round 1: requests at 0, 1, 2; over at 3, when round 2 starts:
        # at 3, 4, 5; over at 6, the second failed round.
        self.advance(5.99)
        self.assertEqual([0, 1, 2, 3, 4, 5], [s[0] for s in self.sent])
        self.assertIsNone(monitor.status)
        self.assertFalse(signal.is_set())
        self.advance(6.0)
        self.assertEqual(U, monitor.status)
        self.assertTrue(signal.is_set())
        self.assertEqual((6.0, 9.0), engine.detection_window(SETTINGS))

    def test_late_passes_do_not_add_up_over_rounds(self):
        # Every pass comes a whole PASS_INTERVAL after its step was due,
        # the worst case: each step is that late, and no later.
        late = prober.PASS_INTERVAL
        monitor, _signal = self.add()
        while True:
            due = self.engine.next_due()
            if due > 6.0:
                break
            self.clock.now = due + late
            self.engine.run_due()
        # Rounds still start 3 s apart (the third at 6 s).
        self.assertEqual([0, 1 + late, 2 + late, 3 + late, 4 + late,
                          5 + late, 6 + late],
                         [round(s[0], 6) for s in self.sent])
        # The second failed round ended one pass after 6 s, not six.
        self.assertEqual(U, monitor.status)
        self.assertEqual(6.0 + late, self.clock.now)

    def test_a_later_request_of_the_round_may_answer(self):
        monitor, _signal = self.add()
        self.advance(2.0)
        self.reply(2, at=2.5)
        self.assertEqual(R, monitor.status)
        self.advance(10.0)
        # Rounds start a round length apart, however early one ends:
        # round 2 at 3 (unanswered: 3, 4, 5), round 3 when it ended, at 6.
        self.assertEqual([3.0, 4.0, 5.0, 6.0],
                         [s[0] for s in self.sent[3:7]])

    def test_late_or_stale_replies_do_not_count(self):
        monitor, _signal = self.add()
        self.advance(1.5)
        self.reply(0, at=1.5)  # 1.5 s after its request: timeout is 1
        self.assertIsNone(monitor.status)
        self.advance(3.0)       # round 1 failed; round 2 began at 3
        self.reply(1, at=3.0)   # a request of round 1
        self.assertIsNone(monitor.status)
        self.advance(6.0)
        self.assertEqual(U, monitor.status)

    def test_recovery_threshold_holds_off_a_single_answer(self):
        settings = SETTINGS._replace(count=1, failure_threshold=1,
                                     recovery_threshold=2)
        monitor, signal = self.add(settings)
        self.advance(1.0)       # round 1 (request at 0) failed
        self.assertEqual(U, monitor.status)
        signal.clear()
        self.advance(1.0)       # round 2: request at 1, answered
        self.reply(1, at=1.1)
        self.assertEqual(U, monitor.status)
        self.assertFalse(signal.is_set())
        self.advance(2.0)       # round 3: request at 2, answered
        self.reply(2, at=2.1)
        self.assertEqual(R, monitor.status)
        self.assertTrue(signal.is_set())

    def test_removed_monitor_sends_nothing_more(self):
        monitor, _signal = self.add()
        self.advance(1.0)
        self.engine.remove(monitor)
        self.prober.forget.assert_called_with(
            [(socket.AF_INET, 1), (socket.AF_INET, 2)])
        self.advance(30.0)
        self.assertEqual(2, len(self.sent))
        self.reply(1, at=1.1)
        self.assertIsNone(monitor.status)

    def test_a_removed_monitor_is_not_kept_alive_by_its_steps(self):
        monitor, _signal = self.add()
        self.advance(0.5)
        self.assertTrue(self.engine.next_due())   # its steps are still due
        self.engine.remove(monitor)
        # The fake prober's records hold its callbacks, so it too.
        self.sent.clear()
        self.prober.reset_mock()
        gone = weakref.ref(monitor)
        del monitor
        gc.collect()
        self.assertIsNone(gone())

    def test_scheduled_steps_are_not_tracked_by_the_collector(self):
        # What waits in the heap for seconds must not fill the collector's
        # oldest generation: at 2,000 monitors that would make the full
        # collections of a large executor come every half minute.
        for number in range(3):
            self.add(where=target.ProbeTarget(
                'http://192.0.2.%d:5000/v3' % number, '192.0.2.%d' % number))
        self.advance(1.5)
        gc.collect()
        steps = list(self.engine._heap)
        self.assertGreaterEqual(len(steps), 3)
        self.assertEqual([], [step for step in steps if gc.is_tracked(step)])

    def test_send_errors_fail_the_round_at_once_logged_once(self):
        log = self.useFixture(base.fixtures.FakeLogger(
            name='tacker_vimmon.action.engine'))
        self.prober.send.side_effect = OSError(errno.EHOSTUNREACH,
                                               'No route to host')
        monitor, _signal = self.add(SETTINGS._replace(count=1))
        self.assertIsNone(monitor.status)
        self.advance(1.0)       # round 2 fails at once too
        self.assertEqual(U, monitor.status)
        self.assertEqual(1, log.output.count('No route to host'))
        self.prober.send.side_effect = self._send
        self.advance(2.0)
        self.reply(0)
        self.assertEqual(R, monitor.status)
        self.assertIn('Probing 192.0.2.10 works again', log.output)

    def test_a_failing_step_does_not_stop_the_engine(self):
        log = self.useFixture(base.fixtures.FakeLogger(
            name='tacker_vimmon.action.engine'))
        self.prober.send.side_effect = [RuntimeError('bug'), (2, 1)]
        monitor, _signal = self.add(SETTINGS._replace(count=1))
        self.assertIn('Probing step _start_round failed', log.output)
        self.assertIn('RuntimeError: bug', log.output)
        # Started over an interval later, and probing again.
        self.advance(1.0)
        self.assertEqual(2, self.prober.send.call_count)
        self.assertIsNone(monitor.status)

    def test_unresolvable_host_is_a_failed_round_logged_once(self):
        log = self.useFixture(base.fixtures.FakeLogger(
            name='tacker_vimmon.action.engine'))
        where = target.ProbeTarget('http://no-such-vim', 'no-such-vim')
        self.useFixture(base.fixtures.MockPatchObject(
            target.ProbeTarget, 'resolve',
            side_effect=exception.MonitorTargetUnresolvable(
                host='no-such-vim', reason='unknown')))
        monitor, signal = self.add(SETTINGS._replace(count=1), where)
        # Resolved on the engine's resolver threads, never the scheduler.
        tvm_fixtures.wait_for(lambda: self.engine.next_due(), 10)
        self.advance(1.0)
        tvm_fixtures.wait_for(signal.is_set, 10)
        self.assertEqual(U, monitor.status)
        self.assertEqual([], self.sent)
        self.assertEqual(1, log.output.count('Probing no-such-vim'))

    def test_names_are_resolved_before_each_round(self):
        where = target.ProbeTarget('http://vim.example', 'vim.example')
        self.useFixture(base.fixtures.MockPatchObject(
            target.ProbeTarget, 'resolve',
            side_effect=[['192.0.2.1'], ['192.0.2.2']]))
        self.add(SETTINGS._replace(count=1), where)
        tvm_fixtures.wait_for(lambda: self.sent, 10)
        self.reply(0, at=0.1)
        self.advance(1.1)
        tvm_fixtures.wait_for(lambda: len(self.sent) == 2, 10)
        self.assertEqual(['192.0.2.1', '192.0.2.2'],
                         [s[1] for s in self.sent])


API = {'path': '/v3', 'verify': True, 'ca_cert': None}
BOTH = SETTINGS._replace(
    count=1, checks=states.CHECKS_BOTH, api_interval=30.0, api_timeout=5.0,
    api=API)
ANSWERS = outcome.CheckResult(True, states.REASON_OK, None, 0.002,
                              {'http_status': 300})
REFUSED = outcome.CheckResult(False, states.REASON_REFUSED,
                              'Connection refused')


class FakeChecker:

    def __init__(self):
        self.checks = []   # (address, target, timeout, on_done)

    def check(self, address, target, timeout, on_done):
        self.checks.append((address, target, timeout, on_done))


class EngineWithChecks(FakeProberEngine):

    def setUp(self):
        super().setUp()
        self.checker = FakeChecker()
        self.engine._checker = self.checker
        self.echoes = 0

    def finish(self, index, result):
        self.checker.checks[index][3](result)

    def echo(self, answered):
        """The next round (of one request): answered, or timed out."""
        while len(self.sent) <= self.echoes:
            self.advance(self.engine.next_due())
        if answered:
            self.reply(self.echoes)
        else:
            self.advance(self.sent[self.echoes][0]
                         + SETTINGS.timeout)
        self.echoes += 1


class TestDecide(base.TestCase):

    def verdict(self, status, reason=None):
        verdict = engine.Verdict(1)
        if status is not None:
            verdict.observe(status == R, reason or states.REASON_TIMEOUT)
        return verdict

    def test_the_decision_table(self):
        ok, timeout = self.verdict(R), self.verdict(U)
        refused = self.verdict(U, states.REASON_REFUSED)
        no_route = self.verdict(U, states.REASON_NO_ROUTE)
        rows = [
            # checks, icmp, api, blocked -> status, reason
            ('icmp', ok, refused, False, R, 'ok'),
            ('icmp', timeout, ok, True, U, 'timeout'),
            ('api', timeout, ok, True, R, 'ok'),
            ('api', ok, refused, False, U, 'refused'),
            ('both', ok, ok, False, R, 'ok'),
            ('both', timeout, ok, True, R, 'icmp_blocked'),
            ('both', timeout, ok, False, U, 'timeout'),
            ('both', ok, refused, False, U, 'refused'),
            ('both', timeout, refused, False, U, 'refused'),
            ('both', no_route, refused, False, U, 'no_route'),
            ('both', timeout, self.verdict(None), False, None, None),
            ('api', ok, self.verdict(None), False, None, None),
        ]
        for checks, icmp, api, blocked, status, reason in rows:
            self.assertEqual(
                (status, reason),
                engine.decide(checks, icmp, api, blocked)[:2],
                (checks, icmp.reason, api.reason, blocked))


class TestIcmpReasons(EngineWithChecks):

    def test_a_kernel_refusal_is_no_route_a_silence_timeout(self):
        self.prober.send.side_effect = OSError(errno.EHOSTUNREACH,
                                               'No route to host')
        monitor, _signal = self.add(SETTINGS._replace(count=1))
        self.advance(1.0)
        self.assertEqual((U, 'no_route', 'No route to host'),
                         (monitor.status, monitor.reason, monitor.detail))
        self.prober.send.side_effect = self._send
        self.advance(2.0)
        self.assertEqual(1, len(self.sent))
        self.advance(3.0)
        self.assertEqual((U, 'timeout'), (monitor.status, monitor.reason))
        # The next round started as that one ended.
        self.assertEqual([2.0, 3.0], [s[0] for s in self.sent])
        self.reply(1, at=3.1)
        self.assertEqual((R, 'ok'), (monitor.status, monitor.reason))
        details = monitor.details()
        self.assertAlmostEqual(0.1, details['rtt'])
        self.assertEqual({'status': R, 'reason': 'ok', 'detail': None,
                          'rtt': details['rtt']}, details['checks']['icmp'])
        self.assertNotIn('api', details['checks'])


class TestApiChecks(EngineWithChecks):

    def test_icmp_blocked_and_the_api_answering_is_reachable(self):
        monitor, signal = self.add(BOTH)
        [(address, api_target, timeout, _done)] = self.checker.checks
        self.assertEqual(('192.0.2.10', 5.0), (address, timeout))
        self.assertEqual((False, 5000, '/v3', True),
                         (api_target.tls, api_target.port, api_target.path,
                          api_target.verify))
        self.finish(0, ANSWERS)
        self.assertEqual((R, 'ok'), (monitor.status, monitor.reason))
        signal.clear()
        self.echo(False)
        self.echo(False)
        self.assertEqual((R, 'icmp_blocked'),
                         (monitor.status, monitor.reason))
        self.assertTrue(signal.is_set())
        checks = monitor.details()['checks']
        self.assertEqual((U, 'timeout'), (checks['icmp']['status'],
                                          checks['icmp']['reason']))
        self.assertEqual((R, 300), (checks['api']['status'],
                                    checks['api']['http_status']))

    def test_a_host_that_stops_answering_is_unreachable_at_once(self):
        monitor, _signal = self.add(BOTH)
        self.finish(0, ANSWERS)
        self.echo(True)
        self.echo(False)
        self.echo(False)
        # ICMP answered after the API last did: not blocked, down. An API
        # check is started at once to tell.
        self.assertEqual((U, 'timeout'), (monitor.status, monitor.reason))
        self.assertEqual(2, len(self.checker.checks))
        self.finish(1, outcome.CheckResult(False, states.REASON_TIMEOUT,
                                           'no TCP connect'))
        self.assertEqual(U, monitor.status)
        # A failure below the threshold is checked again soon, not in 30 s.
        self.advance(self.clock.now + BOTH.interval)
        self.assertEqual(3, len(self.checker.checks))

    def test_an_api_answer_before_the_host_went_down_is_no_alibi(self):
        # The host answers ICMP, then an API check starts and answers,
        # then the host goes down: the API answered after ICMP last did,
        # but before ICMP stopped. Down, not filtered.
        monitor, _signal = self.add(BOTH)
        self.finish(0, ANSWERS)
        # Every request answered at once, up to the next API check.
        while len(self.checker.checks) < 2:
            if len(self.sent) > self.echoes:
                self.reply(self.echoes)
                self.echoes += 1
            self.advance(self.engine.next_due())
        self.assertGreater(self.clock.now, BOTH.api_interval / 2)
        self.finish(1, ANSWERS)
        self.echo(False)
        self.echo(False)
        self.assertEqual((U, 'timeout'), (monitor.status, monitor.reason))

    def test_a_new_api_check_that_answers_makes_icmp_blocked(self):
        # A firewall starts dropping ICMP: down for a moment, then the
        # API check started by the change shows the host is there.
        monitor, _signal = self.add(BOTH)
        self.finish(0, ANSWERS)
        self.echo(True)
        self.echo(False)
        self.echo(False)
        self.assertEqual(U, monitor.status)
        self.finish(1, ANSWERS)
        self.assertEqual((R, 'icmp_blocked'),
                         (monitor.status, monitor.reason))

    def test_an_api_refusing_while_icmp_answers_is_unreachable(self):
        monitor, _signal = self.add(BOTH)
        self.echo(True)
        self.finish(0, REFUSED)
        # Below failure_threshold: no verdict of the API yet, so none.
        self.assertIsNone(monitor.status)
        self.advance(self.clock.now + BOTH.interval)
        self.finish(1, REFUSED)
        self.assertEqual((U, 'refused', 'Connection refused'),
                         (monitor.status, monitor.reason, monitor.detail))
        # Confirmed: the next check is api_interval away (give or take
        # the jitter).
        now = self.clock.now
        self.advance(now + BOTH.api_interval * (1 - engine.API_JITTER) - 0.1)
        self.assertEqual(2, len(self.checker.checks))
        self.advance(now + BOTH.api_interval * (1 + engine.API_JITTER))
        self.assertEqual(3, len(self.checker.checks))
        self.finish(2, ANSWERS)
        # No echo was answered meanwhile: the API answering now shows ICMP
        # filtered.
        self.assertEqual((R, 'icmp_blocked'),
                         (monitor.status, monitor.reason))

    def test_icmp_mode_shows_the_api_but_decides_by_icmp(self):
        monitor, _signal = self.add(BOTH._replace(checks='icmp'))
        self.echo(True)
        self.finish(0, REFUSED)
        self.advance(self.clock.now + BOTH.interval)
        self.finish(1, REFUSED)
        self.assertEqual((R, 'ok'), (monitor.status, monitor.reason))
        self.assertEqual('refused',
                         monitor.details()['checks']['api']['reason'])

    def test_a_removed_monitor_ignores_its_last_check(self):
        monitor, _signal = self.add(BOTH)
        self.engine.remove(monitor)
        self.finish(0, ANSWERS)
        self.assertIsNone(monitor.status)
        self.advance(100.0)
        self.assertEqual(1, len(self.checker.checks))

    def test_no_api_settings_no_api_checks(self):
        monitor, _signal = self.add(SETTINGS)
        self.advance(10.0)
        self.assertEqual([], self.checker.checks)
        self.assertIsNone(monitor.api)


class TestProbeSettings(base.TestCase):

    def test_api_settings_are_checked(self):
        values = dict(count=1, interval=1, timeout=1, failure_threshold=1,
                      check_interval=60)
        settings = loop.ProbeSettings.from_dict(values)
        self.assertEqual(('icmp', 0.0, None),
                         (settings.checks, settings.api_interval,
                          settings.api))
        for bad, says in (({'checks': 'all'}, 'checks must be one of'),
                          ({'checks': 'both'}, 'needs the API check'),
                          ({'api': 'x', 'api_interval': 5}, 'mapping'),
                          ({'api_timeout': 0}, 'api_timeout must be')):
            error = self.assertRaises(ValueError, loop.ProbeSettings.from_dict,
                                      dict(values, **bad))
            self.assertIn(says, str(error))
        both = loop.ProbeSettings.from_dict(dict(
            values, checks='both', api=API, api_interval=30))
        self.assertEqual(('both', 30.0, 5.0),
                         (both.checks, both.api_interval, both.api_timeout))


class TestManyTargets(base.TestCase):
    """A real Prober on fake sockets: the replies' matching at scale."""

    def setUp(self):
        super().setUp()
        self.sockets = self.useFixture(tvm_fixtures.FakeIcmpSockets())
        self.prober = prober.Prober('raw')
        self.addCleanup(self.prober.close)
        self.clock = FakeClock()
        self.engine = engine.Engine(self.prober, clock=self.clock,
                                    start=False)
        self.addCleanup(self.engine.close)

    def reply_to(self, packet):
        """The echo reply of an echo request, as the host sends it back."""
        kind, code, _sum, identifier, sequence = struct.unpack_from(
            '!BBHHH', packet)
        header = struct.pack('!BBHHH', prober.ICMP_ECHO_REPLY, code, 0,
                             identifier, sequence)
        return bytes([0x45]) + bytes(19) + header + packet[8:]

    def test_thousands_of_targets_across_the_sequence_wrap(self):
        # 2,000 monitors, 3 requests each; the 16-bit sequence wraps in
        # the middle. Only the even ones answer, to their last request,
        # in a random order.
        self.prober._counter = 0xffff - 3000
        settings = SETTINGS._replace(failure_threshold=1)
        monitors = []
        for index in range(2000):
            where = target.ProbeTarget(
                'http://x', '10.250.%d.%d' % (index // 250, index % 250 + 1))
            monitors.append(self.engine.add(where, settings,
                                            threading.Event()))
        for now in (0.0, 1.0, 2.0):
            self.clock.now = now
            self.engine.run_due()
        sent = self.sockets.of_family().sent
        self.assertEqual(6000, len(sent))
        sequences = [struct.unpack_from('!BBHHH', data)[4]
                     for data, _address in sent]
        self.assertIn(0, sequences)
        self.assertEqual(6000 - 2000 * 3, len(sent) - len(set(
            (data[16:24], address) for data, address in sent)))
        last = {address[0]: data for data, address in sent}
        answering = {m.where.host for m in monitors[::2]}
        replies = [self.reply_to(last[host]) for host in answering]
        random.Random(42).shuffle(replies)
        for data in replies:
            self.prober._dispatch(prober._IPV4, data, now=2.5)
        self.clock.now = 3.0
        self.engine.run_due()
        self.assertEqual([R, U] * 1000, [m.status for m in monitors])
        # Every request was forgotten as its round ended: what waits is
        # the first request of every monitor's next round, sent at 3.
        self.assertEqual(8000, len(sent))
        self.assertEqual(2000, len(self.prober._pending))
        self.assertEqual(min(self.prober._pending), (socket.AF_INET, max(
            struct.unpack_from('!Q', data, 16)[0]
            for data, _address in sent[:6000]) + 1))

    def test_same_sequence_different_counter_finds_its_own(self):
        first, _ = self._one('10.250.0.1')
        # 65,536 requests later the sequence comes round again.
        self.prober._counter += 0xffff
        second, _ = self._one('10.250.0.2')
        sent = self.sockets.of_family().sent
        self.assertEqual(sent[0][0][6:8], sent[1][0][6:8])
        self.prober._dispatch(prober._IPV4, self.reply_to(sent[1][0]),
                              now=0.5)
        self.assertEqual((None, R), (first.status, second.status))

    def _one(self, host):
        signal = threading.Event()
        monitor = self.engine.add(
            target.ProbeTarget('http://x', host),
            SETTINGS._replace(count=1, timeout=5.0), signal)
        self.engine.run_due()
        return monitor, signal


class TestSharedEngine(base.TestCase):

    def setUp(self):
        super().setUp()
        self.useFixture(base.fixtures.MonkeyPatch(
            'tacker_vimmon.action.engine._engine', None))
        self.made = []
        real_engine = engine.Engine

        def fake_engine(shared_prober, checker=None):
            instance = mock.create_autospec(real_engine, instance=True)
            self.made.append((instance, shared_prober))
            return instance

        self.useFixture(base.fixtures.MonkeyPatch(
            'tacker_vimmon.action.engine.Engine', fake_engine))

    def test_one_per_process_and_a_new_one_after_fork(self):
        shared = mock.create_autospec(prober.Prober, instance=True)
        first = engine.get_engine(shared)
        self.assertIs(first, engine.get_engine(shared))
        with mock.patch('os.getpid', return_value=12345678):
            second = engine.get_engine(shared)
        self.assertIsNot(first, second)
        first.abandon.assert_called_once_with()
        self.assertEqual([shared, shared], [p for _e, p in self.made])
