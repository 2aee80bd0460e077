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

"""The life of a VIM's monitor: start, replace, repair and retire it.

Each VIM has one Mistral workflow, from registration to deregistration; a
monitor is an execution of it running one long-lived action, named by the
action_id recorded on the VIM. Replacing a monitor is make-before-break:
the new execution is started first, then a compare-and-swap on action_id
makes it the wanted one, then the old execution is removed and its action
woken so that it checks in at once, hears 'bad_action' and exits. Of two
writers racing (two API nodes, or an API node and a conductor's
reconciler), the swap lets exactly one win; the loser removes the execution
it started, never the workflow, which the winner uses.

A VIM whose monitor still runs in a per-monitor workflow of the former
naming moves to a workflow of its own with its next new monitor; the old
workflow is removed with the old execution.

A monitor that cannot be set up (Mistral down, refusing) leaves the VIM in
status ERROR with the reason, never silently PENDING; the conductor's
reconciler retries it.
"""

import functools

from oslo_log import log as logging
from oslo_utils import uuidutils

from tacker_vimmon import vim as vim_types
from tacker_vimmon.common import exception
from tacker_vimmon.common import notifications
from tacker_vimmon.common import rpc
from tacker_vimmon.common import states
from tacker_vimmon.conf import vim_monitor as vim_monitor_conf
from tacker_vimmon.db import api as db_api
from tacker_vimmon.vim import kubernetes
from tacker_vimmon.workflow import definition
from tacker_vimmon.workflow import mistral
from tacker_vimmon.workflow import rpcapi

LOG = logging.getLogger(__name__)


def from_conf(conf, decrypt=None, notifier=None):
    """The monitors of this process: a MonitorLifecycle, or NoMonitors.

    With monitoring on, this sets up the process-wide RPC transport (it
    carries the fast path's wake-up broadcasts and connects on first use).

    :param decrypt: see api_check_target
    :param notifier: a common.notifications.Notifier, told of the status
        changes the lifecycle makes
    """
    if not conf.vim_monitor.enabled:
        return NoMonitors()
    rpc.init(conf)
    return MonitorLifecycle(conf, wakeups=rpcapi.MonitorWakeupAPI(),
                            decrypt=decrypt, notifier=notifier)


def api_check_target(vim, decrypt):
    """The VIM's API check target, or None to probe ICMP only.

    :param decrypt: decrypt(auth_cred_secret, vim_id) -> the VIM's
        secrets (registry.crypto.decrypt_secrets, given by the process's
        wiring), or None where this process cannot decrypt
    """
    secrets = {}
    if vim.type == kubernetes.TYPE and vim.auth_cred_secret:
        # Only for the CA certificate; nothing secret leaves this process.
        if decrypt is None:
            LOG.warning('VIM %s gets no API check: this process cannot '
                        'read its CA certificate', vim.id)
            return None
        try:
            secrets = decrypt(vim.auth_cred_secret, vim.id)
        except exception.TackerVimmonException as error:
            LOG.warning('VIM %(vim)s gets no API check: %(error)s',
                        {'vim': vim.id, 'error': error})
            return None
    return vim_types.api_check_target(vim.type, vim.auth_cred or {},
                                      secrets)


class NoMonitors:
    """Monitoring is off ([vim_monitor] enabled = False): a registry only.

    VIMs keep status PENDING and no monitor is ever made or removed.
    """

    def new_monitor_values(self):
        return {}

    def start(self, context, vim):
        return vim

    def replace(self, context, vim, reason, status=None):
        return vim

    def retire(self, vim):
        pass


