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

"""tacker-vimmon-db-manage: create and upgrade the database schema.

  tacker-vimmon-db-manage --config-file F upgrade [REVISION]   (default head)
  tacker-vimmon-db-manage --config-file F current
  tacker-vimmon-db-manage --config-file F stamp REVISION
  tacker-vimmon-db-manage --config-file F revision -m MESSAGE [--autogenerate]
  tacker-vimmon-db-manage --config-file F check
"""

import sys

from alembic import util as alembic_util
from oslo_config import cfg
from oslo_db import exception as db_exc
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import url as sa_url

from tacker_vimmon.cmd import cli
from tacker_vimmon.common import exception
from tacker_vimmon.conf import CONF
from tacker_vimmon.db import migration
from tacker_vimmon.i18n import _


def do_upgrade():
    migration.upgrade(CONF.command.revision)
    print(_('Database upgraded to %s.') % migration.current_revision())


def do_current():
    print(migration.current_revision() or _('none (empty database)'))


def do_stamp():
    migration.stamp(CONF.command.revision)
    print(_('Database stamped at %s.') % migration.current_revision())


def do_revision():
    script = migration.revision(CONF.command.message,
                                autogenerate=CONF.command.autogenerate)
    print(_('New migration: %s') % script.path)


def do_check():
    """Exit 0 when the schema is at head, 2 (with the fix) when it is not."""
    try:
        migration.check_schema_current()
    except exception.DatabaseNotAtHead as error:
        print(error.format_message(), file=sys.stderr)
        raise SystemExit(2)
    print(_('Database is at the head revision %s.') %
          migration.head_revision())


def add_command_parsers(subparsers):
    parser = subparsers.add_parser(
        'upgrade', help=_('Upgrade the schema (to head by default).'))
    parser.add_argument('revision', nargs='?', default='head')
    parser.set_defaults(func=do_upgrade)

    parser = subparsers.add_parser(
        'current', help=_('Print the revision the database is at.'))
    parser.set_defaults(func=do_current)

    parser = subparsers.add_parser(
        'stamp', help=_('Record a revision without running migrations.'))
    parser.add_argument('revision')
    parser.set_defaults(func=do_stamp)

    parser = subparsers.add_parser(
        'revision', help=_('Write a new migration script (developers).'))
    parser.add_argument('-m', '--message', required=True)
    parser.add_argument('--autogenerate', action='store_true')
    parser.set_defaults(func=do_revision)

    parser = subparsers.add_parser(
        'check', help=_('Exit non-zero unless the schema is at head.'))
    parser.set_defaults(func=do_check)


command_opt = cfg.SubCommandOpt('command',
                                title='Commands',
                                help=_('Available commands'),
                                handler=add_command_parsers)


def main(argv=None):
    cli.parse_subcommand(CONF, command_opt, argv)
    try:
        CONF.command.func()
    except alembic_util.CommandError as error:
        cli.fail(error)
    except (db_exc.DBError, sa_exc.OperationalError) as error:
        url = sa_url.make_url(CONF.database.connection)
        cli.fail(_('cannot use the database %(url)s ([database] connection): '
                '%(error)s') % {'url': url.render_as_string(),
                                'error': str(error).splitlines()[0]})


if __name__ == '__main__':
    main()
