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

"""The routine check-ins of one process's monitors, made together.

Every monitor calls update_vim at least every check_interval, changed or
not (the spec's contract; the answer tells a retired monitor to exit):
2,000 monitors make 33 calls a second. Made by each monitor's own thread,
spread out in time, every call wakes a thread that slept for a minute and
runs on cold caches; the same call made right after another costs the
process about half as much CPU (tools/bench/bench_checkins.py). So once a
monitor's verdict is stored, its routine check-ins are made here: one
thread wakes once per slot (on the monotonic clock) and makes, one after
another, every check-in that would be due before the next slot, up to a
slot early and never later than that.

Nothing else waits here. A change, a wake-up and a monitor's first report
are made at once by the monitor's own thread (loop.MonitorLoop). And
check-ins do not queue behind calls that time out: when one finds no
conductor, its monitor takes its check-ins back (its own thread retries
with its back-off, as every monitor did before), and so does every other
monitor whose check-in comes due until this thread's own back-off ends.
"""

import heapq
import itertools
import threading
import time

from oslo_log import log as logging

from tacker_vimmon.action import loop
from tacker_vimmon.common import threads

LOG = logging.getLogger(__name__)

CHECK_IN_THREAD = 'tvm-check-ins'


class CheckIns:
    """One thread making the routine check-ins of many monitors.

    :param slot: seconds between the thread's passes; check-ins come up
        to this much early
    :param run_thread: False to leave the passes to the caller
        (``run_pass`` when ``next_pass`` has come; for tests)
    A monitor is anything with ``routine_check_in(horizon)`` (returning
    its next due time, or None when it takes its check-ins back; raising
    loop.ConductorUnreachable once it has) and ``take_back()``: a
    loop.MonitorLoop.
    """

    def __init__(self, slot, clock=time.monotonic, run_thread=True):
        self.slot = slot
        self._clock = clock
        self._run_thread = run_thread
        self._due = []
        self._order = itertools.count()
        self._changed = threading.Condition()
        self._thread = None
        self._refuse_until = 0.0
        self._retry_delay = loop.FIRST_RETRY_DELAY

    def add(self, monitor, due):
        """Make the monitor's check-ins from the one due at ``due`` on."""
        with self._changed:
            heapq.heappush(self._due, (due, next(self._order), monitor))
            if self._thread is None and self._run_thread:
                self._thread = threading.Thread(
                    target=self._run, name='tacker-vimmon-check-ins',
                    daemon=True)
                self._thread.start()
            elif self._thread is not None and self._due[0][2] is monitor:
                self._changed.notify()

    def __len__(self):
        with self._changed:
            return len(self._due)

    def next_pass(self):
        """When the next pass is to run: the last slot boundary before the
        first check-in is due, or None with nothing to do. (A pass makes
        those due within a slot of it.)"""
        with self._changed:
            if not self._due:
                return None
            first = self._due[0][0]
        return first - first % self.slot

    def run_pass(self):
        """Make every check-in due before the next pass; return how many
        were made."""
        now = self._clock()
        horizon = now + self.slot
        with self._changed:
            ready = []
            while self._due and self._due[0][0] < horizon:
                ready.append(heapq.heappop(self._due)[2])
        made = 0
        for monitor in ready:
            if self._clock() < self._refuse_until:
                monitor.take_back()
                continue
            try:
                due = monitor.routine_check_in(horizon)
            except loop.ConductorUnreachable as error:
                self._back_off(error)
                continue
            made += 1
            self._retry_delay = loop.FIRST_RETRY_DELAY
            if due is not None:
                # One not made now (its own thread is reporting) is looked
                # at again in the next pass, not in a loop in this one.
                with self._changed:
                    heapq.heappush(self._due, (max(due, horizon),
                                               next(self._order), monitor))
        return made

    def _back_off(self, error):
        delay = self._retry_delay
        LOG.warning('A check-in found no conductor (%(error)s): monitors '
                    'check in by themselves for %(delay).0f s',
                    {'error': error, 'delay': delay})
        self._refuse_until = self._clock() + delay
        self._retry_delay = min(delay * 2, loop.MAX_RETRY_DELAY)

    def _run(self):
        threads.name_this_thread(CHECK_IN_THREAD)
        while True:
            with self._changed:
                at = self.next_pass()
                wait = None if at is None else at - self._clock()
                if wait is None or wait > 0:
                    self._changed.wait(wait)
                    continue
            try:
                self.run_pass()
            except Exception:
                # The thread must live on; a monitor whose check-in is not
                # made takes it back a check_interval later by itself.
                LOG.exception('Check-in pass failed')
