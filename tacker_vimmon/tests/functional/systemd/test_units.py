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

"""The systemd units in etc/systemd, checked and run as systemd runs them.

``systemd-analyze verify`` checks every unit and the Mistral executor's
drop-in offline (systemd is not PID 1 here) in a root directory that holds
them, the system's own units and the commands they name. The sysusers.d and
tmpfiles.d files are applied into a root directory too.

The start tests run each service the way its unit says: its ExecStart (the
virtualenv /opt/tacker-vimmon and /etc/tacker-vimmon replaced by the test's),
as its User= and Group= (the system user the sysusers.d file creates), with
its Environment= and nothing else, in its WorkingDirectory= with its
UMask=, and a NOTIFY_SOCKET on which it must say READY=1 (Type=notify).
Then the service must serve (the API answers, the conductor answers an RPC
call under the name the unit gives it), keep serving after ExecReload, stop
cleanly on KillSignal=, and exit with a status in RestartPreventExitStatus=
when its database is not at the schema head.
"""

import grp
import os
import pwd
import shlex
import shutil
import signal
import socket
import subprocess

import fixtures
from oslo_config import cfg
import oslo_messaging as messaging
from oslo_utils import uuidutils
import requests
import sqlalchemy as sa
import testtools.content

from tacker_vimmon.action import runtime
from tacker_vimmon.common import rpc
from tacker_vimmon.conductor import rpcapi
from tacker_vimmon.db import migration
from tacker_vimmon.tests.functional import base
from tacker_vimmon.tests.functional import deployment
from tacker_vimmon.tests.functional import rabbit

ETC = os.path.join(deployment.TOP, 'etc')
UNITS = os.path.join(ETC, 'systemd', 'system')
API_UNIT = 'tacker-vimmon-api.service'
CONDUCTOR_UNIT = 'tacker-vimmon-conductor@.service'
EXECUTOR_DROPIN = os.path.join('mistral-executor.service.d',
                               'tacker-vimmon.conf')
SYSUSERS = os.path.join(ETC, 'sysusers.d', 'tacker-vimmon.conf')
TMPFILES = os.path.join(ETC, 'tmpfiles.d', 'tacker-vimmon.conf')
UWSGI_INI = os.path.join(ETC, 'tacker-vimmon', 'tacker-vimmon-api-uwsgi.ini')
# The paths of a deployment, as the units and the uWSGI ini name them.
PREFIX = '/opt/tacker-vimmon'
CONF_DIR = '/etc/tacker-vimmon'
STATE_DIR = '/var/lib/tacker-vimmon'
SHIPPED_API_ADDRESS = '127.0.0.1:9890'
READY_TIMEOUT = 60
# processes in the shipped uWSGI ini, and what uWSGI logs as each loads.
WORKERS = 4
UWSGI_APP_READY = "WSGI app 0 (mountpoint='') ready"
SERVE_TIMEOUT = 30


def read_unit(path, instance=None):
    """{section: {key: [values]}} of a unit file, specifiers expanded."""
    unit = {}
    section = None
    with open(path) as stream:
        for line in stream:
            line = line.strip()
            if not line or line[0] in '#;':
                continue
            if line.startswith('['):
                section = unit.setdefault(line.strip('[]'), {})
                continue
            key, value = line.split('=', 1)
            section.setdefault(key.strip(), []).append(
                _expand(value.strip(), instance))
    return unit


def _expand(value, instance):
    """The specifiers the units use: %H, %i and %%."""
    return (value.replace('%%', '\0').replace('%H', socket.gethostname())
            .replace('%i', instance or '').replace('\0', '%'))


