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

"""The API for a WSGI server: ``tacker_vimmon.wsgi.api:application``.

The configuration file comes from the environment::

    TACKER_VIMMON_CONFIG_FILE   (default /etc/tacker-vimmon/tacker-vimmon.conf)

uWSGI: ``module = tacker_vimmon.wsgi.api:application``; gunicorn:
``gunicorn tacker_vimmon.wsgi.api:application``. The application is built
once, at import, after the database schema is checked to be at head.

A start-up check that fails (schema, keys, settings) raises
ApplicationRefused, not SystemExit: a WSGI server would take the exit of
one worker for a crash and start it again, for ever, where an exception
while loading the application makes it give up (uWSGI with ``need-app``
exits with status 22, which etc/systemd's unit does not restart).
"""

import os
import threading

from tacker_vimmon import conf as vimmon_conf
from tacker_vimmon.api import app
from tacker_vimmon.db import migration
from tacker_vimmon.registry import crypto

CONFIG_FILE_ENV = 'TACKER_VIMMON_CONFIG_FILE'
DEFAULT_CONFIG_FILE = '/etc/tacker-vimmon/tacker-vimmon.conf'

_LOCK = threading.Lock()
_APPLICATION = None


class ApplicationRefused(RuntimeError):
    """A start-up check failed; the log says what to do."""


def init_application():
    """Parse the configuration, check the schema, build the application."""
    global _APPLICATION
    with _LOCK:
        if _APPLICATION is None:
            path = os.environ.get(CONFIG_FILE_ENV, DEFAULT_CONFIG_FILE)
            conf = vimmon_conf.prepare_service(['--config-file', path])
            try:
                vimmon_conf.require_consistent_settings(conf)
                migration.require_current_schema()
                crypto.require_keys()
            except SystemExit as refused:
                # The check has logged and printed why.
                raise ApplicationRefused(
                    'tacker-vimmon refused to start (status %s); see the '
                    'message above' % refused.code) from None
            _APPLICATION = app.setup_app(conf)
    return _APPLICATION


application = init_application()
