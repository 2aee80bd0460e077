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

"""Console entry points: wiring only (the services' processes).

Importing this package selects oslo.service's threading backend before
anything else can touch oslo.service: its default is still eventlet, and
tacker-vimmon runs on native threads only. Python runs this before the
body of any module below it, so each command is on threads from its first
import. Only entry points import this package (commands here, the WSGI
module, the test runner); library code never does, so Mistral's executor,
which loads the monitor action, keeps the backend Mistral chose.
"""

import warnings

# futurist imports eventlet whenever it is installed (oslo.service still
# pulls it in), which prints a deprecation notice on every command although
# nothing here runs on eventlet.
warnings.filterwarnings('ignore', message=r'\s*Eventlet is deprecated')

from oslo_service import backend  # noqa: E402

try:
    backend.init_backend(backend.BackendType.THREADING)
except backend.exceptions.BackendAlreadySelected:
    # Someone (a test runner, an embedding WSGI server) chose first; a
    # second selection is refused, and the first one stands.
    pass
