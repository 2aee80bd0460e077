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

"""tacker-vimmon-db-manage, run as an operator runs it, on real databases."""

import os
import subprocess
import sys

import fixtures
import sqlalchemy as sa

from tacker_vimmon.db import migration
from tacker_vimmon.tests.functional import base


def _console_script(name):
    """The console script installed next to this interpreter."""
    return os.path.join(os.path.dirname(sys.executable), name)


class _DbManageTestMixin:
    backend = None

    def setUp(self):
        super().setUp()
        self.database = self.real_database(self.backend)
        self.config_file = os.path.join(self.useFixture(
            fixtures.TempDir()).path, 'tacker-vimmon.conf')
        with open(self.config_file, 'w') as config:
            config.write('[database]\nconnection = %s\n' %
                         self.database.url.render_as_string(
                             hide_password=False))

    def db_manage(self, *args):
        result = subprocess.run(
            [_console_script('tacker-vimmon-db-manage'),
             '--config-file', self.config_file] + list(args),
            capture_output=True, text=True, timeout=120)
        return result.returncode, result.stdout, result.stderr

    def _schema(self):
        inspector = sa.inspect(self.database.engine)
        return {table: sorted(c['name'] for c in inspector.get_columns(table))
                for table in inspector.get_table_names()}

    def test_upgrade_head_creates_schema_and_is_idempotent(self):
        head = migration.head_revision()
        rc, out, err = self.db_manage('check')
        self.assertEqual(2, rc, out + err)
        self.assertIn('--config-file %s upgrade head' % self.config_file, err)

        rc, out, err = self.db_manage('upgrade', 'head')
        self.assertEqual(0, rc, err)
        self.assertIn(head, out)
        schema = self._schema()
        self.assertLessEqual({'vims', 'events', 'alembic_version'},
                             set(schema))

        rc, out, err = self.db_manage('upgrade', 'head')
        self.assertEqual(0, rc, err)
        self.assertEqual(schema, self._schema())

        rc, out, err = self.db_manage('current')
        self.assertEqual((0, head), (rc, out.strip()))
        rc, out, err = self.db_manage('check')
        self.assertEqual(0, rc, err)

    def test_unknown_revision_is_a_clear_error(self):
        rc, out, err = self.db_manage('upgrade', 'no-such-revision')
        self.assertNotEqual(0, rc)
        self.assertIn('no-such-revision', err)


class TestDbManageErrors(base.FunctionalTestCase):

    def test_unreachable_database_is_a_clear_error_without_traceback(self):
        config_file = os.path.join(self.useFixture(
            fixtures.TempDir()).path, 'tacker-vimmon.conf')
        with open(config_file, 'w') as config:
            # Nothing listens on port 1 of loopback.
            config.write('[database]\nconnection = '
                         'postgresql+psycopg2://u:s3cret@127.0.0.1:1/x\n'
                         'max_retries = 0\n')
        result = subprocess.run(
            [_console_script('tacker-vimmon-db-manage'),
             '--config-file', config_file, 'upgrade', 'head'],
            capture_output=True, text=True, timeout=120)
        self.assertEqual(1, result.returncode)
        self.assertIn('ERROR: cannot use the database', result.stderr)
        self.assertIn('127.0.0.1:1', result.stderr)
        self.assertNotIn('Traceback', result.stderr)
        self.assertNotIn('s3cret', result.stderr + result.stdout)


class TestDbManageMySQL(_DbManageTestMixin, base.FunctionalTestCase):
    backend = 'mysql'


class TestDbManagePostgreSQL(_DbManageTestMixin, base.FunctionalTestCase):
    backend = 'postgresql'
