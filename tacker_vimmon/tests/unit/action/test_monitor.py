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

"""The monitor action, its per-process runtime and the wake-up fast path.

The action runs with a scripted prober and conductor; the runtime and the
fast path run over oslo.messaging's fake driver.
"""

import json
import os
import subprocess
import sys
import threading
import time
from unittest import mock

from kombu import exceptions as kombu_exceptions
from oslo_config import cfg
import oslo_messaging as messaging

from tacker_vimmon.action import checkins
from tacker_vimmon.action import engine
from tacker_vimmon.action import heartbeat
from tacker_vimmon.action import loop
from tacker_vimmon.action import monitor
from tacker_vimmon.action import prober
from tacker_vimmon.action import runtime
from tacker_vimmon.action import target
from tacker_vimmon.action import wakeup
from tacker_vimmon.common import exception
from tacker_vimmon.common import rpc
from tacker_vimmon.tests import base
from tacker_vimmon.workflow import rpcapi as wakeup_rpcapi

VIM_ID = '4406cf8f-f2af-46cc-bfb9-e00add5805b7'
ACTION_ID = '9b2a5c8e-0d7f-4a61-8e7d-51f0c3a9e111'
PROBE = {'count': 1, 'interval': 0.001, 'timeout': 0.01,
         'failure_threshold': 1, 'check_interval': 60}


class ConfigFile(base.TestCase):

    def write(self, text):
        path = os.path.join(self.useFixture(base.fixtures.TempDir()).path,
                            'tacker-vimmon.conf')
        with open(path, 'w') as f:
            f.write(text)
        return path


_IMPORT_CHECK = '''
import json, sys
from kombu import exceptions as kombu_exceptions
from oslo_config import cfg
before = set(cfg.CONF.keys())
import tacker_vimmon.action.monitor
print(json.dumps({'conf_package': 'tacker_vimmon.conf' in sys.modules,
                  'added': sorted(set(cfg.CONF.keys()) - before)}))
'''


class TestStaysOutOfMistralsConfig(base.TestCase):

    def test_importing_the_action_registers_nothing_of_ours(self):
        # Inside Mistral's executor the global CONF is Mistral's.
        out = subprocess.run([sys.executable, '-c', _IMPORT_CHECK],
                             capture_output=True, text=True, check=True,
                             timeout=60).stdout
        found = json.loads(out.strip().splitlines()[-1])
        self.assertFalse(found['conf_package'])
        ours = {'vim_monitor', 'conductor', 'mistral', 'database', 'host',
                'state_path'}
        self.assertEqual(set(), ours & set(found['added']))


