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

"""The monitor runtime's reports, through real RabbitMQ, no Mistral.

When no conductor answers, the report function the monitor loop uses must
fail within bounded time with ConductorUnreachable, so that the loop backs
off and goes on probing instead of hanging or dying. With a conductor, the
process's check-in thread makes the routine check-ins.
"""

import itertools
import os
import threading
import time

from oslo_config import cfg
from oslo_utils import uuidutils

from tacker_vimmon.action import loop
from tacker_vimmon.action import runtime
from tacker_vimmon.common import context
from tacker_vimmon.common import rpc
from tacker_vimmon.conductor import rpcapi
from tacker_vimmon.db import api as db_api
from tacker_vimmon.tests import fixtures as vimmon_fixtures
from tacker_vimmon.tests.functional import base
from tacker_vimmon.tests.functional import processes
from tacker_vimmon.tests.functional import rabbit

VIM_ID = '4406cf8f-f2af-46cc-bfb9-e00add5805b7'
ACTION_ID = '9b2a5c8e-0d7f-4a61-8e7d-51f0c3a9e111'
# report_timeout (2 s), with room for a loaded machine.
FAIL_FAST_BOUND = 20


class TestReportsWithoutConductor(base.FunctionalTestCase):

    def runtime_for(self, transport_url):
        path = os.path.join(self.useFixture(base.fixtures.TempDir()).path,
                            'tacker-vimmon.conf')
        with open(path, 'w') as f:
            f.write('[DEFAULT]\ntransport_url = %s\n'
                    '[vim_monitor]\nreport_timeout = 2\n' % transport_url)
        # Probing plays no part here (and would need privileges).
        self.useFixture(base.fixtures.MockPatch(
            'tacker_vimmon.action.prober.get_prober'))
        rt = runtime.Runtime(runtime.load_config(path))
        self.addCleanup(rt.transport.cleanup)
        return rt.reporter(VIM_ID, ACTION_ID)

    def assertFailsFast(self, report):
        started = time.monotonic()
        self.assertRaises(loop.ConductorUnreachable, report, 'REACHABLE')
        self.assertLess(time.monotonic() - started, FAIL_FAST_BOUND)

    def test_broker_up_but_no_conductor(self):
        vhost = self.use_service(rabbit.RabbitVhost())
        self.assertFailsFast(self.runtime_for(vhost.transport_url))


class Verdict:
    """A monitor's verdict that never changes: only check-ins follow."""

    status = 'REACHABLE'
    reason = 'ok'

    def details(self):
        return {'rtt': 0.001, 'detail': None, 'checks': {}}


