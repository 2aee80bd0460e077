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
no reply ends ``timeout`` after its last request. Rounds start one round
length (``count`` x ``interval``) apart, or when the previous one ended if
that is later: a host that answers costs one echo request per round, not
one per interval. Verdicts follow the rules of Verdict; round_length and
detection_window give the timing as formulas of the settings.

Beside the echo rounds, a monitor whose settings ask for it has API
checks (tacker_vimmon.action.apicheck: TCP, TLS, an HTTP GET), every
``api_interval`` seconds, run by the process's one ApiChecker thread. Each
check has a verdict of its own, by the same thresholds; ``decide`` makes
the monitor's status and reason from the two, as ``checks`` says.
"""

import concurrent.futures
import functools
import heapq
import itertools
import os
import random
import threading
import time

from oslo_log import log as logging

from tacker_vimmon.action import apicheck
from tacker_vimmon.action import outcome
from tacker_vimmon.action import prober as icmp_prober
from tacker_vimmon.common import states
from tacker_vimmon.common import threads

LOG = logging.getLogger(__name__)

# Names are resolved off the scheduler thread (a lookup may take seconds);
# a few threads are plenty, since each name is looked up once a round.
RESOLVER_THREADS = 4
# The spread of the pause between two API checks of a monitor.
API_JITTER = 0.1
# The scheduler's kernel thread name (common/threads.py).
PROBING_THREAD = 'tvm-probing'

# What a scheduled step does. The heap holds plain numbers only, (when,
# order, step, monitor key, round or generation), never a callback and its
# arguments: at 2,000 monitors a thousand steps a second wait a second or
# more, and tuples of numbers are what the garbage collector stops
# tracking, where bound methods and argument tuples would be promoted to
# its oldest generation and make each full collection come sooner.
STEP_START_ROUND, STEP_SEND, STEP_TIMED_OUT, STEP_START_API = range(4)


class Verdict:
    """A monitor's status from its rounds, by the thresholds.

    * No status until the first verdict: one answered round, or
      ``failure_threshold`` failed ones.
    * UNREACHABLE after ``failure_threshold`` consecutive failed rounds.
    * REACHABLE again after ``recovery_threshold`` consecutive answered
      rounds, so that a host answering once in a long outage does not
      flap; the first verdict needs only one.

    The reason is ``ok`` while REACHABLE, and the last failed round's
    while UNREACHABLE.
    """

    def __init__(self, failure_threshold, recovery_threshold=1):
        self.failure_threshold = failure_threshold
        self.recovery_threshold = recovery_threshold
        self.status = None
        self.reason = None
        self.detail = None
        self._failures = 0
        self._successes = 0

    def observe(self, answered, reason=states.REASON_TIMEOUT, detail=None):
        """Count one round; True when the status or reason changed."""
        before = (self.status, self.reason)
        if answered:
            self._failures = 0
            self._successes += 1
            if (self.status is None
                    or self._successes >= self.recovery_threshold):
                self.status = states.REACHABLE
                self.reason, self.detail = states.REASON_OK, None
        else:
            self._successes = 0
            self._failures += 1
            if self._failures >= self.failure_threshold:
                self.status = states.UNREACHABLE
                self.reason, self.detail = reason, detail
        return (self.status, self.reason) != before

    @property
    def confirming(self):
        """A failure is counting towards the threshold, not there yet."""
        return self._failures > 0 and self.status != states.UNREACHABLE


def decide(checks, icmp, api, icmp_blocked=False):
    """(status, reason, detail) of a monitor from its checks' verdicts.

    :param checks: states.CHECKS_ICMP, CHECKS_API or CHECKS_BOTH
    :param icmp: the echo rounds' Verdict
    :param api: the API checks' Verdict, or None without API checks
    :param icmp_blocked: the API answered in a check that started after
        ICMP stopped answering (once its current run of failed rounds
        began; or ICMP never answered): ICMP is filtered, not the host
        down

    With ``both``, the API decides, and a failing ICMP makes the VIM
    UNREACHABLE only while it cannot be told from a host that went down
    (ICMP answered more recently than the API). There is no status before
    the API's first verdict, so that a VIM whose API fails does not show
    REACHABLE for a moment first.
    """
    if checks == states.CHECKS_ICMP or api is None:
        return icmp.status, icmp.reason, icmp.detail
    if api.status is None:
        return None, None, None
    if checks == states.CHECKS_API or api.status == states.UNREACHABLE:
        if (api.status == states.UNREACHABLE
                and icmp.status == states.UNREACHABLE
                and checks == states.CHECKS_BOTH
                and icmp.reason != states.REASON_TIMEOUT):
            # The more telling reason: no route, or no such name.
            return icmp.status, icmp.reason, icmp.detail
        return api.status, api.reason, api.detail
    if icmp.status == states.UNREACHABLE:
        if icmp_blocked:
            return (states.REACHABLE, states.REASON_ICMP_BLOCKED,
                    'the API answers; ICMP echo does not')
        return icmp.status, icmp.reason, icmp.detail
    return api.status, api.reason, api.detail


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

    def __init__(self, where, settings, signal, api_target=None):
        self.where = where
        # The engine's name for it in scheduled steps (Engine._at).
        self.key = None
        # Parsed once: an address needs no lookup, ever.
        self.address = where.host if where.is_address() else None
        self.settings = settings
        self.signal = signal
        recovery = getattr(settings, 'recovery_threshold', 1)
        self.verdict = Verdict(settings.failure_threshold, recovery)
        self.problems = ProblemLog(where.host)
        self.stopped = False
        self.round = 0
        self.round_started = None
        self.in_round = False
        self.destination = None
        self.destination_of = None
        self.sent = 0
        self.sent_at = {}
        self.round_problem = None
        self.rtt = None
        self.last_answer_at = None
        # When the first failed round of the current run of failures
        # started (None while ICMP answers).
        self.icmp_failing_since = None
        self.checks = getattr(settings, 'checks', states.CHECKS_ICMP)
        self.api = (ApiState(api_target, Verdict(settings.failure_threshold,
                                                 recovery))
                    if api_target is not None else None)
        self.status = self.reason = self.detail = None

    def decide(self):
        """Update status and reason from the checks; True if changed."""
        before = (self.status, self.reason)
        api = self.api
        # Only a check started after ICMP stopped answering tells: one
        # that answered between the host's last echo reply and its going
        # down would otherwise make a dead host "ICMP blocked".
        blocked = api is not None and api.answered_started is not None and (
            self.last_answer_at is None
            or (self.icmp_failing_since is not None
                and api.answered_started >= self.icmp_failing_since))
        self.status, self.reason, self.detail = decide(
            self.checks, self.verdict, api.verdict if api else None,
            icmp_blocked=blocked)
        return (self.status, self.reason) != before

    def details(self):
        """What the checks saw, for the report (plain JSON values)."""
        checks = {'icmp': _check_view(self.verdict, self.rtt)}
        rtt = checks['icmp']['rtt']
        if self.api is not None:
            last = self.api.last
            view = _check_view(self.api.verdict,
                               last.rtt if last is not None else None)
            if last is not None:
                view.update(last.extra or {})
            checks['api'] = view
            if rtt is None:
                rtt = view['rtt']
        return {'rtt': rtt, 'detail': self.detail, 'checks': checks}


def _check_view(verdict, rtt):
    return {'status': verdict.status, 'reason': verdict.reason,
            'detail': verdict.detail,
            'rtt': round(rtt, 6) if rtt is not None else None}


class ApiState:
    """A monitor's API checks: the target, the verdict, the last result."""

    def __init__(self, target, verdict):
        self.target = target
        self.verdict = verdict
        # Bumped for every round started or scheduled: a scheduled start
        # or a result of another generation is stale.
        self.generation = 0
        self.in_round = False
        self.started = None
        self.last = None
        # When the last check the API answered started.
        self.answered_started = None


