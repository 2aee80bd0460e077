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

"""The [conductor] group: where the conductors listen, and how many."""

from oslo_config import cfg

from tacker_vimmon.common import rpc
from tacker_vimmon.i18n import _

GROUP = cfg.OptGroup(
    'conductor', title='Conductor',
    help=_('The conductor, the RPC server that stores what the monitor '
           'actions report.'))

conductor_opts = [
    rpc.conductor_topic_opt,
    cfg.IntOpt(
        'workers',
        default=1,
        min=1,
        help=_('Worker processes of one tacker-vimmon-conductor, each with '
               'its own RPC server and database connections. One is enough '
               'for most deployments; run more conductors (on other hosts) '
               'for availability.')),
]


def register_opts(conf):
    conf.register_group(GROUP)
    conf.register_opts(conductor_opts, group=GROUP)


def list_opts():
    return {GROUP: conductor_opts}
