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

"""Fixtures and helpers shared by the unit and functional tests.

Test modules (``test_*.py``) never import one another: whatever more than
one of them needs lives here, or in tacker_vimmon.tests.base for base
classes of test cases.
"""

import itertools
import time
from unittest import mock
import warnings

import fixtures
from oslo_db.sqlalchemy import enginefacade
from oslo_db.sqlalchemy import test_fixtures
from sqlalchemy import exc as sa_exc

from tacker_vimmon.db import api as db_api
from tacker_vimmon.db import models
from tacker_vimmon.workflow import mistral
from tacker_vimmon.workflow import rpcapi as wakeup_rpcapi

# A workflow that does nothing, for proving that a Mistral runs workflows.
NOOP_WORKFLOW = """---
version: '2.0'
tvm_fixture_noop:
  type: direct
  tasks:
    nothing:
      action: std.noop
"""


def vim_values(**overrides):
    """The columns of a VIM row for db_api.vim_create, with overrides."""
    values = {
        'tenant_id': 'project-a',
        'name': 'edge-1',
        'description': 'an edge site',
        'type': 'openstack',
        'auth_url': 'http://192.0.2.10:5000/v3',
        'vim_project': {'name': 'nfv', 'project_domain_name': 'Default'},
        'auth_cred': {'username': 'nfv_user', 'user_domain_name': 'Default'},
        'auth_cred_secret': 'gAAAAA-ciphertext',
        'placement_attr': {'regions': []},
        'extra': {},
        'is_default': False,
    }
    values.update(overrides)
    return values


def wait_for(predicate, timeout, interval=0.1, message=None):
    """Poll predicate() until it returns a true value; return that value.

    Fails with AssertionError (naming ``message`` and the last value seen)
    when ``timeout`` seconds pass first. Tests that need time wait for a
    condition this way instead of sleeping for a guessed duration.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError('timed out after %ss waiting for %s '
                                 '(last value: %r)' % (
                                     timeout, message or predicate, value))
        time.sleep(interval)


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


class ScriptedMistral:
    """A MistralMonitors (autospec) with its calls recorded, failing on demand.

    Pass ``api`` wherever a MistralMonitors is expected; read and script
    the rest here:

    - ``created``: (vim_id, action_id, target, probe) of every create();
      the n-th returns Monitor('wf<n>', 'name<n>', 'ex<n>');
    - ``deleted``: (workflow_id, execution_id) of every delete();
    - ``workflows``: what list_workflows() returns (a copy each time);
    - ``deleted_workflows``: the workflow_id of every delete_workflow();
    - ``fail_create``, ``fail_delete``, ``fail_list``: an exception that
      create(), delete() or list_workflows() raises instead (nothing is
      recorded then);
    - ``on_create``: called by create() just before it records and returns.
    """

    def __init__(self):
        self.created = []
        self.deleted = []
        self.workflows = []
        self.deleted_workflows = []
        self.fail_create = None
        self.fail_delete = None
        self.fail_list = None
        self.on_create = None
        self._ids = itertools.count(1)
        self.api = mock.create_autospec(mistral.MistralMonitors,
                                        instance=True)
        self.api.create.side_effect = self._create
        self.api.delete.side_effect = self._delete
        self.api.list_workflows.side_effect = self._list_workflows
        self.api.delete_workflow.side_effect = self._delete_workflow

    def _create(self, vim_id, action_id, target, probe):
        if self.fail_create:
            raise self.fail_create
        if self.on_create:
            self.on_create()
        n = next(self._ids)
        self.created.append((vim_id, action_id, target, probe))
        return mistral.Monitor('wf%d' % n, 'name%d' % n, 'ex%d' % n)

    def _delete(self, workflow_id, execution_id):
        if self.fail_delete:
            raise self.fail_delete
        self.deleted.append((workflow_id, execution_id))

    def _list_workflows(self):
        if self.fail_list:
            raise self.fail_list
        return list(self.workflows)

    def _delete_workflow(self, workflow_id):
        self.deleted_workflows.append(workflow_id)
