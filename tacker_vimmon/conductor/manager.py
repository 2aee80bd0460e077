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

"""The conductor's RPC endpoints (the server side of conductor/rpcapi.py).

Callers are other processes (the monitor actions in Mistral's executor), so
every argument is checked here before anything is written: a wrong call gets
InvalidRpcCall, which names what to fix, and is not logged as a server
error.
"""

import functools
import inspect

from oslo_log import log as logging
import oslo_messaging as messaging
from oslo_serialization import jsonutils

from tacker_vimmon.common import exception
from tacker_vimmon.common import notifications
from tacker_vimmon.common import states
from tacker_vimmon.conductor import group_commit
from tacker_vimmon.conductor import metrics
from tacker_vimmon.conductor import rpcapi
from tacker_vimmon.db import api as db_api

LOG = logging.getLogger(__name__)

# The longest id the vims table stores (String(36) columns).
_MAX_ID_LENGTH = 36
# The most monitors one heartbeat may name (one executor process runs a
# few thousand at most).
MAX_HEARTBEAT_IDS = 20000
# The most reports one update_vims call may carry (an executor's check-in
# thread sends at most action.checkins.MAX_BATCH).
MAX_REPORTS = 1000
# The longest reason for a failed monitor that is stored: enough for any
# message of ours, not a way to fill the database.
MAX_REASON_LENGTH = 1000
# The most a report's per-check details may take, encoded.
MAX_DETAILS_LENGTH = 4000


def strict_arguments(**types):
    """Check an endpoint's arguments by name and type before it runs.

    oslo.messaging calls an endpoint as ``method(context, **kwargs)`` with
    whatever the caller sent; a missing or extra name would be a TypeError
    logged as a server traceback. Here it becomes InvalidRpcCall, one of
    the endpoint's expected exceptions.

    An argument with a default (added by a later API version) may be left
    out; a caller of the older version does not know it.
    """
    def decorator(func):
        parameters = list(inspect.signature(func).parameters.values())[2:]
        names = [parameter.name for parameter in parameters]
        optional = {parameter.name for parameter in parameters
                    if parameter.default is not inspect.Parameter.empty}

        @functools.wraps(func)
        def wrapper(self, context, **kwargs):
            _check_arguments(func.__name__, names, optional, types, kwargs)
            return func(self, context, **kwargs)
        return wrapper
    return decorator


def _check_arguments(method, names, optional, types, kwargs):
    missing = [name for name in names
               if name not in kwargs and name not in optional]
    extra = sorted(set(kwargs) - set(names))
    if missing or extra:
        raise exception.InvalidRpcCall(method=method, reason=(
            'expected arguments %s; missing %s, unexpected %s' % (
                ', '.join(names), ', '.join(missing) or 'none',
                ', '.join(extra) or 'none')))
    for name in names:
        if name in kwargs and not isinstance(kwargs[name], types[name]):
            raise exception.InvalidRpcCall(method=method, reason=(
                '%s must be %s, not %s' % (name, types[name].__name__,
                                           type(kwargs[name]).__name__)))


# update_vim's arguments, and those of each report of update_vims.
_REPORT_TYPES = {'vim_id': str, 'status': str, 'action_id': str,
                 'reason': str, 'details': dict}
_REPORT_OPTIONAL = frozenset(['reason', 'details'])


def _checked_report(method, vim_id, status, action_id, reason, details):
    """A monitor's report as db_api.Report, once every field is valid.

    :raises: InvalidRpcCall naming the field to fix
    """
    if status not in states.MONITOR_STATUSES:
        raise exception.InvalidRpcCall(method=method, reason=(
            'status must be one of %s, not %r'
            % (', '.join(states.MONITOR_STATUSES), status)))
    _check_id(method, 'vim_id', vim_id)
    _check_id(method, 'action_id', action_id)
    if reason is not None and reason not in states.CHECK_REASONS:
        raise exception.InvalidRpcCall(method=method, reason=(
            'reason must be one of %s, not %r'
            % (', '.join(states.CHECK_REASONS), reason[:40])))
    details = _checked_details(details) if reason is not None else None
    return db_api.Report(vim_id, action_id, status, reason, details)


