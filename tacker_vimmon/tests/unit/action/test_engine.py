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
moves; replies are handed in as the prober's receive thread would.
"""

import errno
import random
import socket
import struct
import threading
from unittest import mock

from tacker_vimmon.action import engine
from tacker_vimmon.action import loop
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
        # an interval later, and the request is forgotten.
        self.prober.forget.assert_called_once_with([(socket.AF_INET, 1)])
        self.advance(1.01)
        self.assertEqual(1, len(self.sent))
        self.advance(1.02)
        self.assertEqual([0.0, 1.02], [s[0] for s in self.sent])

    def test_unreachable_exactly_after_threshold_failed_rounds(self):
        monitor, signal = self.add()
        # Round 1: requests at 0, 1, 2; over at 3. Round 2 from 4: at 4,
        # 5, 6; over at 7, the second failed round.
        self.advance(6.99)
        self.assertEqual([0, 1, 2, 4, 5, 6], [s[0] for s in self.sent])
        self.assertIsNone(monitor.status)
        self.assertFalse(signal.is_set())
        self.advance(7.0)
        self.assertEqual(U, monitor.status)
        self.assertTrue(signal.is_set())

    def test_a_later_request_of_the_round_may_answer(self):
        monitor, _signal = self.add()
        self.advance(2.0)
        self.reply(2, at=2.5)
        self.assertEqual(R, monitor.status)
        self.advance(10.0)
        # Rounds start an interval after the last one ended (at 2.5).
        self.assertEqual(3.5, self.sent[3][0])

    def test_late_or_stale_replies_do_not_count(self):
        monitor, _signal = self.add()
        self.advance(1.5)
        self.reply(0, at=1.5)  # 1.5 s after its request: timeout is 1
        self.assertIsNone(monitor.status)
        self.advance(4.0)       # round 1 failed; round 2 began at 4
        self.reply(1, at=4.0)   # a request of round 1
        self.assertIsNone(monitor.status)
        self.advance(7.0)
        self.assertEqual(U, monitor.status)

    def test_recovery_threshold_holds_off_a_single_answer(self):
        settings = SETTINGS._replace(count=1, failure_threshold=1,
                                     recovery_threshold=2)
        monitor, signal = self.add(settings)
        self.advance(1.0)       # round 1 (request at 0) failed
        self.assertEqual(U, monitor.status)
        signal.clear()
        self.advance(2.0)       # round 2: request at 2, answered
        self.reply(1, at=2.1)
        self.assertEqual(U, monitor.status)
        self.assertFalse(signal.is_set())
        self.advance(3.1)       # round 3: request at 3.1, answered
        self.reply(2, at=3.2)
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
        # Every request was forgotten as its round ended.
        self.assertEqual({}, self.prober._pending)

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

        def fake_engine(shared_prober):
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
