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

"""The shared ICMP prober: packets, reply matching, choice of socket."""

import errno
import os
import socket
import struct
import threading
from unittest import mock

from tacker_vimmon.action import prober
from tacker_vimmon.common import exception
from tacker_vimmon.tests import base
from tacker_vimmon.tests import fixtures as vimmon_fixtures


def _reply(kind, identifier, counter, token, ip_header=b'',
           sequence=None):
    """An echo reply carrying back the request counter of a payload."""
    if sequence is None:
        sequence = counter & 0xffff
    header = struct.pack('!BBHHH', kind, 0, 0, identifier, sequence)
    return ip_header + header + token + struct.pack('!Q', counter) + bytes(16)


class TestChecksum(base.TestCase):

    def test_known_value(self):
        # An echo request, id 1, seq 1, no payload: 0xf7fd.
        self.assertEqual(0xf7fd, prober.checksum(
            struct.pack('!BBHHH', 8, 0, 0, 1, 1)))

    def test_packet_checksums_to_zero(self):
        packet = struct.pack('!BBHHH', 8, 0, 0, 4242, 7) + b'odd'
        value = prober.checksum(packet)
        filled = packet[:2] + struct.pack('!H', value) + packet[4:]
        self.assertEqual(0, prober.checksum(filled))


class TestProbeResult(base.TestCase):

    def test_reachable_when_any_reply(self):
        self.assertTrue(prober.ProbeResult(3, 1, [0.01], None).reachable)
        self.assertFalse(prober.ProbeResult(3, 0, [], None).reachable)
        self.assertFalse(prober.ProbeResult(0, 0, [], 'no route').reachable)


class ProberTestCase(base.TestCase):
    """A Prober whose sockets are fakes and whose thread idles."""

    def make(self, kind='raw', allowed=('dgram', 'raw')):
        created = []

        def fake_socket(family, sock_type, proto):
            wanted = 'dgram' if sock_type == socket.SOCK_DGRAM else 'raw'
            if wanted not in allowed:
                raise PermissionError(errno.EPERM, 'Operation not permitted')
            sock = vimmon_fixtures.FakeIcmpSocket(family, sock_type, proto)
            # Closing twice is fine: the prober closes it too.
            self.addCleanup(sock.close)
            created.append(sock)
            return sock

        self.useFixture(base.fixtures.MonkeyPatch(
            'socket.socket', fake_socket))
        p = prober.Prober(kind)
        self.addCleanup(p.close)
        return p, created


class TestSocketChoice(ProberTestCase):

    def test_auto_prefers_unprivileged(self):
        p, _ = self.make('auto')
        self.assertEqual('dgram', p.kind)

    def test_auto_falls_back_to_raw(self):
        p, _ = self.make('auto', allowed=('raw',))
        self.assertEqual('raw', p.kind)

    def test_neither_allowed_names_the_sysctl_and_capability(self):
        error = self.assertRaises(exception.IcmpUnavailable, self.make,
                                  'auto', allowed=())
        self.assertIn('net.ipv4.ping_group_range', str(error))
        self.assertIn('CAP_NET_RAW', str(error))

    def test_dgram_only_does_not_try_raw(self):
        error = self.assertRaises(exception.IcmpUnavailable, self.make,
                                  'dgram', allowed=('raw',))
        self.assertIn('ping_group_range', str(error))

    def test_unknown_mode(self):
        self.assertRaises(ValueError, prober.Prober, 'icmp')


class TestMatching(ProberTestCase):
    """Replies reach the probe that waits for them, and no other."""

    def _pending_probe(self, p, family=socket.AF_INET, counter=5):
        probe = prober._Probe(1)
        key = (family, counter)
        probe.sent_at[key] = 0.0
        probe.deadline[key] = 10.0
        p._pending[key] = probe.answered
        return probe

    def test_raw_ipv4_reply_skips_ip_header(self):
        p, _ = self.make('raw')
        probe = self._pending_probe(p)
        ip_header = bytes([0x45]) + bytes(19)
        p._dispatch(prober._IPV4, _reply(0, p.identifier, 5, p._token,
                                         ip_header), now=0.25)
        self.assertEqual([0.25], probe.rtts)
        self.assertTrue(probe.done.is_set())

    def test_raw_ignores_other_identifier_token_or_type(self):
        p, _ = self.make('raw')
        probe = self._pending_probe(p, socket.AF_INET6)
        for data in (_reply(129, p.identifier ^ 1, 5, p._token),
                     _reply(129, p.identifier, 5, b'x' * 8),
                     _reply(128, p.identifier, 5, p._token),
                     b'short'):
            p._dispatch(prober._IPV6, data, now=0.1)
        self.assertEqual([], probe.rtts)
        p._dispatch(prober._IPV6, _reply(129, p.identifier, 5, p._token),
                    now=0.1)
        self.assertEqual([0.1], probe.rtts)

    def test_dgram_accepts_kernel_identifier(self):
        p, _ = self.make('dgram')
        probe = self._pending_probe(p)
        p._dispatch(prober._IPV4, _reply(0, 999, 5, p._token), now=0.2)
        self.assertEqual([0.2], probe.rtts)

    def test_counter_and_sequence_must_both_match(self):
        # 5 + 65536 has the sequence of 5, but another counter; and a
        # counter whose sequence disagrees is nobody's reply.
        p, _ = self.make('dgram')
        probe = self._pending_probe(p)
        p._dispatch(prober._IPV4, _reply(0, 999, 5 + 0x10000, p._token),
                    now=0.1)
        p._dispatch(prober._IPV4, _reply(0, 999, 5, p._token, sequence=6),
                    now=0.1)
        self.assertEqual([], probe.rtts)
        self.assertIn((socket.AF_INET, 5), p._pending)

    def test_late_reply_does_not_count(self):
        p, _ = self.make('dgram')
        probe = self._pending_probe(p)
        p._dispatch(prober._IPV4, _reply(0, 999, 5, p._token), now=11.0)
        self.assertEqual([], probe.rtts)


