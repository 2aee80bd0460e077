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

"""The openstack VIM type: a Keystone v3 endpoint and a user's password."""

from urllib import parse

from tacker_vimmon.common import exception

TYPE = 'openstack'
SECRET_FIELDS = frozenset(['password'])

_NAME = {'type': 'string', 'maxLength': 255}
_BOOL_TEXT = {'oneOf': [{'type': 'boolean'},
                        {'type': 'string',
                         'enum': ['True', 'False', 'true', 'false']}]}

AUTH_CRED_SCHEMA = {
    'type': 'object',
    'properties': {
        'username': _NAME,
        'user_id': _NAME,
        'password': {'type': 'string', 'minLength': 1, 'maxLength': 4096},
        'user_domain_name': _NAME,
        'user_domain_id': _NAME,
        'cert_verify': _BOOL_TEXT,
    },
    'required': ['password'],
    'additionalProperties': False,
}

VIM_PROJECT_SCHEMA = {
    'type': 'object',
    'properties': {
        'name': _NAME,
        'id': _NAME,
        'project_domain_name': _NAME,
        'project_domain_id': _NAME,
    },
    'additionalProperties': False,
}

DEFAULT_DOMAIN = 'Default'


def normalise_auth_url(url):
    """The Keystone v3 URL of ``url``: '/v3' appended unless it is there."""
    url = url.rstrip('/')
    if parse.urlsplit(url).path.rstrip('/').endswith('/v3'):
        return url
    return url + '/v3'


def _one_of(values, names, field):
    if not any(values.get(name) for name in names):
        raise exception.InvalidInput(
            field=field, reason='give one of %s' % ', '.join(names))


def normalise(vim):
    """Check the fields that depend on each other; fill in defaults."""
    vim['auth_url'] = normalise_auth_url(vim['auth_url'])
    cred, project = vim['auth_cred'], vim['vim_project']
    _one_of(cred, ('username', 'user_id'), 'vim.auth_cred')
    _one_of(project, ('name', 'id'), 'vim.vim_project')
    # The tacker client sends '' for a domain the user left out.
    if not (cred.get('user_domain_name') or cred.get('user_domain_id')):
        cred['user_domain_name'] = DEFAULT_DOMAIN
    if not (project.get('project_domain_name')
            or project.get('project_domain_id')):
        project['project_domain_name'] = DEFAULT_DOMAIN
    cred['cert_verify'] = str(cred.get('cert_verify', True)).capitalize()


def merge_auth_cred(stored, given):
    """An update changes the given fields and keeps the others."""
    merged = dict(stored)
    if given.get('user_id'):
        merged.pop('username', None)
    if given.get('username'):
        merged.pop('user_id', None)
    merged.update(given)
    return merged


def cert_verify(auth_cred):
    return str(auth_cred.get('cert_verify', 'True')).lower() == 'true'


def api_check_target(auth_cred, secrets):
    # Keystone serves its v3 version document (the auth_url itself)
    # without a token.
    return {'path': None, 'verify': cert_verify(auth_cred), 'ca_cert': None}

