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

import contextlib
import ctypes
import ctypes.util

from oslo_log import log as logging

LOG = logging.getLogger(__name__)

_PR_SET_NAME = 15
_PR_GET_NAME = 16
# The kernel keeps 15 characters and a NUL.
MAX_NAME = 15
_libc = None


def _prctl():
    global _libc
    if _libc is None:
        _libc = ctypes.CDLL(ctypes.util.find_library('c'), use_errno=True)
    return _libc.prctl


def name_this_thread(name):
    """Give the calling thread's kernel task this name; best effort."""
    try:
        _prctl()(_PR_SET_NAME, name[:MAX_NAME].encode(), 0, 0, 0)
    except (OSError, AttributeError) as error:
        LOG.debug('Could not name thread %s: %s', name, error)


def this_thread_name():
    """The calling thread's kernel name, or None when it cannot be read."""
    buffer = ctypes.create_string_buffer(MAX_NAME + 1)
    try:
        _prctl()(_PR_GET_NAME, buffer, 0, 0, 0)
    except (OSError, AttributeError):
        return None
    return buffer.value.decode(errors='replace')


@contextlib.contextmanager
def thread_named(name):
    """The calling thread carries name while the block runs.

    For work that runs on a thread that is not ours (a Mistral pool
    thread): its own name is put back afterwards.
    """
    previous = this_thread_name()
    name_this_thread(name)
    try:
        yield
    finally:
        if previous is not None:
            name_this_thread(previous)
