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

"""GroupCommit: concurrent items are written in groups, each exactly once."""

import concurrent.futures
import threading

from tacker_vimmon.conductor import group_commit
from tacker_vimmon.tests import base
from tacker_vimmon.tests import fixtures as vimmon_fixtures


class Recorder:
    """A write() that holds the first group until released."""

    def __init__(self, fail_on=None):
        self.groups = []
        self.release = threading.Event()
        self.entered = threading.Event()
        self.fail_on = fail_on

    def __call__(self, items):
        self.groups.append(list(items))
        self.entered.set()
        self.release.wait(10)
        if self.fail_on in items:
            raise ValueError('cannot write %s' % self.fail_on)
        return ['stored %s' % item for item in items]


class TestGroupCommit(base.TestCase):

    def test_lone_item_is_written_by_its_caller(self):
        recorder = Recorder()
        recorder.release.set()
        commit = group_commit.GroupCommit(recorder)
        self.assertEqual('stored a', commit.submit('a', 'a'))
        self.assertEqual([['a']], recorder.groups)

    def _run_while_first_is_held(self, recorder, keys, max_group=64):
        commit = group_commit.GroupCommit(recorder, max_group=max_group)
        with concurrent.futures.ThreadPoolExecutor(len(keys) + 1) as pool:
            first = pool.submit(commit.submit, 'first', 'first')
            recorder.entered.wait(10)
            futures = [pool.submit(commit.submit, key, '%s-%d' % (key, i))
                       for i, key in enumerate(keys)]
            # Let them all queue behind the first write.
            vimmon_fixtures.wait_for(
                lambda: len(commit._waiting) == len(keys), 10,
                message='the items to queue')
            recorder.release.set()
            results = [first] + futures
            return [self._result_of(future) for future in results]

    @staticmethod
    def _result_of(future):
        try:
            return future.result(10)
        except ValueError as error:
            return 'error: %s' % error

    def test_waiting_items_are_written_together_each_once(self):
        recorder = Recorder()
        outcomes = self._run_while_first_is_held(
            recorder, ['a', 'b', 'c', 'd'])
        self.assertEqual(['stored first', 'stored a-0', 'stored b-1',
                          'stored c-2', 'stored d-3'], outcomes)
        self.assertEqual([['first'], ['a-0', 'b-1', 'c-2', 'd-3']],
                         recorder.groups)

    def test_same_key_goes_to_a_later_group(self):
        recorder = Recorder()
        outcomes = self._run_while_first_is_held(recorder, ['a', 'a', 'b'])
        self.assertEqual(['stored first', 'stored a-0', 'stored a-1',
                          'stored b-2'], outcomes)
        self.assertEqual([['first'], ['a-0', 'b-2'], ['a-1']],
                         recorder.groups)

    def test_group_size_is_bounded(self):
        recorder = Recorder()
        self._run_while_first_is_held(recorder, ['a', 'b', 'c'],
                                      max_group=2)
        self.assertEqual([['first'], ['a-0', 'b-1'], ['c-2']],
                         recorder.groups)

    def test_a_failed_write_fails_its_group_only(self):
        recorder = Recorder(fail_on='b-1')
        outcomes = self._run_while_first_is_held(recorder, ['a', 'b'],
                                                 max_group=1)
        self.assertEqual(['stored first', 'stored a-0',
                          'error: cannot write b-1'], outcomes)

    def test_many_items_of_one_caller_in_groups_answered_in_order(self):
        recorder = Recorder()
        commit = group_commit.GroupCommit(recorder, max_group=2)
        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            first = pool.submit(commit.submit, 'first', 'first')
            recorder.entered.wait(10)
            many = pool.submit(commit.submit_all,
                               [('a', 'a'), ('b', 'b'), ('a', 'a2'),
                                ('c', 'c')])
            vimmon_fixtures.wait_for(lambda: len(commit._waiting) == 4, 10,
                                     message='the items to queue')
            recorder.release.set()
            self.assertEqual('stored first', first.result(10))
            self.assertEqual(['stored a', 'stored b', 'stored a2',
                              'stored c'], many.result(10))
        # Whoever leads, every group is written: a2 waits for a later one.
        self.assertEqual([['first'], ['a', 'b'], ['a2', 'c']],
                         recorder.groups)

    def test_a_failed_group_fails_the_whole_call(self):
        recorder = Recorder(fail_on='b')
        recorder.release.set()
        commit = group_commit.GroupCommit(recorder, max_group=1)
        self.assertRaisesRegex(ValueError, 'cannot write b',
                               commit.submit_all, [('a', 'a'), ('b', 'b'),
                                                   ('c', 'c')])
        # The items after the failed one were still written.
        self.assertEqual([['a'], ['b'], ['c']], recorder.groups)
        self.assertEqual([], commit._waiting)
        self.assertEqual(['stored d'], commit.submit_all([('d', 'd')]))
