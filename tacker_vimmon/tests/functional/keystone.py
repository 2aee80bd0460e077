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

"""A private, real OpenStack Keystone on loopback for functional tests.

Keystone runs from its own virtualenv (``.venv-keystone``, built by
``tools/keystone/setup-keystone-venv.sh``; ``TVM_KEYSTONE_VENV`` names
another one) on SQLite, served by ``tools/keystone/keystone_wsgi.py`` on a
free loopback port. It holds:

========== ========= ======================================
user       project   role
========== ========= ======================================
admin      admin     admin (from ``keystone-manage bootstrap``)
nfv-member nfv       member
other-mem… other     member
tvm-svc    service   service (the user of ``auth_token``)
========== ========= ======================================

plus the region ``RegionOne`` and the identity endpoints in it.

``keystone-manage`` costs seconds per call, so the bootstrapped database,
the Fernet keys and the identities are built once per Keystone version and
configuration, kept under ``.venv-keystone/tvm-state/<hash>``, and copied for
each fixture: a fixture then only starts the server (about 2-3 s).
Passwords are random per template, kept in that directory only, and never
logged.
"""

import atexit
import dataclasses
import fcntl
import hashlib
import json
import os
import secrets
import shutil
import signal
import sqlite3
import subprocess
import tempfile

import fixtures
from keystoneauth1 import session as ks_session
from keystoneauth1.identity import v3
import requests
import testtools

from tacker_vimmon.tests.functional import base

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))
KEYSTONE_VENV = os.environ.get('TVM_KEYSTONE_VENV',
                               os.path.join(TOP, '.venv-keystone'))
# Written by SETUP_SCRIPT; it changes with what is installed.
KEYSTONE_STAMP = os.path.join(KEYSTONE_VENV, '.tacker-vimmon-keystone-reqs')
SERVER_SCRIPT = os.path.join(TOP, 'tools', 'keystone', 'keystone_wsgi.py')
SETUP_SCRIPT = 'tools/keystone/setup-keystone-venv.sh'
# Tests replace tempfile's directory with one removed after each test; a
# Keystone shared by a class of tests must outlive that.
BASE_TMP = tempfile.gettempdir()

DOMAIN = 'Default'
REGION = 'RegionOne'
ADMIN = ('admin', 'admin', 'admin')
SERVICE_PROJECT = 'service'
# (user, project, role) created after bootstrap, in this order.
IDENTITIES = (
    ('nfv-member', 'nfv', 'member'),
    ('other-member', 'other', 'member'),
    ('tvm-svc', SERVICE_PROJECT, 'service'),
)
MEMBER_OF = {project: user for user, project, role in IDENTITIES
             if role == 'member'}

START_TIMEOUT = 60
MANAGE_TIMEOUT = 180
PORT_IN_USE = 98  # keystone_wsgi.py's exit status for a taken port
PORT_ATTEMPTS = 3
SERVING = 'keystone serving on %s\n'  # keystone_wsgi.py's log line

# Placeholders are filled with the instance's own directory. Two settings
# make Keystone fast enough for tests: 4 bcrypt rounds (the default of 12
# costs 0.45 s per password check; it must be set before bootstrap hashes
# the first password) and an in-process cache (safe with one process only).
# max_password_length = 72 stops a warning on every password hash.
CONFIG_TEMPLATE = """\
[DEFAULT]
log_file = {state}/keystone.log
[database]
connection = sqlite:///{state}/keystone.db
[token]
provider = fernet
[fernet_tokens]
key_repository = {state}/fernet-keys
[fernet_receipts]
key_repository = {state}/fernet-keys
[credential]
key_repository = {state}/credential-keys
[identity]
password_hash_rounds = 4
max_password_length = 72
[cache]
enabled = true
backend = dogpile.cache.memory
"""
# Raise when the way a template is built changes, so that old ones are
# not used.
TEMPLATE_VERSION = '1'
# What a template holds besides its identities.json.
STATE_ITEMS = ('keystone.db', 'fernet-keys', 'credential-keys')


@dataclasses.dataclass(frozen=True)
class Credentials:
    """A user of the private Keystone, scoped to one project."""

    auth_url: str
    username: str
    password: str = dataclasses.field(repr=False)
    project_name: str
    user_domain_name: str = DOMAIN
    project_domain_name: str = DOMAIN

    def auth_plugin(self, project_name=None):
        return v3.Password(auth_url=self.auth_url, username=self.username,
                           password=self.password,
                           user_domain_name=self.user_domain_name,
                           project_name=project_name or self.project_name,
                           project_domain_name=self.project_domain_name)


