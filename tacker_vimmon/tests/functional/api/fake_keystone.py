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

"""A tiny Keystone v3 look-alike served over loopback HTTP.

It knows one user and answers the two calls credential validation makes:
``POST /v3/auth/tokens`` (password method) and ``GET /v3/regions``. It lets
the API's validation run through real HTTP with keystoneauth before the
real Keystone tests (another suite) take over.
"""

import http.server
import json
import threading

import fixtures

TOKEN = 'fake-keystone-token'


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'

    def log_message(self, *args):
        pass  # the test output stays clean

    def _send(self, status, document, headers=None):
        body = json.dumps(document).encode()
        self.send_response(status)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        keystone = self.server.keystone
        body = json.loads(self.rfile.read(
            int(self.headers['Content-Length'])))
        if self.path != '/v3/auth/tokens':
            return self._send(404, {'error': {'code': 404}})
        user = body['auth']['identity']['password']['user']
        keystone.attempts.append(user.get('name') or user.get('id'))
        if (user.get('name'), user.get('password')) != (
                keystone.username, keystone.password):
            return self._send(401, {'error': {
                'code': 401, 'title': 'Unauthorized',
                'message': 'The request you have made requires '
                           'authentication.'}})
        self._send(201, {'token': {
            'methods': ['password'],
            'expires_at': '2099-01-01T00:00:00.000000Z',
            'issued_at': '2020-01-01T00:00:00.000000Z',
            'user': {'id': 'u1', 'name': keystone.username,
                     'domain': {'id': 'default', 'name': 'Default'}},
            'project': {'id': 'p1', 'name': 'nfv',
                        'domain': {'id': 'default', 'name': 'Default'}},
            'roles': [{'id': 'r1', 'name': 'member'}],
            'catalog': [{
                'type': 'identity', 'id': 's1', 'name': 'keystone',
                'endpoints': [{'id': 'e%d' % number, 'interface': 'public',
                               'region_id': region, 'region': region,
                               'url': keystone.url}
                              for number, region in enumerate(
                                  keystone.regions)]}],
        }}, {'X-Subject-Token': TOKEN})

    def do_GET(self):
        keystone = self.server.keystone
        if self.path != '/v3/regions':
            return self._send(404, {'error': {'code': 404}})
        if self.headers.get('X-Auth-Token') != TOKEN:
            return self._send(401, {'error': {'code': 401}})
        if not keystone.regions_api:
            return self._send(403, {'error': {'code': 403}})
        self._send(200, {'regions': [{'id': region}
                                     for region in keystone.regions]})


class FakeKeystone(fixtures.Fixture):
    """Serve on a free loopback port; ``url`` is its /v3 endpoint."""

    def __init__(self, username='nfv_user', password='vim-secret',
                 regions=('RegionOne', 'RegionTwo'), regions_api=True):
        super().__init__()
        self.username = username
        self.password = password
        self.regions = list(regions)
        self.regions_api = regions_api
        self.attempts = []

    def _setUp(self):
        server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), _Handler)
        server.keystone = self
        server.daemon_threads = True
        self.url = 'http://127.0.0.1:%d/v3' % server.server_address[1]
        thread = threading.Thread(target=server.serve_forever,
                                  name='fake-keystone', daemon=True)
        thread.start()
        self.addCleanup(thread.join, 10)
        self.addCleanup(server.server_close)
        self.addCleanup(server.shutdown)
