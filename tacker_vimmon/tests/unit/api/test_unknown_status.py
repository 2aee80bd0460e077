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

"""A VIM whose monitor is not heard from shows UNKNOWN (Mistral scripted)."""

import datetime
from unittest import mock

from oslo_utils import timeutils
import sqlalchemy as sa

from tacker_vimmon.api import app
from tacker_vimmon.conductor import reconciler
from tacker_vimmon.db import api as db_api
from tacker_vimmon.db import models
from tacker_vimmon.registry import api as registry_api
from tacker_vimmon.tests import base
from tacker_vimmon.tests import fixtures as vimmon_fixtures
from tacker_vimmon.workflow import lifecycle

SECOND = datetime.timedelta(seconds=1)


def openstack_vim(name):
    return {'vim': {
        'name': name, 'type': 'openstack',
        'auth_url': 'http://127.0.0.2:5000',
        'auth_cred': {'username': 'u', 'password': 'secret-pw'},
        'vim_project': {'name': 'nfv'}}}


class TestMonitorState(base.TestCase):
    """VimRegistry.monitor_state with an explicit ``now``."""

    def setUp(self):
        super().setUp()
        self.now = datetime.datetime(2024, 5, 1, 12, 0, 0)
        self.flags(group='vim_monitor', enabled=True)
        self.flags(group='reconciler', silent_after=20)

    def registry(self):
        return registry_api.VimRegistry(base.CONF, mock.create_autospec(
            lifecycle.MonitorLifecycle, instance=True))

    def vim(self, status='REACHABLE', action_id='a1', **columns):
        values = dict(status=status, action_id=action_id,
                      created_at=self.now - 3600 * SECOND, updated_at=None,
                      last_check_in_at=None)
        values.update(columns)
        return models.Vim(**values)

    def state(self, vim, keys=('last_check_in_at', 'last_status', 'reason',
                               'detail')):
        """monitor_state(vim) with only these keys of monitor."""
        status, monitor = self.registry().monitor_state(vim, self.now)
        return status, {key: monitor[key] for key in keys if key in monitor}

    def test_heard_within_the_window_shows_the_stored_status(self):
        for ago in (0, 19, 20):
            heard = self.now - ago * SECOND
            self.assertEqual(('REACHABLE', {'last_check_in_at': heard,
                                            'reason': 'ok', 'detail': None}),
                             self.state(self.vim(last_check_in_at=heard,
                                                 status_reason='ok')), ago)

    def test_past_the_window_shows_unknown_with_what_is_known(self):
        heard = self.now - 21 * SECOND
        self.assertEqual(('UNKNOWN', {
            'last_check_in_at': heard, 'last_status': 'UNREACHABLE',
            'reason': 'monitor_silent',
            'detail': 'monitor not heard from for 21 s (window 20 s)'}),
            self.state(self.vim('UNREACHABLE', last_check_in_at=heard)))

    def test_never_heard_is_judged_from_the_last_change_of_the_row(self):
        registry = self.registry()
        set_up = self.now - 30 * SECOND
        self.assertEqual(('UNKNOWN', {
            'last_check_in_at': None, 'last_status': 'PENDING',
            'reason': 'monitor_silent',
            'detail': 'monitor not heard from since it was set up 30 s '
                      'ago'}),
            self.state(self.vim('PENDING', updated_at=set_up)))
        self.assertEqual('PENDING', registry.monitor_state(
            self.vim('PENDING', updated_at=self.now - 10 * SECOND),
            self.now)[0])
        # Never changed since it was created.
        self.assertEqual('UNKNOWN', registry.monitor_state(
            self.vim('PENDING'), self.now)[0])

    def test_recorded_silent_stays_unknown_until_heard_whatever_the_time(self):
        silent_since = self.now - 40 * SECOND
        # Repaired a moment ago: the row just changed, nothing heard yet.
        self.assertEqual(('UNKNOWN', {
            'last_check_in_at': None, 'last_status': 'PENDING',
            'reason': 'monitor_silent',
            'detail': 'monitor silent since %s; its replacement has not '
                      'been heard from yet' % silent_since.isoformat(' ')}),
            self.state(self.vim(
                'PENDING', updated_at=self.now - SECOND,
                silent_since=silent_since.replace(microsecond=0))))

    def test_error_and_unmonitored_vims_keep_their_status(self):
        registry = self.registry()
        self.assertEqual('ERROR', registry.monitor_state(
            self.vim('ERROR', monitor_error='Mistral down'), self.now)[0])
        self.assertEqual('PENDING', registry.monitor_state(
            self.vim('PENDING', action_id=None), self.now)[0])

    def test_the_window_is_silent_after(self):
        self.flags(group='reconciler', silent_after=100)
        self.assertEqual('REACHABLE', self.registry().monitor_state(
            self.vim(last_check_in_at=self.now - 60 * SECOND), self.now)[0])

    def test_with_monitoring_off_nothing_is_unknown(self):
        self.flags(group='vim_monitor', enabled=False)
        self.assertEqual(('REACHABLE', {'last_check_in_at': None,
                                        'reason': None, 'detail': None}),
                         self.state(self.vim()))


