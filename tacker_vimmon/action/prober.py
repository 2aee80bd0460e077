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

"""ICMP echo for every monitor of one process, over IPv4 and IPv6.

A Mistral executor runs hundreds of monitors at once, so they share one
Prober: one ICMP socket per address family and one receive thread that
hands each echo reply to whoever waits for it. A probe costs a few hundred
bytes and no process, where ``ping`` would cost a fork and an exec per
round.

Replies are matched by a per-process token and a 64-bit request counter in
the payload, which every echo reply carries back unchanged: the 16-bit
sequence number alone wraps in seconds with thousands of monitors (2,000
VIMs at 3 echoes a second reuse it every 11 s), and on unprivileged
sockets the kernel, not us, chooses the identifier. The sequence is the
counter's low 16 bits and must agree too.

Two kinds of socket can send ICMP echo:

* ``dgram``: unprivileged ICMP (SOCK_DGRAM, IPPROTO_ICMP/ICMPV6), allowed
  when the process's group is in the sysctl net.ipv4.ping_group_range
  (which covers IPv6 as well). The kernel sets the identifier and delivers
  only the replies to this socket.
* ``raw``: SOCK_RAW, which needs CAP_NET_RAW. It sees every ICMP message of
  the host, so replies are filtered by identifier and token.

``auto`` takes the first that works. Neither working is IcmpUnavailable.
"""

import collections
import errno
import ipaddress
import os
import selectors
import socket
import struct
import threading
import time

from oslo_log import log as logging

from tacker_vimmon.common import exception
from tacker_vimmon.common import threads

LOG = logging.getLogger(__name__)

MODES = ('auto', 'dgram', 'raw')

ICMP_ECHO_REQUEST = 8
ICMP_ECHO_REPLY = 0
ICMPV6_ECHO_REQUEST = 128
ICMPV6_ECHO_REPLY = 129

_HEADER = struct.Struct('!BBHHH')  # type, code, checksum, id, sequence
_TOKEN_SIZE = 8
_COUNTER = struct.Struct('!Q')
_PAYLOAD_SIZE = 32
_MATCHED_SIZE = _HEADER.size + _TOKEN_SIZE + _COUNTER.size
_RECV_SIZE = 2048
# The kernel's receive time of each reply (struct timespec, CLOCK_REALTIME),
# so that a reply read late still gives its true round-trip time. Python
# names the option only on some builds; 35 is Linux's number.
_SO_TIMESTAMPNS = getattr(socket, 'SO_TIMESTAMPNS', 35)
_TIMESPEC = struct.Struct('@qq')
_ANCILLARY_SIZE = socket.CMSG_SPACE(_TIMESPEC.size)
# The probing threads of a process (this receive thread, the engine's
# scheduler, the API checker) each do their work in passes at most this
# often, everything that came or fell due since in one pass. At 2,000
# monitors, a wake-up for each reply, request or socket event costs more
# than the work itself: in a Mistral executor with 2,000 monitors, these
# threads took 5.0 % of a core with 0.1 s passes against 7.2 % with 0.02 s
# ones (tools/bench/bench_scale.py; bench_prober.py --pass-intervals
# compares them in a process of their own).
# Replies and connects are timed by the kernel, so the passes cost no
# accuracy, only up to this much delay in acting: a small part of a
# detection time of seconds.
PASS_INTERVAL = 0.1
# A pass that found this many replies reads again at once: a burst (every
# monitor of an executor starting together) must not overflow the
# socket's buffer while the thread sleeps. (2,000 monitors send some 70
# requests a pass; the default net.core.rmem_max, 208 KiB, holds about
# 250 replies.)
READ_BURST = 128
# Asked of the kernel for each ICMP socket (it caps this at
# net.core.rmem_max): room for bursts of replies between two reads.
RECEIVE_BUFFER = 1 << 20
# The receive thread's kernel name (common/threads.py).
RECEIVE_THREAD = 'tvm-icmp'

