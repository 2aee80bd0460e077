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

"""The conductor as an oslo.service service.

oslo.service's threading backend runs the service in a worker process it
forks; the RPC transport and server are created in start(), inside that
worker, so no connection or thread crosses the fork.
"""

from oslo_log import log as logging
from oslo_service import service

from tacker_vimmon.common import notifications
from tacker_vimmon.common import rpc
from tacker_vimmon.conductor import credentials
from tacker_vimmon.conductor import manager
from tacker_vimmon.conductor import metrics
from tacker_vimmon.conductor import reconciler
from tacker_vimmon.workflow import lifecycle
from tacker_vimmon.workflow import mistral
from tacker_vimmon.workflow import rpcapi as wakeup_rpcapi

LOG = logging.getLogger(__name__)


class ConductorService(service.Service):
    """An RPC server on ``[conductor] topic``, named ``[DEFAULT] host``.

    :param decrypt: decrypt(auth_cred_secret, vim_id) -> a VIM's secrets
        (given by cmd/, which wires the registry in; None where this
        conductor cannot decrypt)
    """

    def __init__(self, conf, decrypt=None):
        super().__init__()
        self.conf = conf
        self.decrypt = decrypt
        self.server = None
        self.reconciler = None
        self.notifier = None
        self.metrics_server = None
        self.credentials = None

    def start(self):
        super().start()
        rpc.init(self.conf)
        # Counted here: each change is written by exactly one conductor.
        self.notifier = metrics.CountingNotifier(notifications.Notifier(
            self.conf, 'tacker-vimmon-conductor'))
        self.metrics_server = metrics.serve(self.conf)
        target = rpc.target(self.conf.conductor.topic, server=self.conf.host)
        self.server = rpc.get_server(
            target, [manager.ConductorManager(host=self.conf.host,
                                              notifier=self.notifier)])
        self.server.start()
        LOG.info('Conductor %(host)s serving topic %(topic)s on exchange '
                 '%(exchange)s', {'host': self.conf.host,
                                  'topic': self.conf.conductor.topic,
                                  'exchange': rpc.CONTROL_EXCHANGE})
        # A registry without monitoring has no monitors to keep alive.
        if self.conf.reconciler.enabled and self.conf.vim_monitor.enabled:
            self.reconciler = self._make_reconciler()
            self.reconciler.start()
        if self.conf.credential_check.interval and self.decrypt is not None:
            self.credentials = credentials.CredentialChecker(
                self.conf, self.decrypt, notifier=self.notifier)
            self.credentials.start()

    def _make_reconciler(self):
        monitors = mistral.MistralMonitors(self.conf)
        return reconciler.Reconciler(
            lifecycle.MonitorLifecycle(
                self.conf, monitors=monitors,
                wakeups=wakeup_rpcapi.MonitorWakeupAPI(),
                decrypt=self.decrypt, notifier=self.notifier),
            monitors, conf=self.conf, notifier=self.notifier)

    def stop(self, graceful=True):
        # First of all, no new calls: the broker gives them to the other
        # conductors (the reconciler's last pass may take a while).
        if self.server is not None:
            LOG.info('Conductor %s stopping; finishing calls in flight',
                     self.conf.host)
            rpc.stop_taking_calls(self.server)
        for worker in ('reconciler', 'credentials'):
            if getattr(self, worker) is not None:
                getattr(self, worker).stop()
                setattr(self, worker, None)
        # stop() ends the intake of new calls; wait() lets the calls in
        # flight finish and send their answers.
        if self.server is not None:
            self.server.stop()
            self.server.wait()
            self.server = None
        if self.notifier is not None:
            self.notifier.cleanup()
            self.notifier = None
        if self.metrics_server is not None:
            self.metrics_server.shutdown()
            self.metrics_server.server_close()
            self.metrics_server = None
        rpc.cleanup()
        super().stop(graceful)
        LOG.info('Conductor %s stopped', self.conf.host)
