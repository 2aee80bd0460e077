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

"""CPU cost of an echo: the probing engine, a thread per probe, ``ping``.

Probes only loopback addresses (127.0.0.0/8 and ::1), so it is safe to run
anywhere. For each target count, side by side in one run:

* ``engine``: every target is a monitor of the process's probing engine
  (tacker_vimmon.action.engine), as in a Mistral executor, with the
  default probe settings (3 requests 1 s apart, 1 s timeout; a round ends
  at its first reply), measured for ``--seconds`` once every monitor has
  its first verdict;
* ``thread per probe``: the shared prober's blocking probe() from a thread
  per target, once per round (how the monitors probed before the engine);
* ``ping subprocess``: one ``ping -c 1`` per target per round;
* ``engine + API check`` (with ``--api-check``): the engine's monitors
  with the API check on as well (``checks = both``), every monitor's API
  check going to one HTTP endpoint on 127.0.0.1 (tests/http_endpoint.py,
  in a process of its own, so that its CPU is not counted) every
  ``--api-interval`` seconds; measure for longer than that interval
  (``--seconds``) to see the checks' share. "checks" counts the API checks
  done in the window.

With ``--gc-ballast N``, the process first makes N long-lived objects
that the garbage collector tracks, about what a Mistral executor holds
with 2,000 actions (about 540,000), and the engine rows add what the
collector did while they were measured: full collections and the
collector's time per second. What the engine keeps alive for a second or
more is promoted to the oldest generation, and each full collection
walks the whole ballast.

With ``--pass-intervals``, the engine rows are measured once for each
interval between the probing threads' passes (prober.PASS_INTERVAL, which
the engine's scheduler and the API checker use too), side by side.

The CPU time of this process (and, for ping, of its children) is divided
by the echo requests sent; "core %" is CPU time over wall time.

    .venv/bin/python tools/bench/bench_prober.py [--targets 100 500]
        [--rounds 3] [--seconds 5] [--icmp-socket auto]
        [--api-check --api-interval 30] [--pass-intervals 0.02 0.1]
        [--gc-ballast 540000]
"""

import argparse
import gc
import resource
import shutil
import socket
import subprocess
import sys
import threading
import time

from tacker_vimmon.action import apicheck
from tacker_vimmon.action import engine as probing_engine
from tacker_vimmon.action import loop
from tacker_vimmon.action import prober
from tacker_vimmon.action import target as probe_target

ENGINE_SETTINGS = loop.ProbeSettings(count=3, interval=1.0, timeout=1.0,
                                     failure_threshold=2, check_interval=60)


