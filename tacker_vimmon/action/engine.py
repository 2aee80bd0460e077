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

"""The probing engine: every monitor of one process probed by one thread.

A Mistral executor runs thousands of monitors. Were each of their threads
to time its own echo requests and wait for each reply, the process would
wake thousands of times a second and spend its core on the GIL. Instead
one scheduler thread keeps a heap of what is due next (an echo request to
send, a round to close) for every monitor, the prober's receive thread
hands it the replies, and the engine keeps each monitor's verdict. A
monitor's own thread only waits until its verdict changes (the engine
sets its event) or a check-in is due.

A round is up to ``count`` echo requests ``interval`` seconds apart, each
answered within ``timeout``. The first reply ends the round at once: the
host answered, the rest of the round could say nothing more. A round with
no reply ends ``timeout`` after its last request. The next round starts
``interval`` after the previous one ended. Verdicts follow the rules of
Verdict.
"""

import concurrent.futures
import functools
import heapq
import itertools
import os
import threading
import time

from oslo_log import log as logging

from tacker_vimmon.common import states

LOG = logging.getLogger(__name__)

# Names are resolved off the scheduler thread (a lookup may take seconds);
# a few threads are plenty, since each name is looked up once a round.
RESOLVER_THREADS = 4


class Verdict:
    """A monitor's status from its rounds, by the thresholds.

    * No status until the first verdict: one answered round, or
      ``failure_threshold`` failed ones.
    * UNREACHABLE after ``failure_threshold`` consecutive failed rounds.
    * REACHABLE again after ``recovery_threshold`` consecutive answered
      rounds, so that a host answering once in a long outage does not
      flap; the first verdict needs only one.
    """

    def __init__(self, failure_threshold, recovery_threshold=1):
        self.failure_threshold = failure_threshold
        self.recovery_threshold = recovery_threshold
        self.status = None
        self._failures = 0
        self._successes = 0

    def observe(self, answered):
        """Count one round; True when the status changed."""
        before = self.status
        if answered:
            self._failures = 0
            self._successes += 1
            if (self.status is None
                    or self._successes >= self.recovery_threshold):
                self.status = states.REACHABLE
        else:
            self._successes = 0
            self._failures += 1
            if self._failures >= self.failure_threshold:
                self.status = states.UNREACHABLE
        return self.status != before


class ProblemLog:
    """Why probing does not work, logged when it starts and when it ends.

    Not every round: a host that does not resolve would fill the log.
    The host only: an auth_url may carry more than it should.
    """

    def __init__(self, host):
        self._host = host
        self._last = None

    def note(self, problem):
        problem = str(problem) if problem else None
        if problem and problem != self._last:
            LOG.warning('Probing %(host)s: %(problem)s',
                        {'host': self._host, 'problem': problem})
        elif not problem and self._last:
            LOG.info('Probing %s works again', self._host)
        self._last = problem


class Monitor:
    """One monitor's probing in the engine; made by Engine.add().

    ``status`` is its verdict (None until the first); ``signal`` is set
    whenever it changes. Everything else belongs to the engine and is
    changed only under its lock.
    """

    def __init__(self, where, settings, signal):
        self.where = where
        self.settings = settings
        self.signal = signal
        self.verdict = Verdict(settings.failure_threshold,
                               getattr(settings, 'recovery_threshold', 1))
        self.problems = ProblemLog(where.host)
        self.stopped = False
        self.round = 0
        self.in_round = False
        self.destination = None
        self.sent = 0
        self.sent_at = {}
        self.round_problem = None

    @property
    def status(self):
        return self.verdict.status


