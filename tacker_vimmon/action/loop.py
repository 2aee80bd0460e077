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

"""The loop of one VIM monitor: watch the verdict, report, check in.

It knows nothing of Mistral, sockets or RPC: it is given the monitor's
verdict (kept by the probing engine, tacker_vimmon.action.engine), a
function that reports to the conductor, and one event that is set when the
verdict changes or a wake-up asks it to check in at once. That keeps the
reporting rules (report on change, periodic check-in, exit on
'bad_action', back-off while the conductor is away) in one small place;
the thread running it does nothing but wait between reports.
"""

import collections
import threading
import time

from oslo_log import log as logging

from tacker_vimmon.common import states

LOG = logging.getLogger(__name__)

# Back-off while the conductor cannot be reached: doubles up to the cap
# (and never beyond check_interval, which bounds how stale we may get).
FIRST_RETRY_DELAY = 1.0
MAX_RETRY_DELAY = 30.0


# Routine check-ins go to the check-in thread only when check_interval is
# at least this many of its slots.
SLOTS_PER_CHECK_INTERVAL = 4


class ConductorUnreachable(Exception):
    """A report could not be delivered; try again later."""


class ManyRefused(Exception):
    """The conductors do not take many reports in one call (older than
    the call, or it was refused): report one at a time."""


# Monitors made before heartbeats (or the recovery threshold, or the API
# check) existed have no such input: they probe ICMP only, as they did.
DEFAULT_HEARTBEAT_INTERVAL = 5.0
DEFAULT_RECOVERY_THRESHOLD = 1
DEFAULT_API_TIMEOUT = 5.0


class ProbeSettings(collections.namedtuple('ProbeSettings', [
        'count', 'interval', 'timeout', 'failure_threshold',
        'check_interval', 'heartbeat_interval', 'recovery_threshold',
        'checks', 'api_interval', 'api_timeout', 'api'],
        defaults=[DEFAULT_HEARTBEAT_INTERVAL, DEFAULT_RECOVERY_THRESHOLD,
                  states.CHECKS_ICMP, 0.0, DEFAULT_API_TIMEOUT, None])):
    """How one monitor probes (the workflow input's ``probe``).

    ``api_interval`` 0 means no API checks; ``api`` is the API check's
    target ({'path', 'verify', 'ca_cert'}, see apicheck.ApiTarget).
    """

    _TYPES = {'count': int, 'interval': float, 'timeout': float,
              'failure_threshold': int, 'check_interval': float,
              'heartbeat_interval': float, 'recovery_threshold': int,
              'api_interval': float, 'api_timeout': float}
    # Numbers that may be 0 (the feature is off).
    _MAY_BE_ZERO = frozenset(['api_interval'])

    @classmethod
    def from_dict(cls, values):
        """Build from workflow input, rejecting what cannot work.

        :raises: ValueError naming the field
        """
        values = dict(cls._field_defaults, **(values or {}))
        missing = sorted(set(cls._fields) - set(values))
        if missing:
            raise ValueError('probe settings lack %s' % ', '.join(missing))
        converted = {}
        for field, kind in cls._TYPES.items():
            converted[field] = cls._number(field, kind, values[field])
        if values['checks'] not in states.STATUS_CHECKS:
            raise ValueError('probe setting checks must be one of %s, not '
                             '%r' % (', '.join(states.STATUS_CHECKS),
                                     values['checks']))
        api = values['api']
        if api is not None and not isinstance(api, dict):
            raise ValueError('probe setting api must be a mapping')
        if values['checks'] != states.CHECKS_ICMP and not (
                api is not None and converted['api_interval']):
            raise ValueError('probe setting checks=%s needs the API check '
                             '(api and api_interval)' % values['checks'])
        return cls(checks=values['checks'], api=api, **converted)

    @classmethod
    def _number(cls, field, kind, value):
        try:
            number = kind(value)
        except (TypeError, ValueError):
            raise ValueError('probe setting %s=%r is not a number'
                             % (field, value))
        if number < 0 or (number == 0 and field not in cls._MAY_BE_ZERO):
            raise ValueError('probe setting %s must be positive, not %r'
                             % (field, value))
        return number


