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

"""End to end: the API server, a conductor and a real Mistral monitor VIMs.

Every part is real and separate: tacker-vimmon-server (noauth) and
tacker-vimmon-conductor on PostgreSQL and RabbitMQ, Mistral 23 (api,
engine, executor) running this package's monitor action, and VIM hosts in
network namespaces behind the guard routes (netns.ProbeGuard). The tests
talk to the API over HTTP only, and look into Mistral only to prove that
retired actions really ended.
"""

import requests
from testtools import content

from tacker_vimmon.tests import fixtures as tvm_fixtures
from tacker_vimmon.tests.functional import monitoring
from tacker_vimmon.workflow import definition

REACHABLE_BOUND = monitoring.REACHABLE_BOUND
DETECT_BOUND = monitoring.DETECT_BOUND
HEAL_BOUND = monitoring.HEAL_BOUND

# One class per scenario: stestr runs the classes on parallel workers.

class TestReachability(monitoring.MonitoringTestCase):

    def test_vims_become_reachable_and_follow_their_hosts(self):
        one, two, three = self.hosts
        vims = [
            self.register('ipv4', 'http://%s:5000/v3' % one.ipv4),
            self.register('ipv4-path', 'https://%s/identity' % two.ipv4),
            self.register('ipv6', 'http://[%s]:5000/v3' % three.ipv6),
        ]
        # The API answers with the row as stored once the monitor runs, and
        # its first verdict comes with its first echo reply: it may have
        # reported already.
        self.assertLessEqual({vim['status'] for vim in vims},
                             {'PENDING', 'REACHABLE'})
        took = {vim['name']: round(self.wait_status(
            vim['id'], 'REACHABLE', REACHABLE_BOUND), 1) for vim in vims}
        self.addDetail('seconds-to-reachable', content.json_content(took))

        one.set_down()
        self.wait_status(vims[0]['id'], 'UNREACHABLE', DETECT_BOUND)
        first, down = self.events(vims[0]['id'])
        self.assertEqual(('REACHABLE', 'UNREACHABLE'),
                         (first['resource_state'], down['resource_state']))
        self.assertIn('REACHABLE', str(down['event_details']))
        self.assertEqual(['REACHABLE', 'REACHABLE'],
                         [self.vim(vim['id'])['status'] for vim in vims[1:]])

        one.set_up()
        self.wait_status(vims[0]['id'], 'REACHABLE', DETECT_BOUND)
        self.assertEqual(['REACHABLE', 'UNREACHABLE', 'REACHABLE'], [
            e['resource_state'] for e in self.events(vims[0]['id'])])



class TestRetirement(monitoring.MonitoringTestCase):

    def test_moving_and_deregistering_retire_the_old_actions(self):
        old_host, new_host = self.hosts[:2]
        vim = self.register('moving', 'http://%s:5000/v3' % old_host.ipv4)
        self.wait_status(vim['id'], 'REACHABLE', REACHABLE_BOUND)
        [first] = self.monitor_executions(vim['id'])
        first_action = self.action_id_of(first)

        response = requests.put(
            self.api.url + '/v1.0/vims/' + vim['id'],
            json={'vim': {'auth_url': 'http://%s:5000/v3' % new_host.ipv4}},
            timeout=60)
        self.assertEqual(200, response.status_code, response.text)
        moved = response.json()['vim']
        if moved['status'] != 'PENDING':
            # The API answers with the row as stored once the new monitor
            # runs, and its first verdict comes with its first echo reply:
            # it may have reported already. Then it is the new monitor's
            # REACHABLE, the second the events show (the first monitor's
            # report changes nothing now).
            self.assertEqual('REACHABLE', moved['status'])
            tvm_fixtures.wait_for(
                lambda: [e['resource_state'] for e in self.events(
                    vim['id'])].count('REACHABLE') == 2,
                timeout=30, message='the new monitor\'s REACHABLE event')
        self.wait_action_exit(vim['id'], first_action)
        self.wait_status(vim['id'], 'REACHABLE', REACHABLE_BOUND)
        [second] = self.monitor_executions(vim['id'])
        self.assertNotEqual(first_action, self.action_id_of(second))
        # The new monitor is a new execution of the VIM's one workflow;
        # the old execution is gone.
        [workflow] = self.monitor_workflows(vim['id'])
        self.assertEqual(definition.workflow_name(vim['id']), workflow.name)
        self.assertEqual((workflow.id, workflow.id),
                         (first.workflow_id, second.workflow_id))
        self.assertNotEqual(first.id, second.id)
        self.assertEqual([], [e for e in self.mistral.client.executions.list()
                              if e.id == first.id])
        # The new monitor watches the new host: the old one going away
        # changes nothing, the new one going away is seen.
        old_host.set_down()
        new_host.set_down()
        self.wait_status(vim['id'], 'UNREACHABLE', DETECT_BOUND)
        new_host.set_up()
        self.wait_status(vim['id'], 'REACHABLE', DETECT_BOUND)

        response = requests.delete(self.api.url + '/v1.0/vims/' + vim['id'],
                                   timeout=60)
        self.assertEqual(204, response.status_code, response.text)
        self.wait_action_exit(vim['id'], self.action_id_of(second))
        self.assertEqual([], self.monitor_executions(vim['id']))
        self.assertEqual([], self.monitor_workflows(vim['id']))



class TestSelfHealing(monitoring.MonitoringTestCase):

    def test_mistral_outage_at_registration_shows_then_heals(self):
        self.mistral.stop()
        vim = self.register('early', 'http://%s:5000/v3' % self.hosts[0].ipv4)
        self.assertEqual('ERROR', vim['status'])
        self.assertIn('Mistral', vim['monitor_error'])
        [event] = self.events(vim['id'])
        self.assertEqual('ERROR', event['resource_state'])
        self.assertIn('Mistral', event['event_details']['reason'])

        self.mistral.start_again()
        # The conductor's reconciler retries the set-up by itself.
        self.wait_status(vim['id'], 'REACHABLE', HEAL_BOUND)
        self.assertNotIn('monitor_error', self.vim(vim['id']))