class VerifyRoot(fixtures.Fixture):
    """A root directory for systemd-analyze verify (``path``).

    It holds the units of this repository, the system's units (targets the
    units refer to) and the commands the units run: the real ones where the
    system has them, and an executable stand-in for the virtualenv's.
    """

    def _setUp(self):
        for tool in ('systemd-analyze', 'uwsgi'):
            if not shutil.which(tool):
                raise base.ServiceUnavailable(
                    '%s is not installed; run tools/install-deps.sh' % tool)
        self.path = self.useFixture(fixtures.TempDir()).path
        system = os.path.join(self.path, 'etc', 'systemd', 'system')
        shutil.copytree(UNITS, system)
        # A stand-in for Mistral's executor unit, for the drop-in.
        with open(os.path.join(system, 'mistral-executor.service'),
                  'w') as unit:
            unit.write('[Service]\nExecStart=/usr/bin/kill\n')
        shutil.copytree('/usr/lib/systemd/system',
                        os.path.join(self.path, 'usr', 'lib', 'systemd',
                                     'system'), symlinks=True)
        bindir = os.path.join(self.path, 'usr', 'bin')
        os.makedirs(bindir)
        for command in ('/usr/bin/uwsgi', '/usr/bin/kill'):
            shutil.copy(os.path.realpath(command),
                        os.path.join(bindir, os.path.basename(command)))
        os.symlink('usr/bin', os.path.join(self.path, 'bin'))
        os.makedirs(os.path.join(self.path, PREFIX[1:], 'bin'))
        conductor = os.path.join(self.path, PREFIX[1:], 'bin',
                                 'tacker-vimmon-conductor')
        with open(conductor, 'w') as stand_in:
            stand_in.write('#!/bin/sh\n')
        os.chmod(conductor, 0o755)

    def verify(self, *units):
        return subprocess.run(
            ['systemd-analyze', 'verify', '--man=no', '--root=%s' % self.path,
             *units], capture_output=True, text=True, timeout=120)


class UnitFilesTest(base.FunctionalTestCase):
    """The unit files, sysusers.d and tmpfiles.d, checked offline."""

    def setUp(self):
        super().setUp()
        self.root = self.use_service(VerifyRoot())

    def test_systemd_analyze_verify_finds_nothing(self):
        done = self.root.verify(API_UNIT, 'tacker-vimmon-conductor@1.service',
                                'mistral-executor.service')
        self.assertEqual((0, ''), (done.returncode,
                                   done.stdout + done.stderr))

    def test_verify_would_report_a_mistake(self):
        path = os.path.join(self.root.path, 'etc', 'systemd', 'system',
                            API_UNIT)
        with open(path, 'a') as unit:
            unit.write('[Service]\nProtectSystem=everything\n')
        done = self.root.verify(API_UNIT)
        self.assertIn('%s:' % path, done.stdout + done.stderr)
        self.assertIn('everything', done.stdout + done.stderr)

    def test_sysusers_and_tmpfiles_make_the_user_and_directories(self):
        root = self.root.path
        os.makedirs(os.path.join(root, 'etc', 'tacker-vimmon'), exist_ok=True)
        for command in (['systemd-sysusers', '--root=%s' % root, SYSUSERS],
                        ['systemd-tmpfiles', '--root=%s' % root, '--create',
                         TMPFILES]):
            done = subprocess.run(command, capture_output=True, text=True,
                                  timeout=60)
            self.assertEqual(0, done.returncode, done.stderr)
        users = _passwd(os.path.join(root, 'etc', 'passwd'))
        user = users['tacker-vimmon']
        self.assertEqual((STATE_DIR, '/usr/sbin/nologin'), tuple(user[5:7]))
        uid, gid = int(user[2]), int(user[3])
        self.assertLess(uid, 1000)
        conf_dir = os.stat(os.path.join(root, CONF_DIR[1:]))
        self.assertEqual((0o750, 0, gid), (conf_dir.st_mode & 0o777,
                                           conf_dir.st_uid, conf_dir.st_gid))
        keys = os.stat(os.path.join(root, CONF_DIR[1:], 'vim_keys'))
        self.assertEqual((0o700, uid), (keys.st_mode & 0o777, keys.st_uid))

    def test_units_run_as_the_sysusers_user_in_its_home(self):
        user = _sysusers_name()
        for name in (API_UNIT, CONDUCTOR_UNIT):
            service = read_unit(os.path.join(UNITS, name), '1')['Service']
            self.assertEqual([user], service['User'])
            self.assertEqual([STATE_DIR], service['WorkingDirectory'])
            self.assertEqual(['tacker-vimmon'], service['StateDirectory'])
        # What the services exit with on a failed start-up check: the
        # commands' 2 (exception.exit_at_start), uWSGI's 22 (need-app).
        self.assertEqual(['22'], read_unit(os.path.join(
            UNITS, API_UNIT))['Service']['RestartPreventExitStatus'])
        self.assertEqual(['2'], read_unit(os.path.join(
            UNITS, CONDUCTOR_UNIT))['Service']['RestartPreventExitStatus'])

    def test_uwsgi_ini_uses_debians_plugin_and_loopback(self):
        ini = cfg.ConfigParser(UWSGI_INI, {})
        ini.parse()
        uwsgi = ini.sections['uwsgi']
        self.assertEqual(['python3'], uwsgi['plugins'])
        self.assertEqual([PREFIX], uwsgi['virtualenv'])
        self.assertEqual([SHIPPED_API_ADDRESS], uwsgi['http-socket'])
        self.assertEqual([str(WORKERS)], uwsgi['processes'])

    def test_executor_dropin_names_the_monitor_file(self):
        dropin = read_unit(os.path.join(UNITS, EXECUTOR_DROPIN))['Service']
        environment = dict(pair.split('=', 1)
                           for pair in dropin['Environment'])
        self.assertEqual(
            os.path.join(CONF_DIR, 'tacker-vimmon-monitor.conf'),
            environment['TACKER_VIMMON_MONITOR_CONFIG_FILE'])
        self.assertEqual(runtime.DEFAULT_CONFIG_FILE,
                         environment['TACKER_VIMMON_MONITOR_CONFIG_FILE'])
        self.assertEqual(['CAP_NET_RAW'], dropin['AmbientCapabilities'])


