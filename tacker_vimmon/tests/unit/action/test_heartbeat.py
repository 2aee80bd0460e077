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

"""The executor's heartbeat thread, with a recording send()."""

import logging
import threading
import time

import oslo_messaging as messaging

from tacker_vimmon.action import heartbeat
from tacker_vimmon.tests import base
from tacker_vimmon.tests import fixtures as vimmon_fixtures


class RecordingSend:
    """send(action_ids) that records (monotonic time, ids) of each call.

    ``failures`` is how many of the next calls raise a MessagingException
    (each attempt is recorded all the same, in ``attempts``).
    """

    def __init__(self):
        self._lock = threading.Lock()
        self.sent = []
        self.attempts = 0
        self.failures = 0

    def __call__(self, action_ids):
        with self._lock:
            self.attempts += 1
            if self.failures:
                self.failures -= 1
                raise messaging.MessagingException('broker away')
            self.sent.append((time.monotonic(), list(action_ids)))

    def beats(self):
        with self._lock:
            return list(self.sent)

    def ids(self, start=0):
        return [ids for _when, ids in self.beats()[start:]]


class TestHeartbeat(base.TestCase):

    def setUp(self):
        super().setUp()
        self.send = RecordingSend()
        self.heartbeat = heartbeat.Heartbeat(self.send)
        # Heartbeat has no stop(): with no monitor left its thread waits
        # for the next one for ever (a daemon thread), sending nothing.
        self.addCleanup(self._remove_all)
        # The period the thread chose at each turn; None: it waits for a
        # monitor to arrive.
        self.periods = []
        period = self.heartbeat._period

        def recording_period():
            self.periods.append(period())
            return self.periods[-1]
        self.heartbeat._period = recording_period

    def _remove_all(self):
        for action_id in self.heartbeat.running():
            self.heartbeat.remove(action_id)

    def wait_for_beat(self, predicate, timeout=5, start=0, message=None):
        """The index of the first beat from ``start`` whose ids match."""
        def found():
            for index, ids in enumerate(self.send.ids(start), start):
                if predicate(ids):
                    return index + 1  # truthy even for the first beat
            return None
        return vimmon_fixtures.wait_for(found, timeout, interval=0.01,
                                        message=message) - 1

    def test_beats_name_every_monitor_at_the_shortest_period(self):
        self.heartbeat.add('a1', 0.05)
        self.heartbeat.add('a2', 0.2)
        first = self.wait_for_beat(lambda ids: ids == ['a1', 'a2'],
                                   message='a beat naming a1 and a2')
        # Ten more beats: 0.5 s at a1's period, 2 s at a2's.
        vimmon_fixtures.wait_for(
            lambda: len(self.send.beats()) >= first + 11, 1.5,
            interval=0.01, message='ten beats at the 0.05 s period')
        beats = self.send.beats()[first:first + 11]
        self.assertEqual([['a1', 'a2']] * 11, [ids for _w, ids in beats])
        # Not faster than the period either (no busy loop).
        self.assertGreaterEqual(beats[-1][0] - beats[0][0], 10 * 0.05 * 0.8)

    def test_removed_monitor_is_no_longer_named(self):
        self.heartbeat.add('a1', 0.05)
        self.heartbeat.add('a2', 0.05)
        self.wait_for_beat(lambda ids: ids == ['a1', 'a2'])
        self.heartbeat.remove('a1')
        self.assertEqual(['a2'], self.heartbeat.running())
        # A beat already under way when a1 went may still name it; every
        # beat from the first one without it on names a2 alone.
        without = self.wait_for_beat(lambda ids: 'a1' not in ids)
        vimmon_fixtures.wait_for(
            lambda: len(self.send.beats()) >= without + 5, 5, interval=0.01,
            message='more beats after a1 was removed')
        self.assertEqual([['a2']] * 5, self.send.ids(without)[:5])

    def wait_until_idle(self):
        vimmon_fixtures.wait_for(lambda: None in self.periods, 5,
                                 interval=0.01,
                                 message='the thread to go idle')

    def test_with_no_monitor_left_nothing_is_sent(self):
        self.heartbeat.add('a1', 0.05)
        self.wait_for_beat(lambda ids: ids == ['a1'])
        self.heartbeat.remove('a1')
        # The thread found no monitor left and waits for the next one.
        self.wait_until_idle()
        sent = len(self.send.beats())
        # Nothing is sent for many periods of the monitor that was there.
        self.assertRaises(AssertionError, vimmon_fixtures.wait_for,
                          lambda: len(self.send.beats()) > sent, 0.5,
                          interval=0.01)
        self.assertEqual(sent, self.send.attempts)

    def test_a_monitor_added_to_an_idle_process_is_named_at_once(self):
        self.heartbeat.add('a1', 0.05)
        self.wait_for_beat(lambda ids: ids == ['a1'])
        self.heartbeat.remove('a1')
        self.wait_until_idle()
        start = len(self.send.beats())
        # Well before its own (long) period has passed.
        self.heartbeat.add('a2', 60)
        self.wait_for_beat(lambda ids: ids == ['a2'], timeout=5,
                           start=start)

    def test_a_failing_send_is_logged_once_and_beating_goes_on(self):
        log = self.useFixture(base.fixtures.FakeLogger(
            name='tacker_vimmon.action.heartbeat', level=logging.INFO,
            format='%(levelname)s %(message)s'))
        self.send.failures = 3
        self.heartbeat.add('a1', 0.05)
        # Three failed attempts, then beats again (the line saying so comes
        # just after the beat that worked: wait for it).
        self.wait_for_beat(lambda ids: ids == ['a1'])
        self.assertGreaterEqual(self.send.attempts, 4)
        levels = self.wait_for_levels(log, ['WARNING', 'INFO'])
        lines = log.output.splitlines()
        self.assertEqual(['WARNING', 'INFO'], levels)
        self.assertIn('Heartbeat of 1 monitor(s) not sent', lines[0])
        self.assertIn('broker away', lines[0])
        self.assertEqual('INFO Heartbeats reach the conductors again',
                         lines[1])

        # A second outage is logged again, once.
        self.send.failures = 2
        self.assertEqual(['WARNING', 'INFO', 'WARNING', 'INFO'],
                         self.wait_for_levels(
                             log, ['WARNING', 'INFO', 'WARNING', 'INFO']))

    def wait_for_levels(self, log, expected):
        """The log's levels once there are as many lines as expected."""
        def levels():
            found = [line.split()[0] for line in log.output.splitlines()]
            return found if len(found) >= len(expected) else None
        return vimmon_fixtures.wait_for(levels, 5, interval=0.01,
                                        message='%s logged' % expected)


    def test_beating_survives_an_unexpected_error_of_send(self):
        calls = []

        def send(action_ids):
            calls.append(list(action_ids))
            if len(calls) == 1:
                raise RuntimeError('a bug in the cast')
        beating = heartbeat.Heartbeat(send)
        self.addCleanup(beating.remove, 'a1')
        beating.add('a1', 0.05)
        vimmon_fixtures.wait_for(lambda: len(calls) >= 3, 2, interval=0.01,
                                 message='beats after the error')

    def test_a_burst_of_monitors_is_not_a_burst_of_beats(self):
        ids = ['a%03d' % n for n in range(200)]
        for action_id in ids:
            self.heartbeat.add(action_id, 1.0)
        # The first beat goes at once (the thread was waiting for its first
        # monitor); it may name only the first few. The next, a period
        # later, names all of them.
        every = self.wait_for_beat(lambda named: named == ids, timeout=5,
                                   message='a beat naming all 200')
        self.assertLessEqual(every, 1)
        self.assertLessEqual(len(self.send.beats()), 2)
