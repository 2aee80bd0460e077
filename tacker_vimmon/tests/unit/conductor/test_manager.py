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

"""ConductorManager.update_vim and heartbeat on in-memory SQLite."""

import datetime

from oslo_messaging.notify import _impl_test
from oslo_messaging.rpc import dispatcher as rpc_dispatcher
from oslo_utils import timeutils

from tacker_vimmon.common import exception
from tacker_vimmon.common import notifications
from tacker_vimmon.common import rpc
from tacker_vimmon.conductor import manager
from tacker_vimmon.db import api as db_api
from tacker_vimmon.tests import base
from tacker_vimmon.tests import fixtures as vimmon_fixtures

ACTION = 'c0ffee00-0000-4000-8000-000000000001'
OLD_ACTION = 'c0ffee00-0000-4000-8000-000000000000'


class TestNotifications(base.DbTestCase):
    """Status changes told through oslo.messaging's test driver."""

    def setUp(self):
        super().setUp()
        rpc.register_messaging_opts(self.conf.conf)
        self.flags(transport_url='fake://')
        self.flags(group='oslo_messaging_notifications', driver=['test'])
        self.useFixture(base.fixtures.MonkeyPatch(
            'oslo_messaging.notify._impl_test.NOTIFICATIONS', []))
        notifier = notifications.Notifier(self.conf.conf,
                                          'tacker-vimmon-conductor')
        self.addCleanup(notifier.cleanup)
        self.manager = manager.ConductorManager(notifier=notifier)
        self.vim = db_api.vim_create(self.context,
                                     vimmon_fixtures.vim_values())
        db_api.vim_update(self.context, self.vim.id, {'action_id': ACTION})

    def sent(self):
        return [(entry[1]['event_type'], entry[1]['payload'])
                for entry in _impl_test.NOTIFICATIONS]

    def test_a_status_change_is_told_once_with_a_versioned_payload(self):
        for _ in range(2):
            self.manager.update_vim(
                self.context, vim_id=self.vim.id, status='UNREACHABLE',
                action_id=ACTION, reason='refused',
                details={'detail': 'Connection refused'})
        [(event_type, payload)] = self.sent()
        self.assertEqual('vim.status.update', event_type)
        self.assertEqual(('VimStatusPayload', '1.0', 'tacker_vimmon'), (
            payload['tacker_vimmon_object.name'],
            payload['tacker_vimmon_object.version'],
            payload['tacker_vimmon_object.namespace']))
        data = payload['tacker_vimmon_object.data']
        self.assertEqual({
            'vim_id': self.vim.id, 'name': self.vim.name,
            'project_id': 'project-a', 'type': 'openstack',
            'old_status': 'PENDING', 'new_status': 'UNREACHABLE',
            'reason': 'refused', 'detail': 'Connection refused'},
            {key: value for key, value in data.items()
             if key != 'changed_at'})
        self.assertRegex(data['changed_at'],
                         r'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$')
        self.assertEqual(('tacker-vimmon-conductor:%s' % self.conf.conf.host,
                          'INFO'),
                         (_impl_test.NOTIFICATIONS[0][1]['publisher_id'],
                          _impl_test.NOTIFICATIONS[0][1]['priority']))


