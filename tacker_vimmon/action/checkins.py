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
thread wakes once per slot (on the monotonic clock) and makes every
check-in that would be due before the next slot, up to a slot early and
never later than that: in one update_vims call for up to MAX_BATCH of
them, which costs the process and the conductor about what one update_vim
call costs (each check-in is still written and answered as its own
update_vim would be). While the conductors do not take update_vims (older
ones, in a rolling upgrade), the check-ins are made one after another.

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
# Check-ins sent in one update_vims call, at most (the conductors take
# manager.MAX_REPORTS).
MAX_BATCH = 200
# How long check-ins go one by one after the conductors refused a batch.
ONE_BY_ONE_FOR = 600


class CheckIns:
    """One thread making the routine check-ins of many monitors.

    :param slot: seconds between the thread's passes; check-ins come up
        to this much early
    :param run_thread: False to leave the passes to the caller
        (``run_pass`` when ``next_pass`` has come; for tests)
    :param send: ``send(reports) -> answers``, the conductors'
        update_vims (raising loop.ConductorUnreachable or
        loop.ManyRefused), to make a pass's check-ins in a few calls;
        None to make each with its monitor's own report function
    A monitor is anything with ``routine_check_in(horizon)`` (returning
    its next due time, or None when it takes its check-ins back; raising
    loop.ConductorUnreachable once it has) and ``take_back()``: a
    loop.MonitorLoop.
    """

    def __init__(self, slot, clock=time.monotonic, run_thread=True,
                 send=None):
        self.slot = slot
        self._clock = clock
        self._run_thread = run_thread
        self._send = send
        self._one_by_one_until = 0.0
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
        if self._send is not None and self._clock() >= self._one_by_one_until:
            return self._check_in_together(ready, horizon)
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
            self._again(monitor, due, horizon)
        return made

    def _again(self, monitor, due, horizon):
        if due is not None:
            # One not made now (its own thread is reporting) is looked at
            # again in the next pass, not in a loop in this one.
            with self._changed:
                heapq.heappush(self._due, (max(due, horizon),
                                           next(self._order), monitor))

    def _check_in_together(self, ready, horizon):
        """The pass's check-ins in update_vims calls of up to MAX_BATCH."""
        made = 0
        for start in range(0, len(ready), MAX_BATCH):
            if self._clock() < self._refuse_until:
                for monitor in ready[start:]:
                    monitor.take_back()
                break
            made += self._send_batch(ready[start:start + MAX_BATCH], horizon)
        return made

    def _send_batch(self, monitors, horizon):
        claims = []
        for monitor in monitors:
            claim = monitor.claim_check_in(horizon)
            if isinstance(claim, loop.CheckIn):
                claims.append(claim)
            else:
                self._again(monitor, claim, horizon)
        if not claims:
            return 0
        try:
            answers = self._send([claim.report() for claim in claims])
            if not isinstance(answers, list) or len(answers) != len(claims):
                raise loop.ManyRefused('%d answers to %d check-ins' % (
                    len(answers) if isinstance(answers, list) else -1,
                    len(claims)))
        except loop.ConductorUnreachable as error:
            for index, claim in enumerate(claims):
                claim.failed(error, quiet=index > 0)
            self._back_off(error)
            return 0
        except loop.ManyRefused as error:
            # Older conductors (a rolling upgrade): one call per check-in
            # for a while, then try again.
            LOG.warning('The conductors refused several check-ins in one '
                        'call (%(error)s); making them one at a time for '
                        '%(delay)d s', {'error': error,
                                        'delay': ONE_BY_ONE_FOR})
            self._one_by_one_until = self._clock() + ONE_BY_ONE_FOR
            for claim in claims:
                claim.give_back()
            return 0
        except BaseException as error:
            # Every claim holds its monitor's lock: never leave one held.
            for index, claim in enumerate(claims):
                claim.failed(error, quiet=index > 0)
            raise
        self._retry_delay = loop.FIRST_RETRY_DELAY
        for claim, answer in zip(claims, answers, strict=True):
            self._again(claim.monitor, claim.answered(answer), horizon)
        return len(claims)

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
