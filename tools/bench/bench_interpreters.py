#!/usr/bin/env python3
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

"""One benchmark under several Python interpreters, side by side.

  tools/bench/bench_interpreters.py --venvs .venv /tmp/venv-pyenv \\
      [--rounds 2] -- bench_prober.py --targets 2000 --api-check

Runs one of tools/bench's benchmarks (those that print a Markdown table)
with each virtualenv's python in turn, A B A B ... for --rounds, so that
a drift of the machine's speed meets every interpreter alike, and prints
one table: each of the benchmark's rows once per interpreter and round,
the interpreter first. The monitors' CPU is the interpreter's work, so how
the interpreter was built shows in every figure (tools/venv-lib.sh).

Each virtualenv must hold tacker-vimmon and the benchmarks' requirements:
``PYTHON=/path/to/python3 tools/make-venv.sh VENV`` then
``VENV/bin/pip install -r tools/bench/requirements.txt``.
"""

import argparse
import os
import subprocess
import sys

import benchstack

HERE = os.path.dirname(os.path.abspath(__file__))


def table_of(output):
    """(header cells, data rows' cells) of the last Markdown table in
    output; other lines (notes, progress) are left out."""
    tables, current = [], []
    for line in output.splitlines():
        if line.startswith('|'):
            current.append([cell.strip() for cell in
                            line.strip().strip('|').split('|')])
        elif current:
            tables.append(current)
            current = []
    if current:
        tables.append(current)
    if not tables or len(tables[-1]) < 2:
        raise SystemExit('the benchmark printed no table:\n' + output)
    header, _rule, *rows = tables[-1]
    return header, rows


def run_once(python, bench):
    script = os.path.join(HERE, bench[0])
    done = subprocess.run([python, script] + bench[1:],
                          capture_output=True, text=True)
    if done.returncode:
        raise SystemExit('%s %s failed (%d):\n%s' % (
            python, ' '.join(bench), done.returncode, done.stderr[-3000:]))
    return table_of(done.stdout)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--venvs', nargs='+', required=True,
                        help='virtualenvs, each made with another python')
    parser.add_argument('--rounds', type=int, default=2)
    parser.add_argument('bench', nargs=argparse.REMAINDER,
                        help='-- then a tools/bench script and its options')
    args = parser.parse_args()
    bench = args.bench[1:] if args.bench[:1] == ['--'] else args.bench
    if not bench:
        parser.error('name the benchmark after --')
    pythons = [os.path.join(venv, 'bin', 'python') for venv in args.venvs]
    names = {python: benchstack.describe_interpreter(python)
             for python in pythons}
    header, results = None, []
    for round_number in range(1, args.rounds + 1):
        for python in pythons:
            print('round %d: %s' % (round_number, names[python]),
                  file=sys.stderr, flush=True)
            header, rows = run_once(python, bench)
            results.append((round_number, names[python], rows))
    print('%s, %d rounds, each interpreter in turn' % (
        ' '.join(bench), args.rounds))
    print()
    print('| interpreter | round | ' + ' | '.join(header) + ' |')
    print('|---|---|' + '---|' * len(header))
    # Row by row of the benchmark, every interpreter's run next to the
    # others'.
    for index in range(len(results[0][2])):
        for round_number, name, rows in results:
            if index < len(rows):
                print('| %s | %d | %s |' % (name, round_number,
                                            ' | '.join(rows[index])))


if __name__ == '__main__':
    sys.exit(main())