class Engine:
    """Probes every monitor of the process from one scheduler thread.

    :param prober: the process's Prober (destination, send, forget)
    :param clock: monotonic time; the replies' times come from the prober
    """

    def __init__(self, prober, clock=time.monotonic, start=True,
                 checker=None):
        self._prober = prober
        # The prober's receive thread hands over each batch of replies
        # under one acquisition of this engine's lock.
        prober.deliver = self._deliver_replies
        self._checker = checker
        self._clock = clock
        self._lock = threading.Condition()
        self._heap = []
        self._monitors = {}
        self._keys = itertools.count()
        self._steps = (self._start_round, self._send, self._timed_out,
                       self._start_api_round)
        # When the step being run was due (run_due).
        self._due = None
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
        api_target = api_target_of(where, settings)
        monitor = Monitor(where, settings, signal, api_target)
        with self._lock:
            monitor.key = next(self._keys)
            self._monitors[monitor.key] = monitor
            now = self._clock()
            self._at(now, STEP_START_ROUND, monitor)
            if monitor.api is not None:
                self._schedule_api(monitor, now)
        return monitor

    def remove(self, monitor):
        """Stop probing for monitor; what is still scheduled is dropped."""
        with self._lock:
            monitor.stopped = True
            self._monitors.pop(monitor.key, None)
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

    def _at(self, when, step, monitor, number=0):
        """Run step (STEP_*) for monitor at when; number is its round or
        API generation."""
        order = next(self._order)
        heapq.heappush(self._heap, (when, order, step, monitor.key, number))
        if self._heap[0][1] == order:
            # A new earliest entry: the scheduler may sleep past it.
            self._lock.notify()

    def _run(self):
        threads.name_this_thread(PROBING_THREAD)
        with self._lock:
            while not self._closed:
                began = self._clock()
                self.run_due()
                if not self._heap:
                    self._lock.wait()
                    continue
                # In passes (prober.PASS_INTERVAL): 2,000 monitors have some
                # step due every fraction of a millisecond, and a wake-up
                # for each would cost more than the steps. A step is thus
                # up to a pass late, never early; the steps after it are
                # due from when it was due, not from when it ran, so
                # lateness does not add up over a round.
                wake_at = max(self._heap[0][0],
                              began + icmp_prober.PASS_INTERVAL)
                timeout = wake_at - self._clock()
                if timeout > 0:
                    self._lock.wait(timeout)

    def run_due(self):
        """Run every callback due by now (the scheduler's step)."""
        with self._lock:
            now = self._clock()
            while self._heap and self._heap[0][0] <= now:
                when, _order, step, key, number = heapq.heappop(self._heap)
                monitor = self._monitors.get(key)
                if monitor is None:
                    continue  # removed
                self._due = when
                try:
                    self._steps[step](monitor, number)
                except Exception:
                    # The thread must live on: without it no monitor of
                    # this process would probe again. The monitor whose
                    # step failed starts over at its next round.
                    LOG.exception('Probing step %s failed',
                                  self._steps[step].__name__)
                    if step == STEP_START_API:
                        self._restart_api(monitor, now)
                    else:
                        self._restart(monitor, now)

    def _restart(self, monitor, now):
        if monitor.stopped:
            return
        monitor.in_round = False
        monitor.round += 1  # drops whatever the failed round scheduled
        self._end_requests(monitor)
        self._at(now + round_length(monitor.settings), STEP_START_ROUND,
                 monitor)

    def next_due(self):
        """When the earliest callback is due (None when nothing is)."""
        with self._lock:
            return self._heap[0][0] if self._heap else None

    def _start_round(self, monitor, _number=0):
        if monitor.stopped:
            return
        monitor.round_started = self._due
        if monitor.address is not None:
            self._begin(monitor, monitor.address, self._due)
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
                monitor.round_problem = outcome.CheckResult(
                    False, states.REASON_DNS_FAILURE, str(problem))
                self._end_round(monitor, answered=False)
            else:
                self._begin(monitor, address, self._clock())

    def _begin(self, monitor, address, due):
        monitor.round += 1
        monitor.in_round = True
        monitor.sent = 0
        monitor.round_problem = None
        try:
            if (monitor.destination is None
                    or monitor.destination_of != address):
                monitor.destination = self._prober.destination(address)
                monitor.destination_of = address
        except OSError as error:
            monitor.round_problem = outcome.failed(error)
            self._end_round(monitor, answered=False)
            return
        self._send(monitor, monitor.round, due)

    def _send(self, monitor, round_number, due=None):
        """Send the round's next request, due at due (the step's own due
        time when run from the heap)."""
        if monitor.stopped or monitor.round != round_number:
            return
        if not monitor.in_round:
            return
        now = self._clock()
        due = self._due if due is None else due
        monitor.sent += 1
        try:
            key = self._prober.send(monitor.destination, functools.partial(
                self._answered, monitor, round_number))
        except OSError as error:
            monitor.round_problem = outcome.failed(error)
        else:
            monitor.sent_at[key] = now
        settings = monitor.settings
        # From when this request was due; from now only when the scheduler
        # is more than an interval behind, so that it does not catch up in
        # a burst.
        if monitor.sent < settings.count:
            self._at(max(due + settings.interval, now), STEP_SEND, monitor,
                     round_number)
        elif monitor.sent_at:
            self._at(max(due + settings.timeout, now), STEP_TIMED_OUT,
                     monitor, round_number)
        else:
            # Nothing left: no reply can come.
            self._end_round(monitor, answered=False)

    def _deliver_replies(self, replies):
        # On the prober's receive thread; _answered takes the lock again,
        # which is re-entrant and so costs little.
        with self._lock:
            for on_reply, key, now in replies:
                on_reply(key, now)

    def _answered(self, monitor, round_number, key, now):
        # On the prober's receive thread.
        with self._lock:
            if (monitor.stopped or monitor.round != round_number
                    or not monitor.in_round):
                return
            sent = monitor.sent_at.get(key)
            if sent is None or now - sent > monitor.settings.timeout:
                return
            # Never below 0: the kernel's clock and ours are read apart.
            monitor.rtt = max(0.0, now - sent)
            monitor.last_answer_at = now
            self._end_round(monitor, answered=True, now=now)

    def _timed_out(self, monitor, round_number):
        if (monitor.stopped or monitor.round != round_number
                or not monitor.in_round):
            return
        # The next round is due from when this one was to end.
        self._end_round(monitor, answered=False, now=self._due)

    def _end_round(self, monitor, answered, now=None):
        monitor.in_round = False
        self._end_requests(monitor)
        problem = monitor.round_problem
        monitor.problems.note(problem.detail if problem else None)
        if answered:
            monitor.icmp_failing_since = None
            monitor.verdict.observe(True)
        else:
            if monitor.icmp_failing_since is None:
                monitor.icmp_failing_since = monitor.round_started
            if problem is None:
                problem = outcome.CheckResult(
                    False, states.REASON_TIMEOUT, 'no echo reply')
            monitor.rtt = None
            before = monitor.verdict.status
            monitor.verdict.observe(False, problem.reason, problem.detail)
            if (monitor.verdict.status == states.UNREACHABLE
                    and before != states.UNREACHABLE):
                # Host down, or ICMP filtered from now on? An API check
                # now tells them apart.
                self._api_round_now(monitor)
        self._changed(monitor)
        # From the reply's own time, or when the round's timeout was due:
        # neither depends on when a pass got to it.
        now = self._clock() if now is None else now
        started = now if monitor.round_started is None else (
            monitor.round_started)
        self._at(max(started + round_length(monitor.settings), now),
                 STEP_START_ROUND, monitor)

    def _changed(self, monitor):
        if monitor.decide():
            monitor.signal.set()

    # The API checks. A round is one check; the next starts api_interval
    # after it ended, or after ``interval`` while a failure is being
    # confirmed (failure_threshold), so that an API that stopped answering
    # is found about as fast as a host that stopped answering ICMP.

    def _schedule_api(self, monitor, when):
        monitor.api.generation += 1
        self._at(when, STEP_START_API, monitor, monitor.api.generation)

    def _api_round_now(self, monitor):
        api = monitor.api
        # Only an API that answered can tell a filter from an outage.
        if (api is not None and not api.in_round
                and api.verdict.status == states.REACHABLE):
            self._schedule_api(monitor, self._clock())

    def _start_api_round(self, monitor, generation):
        api = monitor.api
        if monitor.stopped or generation != api.generation:
            return
        api.in_round = True
        api.started = self._clock()
        if monitor.address is not None:
            self._api_begin(monitor, generation, monitor.address)
        else:
            self._resolver.submit(self._api_resolve, monitor, generation)

    def _api_resolve(self, monitor, generation):
        # On a resolver thread.
        try:
            address, problem = monitor.where.resolve()[0], None
        except Exception as error:
            address, problem = None, error
        with self._lock:
            if monitor.stopped or generation != monitor.api.generation:
                return
            if address is None:
                self._api_result(monitor, outcome.CheckResult(
                    False, states.REASON_DNS_FAILURE, str(problem)))
            else:
                self._api_begin(monitor, generation, address)

    def _api_begin(self, monitor, generation, address):
        self._checker.check(
            address, monitor.api.target, monitor.settings.api_timeout,
            functools.partial(self._api_done, monitor, generation))

    def _api_done(self, monitor, generation, result):
        # On the checker's thread.
        with self._lock:
            if monitor.stopped or generation != monitor.api.generation:
                return
            try:
                self._api_result(monitor, result)
            except Exception:
                LOG.exception('Handling an API check of %s failed',
                              monitor.where.host)
                self._restart_api(monitor, self._clock())

    def _api_result(self, monitor, result):
        api = monitor.api
        api.in_round = False
        api.last = result
        if result.answered:
            api.answered_started = api.started
        api.verdict.observe(result.answered, result.reason, result.detail)
        self._changed(monitor)
        settings = monitor.settings
        if api.verdict.confirming:
            pause = settings.interval
        else:
            # Up to 10 % either way: monitors that started together (an
            # executor's restart) drift apart instead of checking in bursts.
            pause = settings.api_interval * (
                1 + API_JITTER * (2 * random.random() - 1))  # noqa: S311
        self._schedule_api(monitor, self._clock() + pause)

    def _restart_api(self, monitor, now):
        if monitor.stopped:
            return
        monitor.api.in_round = False
        self._schedule_api(monitor, now + monitor.settings.api_interval)

    def _end_requests(self, monitor):
        if monitor.sent_at:
            self._prober.forget(list(monitor.sent_at))
            monitor.sent_at = {}


def round_length(settings):
    """Seconds from the start of one round to the start of the next."""
    return settings.count * settings.interval


def failed_round_length(settings):
    """Seconds a round with no reply lasts: its last request's timeout."""
    return (settings.count - 1) * settings.interval + settings.timeout


def detection_window(settings):
    """(earliest, latest) seconds from a host going down to UNREACHABLE.

    The round under way when the host stopped answering was answered, so
    the first failed round starts up to one round length later; then
    ``failure_threshold`` failed rounds, back to back or one round length
    apart, whichever is longer. Add the report to the conductor and the
    scheduler's pass (prober.PASS_INTERVAL) for what the API shows.
    """
    period = max(round_length(settings), failed_round_length(settings))
    confirming = ((settings.failure_threshold - 1) * period
                  + failed_round_length(settings))
    return confirming, round_length(settings) + confirming


def api_target_of(where, settings):
    """The monitor's ApiTarget, or None when it has no API checks."""
    api = getattr(settings, 'api', None)
    if api is None or not getattr(settings, 'api_interval', 0):
        return None
    return apicheck.ApiTarget.from_settings(where.url, api)


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
            _engine = Engine(prober, checker=apicheck.get_checker())
            _engine_pid = os.getpid()
        return _engine
