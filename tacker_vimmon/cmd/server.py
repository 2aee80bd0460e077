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
import threading

from cheroot import wsgi
from oslo_log import log as logging

from tacker_vimmon import conf as vimmon_conf
from tacker_vimmon.api import app
from tacker_vimmon.conf import CONF
from tacker_vimmon.db import migration
from tacker_vimmon.registry import crypto

LOG = logging.getLogger(__name__)


# Seconds the requests in progress get to finish when the server stops.
SHUTDOWN_TIMEOUT = 3


def _stop_on_signals(server):
    def stop(signum, _frame):
        LOG.info('Signal %s received, stopping', signum)
        # Not from the handler itself: it runs in the serving thread, in
        # the middle of the connection loop whose locks stop() needs.
        # serve() returns once the server is stopped.
        stopper = threading.Thread(target=server.stop, name='stop')
        stopper.start()
        stopping.append(stopper)

    stopping = []

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    return stopping


def main(argv=None):
    vimmon_conf.prepare_service(sys.argv[1:] if argv is None else argv)
    vimmon_conf.require_consistent_settings()
    migration.require_current_schema()
    crypto.require_keys()
    application = app.setup_app(CONF)
    server = wsgi.Server((CONF.api.bind_host, CONF.api.bind_port),
                         application, numthreads=CONF.api.server_threads,
                         server_name='tacker-vimmon')
    server.shutdown_timeout = SHUTDOWN_TIMEOUT
    stopping = _stop_on_signals(server)
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
    for stopper in stopping:
        stopper.join()
    LOG.info('tacker-vimmon-server stopped')


if __name__ == '__main__':
    main()
