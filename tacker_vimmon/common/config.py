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

"""Parsing the command line and configuration files of a service."""

import shlex

from oslo_log import log

from tacker_vimmon import conf as vimmon_conf
from tacker_vimmon import version
from tacker_vimmon.conf import opts


def parse_args(argv, default_config_files=None, conf=None):
    """Parse ``argv`` (without the program name) into ``conf``."""
    conf = conf or vimmon_conf.CONF
    conf(argv,
         project='tacker-vimmon',
         version=version.version_string(),
         default_config_files=default_config_files)


def _register_log_options(conf):
    # A command may have registered them already to change a default.
    if 'use_stderr' not in conf:
        log.register_options(conf)


def prepare_service(argv, conf=None):
    """Register logging options, parse the configuration, set up logging."""
    conf = conf or vimmon_conf.CONF
    _register_log_options(conf)
    opts.update_opt_defaults()
    parse_args(argv, conf=conf)
    log.setup(conf, 'tacker-vimmon')
    return conf


def config_file_args(conf=None):
    """The --config-file/--config-dir arguments this process was given.

    Used to print a command an operator can paste, with the same files.
    """
    conf = conf or vimmon_conf.CONF
    args = []
    # Before the command line is parsed these options do not exist yet.
    for path in getattr(conf, 'config_file', None) or []:
        args += ['--config-file', path]
    config_dir = getattr(conf, 'config_dir', None)
    if config_dir:
        args += ['--config-dir', config_dir]
    return shlex.join(args)
