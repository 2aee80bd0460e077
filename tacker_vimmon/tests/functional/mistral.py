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

"""A real Mistral 23 for one test: API, engine and executor.

It runs from .venv-mistral (tools/mistral/setup-mistral-venv.sh builds it,
with tacker-vimmon installed into it so that the executor knows the
monitor action) on a free port, without auth and without cron triggers
(whose thread hangs the master on SIGTERM), on its own RabbitMQ vhost
(Mistral's topics are fixed names: two Mistrals on one vhost would take
each other's work) and its own PostgreSQL database.

Migrating a Mistral database takes seconds, so it is done once per Mistral
version into a template database that is kept; each test's database is a
copy of it (CREATE DATABASE ... TEMPLATE ...), made in well under a second.
"""

import glob
import hashlib
import os
import signal
import subprocess
import urllib.error
import urllib.request

import fixtures
from mistralclient.api import client as mistral_client
from oslo_utils import uuidutils
import sqlalchemy as sa
from sqlalchemy.engine import url as sa_url

from tacker_vimmon.tests.functional import base
from tacker_vimmon.tests.functional import rabbit

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..',
                                   '..'))
VENV = os.environ.get('TVM_TEST_MISTRAL_VENV',
                      os.path.join(TOP, '.venv-mistral'))
START_TIMEOUT = 90
STOP_TIMEOUT = 20
MIGRATE_TIMEOUT = 300
# The Mistral settings the project ships for running its monitors; every
# Mistral process of the tests reads them, as a deployment would.
SETTINGS_FILE = os.path.join(TOP, 'etc', 'mistral',
                             'tacker-vimmon-mistral.conf')
# Serialises building the template database across test processes.
TEMPLATE_LOCK_KEY = 0x74766d6d


def mistral_version(venv=VENV):
    """The Mistral version installed in venv, or None."""
    found = glob.glob(os.path.join(venv, 'lib', 'python*', 'site-packages',
                                   'mistral-*.dist-info'))
    if not found:
        return None
    return os.path.basename(found[0])[len('mistral-'):-len('.dist-info')]


def template_name(version):
    digest = hashlib.sha256(version.encode()).hexdigest()[:12]
    return 'tvm_mistral_template_%s' % digest


class _MistralDatabase(base.RealDatabase):
    """A PostgreSQL database copied from the migrated template."""

    def __init__(self, template, migrate):
        super().__init__('postgresql')
        self.name = 'tvm_mistral_%s' % uuidutils.generate_uuid(
            dashed=False)[:16]
        self.template = template
        self._migrate = migrate

    def _setUp(self):
        admin = self._admin_engine()
        try:
            with admin.connect() as connection:
                self._ensure_template(connection)
                connection.execute(sa.text('CREATE DATABASE %s TEMPLATE %s'
                                           % (self.name, self.template)))
        except sa.exc.OperationalError as error:
            raise base.ServiceUnavailable('postgresql at %s: %s' % (
                base.BACKEND_URLS['postgresql'],
                str(error).splitlines()[0]))
        self.addCleanup(self._drop, admin)
        self.url = sa_url.make_url(
            base.BACKEND_URLS['postgresql']).set(database=self.name)
        self.engine = sa.create_engine(self.url, poolclass=sa.pool.NullPool)
        self.addCleanup(self.engine.dispose)

    def _ensure_template(self, connection):
        connection.execute(sa.text('SELECT pg_advisory_lock(:key)'),
                           {'key': TEMPLATE_LOCK_KEY})
        try:
            exists = connection.execute(sa.text(
                'SELECT 1 FROM pg_database WHERE datname = :name'),
                {'name': self.template}).scalar()
            if exists:
                return
            # Migrate under another name and rename when done, so that a
            # failed migration never leaves a template behind.
            building = '%s_building' % self.template
            connection.execute(sa.text('DROP DATABASE IF EXISTS %s'
                                       % building))
            connection.execute(sa.text('CREATE DATABASE %s' % building))
            try:
                self._migrate(sa_url.make_url(
                    base.BACKEND_URLS['postgresql']).set(database=building))
            except Exception:
                connection.execute(sa.text('DROP DATABASE %s' % building))
                raise
            connection.execute(sa.text('ALTER DATABASE %s RENAME TO %s'
                                       % (building, self.template)))
        finally:
            connection.execute(sa.text('SELECT pg_advisory_unlock(:key)'),
                               {'key': TEMPLATE_LOCK_KEY})


