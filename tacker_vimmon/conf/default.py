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

"""Options of the [DEFAULT] group that belong to tacker-vimmon itself."""

import os
import socket

from oslo_config import cfg

from tacker_vimmon.i18n import _

default_opts = [
    cfg.HostAddressOpt(
        'host',
        default=socket.gethostname(),
        sample_default='localhost',
        help=_('Name of this node, used as the RPC server name of a '
               'conductor. Every conductor on one topic must have its own '
               'name.')),
    cfg.StrOpt(
        'state_path',
        default='/var/lib/tacker-vimmon',
        help=_('Directory where tacker-vimmon keeps its state, such as the '
               'embedded SQLite database of a local run.')),
]


def register_opts(conf):
    conf.register_opts(default_opts)


def list_opts():
    return {'DEFAULT': default_opts}


def state_path_def(*parts):
    """An option default that lives below ``[DEFAULT] state_path``."""
    return os.path.join('$state_path', *parts)
