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

"""tacker-vimmon-status: is this deployment ready for the new release?

  tacker-vimmon-status --config-file F upgrade check [--json]

Exit status 0 (every check passed), 1 (a warning), 2 (a failure) or 255
(the command itself failed). The checks are in tacker_vimmon.upgradecheck.
"""

import sys

from oslo_log import log
from oslo_upgradecheck import upgradecheck

from tacker_vimmon import conf as vimmon_conf
from tacker_vimmon import upgradecheck as checks
from tacker_vimmon.conf import CONF
from tacker_vimmon.conf import opts


class _LoggingChecks(checks.Checks):
    """The checks, with oslo.log set up once the arguments are parsed."""

    def check(self):
        log.setup(self.conf, 'tacker-vimmon')
        return super().check()


def main(argv=None):
    vimmon_conf.register_opts(CONF)
    log.register_options(CONF)
    # stdout carries the table (or the JSON) only.
    CONF.set_default('use_stderr', True)
    opts.update_opt_defaults(CONF)
    return upgradecheck.main(
        CONF, project='tacker-vimmon', upgrade_command=_LoggingChecks(CONF),
        argv=sys.argv[1:] if argv is None else argv)


if __name__ == '__main__':
    sys.exit(main())
