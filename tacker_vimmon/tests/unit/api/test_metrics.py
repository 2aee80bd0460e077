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

"""/metrics of the API server: the VIM gauges, from the database."""

from oslo_utils import timeutils
from prometheus_client import parser

from tacker_vimmon.api import app
from tacker_vimmon.db import api as db_api
from tacker_vimmon.tests import base
from tacker_vimmon.tests import fixtures as vimmon_fixtures


class TestMetrics(base.ApiTestCase):

    def setUp(self):
        super().setUp()
        self.flags(group='metrics', api_enabled=True)
        self.flags(group='vim_monitor', enabled=True)
        scripted = vimmon_fixtures.ScriptedLifecycle(self.conf.conf)
        self.app = app.setup_app(self.conf.conf, scripted.lifecycle)

    def samples(self):
        response = self.request('GET', '/metrics')
        self.assertEqual(200, response.status_int, response.text)
        self.assertEqual('text/plain', response.content_type)
        found = {}
        for family in parser.text_string_to_metric_families(response.text):
            for sample in family.samples:
                found.setdefault(sample.name, []).append(
                    (sample.labels, sample.value))
        return found

    def vim(self, name, **columns):
        vim = db_api.vim_create(self.context, vimmon_fixtures.vim_values(
            name=name, workflow_id='wf-' + name, action_id='a-' + name))
        columns.setdefault('last_check_in_at', timeutils.utcnow())
        db_api.vim_update(self.context, vim.id, columns)
        return vim.id

    def test_the_gauges_of_each_vim_and_the_counts(self):
        up = self.vim('up', status='REACHABLE', status_reason='ok', rtt=0.002,
                      monitor_details={'checks': {'api': {
                          'cert_expires_at': '2027-01-02T03:04:05Z'}}})
        down = self.vim('down', status='UNREACHABLE', status_reason='refused')
        refused = self.vim('refused', status='REACHABLE', status_reason='ok',
                           auth_status='auth_failed')
        self.vim('broken', status='ERROR', monitor_error='Mistral down',
                 workflow_id=None)
        found = self.samples()
        status = {(labels['name'], labels['status']): value
                  for labels, value in found['tacker_vimmon_vim_status']}
        self.assertEqual(1, status[('up', 'REACHABLE')])
        self.assertEqual(0, status[('up', 'UNREACHABLE')])
        self.assertEqual(1, status[('down', 'UNREACHABLE')])
        self.assertEqual(1, status[('refused', 'AUTH_FAILED')])
        self.assertEqual(0, status[('refused', 'REACHABLE')])
        self.assertIn(({'vim_id': down, 'name': 'down',
                        'project': 'project-a', 'reason': 'refused'}, 1),
                      found['tacker_vimmon_vim_reason'])
        self.assertEqual([({'vim_id': up, 'name': 'up',
                            'project': 'project-a'}, 0.002)],
                         found['tacker_vimmon_vim_rtt_seconds'])
        self.assertEqual([1798859045.0], [value for _l, value in found[
            'tacker_vimmon_vim_certificate_expiry_timestamp_seconds']])
        self.assertEqual([({'vim_id': refused, 'name': 'refused',
                            'project': 'project-a'}, 0)],
                         found['tacker_vimmon_vim_credentials_ok'])
        counts = {labels['status']: value
                  for labels, value in found['tacker_vimmon_vims']}
        self.assertEqual({'REACHABLE': 1, 'UNREACHABLE': 1, 'AUTH_FAILED': 1,
                          'ERROR': 1, 'UNKNOWN': 0, 'PENDING': 0}, counts)
        self.assertEqual([({}, 1)], found['tacker_vimmon_vims_unmonitored'])
        self.assertEqual([({}, 0)], found['tacker_vimmon_vims_unknown'])
        ages = [value for _l, value in found[
            'tacker_vimmon_vim_check_in_age_seconds']]
        self.assertEqual(4, len(ages))
        self.assertLess(max(ages), 60)

    def test_a_silent_monitor_counts_unknown(self):
        self.vim('quiet', status='REACHABLE',
                 last_check_in_at=timeutils.utcnow().replace(year=2020))
        found = self.samples()
        self.assertEqual([({}, 1)], found['tacker_vimmon_vims_unknown'])

    def test_off_by_default_and_get_only(self):
        self.assertEqual(405, self.request('POST', '/metrics').status_int)
        self.flags(group='metrics', api_enabled=False)
        self.app = app.setup_app(self.conf.conf)
        self.assertEqual(404, self.request('GET', '/metrics').status_int)
