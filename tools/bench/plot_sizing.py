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

"""The sizing table and plot of the admin guide, from bench_scale runs.

Each run is ``bench_scale.py --vims N [--executors E] [--probe-interval S]
--json FILE``; this reads the files, prints the table (reStructuredText,
as the guide has it) and draws CPU and executor memory against N into a
PNG. Needs matplotlib (``pip install -r tools/bench/requirements.txt``).

    .venv/bin/python tools/bench/plot_sizing.py \\
        --png doc/source/admin/sizing.png tools/bench/results/*.json
"""

import argparse
import json


def load(paths):
    runs = []
    for path in paths:
        with open(path) as source:
            runs.append(json.load(source)['sizing'])
    return sorted(runs, key=lambda run: (interpreter(run), check_ins(run),
                                         run['icmp_socket'],
                                         run['probe_interval'], run['vims'],
                                         run['executors']))


def interpreter(run):
    """The executors' Python: its version, and whether its core is a
    shared libpython (runs before bench_scale recorded it say so)."""
    described = run.get('interpreter', {}).get('mistral')
    return described.split(' ', 1)[1] if described else 'not recorded'


def check_ins(run):
    """How the executors sent their routine check-ins: 'together' (in
    update_vims calls) or 'one per call'. Runs from before update_vims
    recorded neither this nor the Mistral engines, which came with it."""
    if 'check_ins' in run:
        return run['check_ins']
    return 'together' if 'engines' in run else 'one per call'


def kind(run):
    return (run['probe_interval'], run['icmp_socket'], interpreter(run),
            check_ins(run))


def series(runs):
    """(label, runs) for each line of the plot: one per probe interval,
    socket kind, interpreter and way of checking in."""
    return [('probe interval %g s, %s sockets, Python %s, check-ins %s'
             % each,
             [run for run in runs if kind(run) == each])
            for each in sorted({kind(run) for run in runs})]


def per_executor(run, key):
    values = run[key]
    return sum(values) / len(values)


def table(runs):
    header = ('Python', 'check-ins', 'VIMs', 'executors',
              'probe interval (s)',
              'ICMP sockets', 'echo requests/s',
              'CPU per executor (% of a core)',
              'CPU whole system (% of a core)', 'RSS per executor (MiB)',
              'threads per executor')
    rows = [(interpreter(run), check_ins(run), str(run['vims']),
             str(run['executors']),
             '%g' % run['probe_interval'], run['icmp_socket'],
             '%.0f' % run['echo_rate'],
             '%.1f' % per_executor(run, 'executor_cpu'),
             '%.1f' % run['whole_cpu'],
             '%.0f' % per_executor(run, 'executor_rss'),
             '%.0f' % per_executor(run, 'executor_threads'))
            for run in runs]
    widths = [max(len(cell) for cell in column)
              for column in zip(header, *rows, strict=True)]
    rule = ' '.join('=' * width for width in widths)

    def line(cells):
        return ' '.join(cell.ljust(width) for cell, width in
                        zip(cells, widths, strict=True)).rstrip()
    return '\n'.join([rule, line(header), rule] + [line(row) for row in rows]
                     + [rule])


def plot(runs, png):
    import matplotlib
    matplotlib.use('Agg')
    from matplotlib import pyplot

    figure, (cpu_axes, memory_axes) = pyplot.subplots(
        1, 2, figsize=(12, 6.5), dpi=100)
    for label, these in series(runs):
        vims = [run['vims'] for run in these]
        cpu_axes.plot(vims, [run['whole_cpu'] for run in these], 'o-',
                      label='whole system, ' + label)
        cpu_axes.plot(vims, [per_executor(run, 'executor_cpu')
                             for run in these], 's--',
                      label='per executor, ' + label)
        memory_axes.plot(vims, [per_executor(run, 'executor_rss')
                                for run in these], 'o-', label=label)
    cpu_axes.set(xlabel='VIMs', ylabel='CPU (% of one core)',
                 title='Steady-state CPU')
    memory_axes.set(xlabel='VIMs', ylabel='RSS per executor (MiB)',
                    title='Executor memory')
    for axes in (cpu_axes, memory_axes):
        axes.grid(True, alpha=0.3)
        # Below the plot: with several interpreters and intervals the
        # labels would hide the lines.
        axes.legend(fontsize='x-small', loc='upper center',
                    bbox_to_anchor=(0.5, -0.14))
        axes.set_ylim(bottom=0)
    figure.tight_layout()
    figure.savefig(png)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--png', help='where to draw the plot')
    parser.add_argument('results', nargs='+',
                        help='files of bench_scale.py --json')
    args = parser.parse_args()
    runs = load(args.results)
    print(table(runs))
    if args.png:
        plot(runs, args.png)


if __name__ == '__main__':
    main()
