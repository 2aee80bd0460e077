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

"""The monitor action end to end: real Mistral, conductor and hosts.

A real Mistral 23 runs the VIM's monitor workflow made by
workflow/definition.py (created through workflow/mistral.py); its executor
runs the action, which
probes a host in a network namespace and reports to a real
tacker-vimmon-conductor on PostgreSQL. Mistral's executor has a single
pool thread, so a no-op workflow can only run once the monitor action has
given its thread back.
"""

import datetime
import json
import os

from oslo_config import cfg
from oslo_utils import timeutils
from oslo_utils import uuidutils
from testtools import content

from tacker_vimmon.common import exception
from tacker_vimmon.common import rpc
from tacker_vimmon.conductor import reconciler
from tacker_vimmon.conf import CONF
from tacker_vimmon.db import api as db_api
from tacker_vimmon.tests import fixtures as vimmon_fixtures
from tacker_vimmon.tests.functional import base
from tacker_vimmon.tests.functional import mistral
from tacker_vimmon.tests.functional import netns
from tacker_vimmon.tests.functional import processes
from tacker_vimmon.workflow import definition
from tacker_vimmon.workflow import lifecycle
from tacker_vimmon.workflow import mistral as monitor_mistral
from tacker_vimmon.workflow import rpcapi as wakeup_rpcapi

# Seconds within which a monitor must show what it sees: the first report
# needs one probe round (2 requests 0.2 s apart) and Mistral's start of the
# action; UNREACHABLE needs failure_threshold (2) rounds of up to 0.7 s.
REPORT_BOUND = 30
# Exit through the fast path: a wake-up, one probe round, one check-in.
FAST_EXIT_BOUND = 15


def probe(check_interval):
    return {'count': 2, 'interval': 0.2, 'timeout': 0.5,
            'failure_threshold': 2, 'check_interval': check_interval}


class MonitorActionTestCase(base.FunctionalTestCase):

    def setUp(self):
        super().setUp()
        # First, so that it goes last: after Mistral's executor stopped.
        guard = self.use_service(netns.ProbeGuard())
        self.host = self.useFixture(netns.NetnsHosts(guard)).hosts[0]
        transport_url = processes.start_conductor(self)
        config = os.path.join(self.useFixture(base.fixtures.TempDir()).path,
                              'tacker-vimmon-monitor.conf')
        base.write_config(config, {
            'DEFAULT': {'transport_url': transport_url},
            # Slots short enough for the 2 s check-ins below: those go
            # through the executor's check-in thread.
            'vim_monitor': {'report_timeout': 5, 'check_in_slot': 0.5}})
        self.mistral = self.use_service(mistral.MistralFixture(
            thread_pool_size=1,
            environment={'TACKER_VIMMON_MONITOR_CONFIG_FILE': config}))
        self.addOnException(self._attach_mistral_log)
        self.flags(group='mistral', endpoint_override=self.mistral.url)
        self.monitors = monitor_mistral.MistralMonitors(CONF)
        self.transport = rpc.get_transport_for(cfg.ConfigOpts(),
                                               transport_url)
        self.addCleanup(self.transport.cleanup)

    def _attach_mistral_log(self, exc_info):
        self.addDetail('mistral-log', content.text_content(
            self.mistral.log_tail(200)))

    def start_monitor(self, auth_url, check_interval):
        action_id = uuidutils.generate_uuid()
        vim = db_api.vim_create(self.context, vimmon_fixtures.vim_values(
            name='vim-%s' % action_id[:8], auth_url=auth_url))
        db_api.vim_update(self.context, vim.id, {'action_id': action_id})
        monitor = self.monitors.create(vim.id, action_id, auth_url,
                                       probe(check_interval))
        return vim.id, action_id, monitor

    def wait_status(self, vim_id, status, timeout=REPORT_BOUND):
        base.wait_for(
            lambda: db_api.vim_get(self.context, vim_id).status == status,
            timeout, interval=0.2, message='VIM %s %s' % (vim_id, status))

    def action_execution(self, execution_id):
        client = self.mistral.client
        tasks = client.tasks.list(workflow_execution_id=execution_id)
        if not tasks:
            return None
        found = client.action_executions.list(task_execution_id=tasks[0].id)
        return found[0] if found else None

    def start_noop(self):
        client = self.mistral.client
        if not getattr(self, '_noop_id', None):
            self._noop_id = client.workflows.create(
                vimmon_fixtures.NOOP_WORKFLOW)[0].id
        return client.executions.create(self._noop_id).id

    def wait_noop(self, execution_id):
        client = self.mistral.client
        base.wait_for(
            lambda: client.executions.get(execution_id).state == 'SUCCESS',
            FAST_EXIT_BOUND, interval=0.2,
            message='a no-op workflow on the freed executor thread')
        return self.action_execution(execution_id)

    def assertExecutorThreadFree(self):
        """A no-op workflow runs: the only executor thread is free."""
        self.wait_noop(self.start_noop())


