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

"""The [api] group (the API server) and [DEFAULT] auth_strategy.

auth_strategy lives in [DEFAULT], where Tacker and the other OpenStack
services keep it, but it only matters to the API server, so it is declared
here with the rest of the server's options.
"""

from oslo_config import cfg

from tacker_vimmon.i18n import _

GROUP = cfg.OptGroup(
    'api', title='API server',
    help=_('The REST API server: where it listens and how it treats '
           'requests.'))

AUTH_NOAUTH = 'noauth'
AUTH_KEYSTONE = 'keystone'

auth_opts = [
    cfg.StrOpt(
        'auth_strategy',
        default=AUTH_KEYSTONE,
        choices=[(AUTH_KEYSTONE, _('Validate Keystone tokens with '
                                   'keystonemiddleware auth_token, '
                                   'configured in [keystone_authtoken].')),
                 (AUTH_NOAUTH, _('No authentication: every request acts '
                                 'in [api] noauth_project_id (or the '
                                 'project in its X-Project-Id header) with '
                                 '[api] noauth_roles. For local runs and '
                                 'demos only.'))],
        help=_('How the API server authenticates requests.')),
]

api_opts = [
    cfg.HostAddressOpt(
        'bind_host', default='127.0.0.1',
        help=_('Address tacker-vimmon-server listens on. Under uWSGI or '
               'gunicorn the WSGI server setting applies instead.')),
    cfg.PortOpt(
        'bind_port', default=9890,
        help=_('Port tacker-vimmon-server listens on.')),
    cfg.IntOpt(
        'server_threads', default=16, min=1,
        help=_('Worker threads of tacker-vimmon-server: the number of '
               'requests it serves at once.')),
    cfg.StrOpt(
        'noauth_project_id', default='noauth-project',
        help=_('With auth_strategy = noauth: the project a request acts in '
               'when it sends no X-Project-Id header.')),
    cfg.ListOpt(
        'noauth_roles', default=['admin', 'member', 'reader'],
        help=_('With auth_strategy = noauth: the roles a request has when it '
               'sends no X-Roles header.')),
]


def register_opts(conf):
    conf.register_opts(auth_opts)
    conf.register_group(GROUP)
    conf.register_opts(api_opts, group=GROUP)


def list_opts():
    return {'DEFAULT': auth_opts, GROUP: api_opts}
