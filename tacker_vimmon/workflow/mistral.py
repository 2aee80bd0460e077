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

"""The Mistral calls that set up and remove VIM monitors.

python-mistralclient runs over a keystoneauth session built from the
[mistral] options, so a Mistral behind Keystone and an auth-less one are
reached the same way. Its errors become tacker-vimmon exceptions that say
what failed and where, for the VIM's status and events.
"""

import collections

from keystoneauth1 import exceptions as ks_exc
from keystoneauth1 import loading as ks_loading
from mistralclient.api import base as mistral_base
from mistralclient.api import client as mistral_client
from oslo_log import log as logging
from oslo_utils import timeutils
from oslo_utils import uuidutils

from tacker_vimmon.common import exception
from tacker_vimmon.conf import CONF
from tacker_vimmon.conf import mistral as mistral_conf
from tacker_vimmon.workflow import definition

LOG = logging.getLogger(__name__)

Monitor = collections.namedtuple(
    'Monitor', ['workflow_id', 'workflow_name', 'execution_id'])
MonitorWorkflow = collections.namedtuple(
    'MonitorWorkflow', ['workflow_id', 'name', 'created_at'])


def _session_and_endpoint(conf):
    group = mistral_conf.GROUP.name
    if not (conf[group].auth_type or conf[group].endpoint_override):
        raise exception.MistralNotConfigured()
    auth = None
    if conf[group].auth_type:
        auth = ks_loading.load_auth_from_conf_options(conf, group)
    session = ks_loading.load_session_from_conf_options(conf, group,
                                                         auth=auth)
    # The defaults set at registration are lost if the options are cleared
    # and registered again (as tests and some embedding services do), so
    # the service type falls back explicitly.
    adapter = ks_loading.load_adapter_from_conf_options(
        conf, group, session=session, auth=auth,
        service_type=conf[group].service_type or mistral_conf.SERVICE_TYPE)
    try:
        endpoint = adapter.get_endpoint()
    except ks_exc.ClientException as error:
        raise exception.MistralUnavailable(
            url='the %s endpoint of the service catalog' %
            mistral_conf.SERVICE_TYPE, reason=error)
    if not endpoint:
        raise exception.MistralUnavailable(
            url='the service catalog',
            reason='it has no %s endpoint' % mistral_conf.SERVICE_TYPE)
    return session, endpoint