class TestUpdateVim(base.DbTestCase):

    def setUp(self):
        super().setUp()
        self.manager = manager.ConductorManager()
        self.vim = db_api.vim_create(self.context,
                                     vimmon_fixtures.vim_values())
        db_api.vim_update(self.context, self.vim.id, {'action_id': ACTION})

    def update(self, status, action_id=ACTION, vim_id=None):
        return self.manager.update_vim(
            self.context, vim_id=vim_id or self.vim.id, status=status,
            action_id=action_id)

    def monitor_events(self):
        return [(e.resource_state, e.event_details, e.tenant_id)
                for e in db_api.event_get_all(
                    self.context, filters={'resource_id': self.vim.id,
                                           'event_type': 'MONITOR'})]

    def test_change_stores_status_and_one_event(self):
        self.assertEqual('REACHABLE', self.update('REACHABLE'))
        stored = db_api.vim_get(self.context, self.vim.id)
        self.assertEqual('REACHABLE', stored.status)
        self.assertIsNotNone(stored.last_check_in_at)
        self.assertEqual(
            [('REACHABLE', {'old_status': 'PENDING',
                            'new_status': 'REACHABLE'}, 'project-a')],
            self.monitor_events())

        self.assertEqual('UNREACHABLE', self.update('UNREACHABLE'))
        self.assertEqual('UNREACHABLE',
                         db_api.vim_get(self.context, self.vim.id).status)
        self.assertEqual({'old_status': 'REACHABLE',
                          'new_status': 'UNREACHABLE'},
                         self.monitor_events()[-1][1])

    def test_same_status_is_a_check_in_without_event(self):
        self.update('REACHABLE')
        first = db_api.vim_get(self.context, self.vim.id)
        self.assertEqual('REACHABLE', self.update('REACHABLE'))
        second = db_api.vim_get(self.context, self.vim.id)
        self.assertEqual(1, len(self.monitor_events()))
        self.assertGreaterEqual(second.last_check_in_at,
                                first.last_check_in_at)
        self.assertEqual(first.updated_at, second.updated_at)

    def test_a_reason_and_details_are_stored_and_in_the_event(self):
        checks = {'icmp': {'status': 'UNREACHABLE', 'reason': 'timeout'},
                  'api': {'status': 'REACHABLE', 'reason': 'ok',
                          'http_status': 300}}
        self.assertEqual('REACHABLE', self.manager.update_vim(
            self.context, vim_id=self.vim.id, status='REACHABLE',
            action_id=ACTION, reason='icmp_blocked',
            details={'rtt': 0.0042, 'detail': 'ICMP filtered',
                     'checks': checks}))
        stored = db_api.vim_get(self.context, self.vim.id)
        self.assertEqual(('icmp_blocked', 0.0042, checks),
                         (stored.status_reason, stored.rtt,
                          stored.monitor_details['checks']))
        self.assertIsNotNone(stored.status_since)
        self.assertEqual([('REACHABLE', {
            'old_status': 'PENDING', 'new_status': 'REACHABLE',
            'reason': 'icmp_blocked', 'rtt': 0.0042,
            'detail': 'ICMP filtered'}, 'project-a')], self.monitor_events())
        # The same status for another reason is an event too; the same
        # again is only a check-in.
        for _ in range(2):
            self.manager.update_vim(
                self.context, vim_id=self.vim.id, status='REACHABLE',
                action_id=ACTION, reason='ok', details={'rtt': 0.001})
        self.assertEqual(['icmp_blocked', 'ok'], [
            e[1]['reason'] for e in self.monitor_events()])
        self.assertEqual(stored.status_since, db_api.vim_get(
            self.context, self.vim.id).status_since)

    def test_a_bad_reason_is_refused_and_bad_details_dropped(self):
        self.assertInvalid('reason must be one of', vim_id=self.vim.id,
                           status='REACHABLE', action_id=ACTION,
                           reason='fine', details={})
        self.manager.update_vim(
            self.context, vim_id=self.vim.id, status='UNREACHABLE',
            action_id=ACTION, reason='refused',
            details={'rtt': 'slow', 'detail': 'x' * 5000,
                     'checks': {'api': 'y' * 5000}})
        stored = db_api.vim_get(self.context, self.vim.id)
        self.assertEqual((None, {}), (stored.rtt,
                                      stored.monitor_details['checks']))
        self.assertEqual(manager.MAX_REASON_LENGTH,
                         len(stored.monitor_details['detail']))

    def test_stale_action_gets_bad_action_and_writes_nothing(self):
        before = db_api.vim_get(self.context, self.vim.id)
        self.assertEqual('bad_action',
                         self.update('REACHABLE', action_id=OLD_ACTION))
        after = db_api.vim_get(self.context, self.vim.id)
        self.assertEqual(('PENDING', None),
                         (after.status, after.last_check_in_at))
        self.assertEqual(before.updated_at, after.updated_at)
        self.assertEqual([], self.monitor_events())

    def test_unknown_vim_gets_bad_action(self):
        self.assertEqual('bad_action', self.update(
            'REACHABLE', vim_id='00000000-0000-4000-8000-00000000dead'))

    def test_deleted_vim_gets_bad_action(self):
        db_api.vim_destroy(self.context, self.vim.id)
        self.assertEqual('bad_action', self.update('REACHABLE'))
        self.assertEqual([], self.monitor_events())

    def test_vim_without_action_gets_bad_action(self):
        db_api.vim_update(self.context, self.vim.id, {'action_id': None})
        self.assertEqual('bad_action', self.update('REACHABLE'))

    def assertInvalid(self, fragment, **kwargs):
        # The expected-exception wrapper is what keeps the RPC server from
        # logging a traceback; the cause is the error the caller gets.
        error = self.assertRaises(rpc_dispatcher.ExpectedException,
                                  self.manager.update_vim, self.context,
                                  **kwargs)
        cause = error.exc_info[1]
        self.assertIsInstance(cause, exception.InvalidRpcCall)
        self.assertEqual(400, cause.code)
        self.assertIn(fragment, cause.format_message())
        stored = db_api.vim_get(self.context, self.vim.id)
        self.assertEqual(('PENDING', None),
                         (stored.status, stored.last_check_in_at))
        self.assertEqual([], self.monitor_events())

    def test_invalid_status_is_refused(self):
        for status in ('PENDING', 'ERROR', 'reachable', ''):
            self.assertInvalid('status must be one of REACHABLE, '
                               'UNREACHABLE', vim_id=self.vim.id,
                               status=status, action_id=ACTION)

    def test_missing_argument_is_refused(self):
        self.assertInvalid('missing action_id, unexpected none',
                           vim_id=self.vim.id, status='REACHABLE')

    def test_extra_argument_is_refused(self):
        self.assertInvalid('missing none, unexpected force',
                           vim_id=self.vim.id, status='REACHABLE',
                           action_id=ACTION, force=True)

    def test_mistyped_argument_is_refused(self):
        self.assertInvalid('status must be str, not int',
                           vim_id=self.vim.id, status=1, action_id=ACTION)
        self.assertInvalid('action_id must be str, not NoneType',
                           vim_id=self.vim.id, status='REACHABLE',
                           action_id=None)

    def test_overlong_or_empty_id_is_refused(self):
        self.assertInvalid('vim_id must be a non-empty string',
                           vim_id='x' * 37, status='REACHABLE',
                           action_id=ACTION)
        self.assertInvalid('action_id must be a non-empty string',
                           vim_id=self.vim.id, status='REACHABLE',
                           action_id='')


