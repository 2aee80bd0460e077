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

"""The API check: does the VIM's API answer, without credentials?

One check is a TCP connect to the auth_url's host and port, a TLS
handshake for https (verifying the certificate as the VIM's cert_verify
and CA certificate say), and an HTTP GET of a document the API serves
without authentication (Keystone's ``/v3``, Kubernetes' ``/version``).
Any HTTP answer below 400, and 401 or 403 (the API is there, it wants
credentials), counts as answering.

Every check of a process runs on one thread with one epoll object, on
non-blocking sockets (ApiChecker): thousands of VIMs cost no thread each,
only a few system calls per check. The probing engine
(tacker_vimmon.action.engine) decides when each VIM is checked.
"""

import collections
import datetime
import errno
import heapq
import itertools
import os
import select
import socket
import ssl
import struct
import threading
import time
from urllib import parse

from oslo_log import log as logging

from tacker_vimmon.action import outcome
from tacker_vimmon.action import prober
from tacker_vimmon.common import states
from tacker_vimmon.common import threads

LOG = logging.getLogger(__name__)

# The most of an answer read: the status line is all that is needed.
_MAX_HEAD = 8192
_RECV_SIZE = 4096
# SSL contexts kept (one per cert_verify and CA certificate): making one
# loads the system's CA bundle, which costs milliseconds.
_MAX_CONTEXTS = 64
_USER_AGENT = 'tacker-vimmon-monitor'
# The checker's kernel thread name (common/threads.py).
CHECK_THREAD = 'tvm-api-check'
# HTTP statuses of an API that answers but wants credentials.
_NEEDS_CREDENTIALS = (401, 403)
# Linux's struct tcp_info (linux/tcp.h): tcpi_state is its first byte, and
# tcpi_rtt, the smoothed round-trip time in microseconds (once connected,
# that of the handshake), the unsigned 32-bit field at byte 68.
_TCP_INFO = getattr(socket, 'TCP_INFO', 11)
_TCP_INFO_LENGTH = 72
_TCP_RTT = struct.Struct('=I')
_TCP_RTT_OFFSET = 68
_TCP_ESTABLISHED = 1


class ApiTarget(collections.namedtuple('ApiTarget', [
        'tls', 'host', 'port', 'path', 'verify', 'ca_cert'])):
    """What to check: where, how to trust it, which document to GET."""

    @classmethod
    def from_settings(cls, url, api):
        """The target of a VIM from its auth_url and the probe's ``api``.

        :param api: {'path': the document to GET (default: the
            auth_url's own path), 'verify': check the certificate,
            'ca_cert': a PEM CA bundle to trust instead of the system's}
        :raises: ValueError naming what is wrong
        """
        text = url.strip()
        if '://' not in text:
            text = 'http://' + text
        parts = parse.urlsplit(text)
        tls = parts.scheme.lower() == 'https'
        if parts.scheme.lower() not in ('http', 'https'):
            raise ValueError('the API check needs an http:// or https:// '
                             'URL, not %s://' % parts.scheme)
        path = api.get('path') or parts.path or '/'
        if not path.startswith('/'):
            raise ValueError('the API check path must start with /')
        return cls(tls=tls, host=parse.unquote(parts.hostname or ''),
                   port=parts.port or (443 if tls else 80), path=path,
                   verify=bool(api.get('verify', True)),
                   ca_cert=api.get('ca_cert') or None)

    def request(self):
        host = ('[%s]' % self.host.split('%')[0] if ':' in self.host
                else self.host)
        if self.port != (443 if self.tls else 80):
            host = '%s:%d' % (host, self.port)
        return ('GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: %s\r\n'
                'Accept: application/json\r\nConnection: close\r\n\r\n'
                % (self.path, host, _USER_AGENT)).encode('ascii', 'replace')


