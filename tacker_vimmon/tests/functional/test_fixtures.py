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

"""The functional test fixtures themselves, against the real broker."""

import os

from oslo_config import cfg
import oslo_messaging as messaging

from tacker_vimmon.tests import fixtures as vimmon_fixtures
from tacker_vimmon.tests.functional import base
from tacker_vimmon.tests.functional import rabbit


class TestRabbitVhost(base.FunctionalTestCase):

    def test_vhost_carries_messages_and_is_private(self):
        vhost = self.use_service(rabbit.RabbitVhost())
        self.assertIn('/tvm-test-', vhost.transport_url)
        # oslo.messaging registers its tracing options on the global CONF
        # only; this test reads, never sets, options there.
        transport = messaging.get_rpc_transport(cfg.CONF,
                                                url=vhost.transport_url)
        self.addCleanup(transport.cleanup)
        target = messaging.Target(topic='fixture_selftest', server='s1')

        class Echo:
            def echo(self, context, value):
                return value

        server = messaging.get_rpc_server(transport, target, [Echo()],
                                          executor='threading')
        server.start()
        self.addCleanup(server.wait)
        self.addCleanup(server.stop)
        client = messaging.get_rpc_client(transport, target, timeout=30)
        self.assertEqual('ping', client.call({}, 'echo', value='ping'))


class TestPrivateRabbit(base.FunctionalTestCase):

    def test_restarts_on_its_port_and_leaves_the_shared_broker_alone(self):
        broker = rabbit.PrivateRabbit()
        # Runs after the fixture's own clean-up (last in, first out).
        self.addCleanup(self._check_gone, broker)
        self.use_service(broker)
        self.assertNotIn(':%d/' % rabbit._broker_address()[1],
                         broker.transport_url)
        url = broker.add_vhost('selftest')
        self.assertIn('selftest', broker.ctl('list_vhosts').stdout)
        broker.restart()
        # Same port and data: the vhost made before is still there.
        self.assertEqual(url, 'rabbit://guest:guest@127.0.0.1:%d/selftest'
                         % broker.port)
        self.assertIn('selftest', broker.ctl('list_vhosts').stdout)

    def _check_gone(self, broker):
        if broker.process is None:
            return
        self.assertIsNotNone(broker.process.poll())
        self.assertFalse(os.path.exists(broker.directory))
        # The machine's broker (other tests' vhosts on it) never noticed.
        self.assertTrue(rabbit._broker_listening())


class TestWaitFor(base.FunctionalTestCase):

    def test_returns_the_first_true_value(self):
        values = iter([0, None, 'done'])
        self.assertEqual('done', vimmon_fixtures.wait_for(
            lambda: next(values), 5, interval=0))

    def test_fails_with_the_message_after_the_deadline(self):
        error = self.assertRaises(AssertionError, vimmon_fixtures.wait_for,
                                  lambda: False, 0.05, interval=0.01,
                                  message='nothing')
        self.assertIn('nothing', str(error))
