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

"""tacker-vimmon-manage-keys: the Fernet keys that encrypt VIM secrets.

  tacker-vimmon-manage-keys --config-file F setup      first key, if none
  tacker-vimmon-manage-keys --config-file F rotate     new primary key
  tacker-vimmon-manage-keys --config-file F reencrypt  secrets -> primary
  tacker-vimmon-manage-keys --config-file F prune      drop the old keys

Rotation: ``rotate``, copy the repository to every API node (if it is not
shared), ``reencrypt``, then ``prune``. ``prune`` refuses while any secret
still needs an old key.
"""


from oslo_config import cfg

from tacker_vimmon.cmd import cli
from tacker_vimmon.common import context
from tacker_vimmon.common import exception
from tacker_vimmon.conf import CONF
from tacker_vimmon.db import api as db_api
from tacker_vimmon.i18n import _
from tacker_vimmon.registry import crypto


def do_setup():
    repository = crypto.KeyRepository()
    index = repository.setup()
    print(_('Key repository %(path)s ready; primary key %(index)s.')
          % {'path': repository.path, 'index': index})


def do_rotate():
    repository = crypto.KeyRepository()
    index = repository.rotate()
    print(_('New primary key %(index)s in %(path)s. Distribute it to every '
            'API node, then run "reencrypt" and "prune".')
          % {'index': index, 'path': repository.path})


def do_reencrypt():
    repository = crypto.KeyRepository()
    admin = context.get_admin_context()
    done = 0
    for vim_id, token in db_api.vim_secret_get_all(admin):
        new_token = crypto.reencrypt(token, repository)
        if db_api.vim_secret_replace(admin, vim_id, token, new_token):
            done += 1
    print(_('Re-encrypted the secrets of %d VIM(s) with the primary key.')
          % done)


def do_prune():
    repository = crypto.KeyRepository()
    admin = context.get_admin_context()
    stale = [vim_id for vim_id, token in db_api.vim_secret_get_all(admin)
             if not crypto.readable_by_primary(token, repository)]
    if stale:
        cli.fail(_('%(count)d VIM(s) still need an older key (for example '
                '%(example)s); run "reencrypt" first.')
              % {'count': len(stale), 'example': stale[0]})
    removed = repository.remove_all_but_primary()
    print(_('Removed key(s): %s.') % (', '.join(map(str, removed))
                                      or _('none')))


def add_command_parsers(subparsers):
    for name, func, text in (
            ('setup', do_setup, _('Create the repository and a first key.')),
            ('rotate', do_rotate, _('Add a new primary key.')),
            ('reencrypt', do_reencrypt,
             _('Encrypt every VIM secret with the primary key.')),
            ('prune', do_prune,
             _('Remove every key but the primary one.'))):
        parser = subparsers.add_parser(name, help=text)
        parser.set_defaults(func=func)


command_opt = cfg.SubCommandOpt('command', title='Commands',
                                help=_('Available commands'),
                                handler=add_command_parsers)


def main(argv=None):
    cli.parse_subcommand(CONF, command_opt, argv)
    try:
        CONF.command.func()
    except exception.TackerVimmonException as error:
        cli.fail(error.format_message())
    except OSError as error:
        cli.fail(_('cannot use the key repository %(path)s: %(error)s')
              % {'path': CONF.vim_keys.key_repository, 'error': error})


if __name__ == '__main__':
    main()
