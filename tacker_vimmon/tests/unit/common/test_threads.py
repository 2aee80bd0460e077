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

import threading

import testtools

from tacker_vimmon.common import threads


def kernel_name(tid):
    """What top -H shows for the thread: its comm in /proc."""
    with open('/proc/self/task/%d/comm' % tid) as comm:
        return comm.read().strip()


class TestThreadNames(testtools.TestCase):

    def in_a_thread(self, work):
        """work(tid) on a thread of its own; what it returned."""
        found = {}

        def run():
            found['result'] = work(threading.get_native_id())
        thread = threading.Thread(target=run)
        thread.start()
        thread.join(10)
        return found['result']

    def test_a_name_is_what_the_kernel_shows(self):
        def work(tid):
            threads.name_this_thread('tvm-test-named')
            return kernel_name(tid), threads.this_thread_name()
        self.assertEqual(('tvm-test-named', 'tvm-test-named'),
                         self.in_a_thread(work))

    def test_a_long_name_is_cut_to_what_the_kernel_keeps(self):
        def work(tid):
            threads.name_this_thread('tvm-a-name-longer-than-fifteen')
            return kernel_name(tid)
        self.assertEqual('tvm-a-name-long', self.in_a_thread(work))

    def test_a_borrowed_thread_gets_its_own_name_back(self):
        def work(tid):
            threads.name_this_thread('pool-worker')
            with threads.thread_named('tvm-monitor'):
                inside = kernel_name(tid)
            return inside, kernel_name(tid)
        self.assertEqual(('tvm-monitor', 'pool-worker'),
                         self.in_a_thread(work))

    def test_the_name_comes_back_when_the_block_raises(self):
        def work(tid):
            threads.name_this_thread('pool-worker')
            try:
                with threads.thread_named('tvm-monitor'):
                    raise RuntimeError('the monitor failed')
            except RuntimeError:
                pass
            return kernel_name(tid)
        self.assertEqual('pool-worker', self.in_a_thread(work))
