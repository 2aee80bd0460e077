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

"""tacker-vimmon-server: serve the API with a threaded WSGI server.

For local runs, demos and tests::

    tacker-vimmon-server --config-file /etc/tacker-vimmon/tacker-vimmon.conf

It listens on [api] bind_host:bind_port. In production run
``tacker_vimmon.wsgi.api:application`` under uWSGI or gunicorn instead.
"""

import signal
import sys

from cheroot import wsgi
from oslo_log import log as logging

from tacker_vimmon import cmd  # noqa: F401  (selects the threading backend)
from tacker_vimmon.api import app
from tacker_vimmon.common import config
from tacker_vimmon.common import crypto
from tacker_vimmon.conf import CONF
from tacker_vimmon.db import migration

LOG = logging.getLogger(__name__)


def _stop_on_signals():
    def stop(signum, _frame):
        LOG.info('Signal %s received, stopping', signum)
        # Raised in the serving (main) thread; main() then stops the
        # server, which finishes the requests in progress.
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)


def main(argv=None):
    config.prepare_service(sys.argv[1:] if argv is None else argv)
    migration.require_current_schema()
    crypto.require_keys()
    application = app.setup_app(CONF)
    server = wsgi.Server((CONF.api.bind_host, CONF.api.bind_port),
                         application, numthreads=CONF.api.server_threads,
                         server_name='tacker-vimmon')
    _stop_on_signals()
    LOG.info('tacker-vimmon-server listening on %s:%s (auth_strategy %s)',
             CONF.api.bind_host, CONF.api.bind_port, CONF.auth_strategy)
    try:
        server.start()
    except OSError as error:
        LOG.error('Cannot listen on %s:%s: %s', CONF.api.bind_host,
                  CONF.api.bind_port, error)
        print('ERROR: cannot listen on %s:%s: %s' % (
            CONF.api.bind_host, CONF.api.bind_port, error), file=sys.stderr)
        raise SystemExit(1)
    except SystemExit as stopping:
        server.stop()
        LOG.info('tacker-vimmon-server stopped')
        if stopping.code:
            raise


if __name__ == '__main__':
    main()
