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

"""Property-based fuzzing of the VIM API over real HTTP (hypothesis).

Generated bodies, query strings and ids go to a real server on each
database. Whatever comes in, the answer is never a 5xx; a refused request
stores nothing; an accepted one stores exactly what was sent (secrets
encrypted, readable with the server's keys, and masked in every answer).
Examples per backend: TVM_FUZZ_EXAMPLES (default 100); the run is
derandomized so that CI is repeatable.
"""

import json
import os
from urllib import parse

from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
import requests
import sqlalchemy as sa

from tacker_vimmon import vim as vim_types
from tacker_vimmon.action import target
from tacker_vimmon.registry import crypto
from tacker_vimmon.tests.functional import base
from tacker_vimmon.tests.functional.api import api_server

EXAMPLES = int(os.environ.get('TVM_FUZZ_EXAMPLES', 100))

_text = st.text(max_size=40) | st.sampled_from(
    ['', ' ', 'x' * 300, 'nul\x00', '\ud800', 'caf\u00e9 \U0001f600',
     'Default', '***'])
_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False)
    | _text,
    lambda children: st.lists(children, max_size=3)
    | st.dictionaries(_text, children, max_size=3),
    max_leaves=8)
_url = st.sampled_from(['http://192.0.2.1/identity', 'https://h:6443',
                        'http://[::1]:5000/v3', 'ftp://x', 'http://',
                        'http://h:99999', 'http://[::1', 'h:80',
                        'https://a..b:6443', 'http://[2001:db8::1]',
                        'https://vim.example:6443/k8s']) | _text
_openstack_cred = st.fixed_dictionaries(
    {'username': _text, 'password': _text},
    optional={'user_domain_name': _text, 'user_id': _text,
              'cert_verify': st.sampled_from(['True', 'False', True,
                                              'maybe', 1])})
_k8s_cred = st.fixed_dictionaries({}, optional={
    'bearer_token': _text, 'oidc_token_url': _text, 'client_id': _text,
    'client_secret': _text, 'username': _text, 'password': _text,
    'ssl_ca_cert': _text})
_vim = st.fixed_dictionaries(
    {'name': _text,
     'type': st.sampled_from(['openstack', 'kubernetes']) | _json,
     'auth_url': _url,
     'auth_cred': _openstack_cred | _k8s_cred | _json,
     'vim_project': st.fixed_dictionaries(
         {'name': _text}, optional={'project_domain_name': _text,
                                    'id': _text}) | _json},
    optional={'description': _text | _json, 'is_default': _json,
              'extra': st.dictionaries(_text, _json, max_size=3) | _json,
              'colour': _json})
# Bodies the API should accept, so that the stored-data property is
# exercised as often as the refusals.
_safe = st.text(st.characters(exclude_categories=('Cs', 'Cc')), min_size=1,
                max_size=30)
_safe_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False)
    | _safe,
    lambda children: st.lists(children, max_size=3)
    | st.dictionaries(_safe, children, max_size=3),
    max_leaves=8)
_valid_openstack = st.fixed_dictionaries(
    {'name': _safe, 'type': st.just('openstack'),
     'auth_url': st.sampled_from(['http://192.0.2.1/identity',
                                  'https://[2001:db8::1]:5000/v3/']),
     'auth_cred': st.fixed_dictionaries(
         {'username': _safe, 'password': _safe},
         optional={'user_domain_name': _safe,
                   'cert_verify': st.sampled_from(['True', 'False'])}),
     'vim_project': st.fixed_dictionaries(
         {'name': _safe}, optional={'project_domain_name': _safe})},
    optional={'description': _safe, 'is_default': st.booleans(),
              'extra': st.dictionaries(_safe, _safe_json, max_size=3)})
_valid_kubernetes = st.fixed_dictionaries(
    {'name': _safe, 'type': st.just('kubernetes'),
     'auth_url': st.just('https://192.0.2.2:6443'),
     'auth_cred': st.fixed_dictionaries(
         {'bearer_token': _safe}, optional={'ssl_ca_cert': _safe}),
     'vim_project': st.fixed_dictionaries({'name': _safe})},
    optional={'extra': st.dictionaries(_safe, _safe_json, max_size=3)})
_update = st.fixed_dictionaries({}, optional={
    'name': _text, 'description': _text | _json, 'is_default': _json,
    'extra': _json, 'auth_cred': _openstack_cred | _k8s_cred | _json,
    'vim_project': _json, 'auth_url': _url})
_body = st.one_of(
    _valid_openstack.map(lambda vim: {'vim': vim}),
    _valid_kubernetes.map(lambda vim: {'vim': vim}),
    _vim.map(lambda vim: {'vim': vim}),
    _json.map(lambda value: {'vim': value}),
    _json)
