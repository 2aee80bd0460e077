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

"""Encryption of VIM secrets at rest with Fernet keys from a repository.

The repository (``[vim_keys] key_repository``) is a directory of key files
named by integers. The highest number is the primary key, which encrypts;
every key decrypts, so after a rotation the secrets written before it stay
readable until they are re-encrypted and the old keys pruned
(``tacker-vimmon-manage-keys``). Keys are read at each use, so a rotation on
a shared directory reaches every API node without a restart.
"""

import os
import tempfile

from cryptography import fernet
from oslo_log import log as logging
from oslo_serialization import jsonutils

from tacker_vimmon.common import exception
from tacker_vimmon.conf import CONF

LOG = logging.getLogger(__name__)


class KeyRepository:
    """The key files of one directory."""

    def __init__(self, path=None):
        self.path = path or CONF.vim_keys.key_repository

    def indexes(self):
        """Key numbers, oldest first ([] if there is no repository)."""
        try:
            names = os.listdir(self.path)
        except FileNotFoundError:
            return []
        return sorted(int(name) for name in names if name.isdigit())

    def _read(self, index):
        with open(os.path.join(self.path, str(index)), 'rb') as key_file:
            return key_file.read().strip()

    def multi_fernet(self):
        """A MultiFernet that encrypts with the primary key."""
        keys = []
        for index in reversed(self.indexes()):
            try:
                keys.append(fernet.Fernet(self._read(index)))
            except (OSError, ValueError):
                LOG.warning('Ignoring unreadable or invalid key %s in %s',
                            index, self.path)
        if not keys:
            raise exception.VimKeysMissing(path=self.path)
        return fernet.MultiFernet(keys)

    def primary(self):
        return fernet.Fernet(self._read(self.indexes()[-1]))

    def _write_new_key(self):
        index = (self.indexes() or [0])[-1] + 1
        descriptor, temporary = tempfile.mkstemp(dir=self.path)
        with os.fdopen(descriptor, 'wb') as key_file:
            key_file.write(fernet.Fernet.generate_key())
        # mkstemp creates it 0600; the rename makes it appear whole.
        os.replace(temporary, os.path.join(self.path, str(index)))
        return index

    def setup(self):
        """Create the directory and a first key; return the primary index."""
        os.makedirs(self.path, mode=0o700, exist_ok=True)
        if not self.indexes():
            self._write_new_key()
        return self.indexes()[-1]

    def rotate(self):
        """Add a new primary key; return its index."""
        if not self.indexes():
            raise exception.VimKeysMissing(path=self.path)
        return self._write_new_key()

    def remove_all_but_primary(self):
        """Delete every key except the primary; return the removed ones."""
        removed = self.indexes()[:-1]
        for index in removed:
            os.unlink(os.path.join(self.path, str(index)))
        return removed


def encrypt_secrets(secrets, repository=None):
    """A Fernet token (str) holding the dict of secret fields."""
    repository = repository or KeyRepository()
    plaintext = jsonutils.dump_as_bytes(secrets)
    return repository.multi_fernet().encrypt(plaintext).decode('ascii')


def decrypt_secrets(token, vim_id, repository=None):
    """The dict of secret fields a token holds.

    :raises: VimSecretUndecryptable when no key decrypts it
    """
    repository = repository or KeyRepository()
    try:
        plaintext = repository.multi_fernet().decrypt(token.encode('ascii'))
    except fernet.InvalidToken:
        raise exception.VimSecretUndecryptable(vim_id=vim_id,
                                               path=repository.path)
    return jsonutils.loads(plaintext)


def reencrypt(token, repository=None):
    """The same secrets encrypted with the primary key."""
    repository = repository or KeyRepository()
    return repository.multi_fernet().rotate(token.encode('ascii')).decode(
        'ascii')


def readable_by_primary(token, repository=None):
    repository = repository or KeyRepository()
    try:
        repository.primary().decrypt(token.encode('ascii'))
    except fernet.InvalidToken:
        return False
    return True


def audit(secrets, repository=None):
    """Which stored secrets the repository cannot read, or reads only with
    an older key.

    :param secrets: (vim_id, token) pairs, as db.api.vim_secret_get_all
    :returns: (ids no key decrypts, ids only an older key decrypts)
    :raises: VimKeysMissing when the repository has no usable key
    """
    repository = repository or KeyRepository()
    every_key = repository.multi_fernet()
    primary = repository.primary()
    unreadable, old = [], []
    for vim_id, token in secrets:
        token = token.encode('ascii')
        try:
            primary.decrypt(token)
            continue
        except fernet.InvalidToken:
            pass
        try:
            every_key.decrypt(token)
            old.append(vim_id)
        except fernet.InvalidToken:
            unreadable.append(vim_id)
    return unreadable, old


def require_keys(repository=None):
    """The start-up check of the API: exit 2 if there is no key."""
    repository = repository or KeyRepository()
    if not repository.indexes():
        exception.exit_at_start(
            exception.VimKeysMissing(path=repository.path))