HEARD = 'c0ffee00-0000-4000-8000-0000000000a1'
ALSO_HEARD = 'c0ffee00-0000-4000-8000-0000000000a2'
NOT_NAMED = 'c0ffee00-0000-4000-8000-0000000000a3'
LONG_AGO = datetime.datetime(2020, 1, 1, 12, 0, 0)


class TestUpdateVims(base.DbTestCase):

    def setUp(self):
        super().setUp()
        self.manager = manager.ConductorManager()
        self.vims = []
        for name in ('a', 'b'):
            vim = db_api.vim_create(self.context,
                                    vimmon_fixtures.vim_values(name=name))
            db_api.vim_update(self.context, vim.id, {'action_id': ACTION})
            self.vims.append(vim.id)

    def report(self, vim_id, status='REACHABLE', action_id=ACTION, **more):
        return dict(vim_id=vim_id, status=status, action_id=action_id,
                    **more)

    def test_each_report_is_stored_and_answered_in_order(self):
        answers = self.manager.update_vims(self.context, reports=[
            self.report(self.vims[0]),
            self.report(self.vims[1], 'UNREACHABLE', reason='timeout',
                        details={'rtt': None, 'detail': 'no reply'}),
            self.report('0' * 8 + self.vims[1][8:]),
            self.report(self.vims[0], action_id='stale'),
        ])
        self.assertEqual(['REACHABLE', 'UNREACHABLE', 'bad_action',
                          'bad_action'], answers)
        first, second = (db_api.vim_get(self.context, vim_id)
                         for vim_id in self.vims)
        self.assertEqual(('REACHABLE', None), (first.status,
                                               first.status_reason))
        self.assertEqual(('UNREACHABLE', 'timeout'),
                         (second.status, second.status_reason))
        self.assertEqual('no reply', db_api.event_get_all(
            self.context, filters={'resource_id': self.vims[1],
                                   'event_type': 'MONITOR'}
        )[-1].event_details['detail'])

    def test_a_bad_report_refuses_the_call_and_writes_nothing(self):
        for bad, says in (
                ('REACHABLE', 'report 1.*must be a mapping'),
                (self.report(self.vims[1], 'UP'), 'report 1.*status'),
                (self.report(self.vims[1], extra=1), 'report 1.*unexpected '
                 'extra'),
                ({'vim_id': self.vims[1], 'status': 'REACHABLE'},
                 'report 1.*missing action_id'),
                (self.report(self.vims[1], reason='bored'),
                 'report 1.*reason')):
            self.assertRegex(self.refusal(
                reports=[self.report(self.vims[0]), bad]), says)
        self.assertEqual(['PENDING', 'PENDING'],
                         [db_api.vim_get(self.context, vim_id).status
                          for vim_id in self.vims])

    def test_too_many_reports_are_refused(self):
        self.assertIn('at most %d reports' % manager.MAX_REPORTS,
                      self.refusal(reports=[self.report(self.vims[0])]
                                   * (manager.MAX_REPORTS + 1)))

    def test_reports_must_be_a_list(self):
        self.assertIn('reports must be list',
                      self.refusal(reports={'vim_id': self.vims[0]}))

    def refusal(self, **kwargs):
        """The message of the InvalidRpcCall (code 400) the call gets."""
        error = self.assertRaises(rpc_dispatcher.ExpectedException,
                                  self.manager.update_vims, self.context,
                                  **kwargs)
        cause = error.exc_info[1]
        self.assertIsInstance(cause, exception.InvalidRpcCall)
        self.assertEqual(400, cause.code)
        return cause.format_message()


