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
    """Creates and removes the Mistral workflow and execution of monitors."""

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
            raise exception.MistralRequestFailed(
                operation=operation, status=error.error_code,
                reason=error.error_message)
        except ks_exc.ClientException as error:
            raise exception.MistralUnavailable(url=self._endpoint,
                                               reason=error)

    def create(self, vim_id, action_id, target, probe):
        """Create and start the monitor of one VIM.

        :returns: a Monitor naming the workflow and execution
        :raises: MistralUnavailable, MistralRequestFailed,
            MistralNotConfigured
        """
        mistral = self._mistral()
        created = self._call(
            'create the monitor workflow of VIM %s' % vim_id,
            mistral.workflows.create,
            definition.definition(vim_id, action_id))
        wf = created[0]
        try:
            execution = self._call(
                'start the monitor of VIM %s' % vim_id,
                mistral.executions.create, wf.id,
                workflow_input=definition.workflow_input(
                    vim_id, action_id, target, probe),
                description='tacker-vimmon monitor of VIM %s' % vim_id)
        except exception.TackerVimmonException:
            # A workflow that never ran is no use to anyone.
            self._delete_quietly(mistral.workflows.delete, wf.id)
            raise
        LOG.info('Monitor of VIM %(vim)s started: workflow %(wf)s, '
                 'execution %(ex)s', {'vim': vim_id, 'wf': wf.name,
                                      'ex': execution.id})
        return Monitor(wf.id, wf.name, execution.id)

    def delete(self, workflow_id, execution_id):
        """Remove a monitor's execution and workflow; gone already is fine.

        Mistral does not stop the running action: it exits by itself at
        its next check-in, when the conductor answers 'bad_action'.
        """
        mistral = self._mistral()
        if execution_id:
            self._delete(mistral.executions.delete, execution_id,
                         force=True)
        if workflow_id:
            self._delete(mistral.workflows.delete, workflow_id)

    def list_workflows(self):
        """Every monitor workflow Mistral holds, as MonitorWorkflow."""
        mistral = self._mistral()
        found = self._call('list workflows', mistral.workflows.list)
        return [MonitorWorkflow(wf.id, wf.name, _mistral_time(wf.created_at))
                for wf in found if definition.parse_name(wf.name)]

    def delete_workflow(self, workflow_id):
        """Remove a monitor workflow and every execution of it."""
        mistral = self._mistral()
        executions = self._call('list the executions of %s' % workflow_id,
                                mistral.executions.list,
                                workflow_id=workflow_id)
        for execution in executions:
            self._delete(mistral.executions.delete, execution.id, force=True)
        self._delete(mistral.workflows.delete, workflow_id)

    def _delete(self, method, identifier, **kwargs):
        try:
            self._call('delete %s' % identifier, method, identifier,
                       **kwargs)
        except exception.MistralRequestFailed as error:
            if error.kwargs.get('status') != 404:
                raise

    def _delete_quietly(self, method, identifier):
        try:
            self._delete(method, identifier)
        except exception.TackerVimmonException as error:
            LOG.warning('Could not remove %(id)s from Mistral: %(error)s',
                        {'id': identifier, 'error': error})


def _mistral_time(value):
    """Mistral's UTC timestamps ('2026-11-30 10:00:00') as naive datetime."""
    if not value:
        return None
    return timeutils.normalize_time(
        timeutils.parse_isotime(value.replace(' ', 'T')))
