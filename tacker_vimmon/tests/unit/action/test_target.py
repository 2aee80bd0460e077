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

"""The probe target taken from a VIM's auth_url."""

import socket
from unittest import mock

from tacker_vimmon.action import target
from tacker_vimmon.common import exception
from tacker_vimmon.tests import base


class TestFromAuthUrl(base.TestCase):

    def assertHost(self, url, host):
        self.assertEqual(host, target.from_auth_url(url).host)

    def test_hostname_with_port_and_path(self):
        self.assertHost('https://Keystone.Example.org:5000/v3',
                        'keystone.example.org')

    def test_hostname_without_port_or_path(self):
        self.assertHost('http://vim-1.example', 'vim-1.example')

    def test_ipv4_with_and_without_port(self):
        self.assertHost('http://192.0.2.10:5000/identity/v3', '192.0.2.10')
        self.assertHost('http://192.0.2.10', '192.0.2.10')

    def test_bracketed_ipv6_with_and_without_port(self):
        self.assertHost('https://[2001:DB8::10]:6443/', '2001:db8::10')
        self.assertHost('https://[2001:db8::10]', '2001:db8::10')

    def test_ipv6_zone_is_decoded(self):
        self.assertHost('http://[fe80::1%25eth0]:5000', 'fe80::1%eth0')

    def test_no_scheme(self):
        self.assertHost('198.51.100.7:6443/api', '198.51.100.7')

    def test_url_is_kept_for_messages(self):
        url = 'http://192.0.2.10:5000/v3'
        self.assertEqual(url, target.from_auth_url(url).url)

    def test_rejects_what_names_no_host(self):
        for url in ('', '   ', None, 'http://', 'http:///v3',
                    'http://[::1', 'http://host:port/',
                    'http://bad host/'):
            self.assertRaises(exception.InvalidMonitorTarget,
                              target.from_auth_url, url)

    def test_error_says_what_to_fix(self):
        error = self.assertRaises(exception.InvalidMonitorTarget,
                                  target.from_auth_url, 'http:///v3')
        self.assertIn('names no host', str(error))
        self.assertIn('http://192.0.2.10:5000/v3', str(error))
        self.assertEqual(400, error.code)


class TestResolve(base.TestCase):

    def test_address_is_not_looked_up(self):
        with mock.patch.object(socket, 'getaddrinfo') as lookup:
            self.assertEqual(['2001:db8::1'], target.from_auth_url(
                'http://[2001:db8::1]').resolve())
        lookup.assert_not_called()

    def test_name_gives_unique_addresses_in_resolver_order(self):
        infos = [
            (socket.AF_INET6, socket.SOCK_RAW, 0, '', ('2001:db8::5', 0,
                                                        0, 0)),
            (socket.AF_INET, socket.SOCK_RAW, 0, '', ('192.0.2.5', 0)),
            (socket.AF_INET, socket.SOCK_RAW, 0, '', ('192.0.2.5', 0)),
        ]
        with mock.patch.object(socket, 'getaddrinfo', return_value=infos):
            self.assertEqual(['2001:db8::5', '192.0.2.5'],
                             target.from_auth_url('http://vim').resolve())

    def test_unresolvable_name(self):
        with mock.patch.object(socket, 'getaddrinfo',
                               side_effect=socket.gaierror(-2, 'unknown')):
            error = self.assertRaises(
                exception.MonitorTargetUnresolvable,
                target.from_auth_url('http://no-such-vim').resolve)
        self.assertIn('no-such-vim', str(error))

    def test_localhost_resolves_for_real(self):
        addresses = target.from_auth_url('http://localhost:5000').resolve()
        self.assertTrue(set(addresses) & {'127.0.0.1', '::1'}, addresses)