class MistralMonitors:
    """Creates and removes the VIMs' Mistral workflows and monitors.

    A VIM's workflow lives as long as the VIM; each of its monitors is an
    execution of it.
    """

    def __init__(self, conf=CONF):
        self._conf = conf
        self._client = None
        self._endpoint = None

    def _mistral(self):
        if self._client is None:
            session, self._endpoint = _session_and_endpoint(self._conf)
            self._client = mistral_client.client(mistral_url=self._endpoint,
                                                 session=session)
        return self._client

    def _call(self, operation, method, *args, **kwargs):
        """Call Mistral, turning its failures into our exceptions."""
        try:
            return method(*args, **kwargs)
        except mistral_base.APIException as error:
            raised = exception.MistralRequestFailed
            if error.error_code == 404:
                raised = exception.MistralNotFound
            raise raised(operation=operation, status=error.error_code,
                         reason=error.error_message)
        except ks_exc.ClientException as error:
            raise exception.MistralUnavailable(url=self._endpoint,
                                               reason=error)

    def create(self, vim_id, action_id, target, probe):
        """The first monitor of a VIM: its workflow and an execution.

        :returns: a Monitor naming the workflow and execution
        :raises: MistralUnavailable, MistralRequestFailed,
            MistralNotConfigured
        """
        workflow = self.ensure_workflow(vim_id)
        return self.start(vim_id, action_id, target, probe,
                          workflow_id=workflow.workflow_id)

    def ensure_workflow(self, vim_id):
        """The VIM's workflow, created unless it exists already.

        Two API nodes, or an API node and a reconciler, may make the first
        monitor of a VIM at once: whoever comes second finds the workflow
        there (Mistral answers 409) and shares it.

        :returns: a MonitorWorkflow
        """
        mistral = self._mistral()
        try:
            [wf] = self._call(
                'create the monitor workflow of VIM %s' % vim_id,
                mistral.workflows.create, definition.definition(vim_id))
            LOG.info('Monitor workflow of VIM %(vim)s created: %(wf)s',
                     {'vim': vim_id, 'wf': wf.id})
        except exception.MistralRequestFailed as error:
            if error.kwargs.get('status') != 409:
                raise
            wf = self._call(
                'look up the monitor workflow of VIM %s' % vim_id,
                mistral.workflows.get, definition.workflow_name(vim_id))
        return MonitorWorkflow(wf.id, wf.name,
                               _mistral_time(getattr(wf, 'created_at', None)))

    def start(self, vim_id, action_id, target, probe, workflow_id=None):
        """Start a monitor: a new execution of the VIM's workflow.

        :param workflow_id: the VIM's workflow; None to name it instead,
            which finds only the VIM's own workflow (never a per-monitor
            one of the former naming)
        :returns: a Monitor naming the workflow and execution
        :raises: MistralNotFound when the VIM's workflow does not exist,
            MistralUnavailable, MistralRequestFailed, MistralNotConfigured
        """
        mistral = self._mistral()
        execution = self._call(
            'start the monitor of VIM %s' % vim_id,
            mistral.executions.create,
            workflow_id or definition.workflow_name(vim_id),
            workflow_input=definition.workflow_input(
                vim_id, action_id, target, probe),
            description='tacker-vimmon monitor of VIM %s' % vim_id)
        monitor = Monitor(getattr(execution, 'workflow_id', None)
                          or workflow_id,
                          getattr(execution, 'workflow_name', None)
                          or definition.workflow_name(vim_id),
                          execution.id)
        LOG.info('Monitor %(action)s of VIM %(vim)s started: execution '
                 '%(ex)s of workflow %(wf)s',
                 {'action': action_id, 'vim': vim_id, 'ex': execution.id,
                  'wf': monitor.workflow_id})
        return monitor

    def delete_execution(self, execution_id):
        """Remove one monitor's execution; gone already is fine.

        Mistral does not stop the running action: it exits by itself at
        its next check-in, when the conductor answers 'bad_action'.
        """
        self._delete(self._mistral().executions.delete, execution_id,
                     force=True)

    def action_inputs(self, name=definition.ACTION_NAME):
        """The inputs Mistral says an action takes, as a tuple of names.

        :raises: MistralNotFound when Mistral does not know the action,
            MistralUnavailable, MistralRequestFailed, MistralNotConfigured
        """
        action = self._call('look up the action %s' % name,
                            self._mistral().actions.get, name)
        return tuple(part.strip().split('=')[0]
                     for part in (action.input or '').split(',')
                     if part.strip())

    def list_workflows(self):
        """Every monitor workflow Mistral holds, as MonitorWorkflow."""
        mistral = self._mistral()
        found = self._call('list workflows', mistral.workflows.list)
        return [MonitorWorkflow(wf.id, wf.name, _mistral_time(wf.created_at))
                for wf in found if definition.parse_name(wf.name)]

    def delete_workflow(self, workflow):
        """Remove a monitor workflow and every execution of it.

        :param workflow: its id, or its name; gone already is fine
        """
        mistral = self._mistral()
        by = ('workflow_id' if uuidutils.is_uuid_like(workflow)
              else 'workflow_name')
        executions = self._call('list the executions of %s' % workflow,
                                mistral.executions.list, **{by: workflow})
        for execution in executions:
            self._delete(mistral.executions.delete, execution.id, force=True)
        self._delete(mistral.workflows.delete, workflow)

    def _delete(self, method, identifier, **kwargs):
        try:
            self._call('delete %s' % identifier, method, identifier,
                       **kwargs)
        except exception.MistralNotFound:
            pass


def _mistral_time(value):
    """Mistral's UTC timestamps ('2026-11-30 10:00:00') as naive datetime."""
    if not value:
        return None
    return timeutils.normalize_time(
        timeutils.parse_isotime(value.replace(' ', 'T')))
