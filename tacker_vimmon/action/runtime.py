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

"""What every monitor in one Mistral executor process shares.

The configuration (tacker-vimmon's own file, never Mistral's), the RPC
transport to the conductors, the ICMP prober, the probing engine and the
wake-up listener exist once per process, however many monitors it runs,
and are made again in a child after a fork (their threads and connections
do not survive one).
"""

import os
import threading
import time

from oslo_config import cfg
from oslo_log import log as logging
import oslo_messaging as messaging

from tacker_vimmon.action import checkins
from tacker_vimmon.action import engine as probing_engine
from tacker_vimmon.action import heartbeat
from tacker_vimmon.action import loop
from tacker_vimmon.action import options
from tacker_vimmon.action import prober
from tacker_vimmon.action import wakeup
from tacker_vimmon.common import context as vimmon_context
from tacker_vimmon.common import exception
from tacker_vimmon.common import rpc
from tacker_vimmon.conductor import rpcapi

LOG = logging.getLogger(__name__)

CONFIG_FILE_ENV = 'TACKER_VIMMON_MONITOR_CONFIG_FILE'
DEFAULT_CONFIG_FILE = '/etc/tacker-vimmon/tacker-vimmon-monitor.conf'
# Before the action had a file of its own it read the services' whole
# configuration, named by this variable; still honoured, with a warning.
LEGACY_CONFIG_FILE_ENV = 'TACKER_VIMMON_CONFIG_FILE'
SEND_RETRIES = 2
# A report is sent this many times, each waiting report_timeout / this
# (but at least MIN_REPORT_TRY seconds) for its answer.
REPORT_ATTEMPTS = 3
MIN_REPORT_TRY = 1.0
# How often, and how far apart, an action that cannot start tries to say
# so before it gives up (1 s, then 2 s between the tries).
FAILURE_REPORT_ATTEMPTS = 3
FIRST_FAILURE_RETRY_DELAY = 1.0
# What a call raises while the broker is away. oslo.messaging 18 wraps
# most of it in MessagingException, but not a failure to open a new pooled
# connection, which comes as kombu's OperationalError (seen with a
# private broker stopped): let through, it would end the monitor's loop.
BROKER_ERRORS = heartbeat.BROKER_ERRORS
# What a conductor older than the method answers (as remote errors).
NOT_SERVED = ('UnsupportedVersion', 'NoSuchMethod')


def _many_refused(error):
    """Whether an update_vims call was refused rather than lost."""
    return isinstance(error, (exception.InvalidRpcCall,
                              messaging.UnsupportedVersion)) or (
        isinstance(error, messaging.RemoteError)
        and error.exc_type in NOT_SERVED)


_lock = threading.Lock()
_runtime = None
_runtime_pid = None


def config_path():
    """The monitor's configuration file, and the variable that named it.

    $TACKER_VIMMON_MONITOR_CONFIG_FILE, else the packaged default path;
    when neither exists, $TACKER_VIMMON_CONFIG_FILE of an executor set up
    before the monitor had a file of its own.
    """
    path = os.environ.get(CONFIG_FILE_ENV)
    if path:
        return path, CONFIG_FILE_ENV
    legacy = os.environ.get(LEGACY_CONFIG_FILE_ENV)
    if legacy and not os.path.isfile(DEFAULT_CONFIG_FILE):
        return legacy, LEGACY_CONFIG_FILE_ENV
    return DEFAULT_CONFIG_FILE, CONFIG_FILE_ENV


def load_config(path=None):
    """The monitor action's configuration, in a ConfigOpts of its own.

    Mistral's executor has its own global configuration, which a library
    it loads must neither read nor change.

    :raises: MonitorConfigNotFound
    """
    env = CONFIG_FILE_ENV
    if path is None:
        path, env = config_path()
    if not os.path.isfile(path):
        raise exception.MonitorConfigNotFound(path=path, env=CONFIG_FILE_ENV)
    if env == LEGACY_CONFIG_FILE_ENV:
        LOG.warning('Monitor actions read %(path)s, named by $%(legacy)s: '
                    'that file holds the services\' secrets. Give the '
                    'executor a tacker-vimmon-monitor.conf of its own and '
                    'name it in $%(env)s.',
                    {'path': path, 'legacy': LEGACY_CONFIG_FILE_ENV,
                     'env': CONFIG_FILE_ENV})
    conf = cfg.ConfigOpts()
    options.register_opts(conf)
    conf([], project='tacker-vimmon', default_config_files=[path],
         default_config_dirs=[], use_env=False)
    return conf


