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


"""The VIM registry: what registering, changing and deregistering a VIM means.

The HTTP handlers parse a request, check policy and call this module; it
validates what only the registry can judge (the auth_url, each VIM type's
fields, the size of what is stored), keeps secrets encrypted, proves an
OpenStack VIM's credentials with its Keystone, stores the VIM and keeps its
monitor in step through the lifecycle it is given (a
workflow.lifecycle.MonitorLifecycle, or NoMonitors when monitoring is off).
"""

import datetime
import re

from oslo_log import log as logging
from oslo_serialization import jsonutils
from oslo_utils import timeutils

from tacker_vimmon import vim as vim_types
from tacker_vimmon.action import target as probe_target
from tacker_vimmon.common import exception
from tacker_vimmon.common import notifications
from tacker_vimmon.common import states
from tacker_vimmon.common import validation
from tacker_vimmon.db import api as db_api
from tacker_vimmon.registry import crypto
from tacker_vimmon.vim import keystone
from tacker_vimmon.vim import openstack

LOG = logging.getLogger(__name__)

# The largest JSON document or ciphertext stored in one column.
MAX_STORED = 60000

_CREDENTIAL_FIELDS = frozenset(('auth_url', 'auth_cred', 'vim_project'))

# What the monitor's parser accepts without a scheme ("host:port/path"),
# the API does not: a VIM's API is reached over HTTP(S).
_HTTP_URL = re.compile(r'https?://', re.IGNORECASE)
_AUTH_URL_RULE = ('give an http:// or https:// URL with a host name or IP '
                  'address, such as https://192.0.2.10:6443 or '
                  'http://[2001:db8::10]:5000/v3')


def check_auth_url(url):
    """Refuse an auth_url that the VIM's monitor could not probe.

    The monitor action finds its target with action.target.from_auth_url;
    the API checks with that very function, so that a URL it accepts is
    one the monitor accepts too. The API adds one rule of its own: an
    http:// or https:// scheme.

    :raises: InvalidInput naming what is wrong
    """
    try:
        probe_target.from_auth_url(url)
    except exception.InvalidMonitorTarget as error:
        raise exception.InvalidInput(
            field='vim.auth_url', reason='%s; %s' % (
                error.kwargs.get('reason'), _AUTH_URL_RULE))
    if not _HTTP_URL.match(url.strip()):
        raise exception.InvalidInput(
            field='vim.auth_url',
            reason='must start with http:// or https://; %s'
            % _AUTH_URL_RULE)


def _check_type_fields(driver, vim):
    validation.validate(driver.AUTH_CRED_SCHEMA, vim['auth_cred'],
                     'vim.auth_cred')
    validation.validate(driver.VIM_PROJECT_SCHEMA, vim['vim_project'],
                     'vim.vim_project')
    driver.normalise(vim)


def _check_stored_size(values):
    for field in ('auth_cred', 'vim_project', 'extra', 'placement_attr',
                  'auth_cred_secret'):
        if field not in values:
            continue
        value = values[field]
        size = len(value if isinstance(value, str)
                   else jsonutils.dumps(value))
        if size > MAX_STORED:
            name = 'auth_cred' if field == 'auth_cred_secret' else field
            raise exception.InvalidInput(
                field='vim.%s' % name,
                reason='too large to store (%d bytes encoded, at most %d)'
                % (size, MAX_STORED))


def _without_masks(driver, given):
    # A client that sends back what it was shown ('***') keeps the secret.
    return {key: value for key, value in given.items()
            if not (key in driver.SECRET_FIELDS and value == vim_types.MASK)}


