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

"""The conductor's RPC contract, over oslo.messaging's fake:// driver.

A real RPC server on the fake transport receives what ConductorAPI sends,
so these tests see the exchange, topic, version, method and arguments that
go on the wire, and the exceptions that come back.
"""

from oslo_config import cfg
import oslo_messaging as messaging

from tacker_vimmon.common import context as vimmon_context
from tacker_vimmon.common import exception
from tacker_vimmon.common import rpc
from tacker_vimmon.conductor import manager
from tacker_vimmon.conductor import rpcapi
from tacker_vimmon.tests import base


class RecordingEndpoint:
    """Answers update_vim like the conductor and keeps what it got."""

    target = messaging.Target(version='1.0')

    def __init__(self):
        self.calls = []

    def update_vim(self, context, **kwargs):
        self.calls.append((context, kwargs))
        return kwargs['status']


class RefusingEndpoint(RecordingEndpoint):

    @messaging.expected_exceptions(exception.InvalidRpcCall)
    def update_vim(self, context, **kwargs):
        raise exception.InvalidRpcCall(method='update_vim', reason='no')


class TestConductorAPI(base.TestCase):

    def setUp(self):
        super().setUp()
        self.conf_ = cfg.ConfigOpts()
        self.transport = rpc.get_transport_for(self.conf_, 'fake://')
        self.addCleanup(self.transport.cleanup)

    def serve(self, endpoint, topic='tacker_vimmon_conductor'):
        server = rpc.get_server(rpc.target(topic, server='test-host'),
                                [endpoint], transport=self.transport)
        server.start()
        self.addCleanup(server.wait)
        self.addCleanup(server.stop)
        return endpoint

    def api(self, **kwargs):
        kwargs.setdefault('topic', 'tacker_vimmon_conductor')
        return rpcapi.ConductorAPI(transport=self.transport, timeout=10,
                                   **kwargs)

    def test_update_vim_sends_the_contract(self):
        endpoint = self.serve(RecordingEndpoint())
        self.context.request_id = 'req-1'
        answer = self.api().update_vim(self.context, 'vim-1', 'REACHABLE',
                                       'action-1')
        self.assertEqual('REACHABLE', answer)
        [(context, kwargs)] = endpoint.calls
        self.assertEqual({'vim_id': 'vim-1', 'status': 'REACHABLE',
                          'action_id': 'action-1'}, kwargs)
        # The context arrives as tacker-vimmon's own RequestContext.
        self.assertEqual('req-1', context.request_id)
        self.assertIsInstance(context, vimmon_context.RequestContext)

    def test_client_target(self):
        api = self.api()
        self.assertEqual('1.1', rpcapi.ConductorAPI.RPC_API_VERSION)
        self.assertEqual('tacker_vimmon', api.client.target.exchange)
        self.assertEqual('tacker_vimmon_conductor', api.client.target.topic)
        self.assertEqual('1.1', api.client.target.version)

    def test_manager_target_matches_client_version(self):
        self.assertEqual(rpcapi.ConductorAPI.RPC_API_VERSION,
                         manager.ConductorManager.target.version)

    def test_topic_and_timeout_never_come_from_configuration(self):
        # The action runs in Mistral's executor: the global configuration
        # there is Mistral's, and the client must not read it.
        self.flags(group='conductor', topic='elsewhere')
        api = rpcapi.ConductorAPI(transport=self.transport)
        self.assertEqual((rpc.CONDUCTOR_TOPIC, rpcapi.DEFAULT_TIMEOUT),
                         (api.topic, api.timeout))
        self.assertEqual(rpc.CONDUCTOR_TOPIC, api.client.target.topic)

    def test_other_topic_is_not_served(self):
        self.serve(RecordingEndpoint(), topic='another_topic')
        self.assertRaises(messaging.MessagingTimeout,
                          self.api().update_vim, self.context, 'vim-1',
                          'REACHABLE', 'action-1', timeout=1)

    def test_expected_error_reaches_the_caller_as_its_class(self):
        self.serve(RefusingEndpoint())
        error = self.assertRaises(
            exception.InvalidRpcCall, self.api().update_vim, self.context,
            'vim-1', 'SOMETHING', 'action-1')
        self.assertIn('Invalid call of update_vim: no', str(error))

    def test_newer_version_is_refused_by_a_1_0_server(self):
        self.serve(RecordingEndpoint())
        client = self.api(version_cap='1.1').client.prepare(version='1.1')
        self.assertRaises(messaging.UnsupportedVersion, client.call,
                          self.context, 'update_vim', vim_id='v',
                          status='REACHABLE', action_id='a')


class TestPrivateTransport(base.TestCase):

    def test_private_conf_gets_every_option_oslo_messaging_reads(self):
        conf = cfg.ConfigOpts()
        transport = rpc.get_transport_for(conf, 'fake://')
        self.addCleanup(transport.cleanup)
        # Registered only on cfg.CONF by oslo.messaging itself.
        self.assertIn('oslo_messaging_tracing', conf)
        self.assertIn('oslo_messaging_metrics', conf)
        self.assertIn('rpc_response_timeout', conf)

    def test_process_transport_needs_init(self):
        rpc.cleanup()
        self.assertRaises(RuntimeError, rpc.get_transport)
        rpc.register_messaging_opts(base.CONF)
        self.flags(transport_url='fake://')
        rpc.init(base.CONF)
        self.addCleanup(rpc.cleanup)
        self.assertIsNotNone(rpc.get_transport())
