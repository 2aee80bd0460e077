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


"""Every status a VIM can have, and the answer that retires a monitor.

One home for strings that cross process boundaries: the monitor action in
Mistral's executor sends REACHABLE or UNREACHABLE, the conductor stores
them and may answer BAD_ACTION, and the API shows them. Nothing here
imports anything, so every process may use it.
"""

# The VIM is registered; its monitor has not reported yet.
PENDING = 'PENDING'
# The monitor's last verdict: the VIM answers.
REACHABLE = 'REACHABLE'
# The monitor's last verdict: the VIM stopped answering.
UNREACHABLE = 'UNREACHABLE'
# The VIM's monitor could not be set up (the reason is shown with it).
ERROR = 'ERROR'
# Shown, never stored: the monitor has not been heard from within the
# silence window, so its last verdict may no longer be true.
UNKNOWN = 'UNKNOWN'

# What a monitor action may report.
MONITOR_STATUSES = (REACHABLE, UNREACHABLE)

# The conductor's answer to an action that is not the VIM's monitor any
# more (the VIM was deregistered, or a newer monitor replaced it): exit.
BAD_ACTION = 'bad_action'
