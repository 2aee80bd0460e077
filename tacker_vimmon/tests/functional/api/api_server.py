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

"""A real tacker-vimmon-server process for functional tests.

``ApiServerProcess(db_url, ...)`` writes a configuration file and a Fernet
key repository into a temporary directory, upgrades the database to head,
starts ``tacker-vimmon-server`` on a free loopback port and waits until
``/healthcheck`` answers. ``url`` is its endpoint, ``log_path`` its log
file; on clean-up it is stopped with SIGTERM (and killed only if it does
not stop). Other helpers reuse it, for example with a real Keystone::

    server = self.useFixture(ApiServerProcess(
        db_url, auth_strategy='keystone',
        sections={'keystone_authtoken': {'www_authenticate_uri': ...}}))
"""

import os
import signal
import subprocess
import sys

import fixtures
import requests
import sqlalchemy as sa

from tacker_vimmon.db import migration
from tacker_vimmon.registry import crypto
from tacker_vimmon.tests.functional import base

START_TIMEOUT = 30
STOP_TIMEOUT = 30


def console_script(name):
    """The console script installed next to this interpreter."""
    return os.path.join(os.path.dirname(sys.executable), name)


class ApiServerProcess(fixtures.Fixture):
    """tacker-vimmon-server on its own port, database and key repository.

    :param db_url: SQLAlchemy URL (str or URL) of an empty database
    :param auth_strategy: 'noauth' or 'keystone'
    :param validate_credentials: [vim] validate_credentials
    :param sections: more options, {section: {option: value}}; they
        override the ones this fixture writes
    """

    def __init__(self, db_url, auth_strategy='noauth',
                 validate_credentials=False, sections=None):
        super().__init__()
        if not isinstance(db_url, str):
            db_url = db_url.render_as_string(hide_password=False)
        # As given: on MariaDB without ?charset=utf8mb4, which the
        # service must cope with (db.api speaks utf8mb4 by itself).
        self.db_url = db_url
        self.auth_strategy = auth_strategy
        self.validate_credentials = validate_credentials
        self.extra_sections = sections or {}
        self.process = None

    def _sections(self):
        sections = {
            'DEFAULT': {
                'auth_strategy': self.auth_strategy,
                'state_path': self.directory,
                'log_file': self.log_path,
                'debug': 'True',
            },
            'database': {'connection': self.db_url, 'max_retries': 3},
            'api': {'bind_host': '127.0.0.1', 'bind_port': self.port},
            'vim': {'validate_credentials': self.validate_credentials,
                    'keystone_timeout': 5},
            'vim_keys': {'key_repository': self.key_repository},
            # A registry only, unless a test gives Mistral and RabbitMQ.
            'vim_monitor': {'enabled': False},
        }
        for section, options in self.extra_sections.items():
            sections.setdefault(section, {}).update(options)
        return sections

    def _setUp(self):
        self.directory = self.useFixture(fixtures.TempDir()).path
        self.log_path = os.path.join(self.directory, 'server.log')
        self.config_path = os.path.join(self.directory, 'tacker-vimmon.conf')
        self.key_repository = os.path.join(self.directory, 'vim_keys')
        self.port = base.free_port()
        self.url = 'http://127.0.0.1:%d' % self.port
        base.write_config(self.config_path, self._sections())
        # In process: the same code as "tacker-vimmon-manage-keys setup" and
        # "tacker-vimmon-db-manage upgrade head" (tested as commands
        # elsewhere), without two more interpreter start-ups per server.
        crypto.KeyRepository(self.key_repository).setup()
        engine = sa.create_engine(self.db_url, poolclass=sa.pool.NullPool)
        try:
            migration.upgrade('head', engine=engine)
        finally:
            engine.dispose()
        self.start()

    def run_command(self, name, *args, check=True):
        """Run one of our console scripts on this server's configuration."""
        result = subprocess.run(
            [console_script(name), '--config-file', self.config_path,
             *args], capture_output=True, text=True, timeout=120)
        if check and result.returncode != 0:
            raise AssertionError('%s %s failed (%s): %s' % (
                name, ' '.join(args), result.returncode, result.stderr))
        return result

    def start(self):
        self.output_path = os.path.join(self.directory, 'server.out')
        with open(self.output_path, 'ab') as output:
            self.process = subprocess.Popen(
                [console_script('tacker-vimmon-server'), '--config-file',
                 self.config_path], stdout=output, stderr=output)
        self.addCleanup(self.stop)
        base.wait_for(self._healthy, START_TIMEOUT,
                      message='tacker-vimmon-server at %s' % self.url)

    def _healthy(self):
        if self.process.poll() is not None:
            raise AssertionError(
                'tacker-vimmon-server exited %s: %s' % (
                    self.process.returncode, self.output()))
        try:
            return requests.get(self.url + '/healthcheck',
                                timeout=2).status_code == 200
        except requests.ConnectionError:
            return False

    def stop(self):
        """SIGTERM; the server must exit 0 within STOP_TIMEOUT seconds."""
        if self.process is None or self.process.poll() is not None:
            return self.process and self.process.returncode
        self.process.send_signal(signal.SIGTERM)
        try:
            returncode = self.process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(STOP_TIMEOUT)
            raise AssertionError('tacker-vimmon-server ignored SIGTERM')
        if returncode != 0:
            raise AssertionError('tacker-vimmon-server exited %s on SIGTERM: '
                                 '%s' % (returncode, self.output()))
        return returncode

    def output(self):
        with open(self.output_path, errors='replace') as output:
            return output.read()[-4000:]

    def log_text(self):
        """Everything the server logged so far."""
        with open(self.log_path, errors='replace') as log:
            return log.read()