def migrate(config_path):
    """Bring the empty database of a Mistral config file to Mistral's head."""
    manage = os.path.join(VENV, 'bin', 'mistral-db-manage')
    for command in (['upgrade', 'head'], ['populate']):
        done = subprocess.run([manage, '--config-file', config_path,
                               *command],
                              capture_output=True, text=True,
                              timeout=MIGRATE_TIMEOUT)
        if done.returncode:
            raise RuntimeError('mistral-db-manage %s failed (%s):\n%s'
                               % (' '.join(command), done.returncode,
                                  done.stderr[-3000:]))


class MistralDatabase(_MistralDatabase):
    """A database for a Mistral the test runs itself (``url``).

    A copy of the migrated template, as MistralFixture's own.
    """

    def __init__(self):
        super().__init__(self._template(), self._migrate_into)

    @staticmethod
    def _template():
        version = mistral_version()
        if version is None:
            raise base.ServiceUnavailable(
                'Mistral is not installed in %s; run tools/mistral/'
                'setup-mistral-venv.sh' % VENV)
        return template_name(version)

    def _migrate_into(self, database_url):
        directory = self.useFixture(fixtures.TempDir()).path
        path = os.path.join(directory, 'migrate.conf')
        base.write_config(path, {
            'DEFAULT': {'log_file': os.path.join(directory, 'migrate.log')},
            'database': {'connection': database_url.render_as_string(
                hide_password=False)}})
        migrate(path)


