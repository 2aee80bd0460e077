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

Each VIM has one direct workflow, for as long as it is registered, with a
single task that runs this package's long-lived monitor action. Each
monitor is an execution of it: every value the action needs (which monitor
it is, where to probe and how) comes in as execution input, so a new
monitor costs one execution and no workflow. Nothing secret is ever part of
the definition or the input.

Before, each monitor had a workflow of its own, named after the VIM and the
first characters of its action_id; parse_name() still reads those names so
that the reconciler can tell them apart while they are migrated.
"""

from oslo_utils import uuidutils
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


def workflow_name(vim_id):
    """The name of the workflow of one VIM.

    Mistral refuses names that look like UUIDs (they would be taken for
    ids), which a prefix avoids.
    """
    return WORKFLOW_PREFIX + vim_id


def parse_name(name):
    """What a monitor workflow's name says, or None if it is not one.

    :returns: (vim_id, None) for a VIM's workflow, (vim_id, action_id
        prefix) for a per-monitor workflow of the former naming
    """
    if not name.startswith(WORKFLOW_PREFIX):
        return None
    vim_id = name[len(WORKFLOW_PREFIX):]
    if _is_vim_id(vim_id):
        return vim_id, None
    # The former naming: <vim_id>-<first 8 characters of action_id>
    vim_id, sep, action_prefix = vim_id[:-9], vim_id[-9:-8], vim_id[-8:]
    if sep != '-' or not _is_vim_id(vim_id):
        return None
    return vim_id, action_prefix


def _is_vim_id(value):
    # VIM ids are UUIDs (36 characters), which is what tells a VIM's
    # workflow from a former per-monitor one (36 + 9 characters).
    return uuidutils.is_uuid_like(value)


def definition(vim_id):
    """The workflow definition (Mistral v2 DSL, YAML) of one VIM.

    The task passes the execution's input on with Jinja expressions, not
    YAQL: Mistral 23 runs its API and engine on threads and parses every
    YAQL expression with one shared parser, which is not thread-safe, so
    under concurrent registrations it now and then refused a workflow
    ("YaqlGrammarException: Parse error: unexpected end of statement",
    about one in 1,500 creates from 8 clients). Jinja parses each
    expression with a parser of its own.
    """
    workflow = {
        'version': '2.0',
        workflow_name(vim_id): {
            'description': 'Reachability monitor of VIM %s '
                           '(tacker-vimmon)' % vim_id,
            'type': 'direct',
            'input': list(WORKFLOW_INPUTS),
            'tasks': {
                TASK_NAME: {
                    'action': ACTION_NAME,
                    'input': {field: '{{ _.%s }}' % field
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
