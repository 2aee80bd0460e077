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

"""The fast path, executor side: wake retired monitors to check in now.

Correctness never depends on it: a monitor learns that it is not wanted
only from the conductor's 'bad_action', at its next check-in at the latest.
This only brings that moment forward to within seconds. Each executor
process that runs monitors listens once, on a fanout of
``rpc.MONITOR_WAKEUP_TOPIC`` (one queue per process, however many monitors
it runs); whoever retires monitors broadcasts their action ids through
tacker_vimmon.workflow.rpcapi, and each process wakes those it runs.
"""

import os
import socket
import threading
import time

from oslo_log import log as logging
import oslo_messaging as messaging

from tacker_vimmon.common import rpc

LOG = logging.getLogger(__name__)

RPC_API_VERSION = '1.0'
# Starting the listener again after a failure: 1 s, doubling up to 30 s.
FIRST_RETRY_DELAY = 1.0
MAX_RETRY_DELAY = 30.0


class WakeupEndpoint:
    """The RPC endpoint of one process: wakes the monitors it runs.

    API version history:

    * 1.0 - ``wake(action_ids)``
    """

    target = messaging.Target(version=RPC_API_VERSION)

    def __init__(self):
        self._lock = threading.Lock()
        self._events = {}

    def register(self, action_id):
        """The event the monitor with this action_id waits on."""
        event = threading.Event()
        with self._lock:
            self._events[action_id] = event
        return event

    def unregister(self, action_id):
        with self._lock:
            self._events.pop(action_id, None)

    def wake(self, context, action_ids):
        """Wake the monitors among action_ids that run in this process."""
        if not isinstance(action_ids, (list, tuple)):
            return 0
        with self._lock:
            events = [self._events[action_id] for action_id in action_ids
                      if isinstance(action_id, str)
                      and action_id in self._events]
        for event in events:
            event.set()
        if events:
            LOG.info('Woke %d retired monitor(s) to check in now',
                     len(events))
        return len(events)


class Listener:
    """The process's wake-up RPC server, started with its first monitor."""

    def __init__(self, transport):
        self.endpoint = WakeupEndpoint()
        self._transport = transport
        self._server = None
        self._starting = False
        self._started = threading.Event()
        self._lock = threading.Lock()
        self._sleep = time.sleep

    def register(self, action_id):
        self._start_once()
        return self.endpoint.register(action_id)

    def unregister(self, action_id):
        self.endpoint.unregister(action_id)

    def wait_started(self, timeout=None):
        """True once wake-ups can be received (for tests and tools)."""
        return self._started.wait(timeout)

    def _start_once(self):
        with self._lock:
            if self._starting:
                return
            self._starting = True
        # In the background: with the broker away, starting the server
        # waits for it, and the monitors must probe (and report once a
        # conductor answers) meanwhile.
        threading.Thread(target=self._serve, name='tacker-vimmon-wakeups',
                         daemon=True).start()

    def _serve(self):
        target = rpc.target(rpc.MONITOR_WAKEUP_TOPIC, server='%s-%d' % (
            socket.gethostname(), os.getpid()))
        delay = FIRST_RETRY_DELAY
        while True:
            server = rpc.get_server(target, [self.endpoint],
                                    transport=self._transport)
            try:
                server.start()
                break
            except Exception as error:
                # Monitors still exit at their next check-in meanwhile:
                # slower, not wrong. Tried again: a broker that went away
                # during the start comes back, and wake-ups must too.
                LOG.warning('Monitor wake-ups are off in this process for '
                            'now (retrying in %(delay).0f s): %(error)s',
                            {'delay': delay, 'error': error})
                self._sleep(delay)
                delay = min(delay * 2, MAX_RETRY_DELAY)
        with self._lock:
            self._server = server
        self._started.set()
        LOG.info('Monitor wake-ups are on in this process')

    def stop(self):
        with self._lock:
            server, self._server = self._server, None
        if server is not None:
            server.stop()
            server.wait()

