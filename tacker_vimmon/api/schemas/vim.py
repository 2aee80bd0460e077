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

"""Request bodies of /v1.0/vims."""

from tacker_vimmon.vim import TYPES

# Plain columns must not hold NUL (PostgreSQL refuses it) or other control
# characters; tab and newline are fine in a description.
_NO_CONTROL = '^[^\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f]*$'

NAME = {'type': 'string', 'minLength': 1, 'maxLength': 255,
        'pattern': _NO_CONTROL}
DESCRIPTION = {'type': 'string', 'maxLength': 4096, 'pattern': _NO_CONTROL}
AUTH_URL = {'type': 'string', 'minLength': 1, 'maxLength': 1000,
            'pattern': _NO_CONTROL}
TENANT_ID = {'type': 'string', 'minLength': 1, 'maxLength': 64,
             'pattern': _NO_CONTROL}
EXTRA = {'type': ['object', 'null']}

_COMMON = {
    'name': NAME,
    'description': {'type': ['string', 'null'], 'maxLength': 4096,
                    'pattern': _NO_CONTROL},
    'is_default': {'type': 'boolean'},
    'extra': EXTRA,
    'auth_cred': {'type': 'object', 'minProperties': 1},
    'vim_project': {'type': 'object', 'minProperties': 1},
}


def _wrapped(vim_schema):
    return {
        'type': 'object',
        'properties': {'vim': vim_schema},
        'required': ['vim'],
        'additionalProperties': False,
    }


CREATE = _wrapped({
    'type': 'object',
    'properties': dict(_COMMON,
                       type={'type': 'string', 'enum': sorted(TYPES)},
                       auth_url=AUTH_URL,
                       tenant_id=TENANT_ID),
    'required': ['name', 'type', 'auth_url', 'auth_cred', 'vim_project'],
    'additionalProperties': False,
})

UPDATE = _wrapped({
    'type': 'object',
    'properties': _COMMON,
    'minProperties': 1,
    'additionalProperties': False,
})
