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

"""The shared ICMP prober for real: loopback and namespace hosts.

Every address probed here is loopback or belongs to a namespace host this
test made, under the ProbeGuard's unreachable routes.
"""

import json
import os
import subprocess
import sys
import threading

from tacker_vimmon.action import engine
from tacker_vimmon.action import loop
from tacker_vimmon.action import prober
from tacker_vimmon.action import target
from tacker_vimmon.common import states
from tacker_vimmon.tests.functional import base
from tacker_vimmon.tests.functional import netns

FAST = {'count': 2, 'interval': 0.05, 'timeout': 1.0}


class ProberTestCase(base.FunctionalTestCase):

    def setUp(self):
        super().setUp()
        self.guard = self.use_service(netns.ProbeGuard())
        self.prober = prober.Prober('auto')
        self.addCleanup(self.prober.close)


class TestLoopback(ProberTestCase):

    def test_ipv4_and_ipv6_loopback_answer(self):
        for address in ('127.0.0.1', '::1'):
            result = self.prober.probe(address, **FAST)
            self.assertEqual(2, result.sent, address)
            self.assertEqual(2, result.received, address)
            self.assertTrue(result.reachable)
            self.assertIsNone(result.error)

    def test_a_raw_socket_hears_only_echo_replies_and_times_them(self):
        # The kernel filter drops every other ICMP message (our own
        # requests to loopback among them), and the kernel's receive time
        # gives a round-trip time that cannot be below zero.
        raw = prober.Prober('raw')
        self.addCleanup(raw.close)
        dispatched = []
        real_dispatch = raw._dispatch

        def counting(family, data, now, replies=None):
            # IPv4 raw messages start with the IP header.
            start = (data[0] & 0x0f) * 4 if family is prober._IPV4 else 0
            dispatched.append(data[start])
            return real_dispatch(family, data, now, replies)

        raw._dispatch = counting
        for address in ('127.0.0.1', '::1'):
            result = raw.probe(address, count=3, interval=0.05, timeout=1.0)
            self.assertEqual(3, result.received, address)
            self.assertTrue(all(0 <= rtt < 0.5 for rtt in result.rtts),
                            result.rtts)
        # Other echo replies of this host may come too (a raw socket
        # hears them all), but no request and nothing else.
        self.assertGreaterEqual(len(dispatched), 6)
        self.assertEqual({prober.ICMP_ECHO_REPLY, prober.ICMPV6_ECHO_REPLY},
                         set(dispatched))

    def test_many_threads_share_one_prober(self):
        # Each thread gets its own replies: 40 probes at once, of 3
        # requests each, to 40 loopback addresses.
        results = {}

        def probe(address):
            results[address] = self.prober.probe(address, count=3,
                                                 interval=0.02, timeout=1)

        addresses = ['127.0.0.%d' % i for i in range(1, 41)]
        threads = [threading.Thread(target=probe, args=(a,))
                   for a in addresses]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(10)
        self.assertEqual(sorted(addresses), sorted(results))
        for address, result in results.items():
            self.assertEqual((3, 3), (result.sent, result.received), address)
        self.assertEqual({}, self.prober._pending)


class TestNamespaceHosts(ProberTestCase):

    def setUp(self):
        super().setUp()
        self.host = self.useFixture(netns.NetnsHosts(self.guard)).hosts[0]

    def assertLeavesNotByDefaultRoute(self, address):
        default = netns.ip('route', 'show', 'default').split()
        device = default[default.index('dev') + 1] if default else None
        route = netns.route_get(address)
        self.assertNotIn('dev %s ' % device, route + ' ')

    def test_reachable_then_down_then_up(self):
        for address in (self.host.ipv4, self.host.ipv6):
            self.assertTrue(self.prober.probe(address, **FAST).reachable,
                            address)
        self.host.set_down()
        for address in (self.host.ipv4, self.host.ipv6):
            result = self.prober.probe(address, **FAST)
            self.assertFalse(result.reachable, address)
            self.assertLeavesNotByDefaultRoute(address)
        self.host.set_up()
        base.wait_for(lambda: self.prober.probe(self.host.ipv6,
                                                **FAST).reachable,
                      timeout=10, message='IPv6 host back')
        self.assertTrue(self.prober.probe(self.host.ipv4, **FAST).reachable)

    def test_guard_refuses_an_address_without_a_host(self):
        # The route of the test range that no host has is the guard's own:
        # the kernel refuses to send at all.
        for address in (netns.UNUSED_IPV4, netns.UNUSED_IPV6):
            self.assertIn('No route to host', netns.route_get(address))
            result = self.prober.probe(address, **FAST)
            self.assertEqual(0, result.sent, address)
            self.assertFalse(result.reachable)
            self.assertIsNotNone(result.error)