class TestMonitorAction(MonitorActionTestCase):

    # One test, one Mistral: starting one is most of the cost.
    def test_reports_and_exits_by_fast_path_and_by_check_in(self):
        self._check_ipv4_monitor_reports_and_exits_by_fast_path()
        self._check_ipv6_monitor_deregistered_exits_at_check_in()
        self._check_what_mistral_answers_about_vims_workflows()
        self._check_a_former_monitor_moves_to_the_vims_workflow()
        self._check_a_monitor_that_cannot_start_ends_in_error()

    def _check_ipv4_monitor_reports_and_exits_by_fast_path(self):
        auth_url = 'http://%s:5000/v3' % self.host.ipv4
        vim_id, action_id, monitor = self.start_monitor(auth_url,
                                                        check_interval=60)
        self.wait_status(vim_id, 'REACHABLE')
        self.host.set_down()
        self.wait_status(vim_id, 'UNREACHABLE')
        events = db_api.event_get_all(self.context, filters={
            'resource_id': vim_id, 'event_type': 'MONITOR'})
        self.assertEqual(['REACHABLE', 'UNREACHABLE'],
                         [event.resource_state for event in events])
        running = self.action_execution(monitor.execution_id)
        self.assertEqual('RUNNING', running.state)
        # The task's expressions hand the execution input on as it was
        # given: the probe settings stay a mapping of numbers.
        self.assertEqual(
            definition.workflow_input(vim_id, action_id, auth_url,
                                      probe(60)),
            json.loads(self.mistral.client.action_executions.get(
                running.id).input))
        # A no-op sent to the executor now waits for its only thread.
        noop = self.start_noop()
        base.wait_for(lambda: self.action_execution(noop), REPORT_BOUND,
                      message='the no-op action to be sent to the executor')

        # Replaced: another action is the VIM's monitor now. The check-in
        # interval is a minute, so only the wake-up can end it this soon.
        db_api.vim_update(self.context, vim_id,
                          {'action_id': uuidutils.generate_uuid()})
        wakeup_rpcapi.MonitorWakeupAPI(self.transport).wake([action_id])

        def finished():
            execution = self.action_execution(monitor.execution_id)
            return execution if execution.state != 'RUNNING' else None

        done = base.wait_for(finished, FAST_EXIT_BOUND, interval=0.2,
                             message='the retired action to finish')
        self.assertEqual('SUCCESS', done.state)
        # Listing leaves the output out; getting it brings it.
        output = self.mistral.client.action_executions.get(done.id).output
        result = json.loads(output)['result']
        self.assertEqual({'vim_id': vim_id, 'action_id': action_id,
                          'exit_reason': 'bad_action',
                          'last_status': 'UNREACHABLE'}, result)
        # The no-op ran on the thread the monitor gave back, not before.
        self.assertGreaterEqual(self.wait_noop(noop).updated_at,
                                done.updated_at)
        # The stale action wrote nothing after its replacement.
        self.assertEqual('UNREACHABLE',
                         db_api.vim_get(self.context, vim_id).status)

    def _check_ipv6_monitor_deregistered_exits_at_check_in(self):
        self.host.set_up()
        vim_id, action_id, monitor = self.start_monitor(
            'https://[%s]:6443/' % self.host.ipv6, check_interval=2)
        self.wait_status(vim_id, 'REACHABLE')
        self.assertEqual(definition.workflow_name(vim_id),
                         monitor.workflow_name)
        # Deregistration without the fast path: Mistral forgets the
        # monitor but does not stop it; its check-in does.
        self.monitors.delete_workflow(monitor.workflow_id)
        db_api.vim_destroy(self.context, vim_id)
        self.assertEqual([], [e for e in self.mistral.client.executions.list()
                              if e.id == monitor.execution_id])
        self.assertEqual([], [w for w in self.mistral.client.workflows.list()
                              if w.id == monitor.workflow_id])
        self.assertExecutorThreadFree()

    def _check_a_monitor_that_cannot_start_ends_in_error(self):
        # Only this VIM: the reconciler below must repair nothing else.
        for vim in db_api.vim_get_all(self.context):
            db_api.vim_destroy(self.context, vim.id)
        # The API refuses this auth_url now; written straight into the DB
        # it is what used to leave a VIM silently PENDING.
        vim_id, action_id, monitor = self.start_monitor(
            'https://a..b:6443', check_interval=60)
        # Recorded as the lifecycle would (without touching the status).
        db_api.vim_update(self.context, vim_id, {
            'workflow_id': monitor.workflow_id,
            'execution_id': monitor.execution_id})
        self.wait_status(vim_id, 'ERROR')
        failed = self.assertFailedOnce(vim_id, action_id, 1)
        # The conductor hears the failure before the action returns it to
        # Mistral, which records it in a transaction of its own.
        base.wait_for(lambda: self.action_execution(
            monitor.execution_id).state == 'ERROR', REPORT_BOUND,
            interval=0.2, message='Mistral to record the action failed')
        self.assertExecutorThreadFree()

        # Back-off, not a loop: retry_after (60 s) after the first failure,
        # twice that after the second.
        self.flags(group='reconciler', retry_after=60, max_retry_after=3600)
        repairs = reconciler.Reconciler(
            lifecycle.MonitorLifecycle(CONF, monitors=self.monitors),
            self.monitors)
        real_utcnow = timeutils.utcnow
        offset = {'seconds': 0}
        self.useFixture(base.fixtures.MockPatch(
            'oslo_utils.timeutils.utcnow', side_effect=lambda: (
                real_utcnow() + datetime.timedelta(**offset))))

        def repaired_at(seconds):
            offset['seconds'] = seconds
            return repairs.run_once(self.context)[0]

        self.assertEqual([0, 0], [repaired_at(0), repaired_at(30)])
        self.assertEqual(failed.action_id, db_api.vim_get(
            self.context, vim_id).action_id)
        self.assertEqual(1, repaired_at(65))
        retried = db_api.vim_get(self.context, vim_id)
        self.assertNotEqual(action_id, retried.action_id)
        # The failed execution went with the repair.
        self.assertEqual([], [e for e in self.mistral.client.executions.list()
                              if e.id == monitor.execution_id])
        base.wait_for(lambda: db_api.vim_get(
            self.context, vim_id).monitor_failures == 2, REPORT_BOUND,
            interval=0.2, message='the second failure to be recorded')
        self.assertFailedOnce(vim_id, retried.action_id, 2)
        self.assertEqual([0, 0], [repaired_at(65), repaired_at(100)])
        self.assertEqual(1, repaired_at(130))
        self.assertExecutorThreadFree()

    def assertFailedOnce(self, vim_id, action_id, failures):
        """The VIM shows the failure of action_id, recorded once."""
        vim = db_api.vim_get(self.context, vim_id)
        reason = "'a..b' is neither an IP address nor a host name"
        self.assertEqual(('ERROR', failures), (vim.status,
                                               vim.monitor_failures))
        self.assertIn(reason, vim.monitor_error)
        events = [e.event_details for e in db_api.event_get_all(
            self.context, filters={'resource_id': vim_id,
                                   'event_type': 'MONITOR'})
            if e.event_details.get('action_id') == action_id
            and e.event_details.get('monitor') == 'start failed']
        self.assertEqual(1, len(events), events)
        self.assertIn(reason, events[0]['reason'])
        return vim

    def _check_what_mistral_answers_about_vims_workflows(self):
        # What the lifecycle counts on: a second creation of a VIM's
        # workflow finds the first (409, then a look-up), and starting the
        # workflow of a VIM that has none is "not found".
        vim_id = uuidutils.generate_uuid()
        first = self.monitors.ensure_workflow(vim_id)
        self.addCleanup(self.monitors.delete_workflow, first.workflow_id)
        self.assertEqual(first.workflow_id,
                         self.monitors.ensure_workflow(vim_id).workflow_id)
        self.assertRaises(exception.MistralNotFound, self.monitors.start,
                          uuidutils.generate_uuid(), uuidutils.generate_uuid(),
                          '127.0.0.1', probe(60))

    def _check_a_former_monitor_moves_to_the_vims_workflow(self):
        # A monitor made by an earlier release: a workflow of its own,
        # named after the VIM and the monitor.
        client = self.mistral.client
        auth_url = 'http://%s:5000/v3' % self.host.ipv4
        vim = db_api.vim_create(self.context, vimmon_fixtures.vim_values(
            name='former', auth_url=auth_url,
            action_id=uuidutils.generate_uuid()))
        old_name = '%s-%s' % (definition.workflow_name(vim.id),
                              vim.action_id[:8])
        [old_wf] = client.workflows.create(definition.definition(
            vim.id).replace(definition.workflow_name(vim.id), old_name))
        old_ex = client.executions.create(
            old_wf.id, workflow_input=definition.workflow_input(
                vim.id, vim.action_id, self.host.ipv4, probe(2)))
        db_api.vim_monitor_assign(self.context, vim.id, vim.action_id,
                                  vim.action_id, old_wf.id, old_ex.id)
        self.flags(group='vim_monitor', check_interval=2)
        monitors = lifecycle.MonitorLifecycle(CONF, monitors=self.monitors)

        self.assertTrue(monitors.repair(
            self.context, db_api.vim_get(self.context, vim.id), 'silent'))
        moved = db_api.vim_get(self.context, vim.id)
        [workflow] = [w for w in client.workflows.list()
                      if w.name.startswith(definition.workflow_name(vim.id))]
        self.assertEqual((definition.workflow_name(vim.id), workflow.id),
                         (workflow.name, moved.workflow_id))
        executions = [e.id for e in client.executions.list()]
        self.assertNotIn(old_ex.id, executions)
        self.assertIn(moved.execution_id, executions)
        # The row takes reports of the new monitor only (the old one exits
        # at its check-in and gives the executor thread over).
        base.wait_for(
            lambda: db_api.vim_get(self.context, vim.id).last_check_in_at,
            REPORT_BOUND, interval=0.2, message='the new monitor to report')

        monitors.retire(moved)
        db_api.vim_destroy(self.context, vim.id)
        self.assertEqual([], [w for w in client.workflows.list()
                              if w.name.startswith(
                                  definition.workflow_name(vim.id))])
