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


"""Status reasons, round-trip times and credential checks

Revision ID: c3e5a7b9d1f2
Revises: 8a2d4c6e0b13
Create Date: 2026-12-01 14:00:00
"""

from alembic import op
import sqlalchemy as sa

revision = 'c3e5a7b9d1f2'
down_revision = '8a2d4c6e0b13'
branch_labels = None
depends_on = None


def upgrade():
    # Why the VIM has its status (a code of common/states.py), since when,
    # the last round-trip time (seconds) and what each check saw (JSON).
    op.add_column('vims', sa.Column('status_reason', sa.String(32),
                                    nullable=True))
    op.add_column('vims', sa.Column('status_since', sa.DateTime(),
                                    nullable=True))
    op.add_column('vims', sa.Column('rtt', sa.Float(), nullable=True))
    op.add_column('vims', sa.Column('monitor_details', sa.Text(),
                                    nullable=True))
    # The conductors' credential check: its verdict, why, since when, and
    # when it is due next (a conductor claims a due VIM by moving it).
    op.add_column('vims', sa.Column('auth_status', sa.String(32),
                                    nullable=True))
    op.add_column('vims', sa.Column('auth_reason', sa.Text(),
                                    nullable=True))
    op.add_column('vims', sa.Column('auth_since', sa.DateTime(),
                                    nullable=True))
    op.add_column('vims', sa.Column('auth_check_due', sa.DateTime(),
                                    nullable=True))
