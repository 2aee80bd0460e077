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

from oslo_db import exception as db_exc
import webob

from tacker_vimmon.api import middleware
from tacker_vimmon.tests import base


def _app_raising(error):
    def app(environ, start_response):
        raise error
    return app


class TestFaultWrapper(base.TestCase):

    def test_a_lost_database_connection_is_503_not_500(self):
        wrapped = middleware.FaultWrapper(_app_raising(
            db_exc.DBConnectionError('server closed the connection')))
        response = webob.Request.blank('/v1.0/vims').get_response(wrapped)
        self.assertEqual(503, response.status_int)
        self.assertEqual('ServiceUnavailable',
                         response.json['TackerError']['type'])
        self.assertEqual(str(middleware.DB_RETRY_AFTER),
                         response.headers['Retry-After'])
        self.assertNotIn('server closed', response.text)

    def test_any_other_error_is_500(self):
        wrapped = middleware.FaultWrapper(_app_raising(ValueError('bug')))
        response = webob.Request.blank('/v1.0/vims').get_response(wrapped)
        self.assertEqual(500, response.status_int)
