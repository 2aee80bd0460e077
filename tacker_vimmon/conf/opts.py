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

"""Discovery of the option modules of this package.

Each module of ``tacker_vimmon.conf`` (except this one) must offer
``register_opts(conf)`` and ``list_opts()`` returning ``{group: [opts]}``,
where group is a name or an ``OptGroup``. Discovering them here means a new
option group is one new module, with nothing else to keep in step.
"""

import importlib
import pkgutil

from oslo_config import cfg
from oslo_log import log

_IGNORED_MODULES = ('opts',)
_DEFAULT_LOG_LEVELS = [
    'amqp=WARN',
    'amqplib=WARN',
    'kombu=WARN',
    'oslo_messaging=INFO',
    'sqlalchemy=WARN',
    'stevedore=WARN',
    'urllib3.connectionpool=WARN',
    'keystonemiddleware=WARN',
    'keystoneauth=WARN',
    'routes.middleware=WARN',
]


def _option_modules():
    package = importlib.import_module('tacker_vimmon.conf')
    names = sorted(
        info.name for info in pkgutil.iter_modules(package.__path__)
        if not info.ispkg and info.name not in _IGNORED_MODULES)
    return [importlib.import_module('tacker_vimmon.conf.' + name)
            for name in names]


def register_all(conf):
    """Register every option group of tacker-vimmon on ``conf``."""
    for module in _option_modules():
        module.register_opts(conf)


def list_opts():
    """Return ``[(group, opts)]`` for oslo-config-generator and the docs."""
    result = {}
    for module in _option_modules():
        for group, opts in module.list_opts().items():
            result.setdefault(group, []).extend(opts)
    return sorted(result.items(), key=lambda item: str(item[0]))


def update_opt_defaults(conf=None):
    """Defaults this project changes in the libraries it uses.

    Called by the services at start-up and by oslo-config-generator (entry
    point ``oslo.config.opts.defaults``) so that the sample file shows them.
    """
    levels = dict(pair.split('=', 1)
                  for pair in log.get_default_log_levels())
    levels.update(pair.split('=', 1) for pair in _DEFAULT_LOG_LEVELS)
    log.set_defaults(default_log_levels=[
        '%s=%s' % item for item in levels.items()])
    conf = cfg.CONF if conf is None else conf
    register_all(conf)
    # The rabbit driver acknowledges a call as soon as it reads it; with
    # no prefetch limit (its default) a conductor that stops or dies holds
    # many calls nobody will answer. One at a time bounds what it can take.
    # Imported here, when a service starts: importing oslo.messaging
    # registers options of its own, and importing this package must not.
    from tacker_vimmon.common import rpc
    rpc.register_messaging_opts(conf)
    conf.set_default('rabbit_qos_prefetch_count', 1,
                     group='oslo_messaging_rabbit')
