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

"""The API refuses exactly the auth_urls the monitor action cannot probe."""

import json

from tacker_vimmon.action import target
from tacker_vimmon.common import exception
from tacker_vimmon.registry import api as registry_api
from tacker_vimmon.tests import base

K8S_VIM = {'vim': {'name': 'k', 'type': 'kubernetes',
                   'auth_url': 'https://k:6443',
                   'auth_cred': {'bearer_token': 'tok-secret'},
                   'vim_project': {'name': 'default'}}}

GOOD_URLS = ('https://k:6443', 'http://192.0.2.10:5000/v3',
             'https://[2001:db8::10]/identity', 'http://[::1]:5000/v3',
             'HTTPS://Edge-1.example.com:6443/k8s/', 'http://vim_2.local',
             'http://[fe80::1%25eth0]:5000', 'http://user@k.example:80/')
BAD_URLS = (
    ('https://a..b:6443', "'a..b' is neither an IP address nor a host name"),
    ('http://-k:6443', 'neither an IP address nor a host name'),
    ('http://', 'it names no host'),
    ('http:///v3', 'it names no host'),
    ('http://[::1', 'Invalid IPv6 URL'),
    ('http://h:99999', 'Port out of range'),
    ('http://h:x', 'Port could not be cast'),
    ('ftp://h', 'must start with http:// or https://'),
    ('h:80', 'must start with http:// or https://'),
    ('http:/h', 'must start with http:// or https://'),
)


class TestCheckAuthUrl(base.TestCase):

    def test_what_the_monitor_can_probe_is_accepted(self):
        for url in GOOD_URLS:
            registry_api.check_auth_url(url)
            target.from_auth_url(url)

    def test_what_the_monitor_refuses_is_invalid_input(self):
        for url, fragment in BAD_URLS:
            error = self.assertRaises(exception.InvalidInput,
                                      registry_api.check_auth_url, url)
            self.assertEqual(400, error.code)
            message = error.format_message()
            self.assertIn('vim.auth_url', message)
            self.assertIn(fragment, message)
            self.assertIn('such as https://', message)

    def test_the_check_is_the_monitors_parser(self):
        # One parser: what it refuses, the API refuses, whatever the URL.
        refusal = exception.InvalidMonitorTarget(url='u', reason='odd')
        self.useFixture(base.fixtures.MockPatch(
            'tacker_vimmon.action.target.from_auth_url',
            side_effect=refusal))
        error = self.assertRaises(exception.InvalidInput,
                                  registry_api.check_auth_url,
                                  'https://k:6443')
        self.assertIn('odd', error.format_message())


class TestAuthUrlThroughTheApi(base.ApiTestCase):

    def post(self, url):
        body = json.loads(json.dumps(K8S_VIM))
        body['vim']['auth_url'] = url
        return self.request('POST', '/v1.0/vims', body)

    def test_a_host_the_monitor_refuses_is_400_not_201(self):
        response = self.post('https://a..b:6443')
        self.assertEqual(400, response.status_int, response.text)
        fault = self.fault(response)
        self.assertEqual('InvalidInput', fault['type'])
        self.assertIn('vim.auth_url', fault['message'])
        self.assertIn('neither an IP address nor a host name',
                      fault['message'])
        self.assertEqual([], self.request('GET', '/v1.0/vims').json['vims'])

    def test_valid_urls_are_still_registered(self):
        for number, url in enumerate(GOOD_URLS):
            body = json.loads(json.dumps(K8S_VIM))
            body['vim'].update(name='k%d' % number, auth_url=url)
            response = self.request('POST', '/v1.0/vims', body)
            self.assertEqual(201, response.status_int, response.text)

    def test_an_update_to_a_refused_url_is_400_and_changes_nothing(self):
        created = self.post('https://k:6443').json['vim']
        path = '/v1.0/vims/%s' % created['id']
        response = self.request('PUT', path,
                                {'vim': {'auth_url': 'https://a..b:6443'}})
        self.assertEqual(400, response.status_int, response.text)
        self.assertIn('vim.auth_url', self.fault(response)['message'])
        self.assertEqual('https://k:6443',
                         self.request('GET', path).json['vim']['auth_url'])
