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


"""The layout's rules: which code may import which, and what importing does.

The monitor action runs inside Mistral's executor, the services in their
own processes; these tests keep the packages honest about that (see the
contributor guide's architecture page).
"""

import ast
import json
import os
import pathlib
import subprocess
import sys
import textwrap

from tacker_vimmon.tests import base

PACKAGE_DIR = pathlib.Path(__file__).resolve().parents[2]
PACKAGE = PACKAGE_DIR.name

# What the code Mistral's executor loads may import of this project.
ACTION_MAY_IMPORT = (
    'tacker_vimmon.action',
    'tacker_vimmon.common.context',
    'tacker_vimmon.common.exception',
    'tacker_vimmon.common.rpc',
    'tacker_vimmon.common.states',
    'tacker_vimmon.common.threads',
    'tacker_vimmon.conductor.rpcapi',
    'tacker_vimmon.i18n',
)
# The entry points: only they may import tacker_vimmon.cmd, which selects
# oslo.service's threading backend for the whole process.
ENTRY_POINTS = ('cmd/', 'wsgi/', 'tests/__init__.py')
# What importing the action's entry point must never load.
SERVER_SIDE = ('tacker_vimmon.cmd', 'tacker_vimmon.db', 'tacker_vimmon.api',
               'tacker_vimmon.conf', 'tacker_vimmon.workflow',
               'tacker_vimmon.registry', 'tacker_vimmon.conductor.manager',
               'tacker_vimmon.conductor.service')


def _library_modules():
    """(path relative to the package, source) of every non-test module."""
    for path in sorted(PACKAGE_DIR.rglob('*.py')):
        relative = path.relative_to(PACKAGE_DIR).as_posix()
        if not relative.startswith('tests/'):
            yield relative, path.read_text()


def _module_name(relative):
    parts = relative[:-len('.py')].split('/')
    if parts[-1] == '__init__':
        parts.pop()
    return '.'.join([PACKAGE] + parts)


