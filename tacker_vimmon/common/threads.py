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

"""Kernel names for the few threads that do a process's shared work.

A Mistral executor runs thousands of threads, all named after the
process. The probing engine's threads name themselves (``top -H``, ``ps
-L`` and /proc/<pid>/task/<tid>/comm show it), so that an operator, and
the benchmarks, can tell what they cost from what Mistral's threads do.
"""

import ctypes
import ctypes.util

from oslo_log import log as logging

LOG = logging.getLogger(__name__)

_PR_SET_NAME = 15
# The kernel keeps 15 characters and a NUL.
MAX_NAME = 15
_libc = None


def name_this_thread(name):
    """Give the calling thread's kernel task this name; best effort."""
    global _libc
    try:
        if _libc is None:
            _libc = ctypes.CDLL(ctypes.util.find_library('c'), use_errno=True)
        _libc.prctl(_PR_SET_NAME, name[:MAX_NAME].encode(), 0, 0, 0)
    except (OSError, AttributeError) as error:
        LOG.debug('Could not name thread %s: %s', name, error)
