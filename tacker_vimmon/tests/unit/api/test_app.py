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

"""The WSGI application in process, on in-memory SQLite."""

import io
import json

import webob

from tacker_vimmon.tests import base

K8S_VIM = {'vim': {'name': 'k', 'type': 'kubernetes',
                   'auth_url': 'https://k:6443',
                   'auth_cred': {'bearer_token': 'tok-secret'},
                   'vim_project': {'name': 'default'}}}


class TestApp(base.ApiTestCase):

    def test_crud_with_the_json_suffix_and_request_ids(self):
        created = self.request('POST', '/v1.0/vims.json', K8S_VIM)
        self.assertEqual(201, created.status_int, created.text)
        self.assertTrue(created.headers['x-openstack-request-id'].startswith(
            'req-'))
        vim = created.json['vim']
        self.assertEqual('***', vim['auth_cred']['bearer_token'])
        self.assertNotIn('tok-secret', created.text)
        path = '/v1.0/vims/%s' % vim['id']
        self.assertEqual(vim, self.request('GET', path + '.json').json['vim'])
        listed = self.request(
            'GET', '/v1.0/vims?type=kubernetes&is_default=false')
        self.assertEqual(['k'], [v['name'] for v in listed.json['vims']])
        self.assertEqual({'id': vim['id']}, self.request(
            'GET', '/v1.0/vims?fields=id').json['vims'][0])
        updated = self.request('PUT', path, {'vim': {'name': 'k2'}})
        self.assertEqual('k2', updated.json['vim']['name'])
        self.assertEqual(204, self.request('DELETE', path).status_int)
        events = self.request('GET', '/v1.0/events?resource_id=%s'
                              % vim['id']).json['events']
        self.assertEqual(['CREATE', 'UPDATE', 'DELETE'],
                         [event['event_type'] for event in events])

    def test_versions_and_healthcheck(self):
        versions = self.request('GET', '/').json['versions']
        self.assertEqual('v1.0', versions[0]['id'])
        health = self.request('GET', '/healthcheck')
        self.assertEqual((200, b'OK'), (health.status_int, health.body))
        self.assertEqual(405, self.request('POST', '/healthcheck').status_int)

    def test_bodies_over_the_limit_are_413(self):
        too_big = b'{"vim": "' + b'x' * 20000 + b'"}'
        response = self.request('POST', '/v1.0/vims', raw=too_big)
        self.assertEqual(413, response.status_int)
        self.assertIn('16384 bytes', self.fault(response)['message'])
        req = webob.Request.blank('/v1.0/vims', method='POST')
        req.content_type = 'application/json'
        req.body_file = io.BytesIO(too_big)
        req.content_length = None
        req.is_body_readable = True
        self.assertEqual(413, req.get_response(self.app).status_int)

    def test_errors_have_the_tacker_error_format(self):
        for method, path, body, status, word in (
                ('GET', '/v1.0/vims/x', None, 404, 'could not be found'),
                ('PATCH', '/v1.0/vims', None, 405, 'GET, POST'),
                ('GET', '/nothing', None, 404, 'no resource'),
                ('POST', '/v1.0/vims', {'vim': {}}, 400, 'vim'),
                ('GET', '/v1.0/events/0', None, 404, 'Event 0')):
            response = self.request(method, path, body)
            self.assertEqual(status, response.status_int, response.text)
            error = self.fault(response)
            self.assertEqual({'type', 'message', 'detail'}, set(error))
            self.assertIn(word, error['message'])

    def test_bad_auth_urls_are_400(self):
        for url in ('http://[::1', 'http://h:99999', 'ftp://h', 'http://',
                    'h:80'):
            body = json.loads(json.dumps(K8S_VIM))
            body['vim']['auth_url'] = url
            response = self.request('POST', '/v1.0/vims', body)
            self.assertEqual(400, response.status_int, url)
            self.assertIn('vim.auth_url', self.fault(response)['message'])

    def test_validation_messages_never_quote_the_value(self):
        body = json.loads(json.dumps(K8S_VIM))
        body['vim']['auth_cred']['bearer_token'] = 'tok-secret' * 500
        response = self.request('POST', '/v1.0/vims', body)
        self.assertEqual(400, response.status_int)
        self.assertIn('vim.auth_cred.bearer_token',
                      self.fault(response)['message'])
        self.assertNotIn('tok-secret', response.text)

    def test_a_member_of_another_project_gets_404(self):
        owner = {'X-Project-Id': 'a', 'X-Roles': 'member'}
        other = {'X-Project-Id': 'b', 'X-Roles': 'member'}
        vim = self.request('POST', '/v1.0/vims', K8S_VIM, owner).json['vim']
        path = '/v1.0/vims/%s' % vim['id']
        self.assertEqual(404, self.request('GET', path, None,
                                           other).status_int)
        self.assertEqual(200, self.request('GET', path, None,
                                           owner).status_int)
        self.assertEqual(403, self.request(
            'GET', '/v1.0/vims', None,
            {'X-Project-Id': 'b', 'X-Roles': 'nothing'}).status_int)