def _checked_report_item(index, item):
    """Report number ``index`` of an update_vims call, checked."""
    method = 'update_vims (report %d)' % index
    if not isinstance(item, dict):
        raise exception.InvalidRpcCall(method=method, reason=(
            'each report must be a mapping of update_vim\'s arguments, '
            'not %s' % type(item).__name__))
    _check_arguments(method, list(_REPORT_TYPES), _REPORT_OPTIONAL,
                     _REPORT_TYPES, item)
    return _checked_report(method, item['vim_id'], item['status'],
                           item['action_id'], item.get('reason'),
                           item.get('details'))


def _check_id(method, name, value):
    if (not isinstance(value, str) or not value
            or len(value) > _MAX_ID_LENGTH):
        raise exception.InvalidRpcCall(method=method, reason=(
            '%s must be a non-empty string of at most %d characters'
            % (name, _MAX_ID_LENGTH)))


class ConductorManager:
    """The endpoints of the conductor, at ConductorAPI.RPC_API_VERSION."""

    target = messaging.Target(version=rpcapi.ConductorAPI.RPC_API_VERSION)

    def __init__(self, host=None, notifier=None):
        """:param host: this conductor's name ([DEFAULT] host), for ping
        :param notifier: told of the status changes written here
        """
        self.host = host
        # Reports that arrive together are written together, in one
        # statement or transaction.
        self._reports = group_commit.GroupCommit(
            db_api.MonitorReportWriter())
        self._notifier = notifier or notifications.NoNotifier()

    @messaging.expected_exceptions(exception.InvalidRpcCall)
    @strict_arguments(**_REPORT_TYPES)
    def update_vim(self, context, vim_id, status, action_id, reason=None,
                   details=None):
        """Store a monitor's report; see ConductorAPI.update_vim."""
        report = _checked_report('update_vim', vim_id, status, action_id,
                                 reason, details)
        with metrics.REPORT_SECONDS.time():
            previous = self._reports.submit(vim_id, report)
        return self._answer(context, report, previous)

    @messaging.expected_exceptions(exception.InvalidRpcCall)
    @strict_arguments(reports=list)
    def update_vims(self, context, reports):
        """Store the check-ins of many monitors; see
        ConductorAPI.update_vims.
        """
        if len(reports) > MAX_REPORTS:
            raise exception.InvalidRpcCall(method='update_vims', reason=(
                'at most %d reports per call, not %d'
                % (MAX_REPORTS, len(reports))))
        checked = [_checked_report_item(index, item)
                   for index, item in enumerate(reports)]
        with metrics.REPORT_SECONDS.time():
            previous = self._reports.submit_all(
                [(report.vim_id, report) for report in checked])
        return [self._answer(context, report, before)
                for report, before in zip(checked, previous, strict=True)]

    def _answer(self, context, report, previous):
        """What the monitor hears of its stored report; logs and notifies
        a change."""
        metrics.REPORTS.labels('stored' if previous else 'bad_action').inc()
        if previous is None:
            LOG.info('Monitor action %(action)s of VIM %(vim)s is not '
                     'wanted (VIM gone or action replaced); told it to stop',
                     {'action': report.action_id, 'vim': report.vim_id})
            return states.BAD_ACTION
        if previous.status != report.status:
            LOG.info('VIM %(vim)s is now %(new)s (%(reason)s; was %(old)s)',
                     {'vim': report.vim_id, 'new': report.status,
                      'old': previous.status,
                      'reason': report.reason or 'no reason given'})
        self._notifier.status_changed(
            context, _Vim(report.vim_id, previous),
            states.shown_status(previous.status, previous.silent,
                                previous.auth_status),
            states.shown_status(report.status,
                                auth_status=previous.auth_status),
            report.reason, report.detail)
        return report.status

    @messaging.expected_exceptions(exception.InvalidRpcCall)
    @strict_arguments(action_ids=list)
    def heartbeat(self, context, action_ids):
        """Record that these monitors still run; see ConductorAPI."""
        if len(action_ids) > MAX_HEARTBEAT_IDS:
            raise exception.InvalidRpcCall(method='heartbeat', reason=(
                'at most %d action_ids per heartbeat, not %d'
                % (MAX_HEARTBEAT_IDS, len(action_ids))))
        for action_id in action_ids:
            _check_id('heartbeat', 'each of action_ids', action_id)
        heard, recovered = db_api.vim_monitors_heard(context, action_ids)
        for vim_id in recovered:
            LOG.info('The monitor of VIM %s is heard from again', vim_id)
            self._heard_again(context, vim_id)
        LOG.debug('Heartbeat named %(named)d monitor(s), %(heard)d wanted',
                  {'named': len(action_ids), 'heard': heard})
        return heard

    @messaging.expected_exceptions(exception.InvalidRpcCall)
    @strict_arguments()
    def ping(self, context):
        """Answer with this conductor's name; see ConductorAPI.ping."""
        return self.host

    @messaging.expected_exceptions(exception.InvalidRpcCall)
    @strict_arguments(vim_id=str, action_id=str, reason=str)
    def monitor_failed(self, context, vim_id, action_id, reason):
        """Record that a monitor could not start; see
        ConductorAPI.monitor_failed.
        """
        _check_id('monitor_failed', 'vim_id', vim_id)
        _check_id('monitor_failed', 'action_id', action_id)
        reason = _short_reason(reason)
        before = _vim_or_none(context, vim_id)
        status = db_api.vim_monitor_start_failed(context, vim_id, action_id,
                                                 reason)
        if status is None:
            LOG.info('Monitor action %(action)s of VIM %(vim)s, which could '
                     'not start, is not wanted any more; nothing recorded',
                     {'action': action_id, 'vim': vim_id})
            return states.BAD_ACTION
        LOG.warning('Monitor action %(action)s of VIM %(vim)s could not '
                    'start (the reconciler will retry): %(reason)s',
                    {'action': action_id, 'vim': vim_id, 'reason': reason})
        if before is not None:
            self._notifier.status_changed(
                context, before, shown_status_of(before), status,
                states.REASON_MONITOR_FAILED, reason)
        return status

    def _heard_again(self, context, vim_id):
        vim = _vim_or_none(context, vim_id)
        if vim is not None:
            self._notifier.status_changed(
                context, vim, states.UNKNOWN, shown_status_of(vim),
                vim.status_reason, 'heard from again')


