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

"""What the deployment tests share: the deployment's virtualenv, processes.

The tests of the devstack plugin and of the systemd units run tacker-vimmon
as a deployment does: Debian's uWSGI with its python3 plugin, and the
commands of a virtualenv made with Debian's python3 (the interpreter that
plugin embeds), outside any user's home so that the services' own user can
run them. ``tools/make-venv.sh --deploy`` builds it as .venv-deploy, with
the clients ``openstack vim ...`` needs.
"""

import os

import fixtures

from tacker_vimmon.tests.functional import base

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..',
                                   '..'))
VENV = os.environ.get('TVM_TEST_DEPLOY_VENV',
                      os.path.join(TOP, '.venv-deploy'))
UWSGI = '/usr/bin/uwsgi'
UWSGI_PYTHON3 = '/usr/lib/uwsgi/plugins/python3_plugin.so'


class DeployVenv(fixtures.Fixture):
    """The deployment's virtualenv (``path``), or ServiceUnavailable."""

    def _setUp(self):
        missing = [path for path in (
            os.path.join(VENV, 'bin', 'tacker-vimmon-conductor'),
            os.path.join(VENV, 'bin', 'openstack'), UWSGI, UWSGI_PYTHON3)
            if not os.path.exists(path)]
        if missing:
            raise base.ServiceUnavailable(
                '%s missing: run tools/install-deps.sh and tools/make-venv.sh'
                ' --deploy' % ', '.join(missing))
        self.path = VENV

    def bin(self, name):
        return os.path.join(self.path, 'bin', name)


def process_group(pgid):
    """The pids of the live (not zombie) processes in process group pgid."""
    members = []
    for entry in os.listdir('/proc'):
        if not entry.isdigit():
            continue
        try:
            with open('/proc/%s/stat' % entry) as stat:
                fields = stat.read().rsplit(') ', 1)[1].split()
        except (FileNotFoundError, ProcessLookupError, IndexError):
            continue
        # After the command: state, ppid, pgrp.
        if fields[0] != 'Z' and int(fields[2]) == pgid:
            members.append(int(entry))
    return members

