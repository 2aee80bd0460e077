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

"""tacker-vimmon's daemons run as real processes, as an operator runs them.

``ConductorProcess`` writes a configuration file, brings the database to
head (alembic, in the test's process), starts ``tacker-vimmon-conductor
--config-file F`` in its own process group, waits until it serves, and at
clean-up stops it with SIGTERM and checks that it exited cleanly. Its log
is attached to the test's details.
"""

import os
import signal
import subprocess
import sys

import fixtures
from oslo_utils import uuidutils
import sqlalchemy as sa
import testtools.content

from tacker_vimmon.db import migration
from tacker_vimmon.tests.functional import base
from tacker_vimmon.tests.functional import rabbit

START_TIMEOUT = 60
STOP_TIMEOUT = 60
# Logged by the conductor once its RPC server consumes from the broker.
SERVING_MARK = 'serving topic'


def console_script(name):
    """The console script installed next to this interpreter."""
    return os.path.join(os.path.dirname(sys.executable), name)


def start_conductor(test):
    """One conductor for ``test``, on a PostgreSQL database and a RabbitMQ
    vhost of its own, with the test's DB API on that database.

    :returns: the vhost's transport URL
    """
    database = test.real_database('postgresql')
    database_url = database.url.render_as_string(hide_password=False)
    vhost = test.use_service(rabbit.RabbitVhost())
    test.useFixture(ConductorProcess(
        vhost.transport_url, database_url,
        'conductor-%s' % uuidutils.generate_uuid()[:8]))
    test.use_db_api(database_url)
    return vhost.transport_url


class ConductorProcess(fixtures.Fixture):
    """One tacker-vimmon-conductor process.

    :param transport_url: the broker (e.g. RabbitVhost.transport_url)
    :param database_url: a SQLAlchemy URL (string) of a real database
    :param host: ``[DEFAULT] host``, the RPC server name
    :param conf: more {section: {option: value}} for the config file
    :param upgrade: upgrade the database to head first
    :param wait: wait until it serves; with False, call wait_serving()
        (to start several conductors side by side)
    """

    def __init__(self, transport_url, database_url, host, conf=None,
                 upgrade=True, wait=True):
        super().__init__()
        self.host = host
        self.upgrade = upgrade
        self.wait = wait
        self.sections = {
            'DEFAULT': {'host': host, 'transport_url': transport_url},
            'database': {'connection': database_url},
            # The reconciler would re-create (in Mistral) the monitors of
            # the tests' VIMs; tests that want it turn it on.
            'reconciler': {'enabled': False},
        }
        for section, options in (conf or {}).items():
            self.sections.setdefault(section, {}).update(options)
        self.process = None

    def _setUp(self):
        workdir = self.useFixture(fixtures.TempDir()).path
        self.config_file = os.path.join(workdir, 'tacker-vimmon.conf')
        self.log_file = os.path.join(workdir, 'conductor.log')
        base.write_config(self.config_file, self.sections)
        if self.upgrade:
            self._db_upgrade()
        # Clean-ups run last-in first-out: the log is read after the stop.
        self.addCleanup(self._attach_log)
        self.addCleanup(self.stop)
        self.start(wait=self.wait)

    def _db_upgrade(self):
        # In this process, which is seconds faster than the command;
        # test_db_manage covers tacker-vimmon-db-manage itself.
        engine = sa.create_engine(self.sections['database']['connection'],
                                  poolclass=sa.pool.NullPool)
        try:
            migration.upgrade('head', engine=engine)
        finally:
            engine.dispose()

    def _attach_log(self):
        self.addDetail('%s-log' % self.host,
                       testtools.content.text_content(self.log()))

    def start(self, wait=True):
        """Start the conductor; wait until its RPC server consumes."""
        self._marks_at_start = self.log().count(SERVING_MARK)
        with open(self.log_file, 'ab') as log:
            self.process = subprocess.Popen(
                [console_script('tacker-vimmon-conductor'), '--config-file',
                 self.config_file],
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        if wait:
            self.wait_serving()

    def wait_serving(self):
        base.wait_for(self._serving, START_TIMEOUT,
                      message='conductor %s to serve' % self.host)

    def _serving(self):
        if self.process.poll() is not None:
            raise AssertionError('conductor %s exited with %s:\n%s' % (
                self.host, self.process.returncode, self.log()))
        return self.log().count(SERVING_MARK) > self._marks_at_start

    def log(self):
        try:
            with open(self.log_file, errors='replace') as log:
                return log.read()
        except FileNotFoundError:
            return ''

    def running(self):
        return self.process is not None and self.process.poll() is None

    def terminate(self):
        """SIGTERM, as systemd stops it; return the exit status."""
        self.begin_stop()
        return self.process.wait(timeout=STOP_TIMEOUT)

    def begin_stop(self):
        """Send SIGTERM and return at once (to stop several together)."""
        if self.running():
            self.process.send_signal(signal.SIGTERM)

    def kill(self):
        """SIGKILL the whole process group: a crash, nothing cleaned up."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=STOP_TIMEOUT)

    def stop(self):
        """Clean-up: a conductor still running must stop cleanly."""
        if self.process is None or self.process.returncode is not None:
            return
        status = self.terminate()
        if status != 0:
            raise AssertionError('conductor %s exited with %s after SIGTERM'
                                 ':\n%s' % (self.host, status, self.log()))
