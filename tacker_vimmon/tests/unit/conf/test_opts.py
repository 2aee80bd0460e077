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
from tacker_vimmon.conf import vim_keys
from tacker_vimmon.tests import base

ETC = os.path.join(os.path.dirname(__file__), '..', '..', '..', '..',
                   'etc', 'tacker-vimmon')
GENERATOR_CONF = os.path.join(ETC, 'tacker-vimmon-config-generator.conf')
MONITOR_GENERATOR_CONF = os.path.join(
    ETC, 'tacker-vimmon-monitor-config-generator.conf')


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


def _sample(test, generator_conf):
    output = os.path.join(test.useFixture(
        base.fixtures.TempDir()).path, 'sample.conf')
    generator.main(['--config-file', os.path.abspath(generator_conf),
                    '--output-file', output])
    with open(output) as sample:
        return sample.read()


def _options(text):
    """{(group, option)} of a sample file, commented out as it is."""
    found, group = set(), None
    for line in text.splitlines():
        if line.startswith('['):
            group = line.strip('[]')
        elif line.startswith('#') and ' = ' in line and ' ' not in (
                line[1:].split(' = ')[0]):
            found.add((group, line[1:].split(' = ')[0]))
    return found


# Options a library lists that do nothing in tacker-vimmon: the exchange is
# fixed in the code, the conductor runs without eventlet (no backdoor),
# the conductors' callers set their own timeouts, and the body limit is
# oslo.middleware's.
IGNORED = [('DEFAULT', 'control_exchange'), ('DEFAULT', 'backdoor_port'),
           ('DEFAULT', 'backdoor_socket'), ('conductor', 'rpc_timeout'),
           ('api', 'max_request_body_size')]


class TestSampleConfig(base.TestCase):

    def test_only_options_that_act(self):
        shown = _options(_sample(self, GENERATOR_CONF))
        self.assertEqual([], [opt for opt in IGNORED if opt in shown])
        for acting in (('DEFAULT', 'transport_url'),
                       ('DEFAULT', 'graceful_shutdown_timeout'),
                       ('oslo_middleware', 'max_request_body_size'),
                       ('oslo_middleware', 'enable_proxy_headers_parsing'),
                       ('healthcheck', 'disable_by_file_path'),
                       ('conductor', 'topic')):
            self.assertIn(acting, shown)
        # Middleware the server does not run lists nothing.
        self.assertEqual([], [opt for opt in shown if opt[0] == 'cors'])

    def test_monitor_sample_shows_only_options_that_act(self):
        shown = _options(_sample(self, MONITOR_GENERATOR_CONF))
        self.assertNotIn(('DEFAULT', 'control_exchange'), shown)
        self.assertIn(('DEFAULT', 'transport_url'), shown)
        self.assertIn(('vim_monitor', 'icmp_socket'), shown)

    def test_one_key_repository_default(self):
        text = _sample(self, GENERATOR_CONF)
        self.assertIn('#key_repository = %s\n'
                      % vim_keys.DEFAULT_KEY_REPOSITORY, text)
        self.assertEqual(vim_keys.DEFAULT_KEY_REPOSITORY,
                         base.CONF.vim_keys.key_repository)

    def test_generator_writes_every_group_with_our_defaults(self):
        text = _sample(self, GENERATOR_CONF)
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
        self.assertIn('#backends = disable_by_file,tacker_vimmon_database',
                      text)
        self.assertIn('#disable_by_file_path = $state_path/'
                      'healthcheck_disable', text)
