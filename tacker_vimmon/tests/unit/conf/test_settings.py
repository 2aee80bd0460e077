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

"""Options that cannot work together are refused at start-up."""

import io

from tacker_vimmon import conf as vimmon_conf
from tacker_vimmon.common import exception
from tacker_vimmon.tests import base


class TestCheckSettings(base.TestCase):

    def test_defaults_pass(self):
        self.assertEqual((20, 5.0), (base.CONF.reconciler.silent_after,
                                     base.CONF.vim_monitor.heartbeat_interval))
        self.assertIsNone(vimmon_conf.check_settings(base.CONF))
        self.assertIsNone(vimmon_conf.check_settings())

    def test_a_window_of_twice_the_heartbeat_or_less_is_refused(self):
        for window, heartbeat in ((10, 5.0), (9, 5.0), (3, 2.0)):
            self.flags(group='reconciler', silent_after=window)
            self.flags(group='vim_monitor', heartbeat_interval=heartbeat)
            error = self.assertRaises(exception.InconsistentSettings,
                                      vimmon_conf.check_settings, base.CONF)
            message = error.format_message()
            self.assertIn('[reconciler] silent_after (%s s)' % window,
                          message)
            self.assertIn('[vim_monitor] heartbeat_interval (%s s)'
                          % heartbeat, message)

    def test_a_window_just_over_twice_the_heartbeat_passes(self):
        self.flags(group='reconciler', silent_after=11)
        self.flags(group='vim_monitor', heartbeat_interval=5.0)
        self.assertIsNone(vimmon_conf.check_settings(base.CONF))


class TestRequireConsistentSettings(base.TestCase):

    def setUp(self):
        super().setUp()
        self.stderr = io.StringIO()
        self.useFixture(base.fixtures.MonkeyPatch('sys.stderr',
                                                  self.stderr))

    def test_consistent_settings_let_the_service_start(self):
        self.assertIsNone(vimmon_conf.require_consistent_settings(base.CONF))
        self.assertEqual('', self.stderr.getvalue())

    def test_inconsistent_settings_exit_2_with_the_reason_on_stderr(self):
        self.flags(group='reconciler', silent_after=10)
        self.flags(group='vim_monitor', heartbeat_interval=5.0)
        for conf in ((base.CONF,), ()):
            self.stderr.seek(0)
            self.stderr.truncate()
            error = self.assertRaises(
                SystemExit, vimmon_conf.require_consistent_settings, *conf)
            self.assertEqual(2, error.code)
            printed = self.stderr.getvalue()
            self.assertTrue(printed.startswith(
                'The configuration cannot work: [reconciler] silent_after '
                '(10 s) must be more than twice [vim_monitor] '
                'heartbeat_interval (5.0 s)'), printed)
            self.assertEqual(1, printed.count('\n'), printed)