class TestHeartbeat(base.DbTestCase):

    def setUp(self):
        super().setUp()
        self.manager = manager.ConductorManager()
        self.vims = {}
        for name, action_id in (('one', HEARD), ('two', ALSO_HEARD),
                                ('other', NOT_NAMED)):
            vim = db_api.vim_create(self.context, vimmon_fixtures.vim_values(
                name=name, action_id=action_id))
            # A known updated_at, which a heartbeat must leave alone.
            db_api.vim_update(self.context, vim.id, {'updated_at': LONG_AGO})
            self.vims[action_id] = vim.id

    def stored(self):
        return {action_id: db_api.vim_get(self.context, vim_id)
                for action_id, vim_id in self.vims.items()}

    def test_records_the_named_monitors_and_counts_the_wanted(self):
        before = timeutils.utcnow()
        self.assertEqual(2, self.manager.heartbeat(
            self.context, action_ids=[HEARD, ALSO_HEARD,
                                      'not-any-vims-action']))
        stored = self.stored()
        for action_id in (HEARD, ALSO_HEARD):
            self.assertGreaterEqual(stored[action_id].last_check_in_at,
                                    before)
        self.assertIsNone(stored[NOT_NAMED].last_check_in_at)
        self.assertEqual({LONG_AGO},
                         {vim.updated_at for vim in stored.values()})
        # Being alive is no event.
        self.assertEqual([], db_api.event_get_all(
            self.context, filters={'event_type': 'MONITOR'}))

    def test_an_empty_heartbeat_wants_nothing(self):
        self.assertEqual(0, self.manager.heartbeat(self.context,
                                                   action_ids=[]))
        self.assertEqual({None}, {vim.last_check_in_at
                                  for vim in self.stored().values()})

    def assertInvalid(self, fragment, **kwargs):
        error = self.assertRaises(rpc_dispatcher.ExpectedException,
                                  self.manager.heartbeat, self.context,
                                  **kwargs)
        cause = error.exc_info[1]
        self.assertIsInstance(cause, exception.InvalidRpcCall)
        self.assertEqual(400, cause.code)
        message = cause.format_message()
        self.assertIn('heartbeat', message)
        self.assertIn(fragment, message)
        for vim in self.stored().values():
            self.assertEqual((None, LONG_AGO),
                             (vim.last_check_in_at, vim.updated_at))

    def test_action_ids_must_be_a_list(self):
        for not_a_list in (HEARD, (HEARD,), {HEARD: 1}, None):
            self.assertInvalid('action_ids must be list, not %s'
                               % type(not_a_list).__name__,
                               action_ids=not_a_list)

    def test_each_id_must_be_a_short_non_empty_string(self):
        # A good id before the bad one is not recorded either.
        for bad in (1, None, [HEARD], '', 'x' * 37):
            self.assertInvalid('each of action_ids must be a non-empty '
                               'string of at most 36 characters',
                               action_ids=[HEARD, bad])

    def test_an_id_of_36_characters_is_fine(self):
        self.assertEqual(0, self.manager.heartbeat(
            self.context, action_ids=['x' * 36]))

    def test_too_many_ids_are_refused(self):
        self.assertInvalid(
            'at most %d action_ids per heartbeat, not %d'
            % (manager.MAX_HEARTBEAT_IDS, manager.MAX_HEARTBEAT_IDS + 1),
            action_ids=[HEARD] * (manager.MAX_HEARTBEAT_IDS + 1))

    def test_missing_or_extra_argument_is_refused(self):
        self.assertInvalid('missing action_ids, unexpected none')
        self.assertInvalid('missing none, unexpected vim_id',
                           action_ids=[HEARD], vim_id=self.vims[HEARD])