class MonitorLifecycle:
    """Creates, replaces and removes VIM monitors, keeping the DB in step.

    :param monitors: a workflow.mistral.MistralMonitors
    :param wakeups: a workflow.rpcapi.MonitorWakeupAPI, or anything whose
        ``wake(action_ids)`` asks running monitors to check in now (the
        fast path); None when there is no fast path
    :param decrypt: see api_check_target
    :param notifier: told of the status changes made here (PENDING for a
        new monitor, ERROR when one cannot be set up)
    """

    def __init__(self, conf, monitors=None, wakeups=None, decrypt=None,
                 notifier=None):
        self._conf = conf
        self._monitors = monitors or mistral.MistralMonitors(conf)
        self._wakeups = wakeups
        self._decrypt = decrypt
        self._notifier = notifier or notifications.NoNotifier()

    def new_monitor_values(self):
        """Columns of a VIM about to be registered: its first action_id.

        Stored with the row, so that the action can report as soon as it
        runs.
        """
        return {'action_id': uuidutils.generate_uuid()}

    def start(self, context, vim):
        """Set up the first monitor of a newly registered VIM.

        The row already holds the monitor's action_id (stored with the
        VIM, so that the action can report as soon as it runs).

        :returns: the VIM as stored afterwards
        :raises: VimNotFound when the VIM was deleted meanwhile
        """
        self._make_wanted(context, vim, vim.action_id, event=None)
        return db_api.vim_get(context, vim.id)

    def replace(self, context, vim, reason, status=None):
        """Replace the VIM's monitor with a new one (new action_id).

        :param reason: why, for the MONITOR event and the log
        :param status: the VIM's status from now on (None: unchanged)
        :returns: the VIM as stored afterwards
        :raises: VimNotFound, MonitorReplacedConcurrently
        """
        if not self.repair(context, vim, reason, status=status):
            db_api.vim_get(context, vim.id)   # VimNotFound if gone
            raise exception.MonitorReplacedConcurrently(vim_id=vim.id)
        return db_api.vim_get(context, vim.id)

    def repair(self, context, vim, reason, status=None, leftovers=None):
        """replace() for the reconciler: False when another writer won.

        :param leftovers: a list to append the removal of the old monitor
            to (a callable), instead of removing it here: Mistral's API
            deletes executions in the same one-transaction-at-a-time
            process that starts the new ones, so the reconciler removes
            the old ones once every due monitor runs again
        """
        return self._make_wanted(
            context, vim, uuidutils.generate_uuid(), status=status,
            event={'monitor': 'replaced', 'reason': reason},
            leftovers=leftovers)

    def retire(self, vim):
        """Remove a VIM's workflow and monitor (VIM deregistered).

        Best effort: what stays behind is found by the reconciler, and the
        action exits at its next check-in whatever happens here.
        """
        self._delete_workflow(definition.workflow_name(vim.id))
        if vim.workflow_id:
            # Gone already when it was the VIM's own workflow; a monitor
            # from before the VIMs had workflows of their own runs in one
            # of its own.
            self._delete_workflow(vim.workflow_id)
        self._wake(vim.action_id)

    def _make_wanted(self, context, vim, action_id, event, status=None,
                     leftovers=None):
        """Swap a new monitor in and start it; False when the swap lost.

        The row names the new action before Mistral runs it: a monitor
        reports REACHABLE at its host's first reply, often before
        executions.create has even returned, and a report from an action
        the row does not name yet would be told bad_action.
        """
        before = None
        if vim.action_id != action_id:
            if event is not None:
                event = dict(event, action_id=action_id)
            before = db_api.vim_monitor_assign(
                context, vim.id, vim.action_id, action_id, status=status,
                event_details=event)
            if before is None:
                return False
            if status is not None:
                self._status_set(context, vim, before, status, event)
        try:
            monitor = self._start(vim, action_id)
        except exception.TackerVimmonException as error:
            return self._record_failure(context, vim, action_id, error)
        if not db_api.vim_monitor_started(context, vim.id, action_id,
                                          monitor.workflow_id,
                                          monitor.execution_id):
            LOG.info('VIM %(vim)s changed while its monitor %(action)s was '
                     'set up; removing that monitor',
                     {'vim': vim.id, 'action': action_id})
            self._delete_execution(monitor.execution_id)
            return False
        if before is not None:
            removal = functools.partial(self._remove_replaced, before,
                                        monitor)
            if leftovers is None:
                removal()
            else:
                leftovers.append(removal)
        return True

    def _status_set(self, context, vim, before, status, event):
        # A silent VIM stays UNKNOWN until its new monitor is heard.
        self._notifier.status_changed(
            context, vim,
            states.shown_status(before['status'], before['silent'],
                                before['auth_status']),
            states.shown_status(status, before['silent']),
            states.REASON_NOT_CHECKED, event and event.get('reason'))

    def _start(self, vim, action_id):
        """A new execution of the VIM's workflow, made first if missing."""
        target = vim.auth_url
        probe = vim_monitor_conf.probe_input(
            self._conf, api=api_check_target(vim, self._decrypt))
        if vim.workflow_id:
            # The usual case (replacement, repair): one execution only.
            # The workflow is named, not taken from the row, so that a
            # monitor of the former naming moves to the VIM's own.
            try:
                return self._monitors.start(vim.id, action_id, target, probe)
            except exception.MistralNotFound:
                LOG.info('VIM %s has no workflow of its own yet; creating '
                         'it', vim.id)
        workflow = self._monitors.ensure_workflow(vim.id)
        return self._monitors.start(vim.id, action_id, target, probe,
                                    workflow_id=workflow.workflow_id)

    def _record_failure(self, context, vim, action_id, error):
        """The monitor action_id, already the wanted one, did not start."""
        reason = error.format_message()
        LOG.warning('Monitor of VIM %(vim)s could not be set up: %(reason)s',
                    {'vim': vim.id, 'reason': reason})
        if not db_api.vim_monitor_failed(context, vim.id, action_id,
                                         action_id, reason):
            return False
        self._notifier.status_changed(
            context, vim,
            states.shown_status(vim.status, vim.silent_since is not None,
                                vim.auth_status),
            states.ERROR, states.REASON_MONITOR_FAILED, reason)
        if vim.action_id != action_id:
            # The old monitor is not wanted either (it may probe a host
            # the VIM no longer names); the reconciler retries a new one,
            # and removes a per-monitor workflow of the former naming.
            self._delete_execution(vim.execution_id)
            self._wake(vim.action_id)
        return True

    def _remove_replaced(self, before, monitor):
        if before['workflow_id'] and (
                before['workflow_id'] != monitor.workflow_id):
            # A per-monitor workflow of the former naming: it goes with
            # its execution.
            self._delete_workflow(before['workflow_id'])
        else:
            self._delete_execution(before['execution_id'])
        self._wake(before['action_id'])

    def _delete_execution(self, execution_id):
        if not execution_id:
            return
        try:
            self._monitors.delete_execution(execution_id)
        except exception.TackerVimmonException as error:
            LOG.warning('Could not remove the monitor execution %(ex)s from '
                        'Mistral: %(error)s', {'ex': execution_id,
                                               'error': error})

    def _delete_workflow(self, workflow):
        try:
            self._monitors.delete_workflow(workflow)
        except exception.TackerVimmonException as error:
            LOG.warning('Could not remove the monitor workflow %(wf)s from '
                        'Mistral (the reconciler will retry): %(error)s',
                        {'wf': workflow, 'error': error})

    def _wake(self, action_id):
        if action_id and self._wakeups is not None:
            self._wake_quietly(action_id)

    def _wake_quietly(self, action_id):
        try:
            self._wakeups.wake([action_id])
        except Exception as error:  # noqa: BLE001 - fast path only
            # Correctness never depends on the fast path: the action
            # still exits at its next check-in.
            LOG.info('Could not wake monitor %(action)s: %(error)s',
                     {'action': action_id, 'error': error})
