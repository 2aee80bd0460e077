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

"""tacker-vimmon-conductor: the RPC server that stores monitor reports.

  tacker-vimmon-conductor --config-file /etc/tacker-vimmon/tacker-vimmon.conf

Run several (each with its own ``[DEFAULT] host``) for capacity and
availability: they share the calls on ``[conductor] topic``.
"""

import sys

from oslo_service import service

from tacker_vimmon import conf as vimmon_conf
from tacker_vimmon.conductor import service as conductor_service
from tacker_vimmon.db import api as db_api
from tacker_vimmon.db import migration
from tacker_vimmon.registry import crypto


def main(argv=None):
    conf = vimmon_conf.prepare_service(sys.argv[1:] if argv is None else argv)
    vimmon_conf.require_consistent_settings(conf)
    migration.require_current_schema()
    # The check opened connections in this process; the service runs in a
    # forked worker, which must open its own.
    db_api.get_engine().dispose()
    launcher = service.launch(
        conf, conductor_service.ConductorService(
            conf, decrypt=crypto.decrypt_secrets),
        workers=conf.conductor.workers, restart_method='mutate')
    sys.exit(launcher.wait())


if __name__ == '__main__':
    main()
