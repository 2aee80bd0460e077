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

"""devstack/plugin.sh, run the way devstack runs it.

devstack itself cannot run here (it clones from servers this machine does
not reach), so fake-devstack.sh provides the helpers the plugin calls, doing
their work for real: ini files, processes in place of systemd units, the
real MariaDB or PostgreSQL, uWSGI behind a private Apache. devstack.sh runs
the phases of stack.sh, unstack.sh and clean.sh in devstack's order for the
plugins a local.conf enables: tacker-vimmon's, and a stand-in for Mistral's
(mistral/devstack/) that runs the real Mistral of .venv-mistral, split into
devstack@mistral-api, -engine, -executor and -event-engine, or as one
devstack@mistral.

Each test stacks, registers a VIM on a loopback address with ``openstack
vim register`` (python-tackerclient, noauth), waits until it is REACHABLE,
then unstacks and cleans and checks that nothing of the plugin is left.
"""

import configparser
import json
import os
import random
import subprocess

import fixtures
from oslo_utils import uuidutils
import requests
import sqlalchemy as sa

from tacker_vimmon.tests import base as tests_base
from tacker_vimmon.tests import http_endpoint
from tacker_vimmon.tests.functional import base
from tacker_vimmon.tests.functional import deployment
from tacker_vimmon.tests.functional import mistral
from tacker_vimmon.tests.functional import rabbit

HERE = os.path.dirname(os.path.abspath(__file__))
DEVSTACK = os.path.join(HERE, 'devstack.sh')
FAKE_MISTRAL = os.path.join(HERE, 'mistral')
# The VIM's Keystone host: loopback, which always answers ICMP echo.
VIM_HOST = '127.3.0.1'
STACK_TIMEOUT = 240
STOP_TIMEOUT = 120
REACHABLE_TIMEOUT = 90
EXECUTOR_THREADS = 48
MISTRAL_SETTINGS = os.path.join(deployment.TOP, 'etc', 'mistral',
                                'tacker-vimmon-mistral.conf')


class VimApi(fixtures.Fixture):
    """A VIM API on VIM_HOST (``auth_url``) that answers its version."""

    def _setUp(self):
        endpoint = http_endpoint.HttpEndpoint(status=200, address=VIM_HOST)
        self.addCleanup(endpoint.close)
        self.auth_url = 'http://%s:%d/v3' % (VIM_HOST, endpoint.port)


def _read_ini(path):
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(path)
    return parser


def _ping_group_range():
    with open('/proc/sys/net/ipv4/ping_group_range') as value:
        return value.read().split()


