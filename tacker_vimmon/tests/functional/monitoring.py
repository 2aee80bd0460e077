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


"""The whole system running, for end-to-end tests of monitoring.

Every part is real and separate: tacker-vimmon-server (noauth) and
tacker-vimmon-conductor on PostgreSQL and RabbitMQ, Mistral 23 (api,
engine, executor) running this package's monitor action, and VIM hosts in
network namespaces behind the guard routes (netns.ProbeGuard). Tests talk
to the API over HTTP only, and look into Mistral only to prove that retired
actions really ended. Subclasses tune the stack with class attributes.
"""

import json
import os
import time

import requests
from testtools import content

from tacker_vimmon.tests.functional import base
from tacker_vimmon.tests.functional import mistral
from tacker_vimmon.tests.functional import netns
from tacker_vimmon.tests.functional import processes
from tacker_vimmon.tests.functional import rabbit
from tacker_vimmon.tests.functional.api import api_server
from tacker_vimmon.workflow import definition

CHECK_INTERVAL = 10
# The namespace hosts serve no API unless a test starts one there
# (netns.NetnsServer): ICMP alone decides unless a test case says so in
# VIM_MONITOR.
PROBE = {'probe_count': 2, 'probe_interval': 0.2, 'probe_timeout': 0.5,
         'failure_threshold': 2, 'check_interval': CHECK_INTERVAL,
         'status_checks': 'icmp'}
# Registration to REACHABLE: Mistral starts the action (about a second),
# one probe round, one report.
REACHABLE_BOUND = 20
# Link down to UNREACHABLE in the API: failure_threshold rounds of at most
# count * (interval + timeout) = 1.4 s each, then one report.
DETECT_BOUND = 10
# A retired action exits: by the fast path within seconds; the bound
# leaves room for the check-in path (CHECK_INTERVAL) as well.
EXIT_BOUND = CHECK_INTERVAL + 10
# The reconciler retries a failed set-up every few seconds (see below).
HEAL_BOUND = 60


