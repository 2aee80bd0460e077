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

"""/v1.0/vims: register, list, show, change and deregister VIMs."""

from urllib import parse

from oslo_log import log as logging
from oslo_serialization import jsonutils
from oslo_utils import uuidutils
import webob.dec

from tacker_vimmon import vim as vim_types
from tacker_vimmon.api import schemas
from tacker_vimmon.api import wsgi_util
from tacker_vimmon.api.schemas import vim as vim_schema
from tacker_vimmon.common import crypto
from tacker_vimmon.common import exception
from tacker_vimmon.common import policy
from tacker_vimmon.conf import CONF
from tacker_vimmon.db import api as db_api
from tacker_vimmon.db import models
from tacker_vimmon.vim import keystone
from tacker_vimmon.vim import openstack

LOG = logging.getLogger(__name__)

POLICY = 'tacker_vimmon:vim:%s'

# Query parameters of GET /v1.0/vims that filter on a column.
_TEXT_FILTERS = ('id', 'name', 'tenant_id', 'type', 'status', 'auth_url',
                 'description')
_LIST_PARAMS = frozenset(_TEXT_FILTERS + ('is_default', 'fields'))

# MariaDB/MySQL TEXT holds 65535 bytes; stored JSON is ASCII.
_MAX_STORED = 60000