_query = st.dictionaries(
    st.sampled_from(['name', 'type', 'is_default', 'status', 'fields',
                     'tenant_id', 'id', 'x']) | _text, _text, max_size=3)


def _as_json(document):
    # json.dumps escapes lone surrogates, so they reach the server.
    return json.dumps(document)


def _quote(text):
    # A lone surrogate becomes bytes that are not UTF-8: the server must
    # refuse them cleanly too.
    return parse.quote(text.encode('utf-8', 'surrogatepass'), safe='')


def _query_string(query):
    return '&'.join('%s=%s' % (_quote(name), _quote(value))
                    for name, value in query.items())


class _FuzzTestMixin:
    backend = None

    def setUp(self):
        super().setUp()
        database = self.real_database(self.backend)
        # A pooled engine: one connection for all the examples.
        self.engine = sa.create_engine(database.url)
        self.addCleanup(self.engine.dispose)
        self.server = self.useFixture(api_server.ApiServerProcess(
            database.url))
        self.keys = crypto.KeyRepository(self.server.key_repository)
        self.http = requests.Session()

    def request(self, method, path, body=None):
        response = self.http.request(
            method, self.server.url + path, data=body,
            headers={'Content-Type': 'application/json'}, timeout=30)
        self.assertLess(response.status_code, 500, ascii((
            method, path, body, response.text)))
        return response

    def stored(self):
        with self.engine.connect() as connection:
            return connection.execute(sa.text(
                'SELECT id, name, description, auth_cred, auth_cred_secret, '
                'extra FROM vims')).fetchall()

    def check_stored(self, sent, answer):
        """The row holds what was sent; secrets only encrypted."""
        (row,) = self.stored()
        # Whatever the API accepts, the monitor can probe (one parser).
        target.from_auth_url(answer['auth_url'])
        self.assertEqual((answer['id'], sent['name']), (row.id, row.name))
        self.assertEqual(sent.get('description') or '', row.description)
        self.assertEqual(sent.get('extra') or {}, json.loads(row.extra))
        cred = sent['auth_cred']
        secret_fields = vim_types.get_type(sent['type']).SECRET_FIELDS
        secrets = {key: value for key, value in cred.items()
                   if key in secret_fields}
        self.assertEqual(secrets, crypto.decrypt_secrets(
            row.auth_cred_secret, row.id, self.keys))
        for key, value in cred.items():
            if key in secret_fields:
                self.assertEqual('***', answer['auth_cred'][key])
            elif key != 'cert_verify' and value:
                # (cert_verify and empty domains are normalised)
                self.assertEqual(value, answer['auth_cred'][key])
        for value in secrets.values():
            if len(value) > 3:
                self.assertNotIn(value, row.auth_cred)

    def test_no_5xx_and_no_stored_garbage(self):
        self.outcomes = {}
        self.fuzz()
        # The properties above say little unless both paths were taken.
        self.assertGreater(self.outcomes.get(201, 0), EXAMPLES // 10,
                           self.outcomes)
        self.assertGreater(self.outcomes.get(400, 0), EXAMPLES // 10,
                           self.outcomes)

    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
              database=None, suppress_health_check=list(HealthCheck))
    @given(body=_body, update=_update, query=_query, some_id=_text)
    def fuzz(self, body, update, query, some_id):
        created = self.request('POST', '/v1.0/vims', _as_json(body))
        status = created.status_code
        self.outcomes[status] = self.outcomes.get(status, 0) + 1
        if created.status_code != 201:
            self.assertEqual(created.json()['TackerError']['type'] and [],
                             self.stored())
            self.request('GET', '/v1.0/vims?' + _query_string(query))
            self.request('GET', '/v1.0/vims/' + _quote(some_id))
            return
        answer = created.json()['vim']
        self.check_stored(body['vim'], answer)
        path = '/v1.0/vims/' + answer['id']
        self.assertEqual(answer, self.request('GET', path).json()['vim'])
        self.request('GET', '/v1.0/vims?' + _query_string(query))
        updated = self.request('PUT', path, _as_json({'vim': update}))
        if updated.status_code == 200:
            shown = self.request('GET', path).json()['vim']
            self.assertEqual(updated.json()['vim'], shown)
            target.from_auth_url(shown['auth_url'])
            if 'name' in update:
                self.assertEqual(update['name'], shown['name'])
        else:
            self.assertEqual(answer, self.request('GET', path).json()['vim'])
        self.assertEqual(204, self.request('DELETE', path).status_code)
        self.assertEqual([], self.stored())


class TestFuzzPostgreSQL(_FuzzTestMixin, base.FunctionalTestCase):
    backend = 'postgresql'


class TestFuzzMySQL(_FuzzTestMixin, base.FunctionalTestCase):
    backend = 'mysql'
