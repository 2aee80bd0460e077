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

"""Base classes for tacker-vimmon's tests."""

import json
import os
import warnings

import fixtures
from oslo_config import fixture as config_fixture
from oslo_log import log
import testtools
import webob

from tacker_vimmon import conf
from tacker_vimmon.api import app
from tacker_vimmon.api import policy
from tacker_vimmon.common import context
from tacker_vimmon.registry import crypto
from tacker_vimmon.tests import fixtures as vimmon_fixtures

CONF = conf.CONF

# Importing tacker_vimmon.conf registers nothing; the tests register what
# the services register when they start.
conf.register_opts(CONF)
log.register_options(CONF)


class TestCase(testtools.TestCase):
    """A test with a clean configuration and no leaked environment."""

    # Seconds before the test is interrupted; OS_TEST_TIMEOUT overrides.
    # End-to-end tests that start several services raise it: an interrupt
    # in the middle of their clean-up would leak what they started.
    TIMEOUT = 120

    def setUp(self):
        super().setUp()
        self.useFixture(fixtures.NestedTempfile())
        self.useFixture(fixtures.TempHomeDir())
        self.useFixture(fixtures.Timeout(
            int(os.environ.get('OS_TEST_TIMEOUT', self.TIMEOUT)),
            gentle=True))
        if os.environ.get('OS_STDOUT_CAPTURE', '1') != '0':
            self.useFixture(fixtures.MonkeyPatch(
                'sys.stdout', self.useFixture(
                    fixtures.StringStream('stdout')).stream))
        if os.environ.get('OS_STDERR_CAPTURE', '1') != '0':
            self.useFixture(fixtures.MonkeyPatch(
                'sys.stderr', self.useFixture(
                    fixtures.StringStream('stderr')).stream))
        self.useFixture(fixtures.LoggerFixture(
            nuke_handlers=False, format='%(asctime)s %(levelname)s '
            '%(name)s %(message)s', level=None))
        self.conf = self.useFixture(config_fixture.Config(CONF))
        self.conf.config(state_path=self.useFixture(
            fixtures.TempDir()).path)
        self.useFixture(vimmon_fixtures.WarningsFixture())
        self.context = context.get_admin_context()

    def flags(self, group=None, **kw):
        """Override options for this test only."""
        self.conf.config(group=group, **kw)


class DbTestCase(TestCase):
    """A test with a fresh in-memory SQLite database built from the models."""

    def setUp(self):
        super().setUp()
        self.db = self.useFixture(vimmon_fixtures.Database())


class ApiTestCase(DbTestCase):
    """The application in this process, on in-memory SQLite."""

    def setUp(self):
        super().setUp()
        keys = os.path.join(self.useFixture(fixtures.TempDir()).path, 'k')
        crypto.KeyRepository(keys).setup()
        self.flags(auth_strategy='noauth')
        self.flags(group='vim_keys', key_repository=keys)
        self.flags(group='oslo_middleware', max_request_body_size=16384)
        # The registry alone; monitoring has its own tests.
        self.flags(group='vim_monitor', enabled=False)
        # The policy enforcer looks for its file through parsed options.
        self.conf.conf([], project='tacker-vimmon', default_config_files=[])
        policy.reset()
        self.addCleanup(policy.reset)
        self.app = app.setup_app(self.conf.conf)

    def request(self, method, path, body=None, headers=None, raw=None):
        req = webob.Request.blank(path, method=method, headers=headers or {})
        if body is not None:
            req.content_type = 'application/json'
            req.body = json.dumps(body).encode()
        if raw is not None:
            req.body = raw
        return req.get_response(self.app)

    def fault(self, response):
        return response.json['TackerError']


warnings.simplefilter('once', DeprecationWarning)
