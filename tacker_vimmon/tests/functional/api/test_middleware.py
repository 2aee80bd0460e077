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

"""oslo.middleware in the real server: healthcheck, proxy headers, limit."""

import os

import requests
import sqlalchemy as sa

from tacker_vimmon.tests.functional import base
from tacker_vimmon.tests.functional.api import api_server

PROXY_HEADERS = {'X-Forwarded-Proto': 'https',
                 'X-Forwarded-Host': 'cloud.example.org',
                 'X-Forwarded-Prefix': '/nfv-orchestration'}
# The database going away and coming back is seen within this.
DB_BOUND = 30


class TestMiddleware(base.FunctionalTestCase):

    def setUp(self):
        super().setUp()
        self.database = self.real_database('postgresql')
        self.disable_file = os.path.join(
            self.useFixture(base.fixtures.TempDir()).path, 'out-of-rotation')
        self.server = self.useFixture(api_server.ApiServerProcess(
            self.database.url, sections={
                'healthcheck': {'detailed': True,
                                'disable_by_file_path': self.disable_file},
                'oslo_middleware': {'enable_proxy_headers_parsing': True,
                                    'max_request_body_size': 4096}}))

    def health(self, accept='text/plain'):
        return requests.get(self.server.url + '/healthcheck', timeout=30,
                            headers={'Accept': accept})

    def database_reason(self):
        response = self.health('application/json')
        [reason] = [item for item in response.json()['reasons']
                    if item['details'].startswith('The database')]
        return response.status_code, reason['reason'], reason['details']

    def allow_connections(self, allowed):
        admin = self.database._admin_engine()
        try:
            with admin.connect() as connection:
                connection.execute(sa.text(
                    'ALTER DATABASE %s WITH ALLOW_CONNECTIONS %s'
                    % (self.database.name, 'true' if allowed else 'false')))
                if not allowed:
                    # The server's pooled connections go too.
                    connection.execute(sa.text(
                        'SELECT pg_terminate_backend(pid) FROM '
                        'pg_stat_activity WHERE datname = :name'),
                        {'name': self.database.name})
        finally:
            admin.dispose()

    def test_healthcheck_and_the_disable_file(self):
        health = self.health()
        self.assertEqual((200, 'OK\nOK'), (health.status_code, health.text))
        with open(self.disable_file, 'w'):
            pass
        health = self.health()
        self.assertEqual(503, health.status_code)
        self.assertIn('DISABLED BY FILE', health.text)
        os.unlink(self.disable_file)
        self.assertEqual(200, self.health().status_code)

    def test_detailed_healthcheck_follows_the_database(self):
        self.assertEqual(200, self.database_reason()[0])
        self.assertEqual('OK', self.database_reason()[1])
        self.addCleanup(self.allow_connections, True)
        self.allow_connections(False)
        base.wait_for(lambda: self.database_reason()[0] == 503, DB_BOUND,
                      message='healthcheck 503 with the database away')
        status, reason, details = self.database_reason()
        self.assertEqual('DATABASE UNREACHABLE', reason)
        self.assertIn('not currently accepting connections', details)
        self.allow_connections(True)
        base.wait_for(lambda: self.database_reason()[0] == 200, DB_BOUND,
                      message='healthcheck 200 with the database back')
        self.assertEqual(200, requests.get(self.server.url + '/v1.0/vims',
                                           timeout=30).status_code)

    def test_version_links_behind_a_prefix(self):
        behind = requests.get(self.server.url + '/', headers=PROXY_HEADERS,
                              timeout=30)
        self.assertEqual(
            'https://cloud.example.org/nfv-orchestration/v1.0/',
            behind.json()['versions'][0]['links'][0]['href'])
        direct = requests.get(self.server.url + '/', timeout=30)
        self.assertEqual(self.server.url + '/v1.0/',
                         direct.json()['versions'][0]['links'][0]['href'])
        # Below the prefix the routes are the server's own.
        self.assertEqual(200, requests.get(
            self.server.url + '/v1.0/vims', headers=PROXY_HEADERS,
            timeout=30).status_code)

    def test_an_oversized_body_is_413_with_the_limit(self):
        response = requests.post(
            self.server.url + '/v1.0/vims', data=b'{"vim": "%s"}' % (
                b'x' * 5000), headers={'Content-Type': 'application/json'},
            timeout=30)
        self.assertEqual(413, response.status_code)
        self.assertIn('4096 bytes', response.json()['TackerError']['message'])
        # Chunked (no Content-Length): refused as it is read.
        chunked = requests.post(
            self.server.url + '/v1.0/vims',
            data=iter([b'{"vim": "', b'x' * 5000, b'"}']),
            headers={'Content-Type': 'application/json'}, timeout=30)
        self.assertEqual(413, chunked.status_code)
        self.assertIn('4096 bytes', chunked.json()['TackerError']['message'])