class TestLoadConfig(ConfigFile):

    def test_reads_the_file_named_by_the_environment(self):
        path = self.write('[DEFAULT]\ntransport_url = fake://\n'
                          '[vim_monitor]\nicmp_socket = raw\n'
                          'report_timeout = 4\n')
        self.useFixture(base.fixtures.EnvironmentVariable(
            runtime.CONFIG_FILE_ENV, path))
        conf = runtime.load_config()
        self.assertIsNot(cfg.CONF, conf)
        self.assertEqual('raw', conf.vim_monitor.icmp_socket)
        self.assertEqual(4, conf.vim_monitor.report_timeout)
        self.assertEqual('tacker_vimmon_conductor', conf.conductor.topic)

    def test_default_path_without_the_environment(self):
        self.useFixture(base.fixtures.EnvironmentVariable(
            runtime.CONFIG_FILE_ENV))
        self.useFixture(base.fixtures.EnvironmentVariable(
            runtime.LEGACY_CONFIG_FILE_ENV))
        self.assertEqual(('/etc/tacker-vimmon/tacker-vimmon-monitor.conf',
                          runtime.CONFIG_FILE_ENV), runtime.config_path())

    def test_an_executor_set_up_before_still_reads_its_file(self):
        # The migration: $TACKER_VIMMON_CONFIG_FILE named the services'
        # whole file; it still works, with a warning that says what to do.
        path = self.write('[DEFAULT]\ntransport_url = fake://\n'
                          '[vim_monitor]\nreport_timeout = 4\n'
                          '[database]\nconnection = sqlite://\n')
        self.useFixture(base.fixtures.EnvironmentVariable(
            runtime.CONFIG_FILE_ENV))
        self.useFixture(base.fixtures.EnvironmentVariable(
            runtime.LEGACY_CONFIG_FILE_ENV, path))
        self.useFixture(base.fixtures.MockPatch(
            'os.path.isfile', side_effect=lambda p: p == path))
        log = self.useFixture(base.fixtures.FakeLogger(
            name='tacker_vimmon.action.runtime'))
        conf = runtime.load_config()
        self.assertEqual(4, conf.vim_monitor.report_timeout)
        self.assertNotIn('database', conf)
        self.assertIn(runtime.CONFIG_FILE_ENV, log.output)
        self.assertIn('secrets', log.output)

    def test_the_new_variable_wins_over_the_old_one(self):
        self.useFixture(base.fixtures.EnvironmentVariable(
            runtime.CONFIG_FILE_ENV, '/etc/new.conf'))
        self.useFixture(base.fixtures.EnvironmentVariable(
            runtime.LEGACY_CONFIG_FILE_ENV, '/etc/old.conf'))
        self.assertEqual(('/etc/new.conf', runtime.CONFIG_FILE_ENV),
                         runtime.config_path())

    def test_missing_file_says_what_to_do(self):
        error = self.assertRaises(exception.MonitorConfigNotFound,
                                  runtime.load_config, '/nonexistent.conf')
        self.assertIn('/nonexistent.conf', str(error))
        self.assertIn(runtime.CONFIG_FILE_ENV, str(error))


