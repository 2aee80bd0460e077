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


"""Faults, end to end: the broker, the database and Mistral go away.

The broker that is restarted is a RabbitMQ node of the test's own
(rabbit.PrivateRabbit); the database connections cut are those of the
test's own database only; Mistral is the test's own. The machine's shared
services are never touched.
"""

import datetime
import time

import requests
import sqlalchemy as sa
from testtools import content

from tacker_vimmon.tests.functional import base
from tacker_vimmon.tests.functional import monitoring

VIMS = 10
# From the broker answering again to every monitor having reported.
BROKER_BOUND = 60
# From the cut to the API answering requests correctly again.
DB_RECOVERY_BOUND = 10


def _parse_time(text):
    if not text:
        return None
    return datetime.datetime.fromisoformat(text.rstrip('Z'))


def _utcnow():
    return datetime.datetime.now(datetime.UTC).replace(tzinfo=None)


class _FaultsTestCase(monitoring.MonitoringTestCase):

    def vims(self):
        response = requests.get(self.api.url + '/v1.0/vims', timeout=30)
        self.assertEqual(200, response.status_code, response.text)
        return {vim['id']: vim for vim in response.json()['vims']}

    def register_many(self, count):
        """The namespace hosts first, then loopback addresses."""
        vims = [self.register('netns-%d' % index,
                              'http://%s:5000/v3' % host.ipv4)
                for index, host in enumerate(self.hosts)]
        vims += [self.register('loopback-%d' % index,
                               'http://127.1.%d.%d:5000/v3'
                               % (index // 200, index % 200 + 10))
                 for index in range(count - len(vims))]
        return [vim['id'] for vim in vims]

    def wait_all(self, ids, status, bound):
        base.wait_for(
            lambda: all(self.vims()[vim_id]['status'] == status
                        for vim_id in ids),
            bound, interval=0.5, message='every VIM %s' % status)

    def reported_since(self, since, expected):
        """True once every VIM checked in after since, with its status."""
        vims = self.vims()
        return all(
            (_parse_time(vims[vim_id]['monitor']['last_check_in_at'])
             or datetime.datetime.min) > since
            and vims[vim_id]['status'] == status
            for vim_id, status in expected.items())


class _PrivateBrokerTestCase(_FaultsTestCase):

    HOSTS = 2
    PRIVATE_BROKER = True
    EXECUTOR_THREADS = VIMS + 4
    # Heartbeats move last_check_in_at too: one at the start only, so that
    # a check-in seen after the restart is each monitor's own report.
    VIM_MONITOR = {'heartbeat_interval': 3600}
    # No repairs: the monitors that ran before the restart must report,
    # not replacements made by the reconciler.
    RECONCILER = {'enabled': False, 'silent_after': 7201}


class TestBrokerRestart(_PrivateBrokerTestCase):
    """The broker restarts under tacker-vimmon and Mistral alike."""

    def test_every_monitor_reports_again_after_a_restart(self):
        ids = self.register_many(VIMS)
        downed = ids[0]
        self.wait_all(ids, 'REACHABLE', monitoring.REACHABLE_BOUND * 2)

        restarted_at = _utcnow()
        self.broker.restart()
        back = time.monotonic()
        self.hosts[0].set_down()
        expected = dict.fromkeys(ids, 'REACHABLE')
        expected[downed] = 'UNREACHABLE'
        base.wait_for(lambda: self.reported_since(restarted_at, expected),
                      BROKER_BOUND, interval=0.5,
                      message='every monitor reporting after the restart')
        self.addDetail('seconds-to-report-again', content.text_content(
            '%.1f (broker restart took %.1f s)'
            % (time.monotonic() - back, self.broker.start_seconds)))
        # Mistral came through it too: a new monitor starts and reports.
        late = self.register('after-restart', 'http://127.1.8.10:5000/v3')
        self.wait_status(late['id'], 'REACHABLE',
                         monitoring.REACHABLE_BOUND * 2)


class TestBrokerAwayAtFirstReport(_PrivateBrokerTestCase):
    """A new executor's first report meets the broker away."""

    # Mistral must start the action while tacker-vimmon's broker is away.
    MISTRAL_ON_PRIVATE_BROKER = False

    def test_a_first_report_while_the_broker_is_away(self):
        # The executor process has never reported: its first report sets
        # up the reply queue, against a broker that is not there.
        self.broker.stop()
        vim = self.register('first', 'http://%s:5000/v3' % self.hosts[0].ipv4)
        started = 'of VIM %s started' % vim['id']

        def trying():
            log = self.mistral.log_tail(200)
            return (started in log
                    and 'Connection failed' in log.split(started)[-1])
        base.wait_for(trying, monitoring.REACHABLE_BOUND, interval=0.5,
                      message='the monitor trying to reach the broker')

        stopped_at = _utcnow()
        self.broker.start()
        back = time.monotonic()
        base.wait_for(
            lambda: self.reported_since(stopped_at,
                                        {vim['id']: 'REACHABLE'}),
            BROKER_BOUND, interval=0.5,
            message='the first report once the broker is back')
        self.addDetail('seconds-to-first-report', content.text_content(
            '%.1f' % (time.monotonic() - back)))
        # And it goes on working: a host downed now is seen.
        self.hosts[0].set_down()
        self.wait_status(vim['id'], 'UNREACHABLE', monitoring.DETECT_BOUND)


class TestDatabaseConnectionLoss(_FaultsTestCase):
    """Every connection to tacker-vimmon's database is cut at once."""

    HOSTS = 2
    VIM_MONITOR = {'heartbeat_interval': 2}

    def cut_connections(self):
        """Terminate every backend of this test's database (only)."""
        with self.database.engine.connect() as connection:
            cut = connection.execute(sa.text(
                'SELECT count(pg_terminate_backend(pid)) '
                'FROM pg_stat_activity WHERE datname = current_database() '
                'AND pid <> pg_backend_pid()')).scalar()
        # The API's, the conductor's (reports, reconciler) at least.
        self.assertGreaterEqual(cut, 2)

    def test_the_api_and_the_conductor_recover_by_themselves(self):
        ids = self.register_many(3)
        self.wait_all(ids, 'REACHABLE', monitoring.REACHABLE_BOUND * 2)

        cut_at = _utcnow()
        self.cut_connections()
        started = time.monotonic()
        answers = []

        def answers_again():
            listed = requests.get(self.api.url + '/v1.0/vims', timeout=30)
            created = requests.post(self.api.url + '/v1.0/vims', json={
                'vim': {'name': 'after-cut-%d' % len(answers),
                        'type': 'openstack',
                        'auth_url': 'http://127.1.9.%d:5000/v3'
                        % (len(answers) + 10),
                        'auth_cred': {'username': 'u', 'password': 'p',
                                      'user_domain_name': 'Default'},
                        'vim_project': {'name': 'nfv',
                                        'project_domain_name': 'Default'}}},
                timeout=60)
            answers.append((listed.status_code, created.status_code))
            return answers[-1] == (200, 201)
        base.wait_for(answers_again, DB_RECOVERY_BOUND, interval=0.2,
                      message='the API answering again after the cut')
        self.addDetail('api-after-cut', content.text_content(
            '%.1f s, answers %s' % (time.monotonic() - started, answers)))
        # Failing during the cut is allowed only as "try again".
        for code in (code for pair in answers for code in pair):
            self.assertIn(code, (200, 201, 503), answers)

        # The conductor stores reports again: check-ins and a change.
        self.hosts[0].set_down()
        expected = dict.fromkeys(ids, 'REACHABLE')
        expected[ids[0]] = 'UNREACHABLE'
        base.wait_for(lambda: self.reported_since(cut_at, expected),
                      monitoring.CHECK_INTERVAL + monitoring.DETECT_BOUND,
                      interval=0.5, message='reports stored after the cut')
        self.assertNotIn('Traceback', self.conductor.log())


class TestMistralRestart(_FaultsTestCase):
    """Mistral's api and engine restart; its executor runs on."""

    HOSTS = 2
    SEPARATE_EXECUTOR = True
    VIM_MONITOR = {'heartbeat_interval': 2}
    RECONCILER = {'enabled': True, 'interval': 2, 'retry_after': 5,
                  'silent_after': 20}

    def running_actions(self, ids):
        return {vim_id: [self.action_id_of(execution) for execution in
                         self.monitor_executions(vim_id)]
                for vim_id in ids}

    def test_running_monitors_are_untouched_and_set_ups_healed(self):
        ids = self.register_many(3)
        self.wait_all(ids, 'REACHABLE', monitoring.REACHABLE_BOUND * 2)
        actions = self.running_actions(ids)

        self.mistral.stop_api_engine()
        stopped_at = _utcnow()
        late = self.register('late', 'http://%s:5000/v3'
                             % self.hosts[1].ipv4)
        self.assertEqual('ERROR', late['status'])
        self.assertIn('Mistral', late['monitor_error'])
        # Mistral being away changes nothing for the running monitors:
        # they report (a host downed now is seen) and check in.
        self.hosts[0].set_down()
        expected = dict.fromkeys(ids, 'REACHABLE')
        expected[ids[0]] = 'UNREACHABLE'
        base.wait_for(lambda: self.reported_since(stopped_at, expected),
                      monitoring.CHECK_INTERVAL + monitoring.DETECT_BOUND,
                      interval=0.5, message='reports while Mistral is away')

        self.mistral.start_api_engine()
        back = time.monotonic()
        self.wait_status(late['id'], 'REACHABLE', monitoring.HEAL_BOUND)
        self.addDetail('seconds-to-heal', content.text_content(
            '%.1f' % (time.monotonic() - back)))
        self.assertNotIn('monitor_error', self.vim(late['id']))
        # The monitors that ran through the outage are the same ones.
        self.assertEqual(actions, self.running_actions(ids))
        vims = self.vims()
        self.assertEqual(expected, {vim_id: vims[vim_id]['status']
                                    for vim_id in ids})
