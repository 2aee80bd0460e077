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

"""What the monitors' check-ins cost an executor: the RPC floor.

Every monitor calls update_vim at least every check_interval (the spec's
contract; 60 s by default), so an executor with N monitors makes N / 60
calls a second whatever the probing costs. This measures the CPU those
calls take in the calling process alone, against a no-op update_vim
server (bench_conductor.NoopEndpoint, in a process of its own, on a
private vhost of the machine's RabbitMQ), through the monitor action's
own reporter (tacker_vimmon.action.runtime.Runtime.reporter, with its
reply reader) and its own loop (loop.MonitorLoop):

* ``N monitors``: N monitor loops on threads of their own, whose verdict
  never changes, each checking in by itself once per --check-interval,
  their first reports spread evenly over one interval, as monitors
  registered one after another are; measured over one interval after
  the first, so that each monitor checks in exactly once in it;
* ``back to back``: one thread reporting as fast as answers come, the
  cost of a call when nothing has to be woken for it;
* ``idle``: the same process after one report, over one interval with
  none: what its connections and reply reader cost by themselves
  (included in the other rows);
* ``N monitors, check-in thread, S s slots`` (with --slot S): the same
  loops, their check-ins made by the process's check-in thread
  (checkins.CheckIns, as the action does with ``[vim_monitor]
  check_in_slot``), which makes every check-in due in the next S seconds
  one after another, once every S seconds. A call right after another
  costs far less than one after a pause (the back-to-back row);
* ``..., together`` (with --slot S and --together): the same thread
  sending each pass's check-ins in update_vims calls, as the action does
  (runtime.Runtime.report_many); its calls/s counts check-ins, not calls.

With --confirms, the back-to-back row and each check-in-thread row are
measured again right after, with the broker confirming every publish
(oslo.messaging's default, which the action's transport turns off:
tacker_vimmon.common.rpc.unconfirmed_sends), to show what that saves.

"CPU per check-in" is the caller process's CPU time (every thread of it)
over the check-ins made; "core %" is CPU time over wall time.

    .venv/bin/python tools/bench/bench_checkins.py [--monitors 500 2000]
        [--check-interval 60] [--slot 5 [--together]]
"""

import argparse
import os
import random
import subprocess
import sys
import tempfile
import threading
import time

import bench_conductor
import bench_prober

from tacker_vimmon.action import checkins
from tacker_vimmon.action import loop
from tacker_vimmon.action import runtime as monitor_runtime
from tacker_vimmon.common import rpc
from tacker_vimmon.common import states

DETAILS = {'rtt': 0.0001, 'detail': None, 'checks': {'icmp': {
    'status': states.REACHABLE, 'reason': states.REASON_OK,
    'detail': None, 'rtt': 0.0001}}}


# The --row of a child that measures no monitors' threads.
IDLE, BACK_TO_BACK = -1, 0
LABELS = {IDLE: 'idle', BACK_TO_BACK: 'back to back'}


def make_runtime(transport_url, workdir, confirms=False):
    if confirms:
        # What the action's transport was before it turned them off.
        rpc.unconfirmed_sends = lambda transport: None
    path = os.path.join(workdir, 'monitor.conf')
    with open(path, 'w') as out:
        out.write('[DEFAULT]\ntransport_url = %s\n[conductor]\ntopic = %s\n'
                  % (transport_url, bench_conductor.NOOP_TOPIC))
    return monitor_runtime.Runtime(monitor_runtime.load_config(path))


def report_once(report):
    if report(states.REACHABLE, reason=states.REASON_OK,
              details=DETAILS) != states.REACHABLE:
        raise RuntimeError('the no-op server answered something else')


class Calls:
    """A counter the reporting threads share."""

    def __init__(self):
        self._lock = threading.Lock()
        self.count = 0

    def add(self):
        with self._lock:
            self.count += 1


class Verdict:
    """A monitor's verdict that never changes: only check-ins follow."""

    status = states.REACHABLE
    reason = states.REASON_OK

    def details(self):
        return DETAILS


def monitors_row(runtime, monitors, interval, slot=0.0, together=False):
    """(check-ins, CPU seconds, wall seconds) of real monitor loops
    (loop.MonitorLoop) over one interval, after one interval of warming
    up; with a slot, their check-ins made by a check-in thread
    (checkins.CheckIns) in passes that many seconds apart, in update_vims
    calls if together."""
    calls = Calls()

    def send(reports):
        for _report in reports:
            calls.add()
        return runtime.report_many(reports)

    check_ins = (checkins.CheckIns(slot, send=send if together else None)
                 if slot else None)
    settings = loop.ProbeSettings(count=3, interval=1.0, timeout=1.0,
                                  failure_threshold=2,
                                  check_interval=interval)

    def monitor(index):
        report = runtime.reporter('vim-%d' % index, 'action-%d' % index)

        def counted(status, **findings):
            calls.add()
            return report(status, **findings)

        # Evenly spread first reports, in a shuffled order.
        time.sleep(interval * random.random())  # noqa: S311
        loop.MonitorLoop('vim-%d' % index, 'action-%d' % index, Verdict(),
                         counted, settings, check_ins=check_ins).run()

    for index in range(monitors):
        threading.Thread(target=monitor, args=(index,), daemon=True).start()
    time.sleep(interval)
    before, began, counted = (bench_prober.cpu_seconds(), time.monotonic(),
                              calls.count)
    time.sleep(interval)
    cpu, ended = bench_prober.cpu_seconds() - before, time.monotonic()
    # The loops run on; the child process ends after this row.
    return calls.count - counted, cpu, ended - began