class MonitorLoop:
    """Report one VIM's verdict until the conductor says it is not wanted.

    :param verdict: has ``status``, the monitor's verdict (None until the
        first), and ``reason`` and ``details()``; an engine.Monitor
    :param report: callable(status, reason=, details=) -> the
        conductor's answer (the status it stored, or 'bad_action'); raises
        ConductorUnreachable
    :param settings: ProbeSettings
    :param wakeup: threading.Event, set by the engine when the verdict
        changes and by the fast path to check in at once (for a retired
        monitor)
    :param check_ins: the process's checkins.CheckIns, or None. Once the
        conductor holds the monitor's verdict, its routine check-ins are
        made by that thread, together with other monitors'; the monitor's
        own thread still reports every change and wake-up at once, and
        takes its check-ins back when one fails or is not made a whole
        check_interval after it was due. Not used for a check_interval
        under SLOTS_PER_CHECK_INTERVAL slots.
    """

    def __init__(self, vim_id, action_id, verdict, report, settings,
                 wakeup=None, clock=time.monotonic, check_ins=None):
        self.vim_id = vim_id
        self.action_id = action_id
        self._verdict = verdict
        self._report = report
        self._settings = settings
        self._wakeup = wakeup or threading.Event()
        self._clock = clock
        self._check_ins = check_ins
        self.status = None
        self.reason = None
        self.reported = None
        self._woken = False
        self._last_check_in = None
        self._retry_at = 0.0
        self._retry_delay = FIRST_RETRY_DELAY
        # Held for each report and while status and reason change, by
        # this monitor's thread and the check-in thread: reports go out
        # one at a time, in order, each with a status and its own reason.
        self._lock = threading.Lock()
        # Routine check-ins are the check-in thread's while this is set.
        self._delegated = False
        # Set when the check-in thread heard 'bad_action'.
        self._retired = False
        self._finished = False

    def run(self):
        """Loop until 'bad_action'; return why and in what state it ended."""
        LOG.info('Monitor %(action)s of VIM %(vim)s started',
                 {'action': self.action_id, 'vim': self.vim_id})
        try:
            while not self._retired:
                # Cleared before the verdict is read: a change after the
                # read sets the event again, so none is missed.
                if self._wakeup.is_set():
                    self._wakeup.clear()
                    # Kept until delivered: a wake-up before the first
                    # verdict or during a back-off waits for its check-in.
                    self._woken = True
                with self._lock:
                    self.status = self._verdict.status
                    self.reason = getattr(self._verdict, 'reason', None)
                    # Retired by the check-in thread while this one
                    # waited for the lock: nothing more to do.
                    if self._retired or (
                            self._report_due()
                            and self._deliver() == states.BAD_ACTION):
                        break
                self._delegate_check_ins()
                self._wakeup.wait(self._pause())
        finally:
            with self._lock:
                self._finished = True
        LOG.info('Monitor %(action)s of VIM %(vim)s is no longer wanted; '
                 'exiting', {'action': self.action_id, 'vim': self.vim_id})
        return {'vim_id': self.vim_id, 'action_id': self.action_id,
                'exit_reason': states.BAD_ACTION,
                'last_status': self.status}

    def routine_check_in(self, horizon):
        """Check in if due before ``horizon``: called by the check-in thread.

        :returns: when the next check-in is due, or None when this
            monitor's own thread takes its check-ins back (a change to
            report again, 'bad_action', the monitor gone)
        :raises: ConductorUnreachable, once the check-ins are taken back
        """
        claim = self.claim_check_in(horizon)
        if not isinstance(claim, CheckIn):
            return claim
        try:
            answer = self._report(self.status, **self._findings())
        except ConductorUnreachable as error:
            claim.failed(error)
            raise
        return claim.answered(answer)

    def claim_check_in(self, horizon):
        """Take this monitor's routine check-in, if due before ``horizon``.

        :returns: a CheckIn, holding this monitor's lock (so that its own
            thread reports nothing meanwhile) until it is answered or has
            failed; else what routine_check_in returns: when the next one
            is due, or None
        """
        self._lock.acquire()
        if self._finished or not self._by_check_in_thread():
            self._delegated = False
            self._lock.release()
            return None
        due = self._check_in_due()
        if due >= horizon or self._wakeup.is_set():
            # Checked in meanwhile, or a change or wake-up that this
            # monitor's thread is about to report.
            self._lock.release()
            return due
        return CheckIn(self)

    def _check_in_answered(self, answer):
        """The conductor's answer to a claimed check-in; lock held."""
        try:
            self._woken = False
            self._answered(answer)
            if answer == states.BAD_ACTION:
                self._retired = True
            if self._retired or not self._by_check_in_thread():
                self.take_back()
                return None
            return self._check_in_due()
        finally:
            self._lock.release()

    def _check_in_not_made(self, error=None, quiet=False):
        """A claimed check-in was not delivered (error: back off first) or
        not sent; lock held. This monitor's own thread makes them again."""
        try:
            if error is not None:
                self._back_off(error, quiet)
            self.take_back()
        finally:
            self._lock.release()

    def take_back(self):
        """This monitor's own thread makes its check-ins again (soon)."""
        self._delegated = False
        self._wakeup.set()

    def _delegate_check_ins(self):
        """Give routine check-ins to the check-in thread once the conductor
        holds this verdict (and no back-off is on)."""
        if self._check_ins is None or (
                self._check_ins.slot * SLOTS_PER_CHECK_INTERVAL
                > self._settings.check_interval):
            # Passes that far apart would make check-ins late.
            return
        with self._lock:
            if self._delegated or self._retired or not (
                    self._last_check_in is not None and not self._retry_at
                    and self._current() == self.reported):
                return
            self._delegated = True
            due = self._check_in_due()
        self._check_ins.add(self, due)

    def _by_check_in_thread(self):
        return self._delegated and self._current() == self.reported

    def _pause(self):
        """Seconds until a report is due, barring a change or a wake-up."""
        if self.status is None:
            # Nothing to report until the engine's first verdict.
            return self._settings.check_interval
        due = self._retry_at
        if self._last_check_in is not None:
            # A conductor that stored something else hears it again, but
            # paced by the probe interval, as the rounds once paced it.
            due = max(due, self._own_check_in_due()
                      if self._current() == self.reported
                      else self._last_check_in + self._settings.interval)
        return max(0.0, due - self._clock())

    def _check_in_due(self):
        return self._last_check_in + self._settings.check_interval

    def _own_check_in_due(self):
        """When this thread makes the next routine check-in itself: when
        due, or, while the check-in thread has them, a whole check_interval
        later (that thread is stuck or gone)."""
        due = self._check_in_due()
        if self._by_check_in_thread():
            due += self._settings.check_interval
        return due

    def _report_due(self):
        if self.status is None:
            # No verdict yet (the first rounds failed, but fewer than the
            # threshold): nothing true to report. A wake-up waits for it.
            return False
        now = self._clock()
        if now < self._retry_at:
            return False
        return (self._woken
                or self._current() != self.reported
                or self._last_check_in is None
                or now >= self._own_check_in_due())

    def _current(self):
        return (self.status, self.reason)

    def _deliver(self):
        """The conductor's answer, or None when none came (backing off)."""
        try:
            return self._call()
        except ConductorUnreachable as error:
            self._back_off(error)
            return None

    def _call(self):
        self._woken = False
        answer = self._report(self.status, **self._findings())
        self._answered(answer)
        return answer

    def _answered(self, answer):
        self._retry_delay = FIRST_RETRY_DELAY
        self._retry_at = 0.0
        self._last_check_in = self._clock()
        if answer != states.BAD_ACTION:
            self.reported = (answer,
                             self.reason if answer == self.status else None)

    def check_in_report(self):
        """This monitor's report as update_vims takes it (a mapping of
        update_vim's arguments)."""
        report = {'vim_id': self.vim_id, 'action_id': self.action_id,
                  'status': self.status}
        findings = self._findings()
        if findings:
            report.update(reason=findings['reason'],
                          details=findings['details'] or {})
        return report

    def _findings(self):
        """The reason and what the checks saw, when the verdict has them."""
        if self.reason is None:
            return {}
        return {'reason': self.reason, 'details': self._verdict.details()}

    def _back_off(self, error, quiet=False):
        delay = min(self._retry_delay, MAX_RETRY_DELAY,
                    self._settings.check_interval)
        # Quiet for all but one of the monitors of a failed update_vims.
        (LOG.debug if quiet else LOG.warning)(
            'Monitor %(action)s of VIM %(vim)s cannot reach the conductor '
            '(%(error)s); retrying in %(delay).1f s',
            {'action': self.action_id, 'vim': self.vim_id, 'error': error,
             'delay': delay})
        self._retry_at = self._clock() + delay
        self._retry_delay = min(self._retry_delay * 2, MAX_RETRY_DELAY)


class CheckIn:
    """A monitor's routine check-in, claimed by the check-in thread.

    It holds the monitor's lock from claim_check_in until ``answered`` or
    ``failed`` is called, exactly once, by the thread that claimed it.
    """

    def __init__(self, monitor):
        self.monitor = monitor

    def report(self):
        """What to send: a mapping of update_vim's arguments."""
        return self.monitor.check_in_report()

    def answered(self, answer):
        """The conductor's answer came: when the next check-in is due, or
        None when the monitor's own thread takes them back."""
        return self.monitor._check_in_answered(answer)

    def failed(self, error, quiet=False):
        """It could not be delivered: the monitor backs off and makes its
        check-ins itself again.

        :param quiet: log the back-off at debug level only (one of many
            that failed together)
        """
        self.monitor._check_in_not_made(error, quiet)

    def give_back(self):
        """Not sent: the monitor's own thread makes it, at once."""
        self.monitor._check_in_not_made()
