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

"""The kubernetes VIM type: an API server and a token or OIDC client."""

import tempfile

import requests

from tacker_vimmon.common import exception

TYPE = 'kubernetes'
SECRET_FIELDS = frozenset(['password', 'bearer_token', 'client_secret',
                           'ssl_ca_cert'])

_NAME = {'type': 'string', 'maxLength': 255}
_SECRET = {'type': 'string', 'minLength': 1, 'maxLength': 4096}

AUTH_CRED_SCHEMA = {
    'type': 'object',
    'properties': {
        'bearer_token': _SECRET,
        'oidc_token_url': {'type': 'string', 'minLength': 1,
                           'maxLength': 1024},
        'client_id': _NAME,
        'client_secret': _SECRET,
        'username': _NAME,
        'password': _SECRET,
        # A PEM bundle can hold a few certificates.
        'ssl_ca_cert': {'type': 'string', 'minLength': 1,
                        'maxLength': 32768},
    },
    'additionalProperties': False,
}

VIM_PROJECT_SCHEMA = {
    'type': 'object',
    'properties': {
        # The namespace.
        'name': {'type': 'string', 'minLength': 1, 'maxLength': 255},
    },
    'required': ['name'],
    'additionalProperties': False,
}

# Each way to authenticate, and the fields that belong to it.
_KINDS = {
    'bearer_token': ('bearer_token',),
    'oidc': ('oidc_token_url', 'client_id', 'client_secret', 'username',
             'password'),
    'password': ('username', 'password'),
}


def _kind(auth_cred):
    if auth_cred.get('oidc_token_url'):
        return 'oidc'
    if auth_cred.get('bearer_token'):
        return 'bearer_token'
    if auth_cred.get('username') or auth_cred.get('password'):
        return 'password'
    return None


def normalise(vim):
    vim['auth_url'] = vim['auth_url'].rstrip('/')
    cred = vim['auth_cred']
    kind = _kind(cred)
    if kind is None:
        raise exception.InvalidInput(
            field='vim.auth_cred',
            reason='give bearer_token, or oidc_token_url with client_id, '
                   'or username and password')
    if kind == 'oidc' and not cred.get('client_id'):
        raise exception.InvalidInput(
            field='vim.auth_cred.client_id',
            reason='required with oidc_token_url')
    if kind == 'password' and not (cred.get('username')
                                   and cred.get('password')):
        raise exception.InvalidInput(
            field='vim.auth_cred',
            reason='username and password go together')
    extra = set(cred) - set(_KINDS[kind]) - {'ssl_ca_cert'}
    if extra:
        raise exception.InvalidInput(
            field='vim.auth_cred',
            reason='%s cannot be combined with %s' % (
                ', '.join(sorted(extra)), kind))


def merge_auth_cred(stored, given):
    """Fields of another way to authenticate are dropped on a switch."""
    kind = _kind(given)
    if kind is not None and kind != _kind(stored):
        stored = {key: value for key, value in stored.items()
                  if key == 'ssl_ca_cert'}
    merged = dict(stored)
    merged.update(given)
    return merged


# The API server answers this without credentials by default (RBAC's
# system:public-info-viewer); 401 or 403, where that is off, still shows
# the API answering.
API_CHECK_PATH = '/version'


def api_check_target(auth_cred, secrets):
    return {'path': API_CHECK_PATH, 'verify': True,
            'ca_cert': secrets.get('ssl_ca_cert')}


# An authenticated call any user may make (RBAC's system:discovery).
CREDENTIAL_CHECK_PATH = '/api'


def prove_credentials(auth_url, auth_cred, vim_project, timeout):
    """Call the API server with the bearer token; 401 means refused.

    403 is not a refusal: the token authenticated, its user may not list
    the API groups. Other ways to authenticate (OIDC, a password) are not
    proven here: the token they yield is the identity provider's.

    :returns: False when these credentials cannot be proven here
    :raises: VimCredentialsRejected, VimKeystoneUnreachable
    """
    token = auth_cred.get('bearer_token')
    if not token:
        return False
    with tempfile.NamedTemporaryFile('w', suffix='.pem') as ca_file:
        verify = True
        if auth_cred.get('ssl_ca_cert'):
            ca_file.write(auth_cred['ssl_ca_cert'])
            ca_file.flush()
            verify = ca_file.name
        try:
            response = requests.get(
                auth_url.rstrip('/') + CREDENTIAL_CHECK_PATH, verify=verify,
                headers={'Authorization': 'Bearer ' + token},
                timeout=timeout)
        except requests.RequestException as error:
            raise exception.VimKeystoneUnreachable(
                auth_url=auth_url, reason=type(error).__name__)
    if response.status_code == 401:
        raise exception.VimCredentialsRejected(
            auth_url=auth_url, reason='the API server answered 401')
    if response.status_code >= 500:
        raise exception.VimKeystoneUnreachable(
            auth_url=auth_url, reason='HTTP %d' % response.status_code)
    return True