class MonitoringTestCase(base.FunctionalTestCase):

    TIMEOUT = 420
    # Hosts in namespaces, executor threads (one per running monitor).
    HOSTS = 3
    EXECUTOR_THREADS = 8
    # Mistral's executor as a process of its own, to kill and restart.
    SEPARATE_EXECUTOR = False
    # tacker-vimmon's services and monitors on a RabbitMQ node of the
    # test's own (self.broker, rabbit.PrivateRabbit), to stop and restart;
    # Mistral on a vhost of its own there too (as it shares the broker in
    # a deployment), or with False on one of the machine's broker.
    PRIVATE_BROKER = False
    MISTRAL_ON_PRIVATE_BROKER = True
    # Options of the API server and the conductor.
    VIM_MONITOR = {}
    RECONCILER = {'enabled': True, 'interval': 5, 'retry_after': 5,
                  'silent_after': 60}
    # More sections of the API server's and the conductor's files.
    SECTIONS = {}

    def setUp(self):
        super().setUp()
        # First, so that it is removed last, after Mistral's executor.
        guard = self.use_service(netns.ProbeGuard())
        self.hosts = self.useFixture(netns.NetnsHosts(guard,
                                                      self.HOSTS)).hosts
        self.database = self.real_database('postgresql')
        db_url = self.database.url.render_as_string(hide_password=False)
        mistral_url = None
        if self.PRIVATE_BROKER:
            self.broker = self.use_service(rabbit.PrivateRabbit())
            transport_url = self.broker.transport_url
            if self.MISTRAL_ON_PRIVATE_BROKER:
                mistral_url = self.broker.add_vhost('mistral')
        else:
            transport_url = self.use_service(
                rabbit.RabbitVhost()).transport_url
        self.transport_url = transport_url
        # The listeners of a test, say, that must hear from the start.
        self.before_services()
        self.mistral = self.use_service(mistral.MistralFixture(
            transport_url=mistral_url,
            thread_pool_size=self.EXECUTOR_THREADS,
            environment={'TACKER_VIMMON_MONITOR_CONFIG_FILE':
                         self._action_config(transport_url)},
            separate_executor=self.SEPARATE_EXECUTOR))
        self.addOnException(self._attach_logs)
        shared = {
            'DEFAULT': {'transport_url': transport_url},
            'mistral': {'endpoint_override': self.mistral.url,
                        'timeout': 10},
            'vim_monitor': dict(PROBE, enabled=True, **self.VIM_MONITOR),
            'reconciler': self.RECONCILER,
        }
        shared.update(self.SECTIONS)
        self.api = self.useFixture(api_server.ApiServerProcess(
            db_url, sections=shared))
        # The conductor reads the VIMs' secrets with the API's keys (the
        # credential check, a Kubernetes VIM's CA for its API check).
        self.conductor = self.useFixture(processes.ConductorProcess(
            transport_url, db_url, 'e2e-conductor', upgrade=False,
            conf=dict(shared, vim_keys={
                'key_repository': self.api.key_repository})))

    def before_services(self):
        """Set up what must be there before the services start."""

    def _action_config(self, transport_url):
        path = os.path.join(self.useFixture(base.fixtures.TempDir()).path,
                            'tacker-vimmon-monitor.conf')
        base.write_config(path, {
            'DEFAULT': {'transport_url': transport_url},
            'vim_monitor': {'report_timeout': 5}})
        return path

    def _attach_logs(self, exc_info):
        # Registered before the services start: attach what was made.
        # (An error here would end the whole test run, not just the test.)
        for name, fixture, text in (
                ('mistral-log', 'mistral', lambda f: f.log_tail(200)),
                ('api-log', 'api', lambda f: f.log_text()[-8000:]),
                ('conductor-log', 'conductor', lambda f: f.log()[-8000:]),
                ('broker-log', 'broker', lambda f: f.log_tail(80))):
            if hasattr(self, fixture):
                self.addDetail(name, content.text_content(
                    text(getattr(self, fixture))))

    # The API, over HTTP.

    def register(self, name, auth_url, **fields):
        """Register a VIM (an OpenStack one unless fields say otherwise)."""
        vim = {
            'name': name, 'type': 'openstack', 'auth_url': auth_url,
            'auth_cred': {'username': 'nfv_user', 'password': 'secret-pw',
                          'user_domain_name': 'Default'},
            'vim_project': {'name': 'nfv', 'project_domain_name': 'Default'},
        }
        vim.update(fields)
        response = requests.post(self.api.url + '/v1.0/vims',
                                 json={'vim': vim}, timeout=60)
        self.assertEqual(201, response.status_code, response.text)
        return response.json()['vim']

    def vim(self, vim_id):
        response = requests.get(self.api.url + '/v1.0/vims/' + vim_id,
                                timeout=30)
        self.assertEqual(200, response.status_code, response.text)
        return response.json()['vim']

    def events(self, vim_id, event_type='MONITOR'):
        response = requests.get(self.api.url + '/v1.0/events', params={
            'resource_id': vim_id, 'event_type': event_type}, timeout=30)
        self.assertEqual(200, response.status_code, response.text)
        return response.json()['events']

    def wait_status(self, vim_id, status, bound):
        """Wait until the API shows status; the seconds it took."""
        started = time.monotonic()
        base.wait_for(lambda: self.vim(vim_id)['status'] == status, bound,
                      interval=0.2, message='VIM %s %s' % (vim_id, status))
        return time.monotonic() - started

    def capture(self, name, document):
        """Attach a JSON document to the test, and keep it in
        $TVM_CAPTURE_DIR when that is set (what a closing note shows).
        """
        self.addDetail(name, content.json_content(document))
        directory = os.environ.get('TVM_CAPTURE_DIR')
        if directory:
            with open(os.path.join(directory, name + '.json'), 'w') as f:
                json.dump(document, f, indent=2)

    # Mistral, to see the actions end.

    def monitor_executions(self, vim_id):
        # By prefix, so that a workflow of any other naming shows too.
        prefix = definition.WORKFLOW_PREFIX + vim_id
        return [execution for execution in
                self.mistral.client.executions.list()
                if execution.workflow_name.startswith(prefix)]

    def monitor_workflows(self, vim_id):
        prefix = definition.WORKFLOW_PREFIX + vim_id
        return [wf for wf in self.mistral.client.workflows.list()
                if wf.name.startswith(prefix)]

    @staticmethod
    def action_id_of(execution):
        return json.loads(execution.input)['action_id']

    def wait_action_exit(self, vim_id, action_id):
        """The monitor action returned, freeing its executor thread.

        Its execution may be deleted already, so the proof is the action's
        own last words in the executor's log.
        """
        said = 'Monitor %s of VIM %s is no longer wanted; exiting' % (
            action_id, vim_id)
        base.wait_for(lambda: said in self.mistral.log_tail(5000),
                      EXIT_BOUND, interval=0.5,
                      message='monitor %s to exit' % action_id)
