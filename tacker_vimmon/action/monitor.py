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

"""The Mistral action that monitors one VIM: tacker_vimmon.vim_monitor.

Mistral's executor runs it on one of its pool threads for as long as the
monitor is wanted. The process's probing engine probes the VIM and keeps
its verdict; the action's thread only waits for a change or a check-in and
reports to a conductor; it never touches the database. It returns, freeing
its executor thread, when the conductor answers 'bad_action'.
"""

from mistral_lib import actions
from oslo_log import log as logging

from tacker_vimmon.action import engine as probing_engine
from tacker_vimmon.action import loop
from tacker_vimmon.action import runtime as monitor_runtime
from tacker_vimmon.action import target as probe_target
from tacker_vimmon.common import exception
from tacker_vimmon.common import threads

LOG = logging.getLogger(__name__)

# The kernel name of a Mistral pool thread while it runs a monitor (its
# check-ins and reports), for top -H and the benchmarks.
MONITOR_THREAD = 'tvm-monitor'


class VimMonitorAction(actions.Action):
    """Monitor one VIM until a newer monitor or its removal retires it.

    Mistral builds the action from the workflow's inputs, so ``__init__``
    only keeps them; everything else happens in ``run``.
    """

    def __init__(self, vim_id, action_id, target, probe):
        super().__init__()
        self.vim_id = vim_id
        self.action_id = action_id
        self.target = target
        self.probe = probe

    def run(self, context):
        try:
            runtime = monitor_runtime.get_runtime()
        except (ValueError, exception.TackerVimmonException) as error:
            # Without its configuration the action has no transport to the
            # conductors: the log and Mistral's result are all there is.
            return self._cannot_start(error)
        try:
            settings = loop.ProbeSettings.from_dict(self.probe)
            where = probe_target.from_auth_url(self.target)
            probing_engine.api_target_of(where, settings)   # ValueError
            engine = runtime.engine
        except (ValueError, exception.TackerVimmonException) as error:
            return self._cannot_start(error, runtime)
        # One event for both: the engine sets it when the verdict changes,
        # the fast path to check in now; the loop waits on it alone.
        wakeup = runtime.wakeups.register(self.action_id)
        runtime.heartbeat.add(self.action_id, settings.heartbeat_interval)
        verdict = engine.add(where, settings, wakeup)
        try:
            with threads.thread_named(MONITOR_THREAD):
                return loop.MonitorLoop(
                    self.vim_id, self.action_id, verdict=verdict,
                    report=runtime.reporter(self.vim_id, self.action_id),
                    settings=settings, wakeup=wakeup,
                    check_ins=runtime.check_ins).run()
        finally:
            engine.remove(verdict)
            runtime.heartbeat.remove(self.action_id)
            runtime.wakeups.unregister(self.action_id)

    def _cannot_start(self, error, runtime=None):
        """Fail visibly, with the reason: in the VIM, the log and Mistral.

        Neither bad input nor a missing configuration or privilege gets
        better by retrying here; the conductor records the reason (status
        ERROR) and its reconciler retries later, backing off.
        """
        reason = str(error)
        LOG.error('Monitor %(action)s of VIM %(vim)s cannot start: '
                  '%(error)s', {'action': self.action_id,
                                'vim': self.vim_id, 'error': reason})
        if runtime is not None:
            runtime.report_failure(self.vim_id, self.action_id, reason)
        return actions.Result(error='monitor of VIM %s cannot start: %s'
                              % (self.vim_id, reason))

    def test(self, context):
        return {'vim_id': self.vim_id, 'action_id': self.action_id,
                'exit_reason': 'dry run'}