class MistralFixture(fixtures.Fixture):
    """``mistral-server --server api,engine,executor`` for one test.

    :param thread_pool_size: executor_thread_pool_size (each running
        monitor action holds one pool thread); with separate_executor, only
        the executor's (the engine and API keep Mistral's default, as the
        shipped settings advise)
    :param extra_config: {section: {option: value}} added to the config
    :param environment: extra environment variables of the server (for
        example TACKER_VIMMON_MONITOR_CONFIG_FILE for the monitor action)
    :param separate_executor: run the executor as a process of its own
        (``--server executor``) beside ``--server api,engine``, so that a
        test can kill it (``kill_executor``) and start a new one
        (``start_executor``) as an executor host crash would, or stop and
        start the api and engine alone (``stop_api_engine``,
        ``start_api_engine``) as a Mistral upgrade or crash would
    :param transport_url: the broker Mistral uses (a vhost of its own);
        by default a new vhost on the machine's broker
    :param engines: engine processes (Mistral 23 runs one database
        transaction at a time per process, so an engine's throughput is
        bounded by its transactions' latency, not by the CPU)
    :param settings_file: a configuration file every Mistral process reads
        after its own; by default the settings the project ships, None for
        Mistral's defaults (to measure what the settings change)

    ``url`` is the v2 endpoint, ``client`` a python-mistralclient client,
    ``log_path`` the server's log file.
    """

    def __init__(self, thread_pool_size=16, extra_config=None,
                 environment=None, separate_executor=False,
                 transport_url=None, settings_file=SETTINGS_FILE,
                 engines=1):
        super().__init__()
        self.engines = engines
        self.settings_file = settings_file
        self.transport_url = transport_url
        self.thread_pool_size = thread_pool_size
        self.extra_config = extra_config or {}
        self.environment = environment or {}
        self.separate_executor = separate_executor
        self.process = None
        self.executor = None
        self.executors = []

    def _setUp(self):
        version = mistral_version()
        server = os.path.join(VENV, 'bin', 'mistral-server')
        if version is None or not os.path.exists(server):
            raise base.ServiceUnavailable(
                'Mistral is not installed in %s; run tools/mistral/'
                'setup-mistral-venv.sh' % VENV)
        self.version = version
        self.directory = self.useFixture(fixtures.TempDir()).path
        self.log_path = os.path.join(self.directory, 'mistral.log')
        self.port = base.free_port()
        self.url = 'http://127.0.0.1:%d/v2' % self.port
        # ``vhost``: the RabbitVhost made here, None on a given broker.
        self.vhost = None
        if self.transport_url is None:
            self.vhost = self.useFixture(rabbit.RabbitVhost())
            self.transport_url = self.vhost.transport_url
        self.database = self.useFixture(_MistralDatabase(
            template_name(version), self._migrate))
        self.config_path = os.path.join(self.directory, 'mistral.conf')
        base.write_config(self.config_path, self._config(
            self.database.url, self.log_path))
        self.executor_config_path = os.path.join(self.directory,
                                                 'mistral-executor.conf')
        base.write_config(self.executor_config_path, {'DEFAULT': {
            'executor_thread_pool_size': self.thread_pool_size}})
        self._start(server)
        self.client = mistral_client.client(mistral_url=self.url)

    def _config(self, database_url, log_path):
        sections = {
            'DEFAULT': {
                'transport_url': self.transport_url,
                'log_file': log_path,
                'debug': 'False',
            },
            'api': {'host': '127.0.0.1', 'port': self.port},
            'pecan': {'auth_enable': 'False'},
            'cron_trigger': {'enabled': 'False'},
            'database': {'connection': database_url.render_as_string(
                hide_password=False)},
            'executor': {'type': 'remote', 'host': '127.0.0.1'},
            'engine': {'host': '127.0.0.1'},
            'oslo_policy': {'enforce_new_defaults': 'False',
                            'enforce_scope': 'False'},
        }
        if not self.separate_executor:
            sections['DEFAULT']['executor_thread_pool_size'] = (
                self.thread_pool_size)
        for section, values in self.extra_config.items():
            sections.setdefault(section, {}).update(values)
        return sections

    def _migrate(self, database_url):
        """Bring an empty database to Mistral's head (the template)."""
        path = os.path.join(self.directory, 'migrate.conf')
        base.write_config(path, self._config(
            database_url, os.path.join(self.directory, 'migrate.log')))
        migrate(path)

    def start_again(self):
        """Start a stopped server again: same port, database and vhost."""
        self._start(os.path.join(VENV, 'bin', 'mistral-server'))

    def _servers(self):
        return ('api,engine' if self.separate_executor
                else 'api,engine,executor')

    def _start(self, server):
        self.process = self._spawn(server, self._servers())
        self._start_more_engines()
        self.addCleanup(self.stop)
        if self.separate_executor:
            self.start_executor()
        self._wait_answers()

    def _wait_answers(self):
        try:
            base.wait_for(self._answers, START_TIMEOUT, interval=0.2,
                          message='Mistral API at %s' % self.url)
        except AssertionError:
            raise AssertionError('Mistral did not start; the end of %s:\n%s'
                                 % (self.log_path, self.log_tail()))

    def _spawn(self, server, servers):
        env = dict(os.environ, **self.environment)
        # Later files win: the shipped settings, then the executor's pool.
        configs = [self.config_path]
        if self.settings_file:
            configs.append(self.settings_file)
        if servers == 'executor':
            configs.append(self.executor_config_path)
        arguments = [server, '--server', servers]
        for path in configs:
            arguments += ['--config-file', path]
        with open(self.log_path, 'ab') as log:
            return subprocess.Popen(
                arguments,
                stdout=log, stderr=subprocess.STDOUT, env=env,
                start_new_session=True)

    def stop_api_engine(self):
        """Stop the api and engine, leaving the executor running."""
        if not self.separate_executor:
            raise RuntimeError('the executor runs in the same process')
        self.stop()

    def start_api_engine(self):
        """Start the api and engine again; wait until the API answers."""
        if not self.separate_executor:
            raise RuntimeError('the executor runs in the same process')
        self.process = self._spawn(
            os.path.join(VENV, 'bin', 'mistral-server'), self._servers())
        self._start_more_engines()
        self._wait_answers()

    def start_executor(self):
        """Start a (new) executor process (separate_executor only).

        Several may run at once; ``executor`` is the latest, ``executors``
        all those started.
        """
        self.executor = self._spawn(
            os.path.join(VENV, 'bin', 'mistral-server'), 'executor')
        self.executors.append(self.executor)
        self.addCleanup(self._kill_group, self.executor)
        return self.executor

    def kill_executor(self, executor=None):
        """SIGKILL an executor (the latest by default) and its children,
        as a host crash would.
        """
        self._kill_group(executor or self.executor)

    def _kill_group(self, process):
        if process is None or process.poll() is not None:
            return
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.wait(STOP_TIMEOUT)

    def _answers(self):
        if self.process.poll() is not None:
            raise AssertionError('mistral-server exited with %s; the end '
                                 'of %s:\n%s' % (self.process.returncode,
                                                 self.log_path,
                                                 self.log_tail()))
        try:
            with urllib.request.urlopen(self.url + '/', timeout=2) as r:
                return r.status == 200
        except (urllib.error.URLError, OSError):
            return False

    def log_tail(self, lines=40):
        try:
            with open(self.log_path, errors='replace') as log:
                return ''.join(log.readlines()[-lines:])
        except OSError:
            return ''

    def _start_more_engines(self):
        # mistral-server starts each kind of server once, whatever
        # --server says: more engines are processes of their own.
        self.more_engines = [
            self._spawn(os.path.join(VENV, 'bin', 'mistral-server'),
                        'engine') for _more in range(self.engines - 1)]

    def stop(self):
        """SIGTERM the master; SIGKILL its process group if it hangs."""
        for engine in getattr(self, 'more_engines', ()):
            self._kill_group(engine)
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            pass
        # The children (api, engine, executor) share the master's process
        # group; none may outlive the test, hung or not.
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait(STOP_TIMEOUT)