class TestCheckInThread(base.FunctionalTestCase):
    """Routine check-ins through the process's check-in thread (in
    update_vims calls), to a real conductor on PostgreSQL over RabbitMQ; a
    retired monitor exits on the 'bad_action' that thread hears."""

    CHECK_INTERVAL = 1.0
    SLOT = 0.25

    def setUp(self):
        super().setUp()
        transport_url = processes.start_conductor(self)
        path = os.path.join(self.useFixture(base.fixtures.TempDir()).path,
                            'tacker-vimmon-monitor.conf')
        base.write_config(path, {
            'DEFAULT': {'transport_url': transport_url},
            'vim_monitor': {'report_timeout': 5,
                            'check_in_slot': self.SLOT}})
        self.runtime = runtime.Runtime(runtime.load_config(path))
        self.addCleanup(self.runtime.transport.cleanup)

    def test_check_ins_by_the_thread_until_bad_action(self):
        action_id = uuidutils.generate_uuid()
        vim = db_api.vim_create(self.context, vimmon_fixtures.vim_values())
        db_api.vim_update(self.context, vim.id, {'action_id': action_id})
        report = self.runtime.reporter(vim.id, action_id)
        calls = []

        def recorded(status, **findings):
            answer = report(status, **findings)
            calls.append((threading.current_thread().name,
                          time.monotonic(), answer))
            return answer

        def recorded_many(reports):
            # The thread's check-ins go in update_vims calls.
            self.assertEqual([(vim.id, action_id, 'REACHABLE', 'ok')],
                             [(r['vim_id'], r['action_id'], r['status'],
                               r['reason']) for r in reports])
            [answer] = self.runtime.report_many(reports)
            calls.append((threading.current_thread().name,
                          time.monotonic(), answer))
            return [answer]

        self.runtime.check_ins._send = recorded_many

        settings = loop.ProbeSettings(
            count=1, interval=0.2, timeout=0.5, failure_threshold=2,
            check_interval=self.CHECK_INTERVAL)
        monitor = loop.MonitorLoop(vim.id, action_id, Verdict(), recorded,
                                   settings,
                                   check_ins=self.runtime.check_ins)
        results = []
        thread = threading.Thread(target=lambda: results.append(
            monitor.run()), name='monitor', daemon=True)
        thread.start()

        def by_check_in_thread():
            return [c for c in calls if c[0] == 'tacker-vimmon-check-ins']
        base.wait_for(lambda: len(by_check_in_thread()) >= 3, 30,
                      message='three check-ins by the check-in thread')
        self.assertEqual('REACHABLE',
                         db_api.vim_get(self.context, vim.id).status)
        # Only the first report was the monitor's own; the check-ins came
        # at most a slot early (and the thread's pass time late).
        self.assertEqual('monitor', calls[0][0])
        times = [when for _name, when, _answer in calls]
        for before, after in itertools.pairwise(times):
            self.assertGreaterEqual(after - before,
                                    self.CHECK_INTERVAL - self.SLOT - 0.05)
            self.assertLess(after - before, 2 * self.CHECK_INTERVAL)

        # Replaced: the next check-in, made by the thread, hears
        # 'bad_action' and the monitor's loop ends with it.
        db_api.vim_update(self.context, vim.id,
                          {'action_id': uuidutils.generate_uuid()})
        thread.join(30)
        self.assertFalse(thread.is_alive(), 'the monitor did not exit')
        self.assertEqual('bad_action', results[0]['exit_reason'])
        self.assertEqual(('tacker-vimmon-check-ins', 'bad_action'),
                         (calls[-1][0], calls[-1][2]))
        self.assertEqual(0, len(self.runtime.check_ins))


def pooled_connections(transport):
    """The AMQP connections (amqp.Connection) idle in transport's pool."""
    items = transport._driver._connection_pool._items
    return [connection.connection.connection for _ttl, connection in items]


class TestUnconfirmedSends(base.FunctionalTestCase):
    """The monitor's calls go out without publisher confirms, and are
    answered; a transport left as oslo.messaging makes it confirms them
    (so that the check below can tell the two apart)."""

    def setUp(self):
        super().setUp()
        self.transport_url = processes.start_conductor(self)

    def ping_through(self, transport):
        api = rpcapi.ConductorAPI(transport=transport, timeout=10)
        self.assertTrue(api.ping(context.get_admin_context()))
        connections = pooled_connections(transport)
        self.assertEqual(1, len(connections))
        return connections[0]

    def test_the_monitors_transport_sends_unconfirmed(self):
        path = os.path.join(self.useFixture(base.fixtures.TempDir()).path,
                            'tacker-vimmon-monitor.conf')
        base.write_config(path, {
            'DEFAULT': {'transport_url': self.transport_url}})
        monitors = runtime.Runtime(runtime.load_config(path))
        self.addCleanup(monitors.transport.cleanup)
        plain = rpc.get_transport_for(cfg.ConfigOpts(), self.transport_url)
        self.addCleanup(plain.cleanup)

        self.assertFalse(self.ping_through(monitors.transport)
                         .confirm_publish)
        self.assertTrue(self.ping_through(plain).confirm_publish)

        vim = db_api.vim_create(self.context, vimmon_fixtures.vim_values())
        action_id = uuidutils.generate_uuid()
        db_api.vim_update(self.context, vim.id, {'action_id': action_id})
        report = monitors.reporter(vim.id, action_id)
        self.assertEqual('REACHABLE', report('REACHABLE', reason='ok',
                                             details=Verdict().details()))
        self.assertEqual('REACHABLE',
                         db_api.vim_get(self.context, vim.id).status)
