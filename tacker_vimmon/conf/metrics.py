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

"""[metrics]: what the services give Prometheus."""

from oslo_config import cfg

from tacker_vimmon.i18n import _

GROUP = cfg.OptGroup(
    'metrics', title='Prometheus metrics',
    help=_('The API server serves the VIMs\' metrics, read from the '
           'database, at /metrics; each conductor serves its own counters '
           '(reports, status changes, repairs) on a port of its own.'))

OPTS = [
    cfg.BoolOpt('api_enabled', default=False,
                help=_('Serve /metrics on the API server, without '
                       'authentication (it names every VIM, its project '
                       'and status: let only Prometheus reach it). Every '
                       'API node serves the same values, read from the '
                       'database.')),
    cfg.PortOpt('conductor_port', default=0,
                help=_('The port each conductor serves its own counters on '
                       '(0: none). A conductor with several [conductor] '
                       'workers serves one per worker, on the first free '
                       'port from this one on.')),
    cfg.HostAddressOpt('conductor_bind_host', default='127.0.0.1',
                       help=_('The address the conductor\'s metrics port '
                              'listens on.')),
]


def register_opts(conf):
    conf.register_group(GROUP)
    conf.register_opts(OPTS, group=GROUP)


def list_opts():
    return {GROUP: OPTS}
