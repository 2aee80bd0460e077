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

"""A private RabbitMQ virtual host for one test.

Each test that talks to RabbitMQ gets its own vhost, so queues, exchanges
and fanouts of parallel tests (and of earlier, crashed runs) never meet. The
vhost is created and deleted with ``rabbitmqctl`` (this machine runs the
broker locally as root); the guest user gets full rights on it.
"""

import itertools
import os
import shutil
import signal
import socket
import subprocess
import time
from urllib import parse

import amqp
import fixtures
import kombu
import kombu.exceptions
from oslo_utils import uuidutils

from tacker_vimmon.tests.functional import base

RABBITMQCTL = os.environ.get('TVM_TEST_RABBITMQCTL', 'rabbitmqctl')
CTL_TIMEOUT = 60


def _broker_address():
    url = parse.urlsplit(base.RABBIT_URL)
    return url.hostname or '127.0.0.1', url.port or 5672


def _broker_listening():
    try:
        with socket.create_connection(_broker_address(), timeout=2):
            return True
    except OSError:
        return False


class RabbitVhost(fixtures.Fixture):
    """A new vhost on the real broker, deleted afterwards.

    ``transport_url`` is an oslo.messaging URL for it.
    """

    def __init__(self):
        super().__init__()
        self.name = 'tvm-test-%s' % uuidutils.generate_uuid(dashed=False)[:12]

    def _ctl(self, *args):
        return subprocess.run([RABBITMQCTL, '-q', *args], check=True,
                              capture_output=True, text=True,
                              timeout=CTL_TIMEOUT)

    def _setUp(self):
        if not _broker_listening() or not shutil.which(RABBITMQCTL):
            raise base.ServiceUnavailable(
                'RabbitMQ at %s:%s (or %s) is not available'
                % (*_broker_address(), RABBITMQCTL))
        try:
            self._ctl('add_vhost', self.name)
        except (subprocess.SubprocessError, OSError) as error:
            raise base.ServiceUnavailable(
                'RabbitMQ: cannot add vhost %s: %s' % (self.name, error))
        self.addCleanup(self._ctl, 'delete_vhost', self.name)
        url = parse.urlsplit(base.RABBIT_URL)
        user = parse.unquote(url.username or 'guest')
        self._ctl('set_permissions', '-p', self.name, user, '.*', '.*', '.*')
        self.transport_url = parse.urlunsplit(
            (url.scheme, url.netloc, '/' + parse.quote(self.name, safe=''),
             '', ''))


# Debian's scripts as they are, not /usr/sbin's wrappers, which switch to
# the rabbitmq user (and its home, so the shared node's cookie).
RABBITMQ_BIN = os.environ.get('TVM_TEST_RABBITMQ_BIN', '/usr/lib/rabbitmq/bin')
RABBITMQ_SERVER = os.path.join(RABBITMQ_BIN, 'rabbitmq-server')
BROKER_START_TIMEOUT = 60
BROKER_STOP_TIMEOUT = 30
_private_nodes = itertools.count(1)