class VimRegistry:
    """Registers, changes and deregisters VIMs.

    :param conf: the service's configuration ([vim] options)
    :param monitors: a workflow.lifecycle.MonitorLifecycle or NoMonitors
    :param notifier: a common.notifications.Notifier, told of every VIM
        registered, changed and deregistered
    """

    def __init__(self, conf, monitors, notifier=None):
        self._conf = conf
        self._monitors = monitors
        self._notifier = notifier or notifications.NoNotifier()
        # None when monitoring is off: then no VIM is ever UNKNOWN.
        self._silence = (datetime.timedelta(
            seconds=conf.reconciler.silent_after)
            if conf.vim_monitor.enabled else None)

    def monitor_state(self, vim, now=None):
        """(the status to show, the VIM's ``monitor`` object).

        The ``monitor`` object says why (``reason``, a code of
        states.ALL_REASONS, and ``detail`` for people), since when the
        status holds, the round-trip time, what each check saw and what
        the credential check found. The status itself is the stored one,
        but:

        * UNKNOWN while its monitor is not heard from (no report or
          heartbeat within [reconciler] silent_after), with the last
          status; derived here, when the VIM is read, so that it holds
          even while every conductor is down;
        * AUTH_FAILED while the VIM answers but the conductors' credential
          check found its credentials refused.
        """
        monitor = self._monitor_facts(vim)
        silence = self._silence_of(vim, now)
        if silence is not None:
            since, detail = silence
            monitor.update(last_status=vim.status, since=since,
                           reason=states.REASON_MONITOR_SILENT,
                           detail=detail)
            return states.UNKNOWN, monitor
        if (vim.status == states.REACHABLE
                and vim.auth_status == states.REASON_AUTH_FAILED):
            monitor.update(last_status=vim.status, since=vim.auth_since,
                           reason=states.REASON_AUTH_FAILED,
                           detail=vim.auth_reason)
            return states.AUTH_FAILED, monitor
        return vim.status, monitor

    @staticmethod
    def _monitor_facts(vim):
        details = vim.monitor_details or {}
        reason, detail = vim.status_reason, details.get('detail')
        if vim.status == states.ERROR:
            reason, detail = states.REASON_MONITOR_FAILED, vim.monitor_error
        elif vim.status == states.PENDING:
            reason = states.REASON_NOT_CHECKED
        monitor = {
            'last_check_in_at': vim.last_check_in_at,
            'reason': reason,
            'detail': detail,
            'since': vim.status_since or vim.updated_at or vim.created_at,
            'rtt': vim.rtt,
            'icmp_blocked': reason == states.REASON_ICMP_BLOCKED,
            'checks': details.get('checks') or {},
        }
        if vim.auth_status is not None:
            monitor['credentials'] = {'status': vim.auth_status,
                                      'reason': vim.auth_reason,
                                      'since': vim.auth_since}
        return monitor

    def _silence_of(self, vim, now):
        """(since when, why) the VIM's monitor is silent, or None."""
        heard = vim.last_check_in_at
        if (self._silence is None or not vim.action_id
                or vim.status == states.ERROR):
            return None
        # A monitor never heard from is judged from its set-up.
        since = heard or vim.updated_at or vim.created_at
        silent_for = (now or timeutils.utcnow()) - since
        if vim.silent_since is not None:
            # Recorded silent, then repaired: the new monitor has not been
            # heard from yet.
            return vim.silent_since, (
                'monitor silent since %s; its replacement has not been '
                'heard from yet'
                % vim.silent_since.replace(microsecond=0).isoformat(' '))
        if silent_for <= self._silence:
            return None
        if heard:
            return since, ('monitor not heard from for %d s (window %d s)'
                           % (silent_for.total_seconds(),
                              self._silence.total_seconds()))
        return since, ('monitor not heard from since it was set up %d s '
                       'ago' % silent_for.total_seconds())

    def register(self, context, project_id, vim):
        """Store a new VIM (a validated request body) and start its monitor.

        :returns: the VIM as stored
        :raises: InvalidInput, VimNameDuplicate, DefaultVimDuplicate, and
            the credential errors of vim.keystone
        """
        check_auth_url(vim['auth_url'])
        _check_type_fields(vim_types.get_type(vim['type']), vim)
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
        values.update(self._credential_values(vim))
        _check_stored_size(values)
        values.update(self._monitors.new_monitor_values())
        row = db_api.vim_create(context, values)
        LOG.info('Registered VIM %(id)s (%(type)s) in project %(project)s',
                 {'id': row.id, 'type': row.type, 'project': row.tenant_id})
        row = self._monitors.start(context, row)
        self._notifier.vim_changed(context, notifications.EVENT_CREATE, row,
                                   status=self.monitor_state(row)[0])
        return row

    def update(self, context, row, changes):
        """Apply a validated update body to a stored VIM.

        A new auth_url replaces the VIM's monitor (the old one probes
        where the VIM no longer is).

        :returns: the VIM as stored afterwards
        """
        values = {name: changes[name]
                  for name in ('name', 'is_default') if name in changes}
        if 'description' in changes:
            values['description'] = changes['description'] or ''
        if 'extra' in changes:
            values['extra'] = changes['extra'] or {}
        if 'auth_url' in changes:
            check_auth_url(changes['auth_url'])
        if _CREDENTIAL_FIELDS & set(changes):
            values.update(self._changed_credentials(row, changes))
            # New credentials: the credential check's verdict was about the
            # old ones; they are checked again at the next look.
            values.update(auth_status=None, auth_reason=None,
                          auth_since=None, auth_check_due=timeutils.utcnow())
        _check_stored_size(values)
        shown = self.monitor_state(row)[0]
        row = db_api.vim_update(context, row.id, values,
                                project_id=row.tenant_id)
        LOG.info('Updated VIM %s', row.id)
        self._notifier.status_changed(context, row, shown,
                                      self.monitor_state(row)[0],
                                      row.status_reason)
        if 'auth_url' in values:
            row = self._monitors.replace(context, row, 'auth_url changed',
                                         status=states.PENDING)
        self._notifier.vim_changed(context, notifications.EVENT_UPDATE, row,
                                   status=self.monitor_state(row)[0])
        return row

    def deregister(self, context, row):
        """Delete a VIM and retire its monitor; returns the deleted row."""
        row = db_api.vim_destroy(context, row.id, project_id=row.tenant_id)
        LOG.info('Deregistered VIM %s', row.id)
        self._monitors.retire(row)
        self._notifier.vim_changed(context, notifications.EVENT_DELETE, row)
        return row

    def _discover_regions(self, vim):
        """Prove an OpenStack VIM's credentials; its regions, or None."""
        if (vim['type'] != openstack.TYPE
                or not self._conf.vim.validate_credentials):
            return None
        return keystone.discover_regions(vim['auth_url'], vim['auth_cred'],
                                         vim['vim_project'])

    def _credential_values(self, vim):
        """The columns that hold a VIM's (checked, encrypted) credentials."""
        regions = self._discover_regions(vim)
        public, secrets = vim_types.split_secrets(vim['type'],
                                                  vim['auth_cred'])
        values = {
            'auth_cred': public,
            'auth_cred_secret': crypto.encrypt_secrets(secrets),
            'vim_project': vim['vim_project'],
        }
        if regions is not None:
            values['placement_attr'] = {'regions': regions}
        return values

    def _changed_credentials(self, row, changes):
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
                stored,
                _without_masks(driver, changes.get('auth_cred') or {})),
            'vim_project': project,
        }
        _check_type_fields(driver, vim)   # normalises auth_url too
        values = self._credential_values(vim)
        if vim['auth_url'] != row.auth_url:
            values['auth_url'] = vim['auth_url']
        return values