def view(vim):
    """The API representation: secrets are already masked in auth_cred."""
    body = {
        'id': vim.id,
        'tenant_id': vim.tenant_id,
        'name': vim.name,
        'description': vim.description or '',
        'type': vim.type,
        'auth_url': vim.auth_url,
        'auth_cred': vim.auth_cred,
        'vim_project': vim.vim_project,
        'status': vim.status,
        'placement_attr': vim.placement_attr,
        'is_default': vim.is_default,
        'extra': vim.extra,
        'created_at': wsgi_util.format_time(vim.created_at),
        'updated_at': wsgi_util.format_time(vim.updated_at),
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


def _check_auth_url(url):
    try:
        parts = parse.urlsplit(url)
        valid = (parts.scheme in ('http', 'https') and parts.hostname
                 and (parts.port or True))  # .port raises on a bad port
    except ValueError:
        valid = False
    if not valid:
        raise exception.InvalidInput(
            field='vim.auth_url',
            reason='must be an http:// or https:// URL with a host')


def _check_type_fields(driver, vim):
    schemas.validate(driver.AUTH_CRED_SCHEMA, vim['auth_cred'],
                     'vim.auth_cred')
    schemas.validate(driver.VIM_PROJECT_SCHEMA, vim['vim_project'],
                     'vim.vim_project')
    driver.normalise(vim)


def _discover_regions(vim):
    """Prove an OpenStack VIM's credentials; its regions, or None."""
    if vim['type'] != openstack.TYPE or not CONF.vim.validate_credentials:
        return None
    return keystone.discover_regions(vim['auth_url'], vim['auth_cred'],
                                     vim['vim_project'])


def _check_stored_size(values):
    for field in ('auth_cred', 'vim_project', 'extra', 'placement_attr',
                  'auth_cred_secret'):
        if field not in values:
            continue
        value = values[field]
        size = len(value if isinstance(value, str)
                   else jsonutils.dumps(value))
        if size > _MAX_STORED:
            name = 'auth_cred' if field == 'auth_cred_secret' else field
            raise exception.InvalidInput(
                field='vim.%s' % name,
                reason='too large to store (%d bytes encoded, at most %d)'
                % (size, _MAX_STORED))


def _credential_values(vim, regions):
    public, secrets = vim_types.split_secrets(vim['type'], vim['auth_cred'])
    values = {
        'auth_cred': public,
        'auth_cred_secret': crypto.encrypt_secrets(secrets),
        'vim_project': vim['vim_project'],
    }
    if regions is not None:
        values['placement_attr'] = {'regions': regions}
    return values


@webob.dec.wsgify
def create(req):
    context = wsgi_util.context_of(req)
    document = wsgi_util.json_body(req)
    schemas.validate(vim_schema.CREATE, document)
    vim = document['vim']
    project_id = vim.get('tenant_id') or context.project_id
    if not project_id:
        raise exception.InvalidInput(
            field='vim.tenant_id',
            reason='the request has no project; give tenant_id')
    policy.authorize(context, POLICY % 'create', project_id)
    _check_auth_url(vim['auth_url'])
    _check_type_fields(vim_types.get_type(vim['type']), vim)
    regions = _discover_regions(vim)
    values = {
        'tenant_id': project_id,
        'name': vim['name'],
        'description': vim.get('description') or '',
        'type': vim['type'],
        'auth_url': vim['auth_url'],
        'is_default': vim.get('is_default', False),
        'extra': vim.get('extra') or {},
        'placement_attr': {'regions': []},
    }
    values.update(_credential_values(vim, regions))
    _check_stored_size(values)
    lifecycle = wsgi_util.lifecycle_of(req)
    if lifecycle is not None:
        # Stored with the row, so the action can report as soon as it runs.
        values['action_id'] = uuidutils.generate_uuid()
    row = db_api.vim_create(context, values)
    LOG.info('Registered VIM %(id)s (%(type)s) in project %(project)s',
             {'id': row.id, 'type': row.type, 'project': row.tenant_id})
    if lifecycle is not None:
        row = lifecycle.start(context, row)
    return wsgi_util.json_response(201, {'vim': view(row)})


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
    rows = db_api.vim_get_all(context, filters=filters,
                              project_id=_visible_project(context))
    return wsgi_util.json_response(200, {'vims': [
        wsgi_util.only_fields(view(row), params) for row in rows]})


@webob.dec.wsgify
def show(req):
    context = wsgi_util.context_of(req)
    params = wsgi_util.query_params(req, {'fields'})
    row = _get_visible(context, req.urlvars['vim_id'])
    policy.authorize(context, POLICY % 'show', row.tenant_id)
    return wsgi_util.json_response(
        200, {'vim': wsgi_util.only_fields(view(row), params)})


def _without_masks(driver, given):
    # A client that sends back what it was shown ('***') keeps the secret.
    return {key: value for key, value in given.items()
            if not (key in driver.SECRET_FIELDS and value == vim_types.MASK)}


def _changed_credentials(row, changes):
    driver = vim_types.get_type(row.type)
    stored = vim_types.join_secrets(
        row.auth_cred,
        crypto.decrypt_secrets(row.auth_cred_secret, row.id)
        if row.auth_cred_secret else {})
    project = dict(row.vim_project)
    project.update(changes.get('vim_project') or {})
    vim = {
        'type': row.type,
        'auth_url': changes.get('auth_url', row.auth_url),
        'auth_cred': driver.merge_auth_cred(
            stored, _without_masks(driver, changes.get('auth_cred') or {})),
        'vim_project': project,
    }
    _check_type_fields(driver, vim)   # normalises auth_url too
    values = _credential_values(vim, _discover_regions(vim))
    if vim['auth_url'] != row.auth_url:
        values['auth_url'] = vim['auth_url']
    return values


@webob.dec.wsgify
def update(req):
    context = wsgi_util.context_of(req)
    document = wsgi_util.json_body(req)
    schemas.validate(vim_schema.UPDATE, document)
    changes = document['vim']
    row = _get_visible(context, req.urlvars['vim_id'])
    policy.authorize(context, POLICY % 'update', row.tenant_id)
    values = {name: changes[name]
              for name in ('name', 'is_default') if name in changes}
    if 'description' in changes:
        values['description'] = changes['description'] or ''
    if 'extra' in changes:
        values['extra'] = changes['extra'] or {}
    if 'auth_url' in changes:
        _check_auth_url(changes['auth_url'])
    if {'auth_url', 'auth_cred', 'vim_project'} & set(changes):
        values.update(_changed_credentials(row, changes))
    _check_stored_size(values)
    row = db_api.vim_update(context, row.id, values,
                            project_id=row.tenant_id)
    LOG.info('Updated VIM %s', row.id)
    lifecycle = wsgi_util.lifecycle_of(req)
    if 'auth_url' in values and lifecycle is not None:
        # The old monitor probes where the VIM no longer is.
        row = lifecycle.replace(context, row, 'auth_url changed',
                                status=models.VIM_STATUS_PENDING)
    return wsgi_util.json_response(200, {'vim': view(row)})


@webob.dec.wsgify
def delete(req):
    context = wsgi_util.context_of(req)
    row = _get_visible(context, req.urlvars['vim_id'])
    policy.authorize(context, POLICY % 'delete', row.tenant_id)
    row = db_api.vim_destroy(context, row.id, project_id=row.tenant_id)
    LOG.info('Deregistered VIM %s', row.id)
    lifecycle = wsgi_util.lifecycle_of(req)
    if lifecycle is not None:
        lifecycle.retire(row)
    return wsgi_util.empty_response()
