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

import os
import shutil
import socket
import subprocess
from urllib import parse

import fixtures
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
