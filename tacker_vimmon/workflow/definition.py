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

"""The Mistral workflow that monitors one VIM.

Each monitor is a direct workflow with a single task that runs this
package's long-lived monitor action. The definition names the VIM and the
monitor (action_id), so a replacement can be created before the old one is
removed; every value the action needs comes in as workflow input, and
nothing secret is ever part of it (only where to probe and how).
"""

import yaml

ACTION_NAME = 'tacker_vimmon.vim_monitor'
TASK_NAME = 'monitor'
WORKFLOW_PREFIX = 'tacker_vimmon-vim-'

# What the action takes, in the order Mistral shows it.
WORKFLOW_INPUTS = ('vim_id', 'action_id', 'target', 'probe')


class _NoAliasDumper(yaml.SafeDumper):
    """YAML without anchors or aliases: Mistral does not accept them."""

    def ignore_aliases(self, data):
        return True


def workflow_name(vim_id, action_id):
    """The name of the workflow of one monitor of one VIM.

    Mistral refuses names that look like UUIDs (they would be taken for
    ids), which a prefix avoids.
    """
    return '%s%s-%s' % (WORKFLOW_PREFIX, vim_id, action_id[:8])


def parse_name(name):
    """(vim_id, action_id prefix) of a monitor workflow's name, or None."""
    if not name.startswith(WORKFLOW_PREFIX):
        return None
    rest = name[len(WORKFLOW_PREFIX):]
    # <vim_id>-<first 8 characters of action_id>
    vim_id, sep, action_prefix = rest[:-9], rest[-9:-8], rest[-8:]
    if sep != '-' or not vim_id:
        return None
    return vim_id, action_prefix


def definition(vim_id, action_id):
    """The workflow definition (Mistral v2 DSL, YAML) of one monitor."""
    name = workflow_name(vim_id, action_id)
    workflow = {
        'version': '2.0',
        name: {
            'description': 'Reachability monitor of VIM %s '
                           '(tacker-vimmon)' % vim_id,
            'type': 'direct',
            'input': list(WORKFLOW_INPUTS),
            'tasks': {
                TASK_NAME: {
                    'action': ACTION_NAME,
                    'input': {field: '<%% $.%s %%>' % field
                              for field in WORKFLOW_INPUTS},
                },
            },
        },
    }
    return yaml.dump(workflow, Dumper=_NoAliasDumper,
                     default_flow_style=False, sort_keys=False)


def workflow_input(vim_id, action_id, target, probe):
    """The input of one monitor's execution.

    :param target: the host to probe (from the VIM's auth_url)
    :param probe: probe settings (count, interval, timeout, failure
        threshold, check-in interval) as plain numbers
    """
    return {'vim_id': vim_id, 'action_id': action_id, 'target': target,
            'probe': dict(probe)}
