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

"""Request parsing and response building shared by the handlers."""

import datetime

from oslo_serialization import jsonutils
from oslo_utils import strutils
import webob

from tacker_vimmon.common import exception

CONTEXT_KEY = 'tacker_vimmon.context'
REGISTRY_KEY = 'tacker_vimmon.registry'
JSON_TYPES = ('application/json', '')


def context_of(req):
    return req.environ[CONTEXT_KEY]


def registry_of(req):
    """The VimRegistry of this server (registry.api)."""
    return req.environ[REGISTRY_KEY]


def _reject_constant(name):
    raise ValueError('%s is not JSON' % name)


def check_text(value, field):
    """A string a database can store: UTF-8 without NUL characters."""
    if '\x00' in value:
        raise exception.InvalidInput(field=field,
                                     reason='NUL characters are not allowed')
    try:
        value.encode('utf-8')
    except UnicodeEncodeError:
        raise exception.InvalidInput(
            field=field, reason='not valid Unicode (a lone surrogate)')
    return value


def _check_all_text(document):
    # Iterative: the JSON parser allows nesting deeper than is wise to
    # recurse into.
    pending = [('body', document)]
    while pending:
        field, value = pending.pop()
        if isinstance(value, str):
            check_text(value, field)
        elif isinstance(value, dict):
            for key, item in value.items():
                check_text(key, field)
                pending.append(('%s.%s' % (field, key[:64]), item))
        elif isinstance(value, list):
            pending.extend((field, item) for item in value)


def json_body(req):
    """The request body as a JSON object, or a 4xx that says why not."""
    if req.content_type not in JSON_TYPES:
        raise exception.UnsupportedMediaType(
            content_type=req.content_type[:100])
    try:
        document = jsonutils.loads(req.body.decode('utf-8'),
                                   parse_constant=_reject_constant)
    except (ValueError, UnicodeDecodeError, RecursionError) as error:
        lines = str(error).splitlines()
        reason = lines[0][:200] if lines else type(error).__name__
        raise exception.BadRequestBody(reason='not valid JSON (%s)' % reason)
    if not isinstance(document, dict):
        raise exception.BadRequestBody(reason='it must be a JSON object')
    _check_all_text(document)
    return document


def query_params(req, allowed):
    """{name: value} of the query string; 400 for unknown or repeated."""
    try:
        items = list(req.GET.items())
    except UnicodeDecodeError:
        raise exception.InvalidInput(field='query string',
                                     reason='not valid UTF-8')
    params = {}
    for name, value in items:
        check_text(name, 'query string')
        if name not in allowed:
            raise exception.InvalidInput(
                field='query parameter %s' % name[:64],
                reason='unknown; use one of %s' % ', '.join(sorted(allowed)))
        params.setdefault(name, []).append(check_text(value, name))
    return params


def single(params, name):
    values = params[name]
    if len(values) > 1:
        raise exception.InvalidInput(field='query parameter %s' % name,
                                     reason='give it once')
    return values[0]


def parse_bool(value, field):
    try:
        return strutils.bool_from_string(value, strict=True)
    except ValueError:
        raise exception.InvalidInput(field=field,
                                     reason='must be true or false')


def format_time(value):
    if value is None:
        return None
    return value.replace(tzinfo=None, microsecond=0).isoformat(' ')


def only_fields(view, params):
    """The view limited to the ?fields= the caller asked for, if any."""
    fields = params.get('fields')
    if not fields:
        return view
    return {name: view[name] for name in fields if name in view}


def json_response(status, document):
    response = webob.Response(status=status, content_type='application/json',
                              charset='utf-8')
    response.body = jsonutils.dump_as_bytes(document, default=_json_default)
    return response


def _json_default(value):
    if isinstance(value, datetime.datetime):
        return format_time(value)
    raise TypeError('%r is not JSON serialisable' % type(value))


def empty_response(status=204):
    response = webob.Response(status=status)
    # No body and no content type: a 204 carries nothing.
    response.content_type = None
    return response
