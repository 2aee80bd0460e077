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
import os
import socket
import time
from unittest import mock
import warnings

import fixtures
from oslo_db.sqlalchemy import enginefacade
from oslo_db.sqlalchemy import test_fixtures
from sqlalchemy import exc as sa_exc

from tacker_vimmon.common import exception
from tacker_vimmon.db import api as db_api
from tacker_vimmon.db import models
from tacker_vimmon.workflow import definition
from tacker_vimmon.workflow import lifecycle
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
        # The hooks db_api adds to its own engines (SQLite's writers wait
        # their turn); in memory, every thread shares one connection, where
        # they do not apply.
        if self.connection != 'sqlite://':
            facade.append_on_engine_create(db_api._serialize_sqlite_writers)
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


class FakeIcmpSocket:
    """An ICMP socket that records what is sent and never receives."""

    def __init__(self, family, kind, proto):
        self.family = family
        self.sent = []
        self.fail_with = None
        self._pipe = os.pipe()

    def setblocking(self, flag):
        pass

    def fileno(self):
        return self._pipe[0]

    def sendto(self, data, address):
        if self.fail_with:
            raise self.fail_with
        self.sent.append((data, address))

    def setsockopt(self, level, option, value):
        pass

    def recvmsg(self, size, ancillary_size=0):
        raise BlockingIOError()

    def close(self):
        # Once only: a number closed twice may by then be another file's.
        pipe, self._pipe = self._pipe, ()
        for fd in pipe:
            os.close(fd)


class FakeIcmpSockets(fixtures.Fixture):
    """Every socket.socket() made meanwhile is a FakeIcmpSocket.

    ``sockets`` lists them; a Prober made meanwhile probes nothing real.
    """

    def _setUp(self):
        self.sockets = []
        self.useFixture(fixtures.MonkeyPatch('socket.socket', self._make))
        self.addCleanup(self._close)

    def _make(self, family, kind, proto):
        sock = FakeIcmpSocket(family, kind, proto)
        self.sockets.append(sock)
        return sock

    def _close(self):
        for sock in self.sockets:
            sock.close()

    def of_family(self, family=socket.AF_INET):
        """The last socket made for family."""
        return [sock for sock in self.sockets if sock.family == family][-1]


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

    - ``vim_workflows``: {vim_id: workflow_id} of the VIMs' workflows this
      Mistral holds; ensure_workflow() adds 'wf<n>' when missing, and
      start() without workflow_id raises MistralNotFound for a VIM not in
      it (as Mistral does for a workflow name it does not know);
    - ``created_workflows``: the vim_id of every workflow ensure_workflow()
      really created (not the ones it found);
    - ``created``: (vim_id, action_id, target, probe) of every start();
      the n-th execution is 'ex<n>';
    - ``started_in``: the workflow_id of every start(), in the same order;
    - ``deleted_executions``: the execution_id of every delete_execution();
    - ``workflows``: what list_workflows() returns (a copy each time);
      delete_workflow() takes out what it deletes;
    - ``deleted_workflows``: the id or name of every delete_workflow();
    - ``fail_create``: an exception that ensure_workflow() and start()
      raise instead; ``fail_delete`` likewise for delete_execution() and
      delete_workflow(), ``fail_list`` for list_workflows() (nothing is
      recorded then);
    - ``on_create``: called by start() just before it records and returns.
    """

    def __init__(self):
        self.vim_workflows = {}
        self.created_workflows = []
        self.created = []
        self.started_in = []
        self.deleted_executions = []
        self.workflows = []
        self.deleted_workflows = []
        self.fail_create = None
        self.fail_delete = None
        self.fail_list = None
        self.on_create = None
        self._workflow_ids = itertools.count(1)
        self._execution_ids = itertools.count(1)
        self.api = mock.create_autospec(mistral.MistralMonitors,
                                        instance=True)
        self.api.ensure_workflow.side_effect = self._ensure_workflow
        self.api.start.side_effect = self._start
        self.api.delete_execution.side_effect = self._delete_execution
        self.api.list_workflows.side_effect = self._list_workflows
        self.api.delete_workflow.side_effect = self._delete_workflow

    def _ensure_workflow(self, vim_id):
        if self.fail_create:
            raise self.fail_create
        if vim_id not in self.vim_workflows:
            self.vim_workflows[vim_id] = 'wf%d' % next(self._workflow_ids)
            self.created_workflows.append(vim_id)
        return mistral.MonitorWorkflow(self.vim_workflows[vim_id],
                                       definition.workflow_name(vim_id),
                                       None)

    def _start(self, vim_id, action_id, target, probe, workflow_id=None):
        if self.fail_create:
            raise self.fail_create
        if workflow_id is None:
            if vim_id not in self.vim_workflows:
                raise exception.MistralNotFound(
                    operation='start the monitor of VIM %s' % vim_id,
                    status=404, reason='workflow not found')
            workflow_id = self.vim_workflows[vim_id]
        if self.on_create:
            self.on_create()
        self.created.append((vim_id, action_id, target, probe))
        self.started_in.append(workflow_id)
        return mistral.Monitor(workflow_id, definition.workflow_name(vim_id),
                               'ex%d' % next(self._execution_ids))

    def _delete_execution(self, execution_id):
        if self.fail_delete:
            raise self.fail_delete
        self.deleted_executions.append(execution_id)

    def _list_workflows(self):
        if self.fail_list:
            raise self.fail_list
        return list(self.workflows)

    def _delete_workflow(self, workflow):
        if self.fail_delete:
            raise self.fail_delete
        self.deleted_workflows.append(workflow)
        self.workflows = [found for found in self.workflows
                          if workflow not in (found.workflow_id, found.name)]
        for vim_id, workflow_id in list(self.vim_workflows.items()):
            if workflow in (workflow_id, definition.workflow_name(vim_id)):
                del self.vim_workflows[vim_id]


class ScriptedLifecycle:
    """A real MonitorLifecycle on a ScriptedMistral, with wake-ups recorded.

    ``monitors`` is the ScriptedMistral, ``woken`` the action_ids woken,
    ``lifecycle`` the MonitorLifecycle.
    """

    def __init__(self, conf):
        self.monitors = ScriptedMistral()
        self.woken = []
        self.lifecycle = lifecycle.MonitorLifecycle(
            conf, monitors=self.monitors.api,
            wakeups=recording_wakeups(self.woken))