class TestProbe(ProberTestCase):

    def test_requests_carry_identifier_sequence_and_checksum(self):
        p, _ = self.make('raw')
        result = p.probe('192.0.2.1', count=2, interval=0.001,
                         timeout=0.01)
        self.assertEqual((2, 0, [], None), tuple(result))
        packets = p._sockets[socket.AF_INET].sent
        sent = [data for data, address in packets]
        self.assertEqual([('192.0.2.1', 0)] * 2,
                         [address for data, address in packets])
        kinds = [struct.unpack_from('!BBHHH', data) for data in sent]
        self.assertEqual([8, 8], [k[0] for k in kinds])
        self.assertEqual({p.identifier}, {k[3] for k in kinds})
        self.assertEqual(1, kinds[1][4] - kinds[0][4])
        # The payload: the token, then the counter whose low bits are the
        # sequence.
        self.assertEqual([p._token] * 2, [d[8:16] for d in sent])
        counters = [struct.unpack_from('!Q', d, 16)[0] for d in sent]
        self.assertEqual([k[4] for k in kinds],
                         [c & 0xffff for c in counters])
        self.assertEqual([0, 0], [prober.checksum(d) for d in sent])
        self.assertEqual({}, p._pending)

    def test_ipv6_goes_to_the_ipv6_socket(self):
        p, _ = self.make('raw')
        p.probe('2001:db8::1', count=1, interval=0.001, timeout=0.01)
        self.assertEqual([], p._sockets[socket.AF_INET].sent)
        data, address = p._sockets[socket.AF_INET6].sent[0]
        self.assertEqual('2001:db8::1', address[0])
        self.assertEqual(128, data[0])

    def test_send_error_is_reported_and_nothing_waits(self):
        p, _ = self.make('raw')
        p._sockets[socket.AF_INET].fail_with = OSError(errno.EHOSTUNREACH,
                                       'No route to host')
        result = p.probe('192.0.2.1', count=3, interval=0.001, timeout=5)
        self.assertEqual((0, 0, [], 'No route to host'), tuple(result))
        self.assertFalse(result.reachable)

    def test_sequence_wraps_but_counter_does_not(self):
        p, _ = self.make('raw')
        p._counter = 0xffff - 1
        p.probe('192.0.2.1', count=3, interval=0.001, timeout=0.001)
        sent = [d for d, _a in p._sockets[socket.AF_INET].sent]
        self.assertEqual([0xffff, 0, 1],
                         [struct.unpack_from('!BBHHH', d)[4] for d in sent])
        self.assertEqual([0xffff, 0x10000, 0x10001],
                         [struct.unpack_from('!Q', d, 16)[0] for d in sent])
        self.assertEqual([0, 0, 0], [prober.checksum(d) for d in sent])

    def test_send_calls_back_with_the_key_once(self):
        p, _ = self.make('dgram')
        answered = []
        destination = p.destination('192.0.2.1')
        key = p.send(destination, lambda *args: answered.append(args))
        self.assertEqual(socket.AF_INET, key[0])
        data, _address = p._sockets[socket.AF_INET].sent[0]
        for _ in range(2):
            p._dispatch(prober._IPV4, _reply(0, 7, key[1], p._token),
                        now=3.0)
        self.assertEqual([(key, 3.0)], answered)
        other = p.send(destination, lambda *args: answered.append(args))
        p.forget([other])
        p._dispatch(prober._IPV4, _reply(0, 7, other[1], p._token), now=4.0)
        self.assertEqual([(key, 3.0)], answered)

    def test_send_error_raises_and_leaves_nothing_pending(self):
        p, _ = self.make('raw')
        p._sockets[socket.AF_INET].fail_with = OSError(errno.ENETUNREACH,
                                                       'Network unreachable')
        self.assertRaises(OSError, p.send, p.destination('192.0.2.1'),
                          lambda *args: None)
        self.assertEqual({}, p._pending)

    def test_missing_family_is_an_error_not_an_exception(self):
        p, _ = self.make('raw')
        del p._sockets[socket.AF_INET6]
        p._socket_errors[socket.AF_INET6] = 'Address family not supported'
        result = p.probe('2001:db8::1', count=1)
        self.assertIn('Address family not supported', result.error)


class TestSharedProber(base.TestCase):

    def setUp(self):
        super().setUp()
        self.useFixture(base.fixtures.MonkeyPatch(
            'tacker_vimmon.action.prober._prober', None))
        self.made = []
        real_prober = prober.Prober

        def fake_prober(mode):
            instance = mock.create_autospec(real_prober, instance=True)
            self.made.append(instance)
            return instance

        self.useFixture(base.fixtures.MonkeyPatch(
            'tacker_vimmon.action.prober.Prober', fake_prober))

    def test_one_per_process(self):
        first = prober.get_prober('raw')
        results = []
        threads = [threading.Thread(
            target=lambda: results.append(prober.get_prober('raw')))
            for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        self.assertEqual([first] * 4, results)
        self.assertEqual(1, len(self.made))

    def test_new_one_after_fork(self):
        first = prober.get_prober('auto')
        with mock.patch('os.getpid', return_value=os.getpid() + 1):
            second = prober.get_prober('auto')
        self.assertIsNot(first, second)
        first.abandon.assert_called_once_with()
        first.close.assert_not_called()
