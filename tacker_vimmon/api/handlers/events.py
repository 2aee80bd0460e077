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

"""/v1.0/events: what happened to the VIMs."""

import webob.dec

from tacker_vimmon.api import policy
from tacker_vimmon.api import wsgi_util
from tacker_vimmon.common import exception
from tacker_vimmon.db import api as db_api

POLICY = 'tacker_vimmon:event:%s'

_TEXT_FILTERS = ('resource_id', 'resource_type', 'event_type',
                 'resource_state')
_LIST_PARAMS = frozenset(_TEXT_FILTERS + ('id', 'fields'))
# Event ids are integer keys; anything else cannot name an event.
_MAX_ID = 2 ** 31 - 1


def view(event):
    return {
        'id': event.id,
        'resource_id': event.resource_id,
        'resource_type': event.resource_type,
        'resource_state': event.resource_state,
        'event_type': event.event_type,
        'event_details': event.event_details,
        'timestamp': wsgi_util.format_time(event.timestamp),
        'tenant_id': event.tenant_id,
    }


def _event_id(text):
    if text.isascii() and text.isdigit() and 0 < int(text) <= _MAX_ID:
        return int(text)
    return None


def _visible_project(context):
    return None if policy.is_admin(context) else context.project_id


@webob.dec.wsgify
def list_events(req):
    context = wsgi_util.context_of(req)
    policy.authorize(context, POLICY % 'list', context.project_id)
    params = wsgi_util.query_params(req, _LIST_PARAMS)
    filters = {name: wsgi_util.single(params, name)
               for name in _TEXT_FILTERS if name in params}
    if 'id' in params:
        event_id = _event_id(wsgi_util.single(params, 'id'))
        if event_id is None:
            return wsgi_util.json_response(200, {'events': []})
        filters['id'] = event_id
    rows = db_api.event_get_all(context, filters=filters,
                                project_id=_visible_project(context))
    return wsgi_util.json_response(200, {'events': [
        wsgi_util.only_fields(view(row), params) for row in rows]})


@webob.dec.wsgify
def show(req):
    context = wsgi_util.context_of(req)
    params = wsgi_util.query_params(req, {'fields'})
    text = req.urlvars['event_id']
    event_id = _event_id(text)
    if event_id is None:
        raise exception.EventNotFound(event_id=text[:64])
    row = db_api.event_get(context, event_id,
                           project_id=_visible_project(context))
    policy.authorize(context, POLICY % 'show', row.tenant_id)
    return wsgi_util.json_response(
        200, {'event': wsgi_util.only_fields(view(row), params)})
