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

"""Schema migrations with alembic, and the start-up schema check.

The schema is created and changed only here (``tacker-vimmon-db-manage
upgrade head``); no service creates tables. A service whose database is not
at the head revision refuses to start and says which command to run.
"""


from alembic import command as alembic_command
from alembic import config as alembic_config
from alembic import migration as alembic_migration
from alembic import script as alembic_script

from tacker_vimmon import conf as vimmon_conf
from tacker_vimmon.common import exception
from tacker_vimmon.db import api as db_api

SCRIPT_LOCATION = 'tacker_vimmon.db:migrations'
UPGRADE_COMMAND = 'tacker-vimmon-db-manage'


def _alembic_config(engine=None):
    cfg = alembic_config.Config()
    cfg.set_main_option('script_location', SCRIPT_LOCATION)
    # env.py runs the migrations on this engine (the configured one when
    # None), so tests can point them at a database of their own.
    cfg.attributes['engine'] = engine
    return cfg


def upgrade(revision='head', engine=None):
    """Apply the migrations up to ``revision``."""
    alembic_command.upgrade(_alembic_config(engine), revision)


def stamp(revision, engine=None):
    """Record ``revision`` as current without running any migration."""
    alembic_command.stamp(_alembic_config(engine), revision)


def revision(message, autogenerate=False, engine=None):
    """Write a new migration script (for developers)."""
    return alembic_command.revision(_alembic_config(engine), message=message,
                                    autogenerate=autogenerate)


def current_revision(engine=None):
    """The revision the database is at, or None for an empty database."""
    engine = engine or db_api.get_engine()
    with engine.connect() as connection:
        context = alembic_migration.MigrationContext.configure(connection)
        return context.get_current_revision()


def head_revision():
    """The newest revision this release ships."""
    scripts = alembic_script.ScriptDirectory.from_config(_alembic_config())
    return scripts.get_current_head()


def check_schema_current(engine=None):
    """Raise DatabaseNotAtHead unless the schema is at the head revision."""
    current = current_revision(engine)
    head = head_revision()
    if current != head:
        command = ' '.join(filter(None, [
            UPGRADE_COMMAND, vimmon_conf.config_file_args(), 'upgrade head']))
        raise exception.DatabaseNotAtHead(
            current=current or 'none (empty database)', head=head,
            command=command)


def require_current_schema(engine=None):
    """The start-up check of every service: exit 2 if not at head."""
    try:
        check_schema_current(engine)
    except exception.DatabaseNotAtHead as error:
        exception.exit_at_start(error)
