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

"""The API check: parsing, and the checker against endpoints on loopback."""

import datetime
import queue
import socket
import time

from tacker_vimmon.action import apicheck
from tacker_vimmon.tests import base
from tacker_vimmon.tests import http_endpoint


class TestParsing(base.TestCase):

    def test_status_lines(self):
        for head, answered, reason, status in (
                (b'HTTP/1.1 300 Multiple Choices\r\n', True, 'ok', 300),
                (b'HTTP/1.0 200 OK\r\n', True, 'ok', 200),
                (b'HTTP/1.1 401 Unauthorized\r\n', True, 'ok', 401),
                (b'HTTP/1.1 403 Forbidden\r\n', True, 'ok', 403),
                (b'HTTP/1.1 404 Not Found\r\n', False, 'http_error', 404),
                (b'HTTP/1.1 503 Service Unavailable\r\n', False,
                 'http_error', 503),
                (b'SSH-2.0-OpenSSH_9.2\r\n', False, 'http_error', None)):
            result = apicheck.status_line_result(head)
            self.assertEqual((answered, reason, status), (
                result.answered, result.reason,
                (result.extra or {}).get('http_status')), head)
        self.assertIsNone(apicheck.status_line_result(b'HTTP/1.1 30'))

    def test_targets(self):
        target = apicheck.ApiTarget.from_settings(
            'https://[2001:db8::1]:6443', {'path': '/version'})
        self.assertEqual((True, '2001:db8::1', 6443, '/version', True),
                         target[:5])
        self.assertIn(b'Host: [2001:db8::1]:6443\r\n', target.request())
        keystone = apicheck.ApiTarget.from_settings(
            'http://192.0.2.1/identity/v3', {'verify': False})
        self.assertEqual((False, 80, '/identity/v3', False),
                         (keystone.tls, keystone.port, keystone.path,
                          keystone.verify))
        self.assertIn(b'GET /identity/v3 HTTP/1.1\r\nHost: 192.0.2.1\r\n',
                      keystone.request())
        self.assertRaises(ValueError, apicheck.ApiTarget.from_settings,
                          'ftp://192.0.2.1', {})


class TestHandshakeRtt(base.TestCase):

    def test_the_kernels_handshake_time_not_the_time_since(self):
        with socket.socket() as listener:
            listener.bind(('127.0.0.1', 0))
            listener.listen()
            with socket.create_connection(listener.getsockname()) as sock:
                # Read late, as a checker pass does: still the handshake's.
                time.sleep(0.3)
                rtt = apicheck.handshake_rtt(sock)
        self.assertIsNotNone(rtt)
        self.assertGreaterEqual(rtt, 0.0)
        self.assertLess(rtt, 0.1)

    def test_none_when_not_connected(self):
        with socket.socket() as unused:
            unused.bind(('127.0.0.1', 0))
            port = unused.getsockname()[1]
        with socket.socket() as sock:
            self.assertIsNone(apicheck.handshake_rtt(sock))
            self.assertNotEqual(0, sock.connect_ex(('127.0.0.1', port)))
            self.assertIsNone(apicheck.handshake_rtt(sock))


class TestChecker(base.TestCase):

    def setUp(self):
        super().setUp()
        self.checker = apicheck.ApiChecker()
        self.addCleanup(self.checker.close)

    def check(self, port, tls=False, timeout=5.0, **api):
        results = queue.Queue()
        target = apicheck.ApiTarget.from_settings(
            '%s://127.0.0.1:%d/v3' % ('https' if tls else 'http', port), api)
        self.checker.check('127.0.0.1', target, timeout, results.put)
        return results.get(timeout=timeout + 5)

    def endpoint(self, status=300, **kwargs):
        endpoint = http_endpoint.HttpEndpoint(status, **kwargs)
        self.addCleanup(endpoint.close)
        return endpoint.port

    def certificate(self, **kwargs):
        return http_endpoint.self_signed_files(
            self.useFixture(base.fixtures.TempDir()).path, '127.0.0.1',
            **kwargs)

    def test_an_answering_api(self):
        result = self.check(self.endpoint(300))
        self.assertEqual((True, 'ok', 300), (
            result.answered, result.reason, result.extra['http_status']))
        self.assertLess(result.rtt, 1.0)

    def test_an_api_error_and_a_refusal(self):
        result = self.check(self.endpoint(503))
        self.assertEqual((False, 'http_error', 'HTTP 503'),
                         (result.answered, result.reason, result.detail))
        with socket.socket() as unused:
            unused.bind(('127.0.0.1', 0))
            port = unused.getsockname()[1]
        result = self.check(port)
        self.assertEqual((False, 'refused'), (result.answered, result.reason))

    def test_a_server_that_never_answers_times_out(self):
        with socket.socket() as silent:
            silent.bind(('127.0.0.1', 0))
            silent.listen(8)
            result = self.check(silent.getsockname()[1], timeout=0.3)
        self.assertEqual((False, 'timeout', 'no HTTP answer within the '
                          'timeout'), result[:3])

    def test_tls_verified_untrusted_or_not_verified(self):
        cert, (cert_file, key_file) = self.certificate(days=10)
        port = self.endpoint(300, cert=cert_file, key=key_file)
        untrusted = self.check(port, tls=True)
        self.assertEqual((False, 'tls_error'), untrusted[:2])
        self.assertIn('certificate not trusted', untrusted.detail)
        trusted = self.check(port, tls=True, ca_cert=cert)
        self.assertEqual((True, 'ok'), trusted[:2])
        expires = datetime.datetime.strptime(
            trusted.extra['cert_expires_at'], '%Y-%m-%dT%H:%M:%SZ')
        self.assertEqual(10, round((expires - datetime.datetime.utcnow())
                                   / datetime.timedelta(days=1)))
        unverified = self.check(port, tls=True, verify=False)
        self.assertEqual((True, 'ok'), unverified[:2])
        self.assertEqual(trusted.extra['cert_expires_at'],
                         unverified.extra['cert_expires_at'])

    def test_an_expired_certificate(self):
        cert, (cert_file, key_file) = self.certificate(expired=True)
        port = self.endpoint(300, cert=cert_file, key=key_file)
        result = self.check(port, tls=True, ca_cert=cert)
        self.assertEqual((False, 'tls_error'), result[:2])
        self.assertIn('expired', result.detail)

    def test_many_checks_at_once_on_one_thread(self):
        port = self.endpoint(300)
        results = queue.Queue()
        target = apicheck.ApiTarget.from_settings(
            'http://127.0.0.1:%d/v3' % port, {})
        for _ in range(50):
            self.checker.check('127.0.0.1', target, 5.0, results.put)
        answers = [results.get(timeout=10) for _ in range(50)]
        self.assertEqual({'ok'}, {answer.reason for answer in answers})
