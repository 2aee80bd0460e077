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

"""End to end: the API check beside ICMP, and the reason of every status.

Two namespace hosts: one that ignores ICMP echo but serves the VIM's API,
and one that answers ICMP and serves, on several ports, nothing (refused),
a socket that never answers, an HTTP 503, and https with a certificate
that is trusted, untrusted or expired. Each VIM shows, through the API,
the status and reason the admin guide's decision table gives.
"""

import datetime

from tacker_vimmon.tests import http_endpoint
from tacker_vimmon.tests.functional import base
from tacker_vimmon.tests.functional import monitoring
from tacker_vimmon.tests.functional import netns

# A few seconds: the first check runs as the monitor starts, a failed one
# is confirmed probe_interval later.
REASON_BOUND = 30


class TestChecksAndReasons(monitoring.MonitoringTestCase):

    HOSTS = 2
    EXECUTOR_THREADS = 10
    VIM_MONITOR = {'status_checks': 'both', 'api_check_interval': 3,
                   'api_check_timeout': 1}

    def setUp(self):
        super().setUp()
        self.quiet, self.loud = self.hosts
        # The quiet host drops ICMP echo (it never answers one).
        self.quiet.set_sysctl('net.ipv4.icmp_echo_ignore_all', '1')
        self.serve(self.quiet, 5000)
        self.serve(self.loud, 5001, hang=True)
        self.serve(self.loud, 5002, status=503)
        self.good_cert, good_files = self.certificate(days=20)
        self.expired_cert, expired_files = self.certificate(expired=True)
        self.serve(self.loud, 6443, cert=good_files)
        self.serve(self.loud, 6444, cert=expired_files)

    def serve(self, host, port, **kwargs):
        self.useFixture(netns.NetnsServer(host, port, **kwargs))

    def certificate(self, **kwargs):
        return http_endpoint.self_signed_files(
            self.useFixture(base.fixtures.TempDir()).path, self.loud.ipv4,
            **kwargs)

    def register_kubernetes(self, name, url, ca_cert):
        return self.register(
            name, url, type='kubernetes', vim_project={'name': 'default'},
            auth_cred={'bearer_token': 'token-of-%s' % name,
                       'ssl_ca_cert': ca_cert})

    def wait_reason(self, vim_id, status, reason):
        """Wait until the API shows status for reason; the VIM.

        :param reason: a reason, or a tuple of the reasons that may show
        """
        reasons = reason if isinstance(reason, tuple) else (reason,)

        def shown():
            vim = self.vim(vim_id)
            return (vim['status'] == status and
                    vim['monitor']['reason'] in reasons and vim)
        return base.wait_for(shown, REASON_BOUND, interval=0.2,
                             message='VIM %s %s (%s)' % (vim_id, status,
                                                         reason))

    def test_each_failure_has_its_status_and_reason(self):
        loud = self.loud.ipv4
        vims = {
            'icmp-blocked': self.register(
                'icmp-blocked', 'http://%s:5000/v3' % self.quiet.ipv4),
            'refused': self.register('refused', 'http://%s:5000/v3' % loud),
            'hang': self.register('hang', 'http://%s:5001/v3' % loud),
            'http-503': self.register('http-503',
                                      'http://%s:5002/v3' % loud),
            'untrusted': self.register('untrusted',
                                       'https://%s:6443/v3' % loud),
            'trusted': self.register_kubernetes(
                'trusted', 'https://%s:6443' % loud, self.good_cert),
            'expired': self.register_kubernetes(
                'expired', 'https://%s:6444' % loud, self.expired_cert),
        }
        ids = {name: vim['id'] for name, vim in vims.items()}

        blocked = self.wait_reason(ids['icmp-blocked'], 'REACHABLE',
                                   'icmp_blocked')
        self.capture('vim-icmp-blocked', {'vim': blocked})
        monitor = blocked['monitor']
        self.assertTrue(monitor['icmp_blocked'])
        self.assertEqual(('UNREACHABLE', 'timeout'), (
            monitor['checks']['icmp']['status'],
            monitor['checks']['icmp']['reason']))
        self.assertEqual(('REACHABLE', 'ok', 300), (
            monitor['checks']['api']['status'],
            monitor['checks']['api']['reason'],
            monitor['checks']['api']['http_status']))
        self.assertIsNotNone(monitor['rtt'])
        self.assertIsNotNone(monitor['since'])

        refused = self.wait_reason(ids['refused'], 'UNREACHABLE', 'refused')
        # ICMP answers: the host is there, its API is not.
        self.assertEqual('ok', refused['monitor']['checks']['icmp']['reason'])
        hang = self.wait_reason(ids['hang'], 'UNREACHABLE', 'timeout')
        self.assertIn('no HTTP answer', hang['monitor']['detail'])
        error = self.wait_reason(ids['http-503'], 'UNREACHABLE',
                                 'http_error')
        self.assertEqual('HTTP 503', error['monitor']['detail'])
        untrusted = self.wait_reason(ids['untrusted'], 'UNREACHABLE',
                                     'tls_error')
        self.assertIn('certificate not trusted',
                      untrusted['monitor']['detail'])
        expired = self.wait_reason(ids['expired'], 'UNREACHABLE',
                                   'tls_error')
        self.assertIn('expired', expired['monitor']['detail'])
        trusted = self.wait_reason(ids['trusted'], 'REACHABLE', 'ok')
        expires = datetime.datetime.strptime(
            trusted['monitor']['checks']['api']['cert_expires_at'],
            '%Y-%m-%dT%H:%M:%SZ')
        self.assertEqual(20, round(
            (expires - datetime.datetime.utcnow()) / datetime.timedelta(
                days=1)))
        # The CA certificate is kept secret like Tacker's: masked.
        self.assertEqual('***', trusted['auth_cred']['ssl_ca_cert'])

        # Each reason is in the VIM's MONITOR events too.
        [event] = self.events(ids['refused'])
        self.assertEqual(('UNREACHABLE', 'refused'), (
            event['resource_state'], event['event_details']['reason']))

        # The host of the blocked VIM goes away: its API stops answering.
        self.quiet.set_down()
        # No answer at all, or, once the kernel's neighbour entry for the
        # host has failed, "host unreachable" at once: both say it is gone.
        self.wait_reason(ids['icmp-blocked'], 'UNREACHABLE',
                         ('timeout', 'host_unreachable'))
        self.quiet.set_up()
        self.wait_reason(ids['icmp-blocked'], 'REACHABLE', 'icmp_blocked')