class PrivateRabbit(fixtures.Fixture):
    """A RabbitMQ node of the test's own, to stop and restart at will.

    The machine's broker is shared by every test running beside this one
    and must never be restarted; a test that breaks the broker breaks this
    one. It has its own node name, AMQP and distribution ports, data, log
    and home directories (so its own Erlang cookie too), no plugins, and
    ignores the machine's rabbitmq-env.conf and rabbitmq.conf. It talks to
    the machine's epmd only to register its name.

    ``transport_url`` is an oslo.messaging URL of its default vhost;
    ``add_vhost(name)`` makes another (for a Mistral of its own).
    """

    def __init__(self):
        super().__init__()
        self.node = 'tvm-%d-%d@localhost' % (os.getpid(),
                                             next(_private_nodes))
        self.process = None

    def _setUp(self):
        if not os.access(RABBITMQ_SERVER, os.X_OK):
            raise base.ServiceUnavailable(
                'RabbitMQ server %s is not installed' % RABBITMQ_SERVER)
        self.directory = self.useFixture(fixtures.TempDir()).path
        self.port = base.free_port()
        self.dist_port = base.free_port()
        self.log_path = os.path.join(self.directory, 'server.out')
        self._write_files()
        self.transport_url = 'rabbit://guest:guest@127.0.0.1:%d/' % self.port
        self.addCleanup(self.stop)
        self.start()

    def _write_files(self):
        def write(name, text):
            path = os.path.join(self.directory, name)
            with open(path, 'w') as stream:
                stream.write(text)
            return path
        # Empty: the machine's rabbitmq-env.conf names the shared node.
        self._env_file = write('rabbitmq-env.conf', '')
        self._plugins_file = write('enabled_plugins', '[].\n')
        self._config_file = write('rabbitmq.conf', (
            'listeners.tcp.default = 127.0.0.1:%d\n'
            'distribution.listener.interface = 127.0.0.1\n'
            'distribution.listener.port_range.min = %d\n'
            'distribution.listener.port_range.max = %d\n'
            # A test's broker is small; never refuse to publish because
            # the machine's disk or memory looks busy.
            'disk_free_limit.absolute = 1MB\n'
            'vm_memory_high_watermark.relative = 0.9\n')
            % (self.port, self.dist_port, self.dist_port))

    def environment(self):
        return dict(
            os.environ,
            HOME=self.directory,
            RABBITMQ_CONF_ENV_FILE=self._env_file,
            RABBITMQ_NODENAME=self.node,
            RABBITMQ_NODE_IP_ADDRESS='127.0.0.1',
            RABBITMQ_NODE_PORT=str(self.port),
            RABBITMQ_DIST_PORT=str(self.dist_port),
            RABBITMQ_CONFIG_FILE=self._config_file,
            RABBITMQ_ENABLED_PLUGINS_FILE=self._plugins_file,
            RABBITMQ_MNESIA_BASE=os.path.join(self.directory, 'mnesia'),
            RABBITMQ_LOG_BASE=os.path.join(self.directory, 'log'),
            ERL_EPMD_ADDRESS='127.0.0.1')

    def start(self):
        """Start the node (again) and wait until it speaks AMQP."""
        started = time.monotonic()
        with open(self.log_path, 'ab') as log:
            self.process = subprocess.Popen(
                [RABBITMQ_SERVER], stdout=log, stderr=subprocess.STDOUT,
                env=self.environment(), start_new_session=True)
        base.wait_for(self._answers, BROKER_START_TIMEOUT, interval=0.1,
                      message='private RabbitMQ %s on port %d'
                      % (self.node, self.port))
        self.start_seconds = time.monotonic() - started

    def _answers(self):
        if self.process.poll() is not None:
            raise AssertionError('RabbitMQ %s exited with %s:\n%s' % (
                self.node, self.process.returncode, self.log_tail()))
        try:
            connection = kombu.Connection(
                self.transport_url.replace('rabbit://', 'amqp://'),
                connect_timeout=1)
            with connection:
                connection.connect()
            return True
        except (OSError, kombu.exceptions.KombuError, amqp.AMQPError):
            return False

    def stop(self):
        """Stop the node (SIGTERM, as systemd does); SIGKILL if it hangs."""
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(BROKER_STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            pass
        # The Erlang VM and its helpers share the script's process group.
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait(BROKER_STOP_TIMEOUT)

    def restart(self):
        """Stop and start again: same node, port and data directory."""
        self.stop()
        self.start()

    def ctl(self, *args):
        """rabbitmqctl against this node (the same home, so the cookie)."""
        return subprocess.run(
            [os.path.join(RABBITMQ_BIN, 'rabbitmqctl'), '-q', '-n', self.node,
             *args], check=True,
            capture_output=True, text=True, timeout=CTL_TIMEOUT,
            env=self.environment())

    def add_vhost(self, name):
        """A new vhost for guest; its transport URL."""
        self.ctl('add_vhost', name)
        self.ctl('set_permissions', '-p', name, 'guest', '.*', '.*', '.*')
        return 'rabbit://guest:guest@127.0.0.1:%d/%s' % (
            self.port, parse.quote(name, safe=''))

    def log_tail(self, lines=40):
        try:
            with open(self.log_path, errors='replace') as log:
                return ''.join(log.readlines()[-lines:])
        except OSError:
            return ''