# Socket errors that mean "not allowed" rather than "not supported".
_DENIED = (errno.EACCES, errno.EPERM)


class ProbeResult(collections.namedtuple(
        'ProbeResult', ['sent', 'received', 'rtts', 'error'])):
    """What one probe saw: counts, round-trip times (s), and why not.

    ``error`` says why requests could not be sent (for example "No route
    to host"); it is None when they all left.
    """

    @property
    def reachable(self):
        return self.received > 0


class _Family:
    """One address family's protocol numbers and message types."""

    def __init__(self, family, protocol, request, reply):
        self.family = family
        self.protocol = protocol
        self.request = request
        self.reply = reply


_IPV4 = _Family(socket.AF_INET, socket.IPPROTO_ICMP,
                ICMP_ECHO_REQUEST, ICMP_ECHO_REPLY)
_IPV6 = _Family(socket.AF_INET6, socket.IPPROTO_ICMPV6,
                ICMPV6_ECHO_REQUEST, ICMPV6_ECHO_REPLY)


def checksum(data):
    """The Internet checksum (RFC 1071) of data.

    The ones' complement sum of the 16-bit words is the data read as one
    big number, modulo 0xffff (65536 is 1 modulo 0xffff), with 0xffff for
    a multiple of it that is not zero: one C-level operation instead of a
    loop over the words.
    """
    if len(data) % 2:
        data += b'\0'
    number = int.from_bytes(data, 'big')
    total = number % 0xffff
    if total == 0 and number:
        total = 0xffff
    return ~total & 0xffff


# A raw socket gets every ICMP message the host receives, our own echo
# requests to local addresses included; the kernel drops all but echo
# replies for us (Linux's ICMP_FILTER and ICMP6_FILTER: a set bit blocks
# that type).
_SOL_RAW = 255
_ICMP_FILTER = 1
_ICMP6_FILTER = 1


def _only_echo_replies(sock, family):
    if family is _IPV4:
        blocked = struct.pack('=I', 0xffffffff & ~(1 << ICMP_ECHO_REPLY))
        sock.setsockopt(_SOL_RAW, _ICMP_FILTER, blocked)
    else:
        words = [0xffffffff] * 8
        words[ICMPV6_ECHO_REPLY >> 5] &= ~(1 << (ICMPV6_ECHO_REPLY & 31))
        sock.setsockopt(socket.IPPROTO_ICMPV6, _ICMP6_FILTER,
                        struct.pack('=8I', *words))


def _open(family, kind):
    sock_type = socket.SOCK_DGRAM if kind == 'dgram' else socket.SOCK_RAW
    sock = socket.socket(family.family, sock_type, family.protocol)
    sock.setblocking(False)
    if kind == 'raw':
        try:
            _only_echo_replies(sock, family)
        except OSError as error:
            # Replies are still told from the rest, in _dispatch.
            LOG.debug('No ICMP type filter on the raw socket: %s', error)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RECEIVE_BUFFER)
        sock.setsockopt(socket.SOL_SOCKET, _SO_TIMESTAMPNS, 1)
    except OSError as error:
        # Replies are then timed when read, up to PASS_INTERVAL late.
        LOG.debug('No kernel receive times on the ICMP socket: %s', error)
    return sock


def _choose_kind(mode):
    """The socket kind this process may use, tried on IPv4.

    :raises: IcmpUnavailable naming what was tried
    """
    kinds = ('dgram', 'raw') if mode == 'auto' else (mode,)
    problems = []
    for kind in kinds:
        try:
            _open(_IPV4, kind).close()
            return kind
        except OSError as error:
            if error.errno not in _DENIED:
                raise exception.IcmpUnavailable(
                    reason='opening an ICMP %s socket failed: %s'
                    % (kind, error))
            problems.append(_why_denied(kind))
    raise exception.IcmpUnavailable(reason='; '.join(problems))


