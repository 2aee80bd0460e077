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

"""[credential_check]: the conductors prove each VIM's credentials."""

from oslo_config import cfg

from tacker_vimmon.i18n import _

GROUP = cfg.OptGroup(
    'credential_check', title='Credential check',
    help=_('Now and then a conductor proves each VIM\'s stored credentials '
           '(a Keystone token request; for Kubernetes an authenticated '
           'call with the bearer token). A VIM whose credentials are '
           'refused shows AUTH_FAILED.'))

OPTS = [
    cfg.IntOpt('interval', default=3600, min=0,
               help=_('Seconds between two checks of one VIM\'s '
                      'credentials; 0 turns the check off. The checks of '
                      'all VIMs are spread over this time, and shared by '
                      'the conductors.')),
    cfg.IntOpt('poll_interval', default=10, min=1,
               help=_('Seconds between two looks of a conductor for VIMs '
                      'whose check is due.')),
    cfg.IntOpt('batch_size', default=50, min=1,
               help=_('The most checks one conductor claims per look.')),
    cfg.FloatOpt('timeout', default=10.0, min=0.5,
                 help=_('Seconds one check may wait for the VIM.')),
]


def register_opts(conf):
    conf.register_group(GROUP)
    conf.register_opts(OPTS, group=GROUP)


def list_opts():
    return {GROUP: OPTS}