class TestRuntime(ConfigFile):

    def setUp(self):
        super().setUp()
        self.conf = runtime.load_config(self.write(
            '[DEFAULT]\ntransport_url = fake://\n'
            '[vim_monitor]\nreport_timeout = 3\n'))
        self.prober = mock.create_autospec(prober.Prober, instance=True)
        self.useFixture(base.fixtures.MockPatch(
            'tacker_vimmon.action.prober.get_prober',
            return_value=self.prober))

    def test_conductor_client_never_reads_the_global_config(self):
        rt = runtime.Runtime(self.conf)
        self.addCleanup(rt.transport.cleanup)
        self.assertEqual(3, rt.conductor.timeout)
        self.assertEqual('tacker_vimmon_conductor', rt.conductor.topic)
        self.assertIs(self.prober, rt.prober)

    def test_one_engine_per_process_on_the_shared_prober(self):
        made = self.useFixture(base.fixtures.MockPatch(
            'tacker_vimmon.action.engine.get_engine')).mock
        rt = runtime.Runtime(self.conf)
        self.addCleanup(rt.transport.cleanup)
        self.assertIs(made.return_value, rt.engine)
        made.assert_called_once_with(self.prober)

    def test_messaging_failures_become_conductor_unreachable(self):
        rt = runtime.Runtime(self.conf)
        self.addCleanup(rt.transport.cleanup)
        report = rt.reporter(VIM_ID, ACTION_ID)
        for error in (messaging.MessagingTimeout('slow'),
                      messaging.MessagingException('broker gone'),
                      # A new pooled connection to a stopped broker.
                      kombu_exceptions.OperationalError('refused'),
                      ConnectionRefusedError()):
            with mock.patch.object(rt.conductor, 'update_vim',
                                   side_effect=error):
                self.assertRaises(loop.ConductorUnreachable, report,
                                  'REACHABLE')
        with mock.patch.object(rt.conductor, 'update_vim',
                               return_value='bad_action') as update:
            self.assertEqual('bad_action', report('UNREACHABLE'))
        # Each try waits a third of report_timeout (3 s here).
        update.assert_called_once_with(rt.context, VIM_ID, 'UNREACHABLE',
                                       ACTION_ID, timeout=1.0)

    def test_a_report_a_dying_conductor_took_is_sent_again(self):
        # The conductor that read the call died with it: nobody answers,
        # so the same report goes again, and another conductor answers.
        rt = runtime.Runtime(self.conf)
        self.addCleanup(rt.transport.cleanup)
        report = rt.reporter(VIM_ID, ACTION_ID)
        with mock.patch.object(rt.conductor, 'update_vim', side_effect=[
                messaging.MessagingTimeout('lost'), 'REACHABLE']) as update:
            self.assertEqual('REACHABLE', report('REACHABLE'))
        self.assertEqual(2, update.call_count)
        with mock.patch.object(rt.conductor, 'update_vim', side_effect=(
                messaging.MessagingTimeout('lost'))) as update:
            error = self.assertRaises(loop.ConductorUnreachable, report,
                                      'REACHABLE')
        self.assertEqual(runtime.REPORT_ATTEMPTS, update.call_count)
        self.assertIn('3 tries of 1.0 s', str(error))

    def test_many_reports_in_one_call_retried_or_refused(self):
        rt = runtime.Runtime(self.conf)
        self.addCleanup(rt.transport.cleanup)
        reports = [{'vim_id': VIM_ID, 'action_id': ACTION_ID,
                    'status': 'REACHABLE'}]
        with mock.patch.object(rt.conductor, 'update_vims', side_effect=[
                messaging.MessagingTimeout('lost'), ['REACHABLE']]) as call:
            self.assertEqual(['REACHABLE'], rt.report_many(reports))
        self.assertEqual(2, call.call_count)
        call.assert_called_with(rt.context, reports, timeout=1.0)
        # An older conductor, a refused call: one call per report instead.
        for refusal in (messaging.RemoteError('UnsupportedVersion'),
                        messaging.RemoteError('NoSuchMethod'),
                        messaging.UnsupportedVersion('1.5'),
                        exception.InvalidRpcCall(method='update_vims',
                                                 reason='no')):
            with mock.patch.object(rt.conductor, 'update_vims',
                                   side_effect=refusal) as call:
                self.assertRaises(loop.ManyRefused, rt.report_many, reports)
            self.assertEqual(1, call.call_count)
        # The conductor failed to write them, or no broker: back off.
        for lost in (messaging.RemoteError('DBDeadlock'),
                     messaging.MessagingException('broker gone'),
                     ConnectionRefusedError()):
            with mock.patch.object(rt.conductor, 'update_vims',
                                   side_effect=lost):
                self.assertRaises(loop.ConductorUnreachable, rt.report_many,
                                  reports)

    def failure_report(self, *outcomes):
        """report_failure() against a conductor scripted with outcomes."""
        rt = runtime.Runtime(self.conf)
        self.addCleanup(rt.transport.cleanup)
        sleep = self.useFixture(base.fixtures.MockPatch('time.sleep')).mock
        with mock.patch.object(rt.conductor, 'monitor_failed',
                               side_effect=outcomes) as call:
            answer = rt.report_failure(VIM_ID, ACTION_ID, 'no ICMP')
        return answer, call, sleep

    def test_a_failure_report_is_delivered(self):
        answer, call, sleep = self.failure_report('ERROR')
        self.assertEqual('ERROR', answer)
        call.assert_called_once_with(mock.ANY, VIM_ID, ACTION_ID, 'no ICMP')
        sleep.assert_not_called()

    def test_a_failure_report_is_retried_a_few_times_then_dropped(self):
        answer, call, sleep = self.failure_report(
            messaging.MessagingTimeout('slow'),
            messaging.MessageDeliveryFailure('broker gone'), 'bad_action')
        self.assertEqual(('bad_action', 3), (answer, call.call_count))
        self.assertEqual([mock.call(1.0), mock.call(2.0)],
                         sleep.call_args_list)
        answer, call, _sleep = self.failure_report(
            *[messaging.MessagingTimeout('slow')] * 5)
        self.assertEqual((None, runtime.FAILURE_REPORT_ATTEMPTS),
                         (answer, call.call_count))

    def test_a_refused_failure_report_is_not_retried(self):
        for refusal in (messaging.RemoteError('UnsupportedVersion'),
                        exception.InvalidRpcCall(method='monitor_failed',
                                                 reason='no')):
            answer, call, _sleep = self.failure_report(refusal, 'ERROR')
            self.assertEqual((None, 1), (answer, call.call_count))

    def test_a_runtime_without_icmp_can_still_report(self):
        self.useFixture(base.fixtures.MockPatch(
            'tacker_vimmon.action.prober.get_prober',
            side_effect=exception.IcmpUnavailable(reason='no socket')))
        rt = runtime.Runtime(self.conf)
        self.addCleanup(rt.transport.cleanup)
        self.assertRaises(exception.IcmpUnavailable, getattr, rt, 'prober')
        self.assertRaises(exception.IcmpUnavailable, getattr, rt, 'engine')
        self.assertEqual('tacker_vimmon_conductor', rt.conductor.topic)

    def test_one_runtime_per_process_and_a_new_one_after_fork(self):
        self.useFixture(base.fixtures.MonkeyPatch(
            'tacker_vimmon.action.runtime._runtime', None))
        made = []
        real_runtime = runtime.Runtime
        self.useFixture(base.fixtures.MockPatch(
            'tacker_vimmon.action.runtime.load_config',
            return_value=self.conf))
        self.useFixture(base.fixtures.MockPatch(
            'tacker_vimmon.action.runtime.Runtime',
            side_effect=lambda conf: made.append(mock.create_autospec(
                real_runtime, instance=True)) or made[-1]))
        first = runtime.get_runtime()
        self.assertIs(first, runtime.get_runtime())
        with mock.patch('os.getpid', return_value=os.getpid() + 1):
            self.assertIsNot(first, runtime.get_runtime())
        self.assertEqual(2, len(made))


