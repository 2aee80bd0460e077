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

"""A conductor's own counters, for Prometheus.

Each conductor process counts what it did itself: the reports it stored,
how long storing took, the status changes it wrote, its reconciler's
repairs and its credential checks. A report, a change or a repair is done
by exactly one conductor, so the counters of all conductors add up
without double counting: sum them in Prometheus (``sum(rate(...))``). The
VIMs' own state (status, round-trip time...) is not here but on the API
server's /metrics, read from the database (api/metrics.py).
"""

import errno

from oslo_log import log as logging
import prometheus_client

LOG = logging.getLogger(__name__)

REGISTRY = prometheus_client.CollectorRegistry()

REPORTS = prometheus_client.Counter(
    'tacker_vimmon_reports', 'Monitor reports (and check-ins) this '
    'conductor answered, by result: stored, or bad_action for a monitor '
    'that is not wanted.', ['result'], registry=REGISTRY)
REPORT_SECONDS = prometheus_client.Histogram(
    'tacker_vimmon_report_duration_seconds', 'Seconds to store a monitor '
    'report, or the reports of one update_vims call, from its arrival to '
    'its answer (group commit included).',
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5,
             5, 10), registry=REGISTRY)
STATUS_CHANGES = prometheus_client.Counter(
    'tacker_vimmon_status_changes', 'Changes of a VIM\'s status (as the '
    'API shows it) that this conductor wrote, by the new status.',
    ['new_status'], registry=REGISTRY)
REPAIRS = prometheus_client.Counter(
    'tacker_vimmon_reconciler_repairs', 'Monitors this conductor\'s '
    'reconciler re-created, by result: repaired, lost (another writer '
    'changed the VIM first) or failed.', ['result'], registry=REGISTRY)
SILENCES = prometheus_client.Counter(
    'tacker_vimmon_monitors_silenced', 'Monitors this conductor recorded as '
    'silent (their VIM then shows UNKNOWN).', registry=REGISTRY)
CREDENTIAL_CHECKS = prometheus_client.Counter(
    'tacker_vimmon_credential_checks', 'Credential checks this conductor '
    'ran, by result: ok, auth_failed, or unreachable (no verdict).',
    ['result'], registry=REGISTRY)


class CountingNotifier:
    """A notifier that counts the status changes it is told of."""

    def __init__(self, notifier):
        self._notifier = notifier

    @property
    def enabled(self):
        return self._notifier.enabled

    def status_changed(self, context, vim, old_status, new_status,
                       reason=None, detail=None):
        if old_status != new_status:
            STATUS_CHANGES.labels(new_status).inc()
        self._notifier.status_changed(context, vim, old_status, new_status,
                                      reason, detail)

    def vim_changed(self, *args, **kwargs):
        self._notifier.vim_changed(*args, **kwargs)

    def cleanup(self):
        self._notifier.cleanup()


def serve(conf):
    """Serve REGISTRY on [metrics] conductor_port, or the next free port.

    :returns: the HTTP server (shutdown() it), or None when off
    """
    port = conf.metrics.conductor_port
    if not port:
        return None
    host = conf.metrics.conductor_bind_host
    for candidate in range(port, port + conf.conductor.workers):
        try:
            server, _thread = prometheus_client.start_http_server(
                candidate, addr=host, registry=REGISTRY)
        except OSError as error:
            if error.errno != errno.EADDRINUSE:
                raise
            continue
        LOG.info('Conductor metrics on http://%(host)s:%(port)d/metrics',
                 {'host': host, 'port': candidate})
        return server
    LOG.warning('No free port for the conductor\'s metrics in %(first)d-'
                '%(last)d on %(host)s; serving none',
                {'first': port, 'last': port + conf.conductor.workers - 1,
                 'host': host})
    return None
