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

"""The [vim_keys] group: the Fernet keys that encrypt VIM secrets."""

from oslo_config import cfg

from tacker_vimmon.i18n import _

DEFAULT_KEY_REPOSITORY = '/etc/tacker-vimmon/vim_keys'

GROUP = cfg.OptGroup(
    'vim_keys', title='VIM secret keys',
    help=_('Where the Fernet keys that encrypt VIM passwords, tokens, '
           'client secrets and CA certificates are kept.'))

vim_keys_opts = [
    cfg.StrOpt(
        'key_repository',
        # With the configuration, as Keystone keeps its Fernet keys: an
        # operator distributes both to every API node.
        default=DEFAULT_KEY_REPOSITORY,
        help=_('Directory of Fernet keys, created and rotated with '
               'tacker-vimmon-manage-keys. Every API node must see the same '
               'keys (a shared directory, or copies distributed after each '
               'rotation): a secret written by one node is read by all.')),
]


def register_opts(conf):
    conf.register_group(GROUP)
    conf.register_opts(vim_keys_opts, group=GROUP)


def list_opts():
    return {GROUP: vim_keys_opts}