ENGINE_SETTINGS = loop.ProbeSettings(count=2, interval=0.2, timeout=0.5,
                                     failure_threshold=2, check_interval=60)


class TestEngine(ProberTestCase):
    """The probing engine's own threads, against real hosts."""

    def setUp(self):
        super().setUp()
        self.host = self.useFixture(netns.NetnsHosts(self.guard)).hosts[0]
        self.engine = engine.Engine(self.prober)
        self.addCleanup(self.engine.close)

    def watch(self, address):
        signal = threading.Event()
        monitor = self.engine.add(target.ProbeTarget('http://x', address),
                                  ENGINE_SETTINGS, signal)
        self.addCleanup(self.engine.remove, monitor)
        return monitor, signal

    def test_verdicts_follow_the_host(self):
        watched = [self.watch(a) for a in (self.host.ipv4, self.host.ipv6)]
        for monitor, signal in watched:
            self.assertTrue(signal.wait(5))
            self.assertEqual(states.REACHABLE, monitor.status)
            signal.clear()
        self.host.set_down()
        # Two failed rounds of 2 x 0.2 s + 0.5 s, after the one under way.
        for monitor, signal in watched:
            self.assertTrue(signal.wait(10))
            self.assertEqual(states.UNREACHABLE, monitor.status)
            signal.clear()
        self.host.set_up()
        for monitor, _signal in watched:
            base.wait_for(lambda m=monitor: m.status == states.REACHABLE,
                          timeout=15, message='host back')

    def test_many_loopback_monitors_share_the_engine(self):
        watched = [self.watch('127.0.%d.%d' % (i // 250, i % 250 + 1))
                   for i in range(300)]
        for monitor, signal in watched:
            self.assertTrue(signal.wait(10), monitor.where.host)
            self.assertEqual(states.REACHABLE, monitor.status)


_CHILD = """
import json, sys
from tacker_vimmon.common import exception
from tacker_vimmon.action import engine
from tacker_vimmon.action import loop
from tacker_vimmon.action import prober
from tacker_vimmon.action import target
from tacker_vimmon.common import states
try:
    p = prober.Prober(sys.argv[1])
except exception.IcmpUnavailable as error:
    print(json.dumps({'error': str(error)}))
    sys.exit(0)
print(json.dumps({'kind': p.kind, 'answered': [
    p.probe(a, count=2, interval=0.05, timeout=0.5).received
    for a in ('127.0.0.1', '::1')]}))
"""


class TestUnprivilegedIcmp(ProberTestCase):
    """SOCK_DGRAM ICMP where net.ipv4.ping_group_range allows it.

    The sysctl belongs to a network namespace, so a fresh namespace tries
    both settings without touching the machine's own.
    """

    def setUp(self):
        super().setUp()
        self.host = self.useFixture(netns.NetnsHosts(self.guard)).hosts[0]

    def _run_inside(self, mode):
        out = subprocess.run(
            ['ip', 'netns', 'exec', self.host.namespace, sys.executable,
             '-c', _CHILD, mode], capture_output=True, text=True,
            timeout=60, check=True, env=dict(os.environ))
        return json.loads(out.stdout.strip().splitlines()[-1])

    def _ping_group_range(self, value):
        self.host.set_sysctl('net.ipv4.ping_group_range', value)

    def test_dgram_works_when_the_group_is_allowed(self):
        self._ping_group_range('0 2147483647')
        self.assertEqual({'kind': 'dgram', 'answered': [2, 2]},
                         self._run_inside('dgram'))
        self.assertEqual('dgram', self._run_inside('auto')['kind'])

    def test_dgram_refused_names_the_sysctl(self):
        self._ping_group_range('1 0')
        answer = self._run_inside('dgram')
        self.assertIn('net.ipv4.ping_group_range', answer['error'])
        self.assertIn('"1 0"', answer['error'])

