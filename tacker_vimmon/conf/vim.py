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

"""The [vim] group: how the API server checks a VIM at registration."""

from oslo_config import cfg

from tacker_vimmon.i18n import _

GROUP = cfg.OptGroup(
    'vim', title='VIM registration',
    help=_('Checks the API server makes when a VIM is registered or '
           'changed.'))

vim_opts = [
    cfg.BoolOpt(
        'validate_credentials', default=True,
        help=_('Authenticate to the Keystone of an OpenStack VIM with the '
               'given credentials when it is registered or its credentials '
               'change, refusing the request if that fails, and discover '
               'its regions (placement_attr.regions). When False nothing is '
               'checked and the regions stay empty.')),
    cfg.FloatOpt(
        'keystone_timeout', default=10.0, min=0.1,
        help=_('Seconds to wait for the Keystone of a VIM during that '
               'check.')),
]


def register_opts(conf):
    conf.register_group(GROUP)
    conf.register_opts(vim_opts, group=GROUP)


def list_opts():
    return {GROUP: vim_opts}
