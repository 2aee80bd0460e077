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

"""[reconciler]: how the conductors keep every VIM's monitor alive."""

from oslo_config import cfg

from tacker_vimmon.i18n import _

GROUP = cfg.OptGroup(
    'reconciler', title='Monitor reconciler',
    help=_('Every conductor periodically looks for VIMs whose monitor is '
           'missing, failed to be set up, or stopped checking in (Mistral '
           'drops the actions of an executor that died), and re-creates '
           'it; and removes monitor workflows no VIM wants any more.'))

OPTS = [
    cfg.BoolOpt('enabled', default=True,
                help=_('Run the reconciler in this conductor.')),
    cfg.IntOpt('interval', default=5, min=1,
               help=_('Seconds between two passes (each conductor adds up '
                      'to 20 % random jitter so that several do not run in '
                      'step). A pass that finds nothing to do costs one '
                      'query.')),
    cfg.IntOpt('silent_after', default=20, min=3,
               help=_('A monitor not heard from (report or heartbeat) for '
                      'this many seconds is presumed dead: the API shows its '
                      'VIM UNKNOWN (derived when the VIM is read, so it '
                      'holds even while every conductor is down) and the '
                      'reconciler repairs it. Must be more than twice '
                      '[vim_monitor] heartbeat_interval; the API server and '
                      'the conductors must agree on it.')),
    cfg.IntOpt('retry_after', default=60, min=5,
               help=_('Seconds to wait before retrying a monitor that could '
                      'not be set up or start (and before touching a VIM '
                      'whose monitor is being set up right now). Each '
                      'further failure in a row doubles the wait, up to '
                      'max_retry_after.')),
    cfg.IntOpt('max_retry_after', default=3600, min=5,
               help=_('The longest wait, in seconds, before retrying a VIM '
                      'whose monitor keeps failing (the VIM shows status '
                      'ERROR with the reason meanwhile).')),
    cfg.IntOpt('orphan_grace', default=300, min=30,
               help=_('A monitor workflow that no VIM wants is removed from '
                      'Mistral once it is this many seconds old (younger '
                      'ones may be in the middle of being set up).')),
    cfg.IntOpt('orphan_interval', default=300, min=10,
               help=_('Seconds between two looks for orphaned monitor '
                      'workflows (each lists every workflow in Mistral).')),
    cfg.IntOpt('batch_size', default=2000, min=1,
               help=_('The most VIMs one pass repairs; everything due is '
                      'repaired in one pass up to this many.')),
    cfg.IntOpt('repair_workers', default=8, min=1,
               help=_('Repairs one conductor runs at a time (each is a few '
                      'calls to Mistral).')),
    cfg.IntOpt('claim_timeout', default=120, min=10,
               help=_('Seconds a conductor holds its claim on the VIMs it '
                      'repairs; another conductor may take them over only '
                      'after that (when the first one died mid-pass).')),
]


def register_opts(conf):
    conf.register_group(GROUP)
    conf.register_opts(OPTS, group=GROUP)


def list_opts():
    return {GROUP: OPTS}
