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

"""README's run command, run as written: tools/run-local.sh.

It sets up and starts Mistral, a conductor and the API server, registers a
VIM on loopback and waits until it is REACHABLE; Ctrl-C (SIGINT to its
process group, as a terminal sends it) stops everything.
"""

import os
import signal
import subprocess

from oslo_utils import uuidutils
import sqlalchemy as sa

from tacker_vimmon.tests.functional import base
from tacker_vimmon.tests.functional import rabbit

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))
SCRIPT = os.path.join(TOP, 'tools', 'run-local.sh')
# Set-up is only checks on a machine where the test suite already runs;
# then Mistral's start and one probe round.
RUN_BOUND = 300
STOP_BOUND = 60


class TestRunLocal(base.FunctionalTestCase):

    TIMEOUT = 480

    def setUp(self):
        super().setUp()
        tag = uuidutils.generate_uuid(dashed=False)[:8]
        self.state = self.useFixture(base.fixtures.TempDir()).path
        self.env = dict(
            os.environ,
            TVM_LOCAL_STATE=self.state,
            TVM_API_PORT=str(base.free_port()),
            TVM_MISTRAL_PORT=str(base.free_port()),
            TVM_VIM_API_PORT=str(base.free_port()),
            TVM_LOCAL_VHOST='tvm-test-local-%s' % tag,
            TVM_LOCAL_MISTRAL_DB='tvm_test_local_%s' % tag)
        self.addCleanup(self._forget, self.env['TVM_LOCAL_VHOST'],
                        self.env['TVM_LOCAL_MISTRAL_DB'])

    @staticmethod
    def _forget(vhost, database):
        subprocess.run([rabbit.RABBITMQCTL, '-q', 'delete_vhost', vhost],
                       capture_output=True, timeout=60)
        engine = sa.create_engine(base.BACKEND_URLS['postgresql'],
                                  isolation_level='AUTOCOMMIT',
                                  poolclass=sa.pool.NullPool)
        with engine.connect() as connection:
            connection.execute(sa.text('DROP DATABASE IF EXISTS %s'
                                       % database))
        engine.dispose()

    def test_runs_everything_shows_a_reachable_vim_and_stops_on_ctrl_c(self):
        output_path = os.path.join(self.state, 'run-local.out')
        with open(output_path, 'w') as output:
            process = subprocess.Popen(
                ['bash', SCRIPT], stdout=output, stderr=subprocess.STDOUT,
                env=self.env, cwd=TOP, start_new_session=True)
        self.addCleanup(self._kill_group, process)

        def said(text):
            if process.poll() is not None:
                raise AssertionError('run-local.sh exited %s:\n%s' % (
                    process.returncode, self._tail(output_path)))
            return text in self._read(output_path)

        base.wait_for(lambda: said('Press Ctrl-C'), RUN_BOUND, interval=1,
                      message='run-local.sh to show a REACHABLE VIM')
        text = self._read(output_path)
        self.assertIn('REACHABLE after', text)
        self.assertIn('vim list', text)
        pids = self._service_pids()
        # Mistral, its second engine, the demo VIM's API, a conductor and
        # the API server.
        self.assertEqual(5, len(pids), text)

        os.killpg(process.pid, signal.SIGINT)
        process.wait(STOP_BOUND)
        self.assertIn('stopped;', self._read(output_path))
        base.wait_for(lambda: not any(map(_alive, pids)), STOP_BOUND,
                      message='every process run-local.sh started to stop')

    def _service_pids(self):
        pids = []
        for line in self._read(os.path.join(
                self.state, 'run-local.out')).splitlines():
            if line.startswith('started ') and '(pid ' in line:
                pids.append(int(line.split('(pid ')[1].split(',')[0]))
        return pids

    @staticmethod
    def _read(path):
        with open(path, errors='replace') as f:
            return f.read()

    def _tail(self, path):
        return self._read(path)[-4000:]

    @staticmethod
    def _kill_group(process):
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(STOP_BOUND)


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (exited, not yet reaped by its parent) counts as stopped.
    try:
        with open('/proc/%d/stat' % pid) as stat:
            return stat.read().split(') ', 1)[1][0] != 'Z'
    except FileNotFoundError:
        return False