def back_to_back_row(runtime, seconds):
    report = runtime.reporter('vim-0', 'action-0')
    for _warm in range(100):
        report_once(report)
    before, began, made = bench_prober.cpu_seconds(), time.monotonic(), 0
    while time.monotonic() - began < seconds:
        report_once(report)
        made += 1
    return (made, bench_prober.cpu_seconds() - before,
            time.monotonic() - began)


def idle_row(runtime, interval):
    report_once(runtime.reporter('vim-0', 'action-0'))
    before, began = bench_prober.cpu_seconds(), time.monotonic()
    time.sleep(interval)
    return 0, bench_prober.cpu_seconds() - before, time.monotonic() - began


def measure(args, transport_url, workdir):
    """Rows of this process's calls; run in a child, one per row, so that
    no row inherits another's threads or connections."""
    runtime = make_runtime(transport_url, workdir, args.with_confirms)
    if args.row == IDLE:
        made, cpu, wall = idle_row(runtime, args.check_interval)
    elif args.row == BACK_TO_BACK:
        made, cpu, wall = back_to_back_row(runtime, args.seconds)
    else:
        made, cpu, wall = monitors_row(runtime, args.row,
                                       args.check_interval, args.in_slots,
                                       args.in_batches)
    print('%d %.6f %.6f' % (made, cpu, wall), flush=True)
    os._exit(0)


def child_row(args, transport_url, workdir, row, slot=0.0, confirms=False,
              together=False):
    output = subprocess.run(
        [sys.executable, os.path.abspath(__file__), '--row', str(row),
         '--transport-url', transport_url, '--workdir', workdir,
         '--check-interval', str(args.check_interval),
         '--seconds', str(args.seconds), '--in-slots', str(slot)]
        + (['--with-confirms'] if confirms else [])
        + (['--in-batches'] if together else []),
        capture_output=True, text=True, check=True,
        timeout=4 * args.check_interval + 120)
    made, cpu, wall = output.stdout.split()[-3:]
    return int(made), float(cpu), float(wall)


def with_confirmed_twins(rows):
    """rows, each back-to-back and check-in-thread row followed by its
    twin with publisher confirms, so that both see the machine alike."""
    paired = []
    for row, slot, _confirms, together in rows:
        paired.append((row, slot, False, together))
        if row == BACK_TO_BACK or slot:
            paired.append((row, slot, True, together))
    return paired


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--rabbit-url',
                        default='rabbit://guest:guest@127.0.0.1:5672/')
    parser.add_argument('--postgres-url',
                        default='postgresql+psycopg2://postgres@127.0.0.1/'
                                'postgres')
    parser.add_argument('--monitors', type=int, nargs='+',
                        default=[500, 2000, 4000])
    parser.add_argument('--check-interval', type=float, default=60.0)
    parser.add_argument('--seconds', type=float, default=10.0,
                        help='length of the back-to-back row')
    parser.add_argument('--slot', type=float, default=0.0,
                        help='also measure each monitor count with its '
                        'check-ins made by a check-in thread, in passes '
                        'this many seconds apart')
    parser.add_argument('--confirms', action='store_true',
                        help='also measure the back-to-back and check-in '
                        'thread rows with publisher confirms, right after '
                        'each without')
    parser.add_argument('--together', action='store_true',
                        help='with --slot: also measure each monitor count '
                        'with the check-in thread sending update_vims '
                        'calls, right after it sends one call per check-in')
    parser.add_argument('--in-batches', action='store_true',
                        help=argparse.SUPPRESS)
    parser.add_argument('--row', type=int, help=argparse.SUPPRESS)
    parser.add_argument('--with-confirms', action='store_true',
                        help=argparse.SUPPRESS)
    parser.add_argument('--in-slots', type=float, default=0.0,
                        help=argparse.SUPPRESS)
    parser.add_argument('--transport-url', help=argparse.SUPPRESS)
    parser.add_argument('--workdir', help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.row is not None:
        return measure(args, args.transport_url, args.workdir)

    table = []
    with tempfile.TemporaryDirectory(prefix='tvm-bench-') as workdir, \
            bench_conductor.Environment(args.rabbit_url, args.postgres_url,
                                        workdir) as env:
        env.start_noop('noop-1')
        rows = [(row, 0.0, False, False)
                for row in [IDLE, BACK_TO_BACK] + args.monitors]
        if args.slot:
            for row in args.monitors:
                rows.append((row, args.slot, False, False))
                if args.together:
                    rows.append((row, args.slot, False, True))
        if args.confirms:
            rows = with_confirmed_twins(rows)
        for row, slot, confirms, together in rows:
            made, cpu, wall = child_row(args, env.transport_url, workdir,
                                        row, slot, confirms, together)
            label = LABELS.get(row, '%d monitors' % row)
            if slot:
                label += ', check-in thread, %g s slots' % slot
            if together:
                label += ', together'
            if confirms:
                label += ', publisher confirms'
            table.append((label, made / wall, 100 * cpu / wall,
                          1e6 * cpu / made if made else None))
            print('%s: %d calls' % (label, made), file=sys.stderr,
                  flush=True)
    print('| caller (check_interval %g s) | check-ins/s | CPU (%% of a '
          'core) | CPU per check-in (us) |' % args.check_interval)
    print('|---|---|---|---|')
    for label, rate, core, per_call in table:
        print('| %s | %.1f | %.2f | %s |' % (
            label, rate, core, '-' if per_call is None else
            '%.0f' % per_call))


if __name__ == '__main__':
    sys.exit(main())
