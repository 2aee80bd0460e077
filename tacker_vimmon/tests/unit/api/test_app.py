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
import os

import fixtures
from oslo_db import exception as db_exc
import webob

from tacker_vimmon.api import app
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
        self.assertEqual('http://localhost/v1.0/',
                         versions[0]['links'][0]['href'])
        # One line per backend: the disable file, the database.
        health = self.request('GET', '/healthcheck')
        self.assertEqual((200, b'OK\nOK'), (health.status_int, health.body))
        self.assertEqual(204, self.request('HEAD', '/healthcheck').status_int)
        refused = self.request('POST', '/healthcheck')
        self.assertEqual(405, refused.status_int)
        self.assertIn('Use GET', self.fault(refused)['message'])

    def test_bodies_over_the_limit_are_413(self):
        too_big = b'{"vim": "' + b'x' * 20000 + b'"}'
        response = self.request('POST', '/v1.0/vims', raw=too_big)
        self.assertEqual(413, response.status_int)
        message = self.fault(response)['message']
        self.assertIn('16384 bytes', message)
        self.assertIn('[oslo_middleware] max_request_body_size', message)
        # Chunked: no Content-Length, refused as the body is read.
        req = webob.Request.blank('/v1.0/vims', method='POST')
        req.content_type = 'application/json'
        req.body_file = io.BytesIO(too_big)
        req.content_length = None
        req.is_body_readable = True
        chunked = req.get_response(self.app)
        self.assertEqual(413, chunked.status_int)
        self.assertIn('16384 bytes', self.fault(chunked)['message'])

    def test_a_body_within_the_limit_is_read_whole(self):
        req = webob.Request.blank('/v1.0/vims', method='POST')
        req.content_type = 'application/json'
        req.body_file = io.BytesIO(json.dumps(K8S_VIM).encode())
        req.content_length = None
        req.is_body_readable = True
        self.assertEqual(201, req.get_response(self.app).status_int)

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


class TestHealthcheck(base.ApiTestCase):
    """oslo.middleware's healthcheck with its backends, in process."""

    def setUp(self):
        super().setUp()
        self.disable_file = os.path.join(
            self.useFixture(fixtures.TempDir()).path, 'disable')
        self.flags(group='healthcheck', disable_by_file_path=self.disable_file)

    def detailed(self):
        self.flags(group='healthcheck', detailed=True)
        self.app = app.setup_app(self.conf.conf)
        return self.request('GET', '/healthcheck',
                            headers={'Accept': 'application/json'})

    def test_the_disable_file_takes_the_node_out(self):
        open(self.disable_file, 'w').close()
        health = self.request('GET', '/healthcheck')
        self.assertEqual(503, health.status_int)
        self.assertIn(b'DISABLED BY FILE', health.body)
        os.unlink(self.disable_file)
        self.assertEqual(200, self.request('GET', '/healthcheck').status_int)

    def test_detailed_says_the_database_is_reachable(self):
        health = self.detailed()
        self.assertEqual(200, health.status_int)
        self.assertTrue(health.json['detailed'])
        [database] = [item for item in health.json['reasons']
                      if item['details'].startswith('The database')]
        self.assertEqual('OK', database['reason'])
        self.assertRegex(database['details'],
                         r'^The database is reachable \([0-9.]+ ms\)\.$')

    def test_a_database_away_is_503_and_detailed_says_why(self):
        self.useFixture(fixtures.MockPatch(
            'tacker_vimmon.db.api.ping', side_effect=db_exc.DBConnectionError(
                '(psycopg2.OperationalError) connection to server at '
                '"db", port 5432 failed: Connection refused\n(Background)')))
        plain = self.request('GET', '/healthcheck')
        self.assertEqual(503, plain.status_int)
        self.assertIn(b'DATABASE UNREACHABLE', plain.body)
        self.assertNotIn(b'5432', plain.body)
        health = self.detailed()
        self.assertEqual(503, health.status_int)
        [details] = [item['details'] for item in health.json['reasons']
                     if item['reason'] == 'DATABASE UNREACHABLE']
        self.assertEqual(
            'The database is not reachable: (psycopg2.OperationalError) '
            'connection to server at "db", port 5432 failed: Connection '
            'refused', details)

    def test_healthcheck_needs_no_authentication(self):
        self.flags(auth_strategy='keystone')
        self.flags(group='keystone_authtoken',
                   www_authenticate_uri='http://127.0.0.1:1/identity')
        self.app = app.setup_app(self.conf.conf)
        self.assertEqual(200, self.request('GET', '/healthcheck').status_int)
        self.assertEqual(401, self.request('GET', '/v1.0/vims').status_int)


class TestBehindAProxy(base.ApiTestCase):

    HEADERS = {'X-Forwarded-Proto': 'https',
               'X-Forwarded-Host': 'cloud.example.org',
               'X-Forwarded-Prefix': '/nfv-orchestration'}

    def href(self):
        response = self.request('GET', '/', headers=self.HEADERS)
        return response.json['versions'][0]['links'][0]['href']

    def test_links_follow_the_proxy_headers_when_trusted(self):
        self.flags(group='oslo_middleware', enable_proxy_headers_parsing=True)
        self.assertEqual('https://cloud.example.org/nfv-orchestration/v1.0/',
                         self.href())
        # The prefix is the proxy's: the routes below it are unchanged.
        listed = self.request('GET', '/v1.0/vims', headers=self.HEADERS)
        self.assertEqual(200, listed.status_int)

    def test_proxy_headers_are_ignored_unless_trusted(self):
        self.assertEqual('http://localhost/v1.0/', self.href())
