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

"""What the administration commands (subcommand CLIs) share."""

import sys

from oslo_log import log

from tacker_vimmon import conf as vimmon_conf
from tacker_vimmon.i18n import _


def parse_subcommand(conf, command_opt, argv=None):
    """Register ``command_opt``, send logs to stderr, parse the arguments.

    Logs go to stderr so that stdout carries only the command's answer (for
    example the revision printed by "current"), which scripts read.
    """
    conf.register_cli_opt(command_opt)
    log.register_options(conf)
    conf.set_default('use_stderr', True)
    vimmon_conf.prepare_service(sys.argv[1:] if argv is None else argv)


def fail(message):
    """Print ``ERROR: message`` to stderr and exit with status 1."""
    print(_('ERROR: %s') % message, file=sys.stderr)
    raise SystemExit(1)