def _passwd(path):
    with open(path) as passwd:
        return {line.split(':')[0]: line.rstrip('\n').split(':')
                for line in passwd if line.strip()}


def _sysusers_name():
    with open(SYSUSERS) as sysusers:
        for line in sysusers:
            if line.startswith('u '):
                return line.split()[1]
    raise AssertionError('no user in %s' % SYSUSERS)


class NotifySocket(fixtures.Fixture):
    """A NOTIFY_SOCKET (``path``) the service's user may send to."""

    def __init__(self, directory):
        super().__init__()
        self.directory = directory

    def _setUp(self):
        self.path = os.path.join(self.directory, 'notify-%s' %
                                 uuidutils.generate_uuid(dashed=False)[:8])
        self.socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.socket.bind(self.path)
        os.chmod(self.path, 0o666)
        self.addCleanup(self.socket.close)
        self.messages = []

    def wait_for(self, message, process, timeout):
        def said():
            if process.poll() is not None:
                raise AssertionError('exited with %s before %s' % (
                    process.returncode, message))
            self.socket.settimeout(0.2)
            try:
                self.messages += self.socket.recv(4096).decode().split('\n')
            except TimeoutError:
                pass
            return message in self.messages
        base.wait_for(said, timeout, interval=0, message=message)


class UnitStartTest(base.FunctionalTestCase):
    """Each service started as its unit starts it, on real services."""

    TIMEOUT = 300

    def setUp(self):
        super().setUp()
        self.venv = self.use_service(deployment.DeployVenv())
        self.user = self._service_user()
        # Outside the test's own temporary directory, which only root may
        # enter: the service's user reads its configuration here.
        self.root = self.useFixture(fixtures.TempDir(rootdir='/tmp')).path
        os.chmod(self.root, 0o755)
        self.conf_dir = os.path.join(self.root, 'etc')
        self.state_dir = os.path.join(self.root, 'state')
        self._apply_tmpfiles()
        os.makedirs(self.state_dir, mode=0o750)
        os.chown(self.state_dir, self.user.pw_uid, self.user.pw_gid)
        self.vhost = self.use_service(rabbit.RabbitVhost())
        self.database = self.real_database('postgresql')
        self.conf_file = os.path.join(self.conf_dir, 'tacker-vimmon.conf')
        self._write_config()

    def _service_user(self):
        """The unit's user, made with the sysusers.d file as a package does."""
        name = _sysusers_name()
        done = subprocess.run(['systemd-sysusers', SYSUSERS],
                              capture_output=True, text=True, timeout=60)
        self.assertEqual(0, done.returncode, done.stderr)
        user = pwd.getpwnam(name)
        probe = subprocess.run(
            [self.venv.bin('python'), '-c', 'import tacker_vimmon'],
            user=user.pw_uid, group=user.pw_gid, extra_groups=[],
            capture_output=True, text=True, timeout=60, cwd='/')
        if probe.returncode:
            self.fail('%s cannot run %s (is the checkout readable by other '
                      'users?): %s' % (name, self.venv.path, probe.stderr))
        return user

    def _apply_tmpfiles(self):
        with open(TMPFILES) as shipped:
            text = shipped.read().replace(CONF_DIR, self.conf_dir)
        copy = os.path.join(self.root, 'tmpfiles.conf')
        with open(copy, 'w') as tmpfiles:
            tmpfiles.write(text)
        done = subprocess.run(['systemd-tmpfiles', '--create', copy],
                              capture_output=True, text=True, timeout=60)
        self.assertEqual(0, done.returncode, done.stderr)

    def _write_config(self, **extra):
        sections = {
            # No Keystone runs for these tests.
            'DEFAULT': {'transport_url': self.vhost.transport_url,
                        'auth_strategy': 'noauth'},
            'database': {'connection': self.database.url.render_as_string(
                hide_password=False)},
            'vim_keys': {'key_repository': os.path.join(self.conf_dir,
                                                        'vim_keys')},
            # A registry: no Mistral runs for these tests.
            'vim_monitor': {'enabled': False},
            'reconciler': {'enabled': False},
        }
        base.write_config(self.conf_file, sections)
        os.chown(self.conf_file, 0, self.user.pw_gid)
        os.chmod(self.conf_file, 0o640)

    def _as_user(self, *command):
        done = subprocess.run(
            [self.venv.bin(command[0]), '--config-file', self.conf_file,
             *command[1:]], user=self.user.pw_uid, group=self.user.pw_gid,
            extra_groups=[], capture_output=True, text=True, timeout=120,
            cwd=self.state_dir)
        self.assertEqual(0, done.returncode, done.stdout + done.stderr)

    def _prepare_database_and_keys(self):
        self._as_user('tacker-vimmon-db-manage', 'upgrade', 'head')
        self._as_user('tacker-vimmon-manage-keys', 'setup')

    def _local(self, value):
        return (value.replace(PREFIX, self.venv.path)
                .replace(CONF_DIR, self.conf_dir)
                .replace(STATE_DIR, self.state_dir))

    def start_unit(self, name, instance=None):
        """Start the unit's ExecStart as systemd would; the Popen."""
        unit = read_unit(os.path.join(UNITS, name), instance)
        service = unit['Service']
        self.assertEqual([self.user.pw_name], service['User'])
        group = _group_gid(service['Group'][0])
        notify = self.useFixture(NotifySocket(self.root))
        environment = {
            'PATH': '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin',
            'LANG': 'C.UTF-8', 'HOME': self.user.pw_dir,
            'USER': self.user.pw_name, 'LOGNAME': self.user.pw_name,
            'NOTIFY_SOCKET': notify.path}
        for assignments in service.get('Environment', []):
            for pair in shlex.split(assignments):
                key, value = pair.split('=', 1)
                environment[key] = value
        log_path = os.path.join(self.root, '%s.log' % name)
        with open(log_path, 'ab') as log:
            process = subprocess.Popen(
                shlex.split(self._local(service['ExecStart'][0])),
                user=self.user.pw_uid, group=group, extra_groups=[],
                env=environment, cwd=self._local(
                    service['WorkingDirectory'][0]),
                umask=int(service['UMask'][0], 8), stdout=log,
                stderr=subprocess.STDOUT, start_new_session=True)
        self.addCleanup(_kill_group, process)
        self.addCleanup(lambda: self.addDetail(
            name, testtools.content.text_content(_read(log_path))))
        process.unit = service
        process.notify = notify
        process.log_path = log_path
        return process

    def wait_ready(self, process):
        try:
            process.notify.wait_for('READY=1', process, READY_TIMEOUT)
        except AssertionError as error:
            raise AssertionError('%s\n%s' % (error, _read(process.log_path)))

    def reload(self, process):
        """ExecReload, $MAINPID the service's."""
        command = process.unit['ExecReload'][0].replace(
            '$MAINPID', str(process.pid))
        subprocess.run(shlex.split(command), check=True, timeout=30)

    def stop(self, process):
        """KillSignal= to the main process; its exit status."""
        signum = getattr(signal, process.unit['KillSignal'][0])
        process.send_signal(signum)
        timeout = int(process.unit['TimeoutStopSec'][0])
        status = process.wait(timeout)
        base.wait_for(lambda: not deployment.process_group(process.pid),
                      timeout, message='the unit\'s processes to exit')
        return status

    def assertRefusedForGood(self, process):
        """Exits at once with a status that the unit does not restart."""
        status = process.wait(READY_TIMEOUT)
        preventing = process.unit['RestartPreventExitStatus'][0].split()
        self.assertIn(str(status), preventing, _read(process.log_path))

    # The API server

    def _api_unit(self):
        """Start the API unit with the shipped uWSGI ini; its URL too."""
        port = base.free_port()
        with open(UWSGI_INI) as shipped:
            ini = self._local(shipped.read()).replace(
                SHIPPED_API_ADDRESS, '127.0.0.1:%d' % port)
        ini_path = os.path.join(self.conf_dir,
                                'tacker-vimmon-api-uwsgi.ini')
        with open(ini_path, 'w') as copy:
            copy.write(ini)
        os.chmod(ini_path, 0o644)
        return self.start_unit(API_UNIT), 'http://127.0.0.1:%d' % port

    def test_api_serves_reloads_and_stops(self):
        self._prepare_database_and_keys()
        process, url = self._api_unit()
        self.wait_ready(process)
        self.assertEqual({'vims': []}, _get_json(url + '/v1.0/vims'))
        # uWSGI says READY=1 once it has forked its workers; each loads the
        # application after that (lazy-apps). A reload waits for every
        # worker to finish, so let them all be up first.
        self._wait_workers_loaded(process, 1)
        workers = set(_children(process.pid))
        self.assertEqual(WORKERS, len(workers))

        self.reload(process)
        self._wait_workers_loaded(process, 2)
        self.assertTrue(workers.isdisjoint(_children(process.pid)))
        base.wait_for(lambda: _answers(url + '/v1.0/vims'), SERVE_TIMEOUT,
                      message='the API after the reload')
        self.assertIsNone(process.poll(), _read(process.log_path))

        self.assertEqual(0, self.stop(process), _read(process.log_path))

    def _wait_workers_loaded(self, process, generation):
        def loaded():
            if process.poll() is not None:
                raise AssertionError('uWSGI exited with %s'
                                     % process.returncode)
            return (_read(process.log_path, None).count(UWSGI_APP_READY)
                    >= WORKERS * generation)
        base.wait_for(loaded, SERVE_TIMEOUT, message='%d uWSGI workers to '
                      'load the application' % WORKERS)

    def test_api_refuses_a_database_behind_the_schema(self):
        self._as_user('tacker-vimmon-manage-keys', 'setup')
        migration.upgrade('6f1c0a2b3d4e', engine=self.database.engine)
        process, _url = self._api_unit()
        self.assertRefusedForGood(process)

    # The conductor

    def _wait_conductor_answers(self, host, process):
        """The conductor named host answers update_vim for an unknown VIM.

        Its service manager says READY=1 before its worker's RPC server
        consumes, and a reload restarts the worker: a call sent to a
        server-named queue before it exists is lost, so this retries.
        """
        transport = rpc.get_transport_for(cfg.ConfigOpts(),
                                          self.vhost.transport_url)
        self.addCleanup(transport.cleanup)
        client = rpcapi.ConductorAPI(transport=transport).client.prepare(
            version='1.0', server=host, timeout=3)
        answers = []

        def answered():
            if process.poll() is not None:
                raise AssertionError('the conductor exited with %s'
                                     % process.returncode)
            try:
                answers.append(client.call(
                    self.context, 'update_vim',
                    vim_id=uuidutils.generate_uuid(), status='REACHABLE',
                    action_id=uuidutils.generate_uuid()))
            except messaging.MessagingTimeout:
                return False
            return True

        base.wait_for(answered, READY_TIMEOUT, interval=0,
                      message='conductor %s to answer' % host)
        return answers[-1]

    def test_conductor_serves_reloads_and_stops(self):
        self._prepare_database_and_keys()
        process = self.start_unit(CONDUCTOR_UNIT, instance='1')
        self.wait_ready(process)
        # The RPC server's name comes from the unit: <hostname>-<instance>.
        host = '%s-1' % socket.gethostname()
        self.assertEqual('bad_action',
                         self._wait_conductor_answers(host, process))

        self.reload(process)
        self.assertEqual('bad_action',
                         self._wait_conductor_answers(host, process))
        self.assertIsNone(process.poll())

        self.assertEqual(0, self.stop(process), _read(process.log_path))

    def test_conductor_refuses_a_database_behind_the_schema(self):
        engine = sa.create_engine(self.database.url,
                                  poolclass=sa.pool.NullPool)
        self.addCleanup(engine.dispose)
        migration.upgrade('6f1c0a2b3d4e', engine=engine)
        process = self.start_unit(CONDUCTOR_UNIT, instance='1')
        self.assertRefusedForGood(process)


def _group_gid(name):
    return grp.getgrnam(name).gr_gid


def _children(pid):
    try:
        with open('/proc/%d/task/%d/children' % (pid, pid)) as children:
            return [int(child) for child in children.read().split()]
    except FileNotFoundError:
        return []


def _get_json(url):
    response = requests.get(url, timeout=10)
    response.raise_for_status()
    return response.json()


def _answers(url):
    try:
        return requests.get(url, timeout=5).status_code == 200
    except requests.ConnectionError:
        return False


def _read(path, size=6000):
    with open(path, errors='replace') as log:
        text = log.read()
    return text[-size:] if size else text


def _kill_group(process):
    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.wait(30)