class TestUnknownStatus(base.ApiTestCase):

    def setUp(self):
        super().setUp()
        self.flags(group='vim', validate_credentials=False)
        self.flags(group='vim_monitor', enabled=True)
        self.flags(group='reconciler', silent_after=20)
        scripted = vimmon_fixtures.ScriptedLifecycle(self.conf.conf)
        self.monitors, self.lifecycle = scripted.monitors, scripted.lifecycle
        self.app = self.make_app()

    def make_app(self):
        # The registry reads the window when it is made.
        return app.setup_app(self.conf.conf, self.lifecycle)

    def register(self, name='os'):
        response = self.request('POST', '/v1.0/vims', openstack_vim(name))
        self.assertEqual(201, response.status_int, response.text)
        vim = response.json['vim']
        # Just set up: not silent.
        self.assertEqual(('PENDING', None, 'not_checked_yet'),
                         (vim['status'], vim['monitor']['last_check_in_at'],
                          vim['monitor']['reason']))
        self.assertIsNotNone(db_api.vim_get(self.context,
                                            vim['id']).action_id)
        return vim['id']

    def write(self, vim_id, **columns):
        """Move time: write the monitor's columns (updated_at kept)."""
        columns.setdefault('updated_at', models.Vim.updated_at)
        with self.db.engine.begin() as connection:
            connection.execute(sa.update(models.Vim).where(
                models.Vim.id == vim_id).values(**columns))

    def show(self, vim_id):
        response = self.request('GET', '/v1.0/vims/%s' % vim_id)
        self.assertEqual(200, response.status_int, response.text)
        return response.json['vim']

    def listed(self, query):
        response = self.request('GET', '/v1.0/vims?' + query)
        self.assertEqual(200, response.status_int, response.text)
        return sorted(vim['id'] for vim in response.json['vims'])

    @staticmethod
    def shown_time(value):
        return value.replace(microsecond=0).isoformat(' ')

    def heard(self, vim_id, seconds_ago, status='REACHABLE'):
        heard = timeutils.utcnow() - seconds_ago * SECOND
        self.write(vim_id, status=status, last_check_in_at=heard)
        return heard

    def test_heard_within_the_window_shows_the_stored_status(self):
        vim_id = self.register()
        heard = self.heard(vim_id, 5)
        vim = self.show(vim_id)
        self.assertEqual('REACHABLE', vim['status'])
        self.assertEqual(self.shown_time(heard),
                         vim['monitor']['last_check_in_at'])
        self.assertNotIn('last_status', vim['monitor'])

    def test_past_the_window_shows_unknown_and_the_last_status(self):
        vim_id = self.register()
        heard = self.heard(vim_id, 60, status='UNREACHABLE')
        vim = self.show(vim_id)
        self.assertEqual('UNKNOWN', vim['status'])
        monitor = vim['monitor']
        self.assertEqual(
            ('UNREACHABLE', self.shown_time(heard)),
            (monitor['last_status'], monitor['last_check_in_at']))
        self.assertEqual('monitor_silent', monitor['reason'])
        self.assertRegex(monitor['detail'],
                         r'^monitor not heard from for 6\d s '
                         r'\(window 20 s\)$')
        # The stored row is as it was: UNKNOWN is only shown.
        self.assertEqual('UNREACHABLE',
                         db_api.vim_get(self.context, vim_id).status)

    def test_a_monitor_never_heard_from_is_unknown_past_the_window(self):
        vim_id = self.register()
        self.write(vim_id, updated_at=timeutils.utcnow() - 60 * SECOND)
        vim = self.show(vim_id)
        self.assertEqual('UNKNOWN', vim['status'])
        self.assertEqual(None, vim['monitor']['last_check_in_at'])
        self.assertEqual('PENDING', vim['monitor']['last_status'])
        self.assertIn('since it was set up', vim['monitor']['detail'])

    def test_a_repaired_silent_vim_is_unknown_until_the_new_monitor_is_heard(
            self):
        vim_id = self.register()
        self.heard(vim_id, 60)
        vim = db_api.vim_get(self.context, vim_id)
        reconciler.Reconciler(self.lifecycle, self.monitors.api).run_once(
            self.context, orphans=False)
        repaired = db_api.vim_get(self.context, vim_id)
        self.assertNotEqual(vim.action_id, repaired.action_id)
        self.assertIsNotNone(repaired.silent_since)
        shown = self.show(vim_id)
        self.assertEqual(('UNKNOWN', 'PENDING'), (
            shown['status'], shown['monitor']['last_status']))
        self.assertIn('its replacement has not been heard from yet',
                      shown['monitor']['detail'])
        self.assertEqual([vim_id], self.listed('status=UNKNOWN'))
        # The new monitor's first heartbeat.
        db_api.vim_monitors_heard(self.context, [repaired.action_id])
        self.assertEqual('PENDING', self.show(vim_id)['status'])
        self.assertEqual([], self.listed('status=UNKNOWN'))

    def test_an_error_vim_stays_error(self):
        vim_id = self.register()
        self.write(vim_id, status='ERROR', monitor_error='Mistral down',
                   workflow_id=None,
                   last_check_in_at=timeutils.utcnow() - 600 * SECOND,
                   updated_at=timeutils.utcnow() - 600 * SECOND)
        vim = self.show(vim_id)
        self.assertEqual('ERROR', vim['status'])
        self.assertNotIn('last_status', vim['monitor'])
        self.assertEqual(('monitor_failed', 'Mistral down'),
                         (vim['monitor']['reason'], vim['monitor']['detail']))

    def test_with_monitoring_off_nothing_is_ever_unknown(self):
        vim_id = self.register()
        self.heard(vim_id, 600)
        self.assertEqual('UNKNOWN', self.show(vim_id)['status'])
        self.flags(group='vim_monitor', enabled=False)
        self.app = self.make_app()
        vim = self.show(vim_id)
        self.assertEqual('REACHABLE', vim['status'])
        self.assertNotEqual('monitor_silent', vim['monitor']['reason'])
        self.assertEqual([], self.listed('status=UNKNOWN'))

    def test_the_list_filters_on_the_status_shown(self):
        fresh = self.register('fresh')
        silent = self.register('silent')
        failed = self.register('failed')
        self.heard(fresh, 1)
        self.heard(silent, 60)
        self.write(failed, status='ERROR', monitor_error='Mistral down',
                   updated_at=timeutils.utcnow() - 600 * SECOND)
        self.assertEqual([silent], self.listed('status=UNKNOWN'))
        self.assertEqual([fresh], self.listed('status=REACHABLE'))
        self.assertEqual([failed], self.listed('status=ERROR'))
        self.assertEqual(sorted([fresh, silent, failed]), self.listed(''))
        # With other filters and fields too.
        response = self.request('GET', '/v1.0/vims?status=UNKNOWN'
                                '&name=silent&fields=id&fields=status')
        self.assertEqual([{'id': silent, 'status': 'UNKNOWN'}],
                         response.json['vims'])
        self.assertEqual([], self.listed('status=UNKNOWN&name=fresh'))
