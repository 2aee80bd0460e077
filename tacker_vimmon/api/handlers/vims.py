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

"""/v1.0/vims: register, list, show, change and deregister VIMs.

Thin handlers: each parses its request, checks policy and calls the VIM
registry (tacker_vimmon.registry.api), which does the work.
"""

from oslo_utils import timeutils
from oslo_utils import uuidutils
import webob.dec

from tacker_vimmon.api import policy
from tacker_vimmon.api import wsgi_util
from tacker_vimmon.api.schemas import vim as vim_schema
from tacker_vimmon.common import exception
from tacker_vimmon.common import validation
from tacker_vimmon.db import api as db_api

POLICY = 'tacker_vimmon:vim:%s'

_TEXT_FILTERS = ('id', 'name', 'tenant_id', 'type', 'status', 'auth_url',
                 'description')
_LIST_PARAMS = frozenset(_TEXT_FILTERS + ('is_default', 'fields'))


def view(req, vim, now=None):
    """The API representation: secrets are already masked in auth_cred.

    ``status`` is UNKNOWN while the VIM's monitor is not heard from (see
    VimRegistry.monitor_state); ``monitor`` says what is known of it.
    """
    status, monitor = wsgi_util.registry_of(req).monitor_state(vim, now)
    body = {
        'id': vim.id,
        'tenant_id': vim.tenant_id,
        'name': vim.name,
        'description': vim.description or '',
        'type': vim.type,
        'auth_url': vim.auth_url,
        'auth_cred': vim.auth_cred,
        'vim_project': vim.vim_project,
        'status': status,
        'placement_attr': vim.placement_attr,
        'is_default': vim.is_default,
        'extra': vim.extra,
        'created_at': wsgi_util.format_time(vim.created_at),
        'updated_at': wsgi_util.format_time(vim.updated_at),
        'monitor': dict(monitor, last_check_in_at=wsgi_util.format_time(
            monitor['last_check_in_at'])),
    }
    if vim.monitor_error:
        # Why the VIM shows ERROR: its monitor could not be set up (the
        # service retries). Absent otherwise, as in Tacker's API.
        body['monitor_error'] = vim.monitor_error
    return body


def _visible_project(context):
    """None (every project) for an administrator, else the caller's."""
    return None if policy.is_admin(context) else context.project_id


def _get_visible(context, vim_id):
    # Another project's VIM is "not found", not "forbidden": its existence
    # is none of the caller's business.
    if not uuidutils.is_uuid_like(vim_id):
        raise exception.VimNotFound(vim_id=vim_id[:64])
    return db_api.vim_get(context, vim_id,
                          project_id=_visible_project(context))


@webob.dec.wsgify
def create(req):
    context = wsgi_util.context_of(req)
    document = wsgi_util.json_body(req)
    validation.validate(vim_schema.CREATE, document)
    vim = document['vim']
    project_id = vim.get('tenant_id') or context.project_id
    if not project_id:
        raise exception.InvalidInput(
            field='vim.tenant_id',
            reason='the request has no project; give tenant_id')
    policy.authorize(context, POLICY % 'create', project_id)
    row = wsgi_util.registry_of(req).register(context, project_id, vim)
    return wsgi_util.json_response(201, {'vim': view(req, row)})


@webob.dec.wsgify
def list_vims(req):
    context = wsgi_util.context_of(req)
    policy.authorize(context, POLICY % 'list', context.project_id)
    params = wsgi_util.query_params(req, _LIST_PARAMS)
    filters = {name: wsgi_util.single(params, name)
               for name in _TEXT_FILTERS if name in params}
    if 'is_default' in params:
        filters['is_default'] = wsgi_util.parse_bool(
            wsgi_util.single(params, 'is_default'), 'is_default')
    # The status shown may be UNKNOWN, which no row stores: filter on it
    # after the views are made.
    status = filters.pop('status', None)
    rows = db_api.vim_get_all(context, filters=filters,
                              project_id=_visible_project(context))
    now = timeutils.utcnow()
    views = [view(req, row, now) for row in rows]
    return wsgi_util.json_response(200, {'vims': [
        wsgi_util.only_fields(body, params) for body in views
        if status is None or body['status'] == status]})


@webob.dec.wsgify
def show(req):
    context = wsgi_util.context_of(req)
    params = wsgi_util.query_params(req, {'fields'})
    row = _get_visible(context, req.urlvars['vim_id'])
    policy.authorize(context, POLICY % 'show', row.tenant_id)
    return wsgi_util.json_response(
        200, {'vim': wsgi_util.only_fields(view(req, row), params)})


@webob.dec.wsgify
def update(req):
    context = wsgi_util.context_of(req)
    document = wsgi_util.json_body(req)
    validation.validate(vim_schema.UPDATE, document)
    row = _get_visible(context, req.urlvars['vim_id'])
    policy.authorize(context, POLICY % 'update', row.tenant_id)
    row = wsgi_util.registry_of(req).update(context, row, document['vim'])
    return wsgi_util.json_response(200, {'vim': view(req, row)})


@webob.dec.wsgify
def delete(req):
    context = wsgi_util.context_of(req)
    row = _get_visible(context, req.urlvars['vim_id'])
    policy.authorize(context, POLICY % 'delete', row.tenant_id)
    wsgi_util.registry_of(req).deregister(context, row)
    return wsgi_util.empty_response()
