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

"""oslo.service's options that act on the conductor's launcher.

Listed here in place of oslo.service's own namespace, which also lists the
eventlet backdoor: tacker-vimmon runs on oslo.service's threading backend,
which has no backdoor, so those options would do nothing.
"""


def register_opts(conf):
    # oslo.service registers its options itself when the conductor
    # launches.
    pass


def list_opts():
    # Imported here: importing this package must not touch oslo.service,
    # whose backend the entry points choose first.
    from oslo_service import service
    return {'DEFAULT': [opt for _group, opts in service.list_opts()
                        for opt in opts
                        if not opt.dest.startswith('backdoor_')]}
