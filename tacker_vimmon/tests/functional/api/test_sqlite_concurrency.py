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


"""The embedded SQLite database under concurrent writers: they wait, not fail.

A real tacker-vimmon-server on a SQLite file; 8 clients change and then
delete 8 different VIMs at once, 5 rounds each.
"""

import concurrent.futures
import os

import requests

from tacker_vimmon.tests.functional import base
from tacker_vimmon.tests.functional.api import api_server

CLIENTS = 8
ROUNDS = 5


class TestSqliteConcurrentWriters(base.FunctionalTestCase):

    def setUp(self):
        super().setUp()
        directory = self.useFixture(base.fixtures.TempDir()).path
        self.server = self.useFixture(api_server.ApiServerProcess(
            'sqlite:///%s' % os.path.join(directory, 'vimmon.sqlite')))
        self.session = requests.Session()
        self.addCleanup(self.session.close)
        self.vims = [self.register('vim-%d' % index)
                     for index in range(CLIENTS)]

    def register(self, name):
        response = self.session.post(self.server.url + '/v1.0/vims', json={
            'vim': {'name': name, 'type': 'kubernetes',
                    'auth_url': 'https://192.0.2.10:6443',
                    'auth_cred': {'bearer_token': 'token'},
                    'vim_project': {'name': 'default'}}}, timeout=30)
        self.assertEqual(201, response.status_code, response.text)
        return response.json()['vim']['id']

    def in_parallel(self, method, work):
        def one(vim_id, body):
            with requests.Session() as session:
                return session.request(
                    method, '%s/v1.0/vims/%s' % (self.server.url, vim_id),
                    json=body, timeout=60).status_code
        with concurrent.futures.ThreadPoolExecutor(CLIENTS) as pool:
            return list(pool.map(lambda item: one(*item), work))

    def test_parallel_updates_and_deletes_all_succeed(self):
        codes = []
        for round_ in range(ROUNDS):
            codes += self.in_parallel('PUT', [
                (vim_id, {'vim': {'description': 'round %d' % round_}})
                for vim_id in self.vims])
        self.assertEqual([200] * CLIENTS * ROUNDS, codes)
        for vim_id in self.vims:
            shown = self.session.get('%s/v1.0/vims/%s' % (
                self.server.url, vim_id), timeout=30).json()['vim']
            self.assertEqual('round %d' % (ROUNDS - 1), shown['description'])
        codes = self.in_parallel('DELETE', [(vim_id, None)
                                            for vim_id in self.vims])
        self.assertEqual([204] * CLIENTS, codes)
        listed = self.session.get(self.server.url + '/v1.0/vims',
                                  timeout=30).json()['vims']
        self.assertEqual([], listed)
        self.assertNotIn('database is locked', self.server.log_text())