def _imports(source):
    """Every tacker_vimmon module a source imports, at any depth."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.update('%s.%s' % (node.module, alias.name)
                         for alias in node.names)
    return {name for name in found
            if name == PACKAGE or name.startswith(PACKAGE + '.')}


def _package_of(module):
    """The top package (or top-level module) a module belongs to."""
    parts = module.split('.')
    return parts[1] if len(parts) > 1 else parts[0]


def _within(module, allowed):
    return any(module == prefix or module.startswith(prefix + '.')
               for prefix in allowed)


def _run_fresh(script, env=None):
    """Run a script in a fresh interpreter; its last line, as JSON."""
    out = subprocess.run(
        [sys.executable, '-c', textwrap.dedent(script)], capture_output=True,
        text=True, check=True, timeout=120,
        env=dict(os.environ, **(env or {}))).stdout
    return json.loads(out.strip().splitlines()[-1])


class TestImportRules(base.TestCase):

    def test_the_action_imports_only_what_runs_in_the_executor(self):
        wrong = []
        for relative, source in _library_modules():
            if not relative.startswith('action/'):
                continue
            wrong += ['%s imports %s' % (relative, name)
                      for name in sorted(_imports(source))
                      if name != PACKAGE
                      and not _within(name, ACTION_MAY_IMPORT)]
        self.assertEqual([], wrong)

    def test_only_entry_points_import_cmd(self):
        wrong = [relative for relative, source in _library_modules()
                 if not relative.startswith(ENTRY_POINTS)
                 and any(_within(name, ('tacker_vimmon.cmd',))
                         for name in _imports(source))]
        self.assertEqual([], wrong)

    def test_no_import_cycle_between_packages(self):
        graph = {}
        for relative, source in _library_modules():
            here = _package_of(_module_name(relative))
            graph.setdefault(here, set()).update(
                _package_of(name) for name in _imports(source)
                if name != PACKAGE and _package_of(name) != here)
        self.assertEqual([], _cycles(graph))

    def test_every_package_says_what_it_is(self):
        silent = [relative for relative, source in _library_modules()
                  if relative.endswith('__init__.py')
                  and not ast.get_docstring(ast.parse(source))]
        self.assertEqual([], silent)

    def test_no_isort_off(self):
        marked = [relative for relative, source in _library_modules()
                  if 'isort: ' + 'off' in source]
        self.assertEqual([], marked)


def _cycles(graph):
    """Each cycle of a directed graph once, as a path (depth-first)."""
    found, done = [], set()

    def visit(node, path):
        if node in path:
            cycle = path[path.index(node):] + [node]
            if set(cycle) not in [set(c) for c in found]:
                found.append(cycle)
            return
        if node in done:
            return
        for successor in sorted(graph.get(node, ())):
            visit(successor, path + [node])
        done.add(node)

    for node in sorted(graph):
        visit(node, [])
    return found


_ACTION_IMPORT = '''
import json, sys
from oslo_config import cfg
import oslo_messaging  # registers its own options on cfg.CONF
before = set(cfg.CONF.keys())
import tacker_vimmon.action.monitor
print(json.dumps({'modules': sorted(m for m in sys.modules
                                    if m.startswith('tacker_vimmon')),
                  'registered': sorted(set(cfg.CONF.keys()) - before)}))
'''

_ACTION_START = '''
import json, sys
from unittest import mock
from oslo_config import cfg
import oslo_messaging  # registers its own options on cfg.CONF
before = set(cfg.CONF.keys())
from tacker_vimmon.action import runtime
with mock.patch('tacker_vimmon.action.prober.get_prober'):
    rt = runtime.get_runtime()
print(json.dumps({'modules': sorted(m for m in sys.modules
                                    if m.startswith('tacker_vimmon')),
                  'registered': sorted(set(cfg.CONF.keys()) - before),
                  'groups': sorted(rt.conf.keys()),
                  'topic': rt.conf.conductor.topic,
                  'timeout': rt.conductor.timeout}))
'''


class TestWhatImportingDoes(base.TestCase):

    def assertNoServerSide(self, modules):
        self.assertEqual([], [m for m in modules
                              if _within(m, SERVER_SIDE)])

    def test_the_actions_entry_point_loads_no_server_code(self):
        found = _run_fresh(_ACTION_IMPORT)
        self.assertIn('tacker_vimmon.action.monitor', found['modules'])
        self.assertNoServerSide(found['modules'])
        # Inside Mistral's executor the global configuration is Mistral's.
        self.assertEqual([], found['registered'])

    def test_the_action_starts_with_only_its_own_file(self):
        path = os.path.join(self.useFixture(base.fixtures.TempDir()).path,
                            'tacker-vimmon-monitor.conf')
        with open(path, 'w') as conf_file:
            conf_file.write('[DEFAULT]\ntransport_url = fake://\n'
                            '[conductor]\ntopic = elsewhere\n'
                            '[vim_monitor]\nreport_timeout = 4\n')
        found = _run_fresh(_ACTION_START, env={
            'TACKER_VIMMON_MONITOR_CONFIG_FILE': path,
            'TACKER_VIMMON_CONFIG_FILE': '/nonexistent/tacker-vimmon.conf'})
        self.assertNoServerSide(found['modules'])
        self.assertEqual([], found['registered'])
        self.assertEqual(('elsewhere', 4.0),
                         (found['topic'], found['timeout']))
        self.assertNotIn('database', found['groups'])
        self.assertNotIn('keystone_authtoken', found['groups'])
        self.assertNotIn('mistral', found['groups'])

    def test_importing_the_configuration_registers_nothing(self):
        found = _run_fresh('''
            import json
            from oslo_config import cfg
            before = set(cfg.CONF.keys())
            import tacker_vimmon.conf
            print(json.dumps(sorted(set(cfg.CONF.keys()) - before)))
            ''')
        self.assertEqual([], found)

    def test_library_code_leaves_the_backend_to_the_process(self):
        modules = [_module_name(relative)
                   for relative, _source in _library_modules()
                   if not relative.startswith(ENTRY_POINTS)
                   and 'migrations/' not in relative]
        found = _run_fresh('''
            import importlib, json, sys
            for name in %r:
                importlib.import_module(name)
            print(json.dumps(sorted(m for m in sys.modules
                                    if m.startswith('tacker_vimmon.cmd'))))
            ''' % modules)
        self.assertEqual([], found)