class _Vim:
    """The VIM of a report, for its notification."""

    def __init__(self, vim_id, previous):
        self.id = vim_id
        self.name = previous.name
        self.tenant_id = previous.tenant_id
        self.type = previous.type


def _vim_or_none(context, vim_id):
    try:
        return db_api.vim_get(context, vim_id)
    except exception.VimNotFound:
        return None


def shown_status_of(vim):
    """The status the API shows for a VIM row (silence as recorded)."""
    return states.shown_status(vim.status, vim.silent_since is not None,
                               vim.auth_status)


def _checked_details(details):
    """A report's details, bounded: a round-trip time, a short text and
    what each check saw (dropped when too big to be what a monitor sends).
    """
    rtt = details.get('rtt')
    if not isinstance(rtt, (int, float)) or isinstance(rtt, bool) or (
            rtt < 0):
        rtt = None
    detail = details.get('detail')
    checks = details.get('checks')
    if not isinstance(checks, dict) or len(
            jsonutils.dumps(checks)) > MAX_DETAILS_LENGTH:
        checks = {}
    return {'rtt': rtt,
            'detail': (_short_reason(detail) if isinstance(detail, str)
                       and detail.strip() else None),
            'checks': checks}


def _short_reason(reason):
    reason = reason.strip() or 'no reason given'
    if len(reason) > MAX_REASON_LENGTH:
        reason = reason[:MAX_REASON_LENGTH - 3] + '...'
    return reason
