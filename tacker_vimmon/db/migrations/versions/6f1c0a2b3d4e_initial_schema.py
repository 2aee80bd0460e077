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

"""Initial schema: vims and events

Revision ID: 6f1c0a2b3d4e
Revises:
Create Date: 2026-11-22 06:00:00
"""

from alembic import op
from oslo_db.sqlalchemy import types as db_types
import sqlalchemy as sa

revision = '6f1c0a2b3d4e'
down_revision = None
branch_labels = None
depends_on = None

_TABLE_ARGS = {'mysql_engine': 'InnoDB', 'mysql_charset': 'utf8mb4'}


def upgrade():
    op.create_table(
        'vims',
        sa.Column('created_at', sa.DateTime(), nullable=True),
        sa.Column('updated_at', sa.DateTime(), nullable=True),
        sa.Column('id', sa.String(36), nullable=False),
        sa.Column('tenant_id', sa.String(64), nullable=False),
        sa.Column('name', sa.String(255), nullable=False),
        sa.Column('description', sa.Text(), nullable=True),
        sa.Column('type', sa.String(64), nullable=False),
        sa.Column('auth_url', sa.String(1024), nullable=False),
        sa.Column('vim_project', db_types.JsonEncodedDict(), nullable=False),
        sa.Column('auth_cred', db_types.JsonEncodedDict(), nullable=False),
        sa.Column('auth_cred_secret', sa.Text(), nullable=True),
        sa.Column('status', sa.String(32), nullable=False),
        sa.Column('is_default', sa.Boolean(), nullable=False),
        sa.Column('default_tenant_id', sa.String(64), nullable=True),
        sa.Column('placement_attr', db_types.JsonEncodedDict(),
                  nullable=False),
        sa.Column('extra', db_types.JsonEncodedDict(), nullable=False),
        sa.Column('action_id', sa.String(36), nullable=True),
        sa.Column('workflow_id', sa.String(36), nullable=True),
        sa.Column('execution_id', sa.String(36), nullable=True),
        sa.Column('last_check_in_at', sa.DateTime(), nullable=True),
        sa.Column('monitor_error', sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('tenant_id', 'name',
                            name='uniq_vims0tenant_id0name'),
        sa.UniqueConstraint('default_tenant_id',
                            name='uniq_vims0default_tenant_id'),
        **_TABLE_ARGS)

    op.create_table(
        'events',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('tenant_id', sa.String(64), nullable=False),
        sa.Column('resource_id', sa.String(36), nullable=False),
        sa.Column('resource_type', sa.String(64), nullable=False),
        sa.Column('resource_state', sa.String(64), nullable=False),
        sa.Column('event_type', sa.String(64), nullable=False),
        sa.Column('event_details', db_types.JsonEncodedDict(),
                  nullable=False),
        sa.Column('timestamp', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        **_TABLE_ARGS)
    op.create_index('events_resource_idx', 'events',
                    ['resource_type', 'resource_id', 'timestamp'])
