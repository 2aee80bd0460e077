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


"""The heartbeat of one executor process: which monitors still run here.

Mistral drops the actions of an executor that dies and says so only
minutes later. So every few seconds each executor process tells the
conductors, in one cast, the action_ids of every monitor it runs; a VIM
whose monitor is not heard from (by heartbeat or report) within the
silence window is shown UNKNOWN and repaired. This is on top of the
per-VIM contract (update_vim on change and at least every check_interval,
exit on 'bad_action'), which stays as it is.
"""

import threading

import kombu.exceptions
from oslo_log import log as logging
import oslo_messaging as messaging

from tacker_vimmon.common import threads

LOG = logging.getLogger(__name__)
HEARTBEAT_THREAD = 'tvm-heartbeat'
# The broker being away, expected and said in one line; anything else is
# logged with its traceback. (oslo.messaging lets kombu's errors through
# when it cannot open a new connection.)
BROKER_ERRORS = (messaging.MessagingException, kombu.exceptions.KombuError,
                 OSError)


class Heartbeat:
    """Sends this process's running action_ids to the conductors.

    :param send: ``send(action_ids)``, the conductors' heartbeat cast
    The period is the shortest ``heartbeat_interval`` of the monitors that
    run; the thread starts with the first monitor.
    """

    def __init__(self, send):
        self._send = send
        self._lock = threading.Lock()
        self._intervals = {}
        self._changed = threading.Event()
        self._thread = None
        self._sent_ok = True

    def add(self, action_id, interval):
        with self._lock:
            idle = not self._intervals
            self._intervals[action_id] = interval
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name='tacker-vimmon-heartbeat',
                    daemon=True)
                self._thread.start()
        if idle:
            # Only a thread waiting for its first monitor needs waking: a
            # burst of new monitors must not become a burst of heartbeats.
            self._changed.set()

    def remove(self, action_id):
        with self._lock:
            self._intervals.pop(action_id, None)

    def running(self):
        with self._lock:
            return sorted(self._intervals)

    def _period(self):
        with self._lock:
            return min(self._intervals.values(), default=None)

    def _run(self):
        threads.name_this_thread(HEARTBEAT_THREAD)
        while True:
            period = self._period()
            # With no monitor left, wait for the next one to arrive.
            self._changed.wait(period)
            self._changed.clear()
            action_ids = self.running()
            if action_ids:
                self.beat(action_ids)

    def beat(self, action_ids):
        """Send one heartbeat; a failure is logged once until it works."""
        try:
            self._send(action_ids)
        except Exception as error:
            # Whatever failed, the thread must live on: without it every
            # monitor of this process would look dead and be re-created.
            if self._sent_ok:
                LOG.warning('Heartbeat of %(count)d monitor(s) not sent '
                            '(retrying every period): %(error)s',
                            {'count': len(action_ids), 'error': error},
                            exc_info=not isinstance(error, BROKER_ERRORS))
            self._sent_ok = False
            return
        if not self._sent_ok:
            LOG.info('Heartbeats reach the conductors again')
        self._sent_ok = True
