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
[reconciler] interval:

* re-creates the monitor of every VIM whose monitor is missing, or has not
  checked in for [reconciler] silent_after seconds;
* retries the monitor of every VIM whose monitor could not be set up or
  start, backing off: [reconciler] retry_after seconds after the first
  failure, twice as long after each further one in a row, at most
  [reconciler] max_retry_after (a VIM that cannot be monitored must not
  cost a workflow every pass);
* removes monitor workflows (and their executions) that no VIM wants any
  more, e.g. when Mistral was down while a VIM was deregistered.

Several conductors may do this at once: each repair is a compare-and-swap
on the VIM's action_id (monitor.lifecycle), so one wins and the others
undo their work.
"""

import datetime
import random
import threading

from oslo_log import log as logging
from oslo_utils import timeutils

from tacker_vimmon.common import context as vimmon_context
from tacker_vimmon.common import exception
from tacker_vimmon.conf import CONF
from tacker_vimmon.db import api as db_api
from tacker_vimmon.workflow import definition

LOG = logging.getLogger(__name__)


class Reconciler:
    """One conductor's reconciler; run_once() is one pass."""

    def __init__(self, lifecycle, monitors, conf=CONF):
        self._lifecycle = lifecycle
        self._monitors = monitors
        self._conf = conf
        self._stop = threading.Event()
        self._thread = None

    def run_once(self, context=None):
        """One pass; returns (repaired, orphans removed)."""
        context = context or vimmon_context.get_admin_context()
        repaired = self._repair_monitors(context)
        removed = self._remove_orphans(context)
        return repaired, removed

    def _repair_monitors(self, context):
        group = self._conf.reconciler
        vims = db_api.vim_monitors_to_repair(
            context, timeutils.utcnow(), silent_after=group.silent_after,
            retry_after=group.retry_after,
            max_retry_after=group.max_retry_after, limit=group.batch_size)
        repaired = 0
        for vim in vims:
            reason = _why_repair(vim)
            LOG.info('Re-creating the monitor of VIM %(vim)s: %(reason)s',
                     {'vim': vim.id, 'reason': reason})
            if self._lifecycle.repair(context, vim, reason):
                repaired += 1
        return repaired

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

    def start(self):
        """Run passes in a daemon thread until stop()."""
        self._thread = threading.Thread(target=self._run, daemon=True,
                                        name='tacker-vimmon-reconciler')
        self._thread.start()

    def stop(self):
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def _run(self):
        interval = self._conf.reconciler.interval
        # Jitter only spreads the conductors' passes; it guards nothing.
        while not self._stop.wait(
                interval * (1 + random.random() / 5)):  # noqa: S311
            try:
                self.run_once()
            except Exception:
                # One bad pass (DB briefly away, say) must not end the
                # reconciler for the life of the conductor.
                LOG.exception('Reconciler pass failed; next one in %s s',
                              interval)


def _why_repair(vim):
    if vim.monitor_error:
        return 'retrying after %d failure(s) in a row: %s' % (
            vim.monitor_failures or 1, vim.monitor_error)
    if not vim.workflow_id:
        return 'the VIM has no monitor'
    if vim.last_check_in_at:
        return 'no check-in since %s' % vim.last_check_in_at.isoformat()
    return 'the monitor never checked in'


def _is_orphan(found, wanted, old_enough):
    vim_id, action_prefix = definition.parse_name(found.name)
    action_id = wanted.get(vim_id)
    if action_id and action_id.startswith(action_prefix):
        return False
    return found.created_at is not None and found.created_at < old_enough
