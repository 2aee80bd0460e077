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

"""jsonschema validation with messages that name the field.

The messages never quote the rejected value: it may be a password, or a
megabyte of text.
"""

import jsonschema

from tacker_vimmon.common import exception


def _reason(error):
    schema = error.schema if isinstance(error.schema, dict) else {}
    validator = error.validator
    if validator == 'type':
        return 'must be of type %s' % error.validator_value
    if validator == 'maxLength':
        return 'must be at most %d characters long' % error.validator_value
    if validator == 'minLength':
        return 'must be at least %d characters long' % error.validator_value
    if validator == 'enum':
        return 'must be one of %s' % ', '.join(
            str(value) for value in error.validator_value)
    if validator == 'required':
        return error.message[:200]
    if validator == 'additionalProperties':
        allowed = sorted(schema.get('properties', {}))
        unexpected = sorted(set(error.instance) - set(allowed))
        return 'unknown field(s) %s; allowed: %s' % (
            ', '.join(name[:64] for name in unexpected[:5]),
            ', '.join(allowed))
    if validator == 'pattern':
        return 'must not contain control characters'
    if validator in ('oneOf', 'anyOf'):
        return 'must be a boolean or one of "True", "False"'
    if validator == 'minProperties':
        return 'must not be empty'
    return 'is not valid (%s)' % validator


def _field(error, prefix):
    return '.'.join([prefix] + [str(part)[:64] for part in error.path])


def validate(schema, document, prefix='body'):
    """Raise InvalidInput naming the first field that is wrong."""
    validator = jsonschema.Draft7Validator(schema)
    errors = sorted(validator.iter_errors(document),
                    key=lambda error: list(error.path))
    if errors:
        error = jsonschema.exceptions.best_match(errors)
        raise exception.InvalidInput(field=_field(error, prefix),
                                     reason=_reason(error))