class DevstackPluginTest(base.FunctionalTestCase):

    TIMEOUT = 600

    def setUp(self):
        super().setUp()
        self.venv = self.use_service(deployment.DeployVenv())
        # Not below the test's own temporary directory, which only root
        # may enter: Apache's user must reach the uWSGI socket in it.
        self.root = self.useFixture(fixtures.TempDir(rootdir='/tmp')).path
        os.chmod(self.root, 0o755)
        self.vhost = self.use_service(rabbit.RabbitVhost())
        self.mistral_db = self.use_service(mistral.MistralDatabase())
        tag = uuidutils.generate_uuid(dashed=False)[:12]
        self.db_name = 'tvm_test_devstack_%s' % tag
        # A loopback address of its own: Apache on port 80 and Mistral's
        # port on it meet no other test.
        self.host = '127.4.%d.%d' % (random.randint(1, 254),
                                     random.randint(1, 254))
        self.conf_dir = os.path.join(self.root, 'etc', 'tacker-vimmon')
        self.state_dir = os.path.join(self.root, 'opt', 'stack', 'data',
                                      'tacker-vimmon')
        self.apache = os.path.join(self.root, 'apache2')
        self.ping_range = _ping_group_range()
        # Whatever a failed test left: processes, the sysctl, a database.
        self.addCleanup(self._drop_database_if_left)
        self.addCleanup(self._restore_ping_range)
        self.addCleanup(self._kill_units)

    # The test's machine and local.conf

    def _environment(self, database_type):
        return dict(
            os.environ,
            FAKE_DEVSTACK_ROOT=self.root,
            FAKE_SERVICE_HOST=self.host,
            FAKE_DEVSTACK_VENV=self.venv.path,
            FAKE_RABBIT_VHOST=self.vhost.name,
            FAKE_DATABASE_TYPE=database_type,
            FAKE_MISTRAL_VENV=mistral.VENV,
            FAKE_MISTRAL_DB_URL=self.mistral_db.url.render_as_string(
                hide_password=False))

    def _write_local_conf(self, split, tacker_vimmon_first, mistral_port):
        plugins = ['enable_plugin mistral %s' % FAKE_MISTRAL,
                   'enable_plugin tacker-vimmon %s' % deployment.TOP]
        if tacker_vimmon_first:
            plugins.reverse()
        lines = ['[[local|localrc]]',
                 'ENABLED_SERVICES=rabbit,mistral',
                 'TACKER_VIMMON_CONF_DIR=%s' % self.conf_dir,
                 'TACKER_VIMMON_DB_NAME=%s' % self.db_name,
                 'TACKER_VIMMON_EXECUTOR_THREADS=%d' % EXECUTOR_THREADS]
        if not split:
            # As tacker-vimmon's guides advise: Mistral's plugin then runs
            # one devstack@mistral.
            lines.append('disable_service mistral-event-engine')
        lines += plugins
        lines += ['', '[[post-config|$TACKER_VIMMON_CONF]]', '[vim]',
                  # The VIM's API answers its version document only: there
                  # is no Keystone to prove its credentials.
                  'validate_credentials = False',
                  '[credential_check]', 'interval = 0',
                  '[reconciler]', 'retry_after = 5']
        if mistral_port:
            lines += ['[[post-config|$MISTRAL_CONF_FILE]]', '[api]',
                      'port = %d' % mistral_port]
        path = os.path.join(self.root, 'local.conf')
        with open(path, 'w') as local_conf:
            local_conf.write('\n'.join(lines) + '\n')
        return path

    def _devstack(self, mode, local_conf, database_type, timeout):
        log = os.path.join(self.root, '%s.log' % mode)
        with open(log, 'ab') as output:
            done = subprocess.run(
                ['bash', DEVSTACK, mode, local_conf], stdout=output,
                stderr=subprocess.STDOUT, timeout=timeout,
                env=self._environment(database_type))
        if done.returncode:
            raise AssertionError(
                'devstack.sh %s exited %s; the end of its output:\n%s\n'
                'of its trace:\n%s\n%s' % (
                    mode, done.returncode, self._tail(log),
                    self._tail(os.path.join(self.root, '%s.xtrace' % mode),
                               3000), self._unit_logs()))

    @staticmethod
    def _tail(path, size=6000):
        try:
            with open(path, errors='replace') as log:
                return log.read()[-size:]
        except FileNotFoundError:
            return ''

    def _unit_logs(self):
        logs = os.path.join(self.root, 'logs')
        if not os.path.isdir(logs):
            return ''
        return '\n'.join('--- %s\n%s' % (name, self._tail(
            os.path.join(logs, name), 2000)) for name in sorted(
                os.listdir(logs)))

    # Units

    def _unit_pids(self):
        run = os.path.join(self.root, 'run')
        pids = {}
        for name in os.listdir(run) if os.path.isdir(run) else ():
            if name.endswith('.pid'):
                with open(os.path.join(run, name)) as pidfile:
                    pids[name[:-len('.pid')]] = int(pidfile.read())
        return pids

    def _unit_environment(self, unit):
        unit_file = _read_ini(os.path.join(self.root, 'systemd',
                                           '%s.service' % unit))
        return dict(pair.split('=', 1) for pair in
                    unit_file['Service']['Environment'].split())

    def _kill_units(self):
        for pid in self._unit_pids().values():
            try:
                os.killpg(pid, 9)
            except ProcessLookupError:
                pass

    def _restore_ping_range(self):
        if _ping_group_range() != self.ping_range:
            subprocess.run(['sysctl', '-q', '-w',
                            'net.ipv4.ping_group_range=%s'
                            % ' '.join(self.ping_range)], check=True)

    def _database_exists(self, database_type):
        backend = {'mysql': 'mysql', 'postgresql': 'postgresql'}[
            database_type]
        engine = sa.create_engine(base.BACKEND_URLS[backend],
                                  poolclass=sa.pool.NullPool)
        query = ('SELECT 1 FROM pg_database WHERE datname = :name'
                 if backend == 'postgresql' else
                 'SELECT 1 FROM information_schema.schemata '
                 'WHERE schema_name = :name')
        try:
            with engine.connect() as connection:
                return connection.execute(
                    sa.text(query), {'name': self.db_name}).scalar() == 1
        finally:
            engine.dispose()

    def _drop_database_if_left(self):
        for backend in ('mysql', 'postgresql'):
            engine = sa.create_engine(base.BACKEND_URLS[backend],
                                      isolation_level='AUTOCOMMIT',
                                      poolclass=sa.pool.NullPool)
            with engine.connect() as connection:
                connection.execute(sa.text('DROP DATABASE IF EXISTS %s'
                                           % self.db_name))
            engine.dispose()

    # The checks

    def _check_stacked(self, split):
        pids = self._unit_pids()
        mistral_units = (['devstack@mistral-api', 'devstack@mistral-engine',
                          'devstack@mistral-executor',
                          'devstack@mistral-event-engine'] if split
                         else ['devstack@mistral'])
        expected = {'devstack@tacker-vimmon-api',
                    'devstack@tacker-vimmon-conductor', 'apache2',
                    *mistral_units}
        self.assertEqual(expected, set(pids), self._unit_logs())
        for unit, pid in pids.items():
            self.assertTrue(deployment.process_group(pid),
                            '%s is not running:\n%s' % (unit,
                                                        self._unit_logs()))

        # The executor's unit, and it alone, gets the pool size and the
        # monitors' file; the engine gets the shipped Mistral settings.
        # (From the units: the services' setproctitle overwrites what
        # /proc shows of their environment. The VIM becoming REACHABLE
        # shows that the executor found the monitors' file.)
        executor = self._unit_environment(mistral_units[-2 if split else 0])
        monitor_conf = os.path.join(self.conf_dir,
                                    'tacker-vimmon-monitor.conf')
        self.assertEqual(monitor_conf,
                         executor['TACKER_VIMMON_MONITOR_CONFIG_FILE'])
        self.assertEqual(str(EXECUTOR_THREADS),
                         executor['OS_DEFAULT__EXECUTOR_THREAD_POOL_SIZE'])
        shipped = _read_ini(MISTRAL_SETTINGS)
        mistral_env = {'OS_%s__%s' % (section.upper(), option.upper()): value
                       for section in shipped.sections()
                       for option, value in shipped.items(section)}
        self.assertEqual(2, len(mistral_env))
        engine = self._unit_environment(mistral_units[1 if split else 0])
        for name, value in mistral_env.items():
            self.assertEqual(value, executor.get(name), name)
            self.assertEqual(value, engine.get(name), name)
        if split:
            api = self._unit_environment('devstack@mistral-api')
            self.assertNotIn('OS_DEFAULT__EXECUTOR_THREAD_POOL_SIZE', api)
            self.assertNotIn('OS_DEFAULT__EXECUTOR_THREAD_POOL_SIZE', engine)

        # One ProxyPass for the API, to its uWSGI socket.
        site = os.path.join(self.apache, 'sites-available',
                            'tacker-vimmon-api.conf')
        with open(site) as proxy:
            lines = [line for line in proxy if line.startswith('ProxyPass')]
        self.assertEqual(1, len(lines), lines)
        self.assertIn('"/nfv-orchestration"', lines[0])
        uwsgi = _read_ini(os.path.join(self.conf_dir,
                                       'tacker-vimmon-api-uwsgi.ini'))
        self.assertIn('python3', uwsgi['uwsgi']['plugins'])

        gid = os.getgid()
        low, high = map(int, _ping_group_range())
        self.assertTrue(low <= gid <= high, (low, high))

    def _register_and_wait_reachable(self, api_url):
        vim_api = self.useFixture(VimApi())
        vim_file = os.path.join(self.root, 'vim.yaml')
        with open(vim_file, 'w') as vim:
            vim.write('auth_url: %s\n'
                      'username: nfv_user\n'
                      'password: not-a-real-password\n'
                      'project_name: nfv\n'
                      'project_domain_name: Default\n'
                      'user_domain_name: Default\n' % vim_api.auth_url)
        registered = json.loads(self._openstack(
            api_url, 'vim', 'register', '--config-file', vim_file,
            '--description', 'loopback', 'devstack-vim', '-f', 'json'))
        vim_id = registered['id']

        def reachable():
            response = requests.get('%s/v1.0/vims/%s' % (api_url, vim_id),
                                    timeout=10)
            response.raise_for_status()
            status = response.json()['vim']['status']
            if status in ('ERROR', 'UNREACHABLE'):
                raise AssertionError('VIM %s: %s' % (status,
                                                     response.text))
            return status == 'REACHABLE'

        try:
            base.wait_for(reachable, REACHABLE_TIMEOUT, interval=1,
                          message='the VIM to be REACHABLE')
        except AssertionError as error:
            raise AssertionError('%s\n%s' % (error, self._unit_logs()))
        self.assertEqual('REACHABLE', self._openstack(
            api_url, 'vim', 'show', vim_id, '-f', 'value',
            '-c', 'status').strip())

    def _openstack(self, api_url, *args):
        done = subprocess.run(
            [self.venv.bin('openstack'), '--os-auth-type', 'none',
             '--os-endpoint', api_url, *args],
            capture_output=True, text=True, timeout=60)
        if done.returncode:
            raise AssertionError('openstack %s: %s %s' % (
                ' '.join(args), done.stdout, done.stderr))
        return done.stdout

    def _check_unstacked(self, pids):
        for unit, pid in pids.items():
            if unit == 'apache2':
                continue
            self.assertEqual([], deployment.process_group(pid),
                             '%s still runs after unstack' % unit)
        self.assertEqual({'apache2'}, set(self._unit_pids()))

    def _check_cleaned(self, database_type, pids):
        self.assertEqual({}, self._unit_pids())
        for pid in pids.values():
            self.assertEqual([], deployment.process_group(pid))
        for path in (self.conf_dir, self.state_dir,
                     os.path.join(self.apache, 'sites-available',
                                  'tacker-vimmon-api.conf'),
                     os.path.join(self.apache, 'sites-enabled',
                                  'tacker-vimmon-api.conf')):
            self.assertFalse(os.path.lexists(path), '%s is left' % path)
        self.assertEqual([], [name for name in os.listdir(
            os.path.join(self.root, 'systemd')) if 'tacker-vimmon' in name])
        self.assertFalse(self._database_exists(database_type))
        self.assertEqual(self.ping_range, _ping_group_range())

    def _stack_use_and_clean(self, split, database_type, tacker_vimmon_first,
                             mistral_port=None):
        local_conf = self._write_local_conf(split, tacker_vimmon_first,
                                            mistral_port)
        self._devstack('stack', local_conf, database_type, STACK_TIMEOUT)
        self._check_stacked(split)
        conf = _read_ini(os.path.join(self.conf_dir, 'tacker-vimmon.conf'))
        mistral_url = conf['mistral']['endpoint_override']
        expected = ('http://%s/workflow/v2' % self.host if split else
                    'http://%s:%d/v2' % (self.host, mistral_port))
        self.assertEqual(expected, mistral_url)
        self.assertIn(self.db_name, conf['database']['connection'])
        self.assertTrue(self._database_exists(database_type))
        base.wait_for(lambda: _answers(mistral_url + '/'), 90,
                      message='Mistral at %s' % mistral_url)

        self._register_and_wait_reachable(
            'http://%s/nfv-orchestration' % self.host)

        pids = self._unit_pids()
        self._devstack('unstack', local_conf, database_type, STOP_TIMEOUT)
        self._check_unstacked(pids)
        self._devstack('clean', local_conf, database_type, STOP_TIMEOUT)
        self._check_cleaned(database_type, pids)

    def test_mistral_split_mysql_plugin_enabled_first(self):
        self._stack_use_and_clean(split=True, database_type='mysql',
                                  tacker_vimmon_first=True)

    def test_mistral_one_process_postgresql(self):
        self._stack_use_and_clean(split=False, database_type='postgresql',
                                  tacker_vimmon_first=False,
                                  mistral_port=base.free_port(self.host))


def _answers(url):
    try:
        return requests.get(url, timeout=5).status_code == 200
    except requests.ConnectionError:
        return False


class ShellcheckTest(tests_base.TestCase):
    """shellcheck finds nothing in the plugin or in this test's scripts."""

    def test_shellcheck(self):
        scripts = [os.path.join(deployment.TOP, 'devstack', name)
                   for name in ('plugin.sh', 'settings')]
        scripts += [os.path.join(HERE, name) for name in (
            'devstack.sh', 'fake-devstack.sh',
            os.path.join('mistral', 'devstack', 'plugin.sh'),
            os.path.join('mistral', 'devstack', 'settings'))]
        done = subprocess.run(['shellcheck', '--shell=bash', '-x', *scripts],
                              capture_output=True, text=True, timeout=120,
                              cwd=HERE)
        self.assertEqual(0, done.returncode, done.stdout + done.stderr)
