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

"""oslo.middleware's options for the middleware the API server uses.

The API pipeline (tacker_vimmon.api.app) runs oslo.middleware's
healthcheck, sizelimit and http_proxy_to_wsgi. Their options are
oslo.middleware's own, in its groups ``[healthcheck]`` and
``[oslo_middleware]``; this module registers them (so that they exist
before the first request, and tests can set them) with tacker-vimmon's
defaults, and lists only these, not the options of middleware the server
does not run (cors, basic_auth, the other healthcheck backends...).
"""

import copy

from oslo_config import cfg
from oslo_middleware import http_proxy_to_wsgi
from oslo_middleware import sizelimit
from oslo_middleware.healthcheck import opts as healthcheck_opts

from tacker_vimmon.conf import default

HEALTHCHECK_GROUP = 'healthcheck'
MIDDLEWARE_GROUP = 'oslo_middleware'

# The backend (entry point in oslo.middleware.healthcheck) that checks the
# API server's database: tacker_vimmon.api.healthcheck.
DATABASE_BACKEND = 'tacker_vimmon_database'
DISABLE_BY_FILE_BACKEND = 'disable_by_file'

_HEALTHCHECK_DEFAULTS = {
    # A file an operator creates to take this node out of its load
    # balancer before maintenance; and the database, without which the
    # server answers every request with 503.
    'backends': [DISABLE_BY_FILE_BACKEND, DATABASE_BACKEND],
    'disable_by_file_path': default.state_path_def('healthcheck_disable'),
}


def _healthcheck_opts():
    return (healthcheck_opts.HEALTHCHECK_OPTS
            + healthcheck_opts.DISABLE_BY_FILE_OPTS)


def _middleware_opts():
    return sizelimit.OPTS + http_proxy_to_wsgi.OPTS


def _set_defaults():
    # On the option objects themselves, as [database] does: they outlive
    # conf.reset(), and the copies list_opts() hands out show them.
    cfg.set_defaults(_healthcheck_opts(), **_HEALTHCHECK_DEFAULTS)


def register_opts(conf):
    _set_defaults()
    # The very option objects the middleware registers again when it is
    # built, which oslo.config takes as the same registration.
    conf.register_opts(_healthcheck_opts(), group=HEALTHCHECK_GROUP)
    conf.register_opts(_middleware_opts(), group=MIDDLEWARE_GROUP)


def list_opts():
    _set_defaults()
    return {HEALTHCHECK_GROUP: copy.deepcopy(_healthcheck_opts()),
            MIDDLEWARE_GROUP: copy.deepcopy(_middleware_opts())}