def _why_denied(kind):
    if kind == 'dgram':
        try:
            with open('/proc/sys/net/ipv4/ping_group_range') as f:
                allowed = ' '.join(f.read().split())
        except OSError:
            allowed = 'unknown'
        return ('unprivileged ICMP is not allowed for group %d '
                '(net.ipv4.ping_group_range is "%s")'
                % (os.getgid(), allowed))
    return 'a raw socket needs CAP_NET_RAW, which this process lacks'


class _Probe:
    """The replies one probe() call is waiting for."""

    def __init__(self, count):
        self.count = count
        self.sent_at = {}
        self.deadline = {}
        self.rtts = []
        self.done = threading.Event()
        self.lock = threading.Lock()

    def answered(self, key, now):
        with self.lock:
            sent = self.sent_at.pop(key, None)
            if sent is None or now > self.deadline[key]:
                return
            # Never below 0: the kernel's clock and ours are read apart.
            self.rtts.append(max(0.0, now - sent))
            self._check_done()

    def not_sent(self):
        with self.lock:
            self.count -= 1
            self._check_done()

    def _check_done(self):
        if len(self.rtts) >= self.count:
            self.done.set()


class Destination(collections.namedtuple(
        'Destination', ['family', 'sock', 'sockaddr'])):
    """Where echo requests to one address go (see Prober.destination)."""


