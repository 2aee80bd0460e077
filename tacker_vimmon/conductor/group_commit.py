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

"""Group commit: reports that arrive together are written together.

While one report is being written, the reports that arrive wait; when the
write is done, one of them writes all that waited in one statement (and
hands on to the next waiting group). A lone report is written at once by
its own thread, so a quiet conductor adds no delay; a busy one pays one
database round trip per group instead of one per report.
"""

import threading

MAX_GROUP = 64


class _Entry:
    def __init__(self, key, item, wake):
        self.key = key
        self.item = item
        # Shared by the entries of one submitter: set when any of them is
        # written or is to lead the next group.
        self.wake = wake
        self.lead = False
        self.finished = False
        self.result = None
        self.error = None


class GroupCommit:
    """Run ``write(items) -> results`` for groups of submitted items.

    Items with the same key are never in one group (the database statement
    may change a row only once); a later one waits for the next group.
    """

    def __init__(self, write, max_group=MAX_GROUP):
        self._write = write
        self._max_group = max_group
        self._lock = threading.Lock()
        self._waiting = []
        self._busy = False

    def submit(self, key, item):
        """Write item (in some group) and return its result."""
        [result] = self.submit_all([(key, item)])
        return result

    def submit_all(self, keyed_items):
        """Write every (key, item) (in one group or more); their results.

        :raises: the first error of a group that held one of them, once
            all of them are written or failed
        """
        wake = threading.Event()
        entries = [_Entry(key, item, wake) for key, item in keyed_items]
        with self._lock:
            self._waiting.extend(entries)
            if entries and not self._busy:
                self._busy = entries[0].lead = True
        while not all(entry.finished for entry in entries):
            lead = next((entry for entry in entries if entry.lead), None)
            if lead is not None:
                lead.lead = False
                self._write_group()
            else:
                wake.wait()
                wake.clear()
        for entry in entries:
            if entry.error is not None:
                raise entry.error
        return [entry.result for entry in entries]

    def _take_group(self):
        group, keys, rest = [], set(), []
        for entry in self._waiting:
            if entry.key in keys or len(group) >= self._max_group:
                rest.append(entry)
            else:
                keys.add(entry.key)
                group.append(entry)
        self._waiting = rest
        return group

    def _write_group(self):
        with self._lock:
            group = self._take_group()
        try:
            results = self._write([entry.item for entry in group])
        except Exception as error:
            results = [None] * len(group)
            for entry in group:
                entry.error = error
        with self._lock:
            for entry, result in zip(group, results, strict=True):
                entry.result = result
                entry.finished = True
            # The next group is written by one of its own callers.
            successor = self._waiting[0] if self._waiting else None
            if successor is None:
                self._busy = False
            else:
                successor.lead = True
        for entry in group:
            entry.wake.set()
        if successor is not None:
            successor.wake.set()