class TestFastPath(base.TestCase):

    def test_wake_reaches_only_the_monitors_of_this_process(self):
        transport = rpc.get_transport_for(cfg.ConfigOpts(), 'fake://')
        self.addCleanup(transport.cleanup)
        listener = wakeup.Listener(transport)
        self.addCleanup(listener.stop)
        mine = listener.register(ACTION_ID)
        other = listener.register('another-action')
        self.assertTrue(listener.wait_started(10))
        wakeup_rpcapi.MonitorWakeupAPI(transport).wake(
            [ACTION_ID, 'not-running-here'])
        self.assertTrue(mine.wait(10))
        self.assertFalse(other.is_set())
        listener.unregister(ACTION_ID)
        self.assertEqual(0, listener.endpoint.wake({}, [ACTION_ID]))

    def test_registering_does_not_wait_for_the_broker(self):
        broker_back = threading.Event()
        self.addCleanup(broker_back.set)
        server = mock.Mock()
        server.start.side_effect = lambda: broker_back.wait(30)
        listener = wakeup.Listener(mock.Mock())
        with mock.patch.object(rpc, 'get_server', return_value=server):
            started = time.monotonic()
            event = listener.register(ACTION_ID)
            listener.register('another-action')
            # The monitor may probe at once; wake-ups follow the broker.
            self.assertLess(time.monotonic() - started, 5)
            self.assertFalse(listener.wait_started(0.1))
            broker_back.set()
            self.assertTrue(listener.wait_started(10))
        self.assertEqual(1, server.start.call_count)
        self.assertFalse(event.is_set())

    def test_a_failed_start_is_tried_again(self):
        # The broker went away while the listener was being set up.
        server = mock.Mock()
        server.start.side_effect = [
            messaging.MessagingException('broker gone'),
            kombu_exceptions.OperationalError('refused'), None]
        listener = wakeup.Listener(mock.Mock())
        listener._sleep = mock.Mock()
        with mock.patch.object(rpc, 'get_server', return_value=server):
            listener.register(ACTION_ID)
            self.assertTrue(listener.wait_started(10))
        self.assertEqual(3, server.start.call_count)
        self.assertEqual([mock.call(1.0), mock.call(2.0)],
                         listener._sleep.call_args_list)

    def test_bad_wake_arguments_wake_nobody(self):
        endpoint = wakeup.WakeupEndpoint()
        event = endpoint.register(ACTION_ID)
        for bad in (None, ACTION_ID, {'id': ACTION_ID}, [None, 5]):
            self.assertEqual(0, endpoint.wake({}, bad))
        self.assertFalse(event.is_set())

    def test_broadcast_failure_is_only_logged(self):
        client = mock.Mock()
        client.prepare.return_value.cast.side_effect = (
            messaging.MessagingException('down'))
        with mock.patch.object(rpc, 'get_client', return_value=client):
            wakeup_rpcapi.MonitorWakeupAPI(mock.Mock()).wake([ACTION_ID])
        # Bounded retries: an away broker must not hang the caller.
        client.prepare.assert_called_once_with(
            retry=wakeup_rpcapi.MonitorWakeupAPI.RETRIES)
        self.assertIn('Could not ask monitors', self._log.output)

    def setUp(self):
        super().setUp()
        self._log = self.useFixture(base.fixtures.FakeLogger(
            name='tacker_vimmon.workflow.rpcapi'))


