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

"""The monitor runtime's reports when no conductor answers.

Real RabbitMQ, no Mistral: the report function the monitor loop uses must
fail within bounded time with ConductorUnreachable, so that the loop backs
off and goes on probing instead of hanging or dying.
"""

import os
import time

from tacker_vimmon.action import loop
from tacker_vimmon.action import runtime
from tacker_vimmon.tests.functional import base
from tacker_vimmon.tests.functional import rabbit

VIM_ID = '4406cf8f-f2af-46cc-bfb9-e00add5805b7'
ACTION_ID = '9b2a5c8e-0d7f-4a61-8e7d-51f0c3a9e111'
# report_timeout (2 s), with room for a loaded machine.
FAIL_FAST_BOUND = 20


class TestReportsWithoutConductor(base.FunctionalTestCase):

    def runtime_for(self, transport_url):
        path = os.path.join(self.useFixture(base.fixtures.TempDir()).path,
                            'tacker-vimmon.conf')
        with open(path, 'w') as f:
            f.write('[DEFAULT]\ntransport_url = %s\n'
                    '[vim_monitor]\nreport_timeout = 2\n' % transport_url)
        # Probing plays no part here (and would need privileges).
        self.useFixture(base.fixtures.MockPatch(
            'tacker_vimmon.action.prober.get_prober'))
        rt = runtime.Runtime(runtime.load_config(path))
        self.addCleanup(rt.transport.cleanup)
        return rt.reporter(VIM_ID, ACTION_ID)

    def assertFailsFast(self, report):
        started = time.monotonic()
        self.assertRaises(loop.ConductorUnreachable, report, 'REACHABLE')
        self.assertLess(time.monotonic() - started, FAIL_FAST_BOUND)

    def test_broker_up_but_no_conductor(self):
        vhost = self.use_service(rabbit.RabbitVhost())
        self.assertFailsFast(self.runtime_for(vhost.transport_url))
