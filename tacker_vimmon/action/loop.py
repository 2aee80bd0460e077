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


class ConductorUnreachable(Exception):
    """A report could not be delivered; try again later."""


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
    """

    def __init__(self, vim_id, action_id, verdict, report, settings,
                 wakeup=None, clock=time.monotonic):
        self.vim_id = vim_id
        self.action_id = action_id
        self._verdict = verdict
        self._report = report
        self._settings = settings
        self._wakeup = wakeup or threading.Event()
        self._clock = clock
        self.status = None
        self.reason = None
        self.reported = None
        self._woken = False
        self._last_check_in = None
        self._retry_at = 0.0
        self._retry_delay = FIRST_RETRY_DELAY

    def run(self):
        """Loop until 'bad_action'; return why and in what state it ended."""
        LOG.info('Monitor %(action)s of VIM %(vim)s started',
                 {'action': self.action_id, 'vim': self.vim_id})
        while True:
            # Cleared before the verdict is read: a change after the read
            # sets the event again, so none is missed.
            if self._wakeup.is_set():
                self._wakeup.clear()
                # Kept until delivered: a wake-up before the first verdict
                # or during a back-off waits for its check-in.
                self._woken = True
            self.status = self._verdict.status
            self.reason = getattr(self._verdict, 'reason', None)
            if self._report_due() and self._deliver() == states.BAD_ACTION:
                LOG.info('Monitor %(action)s of VIM %(vim)s is no longer '
                         'wanted; exiting', {'action': self.action_id,
                                             'vim': self.vim_id})
                return {'vim_id': self.vim_id, 'action_id': self.action_id,
                        'exit_reason': states.BAD_ACTION,
                        'last_status': self.status}
            self._wakeup.wait(self._pause())

    def _pause(self):
        """Seconds until a report is due, barring a change or a wake-up."""
        if self.status is None:
            # Nothing to report until the engine's first verdict.
            return self._settings.check_interval
        due = self._retry_at
        if self._last_check_in is not None:
            # A conductor that stored something else hears it again, but
            # paced by the probe interval, as the rounds once paced it.
            wait = (self._settings.check_interval
                    if self._current() == self.reported
                    else self._settings.interval)
            due = max(due, self._last_check_in + wait)
        return max(0.0, due - self._clock())

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
                or now - self._last_check_in >= self._settings.check_interval)

    def _current(self):
        return (self.status, self.reason)

    def _deliver(self):
        self._woken = False
        try:
            answer = self._report(self.status, **self._findings())
        except ConductorUnreachable as error:
            self._back_off(error)
            return None
        self._retry_delay = FIRST_RETRY_DELAY
        self._retry_at = 0.0
        self._last_check_in = self._clock()
        if answer != states.BAD_ACTION:
            self.reported = (answer,
                             self.reason if answer == self.status else None)
        return answer

    def _findings(self):
        """The reason and what the checks saw, when the verdict has them."""
        if self.reason is None:
            return {}
        return {'reason': self.reason, 'details': self._verdict.details()}

    def _back_off(self, error):
        delay = min(self._retry_delay, MAX_RETRY_DELAY,
                    self._settings.check_interval)
        LOG.warning('Monitor %(action)s of VIM %(vim)s cannot reach the '
                    'conductor (%(error)s); retrying in %(delay).1f s',
                    {'action': self.action_id, 'vim': self.vim_id,
                     'error': error, 'delay': delay})
        self._retry_at = self._clock() + delay
        self._retry_delay = min(self._retry_delay * 2, MAX_RETRY_DELAY)
