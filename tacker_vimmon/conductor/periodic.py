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

"""A conductor's periodic work: run_once() in a thread of its own."""

import threading

from oslo_log import log as logging

LOG = logging.getLogger(__name__)


class Periodic:
    """Runs ``run_once()`` every ``pause()`` seconds, from start() to stop().

    Subclasses give ``THREAD_NAME``, ``run_once()`` and ``pause()``.
    """

    THREAD_NAME = None

    def start(self):
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True,
                                        name=self.THREAD_NAME)
        self._thread.start()

    def stop(self):
        if getattr(self, '_thread', None) is not None:
            self._stopping.set()
            self._thread.join()

    def _run(self):
        while not self._stopping.wait(self.pause()):
            try:
                self.run_once()
            except Exception:
                # One bad pass (the database briefly away, say) must not
                # end the work for the life of the conductor.
                LOG.exception('%s: a pass failed; trying again at the next',
                              self.THREAD_NAME)
