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

"""The healthcheck backend that asks the API server's database.

oslo.middleware's healthcheck finds it by the entry point
``tacker_vimmon_database`` in ``oslo.middleware.healthcheck`` (setup.cfg)
and runs it when ``[healthcheck] backends`` names it (the default here).
A node that cannot reach its database answers every API request with 503,
so it answers the healthcheck with 503 too, and a load balancer takes it
out of rotation until the database is back.
"""

import time

from oslo_db import exception as db_exc
from oslo_log import log as logging
from oslo_middleware.healthcheck import pluginbase
from sqlalchemy import exc as sa_exc

from tacker_vimmon.db import api as db_api

LOG = logging.getLogger(__name__)

REACHABLE = 'OK'
UNREACHABLE = 'DATABASE UNREACHABLE'


def _first_line(error):
    lines = str(error).strip().splitlines()
    return lines[0][:300] if lines else type(error).__name__


class DatabaseHealthcheck(pluginbase.HealthcheckBaseExtension):
    """Available while one ``SELECT 1`` on [database] connection works.

    The details (shown only with ``[healthcheck] detailed = True``) say how
    long the round trip took, or why it failed. The driver's message names
    host and port but never the password, which is in the URL only.
    """

    def healthcheck(self, server_port):
        started = time.monotonic()
        try:
            db_api.ping()
        except (db_exc.DBError, sa_exc.SQLAlchemyError) as error:
            reason = _first_line(error)
            LOG.warning('Healthcheck: the database is not reachable: %s',
                        reason)
            return pluginbase.HealthcheckResult(
                available=False, reason=UNREACHABLE,
                details='The database is not reachable: %s' % reason)
        return pluginbase.HealthcheckResult(
            available=True, reason=REACHABLE,
            details='The database is reachable (%.1f ms).'
            % ((time.monotonic() - started) * 1000))
