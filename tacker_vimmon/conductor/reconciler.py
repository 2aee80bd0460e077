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

"""The reconciler: every conductor keeps the VIMs' monitors alive.

Mistral forgets the actions of an executor that died (it marks them ERROR
only minutes later and never restarts them), and a monitor whose set-up
failed must be retried rather than left stuck. So each conductor, every
[reconciler] interval (a few seconds):

* records, once, each VIM whose monitor has not been heard from (report or
  heartbeat) for [reconciler] silent_after seconds: a MONITOR event to
  UNKNOWN (the API shows UNKNOWN by itself, from the same window);
* re-creates the monitor of every VIM whose monitor is missing or has gone
  silent: all that is due in one pass, several at a time (a repair is only
  a new execution of the VIM's workflow);
* retries the monitor of every VIM whose monitor could not be set up or
  start, backing off: [reconciler] retry_after seconds after the first
  failure, twice as long after each further one in a row, at most
  [reconciler] max_retry_after (a VIM that cannot be monitored must not
  cost an execution every pass);
* now and then ([reconciler] orphan_interval) removes monitor workflows
  (and their executions) that no VIM wants any more: the workflow of a VIM
  that is gone (Mistral was down while it was deregistered, say), and a
  per-monitor workflow of the former naming once its monitor is no longer
  the VIM's current one.

Several conductors may do this at once. A pass first claims the VIMs it
repairs (a claim column, taken with FOR UPDATE SKIP LOCKED where the
database has it), so two conductors never repair one VIM; and each repair
is still a compare-and-swap on the VIM's action_id (workflow.lifecycle), so
a repair racing an API update loses cleanly.
"""

from concurrent import futures
import datetime
import functools
import random

from oslo_log import log as logging
from oslo_utils import timeutils
from oslo_utils import uuidutils

from tacker_vimmon.common import context as vimmon_context
from tacker_vimmon.common import exception
from tacker_vimmon.common import notifications
from tacker_vimmon.common import states
from tacker_vimmon.conductor import metrics
from tacker_vimmon.conductor import periodic
from tacker_vimmon.conf import CONF
from tacker_vimmon.db import api as db_api
from tacker_vimmon.workflow import definition

LOG = logging.getLogger(__name__)

# What one repair came to (and the label of the repairs metric).
REPAIRED = 'repaired'
LOST = 'lost'
FAILED = 'failed'


