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


class TestBrokerRestart(_FaultsTestCase):
    """tacker-vimmon's broker restarts; every monitor reports again."""

    HOSTS = 2
    PRIVATE_BROKER = True
    EXECUTOR_THREADS = VIMS + 4
    # Heartbeats move last_check_in_at too: one at the start only, so that
    # a check-in seen after the restart is each monitor's own report.
    VIM_MONITOR = {'heartbeat_interval': 3600}
    # No repairs: the monitors that ran before the restart must report,
    # not replacements made by the reconciler.
    RECONCILER = {'enabled': False, 'silent_after': 7201}

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
