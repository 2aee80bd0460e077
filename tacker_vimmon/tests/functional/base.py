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

"""What functional tests share: the real services of this machine.

Functional tests talk to real MariaDB, PostgreSQL and RabbitMQ. Where each
one is comes from the environment (defaults: this machine's services)::

    TVM_TEST_MYSQL_URL     mysql+pymysql://root@127.0.0.1:3306/
    TVM_TEST_POSTGRES_URL  postgresql+psycopg2://postgres@127.0.0.1:5432/postgres
    TVM_TEST_RABBIT_URL    rabbit://guest:guest@127.0.0.1:5672/

A developer without a service gets a skip that names it. With CI=true or
TVM_REQUIRE_SERVICES=1 (as tools/run-tests.sh sets) a missing service is a
failure instead, so that CI can never pass by skipping.
"""

import os
import socket

import fixtures
from oslo_db.sqlalchemy import enginefacade
from oslo_db.sqlalchemy import test_fixtures
from oslo_utils import uuidutils
import sqlalchemy as sa
from sqlalchemy.engine import url as sa_url
import testtools

from tacker_vimmon.db import api as db_api
from tacker_vimmon.tests import base
from tacker_vimmon.tests import fixtures as vimmon_fixtures

BACKEND_URLS = {
    'mysql': os.environ.get('TVM_TEST_MYSQL_URL',
                            'mysql+pymysql://root@127.0.0.1:3306/'),
    'postgresql': os.environ.get(
        'TVM_TEST_POSTGRES_URL',
        'postgresql+psycopg2://postgres@127.0.0.1:5432/postgres'),
}
RABBIT_URL = os.environ.get('TVM_TEST_RABBIT_URL',
                            'rabbit://guest:guest@127.0.0.1:5672/')


def services_required():
    """True when a missing service must fail the test, not skip it."""
    return any(os.environ.get(name, '').lower() in ('1', 'true', 'yes')
               for name in ('CI', 'TVM_REQUIRE_SERVICES'))


class ServiceUnavailable(Exception):
    """A real service a functional test needs cannot be reached."""


class RealDatabase(fixtures.Fixture):
    """A new, uniquely named database on a real server, dropped afterwards.

    :param backend: 'mysql' or 'postgresql'
    """

    def __init__(self, backend):
        super().__init__()
        self.backend = backend
        self.name = 'tvm_test_%s' % uuidutils.generate_uuid(dashed=False)[:16]

    def _admin_engine(self):
        admin_url = sa_url.make_url(BACKEND_URLS[self.backend])
        # CREATE/DROP DATABASE cannot run inside a transaction.
        return sa.create_engine(admin_url, isolation_level='AUTOCOMMIT',
                                poolclass=sa.pool.NullPool)

    def _setUp(self):
        admin = self._admin_engine()
        try:
            with admin.connect() as connection:
                connection.execute(sa.text('CREATE DATABASE %s' % self.name))
        except sa.exc.OperationalError as error:
            raise ServiceUnavailable('%s at %s: %s' % (
                self.backend, BACKEND_URLS[self.backend],
                str(error).splitlines()[0]))
        self.addCleanup(self._drop, admin)
        self.url = sa_url.make_url(
            BACKEND_URLS[self.backend]).set(database=self.name)
        self.engine = sa.create_engine(self.url, poolclass=sa.pool.NullPool)
        self.addCleanup(self.engine.dispose)

    def _drop(self, admin):
        self.engine.dispose()
        with admin.connect() as connection:
            if self.backend == 'postgresql':
                # Drop even if a forgotten connection is still open.
                connection.execute(sa.text(
                    'SELECT pg_terminate_backend(pid) FROM pg_stat_activity '
                    'WHERE datname = :name AND pid <> pg_backend_pid()'),
                    {'name': self.name})
            connection.execute(sa.text('DROP DATABASE %s' % self.name))
        admin.dispose()


class FunctionalTestCase(base.TestCase):
    """A test that uses the machine's real services."""

    def use_service(self, fixture):
        """useFixture(), turning an unreachable service into skip or fail."""
        try:
            return self.useFixture(fixture)
        except Exception as error:
            unavailable = _service_unavailable_in(error)
            if unavailable is None:
                raise
        message = 'service unavailable: %s' % unavailable
        if services_required():
            self.fail(message)
        self.skipTest(message)

    def real_database(self, backend):
        return self.use_service(RealDatabase(backend))

    def use_db_api(self, database_url):
        """Point the DB API (the test's own reads and writes) at the
        database the services under test use."""
        facade = enginefacade.transaction_context()
        facade.configure(connection=database_url)
        self.addCleanup(lambda: facade.writer.get_engine().dispose())
        self.useFixture(test_fixtures.ReplaceEngineFacadeFixture(
            db_api.main_context_manager, facade))


def _service_unavailable_in(error):
    """The ServiceUnavailable behind a failed fixture set-up, if any.

    testtools re-raises a fixture's set-up failure as MultipleExceptions
    holding (type, value, traceback) of the original error first.
    """
    if isinstance(error, ServiceUnavailable):
        return error
    if isinstance(error, testtools.MultipleExceptions):
        for _type, value, _tb in error.args:
            if isinstance(value, ServiceUnavailable):
                return value
    return None


# Lives in tacker_vimmon.tests.fixtures (unit tests use it too); the name
# stays here for the functional tests and helpers that use base.wait_for.
wait_for = vimmon_fixtures.wait_for


def free_port(host='127.0.0.1'):
    """A TCP port on host that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def write_config(path, sections):
    """Write {section: {option: value}} as an ini file (lists joined by ,)."""
    with open(path, 'w') as config:
        for section, options in sections.items():
            config.write('[%s]\n' % section)
            for name, value in options.items():
                if isinstance(value, (list, tuple)):
                    value = ','.join(str(item) for item in value)
                config.write('%s = %s\n' % (name, value))
            config.write('\n')
