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

"""CPU cost of one probe: the shared prober against a ``ping`` per probe.

Probes only loopback addresses (127.0.0.0/8 and ::1), so it is safe to run
anywhere. For each target count, every target is probed once per round
(one echo request, like ``ping -c 1``), all at once as a Mistral executor
would, and the CPU time of this process (and, for ping, of its children)
is divided by the number of probes.

    .venv/bin/python tools/bench/bench_prober.py [--targets 100 500]
        [--rounds 3] [--icmp-socket auto]
"""

import argparse
import resource
import shutil
import subprocess
import threading
import time

from tacker_vimmon.action import prober


def loopback_targets(count):
    # 127.0.0.0/8 answers on every address: 127.0.x.y, skipping .0 and .255.
    hosts = ('127.0.%d.%d' % (i // 254, i % 254 + 1) for i in range(count))
    return list(hosts)


def cpu_seconds(children=False):
    who = resource.RUSAGE_CHILDREN if children else resource.RUSAGE_SELF
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


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
    cpu = cpu_seconds() - start_cpu - thread_cpu
    return cpu / probes, answered, probes, time.monotonic() - start


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
    return cpu / probes, answered, probes, time.monotonic() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--targets', type=int, nargs='+',
                        default=[100, 500])
    parser.add_argument('--rounds', type=int, default=3)
    parser.add_argument('--icmp-socket', default='auto',
                        choices=prober.MODES)
    args = parser.parse_args()
    shared = prober.Prober(args.icmp_socket)
    has_ping = shutil.which('ping') is not None
    rows = []
    for count in args.targets:
        targets = loopback_targets(count)
        cpu, answered, probes, wall = bench_shared(shared, targets,
                                                   args.rounds)
        rows.append(('shared prober (%s)' % shared.kind, count, cpu,
                     answered, probes, wall))
        if has_ping:
            cpu, answered, probes, wall = bench_ping(targets, args.rounds)
            rows.append(('ping subprocess', count, cpu, answered, probes,
                         wall))
    shared.close()
    print('| method | targets | CPU ms/probe | answered | wall s |')
    print('| --- | ---: | ---: | ---: | ---: |')
    for method, count, cpu, answered, probes, wall in rows:
        print('| %s | %d | %.3f | %d/%d | %.2f |' % (
            method, count, cpu * 1000, answered, probes, wall))
    if not has_ping:
        print('(no ping command on this machine: its rows are missing)')


if __name__ == '__main__':
    main()