def status_line_result(head):
    """The CheckResult of an answer's first bytes, or None for more."""
    end = head.find(b'\r\n')
    if end < 0:
        if len(head) < _MAX_HEAD:
            return None
        end = len(head)
    fields = head[:end].split(None, 2)
    if (len(fields) < 2 or not fields[0].startswith(b'HTTP/')
            or not fields[1].isdigit()):
        return outcome.CheckResult(False, states.REASON_HTTP_ERROR,
                                   'the answer is not HTTP')
    code = int(fields[1])
    extra = {'http_status': code}
    if code < 400 or code in _NEEDS_CREDENTIALS:
        return outcome.CheckResult(True, states.REASON_OK, None,
                                   extra=extra)
    return outcome.CheckResult(False, states.REASON_HTTP_ERROR,
                               'HTTP %d' % code, extra=extra)


def handshake_rtt(sock):
    """The kernel's round-trip time of a connected TCP socket, in seconds.

    None when the socket is not connected (the connect failed), or the
    kernel gives no tcp_info.
    """
    try:
        info = sock.getsockopt(socket.IPPROTO_TCP, _TCP_INFO,
                               _TCP_INFO_LENGTH)
    except OSError:
        return None
    if len(info) < _TCP_INFO_LENGTH or info[0] != _TCP_ESTABLISHED:
        return None
    return _TCP_RTT.unpack_from(info, _TCP_RTT_OFFSET)[0] * 1e-6


def certificate_expiry(der):
    """The certificate's notAfter as 'YYYY-MM-DDTHH:MM:SSZ', or None."""
    if not der:
        return None
    try:
        from cryptography import x509
    except ImportError:
        return None
    try:
        cert = x509.load_der_x509_certificate(der)
    except ValueError:
        return None
    expires = getattr(cert, 'not_valid_after_utc', None)
    if expires is None:
        expires = cert.not_valid_after.replace(tzinfo=datetime.UTC)
    return expires.strftime('%Y-%m-%dT%H:%M:%SZ')


class _Contexts:
    """SSL client contexts, one per (verify, CA certificate)."""

    def __init__(self):
        self._contexts = collections.OrderedDict()

    def get(self, verify, ca_cert):
        key = (verify, ca_cert)
        context = self._contexts.get(key)
        if context is None:
            context = self._make(verify, ca_cert)
            self._contexts[key] = context
            if len(self._contexts) > _MAX_CONTEXTS:
                self._contexts.popitem(last=False)
        else:
            self._contexts.move_to_end(key)
        return context

    @staticmethod
    def _make(verify, ca_cert):
        if not verify:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
            return context
        if ca_cert:
            return ssl.create_default_context(cadata=ca_cert)
        return ssl.create_default_context()


