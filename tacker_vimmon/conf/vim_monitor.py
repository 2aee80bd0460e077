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

"""The [vim_monitor] group: how VIM monitors probe and report.

The probe settings (check_interval, probe_*, failure_threshold) are read
by the API server and given to each monitor as workflow input; the others
(icmp_socket, report_timeout) are read by the monitor action itself from
this project's configuration file inside Mistral's executor.
"""

from tacker_vimmon.monitor import options

GROUP = options.GROUP
vim_monitor_opts = options.vim_monitor_opts


def register_opts(conf):
    conf.register_group(GROUP)
    conf.register_opts(vim_monitor_opts, group=GROUP)


def list_opts():
    return {GROUP: vim_monitor_opts}


def probe_input(conf):
    """The probe settings a new monitor gets as its workflow input."""
    group = conf[GROUP.name]
    return {'count': group.probe_count,
            'interval': group.probe_interval,
            'timeout': group.probe_timeout,
            'failure_threshold': group.failure_threshold,
            'check_interval': group.check_interval}