class Engine:
    """Probes every monitor of the process from one scheduler thread.

    :param prober: the process's Prober (destination, send, forget)
    :param clock: monotonic time; the replies' times come from the prober
    """

    def __init__(self, prober, clock=time.monotonic, start=True):
        self._prober = prober
        self._clock = clock
        self._lock = threading.Condition()
        self._heap = []
        self._order = itertools.count()
        self._closed = False
        self._resolver = concurrent.futures.ThreadPoolExecutor(
            RESOLVER_THREADS, thread_name_prefix='tacker-vimmon-resolve')
        self._thread = None
        if start:
            self._thread = threading.Thread(
                target=self._run, name='tacker-vimmon-probing',
                daemon=True)
            self._thread.start()
            LOG.info('Probing engine started (pid %d)', os.getpid())

    def add(self, where, settings, signal):
        """Start probing where (a ProbeTarget); its first round is now.

        :param settings: loop.ProbeSettings
        :param signal: threading.Event set whenever the verdict changes
        :returns: the Monitor, for remove()
        """
        monitor = Monitor(where, settings, signal)
        with self._lock:
            self._at(self._clock(), self._start_round, monitor)
        return monitor

    def remove(self, monitor):
        """Stop probing for monitor; what is still scheduled is dropped."""
        with self._lock:
            monitor.stopped = True
            self._end_requests(monitor)

    def close(self):
        with self._lock:
            self._closed = True
            self._lock.notify()
        if self._thread is not None:
            self._thread.join(5)
        self._resolver.shutdown(wait=False)

    def abandon(self):
        """Drop an engine made before a fork: its threads are not here."""
        self._closed = True

    # The scheduler. Callbacks run under the lock, and are short: a send
    # does not block (the sockets are non-blocking).

    def _at(self, when, callback, *args):
        order = next(self._order)
        heapq.heappush(self._heap, (when, order, callback, args))
        if self._heap[0][1] == order:
            # A new earliest entry: the scheduler may sleep past it.
            self._lock.notify()

    def _run(self):
        with self._lock:
            while not self._closed:
                self.run_due()
                timeout = (self._heap[0][0] - self._clock()
                           if self._heap else None)
                if timeout is None or timeout > 0:
                    self._lock.wait(timeout)

    def run_due(self):
        """Run every callback due by now (the scheduler's step)."""
        with self._lock:
            now = self._clock()
            while self._heap and self._heap[0][0] <= now:
                _when, _order, callback, args = heapq.heappop(self._heap)
                try:
                    callback(*args)
                except Exception:
                    # The thread must live on: without it no monitor of
                    # this process would probe again. The monitor whose
                    # step failed starts over at its next round.
                    LOG.exception('Probing step %s failed',
                                  callback.__name__)
                    self._restart(args[0], now)

    def _restart(self, monitor, now):
        if monitor.stopped:
            return
        monitor.in_round = False
        monitor.round += 1  # drops whatever the failed round scheduled
        self._end_requests(monitor)
        self._at(now + monitor.settings.interval, self._start_round,
                 monitor)

    def next_due(self):
        """When the earliest callback is due (None when nothing is)."""
        with self._lock:
            return self._heap[0][0] if self._heap else None

    def _start_round(self, monitor):
        if monitor.stopped:
            return
        if monitor.where.is_address():
            self._begin(monitor, monitor.where.host)
        else:
            self._resolver.submit(self._resolve, monitor)

    def _resolve(self, monitor):
        # On a resolver thread: the lookup may take seconds.
        try:
            address = monitor.where.resolve()[0]
        except Exception as error:
            # Whatever failed, the round must end, or the monitor would
            # never probe again.
            address, problem = None, error
        else:
            problem = None
        with self._lock:
            if monitor.stopped:
                return
            if address is None:
                monitor.round_problem = problem
                self._end_round(monitor, answered=False)
            else:
                self._begin(monitor, address)

    def _begin(self, monitor, address):
        monitor.round += 1
        monitor.in_round = True
        monitor.sent = 0
        monitor.round_problem = None
        try:
            monitor.destination = self._prober.destination(address)
        except OSError as error:
            monitor.round_problem = error.strerror or str(error)
            self._end_round(monitor, answered=False)
            return
        self._send(monitor, monitor.round)

    def _send(self, monitor, round_number):
        if monitor.stopped or monitor.round != round_number:
            return
        if not monitor.in_round:
            return
        now = self._clock()
        monitor.sent += 1
        try:
            key = self._prober.send(monitor.destination, functools.partial(
                self._answered, monitor, round_number))
        except OSError as error:
            monitor.round_problem = error.strerror or str(error)
        else:
            monitor.sent_at[key] = now
        settings = monitor.settings
        if monitor.sent < settings.count:
            self._at(now + settings.interval, self._send, monitor,
                     round_number)
        elif monitor.sent_at:
            self._at(now + settings.timeout, self._timed_out, monitor,
                     round_number)
        else:
            # Nothing left: no reply can come.
            self._end_round(monitor, answered=False)

    def _answered(self, monitor, round_number, key, now):
        # On the prober's receive thread.
        with self._lock:
            if (monitor.stopped or monitor.round != round_number
                    or not monitor.in_round):
                return
            sent = monitor.sent_at.get(key)
            if sent is None or now - sent > monitor.settings.timeout:
                return
            self._end_round(monitor, answered=True, now=now)

    def _timed_out(self, monitor, round_number):
        if (monitor.stopped or monitor.round != round_number
                or not monitor.in_round):
            return
        self._end_round(monitor, answered=False)

    def _end_round(self, monitor, answered, now=None):
        monitor.in_round = False
        self._end_requests(monitor)
        monitor.problems.note(monitor.round_problem)
        if monitor.verdict.observe(answered):
            monitor.signal.set()
        # From the reply's own time when there is one: the scheduler's
        # clock may not have moved since it slept.
        now = self._clock() if now is None else now
        self._at(now + monitor.settings.interval, self._start_round,
                 monitor)

    def _end_requests(self, monitor):
        if monitor.sent_at:
            self._prober.forget(list(monitor.sent_at))
            monitor.sent_at = {}


_engine_lock = threading.Lock()
_engine = None
_engine_pid = None


def get_engine(prober):
    """This process's Engine, made on first use and after a fork.

    :param prober: the process's Prober (made before, so that a process
        without ICMP fails there, with the reason)
    """
    global _engine, _engine_pid
    with _engine_lock:
        if _engine is not None and _engine_pid != os.getpid():
            _engine.abandon()
            _engine = None
        if _engine is None:
            _engine = Engine(prober)
            _engine_pid = os.getpid()
        return _engine
