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


"""Faults, end to end: an executor crash is noticed and healed in seconds.

Mistral drops the running actions of an executor that dies, and marks them
failed only minutes later. Here the executor is killed (SIGKILL, as a host
crash) and a new one started at once; one host is taken down right after.
The API must stop showing the old statuses as current within the silence
window, heal every monitor, and see the downed host.
"""

import time

import requests
from testtools import content

from tacker_vimmon.tests.functional import base
from tacker_vimmon.tests.functional import monitoring

HEARTBEAT = 2
WINDOW = 6
VIMS = 20
# The silence window, one reconciler pass and one poll of the API.
UNKNOWN_BOUND = WINDOW + 4
HEALED_BOUND = 60


class TestExecutorCrash(monitoring.MonitoringTestCase):

    HOSTS = 2
    EXECUTOR_THREADS = VIMS + 8
    SEPARATE_EXECUTOR = True
    VIM_MONITOR = {'heartbeat_interval': HEARTBEAT}
    RECONCILER = {'enabled': True, 'interval': 1, 'retry_after': 5,
                  'silent_after': WINDOW}

    def statuses(self):
        response = requests.get(self.api.url + '/v1.0/vims', timeout=30)
        self.assertEqual(200, response.status_code, response.text)
        return {vim['id']: vim['status'] for vim in response.json()['vims']}

    def register_all(self):
        downed, other = self.hosts
        vims = [self.register('netns-%d' % index,
                              'http://%s:5000/v3' % host.ipv4)
                for index, host in enumerate((downed, other))]
        # The rest answer on loopback addresses of this machine.
        vims += [self.register('loopback-%d' % index,
                               'http://127.0.%d.%d:5000/v3'
                               % (index // 200, index % 200 + 10))
                 for index in range(VIMS - len(vims))]
        return [vim['id'] for vim in vims]

    def watch(self, ids, until, bound):
        """Poll the API; {vim_id: [(seconds, status), ...]} of changes."""
        started = time.monotonic()
        seen = {vim_id: [] for vim_id in ids}

        def record():
            now = round(time.monotonic() - started, 2)
            for vim_id, status in self.statuses().items():
                changes = seen[vim_id]
                if not changes or changes[-1][1] != status:
                    changes.append((now, status))
            return until(seen)
        base.wait_for(record, bound, interval=0.25,
                      message='every VIM monitored again')
        return seen

    def test_a_crashed_executor_is_noticed_and_healed(self):
        ids = self.register_all()
        downed = ids[0]
        base.wait_for(lambda: set(self.statuses().values()) == {'REACHABLE'},
                      monitoring.REACHABLE_BOUND * 2, interval=0.5,
                      message='every VIM REACHABLE')

        self.mistral.kill_executor()
        self.mistral.start_executor()
        self.hosts[0].set_down()

        def healed(seen):
            last = {vim_id: changes[-1][1]
                    for vim_id, changes in seen.items()}
            return (last.pop(downed) == 'UNREACHABLE'
                    and set(last.values()) == {'REACHABLE'}
                    and all(any(s == 'UNKNOWN' for _t, s in changes)
                            for changes in seen.values()))
        seen = self.watch(ids, healed, HEALED_BOUND)
        self.addDetail('status-changes', content.json_content(seen))

        # Every VIM stopped showing its old status within the window.
        for vim_id, changes in seen.items():
            first_unknown = next(t for t, s in changes if s == 'UNKNOWN')
            self.assertLessEqual(first_unknown, UNKNOWN_BOUND, vim_id)
        # The downed host was never shown REACHABLE past that.
        last_reachable = max(t for t, s in seen[downed] if s == 'REACHABLE')
        self.assertLessEqual(last_reachable, UNKNOWN_BOUND)
        # The silence is on record, once per VIM, and so is its end.
        for vim_id in ids:
            states = [e['event_details'].get('new_status')
                      for e in self.events(vim_id)]
            self.assertEqual(1, states.count('UNKNOWN'), vim_id)
        self.assertIn('UNREACHABLE', [e['resource_state']
                                      for e in self.events(downed)])
