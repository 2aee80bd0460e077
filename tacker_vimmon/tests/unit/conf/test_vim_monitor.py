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

"""The [vim_monitor] options and the probe input they make."""

from oslo_config import cfg

from tacker_vimmon.action import loop
from tacker_vimmon.action import options as action_options
from tacker_vimmon.conf import vim_monitor
from tacker_vimmon.tests import base


class TestVimMonitorOptions(base.TestCase):

    def test_defaults(self):
        group = base.CONF.vim_monitor
        self.assertEqual((60, 3, 1.0, 1.0, 2), (
            group.check_interval, group.probe_count, group.probe_interval,
            group.probe_timeout, group.failure_threshold))
        action_group = self.action_conf().vim_monitor
        self.assertEqual('auto', action_group.icmp_socket)
        self.assertGreater(action_group.report_timeout, 0)

    def test_the_services_do_not_carry_the_actions_options(self):
        # They live in the executor's own file, not in the services' one.
        for name in ('icmp_socket', 'report_timeout'):
            self.assertNotIn(name, base.CONF.vim_monitor)

    def action_conf(self):
        conf = cfg.ConfigOpts()
        action_options.register_opts(conf)
        conf([], default_config_files=[], default_config_dirs=[])
        return conf

    def test_probe_input_is_what_the_loop_accepts(self):
        self.flags(group='vim_monitor', probe_count=5, check_interval=30)
        probe = vim_monitor.probe_input(base.CONF)
        settings = loop.ProbeSettings.from_dict(probe)
        self.assertEqual(5, settings.count)
        self.assertEqual(30, settings.check_interval)

    def test_icmp_socket_choices(self):
        conf = self.action_conf()
        self.assertRaises(ValueError, conf.set_override, 'icmp_socket',
                          'ping', group='vim_monitor')
