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

"""Option discovery and the sample configuration file."""

import os

from oslo_config import generator

from tacker_vimmon.conf import opts
from tacker_vimmon.tests import base

GENERATOR_CONF = os.path.join(
    os.path.dirname(__file__), '..', '..', '..', '..',
    'etc', 'tacker-vimmon', 'tacker-vimmon-config-generator.conf')


class TestOptionDiscovery(base.TestCase):

    def test_every_conf_module_is_discovered(self):
        modules = {m.__name__.rsplit('.', 1)[1]
                   for m in opts._option_modules()}
        self.assertIn('default', modules)
        self.assertIn('database', modules)
        self.assertNotIn('opts', modules)

    def test_list_opts_groups_options_once(self):
        listed = dict(opts.list_opts())
        names = [opt.name for opt in listed['DEFAULT']]
        self.assertIn('host', names)
        self.assertIn('state_path', names)
        self.assertEqual(len(names), len(set(names)))

    def test_database_defaults_to_sqlite_below_state_path(self):
        self.flags(state_path='/srv/vimmon')
        self.assertEqual('sqlite:////srv/vimmon/tacker_vimmon.sqlite',
                         base.CONF.database.connection)


class TestSampleConfig(base.TestCase):

    def test_generator_writes_every_group_with_our_defaults(self):
        output = os.path.join(self.useFixture(
            base.fixtures.TempDir()).path, 'sample.conf')
        generator.main(['--config-file', os.path.abspath(GENERATOR_CONF),
                        '--output-file', output])
        with open(output) as sample:
            text = sample.read()
        self.assertIn('[DEFAULT]', text)
        self.assertIn('#state_path = /var/lib/tacker-vimmon', text)
        self.assertIn('[database]', text)
        self.assertIn('#connection = sqlite:///$state_path/'
                      'tacker_vimmon.sqlite', text)
        levels = [line for line in text.splitlines()
                  if line.startswith('#default_log_levels')][0]
        loggers = [pair.split('=')[0]
                   for pair in levels.split(' = ')[1].split(',')]
        self.assertEqual(len(loggers), len(set(loggers)))
        self.assertIn('kombu', loggers)
