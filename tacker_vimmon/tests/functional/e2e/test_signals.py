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

"""End to end: who is told that a VIM changed, and what Prometheus sees.

A real oslo.messaging notification listener on the test's RabbitMQ vhost
hears the API server's and the conductor's notifications while a VIM is
registered, its link goes down and up, and it is deregistered; a real
Prometheus scraping the API server's /metrics and the conductor's port
returns the VIM's status series through its query API.
"""

import queue
import time

from oslo_config import cfg
import oslo_messaging as messaging
import requests

from tacker_vimmon.common import rpc
from tacker_vimmon.tests.functional import base
from tacker_vimmon.tests.functional import monitoring
from tacker_vimmon.tests.functional import prometheus

TOPIC = 'tvm_test_notifications'
HEAR_BOUND = 30
# A scrape every second, the VIM's detection (monitoring.DETECT_BOUND).
SCRAPE_BOUND = 30


class Heard:
    """The listener's endpoint: every INFO notification, in a queue."""

    def __init__(self):
        self.notifications = queue.Queue()

    def info(self, ctxt, publisher_id, event_type, payload, metadata):
        self.notifications.put({'publisher_id': publisher_id,
                                'event_type': event_type,
                                'payload': payload})


class TestSignals(monitoring.MonitoringTestCase):

    HOSTS = 1
    SECTIONS = {'oslo_messaging_notifications': {'driver': 'messaging',
                                                 'topics': TOPIC}}

    def before_services(self):
        self.conductor_metrics = base.free_port()
        self.SECTIONS = dict(self.SECTIONS, metrics={
            'api_enabled': True, 'conductor_port': self.conductor_metrics})
        conf = cfg.ConfigOpts()
        rpc.register_messaging_opts(conf)
        conf([], project='tacker-vimmon-test', default_config_files=[])
        transport = messaging.get_notification_transport(
            conf, url=self.transport_url)
        self.addCleanup(transport.cleanup)
        self.heard = Heard()
        listener = messaging.get_notification_listener(
            transport, [messaging.Target(topic=TOPIC)], [self.heard])
        listener.start()
        self.addCleanup(listener.wait)
        self.addCleanup(listener.stop)

    def next_notification(self, event_type, **data):
        """The next notification of event_type whose data has these values.

        Others of that type on the way are skipped: the notifications of
        the conductor and of the API server come on one queue, in no order
        between the two.
        """
        deadline = time.monotonic() + HEAR_BOUND
        while True:
            try:
                heard = self.heard.notifications.get(
                    timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                self.fail('no %s notification with %s' % (event_type, data))
            if heard['event_type'] != event_type:
                continue
            found = heard['payload']['tacker_vimmon_object.data']
            if all(found.get(key) == value for key, value in data.items()):
                return heard

    def test_a_link_down_and_up_is_told(self):
        host = self.hosts[0]
        vim = self.register('told', 'http://%s:5000/v3' % host.ipv4)
        created = self.next_notification('vim.create', vim_id=vim['id'])
        self.assertTrue(created['publisher_id'].startswith(
            'tacker-vimmon-api:'))
        self.assertEqual(('VimPayload', '1.0'), (
            created['payload']['tacker_vimmon_object.name'],
            created['payload']['tacker_vimmon_object.version']))
        self.next_notification('vim.status.update', vim_id=vim['id'],
                               new_status='REACHABLE')

        host.set_down()
        down = self.next_notification(
            'vim.status.update', vim_id=vim['id'], old_status='REACHABLE',
            new_status='UNREACHABLE')
        self.capture('notification-link-down', down)
        self.assertTrue(down['publisher_id'].startswith(
            'tacker-vimmon-conductor:'))
        payload = down['payload']
        self.assertEqual(('VimStatusPayload', '1.0', 'tacker_vimmon'), (
            payload['tacker_vimmon_object.name'],
            payload['tacker_vimmon_object.version'],
            payload['tacker_vimmon_object.namespace']))
        data = payload['tacker_vimmon_object.data']
        self.assertEqual(('told', 'noauth-project', 'openstack', 'timeout'),
                         (data['name'], data['project_id'], data['type'],
                          data['reason']))
        self.assertIsNotNone(data['changed_at'])

        host.set_up()
        up = self.next_notification(
            'vim.status.update', vim_id=vim['id'], old_status='UNREACHABLE',
            new_status='REACHABLE')
        self.assertEqual('ok', up['payload']['tacker_vimmon_object.data'][
            'reason'])

        response = requests.delete(self.api.url + '/v1.0/vims/' + vim['id'],
                                   timeout=60)
        self.assertEqual(204, response.status_code, response.text)
        self.next_notification('vim.delete', vim_id=vim['id'])
        base.wait_for(lambda: not self.monitor_executions(vim['id']), 30,
                      message='the monitor to go')

    def test_prometheus_sees_a_link_go_down(self):
        conductor = '127.0.0.1:%d' % self.conductor_metrics
        server = self.useFixture(prometheus.Prometheus({
            'tacker-vimmon-api': [self.api.url.split('//', 1)[1]],
            'tacker-vimmon-conductor': [conductor]}))
        host = self.hosts[0]
        vim = self.register('scraped', 'http://%s:5000/v3' % host.ipv4)
        selector = '{vim_id="%s",status="%%s"}' % vim['id']

        def shows(status):
            return server.query('tacker_vimmon_vim_status%s == 1'
                                % (selector % status))

        [(labels, _value)] = base.wait_for(
            lambda: shows('REACHABLE'), SCRAPE_BOUND, interval=0.5,
            message='Prometheus to see the VIM REACHABLE')
        self.assertEqual(('scraped', 'noauth-project', 'tacker-vimmon-api'),
                         (labels['name'], labels['project'], labels['job']))
        self.capture_metrics(vim['id'], 'metrics-excerpt-reachable')
        host.set_down()
        base.wait_for(lambda: shows('UNREACHABLE'), SCRAPE_BOUND,
                      interval=0.5,
                      message='Prometheus to see the VIM UNREACHABLE')
        self.assertEqual([], shows('REACHABLE'))
        # The conductor's own counters: the change it wrote, its reports.
        [(_labels, changes)] = base.wait_for(lambda: server.query(
            'sum(tacker_vimmon_status_changes_total'
            '{new_status="UNREACHABLE"})'), SCRAPE_BOUND, interval=0.5,
            message='the conductor\'s status changes')
        self.assertGreaterEqual(changes, 1)
        [(_labels, reports)] = server.query(
            'sum(tacker_vimmon_reports_total{result="stored"})')
        self.assertGreaterEqual(reports, 2)
        self.assertEqual([1.0], [value for _l, value in server.query(
            'tacker_vimmon_vims{status="UNREACHABLE"}')])
        self.capture_metrics(vim['id'], 'metrics-excerpt')

    def capture_metrics(self, vim_id, name):
        """What a curl of both endpoints shows, the VIM's lines."""
        api = requests.get(self.api.url + '/metrics', timeout=10).text
        conductor = requests.get('http://127.0.0.1:%d/metrics'
                                 % self.conductor_metrics, timeout=10).text
        lines = [line for line in api.splitlines()
                 if vim_id in line or line.startswith(
                     ('tacker_vimmon_vims', '# HELP tacker_vimmon_vim_status',
                      '# TYPE tacker_vimmon_vim_status'))]
        lines += [line for line in conductor.splitlines()
                  if line.startswith(('tacker_vimmon_reports_total',
                                      'tacker_vimmon_status_changes_total',
                                      'tacker_vimmon_report_duration_'
                                      'seconds_count'))]
        self.capture(name, {'lines': lines})