class ScriptedRuntime:
    """A Runtime (autospec, as ``runtime``) answering reports from a script.

    Its engine (an Engine) finds the VIM reachable or not; every report is
    recorded in ``reports`` and answered by the next of ``answers``; every
    failure report (vim_id, action_id, reason) in ``failures``.
    """

    def __init__(self, answers=(), reachable=True):
        self.engine = mock.create_autospec(engine.Engine, instance=True)
        self.verdict = mock.create_autospec(engine.Monitor, instance=True)
        self.verdict.status = 'REACHABLE' if reachable else 'UNREACHABLE'
        self.engine.add.return_value = self.verdict
        self.answers = list(answers)
        self.reports = []
        self.wakeups = mock.create_autospec(wakeup.Listener, instance=True)
        self.wakeup = threading.Event()
        self.wakeups.register.return_value = self.wakeup
        self.runtime = mock.create_autospec(runtime.Runtime, instance=True)
        # Set in Runtime.__init__, so not part of the class's spec.
        self.runtime.engine = self.engine
        self.runtime.wakeups = self.wakeups
        self.heartbeat = mock.create_autospec(heartbeat.Heartbeat,
                                              instance=True)
        self.runtime.heartbeat = self.heartbeat
        # A real check-in thread: routine check-ins go through it.
        self.runtime.check_ins = checkins.CheckIns(0.001)
        self.runtime.reporter.side_effect = self.reporter
        self.failures = []
        self.runtime.report_failure.side_effect = (
            lambda *args: self.failures.append(args) or 'ERROR')

    def reporter(self, vim_id, action_id):
        def report(status):
            self.reports.append(status)
            return self.answers.pop(0)
        return report