class TestMonitorFailed(base.DbTestCase):

    def setUp(self):
        super().setUp()
        self.manager = manager.ConductorManager()
        self.vim = db_api.vim_create(self.context, vimmon_fixtures.vim_values(
            action_id=ACTION, workflow_id='wf-1', execution_id='ex-1'))

    def failed(self, reason='probe setting count must be positive',
               action_id=ACTION, vim_id=None):
        return self.manager.monitor_failed(
            self.context, vim_id=vim_id or self.vim.id, action_id=action_id,
            reason=reason)

    def monitor_events(self):
        return [(e.resource_state, e.event_details)
                for e in db_api.event_get_all(
                    self.context, filters={'resource_id': self.vim.id,
                                           'event_type': 'MONITOR'})]

    def test_the_current_action_records_error_reason_and_event(self):
        self.assertEqual('ERROR', self.failed())
        stored = db_api.vim_get(self.context, self.vim.id)
        self.assertEqual(
            ('ERROR', 'probe setting count must be positive', 1, ACTION),
            (stored.status, stored.monitor_error, stored.monitor_failures,
             stored.action_id))
        self.assertEqual(
            [('ERROR', {'monitor': 'start failed', 'action_id': ACTION,
                        'reason': 'probe setting count must be positive'})],
            self.monitor_events())
        self.assertEqual('ERROR', self.failed('again'))
        self.assertEqual(2, db_api.vim_get(self.context,
                                           self.vim.id).monitor_failures)

    def test_a_stale_action_gets_bad_action_and_writes_nothing(self):
        before = db_api.vim_get(self.context, self.vim.id)
        self.assertEqual('bad_action', self.failed(action_id=OLD_ACTION))
        self.assertEqual('bad_action', self.failed(
            vim_id='00000000-0000-4000-8000-00000000dead'))
        after = db_api.vim_get(self.context, self.vim.id)
        self.assertEqual(('PENDING', None, 0, before.updated_at),
                         (after.status, after.monitor_error,
                          after.monitor_failures, after.updated_at))
        self.assertEqual([], self.monitor_events())

    def test_a_long_reason_is_cut_and_an_empty_one_named(self):
        self.failed('x' * 5000)
        stored = db_api.vim_get(self.context, self.vim.id).monitor_error
        self.assertEqual(manager.MAX_REASON_LENGTH, len(stored))
        self.assertTrue(stored.endswith('...'))
        self.failed('  ')
        self.assertEqual('no reason given', db_api.vim_get(
            self.context, self.vim.id).monitor_error)

    def assertInvalid(self, fragment, **kwargs):
        error = self.assertRaises(rpc_dispatcher.ExpectedException,
                                  self.manager.monitor_failed, self.context,
                                  **kwargs)
        cause = error.exc_info[1]
        self.assertIsInstance(cause, exception.InvalidRpcCall)
        self.assertIn('Invalid call of monitor_failed: ',
                      cause.format_message())
        self.assertIn(fragment, cause.format_message())
        stored = db_api.vim_get(self.context, self.vim.id)
        self.assertEqual(('PENDING', 0),
                         (stored.status, stored.monitor_failures))
        self.assertEqual([], self.monitor_events())

    def test_bad_arguments_are_refused(self):
        self.assertInvalid('missing reason, unexpected none',
                           vim_id=self.vim.id, action_id=ACTION)
        self.assertInvalid('missing none, unexpected status',
                           vim_id=self.vim.id, action_id=ACTION,
                           reason='r', status='ERROR')
        self.assertInvalid('reason must be str, not dict',
                           vim_id=self.vim.id, action_id=ACTION,
                           reason={'error': 'r'})
        self.assertInvalid('action_id must be str, not NoneType',
                           vim_id=self.vim.id, action_id=None, reason='r')
        self.assertInvalid('vim_id must be a non-empty string',
                           vim_id='', action_id=ACTION, reason='r')
        self.assertInvalid('action_id must be a non-empty string',
                           vim_id=self.vim.id, action_id='a' * 37,
                           reason='r')
