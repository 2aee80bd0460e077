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

"""SQLAlchemy models of tacker-vimmon.

The schema is created and changed only by the alembic migrations in
``tacker_vimmon/db/migrations``; a functional test keeps these models and the
migrations in step on every supported database.
"""

from oslo_db.sqlalchemy import models
from oslo_db.sqlalchemy import types as db_types
from oslo_utils import timeutils
import sqlalchemy as sa
from sqlalchemy import orm

from tacker_vimmon.common import states

_TABLE_ARGS = {'mysql_engine': 'InnoDB', 'mysql_charset': 'utf8mb4'}


class VimmonBase(models.ModelBase):
    """Rows are deleted outright: no soft delete to purge later."""


Base = orm.declarative_base(cls=VimmonBase)


class Vim(models.TimestampMixin, Base):
    """A registered VIM and the state of its monitor."""

    __tablename__ = 'vims'
    __table_args__ = (
        sa.UniqueConstraint('tenant_id', 'name',
                            name='uniq_vims0tenant_id0name'),
        # At most one default VIM per project, enforced by the database:
        # default_tenant_id holds tenant_id on the default VIM and NULL on
        # every other one, and NULLs never collide in a unique key (on
        # SQLite, MariaDB/MySQL and PostgreSQL alike).
        sa.UniqueConstraint('default_tenant_id',
                            name='uniq_vims0default_tenant_id'),
        # Heartbeats name their monitors by action_id.
        sa.Index('vims_action_id_idx', 'action_id'),
        _TABLE_ARGS,
    )

    id = sa.Column(sa.String(36), primary_key=True)
    tenant_id = sa.Column(sa.String(64), nullable=False)
    name = sa.Column(sa.String(255), nullable=False)
    description = sa.Column(sa.Text, nullable=True)
    type = sa.Column(sa.String(64), nullable=False)
    auth_url = sa.Column(sa.String(1024), nullable=False)
    vim_project = sa.Column(db_types.JsonEncodedDict, nullable=False)
    # The credentials without their secret fields; those are kept only as
    # a Fernet token in auth_cred_secret.
    auth_cred = sa.Column(db_types.JsonEncodedDict, nullable=False)
    auth_cred_secret = sa.Column(sa.Text, nullable=True)
    status = sa.Column(sa.String(32), nullable=False,
                       default=states.PENDING)
    is_default = sa.Column(sa.Boolean, nullable=False, default=False)
    default_tenant_id = sa.Column(sa.String(64), nullable=True)
    placement_attr = sa.Column(db_types.JsonEncodedDict, nullable=False)
    extra = sa.Column(db_types.JsonEncodedDict, nullable=False)

    # The monitor. action_id names the one monitor action that is wanted
    # now; an action that reports with another id is stale.
    action_id = sa.Column(sa.String(36), nullable=True)
    workflow_id = sa.Column(sa.String(36), nullable=True)
    execution_id = sa.Column(sa.String(36), nullable=True)
    last_check_in_at = sa.Column(sa.DateTime, nullable=True)
    monitor_error = sa.Column(sa.Text, nullable=True)
    # When the reconciler recorded that the monitor fell silent (the API
    # then shows UNKNOWN); cleared when the monitor is heard again.
    silent_since = sa.Column(sa.DateTime, nullable=True)
    # A conductor's claim on a VIM it is repairing (reconciler).
    repair_claim = sa.Column(sa.String(36), nullable=True)
    repair_claim_until = sa.Column(sa.DateTime, nullable=True)
    # Consecutive monitors that could not start or be set up (back-off).
    monitor_failures = sa.Column(sa.Integer, nullable=False, default=0,
                                 server_default='0')
    # Why the VIM has its status (states.ALL_REASONS), since when, the last
    # round-trip time in seconds, and what each check saw.
    status_reason = sa.Column(sa.String(32), nullable=True)
    status_since = sa.Column(sa.DateTime, nullable=True,
                             default=timeutils.utcnow)
    rtt = sa.Column(sa.Float, nullable=True)
    monitor_details = sa.Column(db_types.JsonEncodedDict, nullable=True)
    # The conductors' credential check (conductor/credentials.py): 'ok' or
    # 'auth_failed', why, since when it holds, when it is due again.
    auth_status = sa.Column(sa.String(32), nullable=True)
    auth_reason = sa.Column(sa.Text, nullable=True)
    auth_since = sa.Column(sa.DateTime, nullable=True)
    auth_check_due = sa.Column(sa.DateTime, nullable=True)


class Event(Base):
    """Something that happened to a resource (CREATE, MONITOR, ...)."""

    __tablename__ = 'events'
    __table_args__ = (
        sa.Index('events_resource_idx', 'resource_type', 'resource_id',
                 'timestamp'),
        _TABLE_ARGS,
    )

    id = sa.Column(sa.Integer, primary_key=True, autoincrement=True)
    # The project the resource belongs to, so that a project sees only the
    # events of its own resources.
    tenant_id = sa.Column(sa.String(64), nullable=False)
    resource_id = sa.Column(sa.String(36), nullable=False)
    resource_type = sa.Column(sa.String(64), nullable=False)
    resource_state = sa.Column(sa.String(64), nullable=False)
    event_type = sa.Column(sa.String(64), nullable=False)
    event_details = sa.Column(db_types.JsonEncodedDict, nullable=False)
    timestamp = sa.Column(sa.DateTime, nullable=False,
                          default=timeutils.utcnow)