class _Check:
    """One check's socket and where it stands (on the checker thread)."""

    def __init__(self, checker, address, target, deadline, on_done):
        self.checker = checker
        self.address = address
        self.target = target
        self.deadline = deadline
        self.on_done = on_done
        self.sock = None
        # The epoll events the checker waits on for this socket (0: none).
        self.waiting_for = 0
        self.phase = 'connect'
        self.started = checker.clock()
        self.rtt = None
        self.request = target.request()
        self.head = b''
        self.extra = {}
        self.finished = False

    def start(self):
        family = socket.AF_INET6 if ':' in self.address else socket.AF_INET
        try:
            if family == socket.AF_INET:
                sockaddr = (self.address, self.target.port)
            else:
                # getaddrinfo fills in the scope id of "fe80::1%eth0".
                sockaddr = socket.getaddrinfo(
                    self.address, self.target.port, family,
                    socket.SOCK_STREAM, 0, socket.AI_NUMERICHOST)[0][4]
            self.sock = socket.socket(family, socket.SOCK_STREAM)
            self.sock.setblocking(False)
            code = self.sock.connect_ex(sockaddr)
        except OSError as error:
            return self.finish(outcome.failed(error))
        if code not in (0, errno.EINPROGRESS):
            return self.finish(outcome.failed(code))
        self.checker.want(self, select.EPOLLOUT)

    def step(self):
        try:
            getattr(self, '_' + self.phase)()
        except ssl.SSLCertVerificationError as error:
            self.finish(outcome.CheckResult(
                False, states.REASON_TLS_ERROR,
                'certificate not trusted: %s' % (error.verify_message
                                                 or error.reason)))
        except ssl.SSLError as error:
            self.finish(outcome.CheckResult(
                False, states.REASON_TLS_ERROR,
                'TLS failed: %s' % (error.reason or error)))
        except OSError as error:
            self.finish(outcome.failed(error, immediate=False))

    def _connect(self):
        self.rtt = handshake_rtt(self.sock)
        if self.rtt is None:
            code = self.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if code:
                return self.finish(outcome.failed(code, immediate=False))
            # Connected, but no tcp_info: the time this pass saw it.
            self.rtt = self.checker.clock() - self.started
        if not self.target.tls:
            self.phase = 'send'
            return self._send()
        context = self.checker.contexts.get(self.target.verify,
                                            self.target.ca_cert)
        self.checker.forget(self)
        self.sock = context.wrap_socket(
            self.sock, server_hostname=self.target.host or None,
            do_handshake_on_connect=False)
        self.phase = 'handshake'
        self._handshake()

    def _handshake(self):
        if not self._io(self.sock.do_handshake):
            return
        self.extra['cert_expires_at'] = certificate_expiry(
            self.sock.getpeercert(binary_form=True))
        self.phase = 'send'
        self._send()

    def _send(self):
        while self.request:
            sent = self._io(self.sock.send, self.request)
            if sent is False:
                return
            self.request = self.request[sent:]
        self.phase = 'receive'
        self.checker.want(self, select.EPOLLIN)

    def _receive(self):
        while True:
            data = self._io(self.sock.recv, _RECV_SIZE)
            if data is False:
                return
            if not data:
                return self.finish(outcome.CheckResult(
                    False, states.REASON_HTTP_ERROR,
                    'the connection closed before an HTTP answer'))
            self.head += data
            result = status_line_result(self.head)
            if result is not None:
                return self.finish(result)

    def _io(self, call, *args):
        """call(); False (and the wait registered) when it would block."""
        try:
            result = call(*args)
        except (ssl.SSLWantReadError, BlockingIOError, InterruptedError):
            self.checker.want(self, select.EPOLLIN)
            return False
        except ssl.SSLWantWriteError:
            self.checker.want(self, select.EPOLLOUT)
            return False
        return True if result is None else result

    def finish(self, result):
        if self.finished:
            return
        self.finished = True
        self.checker.forget(self)
        if self.sock is not None:
            self.sock.close()
        now = self.checker.clock()
        extra = dict(self.extra, **(result.extra or {}))
        try:
            self.on_done(result._replace(rtt=self.rtt, extra=extra or None))
        except Exception:
            LOG.exception('Handling the API check of %s failed',
                          self.target.host)
        LOG.debug('API check of %(host)s: %(reason)s in %(took).3f s',
                  {'host': self.target.host, 'reason': result.reason,
                   'took': now - self.started})

    def timed_out(self):
        what = {'connect': 'TCP connect', 'handshake': 'TLS handshake'}.get(
            self.phase, 'HTTP answer')
        self.finish(outcome.CheckResult(
            False, states.REASON_TIMEOUT,
            'no %s within the timeout' % what))


