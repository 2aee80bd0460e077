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


"""Monitor liveness, repair claims and set-up back-off

Revision ID: 8a2d4c6e0b13
Revises: 6f1c0a2b3d4e
Create Date: 2026-12-01 10:00:00
"""

from alembic import op
import sqlalchemy as sa

revision = '8a2d4c6e0b13'
down_revision = '6f1c0a2b3d4e'
branch_labels = None
depends_on = None


def upgrade():
    # When the reconciler recorded that the monitor fell silent (the API
    # then shows UNKNOWN); cleared when the monitor is heard again.
    op.add_column('vims', sa.Column('silent_since', sa.DateTime(),
                                    nullable=True))
    # A conductor's claim on a VIM it is repairing, so that several
    # conductors never repair one VIM at once.
    op.add_column('vims', sa.Column('repair_claim', sa.String(36),
                                    nullable=True))
    op.add_column('vims', sa.Column('repair_claim_until', sa.DateTime(),
                                    nullable=True))
    # Consecutive monitors that could not start or be set up (back-off).
    op.add_column('vims', sa.Column('monitor_failures', sa.Integer(),
                                    nullable=False, server_default='0'))
    # Heartbeats name their monitors by action_id.
    op.create_index('vims_action_id_idx', 'vims', ['action_id'])
