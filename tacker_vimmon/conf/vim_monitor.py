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

"""The [vim_monitor] group: whether VIMs get monitors, and how they probe.

These settings are read by the API server and the conductors' reconciler
and given to each new monitor as its workflow input. The monitor action's
own settings (the kind of ICMP socket, the report timeout) are in its own
file, read inside Mistral's executor: see tacker_vimmon.action.options.
"""

from oslo_config import cfg

from tacker_vimmon.common import states
from tacker_vimmon.i18n import _

GROUP = cfg.OptGroup(
    'vim_monitor', title='VIM monitor',
    help=_('Whether each VIM gets a monitor, and how it probes.'))

vim_monitor_opts = [
    cfg.BoolOpt(
        'enabled', default=True,
        help=_('Give every registered VIM a monitor in Mistral (read by '
               'the API server and the conductors\' reconciler). With '
               'False the service is a registry only: VIMs stay PENDING '
               'and [mistral] need not be set.')),
    cfg.IntOpt(
        'check_interval', default=60, min=1,
        help=_('Seconds between check-ins of a monitor with the conductor '
               'when the status does not change. A deregistered or '
               'replaced monitor exits at its next check-in at the '
               'latest, so this bounds how long it lingers.')),
    cfg.FloatOpt(
        'heartbeat_interval', default=5.0, min=1.0,
        help=_('Seconds between the heartbeats each Mistral executor '
               'process sends to the conductors, naming every monitor it '
               'runs. A monitor not heard from for [reconciler] '
               'silent_after seconds is shown UNKNOWN and repaired, so that '
               'window must be more than twice this.')),
    cfg.IntOpt(
        'probe_count', default=3, min=1, max=100,
        help=_('ICMP echo requests sent per probe round. A round succeeds '
               'when any of them is answered, and sends no more after the '
               'first reply.')),
    cfg.FloatOpt(
        'probe_interval', default=1.0, min=0.01,
        help=_('Seconds between the echo requests of one round. Rounds '
               'start probe_count x probe_interval seconds apart (later '
               'when a round without a reply lasts longer), so a host that '
               'answers gets one request per round.')),
    cfg.FloatOpt(
        'probe_timeout', default=1.0, min=0.01,
        help=_('Seconds to wait for the reply to each echo request.')),
    cfg.IntOpt(
        'failure_threshold', default=2, min=1,
        help=_('Consecutive failed probe rounds before a VIM is reported '
               'UNREACHABLE, so that one lost packet does not flip it.')),
    cfg.IntOpt(
        'recovery_threshold', default=1, min=1,
        help=_('Consecutive answered probe rounds before an UNREACHABLE '
               'VIM is reported REACHABLE again, so that a host answering '
               'once during a long outage does not flap. A new monitor\'s '
               'first verdict needs one answered round.')),
    cfg.StrOpt(
        'status_checks', default=states.CHECKS_BOTH, choices=[
            (states.CHECKS_BOTH, _(
                'ICMP and the API check: the API decides once checked; a '
                'host whose ICMP stops answering is UNREACHABLE at once '
                'unless a new API check answers (then REACHABLE, reason '
                'icmp_blocked)')),
            (states.CHECKS_ICMP, _('ICMP echo only (the API check, if on, '
                                   'is shown but decides nothing)')),
            (states.CHECKS_API, _('the API check only (ICMP is shown but '
                                  'decides nothing)'))],
        help=_('Which checks decide a VIM\'s status. "both" is the '
               'default: it keeps ICMP\'s fast detection of a host that '
               'goes down, tells a VIM whose API is down or refuses TLS '
               'from one that works, and keeps VIMs behind networks that '
               'drop ICMP REACHABLE.')),
    cfg.FloatOpt(
        'api_check_interval', default=30.0, min=0.0,
        help=_('Seconds between two API checks of a VIM (TCP connect, TLS '
               'handshake for https, an HTTP GET of the API\'s version '
               'document, without credentials). A failed check is '
               'repeated after probe_interval until failure_threshold '
               'checks failed in a row. 0 turns the API check off; '
               'status_checks must then be "icmp".')),
    cfg.FloatOpt(
        'api_check_timeout', default=5.0, min=0.1,
        help=_('Seconds one API check may take, from the TCP connect to '
               'the HTTP status line.')),
]


def register_opts(conf):
    conf.register_group(GROUP)
    conf.register_opts(vim_monitor_opts, group=GROUP)


def list_opts():
    return {GROUP: vim_monitor_opts}


def probe_input(conf, api=None):
    """The probe settings a new monitor gets as its workflow input.

    :param api: the VIM's API check target ({'path', 'verify',
        'ca_cert'}); without it (or with the API check off) the monitor
        probes ICMP only
    """
    group = conf[GROUP.name]
    probe = {'checks': states.CHECKS_ICMP}
    if api is not None and group.api_check_interval:
        probe = {'checks': group.status_checks, 'api': api,
                 'api_interval': group.api_check_interval,
                 'api_timeout': group.api_check_timeout}
    probe.update(count=group.probe_count,
                 interval=group.probe_interval,
                 timeout=group.probe_timeout,
                 failure_threshold=group.failure_threshold,
                 recovery_threshold=group.recovery_threshold,
                 check_interval=group.check_interval,
                 heartbeat_interval=group.heartbeat_interval)
    return probe
