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

from alembic import context

from tacker_vimmon.db import api as db_api
from tacker_vimmon.db import models

target_metadata = models.Base.metadata


def run_migrations_online():
    """Run the migrations on the engine the caller chose or the configured one.

    Batch mode lets SQLite, which cannot alter constraints in place, take
    every migration by copying tables.
    """
    engine = context.config.attributes.get('engine') or db_api.get_engine()
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=True,
        )
        with context.begin_transaction():
            context.run_migrations()


run_migrations_online()
