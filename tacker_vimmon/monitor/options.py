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

"""The monitor action's options, defined outside tacker_vimmon.conf.

The action runs inside Mistral's executor. Importing anything below
tacker_vimmon.conf runs that package's __init__, which registers every
option of tacker-vimmon on the process's global CONF, and inside Mistral
that is Mistral's configuration. So the options the action reads are
defined here, and the runtime registers them on a ConfigOpts of its own;
tacker_vimmon.conf.vim_monitor lists the same objects for the services,
the sample file and the docs.
"""

from oslo_config import cfg

from tacker_vimmon.common import rpc
from tacker_vimmon.i18n import _

GROUP = cfg.OptGroup(
    'vim_monitor', title='VIM monitor',
    help=_('How each VIM is probed and how often its monitor reports.'))

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
    cfg.IntOpt(
        'probe_count', default=3, min=1, max=100,
        help=_('ICMP echo requests sent per probe round. A round succeeds '
               'when any of them is answered.')),
    cfg.FloatOpt(
        'probe_interval', default=1.0, min=0.01,
        help=_('Seconds between the echo requests of one round, and '
               'between rounds.')),
    cfg.FloatOpt(
        'probe_timeout', default=1.0, min=0.01,
        help=_('Seconds to wait for the reply to each echo request.')),
    cfg.IntOpt(
        'failure_threshold', default=2, min=1,
        help=_('Consecutive failed probe rounds before a VIM is reported '
               'UNREACHABLE, so that one lost packet does not flip it.')),
    cfg.StrOpt(
        'icmp_socket', default='auto', choices=[
            ('auto', _('unprivileged ICMP if allowed, else a raw socket')),
            ('dgram', _('unprivileged ICMP sockets only (needs the '
                        'process group in net.ipv4.ping_group_range)')),
            ('raw', _('raw sockets only (needs CAP_NET_RAW)'))],
        help=_('The kind of socket the monitor action probes with, in '
               'Mistral\'s executor.')),
    cfg.FloatOpt(
        'report_timeout', default=10.0, min=0.1,
        help=_('Seconds a monitor waits for a conductor to answer a report '
               'before it backs off and tries again.')),
]

CONDUCTOR_GROUP = 'conductor'
# The one [conductor] option the action needs (tacker_vimmon.conf.conductor
# defines the group for the services); registered only on the action's
# own ConfigOpts, so the two never meet.
conductor_topic_opt = cfg.StrOpt(
    'topic', default=rpc.CONDUCTOR_TOPIC,
    help=_('RPC topic of the conductors the monitors report to.'))


def register_action_opts(conf):
    """Register on ``conf`` every option the monitor action reads."""
    conf.register_group(GROUP)
    conf.register_opts(vim_monitor_opts, group=GROUP)
    conf.register_opt(conductor_topic_opt, group=CONDUCTOR_GROUP)
