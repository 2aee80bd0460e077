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

"""The VIM types: normalisation, cross-field rules and updates."""

from tacker_vimmon import vim as vim_types
from tacker_vimmon.common import exception
from tacker_vimmon.tests import base
from tacker_vimmon.vim import kubernetes
from tacker_vimmon.vim import openstack


class TestOpenStack(base.TestCase):

    def test_auth_url_is_normalised_to_v3(self):
        for given, expected in (
                ('http://k/identity', 'http://k/identity/v3'),
                ('http://k/identity/', 'http://k/identity/v3'),
                ('http://k:5000/v3', 'http://k:5000/v3'),
                ('http://k:5000/v3/', 'http://k:5000/v3'),
                ('http://k:5000', 'http://k:5000/v3')):
            self.assertEqual(expected, openstack.normalise_auth_url(given))

    def test_defaults_and_required_identities(self):
        vim = {'auth_url': 'http://k', 'auth_cred': {
            'username': 'u', 'password': 'p', 'user_domain_name': ''},
            'vim_project': {'name': 'p', 'project_domain_name': ''}}
        openstack.normalise(vim)
        self.assertEqual('Default', vim['auth_cred']['user_domain_name'])
        self.assertEqual('Default',
                         vim['vim_project']['project_domain_name'])
        self.assertEqual('True', vim['auth_cred']['cert_verify'])
        vim['auth_cred'] = {'password': 'p'}
        error = self.assertRaises(exception.InvalidInput,
                                  openstack.normalise, vim)
        self.assertIn('username, user_id', str(error))

    def test_update_switches_between_username_and_user_id(self):
        merged = openstack.merge_auth_cred(
            {'username': 'u', 'password': 'p'}, {'user_id': 'id'})
        self.assertEqual({'user_id': 'id', 'password': 'p'}, merged)


class TestKubernetes(base.TestCase):

    def vim(self, **cred):
        return {'auth_url': 'https://k:6443/', 'auth_cred': cred,
                'vim_project': {'name': 'default'}}

    def test_each_way_to_authenticate_is_accepted(self):
        for cred in ({'bearer_token': 't', 'ssl_ca_cert': 'c'},
                     {'oidc_token_url': 'https://i/t', 'client_id': 'c',
                      'client_secret': 's', 'username': 'u',
                      'password': 'p'},
                     {'username': 'u', 'password': 'p'}):
            vim = self.vim(**cred)
            kubernetes.normalise(vim)
            self.assertEqual('https://k:6443', vim['auth_url'])

    def test_mixed_or_missing_credentials_are_refused(self):
        for cred, words in (({}, 'bearer_token'),
                            ({'oidc_token_url': 'u'}, 'client_id'),
                            ({'username': 'u'}, 'go together'),
                            ({'bearer_token': 't', 'client_id': 'c'},
                             'cannot be combined')):
            error = self.assertRaises(exception.InvalidInput,
                                      kubernetes.normalise, self.vim(**cred))
            self.assertIn(words, str(error))

    def test_switching_kind_drops_the_old_fields(self):
        merged = kubernetes.merge_auth_cred(
            {'oidc_token_url': 'u', 'client_id': 'c', 'client_secret': 's',
             'ssl_ca_cert': 'ca'}, {'bearer_token': 't'})
        self.assertEqual({'bearer_token': 't', 'ssl_ca_cert': 'ca'}, merged)
        self.assertEqual({'bearer_token': 't2', 'ssl_ca_cert': 'ca'},
                         kubernetes.merge_auth_cred(merged,
                                                    {'bearer_token': 't2'}))


class TestSecrets(base.TestCase):

    def test_split_and_join(self):
        public, secrets = vim_types.split_secrets(
            'kubernetes', {'bearer_token': 't', 'ssl_ca_cert': 'c'})
        self.assertEqual({'bearer_token': '***', 'ssl_ca_cert': '***'},
                         public)
        self.assertEqual({'bearer_token': 't', 'ssl_ca_cert': 'c'},
                         vim_types.join_secrets(public, secrets))
