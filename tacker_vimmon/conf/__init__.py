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


"""The services' configuration (API server, conductor, commands): options.

Every module in this package covers one option group and offers
``register_opts(conf)`` and ``list_opts()``. Importing the package registers
nothing: a service registers its options when it starts
(``prepare_service``), and ``opts.list_opts`` feeds the same modules to
oslo-config-generator. The monitor action, which runs inside Mistral's
executor, has options of its own (``tacker_vimmon.action.options``).
"""

import shlex

from oslo_config import cfg
from oslo_log import log

from tacker_vimmon import version
from tacker_vimmon.common import exception
from tacker_vimmon.conf import opts

CONF = cfg.CONF


def register_opts(conf=CONF):
    """Register every option group of the services on ``conf``."""
    opts.register_all(conf)


def parse_args(argv, default_config_files=None, conf=CONF):
    """Register the options and parse ``argv`` (no program name) into conf."""
    register_opts(conf)
    conf(argv,
         project='tacker-vimmon',
         version=version.version_string(),
         default_config_files=default_config_files)


def prepare_service(argv, conf=CONF):
    """Register the options, parse the configuration, set up logging."""
    # A command may have registered the logging options already, to change
    # a default.
    if 'use_stderr' not in conf:
        log.register_options(conf)
    opts.update_opt_defaults(conf)
    parse_args(argv, conf=conf)
    log.setup(conf, 'tacker-vimmon')
    return conf


def config_file_args(conf=CONF):
    """The --config-file/--config-dir arguments this process was given.

    Used to print a command an operator can paste, with the same files.
    """
    args = []
    # Before the command line is parsed these options do not exist yet.
    for path in getattr(conf, 'config_file', None) or []:
        args += ['--config-file', path]
    config_dir = getattr(conf, 'config_dir', None)
    if config_dir:
        args += ['--config-dir', config_dir]
    return shlex.join(args)


def check_settings(conf=CONF):
    """Refuse options that each look fine but cannot work together.

    :raises: InconsistentSettings naming the options and what to change
    """
    heartbeat = conf.vim_monitor.heartbeat_interval
    window = conf.reconciler.silent_after
    if window <= 2 * heartbeat:
        # One lost heartbeat must not make every VIM UNKNOWN and repaired.
        raise exception.InconsistentSettings(reason=(
            '[reconciler] silent_after (%s s) must be more than twice '
            '[vim_monitor] heartbeat_interval (%s s); raise silent_after '
            'or lower heartbeat_interval' % (window, heartbeat)))
    monitor = conf.vim_monitor
    if monitor.status_checks != 'icmp' and not monitor.api_check_interval:
        raise exception.InconsistentSettings(reason=(
            '[vim_monitor] status_checks = %s needs the API check, which '
            'api_check_interval = 0 turns off; set status_checks = icmp or '
            'an api_check_interval' % monitor.status_checks))


def require_consistent_settings(conf=CONF):
    """The services' start-up check: exit 2 if the options cannot work."""
    try:
        check_settings(conf)
    except exception.InconsistentSettings as error:
        exception.exit_at_start(error)
