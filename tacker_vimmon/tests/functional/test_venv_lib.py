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

"""tools/venv-lib.sh: the interpreter the project's virtualenvs are made
with, run in bash as tools/make-venv.sh and setup-mistral-venv.sh do."""

import os
import subprocess
import sys
import tempfile

from tacker_vimmon.tests import base

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))
LIB = os.path.join(TOP, 'tools', 'venv-lib.sh')
DISTRO_PYTHON = '/usr/bin/python3'


def bash(script, **env):
    done = subprocess.run(
        ['bash', '-c', '. %s\n%s' % (LIB, script)], capture_output=True,
        text=True, timeout=300, env=dict(os.environ, **env))
    if done.returncode:
        raise AssertionError('bash failed (%d): %s%s' % (
            done.returncode, done.stdout, done.stderr))
    return done.stdout.strip()


def base_of(python):
    return subprocess.run(
        [python, '-c', 'import os, sys; '
         'print(os.path.realpath(sys._base_executable))'],
        capture_output=True, text=True, check=True).stdout.strip()


def interpreters():
    """Distinct interpreters of this machine, by their real paths: the
    distribution's, this test's, and every python3 on PATH (where a venv's
    bin comes first, and pyenv's shims after it)."""
    candidates = [DISTRO_PYTHON, sys._base_executable] + [
        os.path.join(directory, 'python3')
        for directory in os.environ.get('PATH', '').split(os.pathsep)
        if directory]
    found = {}
    for candidate in candidates:
        if not os.access(candidate, os.X_OK):
            continue
        try:
            found.setdefault(base_of(candidate), candidate)
        except (OSError, subprocess.CalledProcessError):
            continue  # not a Python that runs
    return list(found.values())


class PickPythonTest(base.TestCase):

    def test_python_from_the_environment_wins(self):
        self.assertEqual('/opt/my/python3',
                         bash('pick_python', PYTHON='/opt/my/python3'))

    def test_the_distributions_python3_when_it_is_new_enough(self):
        if not os.path.exists(DISTRO_PYTHON):
            self.skipTest('no %s on this machine' % DISTRO_PYTHON)
        self.assertEqual(DISTRO_PYTHON, bash('unset PYTHON; pick_python'))

    def test_python3_from_path_when_the_distributions_is_too_old(self):
        with tempfile.TemporaryDirectory() as scratch:
            old = os.path.join(scratch, 'python3')
            with open(old, 'w') as out:
                # Answers the version check as a Python 3.10 would.
                out.write('#!/bin/sh\nexit 1\n')
            os.chmod(old, 0o755)
            self.assertEqual('python3', bash(
                'DISTRO_PYTHON=%s; unset PYTHON; pick_python' % old))


class EnsureVenvTest(base.TestCase):

    def test_a_venv_of_another_interpreter_is_made_again(self):
        found = interpreters()
        if len(found) < 2:
            self.skipTest('one interpreter on this machine: %s' % found)
        first, second = found[:2]
        with tempfile.TemporaryDirectory() as scratch:
            venv = os.path.join(scratch, 'venv')
            subprocess.run([first, '-m', 'venv', '--without-pip', venv],
                           check=True)
            python = os.path.join(venv, 'bin', 'python')
            self.assertEqual(base_of(first), base_of(python))

            said = bash('ensure_venv %s %s' % (venv, second))

            self.assertIn('made with another interpreter', said)
            self.assertEqual(base_of(second), base_of(python))

    def test_a_venv_of_the_same_interpreter_is_kept(self):
        python3 = interpreters()[0]
        with tempfile.TemporaryDirectory() as scratch:
            venv = os.path.join(scratch, 'venv')
            subprocess.run([python3, '-m', 'venv', '--without-pip', venv],
                           check=True)
            kept = os.path.join(venv, 'kept')
            open(kept, 'w').close()

            said = bash('ensure_venv %s %s' % (venv, python3))

            self.assertEqual('', said)
            self.assertTrue(os.path.exists(kept))


class ShellcheckTest(base.TestCase):

    def test_the_venv_scripts(self):
        scripts = [os.path.join(TOP, 'tools', name) for name in (
            'venv-lib.sh', 'make-venv.sh',
            os.path.join('mistral', 'setup-mistral-venv.sh'))]
        done = subprocess.run(['shellcheck', '-x', *scripts],
                              capture_output=True, text=True, timeout=120,
                              cwd=TOP)
        self.assertEqual(0, done.returncode, done.stdout + done.stderr)
