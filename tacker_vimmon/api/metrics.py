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

"""/metrics on the API server: every VIM's state, read from the database.

These gauges are read from the VIM rows at each scrape, with the status
the API shows (UNKNOWN and AUTH_FAILED derived as for a GET), so every API
node serves the same values and no conductor counts them: scrape one API
node (or all, and take ``max`` across instances). Each conductor's own
counters are served by the conductor (conductor/metrics.py).
"""

import calendar
import datetime

from oslo_log import log as logging
from oslo_utils import timeutils
import prometheus_client
from prometheus_client import core as prometheus_core
from prometheus_client import registry as prometheus_registry
import webob

from tacker_vimmon.api import middleware
from tacker_vimmon.common import context as vimmon_context
from tacker_vimmon.common import states
from tacker_vimmon.db import api as db_api

LOG = logging.getLogger(__name__)

METRICS_PATH = '/metrics'
LABELS = ['vim_id', 'name', 'project']


def _timestamp(value):
    return calendar.timegm(value.utctimetuple()) + value.microsecond / 1e6


def _certificate_expiry(monitor):
    text = (monitor.get('checks') or {}).get('api', {}).get(
        'cert_expires_at')
    if not text:
        return None
    try:
        expires = datetime.datetime.strptime(text, '%Y-%m-%dT%H:%M:%SZ')
    except (TypeError, ValueError):
        return None
    return _timestamp(expires)


class VimCollector(prometheus_registry.Collector):
    """The VIM gauges, made from the database at each scrape.

    :param registry: the VIM registry (registry.api.VimRegistry), for the
        status the API shows
    """

    def __init__(self, registry, monitoring):
        self._registry = registry
        self._monitoring = monitoring

    def describe(self):
        # No describe at registration: collect() would query the database.
        return []

    def collect(self):
        gauge = prometheus_core.GaugeMetricFamily
        status = gauge('tacker_vimmon_vim_status',
                       'The status the API shows for each VIM: 1 for its '
                       'status, 0 for the others.',
                       labels=LABELS + ['status'])
        reason = gauge('tacker_vimmon_vim_reason',
                       'Why each VIM has its status: 1 for the reason it '
                       'shows now.', labels=LABELS + ['reason'])
        rtt = gauge('tacker_vimmon_vim_rtt_seconds',
                    'The last round-trip time to each VIM (ICMP echo, else '
                    'the API check\'s TCP connect).', labels=LABELS)
        age = gauge('tacker_vimmon_vim_check_in_age_seconds',
                    'Seconds since each VIM\'s monitor was last heard from.',
                    labels=LABELS)
        expiry = gauge('tacker_vimmon_vim_certificate_expiry_timestamp_'
                       'seconds', 'When the certificate of each https VIM\'s '
                       'API expires (Unix time).', labels=LABELS)
        credentials = gauge('tacker_vimmon_vim_credentials_ok',
                            'Whether each VIM\'s stored credentials worked at '
                            'the last credential check (1) or were refused '
                            '(0); absent until checked.', labels=LABELS)
        counts = gauge('tacker_vimmon_vims',
                       'VIMs by the status the API shows.',
                       labels=['status'])
        unknown = gauge('tacker_vimmon_vims_unknown',
                        'VIMs whose monitor is not heard from (UNKNOWN).')
        unmonitored = gauge('tacker_vimmon_vims_unmonitored',
                            'VIMs without a running monitor: none set up, '
                            'failed to set up (ERROR), or monitoring off.')
        by_status = dict.fromkeys(states.ALL_STATUSES, 0)
        without = 0
        now = timeutils.utcnow()
        context = vimmon_context.get_admin_context()
        for vim in db_api.vim_get_all(context):
            labels = [vim.id, vim.name, vim.tenant_id]
            shown, monitor = self._registry.monitor_state(vim, now)
            by_status[shown] = by_status.get(shown, 0) + 1
            for name in states.ALL_STATUSES:
                status.add_metric(labels + [name], int(name == shown))
            if monitor.get('reason'):
                reason.add_metric(labels + [monitor['reason']], 1)
            if vim.rtt is not None:
                rtt.add_metric(labels, vim.rtt)
            if vim.last_check_in_at is not None:
                age.add_metric(labels, (now - vim.last_check_in_at)
                               .total_seconds())
            expires = _certificate_expiry(monitor)
            if expires is not None:
                expiry.add_metric(labels, expires)
            if vim.auth_status is not None:
                credentials.add_metric(
                    labels, int(vim.auth_status != states.REASON_AUTH_FAILED))
            if (not self._monitoring or shown == states.ERROR
                    or not vim.workflow_id):
                without += 1
        for name, count in by_status.items():
            counts.add_metric([name], count)
        unknown.add_metric([], by_status[states.UNKNOWN])
        unmonitored.add_metric([], without)
        return [status, reason, rtt, age, expiry, credentials, counts,
                unknown, unmonitored]


class Metrics(middleware.Middleware):
    """GET /metrics: the VIM gauges in Prometheus' text format, no auth."""

    def __init__(self, application, registry, monitoring):
        super().__init__(application)
        self._metrics = prometheus_client.CollectorRegistry(
            auto_describe=False)
        self._metrics.register(VimCollector(registry, monitoring))

    def __call__(self, environ, start_response):
        if environ.get('PATH_INFO') != METRICS_PATH:
            return self.application(environ, start_response)
        if environ['REQUEST_METHOD'] not in ('GET', 'HEAD'):
            response = middleware.fault_response(
                405, 'HTTPMethodNotAllowed', 'Use GET on %s.' % METRICS_PATH)
        else:
            response = webob.Response(
                body=prometheus_client.generate_latest(self._metrics),
                content_type=prometheus_client.CONTENT_TYPE_LATEST.split(
                    ';')[0], charset='utf-8')
        return response(environ, start_response)