class Runtime:
    """The per-process parts every monitor uses."""

    def __init__(self, conf):
        self.conf = conf
        self.transport = rpc.get_transport_for(conf)
        # Its calls are confirmed by their answers, its heartbeats by the
        # next one: no publisher confirms.
        rpc.unconfirmed_sends(self.transport)
        # Topic and timeout are passed so that the client never falls back
        # to the global configuration (Mistral's, here).
        self.conductor = rpcapi.ConductorAPI(
            topic=conf.conductor.topic, transport=self.transport,
            timeout=conf.vim_monitor.report_timeout)
        # oslo.messaging retries sending forever while the broker is down,
        # which would stop the monitor's probing too; a few retries, then
        # ConductorUnreachable and the loop's own back-off.
        self.conductor.client = self.conductor.client.prepare(
            retry=SEND_RETRIES)
        self.wakeups = wakeup.Listener(self.transport)
        self.context = vimmon_context.get_admin_context()
        self.heartbeat = heartbeat.Heartbeat(self._send_heartbeat)
        slot = conf.vim_monitor.check_in_slot
        self.check_ins = (checkins.CheckIns(slot, send=self.report_many)
                          if slot else None)

    def _send_heartbeat(self, action_ids):
        self.conductor.heartbeat(self.context, action_ids)

    @property
    def prober(self):
        """This process's shared ICMP prober.

        Asked for by each monitor as it starts rather than made with the
        runtime: a monitor that cannot probe still has the transport to say
        so, and one started after the privilege was granted gets a prober.

        :raises: IcmpUnavailable
        """
        return prober.get_prober(self.conf.vim_monitor.icmp_socket)

    @property
    def engine(self):
        """This process's probing engine, on its shared prober.

        :raises: IcmpUnavailable
        """
        return probing_engine.get_engine(self.prober)

    def report_many(self, reports):
        """Send many monitors' reports in one update_vims call.

        Tried as a single report is (see reporter): sending it again is
        only a check-in for each monitor.

        :param reports: mappings of update_vim's arguments
        :returns: the answers, in order
        :raises: ConductorUnreachable; loop.ManyRefused when the
            conductors do not take update_vims (older than 1.5) or refuse
            this call
        """
        return self._call_with_retries(
            lambda timeout: self.conductor.update_vims(
                self.context, reports, timeout=timeout),
            refused=_many_refused)

    def reporter(self, vim_id, action_id):
        """report(status, reason=, details=) for loop.MonitorLoop, through
        the conductors.

        A conductor that dies takes with it the calls it was answering
        (the broker's copy is gone once the driver read it), so a report is
        sent up to REPORT_ATTEMPTS times within report_timeout: another
        conductor answers the next one. Sending it again is harmless: the
        same status again is only a check-in.
        """
        def report(status, **findings):
            return self._call_with_retries(
                lambda timeout: self.conductor.update_vim(
                    self.context, vim_id, status, action_id,
                    timeout=timeout, **findings))
        return report

    def _call_with_retries(self, call, refused=None):
        """call(timeout) until a conductor answers, REPORT_ATTEMPTS tries
        within report_timeout.

        :param refused: refused(error) is true for an error that means
            the conductors do not take this call (loop.ManyRefused)
        :raises: ConductorUnreachable
        """
        per_try = max(MIN_REPORT_TRY, self.conductor.timeout / REPORT_ATTEMPTS)
        for _attempt in range(REPORT_ATTEMPTS):
            try:
                rpc.quiet_replies(self.transport)
                return call(per_try)
            except messaging.MessagingTimeout:
                continue
            except (exception.InvalidRpcCall, *BROKER_ERRORS) as error:
                if refused is not None and refused(error):
                    raise loop.ManyRefused(error)
                if isinstance(error, exception.InvalidRpcCall):
                    raise
                # A remote error too (the conductor's database failed):
                # try again after the monitor's back-off.
                raise loop.ConductorUnreachable(error)
        raise loop.ConductorUnreachable(
            'no conductor answered %d tries of %.1f s'
            % (REPORT_ATTEMPTS, per_try))

    def report_failure(self, vim_id, action_id, reason):
        """Tell a conductor why a monitor could not start; best effort.

        A few tries a few seconds apart: the broker or every conductor may
        be away for a moment, but the executor's thread is not ours to
        hold. When nobody hears it, the VIM's monitor is found silent by
        the reconciler instead.

        :returns: the conductor's answer (the status stored, or
            'bad_action'), or None when no conductor took the report
        """
        delay = FIRST_FAILURE_RETRY_DELAY
        for attempt in range(1, FAILURE_REPORT_ATTEMPTS + 1):
            try:
                return self.conductor.monitor_failed(
                    self.context, vim_id, action_id, reason)
            except (messaging.RemoteError,
                    exception.TackerVimmonException) as error:
                # Refused (a bad call, or a conductor older than 1.2):
                # asking again gets the same answer.
                LOG.warning('The conductor refused the failure report of '
                            'monitor %(action)s of VIM %(vim)s: %(error)s',
                            {'action': action_id, 'vim': vim_id,
                             'error': error})
                return None
            except BROKER_ERRORS as error:
                LOG.warning('Could not tell a conductor that monitor '
                            '%(action)s of VIM %(vim)s cannot start '
                            '(attempt %(attempt)d of %(attempts)d): '
                            '%(error)s',
                            {'action': action_id, 'vim': vim_id,
                             'attempt': attempt,
                             'attempts': FAILURE_REPORT_ATTEMPTS,
                             'error': error})
            if attempt < FAILURE_REPORT_ATTEMPTS:
                time.sleep(delay)
                delay *= 2
        return None


def get_runtime():
    """This process's Runtime, made on first use and again after a fork.

    :raises: MonitorConfigNotFound
    """
    global _runtime, _runtime_pid
    with _lock:
        if _runtime is None or _runtime_pid != os.getpid():
            _runtime = Runtime(load_config())
            _runtime_pid = os.getpid()
        return _runtime

