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

"""The migrations, walked one revision at a time on every supported backend.

Each backend gets a database of its own, made for the test and dropped after
it: a file SQLite database, and real MariaDB and PostgreSQL servers. After
every revision a ``_check_<revision>`` method, if there is one, proves what
that revision did. The sync test then proves that the models and the
migrations describe the same schema.
"""

import io

from alembic import script as alembic_script
import fixtures
from oslo_db.sqlalchemy import test_migrations
import sqlalchemy as sa

from tacker_vimmon.db import migration
from tacker_vimmon.db import models
from tacker_vimmon.tests.functional import base


class _SQLiteFileDatabase:
    def __init__(self, directory):
        self.url = 'sqlite:///%s/migrations.sqlite' % directory
        self.engine = sa.create_engine(self.url, poolclass=sa.pool.NullPool)


class _EmptyDatabaseMixin:
    """An empty database of self.backend for each test."""

    backend = None

    def setUp(self):
        super().setUp()
        if self.backend == 'sqlite':
            self.database = _SQLiteFileDatabase(self.useFixture(
                fixtures.TempDir()).path)
        else:
            self.database = self.real_database(self.backend)
        self.engine = self.database.engine


class _MigrationTestMixin(_EmptyDatabaseMixin):

    def _revisions_oldest_first(self):
        scripts = alembic_script.ScriptDirectory.from_config(
            migration._alembic_config())
        return [script.revision
                for script in reversed(list(scripts.walk_revisions()))]

    def test_walk_versions(self):
        self.assertIsNone(migration.current_revision(self.engine))
        revisions = self._revisions_oldest_first()
        self.assertEqual(migration.head_revision(), revisions[-1])
        for revision in revisions:
            migration.upgrade(revision, engine=self.engine)
            self.assertEqual(revision,
                             migration.current_revision(self.engine))
            check = getattr(self, '_check_%s' % revision, None)
            if check:
                check(self.engine)
        # Upgrading again at head changes nothing and does not fail.
        migration.upgrade('head', engine=self.engine)
        self.assertEqual(revisions[-1],
                         migration.current_revision(self.engine))

    def test_start_up_check_follows_the_schema(self):
        stderr = io.StringIO()
        self.useFixture(fixtures.MonkeyPatch('sys.stderr', stderr))
        error = self.assertRaises(SystemExit,
                                  migration.require_current_schema,
                                  self.engine)
        self.assertEqual(2, error.code)
        self.assertIn('Run "tacker-vimmon-db-manage upgrade head"',
                      stderr.getvalue())
        migration.upgrade('head', engine=self.engine)
        migration.require_current_schema(self.engine)

    def _check_6f1c0a2b3d4e(self, engine):
        inspector = sa.inspect(engine)
        self.assertEqual({'vims', 'events', 'alembic_version'},
                         set(inspector.get_table_names()))
        vim_columns = {c['name'] for c in inspector.get_columns('vims')}
        for column in ('action_id', 'workflow_id', 'execution_id',
                       'last_check_in_at', 'monitor_error',
                       'auth_cred_secret', 'status', 'is_default'):
            self.assertIn(column, vim_columns)
        self._check_one_default_per_tenant(engine)
        self.assertIn('events_resource_idx',
                      {i['name'] for i in inspector.get_indexes('events')})

    def _check_8a2d4c6e0b13(self, engine):
        inspector = sa.inspect(engine)
        vim_columns = {c['name']: c for c in inspector.get_columns('vims')}
        for column in ('silent_since', 'repair_claim', 'repair_claim_until',
                       'monitor_failures'):
            self.assertIn(column, vim_columns)
        self.assertFalse(vim_columns['monitor_failures']['nullable'])
        self.assertIn('vims_action_id_idx',
                      {i['name'] for i in inspector.get_indexes('vims')})
        self._check_one_default_per_tenant(engine)

    def _check_one_default_per_tenant(self, engine):
        vims = sa.Table('vims', sa.MetaData(), autoload_with=engine)
        row = dict(tenant_id='t1', type='openstack', auth_url='http://x',
                   vim_project='{}', auth_cred='{}', status='PENDING',
                   placement_attr='{}', extra='{}', is_default=True,
                   default_tenant_id='t1')
        with engine.begin() as connection:
            connection.execute(vims.insert(), [
                dict(row, id='v1', name='a'),
                dict(row, id='v2', name='b', is_default=False,
                     default_tenant_id=None),
                dict(row, id='v3', name='c', is_default=False,
                     default_tenant_id=None)])
        with engine.connect() as connection:
            self.assertRaises(
                sa.exc.IntegrityError, connection.execute, vims.insert(),
                [dict(row, id='v4', name='d')])
        with engine.connect() as connection:
            self.assertRaises(
                sa.exc.IntegrityError, connection.execute, vims.insert(),
                [dict(row, id='v5', name='a', is_default=False,
                      default_tenant_id=None)])
        with engine.begin() as connection:
            connection.execute(vims.delete())


class _ModelsMigrationsSyncMixin(_EmptyDatabaseMixin,
                                 test_migrations.ModelsMigrationsSync):
    def get_engine(self):
        return self.engine

    def get_metadata(self):
        return models.Base.metadata

    def db_sync(self, engine):
        migration.upgrade('head', engine=engine)

    def include_object(self, object_, name, type_, reflected, compare_to):
        return not (type_ == 'table' and name == 'alembic_version')


class TestMigrationsSQLite(_MigrationTestMixin,
                           base.FunctionalTestCase):
    backend = 'sqlite'


class TestMigrationsMySQL(_MigrationTestMixin, base.FunctionalTestCase):
    backend = 'mysql'


class TestMigrationsPostgreSQL(_MigrationTestMixin,
                               base.FunctionalTestCase):
    backend = 'postgresql'


class TestModelsSyncSQLite(_ModelsMigrationsSyncMixin,
                          base.FunctionalTestCase):
    backend = 'sqlite'


class TestModelsSyncMySQL(_ModelsMigrationsSyncMixin,
                          base.FunctionalTestCase):
    backend = 'mysql'


class TestModelsSyncPostgreSQL(_ModelsMigrationsSyncMixin,
                          base.FunctionalTestCase):
    backend = 'postgresql'
