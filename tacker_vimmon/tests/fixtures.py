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

"""Fixtures shared by the unit and functional tests."""

from unittest import mock
import warnings

import fixtures
from oslo_db.sqlalchemy import enginefacade
from oslo_db.sqlalchemy import test_fixtures
from sqlalchemy import exc as sa_exc

from tacker_vimmon.db import api as db_api
from tacker_vimmon.db import models
from tacker_vimmon.workflow import rpcapi as wakeup_rpcapi


class Database(fixtures.Fixture):
    """Point the DB API at a private in-memory SQLite database.

    Building the schema from the models is fine here (and only in tests);
    the migrations are proven against real databases by the functional
    migration tests, which also keep models and migrations in step.
    """

    def __init__(self, connection='sqlite://'):
        super().__init__()
        self.connection = connection

    def _setUp(self):
        facade = enginefacade.transaction_context()
        facade.configure(connection=self.connection)
        self.engine = facade.writer.get_engine()
        models.Base.metadata.create_all(self.engine)
        self.useFixture(test_fixtures.ReplaceEngineFacadeFixture(
            db_api.main_context_manager, facade))
        self.addCleanup(self.engine.dispose)


class WarningsFixture(fixtures.Fixture):
    """Turn our own SQLAlchemy mistakes into errors, as ironic does."""

    def _setUp(self):
        self._original = warnings.filters[:]
        warnings.filterwarnings('error', module='tacker_vimmon',
                                category=sa_exc.SAWarning)
        warnings.filterwarnings('error', module='tacker_vimmon',
                                category=sa_exc.SADeprecationWarning)
        self.addCleanup(self._restore)

    def _restore(self):
        warnings.filters[:] = self._original


def recording_wakeups(woken):
    """A MonitorWakeupAPI (autospec) whose wake() appends to ``woken``."""
    wakeups = mock.create_autospec(wakeup_rpcapi.MonitorWakeupAPI,
                                   instance=True)
    wakeups.wake.side_effect = woken.extend
    return wakeups
