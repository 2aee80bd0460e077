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

"""The [database] group: oslo.db's options with tacker-vimmon's defaults."""

from oslo_config import cfg
from oslo_db import options as db_options

from tacker_vimmon.conf import default

# An embedded SQLite file is enough for a local run; production deployments
# point [database] connection at MariaDB/MySQL or PostgreSQL.
_DEFAULT_SQL_CONNECTION = 'sqlite:///' + default.state_path_def(
    'tacker_vimmon.sqlite')


def register_opts(conf):
    # Set on the option objects themselves, not only on conf, so that
    # oslo-config-generator (which lists copies of them) shows our default.
    cfg.set_defaults(db_options.database_opts,
                     connection=_DEFAULT_SQL_CONNECTION)
    db_options.set_defaults(conf, connection=_DEFAULT_SQL_CONNECTION)


def list_opts():
    # The options themselves are listed by oslo.db's own "oslo.db" namespace
    # of oslo-config-generator; listing them here too would duplicate them.
    return {}