class TestVimMonitorAction(base.TestCase):

    def run_action(self, fake, target_url='http://192.0.2.10:5000/v3',
                   probe=None):
        self.useFixture(base.fixtures.MockPatch(
            'tacker_vimmon.action.runtime.get_runtime',
            return_value=fake.runtime))
        return monitor.VimMonitorAction(
            VIM_ID, ACTION_ID, target_url, probe or PROBE).run(None)

    def test_probes_reports_and_exits_on_bad_action(self):
        fake = ScriptedRuntime(['REACHABLE', 'bad_action'], reachable=True)
        # A check-in due at every round: the second one hears bad_action.
        result = self.run_action(fake, probe=dict(PROBE,
                                                  check_interval=0.001))
        self.assertEqual({'vim_id': VIM_ID, 'action_id': ACTION_ID,
                          'exit_reason': 'bad_action',
                          'last_status': 'REACHABLE'}, result)
        self.assertEqual(['REACHABLE', 'REACHABLE'], fake.reports)
        # Probed by the engine, which sets the wake-up event on a change.
        fake.engine.add.assert_called_once_with(
            target.ProbeTarget('http://192.0.2.10:5000/v3', '192.0.2.10'),
            loop.ProbeSettings.from_dict(dict(PROBE,
                                              check_interval=0.001)),
            fake.wakeup)
        fake.engine.remove.assert_called_once_with(fake.verdict)
        fake.wakeups.unregister.assert_called_once_with(ACTION_ID)
        # Named in the process's heartbeats while it ran, not after.
        fake.heartbeat.add.assert_called_once_with(ACTION_ID, 5.0)
        fake.heartbeat.remove.assert_called_once_with(ACTION_ID)

    def test_bad_input_fails_visibly_without_probing(self):
        fake = ScriptedRuntime([], reachable=True)
        for url, probe in (('http:///v3', PROBE),
                           ('http://192.0.2.10', dict(PROBE, count=0))):
            result = self.run_action(fake, url, probe)
            self.assertTrue(result.is_error())
            self.assertIn(VIM_ID, result.error)
        fake.engine.add.assert_not_called()

    def test_bad_input_is_reported_to_the_conductor_with_the_reason(self):
        for url, probe, fragment in (
                ('https://a..b:6443', PROBE,
                 "'a..b' is neither an IP address nor a host name"),
                ('http://192.0.2.10', dict(PROBE, count=0),
                 'probe setting count must be positive'),
                ('http://192.0.2.10', {'count': 1},
                 'probe settings lack check_interval')):
            fake = ScriptedRuntime()
            result = self.run_action(fake, url, probe)
            self.assertTrue(result.is_error())
            [(vim_id, action_id, reason)] = fake.failures
            self.assertEqual((VIM_ID, ACTION_ID), (vim_id, action_id))
            self.assertIn(fragment, reason)
            self.assertIn(reason, result.error)
            fake.wakeups.register.assert_not_called()

    def test_missing_privilege_is_reported_to_the_conductor(self):
        fake = ScriptedRuntime()
        type(fake.runtime).engine = mock.PropertyMock(
            side_effect=exception.IcmpUnavailable(reason='no socket'))
        result = self.run_action(fake)
        self.assertTrue(result.is_error())
        self.assertIn('CAP_NET_RAW', result.error)
        [(_vim, _action, reason)] = fake.failures
        self.assertIn('no socket', reason)
        self.assertIn('CAP_NET_RAW', reason)

    def test_without_a_configuration_there_is_nobody_to_tell(self):
        log = self.useFixture(base.fixtures.FakeLogger(
            name='tacker_vimmon.action.monitor'))
        self.useFixture(base.fixtures.MockPatch(
            'tacker_vimmon.action.runtime.get_runtime',
            side_effect=exception.MonitorConfigNotFound(path='/etc/x.conf',
                                                        env='VAR')))
        result = monitor.VimMonitorAction(VIM_ID, ACTION_ID,
                                         'http://192.0.2.10', PROBE).run(None)
        self.assertTrue(result.is_error())
        self.assertIn('/etc/x.conf', result.error)
        self.assertIn('/etc/x.conf', log.output)

    def test_missing_privilege_fails_visibly(self):
        self.useFixture(base.fixtures.MockPatch(
            'tacker_vimmon.action.runtime.get_runtime',
            side_effect=exception.IcmpUnavailable(reason='no socket')))
        result = monitor.VimMonitorAction(VIM_ID, ACTION_ID,
                                         'http://192.0.2.10', PROBE).run(None)
        self.assertTrue(result.is_error())
        self.assertIn('CAP_NET_RAW', result.error)
