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

"""A functional test whose service is missing fails in CI, skips elsewhere."""

import fixtures
import testtools

from tacker_vimmon.tests import base
from tacker_vimmon.tests.functional import base as functional_base


class _MissingService(fixtures.Fixture):
    def _setUp(self):
        raise functional_base.ServiceUnavailable('rabbitmq at 127.0.0.1:1')


class TestServiceRequirement(base.TestCase):

    def _run_inner_test(self, **environ):
        for name in ('CI', 'TVM_REQUIRE_SERVICES'):
            self.useFixture(fixtures.EnvironmentVariable(
                name, environ.get(name)))
        # Defined here so that the test runner does not collect it.
        class NeedsService(functional_base.FunctionalTestCase):
            def test_it(self):
                self.use_service(_MissingService())

        result = testtools.TestResult()
        NeedsService('test_it').run(result)
        self.assertEqual([], result.errors)
        return result

    def test_missing_service_fails_when_ci_is_true(self):
        result = self._run_inner_test(CI='true')
        self.assertEqual(1, len(result.failures))
        self.assertIn('rabbitmq at 127.0.0.1:1', str(result.failures[0][1]))
        self.assertEqual({}, result.skip_reasons)

    def test_missing_service_fails_when_required_explicitly(self):
        result = self._run_inner_test(TVM_REQUIRE_SERVICES='1')
        self.assertEqual(1, len(result.failures))

    def test_missing_service_is_a_named_skip_for_a_developer(self):
        result = self._run_inner_test()
        self.assertEqual([], result.failures)
        reasons = list(result.skip_reasons)
        self.assertEqual(1, len(reasons))
        self.assertIn('rabbitmq at 127.0.0.1:1', reasons[0])