class Reconciler(periodic.Periodic):
    """One conductor's reconciler; run_once() is one pass."""

    THREAD_NAME = 'tacker-vimmon-reconciler'

    def __init__(self, lifecycle, monitors, conf=CONF, notifier=None):
        self._lifecycle = lifecycle
        self._monitors = monitors
        self._conf = conf
        self._notifier = notifier or notifications.NoNotifier()
        self._orphans_looked_at = None

    def run_once(self, context=None, orphans=None):
        """One pass; returns (repaired, orphans removed).

        :param orphans: look for orphaned workflows in this pass (default:
            when [reconciler] orphan_interval has passed since the last look)
        """
        context = context or vimmon_context.get_admin_context()
        self._mark_silent(context)
        repaired = self._repair_monitors(context)
        if orphans is None:
            orphans = self._orphans_due()
        removed = 0
        if orphans:
            self._orphans_looked_at = timeutils.utcnow()
            removed = self._remove_orphans(context)
        return repaired, removed

    def _orphans_due(self):
        return (self._orphans_looked_at is None
                or timeutils.is_older_than(
                    self._orphans_looked_at,
                    self._conf.reconciler.orphan_interval))

    def _mark_silent(self, context):
        window = datetime.timedelta(seconds=self._conf.reconciler.silent_after)
        for vim in db_api.vim_monitors_mark_silent(
                context, timeutils.utcnow() - window):
            LOG.warning('The monitor of VIM %(vim)s has not been heard from '
                        'for %(window)s s; the VIM shows UNKNOWN until it '
                        'is repaired', {'vim': vim.id,
                                        'window': window.seconds})
            metrics.SILENCES.inc()
            self._notifier.status_changed(
                context, vim,
                states.shown_status(vim.status, auth_status=vim.auth_status),
                states.UNKNOWN, states.REASON_MONITOR_SILENT,
                'not heard from for %d s' % window.seconds)

    def _repair_monitors(self, context):
        group = self._conf.reconciler
        now = timeutils.utcnow()
        claim = uuidutils.generate_uuid()
        vims = db_api.vim_monitors_claim_repairs(
            context, now, silent_after=group.silent_after,
            retry_after=group.retry_after,
            max_retry_after=group.max_retry_after, claim=claim,
            claim_until=now + datetime.timedelta(seconds=group.claim_timeout),
            limit=group.batch_size)
        if not vims:
            return 0
        leftovers = []
        try:
            with futures.ThreadPoolExecutor(
                    min(group.repair_workers, len(vims)),
                    thread_name_prefix='tacker-vimmon-repair') as pool:
                results = list(pool.map(
                    functools.partial(self._repair, leftovers=leftovers),
                    vims))
                # The old monitors go once every new one runs: removing
                # them competes with starting the new ones in Mistral.
                list(pool.map(_remove_quietly, leftovers))
            for result in results:
                metrics.REPAIRS.labels(result).inc()
            return results.count(REPAIRED)
        finally:
            # Done with them: a VIM whose new monitor fails at once is due
            # again when its back-off says, not when the claim runs out.
            db_api.vim_monitors_release_claim(context, claim)

    def _repair(self, vim, leftovers):
        """Re-create one monitor: REPAIRED, LOST (another writer changed
        the VIM first) or FAILED.

        :param leftovers: where the removal of the old monitor goes
        """
        reason = _why_repair(vim)
        LOG.info('Re-creating the monitor of VIM %(vim)s: %(reason)s',
                 {'vim': vim.id, 'reason': reason})
        # A context of its own: a transaction is bound to its context, and
        # repairs run side by side.
        context = vimmon_context.get_admin_context()
        try:
            # PENDING: the new monitor has said nothing yet, and the old
            # verdict may be stale. A VIM recorded silent stays UNKNOWN
            # until the new monitor is heard from.
            made = self._lifecycle.repair(context, vim, reason,
                                          status=states.PENDING,
                                          leftovers=leftovers)
        except Exception:
            # One VIM's trouble must not stop the others' repairs.
            LOG.exception('Repairing the monitor of VIM %s failed', vim.id)
            return FAILED
        return REPAIRED if made else LOST

    def _remove_orphans(self, context):
        try:
            workflows = self._monitors.list_workflows()
        except exception.TackerVimmonException as error:
            LOG.warning('Cannot look for orphaned monitors: %s', error)
            return 0
        wanted = db_api.vim_monitor_ids(context)
        old_enough = timeutils.utcnow() - datetime.timedelta(
            seconds=self._conf.reconciler.orphan_grace)
        removed = 0
        for found in workflows:
            if not _is_orphan(found, wanted, old_enough):
                continue
            LOG.info('Removing monitor workflow %s: no VIM wants it',
                     found.name)
            try:
                self._monitors.delete_workflow(found.workflow_id)
                removed += 1
            except exception.TackerVimmonException as error:
                LOG.warning('Could not remove %(name)s: %(error)s',
                            {'name': found.name, 'error': error})
        return removed

    def pause(self):
        # Jitter only spreads the conductors' passes; it guards nothing.
        return self._conf.reconciler.interval * (
            1 + random.random() / 5)  # noqa: S311


def _why_repair(vim):
    if vim.monitor_error:
        return 'retrying after %d failure(s) in a row: %s' % (
            vim.monitor_failures or 1, vim.monitor_error)
    if not vim.workflow_id:
        return 'the VIM has no monitor'
    if vim.last_check_in_at:
        return 'not heard from since %s' % vim.last_check_in_at.isoformat()
    return 'the monitor never checked in'


def _is_orphan(found, wanted, old_enough):
    if _is_wanted(found, wanted):
        return False
    # A workflow this young may belong to a VIM being registered or
    # repaired right now.
    return found.created_at is not None and found.created_at < old_enough


def _is_wanted(found, wanted):
    """Whether a VIM still wants this monitor workflow.

    A VIM's own workflow is wanted while the VIM exists; a per-monitor
    workflow of the former naming while its monitor is the VIM's current
    one (the VIM's next new monitor moves to a workflow of its own).
    """
    vim_id, action_prefix = definition.parse_name(found.name)
    if vim_id not in wanted:
        return False
    if action_prefix is None:
        return True
    action_id = wanted[vim_id]
    return bool(action_id) and action_id.startswith(action_prefix)


def _remove_quietly(removal):
    try:
        removal()
    except Exception:
        # Best effort, as every removal of a replaced monitor: the old
        # action exits at its next check-in whatever stays in Mistral.
        LOG.exception('Removing a replaced monitor failed')