class ApiChecker:
    """Every API check of one process, on one thread.

    check() may be called from any thread; the check runs on the
    checker's thread and ends, exactly once, with on_done(CheckResult)
    there (keep it short).
    """

    def __init__(self, clock=time.monotonic):
        self.clock = clock
        self.contexts = _Contexts()
        # epoll itself, not the selectors module: its bookkeeping (and,
        # asked for a socket it does not hold, the socket's repr, with two
        # system calls) cost more than the rest of a check.
        self._poller = select.epoll()
        self._checks_by_fd = {}
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_r, False)
        os.set_blocking(self._wake_w, False)
        self._poller.register(self._wake_r, select.EPOLLIN)
        self._lock = threading.Lock()
        self._new = collections.deque()
        self._deadlines = []
        self._order = itertools.count()
        self._closed = False
        self._thread = threading.Thread(target=self._run,
                                        name='tacker-vimmon-api-check',
                                        daemon=True)
        self._thread.start()

    def check(self, address, target, timeout, on_done):
        """Check target (an ApiTarget) at address, within timeout."""
        with self._lock:
            # One wake-up for checks asked for together: the thread takes
            # every waiting one when it wakes.
            idle = not self._new
            self._new.append((address, target, timeout, on_done))
        if idle:
            self._wake()

    def close(self):
        self._closed = True
        self._wake()
        self._thread.join(5)

    def abandon(self):
        """Drop a checker made before a fork (its thread is not here)."""
        self._closed = True

    def _wake(self):
        try:
            os.write(self._wake_w, b'x')
        except BlockingIOError:
            pass  # a wake-up is pending already

    # The checker's thread.

    def want(self, check, events):
        if not check.waiting_for:
            fd = check.sock.fileno()
            self._poller.register(fd, events)
            self._checks_by_fd[fd] = check
        elif check.waiting_for != events:
            self._poller.modify(check.sock.fileno(), events)
        check.waiting_for = events

    def forget(self, check):
        if check.waiting_for:
            fd = check.sock.fileno()
            self._poller.unregister(fd)
            del self._checks_by_fd[fd]
            check.waiting_for = 0

    def _run(self):
        threads.name_this_thread(CHECK_THREAD)
        try:
            while not self._closed:
                try:
                    self._step()
                except Exception:
                    # The thread must live on, or no API check of this
                    # process would end again.
                    LOG.exception('API check step failed')
        finally:
            self._shut()

    def _step(self):
        timeout = -1
        if self._deadlines:
            timeout = max(0.0, self._deadlines[0][0] - self.clock())
        events = self._poller.poll(timeout)
        began = self.clock()
        for fd, _events in events:
            if fd == self._wake_r:
                self._drain_wakeups()
                continue
            # None when an earlier check of this batch ended and its
            # socket is gone.
            check = self._checks_by_fd.get(fd)
            if check is not None:
                check.step()
        self._start_new()
        self._expire()
        # In passes (prober.PASS_INTERVAL): 2,000 VIMs make some 200 socket
        # events a second, and a wake-up for each cost more than the
        # events. Timings come from the kernel (handshake_rtt), so the
        # passes delay a check, never skew it.
        rest = began + prober.PASS_INTERVAL - self.clock()
        if rest > 0 and self._checks_by_fd and not self._closed:
            time.sleep(rest)

    def _drain_wakeups(self):
        try:
            while os.read(self._wake_r, 512):
                pass
        except BlockingIOError:
            pass

    def _start_new(self):
        with self._lock:
            new, self._new = self._new, collections.deque()
        now = self.clock()
        for address, target, timeout, on_done in new:
            check = _Check(self, address, target, now + timeout, on_done)
            heapq.heappush(self._deadlines,
                           (check.deadline, next(self._order), check))
            check.start()

    def _expire(self):
        now = self.clock()
        while self._deadlines and self._deadlines[0][0] <= now:
            check = heapq.heappop(self._deadlines)[2]
            check.timed_out()
        # Checks that ended are dropped from the heap's front as they come.
        while self._deadlines and self._deadlines[0][2].finished:
            heapq.heappop(self._deadlines)

    def _shut(self):
        for check in list(self._checks_by_fd.values()):
            check.sock.close()
        self._poller.close()
        os.close(self._wake_r)
        os.close(self._wake_w)


_checker_lock = threading.Lock()
_checker = None
_checker_pid = None


def get_checker():
    """This process's ApiChecker, made on first use and after a fork."""
    global _checker, _checker_pid
    with _checker_lock:
        if _checker is not None and _checker_pid != os.getpid():
            _checker.abandon()
            _checker = None
        if _checker is None:
            _checker = ApiChecker()
            _checker_pid = os.getpid()
        return _checker
