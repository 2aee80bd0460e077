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

"""Fernet key repository and secret encryption."""

import os
import stat

import fixtures

from tacker_vimmon.common import exception
from tacker_vimmon.registry import crypto
from tacker_vimmon.tests import base


class TestKeyRepository(base.TestCase):

    def setUp(self):
        super().setUp()
        self.path = os.path.join(self.useFixture(
            fixtures.TempDir()).path, 'keys')
        self.repository = crypto.KeyRepository(self.path)

    def test_setup_creates_private_first_key_once(self):
        self.assertEqual(1, self.repository.setup())
        self.assertEqual(1, self.repository.setup())
        self.assertEqual([1], self.repository.indexes())
        self.assertEqual(0o700, stat.S_IMODE(os.stat(self.path).st_mode))
        self.assertEqual(0o600, stat.S_IMODE(
            os.stat(os.path.join(self.path, '1')).st_mode))

    def test_secrets_survive_rotation_until_reencrypted_and_pruned(self):
        self.repository.setup()
        token = crypto.encrypt_secrets({'password': 's3cret'},
                                       self.repository)
        self.assertNotIn('s3cret', token)
        self.assertEqual(2, self.repository.rotate())
        self.assertFalse(crypto.readable_by_primary(token, self.repository))
        self.assertEqual({'password': 's3cret'}, crypto.decrypt_secrets(
            token, 'vim-1', self.repository))

        new_token = crypto.reencrypt(token, self.repository)
        self.assertTrue(crypto.readable_by_primary(new_token,
                                                   self.repository))
        self.assertEqual([1], self.repository.remove_all_but_primary())
        self.assertEqual({'password': 's3cret'}, crypto.decrypt_secrets(
            new_token, 'vim-1', self.repository))
        error = self.assertRaises(exception.VimSecretUndecryptable,
                                  crypto.decrypt_secrets, token, 'vim-1',
                                  self.repository)
        self.assertIn('vim-1', str(error))

    def test_no_key_is_a_clear_error(self):
        error = self.assertRaises(exception.VimKeysMissing,
                                  crypto.encrypt_secrets, {},
                                  self.repository)
        self.assertIn('tacker-vimmon-manage-keys setup', str(error))
        self.assertRaises(exception.VimKeysMissing, self.repository.rotate)
        self.assertRaises(SystemExit, crypto.require_keys, self.repository)

    def test_the_configured_repository_is_used_by_default(self):
        self.flags(group='vim_keys', key_repository=self.path)
        crypto.KeyRepository().setup()
        token = crypto.encrypt_secrets({'bearer_token': 't'})
        self.assertEqual({'bearer_token': 't'},
                         crypto.decrypt_secrets(token, 'v'))
