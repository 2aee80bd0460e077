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

"""oslo.messaging's options, listed without those tacker-vimmon ignores.

They are registered when a service starts (opts.update_opt_defaults), not
here: importing oslo.messaging registers options of its own on the global
configuration, which importing this package must not do.
"""


def register_opts(conf):
    pass


def list_opts():
    from tacker_vimmon.common import rpc
    return {group or 'DEFAULT': opts
            for group, opts in rpc.list_messaging_opts()}
