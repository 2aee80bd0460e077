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


"""The client side of the monitors' wake-up RPC API (the fast path).

The endpoint is tacker_vimmon.action.wakeup.WakeupEndpoint, one per
Mistral executor process that runs monitors, on a fanout topic. The API
server and the conductors' reconciler cast to it after retiring monitors.
"""

from oslo_log import log as logging
import oslo_messaging as messaging

from tacker_vimmon.common import context as vimmon_context
from tacker_vimmon.common import rpc

LOG = logging.getLogger(__name__)


class MonitorWakeupAPI:
    """Client of every executor's wake-up endpoint.

    API version history:

    * 1.0 - ``wake(action_ids)``: the monitors among them check in now
    """

    RPC_API_VERSION = '1.0'
    # A request must not hang on a broker that is away: one retry, then
    # give up (the monitors still exit at their next check-in).
    RETRIES = 1

    def __init__(self, transport=None):
        """:param transport: default the process-wide one (rpc.init)"""
        self._transport = transport

    def wake(self, action_ids, context=None):
        """Broadcast to every executor: these monitors should check in now.

        Best effort: a failure is logged, never raised.
        """
        action_ids = [a for a in action_ids or () if a]
        if not action_ids:
            return
        target = rpc.target(rpc.MONITOR_WAKEUP_TOPIC,
                            version=self.RPC_API_VERSION, fanout=True)
        client = rpc.get_client(target, transport=self._transport)
        try:
            client.prepare(retry=self.RETRIES).cast(
                context or vimmon_context.get_admin_context(), 'wake',
                action_ids=action_ids)
        except messaging.MessagingException as error:
            LOG.warning('Could not ask monitors %(ids)s to check in early '
                        '(they will at their next check-in): %(error)s',
                        {'ids': ', '.join(action_ids), 'error': error})