def _python():
    return os.path.join(KEYSTONE_VENV, 'bin', 'python')


def _log_tail(path, lines=30):
    try:
        with open(path, errors='replace') as log:
            return ''.join(log.readlines()[-lines:])
    except OSError:
        return '(no log at %s)' % path


def _write_config(state):
    path = os.path.join(state, 'keystone.conf')
    with open(path, 'w') as conf:
        conf.write(CONFIG_TEMPLATE.format(state=state))
    return path


def _template_hash():
    """Names a template: it changes with Keystone's install and our setup."""
    digest = hashlib.sha256()
    for part in (TEMPLATE_VERSION, _read(KEYSTONE_STAMP), CONFIG_TEMPLATE,
                 repr(IDENTITIES), repr((ADMIN, REGION)),
                 _read(SERVER_SCRIPT)):
        digest.update(part.encode())
    return digest.hexdigest()[:16]


def _read(path):
    try:
        with open(path, errors='replace') as f:
            return f.read()
    except FileNotFoundError:
        return ''


class _Server:
    """One keystone_wsgi.py process over one state directory."""

    def __init__(self, state):
        self.state = state
        self.config = _write_config(state)
        self.log = os.path.join(state, 'server.log')
        self.process = None
        self.port = None
        # The catalog's identity endpoints point here (see start()).
        self.endpoint_base = TEMPLATE_URL

    @property
    def url(self):
        return 'http://127.0.0.1:%s' % self.port

    def start(self):
        """Serve on a free port, which the catalog then names."""
        for _attempt in range(PORT_ATTEMPTS):
            self.port = base.free_port()
            self.point_endpoints_at(self.url)
            if self._start_on_port():
                return
        raise base.ServiceUnavailable(
            'keystone: no free port after %s tries' % PORT_ATTEMPTS)

    def _start_on_port(self):
        with open(self.log, 'ab') as log:
            self.process = subprocess.Popen(
                [_python(), SERVER_SCRIPT, '--config-file', self.config,
                 '--port', str(self.port)],
                stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        try:
            outcome = base.wait_for(self._ready_or_exited, START_TIMEOUT,
                                    interval=0.05,
                                    message='keystone on %s' % self.url)
        except AssertionError as error:
            self.stop()
            raise base.ServiceUnavailable('keystone did not start: %s\n%s'
                                          % (error, _log_tail(self.log)))
        if outcome == 'ready':
            return True
        if self.process.returncode == PORT_IN_USE:
            return False
        raise base.ServiceUnavailable(
            'keystone exited with status %s while starting:\n%s'
            % (self.process.returncode, _log_tail(self.log)))

    def _ready_or_exited(self):
        if self.process.poll() is not None:
            return 'exited'
        # Until our process says it serves, whatever answers on the port
        # (a lost race for it) is not our Keystone.
        if SERVING % self.url not in _read(self.log):
            return None
        try:
            response = requests.get(self.url + '/v3', timeout=5)
        except requests.RequestException:
            return None
        return 'ready' if response.status_code == 200 else None

    def point_endpoints_at(self, url):
        """Rewrite the catalog's URLs in the (stopped) Keystone's database.

        keystoneauth1, and so auth_token, finds the identity service through
        the catalog, which must name the port this Keystone really serves on.
        """
        connection = sqlite3.connect(os.path.join(self.state, 'keystone.db'))
        try:
            with connection:
                connection.execute(
                    'UPDATE endpoint SET url = replace(url, ?, ?)',
                    (self.endpoint_base, url))
        finally:
            connection.close()
        self.endpoint_base = url

    def stop(self):
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class _Template:
    """The bootstrapped state that every fixture copies."""

    def __init__(self):
        if not os.path.exists(os.path.join(KEYSTONE_VENV, 'bin',
                                           'keystone-manage')):
            raise base.ServiceUnavailable(
                'keystone: no Keystone in %s; run %s'
                % (KEYSTONE_VENV, SETUP_SCRIPT))
        self.root = os.path.join(KEYSTONE_VENV, 'tvm-state')
        self.path = os.path.join(self.root, _template_hash())
        self.identities_file = os.path.join(self.path, 'identities.json')

    def ensure(self):
        """Build the template unless there is one; returns its identities."""
        os.makedirs(self.root, exist_ok=True)
        # Parallel test workers wait for the first one to build it.
        with open(self.path + '.lock', 'w') as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not os.path.exists(self.identities_file):
                self._remove_interrupted_builds()
                self._build()
        with open(self.identities_file) as f:
            return json.load(f)

    def _building_prefix(self):
        return 'building-%s-' % os.path.basename(self.path)

    def _remove_interrupted_builds(self):
        """Builds of this template left by a killed run (we hold its lock)."""
        for name in os.listdir(self.root):
            if name.startswith(self._building_prefix()):
                shutil.rmtree(os.path.join(self.root, name),
                              ignore_errors=True)

    def _build(self):
        building = tempfile.mkdtemp(prefix=self._building_prefix(),
                                    dir=self.root)
        try:
            identities = self._bootstrap(building)
            with open(os.path.join(building, 'identities.json'), 'w') as f:
                os.fchmod(f.fileno(), 0o600)
                json.dump(identities, f)
            os.rename(building, self.path)
        except BaseException:
            shutil.rmtree(building, ignore_errors=True)
            raise

    def _bootstrap(self, state):
        for keys in ('fernet-keys', 'credential-keys'):
            # Keystone warns about key repositories others can read.
            os.mkdir(os.path.join(state, keys), 0o700)
        server = _Server(state)
        admin_password = _new_password()
        # db_sync, fernet_setup and credential_setup touch different
        # things: run them side by side (each pays seconds of imports).
        self._manage(state, ['db_sync'], ['fernet_setup'] + _OWNER,
                     ['credential_setup'] + _OWNER)
        self._manage(state, [
            'bootstrap', '--bootstrap-username', ADMIN[0],
            '--bootstrap-project-name', ADMIN[1],
            '--bootstrap-role-name', ADMIN[2],
            '--bootstrap-service-name', 'keystone',
            '--bootstrap-region-id', REGION,
            '--bootstrap-public-url', _identity_url(TEMPLATE_URL),
            '--bootstrap-internal-url', _identity_url(TEMPLATE_URL),
            '--bootstrap-admin-url', _identity_url(TEMPLATE_URL)],
            env={'OS_BOOTSTRAP_PASSWORD': admin_password})
        try:
            server.start()
            identities = _create_identities(server.url, admin_password)
        finally:
            server.stop()
        server.point_endpoints_at(TEMPLATE_URL)
        for leftover in ('keystone.conf', 'keystone.log', 'server.log'):
            os.rename(os.path.join(state, leftover),
                      os.path.join(state, 'build-' + leftover))
        return identities

    def _manage(self, state, *commands, env=None):
        """Run keystone-manage commands in parallel; fail with their log."""
        manage = os.path.join(KEYSTONE_VENV, 'bin', 'keystone-manage')
        config = os.path.join(state, 'keystone.conf')
        log_path = os.path.join(state, 'keystone-manage.log')
        with open(log_path, 'ab') as log:
            children = [subprocess.Popen(
                [manage, '--config-file', config, *command],
                stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                env=dict(os.environ, **(env or {}))) for command in commands]
            statuses = [_wait_or_kill(child) for child in children]
        if any(statuses):
            raise base.ServiceUnavailable(
                'keystone-manage %s failed:\n%s' % (
                    ', '.join(c[0] for c in commands), _log_tail(log_path)))


def _wait_or_kill(child):
    """The exit status of child; a child past MANAGE_TIMEOUT is killed."""
    try:
        return child.wait(timeout=MANAGE_TIMEOUT)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()
        return 'killed after %s s' % MANAGE_TIMEOUT


# keystone-manage creates key repositories owned by this user.
_OWNER = ['--keystone-user', str(os.getuid()),
          '--keystone-group', str(os.getgid())]
# The identity endpoints in a template; each instance rewrites them to its
# own port before it starts.
TEMPLATE_URL = 'http://127.0.0.1:1'


def _identity_url(base_url):
    return base_url + '/v3'


def _new_password():
    return secrets.token_urlsafe(18)


def _create_identities(url, admin_password):
    """Projects, users and role grants over the REST API, as admin."""
    session = ks_session.Session(auth=Credentials(
        _identity_url(url), ADMIN[0], admin_password, ADMIN[1]).auth_plugin())
    identity = _identity_url(url)

    def create(kind, body):
        response = session.post('%s/%ss' % (identity, kind),
                                json={kind: body})
        return response.json()[kind]['id']

    roles = {role['name']: role['id'] for role in session.get(
        identity + '/roles').json()['roles']}
    projects = {ADMIN[1]: session.get(
        identity + '/projects', params={'name': ADMIN[1]}).json()[
            'projects'][0]['id']}
    users = {ADMIN[0]: {'project': ADMIN[1], 'password': admin_password}}
    for user, project, role in IDENTITIES:
        if project not in projects:
            projects[project] = create('project', {
                'name': project, 'domain_id': 'default'})
        password = _new_password()
        user_id = create('user', {'name': user, 'password': password,
                                  'domain_id': 'default'})
        session.put('%s/projects/%s/users/%s/roles/%s' % (
            identity, projects[project], user_id, roles[role]))
        users[user] = {'project': project, 'password': password}
    return {'projects': projects, 'users': users}


class KeystoneFixture(fixtures.Fixture):
    """A private Keystone with the identities of this module's table."""

    def _setUp(self):
        template = _Template()
        identities = template.ensure()
        self._projects = identities['projects']
        self._users = identities['users']
        self.state = tempfile.mkdtemp(prefix='tvm-keystone-', dir=BASE_TMP)
        self.addCleanup(shutil.rmtree, self.state, ignore_errors=True)
        for item in STATE_ITEMS:
            source = os.path.join(template.path, item)
            if os.path.isdir(source):
                shutil.copytree(source, os.path.join(self.state, item))
            else:
                shutil.copy2(source, self.state)
        self.server = _Server(self.state)
        self.addCleanup(self.server.stop)
        self.server.start()
        self.url = self.server.url
        self.auth_url = _identity_url(self.url)
        self.log_file = self.server.log

    def credentials(self, username):
        user = self._users[username]
        return Credentials(self.auth_url, username, user['password'],
                           user['project'])

    def member(self, project):
        """A user with the member role in project ('nfv' or 'other')."""
        return self.credentials(MEMBER_OF[project])

    @property
    def admin(self):
        return self.credentials(ADMIN[0])

    @property
    def service(self):
        """The service user that keystonemiddleware's auth_token uses."""
        return self.credentials(IDENTITIES[-1][0])

    def project_id(self, name):
        return self._projects[name]

    def get_token(self, user, project=None):
        """A token for user (Credentials or a name), scoped to project.

        The project defaults to the user's own.
        """
        if isinstance(user, str):
            user = self.credentials(user)
        plugin = user.auth_plugin(project)
        return plugin.get_token(ks_session.Session())

    def authtoken_config(self):
        """[keystone_authtoken] options for keystonemiddleware, as strings."""
        service = self.service
        return {
            'www_authenticate_uri': self.auth_url,
            'auth_url': self.auth_url,
            'auth_type': 'password',
            'username': service.username,
            'password': service.password,
            'user_domain_name': service.user_domain_name,
            'project_name': service.project_name,
            'project_domain_name': service.project_domain_name,
            'region_name': REGION,
            'interface': 'public',
        }


class KeystoneTestCase(base.FunctionalTestCase):
    """A test with ``self.keystone``: one Keystone shared by its class.

    The Keystone starts with the class's first test and stops after its
    last one (or when the test process ends); tests must not change its
    identities. A Keystone that cannot start is a skip, or a failure under
    CI, for every test of the class, as base.FunctionalTestCase.use_service.
    """

    def setUp(self):
        super().setUp()
        self.keystone = self._class_keystone()
        self.addOnException(self._attach_keystone_log)

    @classmethod
    def _class_keystone(cls):
        if '_keystone' not in cls.__dict__:
            cls._keystone = _start_shared()
        if isinstance(cls._keystone, KeystoneFixture):
            return cls._keystone
        error = cls._keystone
        if not isinstance(error, base.ServiceUnavailable):
            raise error
        raise _skip_or_fail(error)

    @classmethod
    def tearDownClass(cls):
        keystone = cls.__dict__.get('_keystone')
        if isinstance(keystone, KeystoneFixture):
            atexit.unregister(keystone.cleanUp)
            keystone.cleanUp()
        super().tearDownClass()

    def _attach_keystone_log(self, exc_info):
        if isinstance(self.__class__.__dict__.get('_keystone'),
                      KeystoneFixture):
            self.addDetail('keystone-log', testtools.content.text_content(
                _log_tail(self.keystone.log_file, 100)))


def _start_shared():
    """Start a KeystoneFixture outside any test; returns it or the error."""
    keystone = KeystoneFixture()
    try:
        keystone.setUp()
    except Exception as error:
        return base._service_unavailable_in(error) or error
    # The runner may never call tearDownClass (an interrupted run).
    atexit.register(keystone.cleanUp)
    return keystone


def _skip_or_fail(unavailable):
    message = 'service unavailable: %s' % unavailable
    if base.services_required():
        return AssertionError(message)
    return testtools.TestCase.skipException(message)