class Prober:
    """ICMP echo for any number of threads at once.

    :param mode: 'auto', 'dgram' or 'raw'
    :raises: IcmpUnavailable when the process may use neither kind
    """

    def __init__(self, mode='auto'):
        if mode not in MODES:
            raise ValueError('icmp_socket must be one of %s, not %r'
                             % (', '.join(MODES), mode))
        self.kind = _choose_kind(mode)
        self.identifier = os.getpid() & 0xffff
        self._token = os.urandom(_TOKEN_SIZE)
        self._padding = bytes(_PAYLOAD_SIZE - _TOKEN_SIZE - _COUNTER.size)
        # Guards the counter only. The waiting replies are a dict, whose
        # single operations are atomic: the receive thread pops from it
        # without a lock, so that it never holds up the sender.
        self._lock = threading.Lock()
        self._counter = 0
        # key: (address family, counter) -> on_reply(key, now)
        self._pending = {}
        self._sockets = {}
        self._socket_errors = {}
        self._selector = selectors.DefaultSelector()
        self._wake_r, self._wake_w = os.pipe()
        self._selector.register(self._wake_r, selectors.EVENT_READ, None)
        self._closed = False
        for family in (_IPV4, _IPV6):
            self._open_family(family)
        self._thread = threading.Thread(target=self._receive_loop,
                                        name='icmp-prober', daemon=True)
        self._thread.start()
        LOG.info('ICMP prober ready (%s sockets, pid %d)', self.kind,
                 os.getpid())

    def _open_family(self, family):
        try:
            sock = _open(family, self.kind)
        except OSError as error:
            # IPv6 may be disabled on the host: IPv4 VIMs still work.
            self._socket_errors[family.family] = str(error)
            LOG.warning('No ICMP socket for %s: %s', family.family.name,
                        error)
            return
        self._sockets[family.family] = sock
        self._selector.register(sock, selectors.EVENT_READ, family)

    def close(self):
        """Stop the receive thread and close the sockets."""
        if self._closed:
            return
        self._closed = True
        os.write(self._wake_w, b'x')
        self._thread.join(5)
        for sock in self._sockets.values():
            sock.close()
        self._selector.close()
        os.close(self._wake_r)
        os.close(self._wake_w)

    def abandon(self):
        """Drop this process's copy of a Prober made before a fork.

        The parent still uses the sockets, the pipe and the receive thread
        (which the child does not have): close only the child's file
        descriptors, waking nobody.
        """
        self._closed = True
        for sock in self._sockets.values():
            sock.close()
        self._selector.close()
        os.close(self._wake_r)
        os.close(self._wake_w)

    def destination(self, address):
        """The socket and socket address of an IP address, for send().

        :param address: an IPv4 or IPv6 address (not a name)
        :raises: OSError when this process has no socket for its family
        """
        ip = ipaddress.ip_address(address.split('%', 1)[0])
        family = _IPV6 if ip.version == 6 else _IPV4
        sock = self._sockets.get(family.family)
        if sock is None:
            raise OSError(errno.EAFNOSUPPORT,
                          'no ICMP socket for IPv%d: %s' % (
                              ip.version,
                              self._socket_errors.get(family.family)))
        return Destination(family, sock, self._sockaddr(family, address))

    def send(self, destination, on_reply):
        """Send one echo request; on_reply(key, now) runs on its reply.

        on_reply runs on the receive thread, at most once, and must be
        quick. The caller forgets the request (forget()) when it stops
        caring, answered or not.

        :returns: the request's key
        :raises: OSError when the request could not be sent
        """
        family = destination.family
        with self._lock:
            self._counter += 1
            counter = self._counter
        self._pending[(family.family, counter)] = on_reply
        try:
            destination.sock.sendto(self._packet(family, counter),
                                    destination.sockaddr)
        except OSError:
            self.forget([(family.family, counter)])
            raise
        return (family.family, counter)

    def forget(self, keys):
        """Stop waiting for the replies to these requests."""
        for key in keys:
            self._pending.pop(key, None)

    def probe(self, address, count=3, interval=1.0, timeout=1.0):
        """Send count echo requests to address; wait for the replies.

        Requests go ``interval`` seconds apart; each reply counts if it
        comes within ``timeout`` seconds of its request. Returns early once
        every request is answered. This blocks the caller; the monitors use
        the engine (tacker_vimmon.action.engine) instead.

        :param address: an IPv4 or IPv6 address (not a name)
        :returns: ProbeResult
        """
        try:
            destination = self.destination(address)
        except OSError as error:
            return ProbeResult(0, 0, [], error.strerror or str(error))
        probe = _Probe(count)
        keys = []
        error = None
        try:
            for index in range(count):
                if index:
                    probe.done.wait(interval)
                key = self._send_for(probe, destination, timeout)
                if isinstance(key, OSError):
                    error = key.strerror or str(key)
                    probe.not_sent()
                    continue
                keys.append(key)
            if keys:
                last_deadline = max(probe.deadline.values())
                probe.done.wait(max(0.0, last_deadline - time.monotonic()))
        finally:
            self.forget(keys)
        with probe.lock:
            rtts = list(probe.rtts)
        return ProbeResult(len(keys), len(rtts), rtts, error)

    def _send_for(self, probe, destination, timeout):
        """Send one request of probe(); its key, or the OSError."""
        # Under probe.lock, which the reply handler takes too: a reply
        # that comes at once waits until its request is written down.
        with probe.lock:
            # Before sending: on a local address the kernel receives (and
            # stamps) the reply before sendto() returns.
            now = time.monotonic()
            try:
                key = self.send(destination, probe.answered)
            except OSError as error:
                return error
            probe.sent_at[key] = now
            probe.deadline[key] = now + timeout
        return key

    @staticmethod
    def _sockaddr(family, address):
        if family is _IPV4:
            return (address, 0)
        # getaddrinfo fills in the scope id of "fe80::1%eth0".
        return socket.getaddrinfo(address, 0, socket.AF_INET6,
                                  socket.SOCK_DGRAM, 0,
                                  socket.AI_NUMERICHOST)[0][4]

    def _packet(self, family, counter):
        payload = self._token + _COUNTER.pack(counter) + self._padding
        sequence = counter & 0xffff
        checksum_value = 0
        if family is _IPV4 and self.kind == 'raw':
            # The kernel fills in the checksum of an unprivileged socket's
            # requests, and always the ICMPv6 one (it covers the IPv6
            # pseudo-header); a raw IPv4 request's is ours to compute.
            checksum_value = checksum(_HEADER.pack(
                family.request, 0, 0, self.identifier, sequence) + payload)
        return _HEADER.pack(family.request, 0, checksum_value,
                            self.identifier, sequence) + payload

    def _receive_loop(self):
        threads.name_this_thread(RECEIVE_THREAD)
        while not self._closed:
            woke = time.monotonic()
            read = 0
            for key, _events in self._selector.select():
                if key.data is None:
                    return
                read += self._drain(key.fileobj, key.data)
            rest = woke + PASS_INTERVAL - time.monotonic()
            if rest > 0 and read < READ_BURST:
                time.sleep(rest)

    def _drain(self, sock, family):
        """Handle every reply waiting on sock; how many there were."""
        # Kernel times are CLOCK_REALTIME; the engine's are monotonic.
        offset = time.monotonic() - time.time()
        read = 0
        replies = []
        while True:
            try:
                data, ancillary, _flags, _address = sock.recvmsg(
                    _RECV_SIZE, _ANCILLARY_SIZE)
            except (BlockingIOError, InterruptedError):
                break
            except OSError as error:
                LOG.debug('ICMP receive error: %s', error)
                break
            read += 1
            self._dispatch(family, data, _received_at(ancillary, offset),
                           replies)
        if replies:
            self.deliver(replies)
        return read

    @staticmethod
    def deliver(replies):
        """Run on_reply(key, now) for each (on_reply, key, now) read at once.

        Replaced by the probing engine, which runs a batch under one
        acquisition of its lock rather than one per reply.
        """
        for on_reply, key, now in replies:
            on_reply(key, now)

    def _dispatch(self, family, data, now, replies=None):
        """Match one received message; its on_reply runs now, or is added
        to replies for deliver().
        """
        if family is _IPV4 and self.kind == 'raw':
            # A raw IPv4 socket delivers the IP header too.
            data = data[(data[0] & 0x0f) * 4:] if data else data
        if len(data) < _MATCHED_SIZE:
            return
        kind, _code, _sum, identifier, sequence = _HEADER.unpack_from(data)
        if kind != family.reply:
            return
        # Unprivileged sockets get the identifier the kernel chose.
        if self.kind == 'raw' and identifier != self.identifier:
            return
        if data[_HEADER.size:_HEADER.size + _TOKEN_SIZE] != self._token:
            return
        (counter,) = _COUNTER.unpack_from(data, _HEADER.size + _TOKEN_SIZE)
        if sequence != counter & 0xffff:
            return
        key = (family.family, counter)
        on_reply = self._pending.pop(key, None)
        if on_reply is None:
            return
        if replies is None:
            on_reply(key, now)
        else:
            replies.append((on_reply, key, now))


def _received_at(ancillary, offset):
    """The monotonic time a reply arrived, from its kernel time if given."""
    for level, kind, value in ancillary:
        if (level == socket.SOL_SOCKET and kind == _SO_TIMESTAMPNS
                and len(value) >= _TIMESPEC.size):
            seconds, nanoseconds = _TIMESPEC.unpack_from(value)
            return seconds + nanoseconds * 1e-9 + offset
    return time.monotonic()


_prober_lock = threading.Lock()
_prober = None
_prober_pid = None


def get_prober(icmp_socket='auto'):
    """This process's shared Prober, made on first use and after a fork.

    A child of a fork has none of its parent's threads, so it gets a new
    Prober rather than one whose receive thread does not exist.

    :raises: IcmpUnavailable
    """
    global _prober, _prober_pid
    with _prober_lock:
        if _prober is not None and _prober_pid != os.getpid():
            _prober.abandon()
            _prober = None
        if _prober is None:
            _prober = Prober(icmp_socket)
            _prober_pid = os.getpid()
        return _prober
