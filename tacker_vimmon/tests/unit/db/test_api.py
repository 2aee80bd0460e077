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

"""The DB API on in-memory SQLite: VIM rows, their events, and conflicts."""

from tacker_vimmon.common import exception
from tacker_vimmon.db import api as db_api
from tacker_vimmon.tests import base
from tacker_vimmon.tests import fixtures as vimmon_fixtures


class TestVimApi(base.DbTestCase):

    def test_create_stores_pending_vim_and_create_event(self):
        vim = db_api.vim_create(self.context, vimmon_fixtures.vim_values())
        stored = db_api.vim_get(self.context, vim.id)
        self.assertEqual('PENDING', stored.status)
        self.assertEqual('edge-1', stored.name)
        self.assertIsNotNone(stored.created_at)
        events = db_api.event_get_all(self.context,
                                      filters={'resource_id': vim.id})
        self.assertEqual([('CREATE', 'PENDING', 'vim', 'project-a')],
                         [(e.event_type, e.resource_state, e.resource_type,
                           e.tenant_id) for e in events])

    def test_duplicate_name_in_one_project_is_a_conflict(self):
        db_api.vim_create(self.context, vimmon_fixtures.vim_values())
        error = self.assertRaises(exception.VimNameDuplicate,
                                  db_api.vim_create, self.context,
                                  vimmon_fixtures.vim_values())
        self.assertEqual(409, error.code)
        self.assertIn('edge-1', error.format_message())
        # The same name in another project is fine.
        db_api.vim_create(self.context,
                          vimmon_fixtures.vim_values(tenant_id='project-b'))
        self.assertEqual(2, len(db_api.vim_get_all(self.context)))

    def test_second_default_vim_in_a_project_is_refused(self):
        first = db_api.vim_create(
            self.context, vimmon_fixtures.vim_values(is_default=True))
        error = self.assertRaises(
            exception.DefaultVimDuplicate, db_api.vim_create, self.context,
            vimmon_fixtures.vim_values(name='edge-2', is_default=True))
        self.assertIn(first.id, error.format_message())
        other = db_api.vim_create(
            self.context, vimmon_fixtures.vim_values(name='edge-2'))
        self.assertRaises(exception.DefaultVimDuplicate, db_api.vim_update,
                          self.context, other.id, {'is_default': True})
        # Clearing the flag on the first one frees the slot.
        db_api.vim_update(self.context, first.id, {'is_default': False})
        db_api.vim_update(self.context, other.id, {'is_default': True})
        self.assertTrue(db_api.vim_get(self.context, other.id).is_default)

    def test_project_scoping_hides_other_projects_vims(self):
        vim = db_api.vim_create(self.context, vimmon_fixtures.vim_values())
        self.assertRaises(exception.VimNotFound, db_api.vim_get,
                          self.context, vim.id, project_id='project-b')
        self.assertEqual([], db_api.vim_get_all(self.context,
                                                project_id='project-b'))
        self.assertRaises(exception.VimNotFound, db_api.vim_destroy,
                          self.context, vim.id, project_id='project-b')

    def test_update_and_destroy_write_events(self):
        vim = db_api.vim_create(self.context, vimmon_fixtures.vim_values())
        db_api.vim_update(self.context, vim.id, {'description': 'moved'},
                          event_details={'changed': ['description']})
        db_api.vim_destroy(self.context, vim.id)
        self.assertRaises(exception.VimNotFound, db_api.vim_get,
                          self.context, vim.id)
        events = db_api.event_get_all(self.context,
                                      filters={'resource_id': vim.id})
        self.assertEqual(['CREATE', 'UPDATE', 'DELETE'],
                         [e.event_type for e in events])
        self.assertEqual({'changed': ['description']},
                         events[1].event_details)

    def test_list_filters_on_columns(self):
        db_api.vim_create(self.context, vimmon_fixtures.vim_values())
        db_api.vim_create(self.context, vimmon_fixtures.vim_values(
            name='k8s', type='kubernetes'))
        names = [v.name for v in db_api.vim_get_all(
            self.context, filters={'type': 'kubernetes'})]
        self.assertEqual(['k8s'], names)

    def test_unknown_event_is_not_found(self):
        self.assertRaises(exception.EventNotFound, db_api.event_get,
                          self.context, 12345)
