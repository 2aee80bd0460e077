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

"""The credential check on in-memory SQLite, the VIM's answer scripted."""

import datetime

from oslo_utils import timeutils

from tacker_vimmon.common import exception
from tacker_vimmon.conductor import credentials
from tacker_vimmon.db import api as db_api
from tacker_vimmon.tests import base
from tacker_vimmon.tests import fixtures as vimmon_fixtures


class TestCredentialChecker(base.DbTestCase):

    def setUp(self):
        super().setUp()
        self.flags(group='credential_check', interval=600, batch_size=50)
        self.proven = []
        self.answer = True
        self.useFixture(base.fixtures.MockPatch(
            'tacker_vimmon.vim.prove_credentials', side_effect=self.prove))
        self.checker = credentials.CredentialChecker(
            self.conf.conf, decrypt=lambda secret, vim_id: {
                'password': 'pw-of-' + vim_id})

    def prove(self, vim_type, auth_url, auth_cred, vim_project, timeout):
        self.proven.append(auth_cred['password'])
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer

    def vim(self, name, **columns):
        vim = db_api.vim_create(self.context, vimmon_fixtures.vim_values(
            name=name, auth_cred_secret='token-' + name))
        db_api.vim_update(self.context, vim.id, dict(columns,
                                                     status='REACHABLE'))
        return vim.id

    def due_now(self, *vim_ids):
        for vim_id in vim_ids:
            db_api.vim_update(self.context, vim_id, {
                'auth_check_due': timeutils.utcnow()})

    def test_first_seen_vims_are_spread_over_the_interval(self):
        ids = [self.vim('v%d' % index) for index in range(20)]
        self.assertEqual(0, self.checker.run_once(self.context))
        dues = [db_api.vim_get(self.context, vim_id).auth_check_due
                for vim_id in ids]
        now = timeutils.utcnow()
        self.assertTrue(all(now <= due <= now + datetime.timedelta(
            seconds=600) for due in dues))
        # Not all at one moment.
        self.assertGreater(max(dues) - min(dues),
                           datetime.timedelta(seconds=60))

    def test_a_due_vim_is_checked_once_then_an_interval_later(self):
        vim_id = self.vim('v')
        self.due_now(vim_id)
        self.assertEqual(1, self.checker.run_once(self.context))
        # A second conductor looking now finds nothing due.
        other = credentials.CredentialChecker(
            self.conf.conf, decrypt=lambda secret, vim_id: {})
        self.assertEqual(0, other.run_once(self.context))
        self.assertEqual(['pw-of-' + vim_id], self.proven)
        stored = db_api.vim_get(self.context, vim_id)
        self.assertEqual('ok', stored.auth_status)
        self.assertGreater(stored.auth_check_due, timeutils.utcnow()
                           + datetime.timedelta(seconds=590))

    def test_refused_credentials_are_shown_until_they_work(self):
        vim_id = self.vim('v')
        self.due_now(vim_id)
        self.answer = exception.VimCredentialsRejected(
            auth_url='http://192.0.2.1/v3', reason='authentication failed')
        self.checker.run_once(self.context)
        stored = db_api.vim_get(self.context, vim_id)
        self.assertEqual('auth_failed', stored.auth_status)
        self.assertIn('refused', stored.auth_reason)
        self.assertNotIn('pw-of-', stored.auth_reason)
        since = stored.auth_since
        # No verdict (the VIM away) changes nothing.
        self.answer = exception.VimKeystoneUnreachable(
            auth_url='http://192.0.2.1/v3', reason='ConnectFailure')
        self.due_now(vim_id)
        self.checker.run_once(self.context)
        self.assertEqual(('auth_failed', since), (
            db_api.vim_get(self.context, vim_id).auth_status,
            db_api.vim_get(self.context, vim_id).auth_since))
        self.answer = True
        self.due_now(vim_id)
        self.checker.run_once(self.context)
        self.assertEqual('ok', db_api.vim_get(self.context,
                                              vim_id).auth_status)

    def test_a_verdict_on_replaced_credentials_is_dropped(self):
        vim_id = self.vim('v')
        self.due_now(vim_id)
        self.answer = exception.VimCredentialsRejected(
            auth_url='http://192.0.2.1/v3', reason='authentication failed')

        def replaced(*args):
            db_api.vim_update(self.context, vim_id,
                              {'auth_cred_secret': 'new-token'})
            raise self.answer
        self.useFixture(base.fixtures.MockPatch(
            'tacker_vimmon.vim.prove_credentials', side_effect=replaced))
        self.checker.run_once(self.context)
        self.assertIsNone(db_api.vim_get(self.context, vim_id).auth_status)
