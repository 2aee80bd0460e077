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


"""The monitor action's own options, read from its own file.

The action runs inside Mistral's executor, where the global configuration
is Mistral's. It reads a small file of its own
(``tacker-vimmon-monitor.conf``) into a private ConfigOpts: the broker's
``transport_url`` and the options below, nothing secret beyond the broker.
``list_opts`` feeds oslo-config-generator (namespace
``tacker_vimmon.action``) for that file's sample.
"""

from oslo_config import cfg

from tacker_vimmon.common import rpc
from tacker_vimmon.i18n import _

GROUP = cfg.OptGroup(
    'vim_monitor', title='VIM monitor action',
    help=_('How the monitor actions in this Mistral executor probe and '
           'report.'))

action_opts = [
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
    cfg.FloatOpt(
        'check_in_slot', default=1.0, min=0.0, max=60.0,
        help=_('Seconds. Once the conductor holds a monitor\'s status, its '
               'routine check-ins (update_vim every check_interval when '
               'nothing changed) are made by one thread of the executor '
               'process, together with the other monitors\' check-ins due '
               'within the same slot of this many seconds: calls made one '
               'right after another cost far less CPU than calls spread '
               'out. Check-ins come up to this much early; changes are '
               'always reported at once by the monitor itself. 0: every '
               'monitor makes its own check-ins.')),
]


def register_opts(conf):
    """Register on ``conf`` every option the monitor action reads."""
    conf.register_group(GROUP)
    conf.register_opts(action_opts, group=GROUP)
    conf.register_opt(rpc.conductor_topic_opt, group=rpc.CONDUCTOR_GROUP)
    rpc.register_messaging_opts(conf)


def list_opts():
    """The action's own options and oslo.messaging's, for
    oslo-config-generator.
    """
    return [(GROUP, action_opts),
            (rpc.CONDUCTOR_GROUP, [rpc.conductor_topic_opt])
            ] + rpc.list_messaging_opts()
