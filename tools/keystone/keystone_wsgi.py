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

"""Serve OpenStack Keystone on a loopback port for the functional tests.

Run with the interpreter of .venv-keystone (tools/keystone/
setup-keystone-venv.sh)::

    keystone_wsgi.py --config-file keystone.conf --port 35357

One process, several threads. One process because the in-process token
cache that makes Keystone fast here goes stale across processes; threads so
that a slow or kept-alive client does not block the others. Requests that
may write are serialised: SQLite answers concurrent writers with
"database is locked", which Keystone turns into a 500.

Exit status 98 means the port was taken; the caller picks another one.
"""

import argparse
import errno
import os
import socketserver
import sys
import threading
import time
from wsgiref import simple_server

PORT_IN_USE = 98
SAFE_METHODS = frozenset(('GET', 'HEAD', 'OPTIONS'))


class ThreadingWSGIServer(socketserver.ThreadingMixIn,
                          simple_server.WSGIServer):
    daemon_threads = True
    # The listen backlog: a test run opens many short connections at once.
    request_queue_size = 64


class QuietHandler(simple_server.WSGIRequestHandler):
    """One access-log line per request, on stderr (the server's log)."""

    def log_message(self, format, *args):
        sys.stderr.write('%s %s\n' % (time.strftime('%H:%M:%S'),
                                      format % args))


def serialise_writes(app):
    """Let one request that may write to SQLite run at a time."""
    lock = threading.Lock()

    def wrapper(environ, start_response):
        if environ.get('REQUEST_METHOD') in SAFE_METHODS:
            return app(environ, start_response)
        with lock:
            # Consume the body under the lock: Keystone writes while the
            # iterable is produced, not only when app() returns.
            return list(app(environ, start_response))

    return wrapper


def load_keystone(config_file):
    # Keystone parses sys.argv with oslo.config; our own arguments would be
    # rejected as unknown, so it must see none.
    sys.argv = sys.argv[:1]
    from keystone.server.flask import core
    return core.initialize_application(name='public',
                                       config_files=[config_file])


def exit_with_parent(parent_pid):
    """Stop when the test process that started us is gone (crash, kill)."""
    def watch():
        while os.getppid() == parent_pid:
            time.sleep(1)
        os._exit(0)

    threading.Thread(target=watch, daemon=True).start()


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--config-file', required=True)
    parser.add_argument('--host', default='127.0.0.1')
    parser.add_argument('--port', type=int, required=True)
    return parser.parse_args()


def main():
    args = parse_args()
    exit_with_parent(os.getppid())
    # Bind before the slow Keystone import so that a taken port fails fast,
    # but listen only once the application can answer.
    try:
        server = ThreadingWSGIServer((args.host, args.port), QuietHandler,
                                     bind_and_activate=False)
        server.server_bind()
    except OSError as error:
        if error.errno == errno.EADDRINUSE:
            sys.stderr.write('port %s is in use\n' % args.port)
            sys.exit(PORT_IN_USE)
        raise
    server.set_app(serialise_writes(load_keystone(args.config_file)))
    server.server_activate()
    sys.stderr.write('keystone serving on http://%s:%s\n'
                     % (args.host, args.port))
    sys.stderr.flush()
    server.serve_forever()


if __name__ == '__main__':
    main()
