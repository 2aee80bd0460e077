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

from unittest import mock

from oslo_config import cfg
import oslo_messaging as messaging

from tacker_vimmon.common import context as vimmon_context
from tacker_vimmon.common import exception
from tacker_vimmon.common import rpc
from tacker_vimmon.conductor import manager
from tacker_vimmon.conductor import rpcapi
from tacker_vimmon.db import api as db_api
from tacker_vimmon.tests import base
from tacker_vimmon.tests import fixtures as vimmon_fixtures


class RecordingEndpoint:
    """Answers like the conductor (1.2) and keeps what it got."""

    target = messaging.Target(version='1.2')

    def __init__(self):
        self.calls = []
        self.failures = []

    def update_vim(self, context, **kwargs):
        self.calls.append((context, kwargs))
        return kwargs['status']

    def monitor_failed(self, context, **kwargs):
        self.failures.append((context, kwargs))
        return 'ERROR'


class OneZeroEndpoint(RecordingEndpoint):
    """A conductor of an older release, in a rolling upgrade."""

    target = messaging.Target(version='1.0')


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
        self.assertEqual('1.5', rpcapi.ConductorAPI.RPC_API_VERSION)
        self.assertEqual('tacker_vimmon', api.client.target.exchange)
        self.assertEqual('tacker_vimmon_conductor', api.client.target.topic)
        self.assertEqual('1.5', api.client.target.version)

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
        self.serve(OneZeroEndpoint())
        client = self.api(version_cap='1.1').client.prepare(version='1.1')
        self.assertRaises(messaging.UnsupportedVersion, client.call,
                          self.context, 'update_vim', vim_id='v',
                          status='REACHABLE', action_id='a')


    def test_monitor_failed_sends_the_1_2_contract(self):
        endpoint = self.serve(RecordingEndpoint())
        answer = self.api().monitor_failed(self.context, 'vim-1',
                                           'action-1', 'no ICMP')
        self.assertEqual('ERROR', answer)
        [(_context, kwargs)] = endpoint.failures
        self.assertEqual({'vim_id': 'vim-1', 'action_id': 'action-1',
                          'reason': 'no ICMP'}, kwargs)

    def test_each_method_asks_for_the_version_it_needs(self):
        api = self.api()
        with mock.patch.object(api, 'client') as client:
            api.update_vim(self.context, 'v', 'REACHABLE', 'a')
            api.monitor_failed(self.context, 'v', 'a', 'why')
            api.ping(self.context, timeout=2)
        self.assertEqual(
            [mock.call(version='1.0', timeout=10),
             mock.call(version='1.2', timeout=10),
             mock.call(version='1.3', timeout=2)],
            client.prepare.call_args_list)

    def test_monitor_failed_is_refused_by_a_1_0_server(self):
        self.serve(OneZeroEndpoint())
        self.assertRaises(messaging.UnsupportedVersion,
                          self.api().monitor_failed, self.context, 'v', 'a',
                          'why')


class TestAgainstTheManager(base.DbTestCase):
    """The real endpoints: a 1.0 caller still works beside 1.2 ones."""

    def setUp(self):
        super().setUp()
        self.transport = rpc.get_transport_for(cfg.ConfigOpts(), 'fake://')
        self.addCleanup(self.transport.cleanup)
        server = rpc.get_server(
            rpc.target('tacker_vimmon_conductor', server='test-host'),
            [manager.ConductorManager(host='test-host')],
            transport=self.transport)
        server.start()
        self.addCleanup(server.wait)
        self.addCleanup(server.stop)
        self.vim = db_api.vim_create(self.context, vimmon_fixtures.vim_values(
            action_id='action-1'))

    def test_a_1_0_caller_and_a_1_2_caller(self):
        old = rpcapi.ConductorAPI(transport=self.transport, version_cap='1.0')
        self.assertEqual('REACHABLE', old.update_vim(
            self.context, self.vim.id, 'REACHABLE', 'action-1'))
        new = rpcapi.ConductorAPI(transport=self.transport)
        self.assertEqual('ERROR', new.monitor_failed(
            self.context, self.vim.id, 'action-1', 'no ICMP'))
        self.assertEqual('bad_action', new.monitor_failed(
            self.context, self.vim.id, 'action-0', 'no ICMP'))
        self.assertEqual('ERROR', db_api.vim_get(self.context,
                                                 self.vim.id).status)

    def test_ping_names_the_conductor_and_writes_nothing(self):
        before = db_api.vim_get(self.context, self.vim.id)
        events = len(db_api.event_get_all(self.context))
        api = rpcapi.ConductorAPI(transport=self.transport)
        self.assertEqual('test-host', api.ping(self.context, timeout=5))
        after = db_api.vim_get(self.context, self.vim.id)
        self.assertEqual((before.updated_at, before.last_check_in_at),
                         (after.updated_at, after.last_check_in_at))
        self.assertEqual(events, len(db_api.event_get_all(self.context)))

    def test_a_capped_client_does_not_send_monitor_failed(self):
        old = rpcapi.ConductorAPI(transport=self.transport, version_cap='1.0')
        self.assertRaises(messaging.RPCVersionCapError, old.monitor_failed,
                          self.context, self.vim.id, 'action-1', 'why')


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