def loopback_targets(count):
    # 127.0.0.0/8 answers on every address: 127.0.x.y, skipping .0 and .255.
    hosts = ('127.0.%d.%d' % (i // 254, i % 254 + 1) for i in range(count))
    return list(hosts)


def cpu_seconds(children=False):
    who = resource.RUSAGE_CHILDREN if children else resource.RUSAGE_SELF
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


class GcMeter:
    """What the garbage collector did between start() and stop()."""

    def __init__(self):
        self.full = 0
        self.seconds = 0.0
        self._began = None

    def _observe(self, phase, info):
        if phase == 'start':
            self._began = time.perf_counter()
        elif self._began is not None:
            self.seconds += time.perf_counter() - self._began
            self.full += info['generation'] == 2

    def start(self):
        gc.callbacks.append(self._observe)

    def stop(self):
        gc.callbacks.remove(self._observe)


def make_ballast(count):
    # Small lists: tracked by the collector and never freed, as the
    # objects of a long-running executor.
    ballast = [[i] for i in range(count)]
    gc.collect()
    return ballast


def bench_shared(shared, targets, rounds):
    answered = 0
    start_cpu, start = cpu_seconds(), time.monotonic()
    for _ in range(rounds):
        results = []
        threads = [threading.Thread(
            target=lambda a=address, r=results: r.append(
                shared.probe(a, count=1, interval=0.01, timeout=2)))
            for address in targets]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        answered += sum(r.received for r in results)
    probes = rounds * len(targets)
    # Thread start-up is the executor's cost, not the prober's: measure
    # it alone and subtract it.
    thread_cpu = bench_threads(len(targets), rounds)
    wall = time.monotonic() - start
    cpu = cpu_seconds() - start_cpu - thread_cpu
    return cpu / probes, answered, probes, wall, cpu, probes


def bench_engine(shared, targets, seconds, settings=ENGINE_SETTINGS,
                 url='http://%s', checker=None):
    engine = probing_engine.Engine(shared, checker=checker)
    monitors = []
    for address in targets:
        where = probe_target.ProbeTarget(url % address, address)
        monitors.append(engine.add(where, settings, threading.Event()))
    deadline = time.monotonic() + 30
    while (any(m.status is None for m in monitors)
           and time.monotonic() < deadline):
        time.sleep(0.1)
    if checker is not None and hasattr(checker, 'mark'):
        checker.mark()
    # Read without the prober's lock: a benchmark's estimate.
    start_sent = shared._counter
    collector = GcMeter()
    collector.start()
    start_cpu, start = cpu_seconds(), time.monotonic()
    time.sleep(seconds)
    cpu = cpu_seconds() - start_cpu
    collector.stop()
    wall = time.monotonic() - start
    sent = shared._counter - start_sent
    answered = sum(m.status == 'REACHABLE' for m in monitors)
    for monitor in monitors:
        engine.remove(monitor)
    engine.close()
    return (cpu / max(sent, 1), answered, len(monitors), wall, cpu, sent,
            collector)


def bench_api_check(shared, count, seconds, interval):
    """The engine with API checks, all to one endpoint on 127.0.0.1."""
    with socket.socket() as probe:
        probe.bind(('127.0.0.1', 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, '-m', 'tacker_vimmon.tests.http_endpoint',
         '--address', '127.0.0.1', '--port', str(port)],
        stdout=subprocess.PIPE, text=True)
    try:
        server.stdout.readline()
        settings = ENGINE_SETTINGS._replace(
            checks='both', api_interval=interval, api_timeout=5.0,
            api={'path': '/v3', 'verify': True, 'ca_cert': None})
        checker = _Counting(apicheck.ApiChecker())
        result = bench_engine(shared, ['127.0.0.1'] * count, seconds,
                              settings, url='http://%%s:%d/v3' % port,
                              checker=checker)
        checker.close()
        return result + (checker.measured(),)
    finally:
        server.terminate()
        server.wait()


class _Counting:
    """An ApiChecker that counts its checks from mark() on."""

    def __init__(self, checker):
        self._checker = checker
        self._count = 0
        self._marked = 0

    def check(self, *args):
        self._count += 1
        self._checker.check(*args)

    def mark(self):
        self._marked = self._count

    def measured(self):
        return self._count - self._marked

    def close(self):
        self._checker.close()


def bench_threads(count, rounds):
    start = cpu_seconds()
    for _ in range(rounds):
        threads = [threading.Thread(target=lambda: None)
                   for _ in range(count)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    return cpu_seconds() - start


def bench_ping(targets, rounds):
    answered = 0
    start_cpu = cpu_seconds() + cpu_seconds(children=True)
    start = time.monotonic()
    for _ in range(rounds):
        procs = [subprocess.Popen(['ping', '-n', '-q', '-c', '1', '-W', '2',
                                   address], stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
                 for address in targets]
        answered += sum(proc.wait() == 0 for proc in procs)
    probes = rounds * len(targets)
    cpu = cpu_seconds() + cpu_seconds(children=True) - start_cpu
    return (cpu / probes, answered, probes, time.monotonic() - start, cpu,
            probes)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--targets', type=int, nargs='+',
                        default=[100, 500])
    parser.add_argument('--rounds', type=int, default=3)
    parser.add_argument('--seconds', type=float, default=5.0,
                        help='how long the engine is measured')
    parser.add_argument('--icmp-socket', default='auto',
                        choices=prober.MODES)
    parser.add_argument('--api-check', action='store_true',
                        help='add rows of the engine with the API check')
    parser.add_argument('--api-interval', type=float, default=30.0,
                        help='seconds between API checks of a monitor')
    parser.add_argument('--pass-intervals', type=float, nargs='+',
                        default=[prober.PASS_INTERVAL],
                        help='measure the engine rows with each of these '
                        'intervals between the probing threads\' passes')
    parser.add_argument('--gc-ballast', type=int, default=0,
                        help='long-lived objects to make first, as an '
                        'executor has (540000 at 2,000 actions)')
    args = parser.parse_args()
    _ballast = make_ballast(args.gc_ballast)  # alive until main returns
    shared = prober.Prober(args.icmp_socket)
    has_ping = shutil.which('ping') is not None
    rows = []
    for count in args.targets:
        targets = loopback_targets(count)
        for interval in args.pass_intervals:
            # Every probing thread reads it at each pass.
            prober.PASS_INTERVAL = interval
            passes = '%s, %g s passes' % (shared.kind, interval)
            rows.append(('engine (%s)' % passes, count)
                        + bench_engine(shared, targets, args.seconds))
            if args.api_check:
                rows.append(('engine + API check (%s)' % passes, count)
                            + bench_api_check(shared, count, args.seconds,
                                              args.api_interval))
        rows.append(('thread per probe (%s)' % shared.kind, count)
                    + bench_shared(shared, targets, args.rounds))
        if has_ping:
            rows.append(('ping subprocess', count)
                        + bench_ping(targets, args.rounds))
    shared.close()
    print('| method | targets | echoes | checks | CPU ms/echo '
          '| CPU ms/check | answered | wall s | core % '
          '| full GCs | GC ms/s |')
    print('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: '
          '| ---: | ---: |')
    engine_per_echo = {}
    for row in rows:
        method, count, per_echo, answered, out_of, wall, cpu, sent = row[:8]
        # Engine rows add the collector's work, and API rows their checks.
        collector, checks = (row[8:] + (None, None))[:2]
        per_check, full, gc_time = '-', '-', '-'
        if collector is not None:
            full = '%d' % collector.full
            gc_time = '%.1f' % (1000 * collector.seconds / wall)
        if method.startswith('engine ('):
            engine_per_echo[count] = per_echo
        if checks is not None:
            # What the checks add to the engine alone, measured just
            # before at the same count and pass interval.
            api_cpu = cpu - engine_per_echo[count] * sent
            per_check = '%.3f' % (1000 * api_cpu / max(checks, 1))
        print('| %s | %d | %d | %s | %.3f | %s | %d/%d | %.2f | %.1f '
              '| %s | %s |' % (
                  method, count, sent, '-' if checks is None else checks,
                  per_echo * 1000, per_check,
                  answered, out_of, wall, 100 * cpu / wall, full, gc_time))
    print('(engine: "answered" counts monitors REACHABLE at the end; the '
          'others count probes answered)')
    if not has_ping:
        print('(no ping command on this machine: its rows are missing)')


if __name__ == '__main__':
    main()
