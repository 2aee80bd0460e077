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

"""N VIMs monitored at once, as an operator runs them: what it costs.

Starts the whole system (benchstack.Stack: default monitoring settings,
the shipped Mistral settings, E executors and --engines engine processes,
two by default as the guides run them), then does what an operator does
and prints one table:

* registers N VIMs through the REST API from a few parallel clients
  (registrations/s, POST p50/p99), watching the VIM list from the first
  registration on (registration -> REACHABLE p50/p99);
* steady state: CPU % of one core per process (Mistral api+engine, each
  executor, conductor, API server, PostgreSQL, RabbitMQ) over --steady
  seconds, the echo requests sent per second and the CPU of the
  executors' probing threads (the engine's scheduler, ICMP receiver and
  API checker) per echo request, the update_vim calls the conductors
  answered per second (their own counters) and what each costs the
  executors' check-in and RPC reply threads, and each executor's RSS and
  threads (and their growth per VIM over the executor before any VIM);
* takes the namespace hosts' links down at once: link down ->
  UNREACHABLE p50/p99 against the rule the monitoring guide states;
* deregisters every VIM: how long it takes, how many monitor actions have
  exited within check_interval plus 30 s (from the executors' threads), and
  what Mistral keeps afterwards (its database's rows);
* with --ping-baseline (the default up to 500 VIMs), the predecessor's way
  in the same run: a thread per VIM running one ``ping`` process per
  probe round back to back, as Tacker's action did, with the same probe
  settings, CPU measured over the same window length (its own and its
  ping processes'), and per echo request against the probing threads'
  (their API checks included, which the ping way does not do).

With --checks both (the default, as tacker-vimmon's) or api, every VIM
serves a version document on port 5000 (one endpoint on 0.0.0.0 for the
loopback VIMs, one in each namespace host), so that the API check runs
its whole course; those endpoints are the VIMs' side and not counted.

Needs root (namespaces, routes) and tools/mistral/setup-mistral-venv.sh.
Probes only loopback and namespace hosts behind the guard route.

    .venv/bin/python tools/bench/bench_scale.py --vims 2000 [--executors 2]
"""

import argparse
import concurrent.futures
import json
import os
import subprocess
import sys
import threading
import time

import benchstack
from oslo_config import cfg
import requests
import sqlalchemy as sa

from tacker_vimmon.action import apicheck
from tacker_vimmon.action import checkins
from tacker_vimmon.action import engine as probing_engine
from tacker_vimmon.action import heartbeat
from tacker_vimmon.action import loop as monitor_loop
from tacker_vimmon.action import monitor
from tacker_vimmon.action import prober
from tacker_vimmon.common import rpc
from tacker_vimmon.conf import vim_monitor as vim_monitor_conf
from tacker_vimmon.tests.functional import base as functional_base
from tacker_vimmon.tests.functional import mistral

# Keeps the list reads light while watching 2,000 VIMs.
WATCH_INTERVAL = 0.5
DETECT_INTERVAL = 0.25
MISTRAL_TABLES = ('workflow_definitions_v2', 'workflow_executions_v2',
                  'task_executions_v2', 'action_executions_v2',
                  'delayed_calls_v2', 'scheduled_jobs_v2')


def probe_settings(overrides):
    """The [vim_monitor] settings the monitors run with: the defaults
    and overrides ({option: value}).
    """
    conf = cfg.ConfigOpts()
    vim_monitor_conf.register_opts(conf)
    conf([], project='tacker-vimmon-bench')
    for name, value in overrides.items():
        conf.set_override(name, value, group='vim_monitor')
    return conf.vim_monitor


def detection_rule(settings):
    """(earliest, latest) seconds from link down to UNREACHABLE.

    The monitoring guide's formula (the engine's own), report latency
    aside.
    """
    return probing_engine.detection_window(monitor_loop.ProbeSettings(
        count=settings.probe_count, interval=settings.probe_interval,
        timeout=settings.probe_timeout,
        failure_threshold=settings.failure_threshold,
        check_interval=settings.check_interval))


def reports_answered(port):
    """Reports one conductor answered so far (its counters): each
    update_vim call, and each report of an update_vims call."""
    answer = requests.get('http://127.0.0.1:%d/metrics' % port, timeout=10)
    answer.raise_for_status()
    text = answer.text
    return sum(float(line.rsplit(None, 1)[1]) for line in text.splitlines()
               if line.startswith('tacker_vimmon_reports_total'))


def echo_requests_sent():
    """ICMP echo requests this network namespace has sent, in all."""
    with open('/proc/net/snmp') as snmp:
        rows = [line.split() for line in snmp if line.startswith('IcmpMsg:')]
    if not rows:
        return 0
    counters = dict(zip(rows[0][1:], rows[1][1:], strict=True))
    return int(counters.get('OutType8', 0))


class Watcher(threading.Thread):
    """Reads VIM statuses until stopped; the first time each VIM is seen
    with each status.

    Without vim_ids it reads the whole list, each status stamped with
    the time the list was asked for. With vim_ids it shows just those
    VIMs one by one, each status stamped with the time its answer came:
    never before the API showed it, and not held back by listing every
    other VIM (at 2,000 VIMs one list takes longer than the interval).
    """

    def __init__(self, operator, interval, vim_ids=None):
        super().__init__(daemon=True)
        self.operator = operator
        self.interval = interval
        self.vim_ids = vim_ids
        self.first_seen = {}
        self._stopping = threading.Event()

    def run(self):
        while not self._stopping.is_set():
            for vim_id, status, now in self._read():
                self.first_seen.setdefault((vim_id, status), now)
            self._stopping.wait(self.interval)

    def _read(self):
        if self.vim_ids is None:
            now = time.monotonic()
            for vim_id, status in self.operator.statuses().items():
                yield vim_id, status, now
            return
        for vim_id in self.vim_ids:
            status = self.operator.status(vim_id)
            yield vim_id, status, time.monotonic()

    def stop(self):
        self._stopping.set()
        self.join()


def register(operator, names_and_hosts, clients):
    """{vim_id: POST start}, [POST seconds], seconds in all, {host: id}."""
    started_at, took, by_host = {}, [], {}

    def one(name_and_host):
        begun = time.monotonic()
        vim_id = operator.register(*name_and_host)
        took.append(time.monotonic() - begun)
        started_at[vim_id] = begun
        by_host[name_and_host[1]] = vim_id

    begun = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(clients) as pool:
        list(pool.map(one, names_and_hosts))
    return started_at, took, time.monotonic() - begun, by_host


def deregister(operator, ids, clients):
    begun = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(clients) as pool:
        list(pool.map(operator.deregister, ids))
    return time.monotonic() - begun


def seconds_to(watcher, since, status):
    return [watcher.first_seen[(vim_id, status)] - begun
            for vim_id, begun in since.items()
            if (vim_id, status) in watcher.first_seen]


def executor_memory(stack):
    return [benchstack.memory_and_threads(benchstack.process_tree(e.pid))
            for e in stack.mistral.executors]


# The probing engine's threads in each executor (common/threads.py).
PROBING_THREADS = (probing_engine.PROBING_THREAD, prober.RECEIVE_THREAD,
                   apicheck.CHECK_THREAD)
# The executors' threads by what they do, by kernel name; the rest are
# Mistral's and oslo.messaging's (its RPC server, the broker heartbeats).
# A thread inherits the name of the thread that started it, so the broker
# connections' heartbeat threads that a monitor's first call starts count
# with the monitors: part of what their calls cost.
THREAD_GROUPS = (
    ('probing', PROBING_THREADS),
    ('monitors', (monitor.MONITOR_THREAD,)),
    ('check-ins', (checkins.CHECK_IN_THREAD,)),
    ('RPC replies', (rpc.REPLY_THREAD,)),
    ('heartbeat', (heartbeat.HEARTBEAT_THREAD,)),
)


def executor_thread_seconds(stack):
    """{kernel name: CPU seconds so far} of the executors' threads."""
    pids = [pid for executor in stack.mistral.executors
            for pid in benchstack.process_tree(executor.pid)]
    return benchstack.cpu_seconds_by_thread_name(pids)


def thread_groups_cpu(before, after, seconds, executors_cpu):
    """{group: % of a core} of the executors' threads between two
    executor_thread_seconds(); 'Mistral and the rest' is what is left of
    executors_cpu, their whole share.
    """
    shares = {group: 100.0 * sum(after[name] - before[name]
                                 for name in names) / seconds
              for group, names in THREAD_GROUPS}
    shares['Mistral and the rest'] = max(
        0.0, executors_cpu - sum(shares.values()))
    return shares


def mistral_rows(stack):
    engine = sa.create_engine(stack.mistral.database.url)
    try:
        with engine.connect() as connection:
            return {table: connection.execute(sa.select(
                sa.func.count()).select_from(sa.table(table))).scalar()
                for table in MISTRAL_TABLES}
    finally:
        engine.dispose()


def ping_way(addresses, settings, seconds):
    """(CPU % of one core, echo requests/s) of Tacker's way: a ping
    process per round.
    """
    loop = subprocess.Popen(
        [sys.executable, os.path.abspath(__file__), '--ping-loop',
         '--count', str(settings.probe_count),
         '--interval', str(settings.probe_interval),
         '--timeout', str(settings.probe_timeout)] + addresses,
        stdin=subprocess.DEVNULL)
    try:
        # Let every thread start its first round before measuring.
        time.sleep(settings.probe_count * settings.probe_interval + 2)
        hz = os.sysconf('SC_CLK_TCK')
        before = _ticks_with_children(loop.pid)
        echoes = echo_requests_sent()
        begun = time.monotonic()
        time.sleep(seconds)
        used = _ticks_with_children(loop.pid) - before
        took = time.monotonic() - begun
        return (100.0 * used / hz / took,
                (echo_requests_sent() - echoes) / took)
    finally:
        loop.terminate()
        loop.wait(30)


def _ticks_with_children(pid):
    # The ping processes' time reaches the loop's cutime/cstime once each
    # is waited for, which subprocess.run does at the end of every round.
    with open('/proc/%d/stat' % pid) as stat:
        fields = stat.read().rsplit(')', 1)[1].split()
    return sum(int(value) for value in fields[11:15])


def run_ping_loop(args):
    """The --ping-loop child: one thread per address, back-to-back pings."""
    stop = threading.Event()
    command = ['ping', '-n', '-q', '-c', str(args.count),
               '-i', str(args.interval), '-W', str(args.timeout)]

    def probe(address):
        while not stop.is_set():
            subprocess.run(command + [address], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, check=False)

    threads = [threading.Thread(target=probe, args=(address,), daemon=True)
               for address in args.addresses]
    for thread in threads:
        thread.start()
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        stop.set()


def measure(args):
    """(the table's figures, the sizing figures as numbers)"""
    overrides = {'status_checks': args.checks}
    if args.probe_interval is not None:
        overrides['probe_interval'] = args.probe_interval
    settings = probe_settings(overrides)
    # The conductor's own counters: how many calls the steady state made.
    metrics_port = functional_base.free_port()
    stack = benchstack.Stack(args.vims, executors=args.executors,
                             engines=args.engines,
                             netns_hosts=args.down,
                             mistral_settings=args.mistral_settings,
                             vim_apis=args.checks != 'icmp',
                             icmp_socket=args.icmp_socket,
                             sections={'vim_monitor': overrides,
                                       'metrics': {'conductor_port':
                                                   metrics_port}})
    started = time.monotonic()
    stack.setUp()
    figures = {}
    sizing = {'vims': args.vims, 'executors': args.executors,
              'engines': args.engines, 'check_ins': 'together',
              'probe_interval': settings.probe_interval,
              'checks': args.checks, 'icmp_socket': args.icmp_socket,
              'interpreter': {
                  'services': benchstack.describe_interpreter(),
                  'mistral': benchstack.describe_interpreter(
                      os.path.join(mistral.VENV, 'bin', 'python'))}}
    try:
        print('stack up in %.0f s' % benchstack.elapsed_since(started),
              flush=True)
        operator = benchstack.Operator(stack.api.url)
        empty = executor_memory(stack)
        watcher = Watcher(operator, WATCH_INTERVAL)
        watcher.start()
        names = [('vim-%d' % index, host) for index, host in
                 enumerate(benchstack.addresses(stack, args.vims))]
        posted, took, registering, by_host = register(operator, names,
                                                      args.clients)
        figures['interpreter: services / Mistral'] = '%s / %s' % (
            sizing['interpreter']['services'],
            sizing['interpreter']['mistral'])
        figures['registrations/s'] = len(posted) / registering
        figures['POST p50 / p99 (s)'] = '%.2f / %.2f' % (
            benchstack.percentile(took, 0.5),
            benchstack.percentile(took, 0.99))
        benchstack.wait_until(
            lambda: all((v, 'REACHABLE') in watcher.first_seen
                        for v in posted), args.timeout, 'every VIM REACHABLE')
        watcher.stop()
        reachable = seconds_to(watcher, posted, 'REACHABLE')
        figures['registration -> REACHABLE p50 / p99 (s)'] = (
            '%.1f / %.1f' % (benchstack.percentile(reachable, 0.5),
                             benchstack.percentile(reachable, 0.99)))
        print('%d VIMs registered at %.1f/s; all REACHABLE'
              % (len(posted), figures['registrations/s']), flush=True)

        echoes = echo_requests_sent()
        reports = reports_answered(metrics_port)
        threads_before = executor_thread_seconds(stack)
        begun = time.monotonic()
        cpu = benchstack.CpuMeter(benchstack.process_groups(stack)).measure(
            args.steady)
        took = benchstack.elapsed_since(begun)
        echo_rate = (echo_requests_sent() - echoes) / took
        call_rate = (reports_answered(metrics_port) - reports) / took
        executor_cpu = [percent for name, percent in cpu.items()
                        if name.startswith('executor')]
        by_group = thread_groups_cpu(threads_before,
                                     executor_thread_seconds(stack),
                                     took, sum(executor_cpu))
        probing_cpu = by_group['probing']
        figures['echo requests/s'] = '%.0f' % echo_rate
        figures['CPU probing threads (% of a core)'] = '%.1f' % probing_cpu
        figures['executors\' CPU by thread (% of a core)'] = ', '.join(
            '%s %.1f' % (group, percent)
            for group, percent in by_group.items())
        engine_per_echo = 1e4 * probing_cpu / max(echo_rate, 1e-9)
        figures['probing threads CPU per echo request (us)'] = '%.1f' % (
            engine_per_echo)
        figures['reports answered/s'] = '%.1f' % call_rate
        figures['check-in + RPC reply threads CPU per report (us)'] = (
            '%.0f' % (1e4 * (by_group['check-ins'] + by_group['RPC replies'])
                      / call_rate) if call_rate else '-')
        for name, percent in cpu.items():
            figures['CPU %s (%% of a core)' % name] = percent
        figures['CPU whole system (% of a core)'] = sum(cpu.values())
        sizing.update(
            whole_cpu=sum(cpu.values()), echo_rate=echo_rate,
            call_rate=call_rate,
            probing_cpu=probing_cpu, executor_threads_cpu=by_group,
            executor_cpu=executor_cpu,
            executor_rss=[], executor_threads=[])
        per_executor = max(1, len(posted) // args.executors)
        for index, ((rss, threads), (rss0, _threads0)) in enumerate(
                zip(executor_memory(stack), empty, strict=True)):
            sizing['executor_rss'].append(rss)
            sizing['executor_threads'].append(threads)
            figures['executor %d RSS MiB / threads' % (index + 1)] = (
                '%.0f / %d' % (rss, threads))
            figures['executor %d growth per VIM (MiB)' % (index + 1)] = (
                '%.3f' % ((rss - rss0) / per_executor))

        ids = list(posted)
        downed = [by_host[host.ipv4] for host in stack.hosts]
        detector = Watcher(operator, DETECT_INTERVAL, downed)
        detector.start()
        down_at = {}
        for host, vim_id in zip(stack.hosts, downed, strict=True):
            host.set_down()
            down_at[vim_id] = time.monotonic()
        benchstack.wait_until(
            lambda: all((v, 'UNREACHABLE') in detector.first_seen
                        for v in down_at), args.timeout,
            'every downed host UNREACHABLE')
        detector.stop()
        detected = seconds_to(detector, down_at, 'UNREACHABLE')
        earliest, latest = detection_rule(settings)
        figures['link down -> UNREACHABLE p50 / p99 (s)'] = (
            '%.1f / %.1f (rule %.0f to %.0f + report, poll %.2f)'
            % (benchstack.percentile(detected, 0.5),
               benchstack.percentile(detected, 0.99), earliest, latest,
               DETECT_INTERVAL))
        for host in stack.hosts:
            host.set_up()

        figures['deregistration (s)'] = deregister(operator, ids,
                                                   args.clients)
        figures['actions exited'] = actions_exited(
            stack, ids, settings.check_interval + 30)
        rows = mistral_rows(stack)
        figures['Mistral keeps (rows)'] = ', '.join(
            '%s %d' % (table.replace('_v2', ''), count)
            for table, count in rows.items())

        if args.ping_baseline:
            addresses = benchstack.addresses(stack, args.vims)
            ping_cpu, ping_rate = ping_way(addresses, settings, args.steady)
            figures['CPU ping way (% of a core)'] = ping_cpu
            figures['ping way echo requests/s'] = '%.0f' % ping_rate
            ping_per_echo = 1e4 * ping_cpu / max(ping_rate, 1e-9)
            figures['ping way CPU per echo request (us)'] = '%.1f' % (
                ping_per_echo)
            figures['per echo request: ping way / probing threads'] = (
                '%.0fx' % (ping_per_echo / max(engine_per_echo, 1e-9)))
    finally:
        stack.cleanUp()
    return figures, sizing


def actions_exited(stack, ids, deadline):
    """'exited/count in N s': the monitors' own exit lines in Mistral's log.

    A monitor logs "Monitor <action> of VIM <vim> is no longer wanted;
    exiting" as it returns its executor thread.
    """
    begun = time.monotonic()
    wanted = set(ids)

    def exited():
        with open(stack.mistral.log_path, errors='replace') as log:
            return {vim_id for line in log if 'no longer wanted' in line
                    for vim_id in [line.split(' of VIM ')[1].split()[0]]
                    if vim_id in wanted}

    try:
        benchstack.wait_until(lambda: len(exited()) == len(wanted), deadline,
                              'every monitor action to exit', interval=1)
    except AssertionError:
        pass
    return '%d/%d in %.0f s' % (len(exited()), len(wanted),
                                benchstack.elapsed_since(begun))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--vims', type=int, default=500)
    parser.add_argument('--executors', type=int, default=1)
    parser.add_argument('--engines', type=int, default=2,
                        help='Mistral engine processes (default 2, as '
                        'tools/run-local.sh and the monitoring guide run '
                        'them: one beside the API, one of its own)')
    parser.add_argument('--clients', type=int, default=4,
                        help='parallel REST clients registering')
    parser.add_argument('--down', type=int, default=10,
                        help='namespace hosts to take down')
    parser.add_argument('--steady', type=float, default=120,
                        help='seconds of steady state CPU measurement')
    parser.add_argument('--timeout', type=float, default=1800,
                        help='seconds each wait may take (with --ping-loop:'
                        ' the probe timeout)')
    parser.add_argument('--checks', default='both',
                        choices=('icmp', 'api', 'both'),
                        help='[vim_monitor] status_checks (default both, '
                        "tacker-vimmon's default); unless icmp, every VIM "
                        'serves a version document for the API check')
    parser.add_argument('--icmp-socket', default='dgram',
                        choices=('dgram', 'raw'),
                        help="the executors' [vim_monitor] icmp_socket "
                        '(default dgram, as the devstack plugin deploys '
                        "them: this machine's net.ipv4.ping_group_range is "
                        'opened to root for the run, then put back)')
    parser.add_argument('--mistral-defaults', dest='mistral_settings',
                        action='store_false', default=True,
                        help="Mistral's own defaults instead of the shipped"
                        ' etc/mistral settings (to measure what they save)')
    parser.add_argument('--ping-baseline', dest='ping_baseline',
                        action='store_true', default=None)
    parser.add_argument('--no-ping-baseline', dest='ping_baseline',
                        action='store_false')
    # The --ping-loop child of --ping-baseline.
    parser.add_argument('--probe-interval', type=float,
                        help='[vim_monitor] probe_interval (default: '
                        "tacker-vimmon's)")
    parser.add_argument('--json', metavar='FILE',
                        help='also write the figures, and the sizing '
                        'figures as numbers, to FILE (for plot_sizing.py)')
    parser.add_argument('--ping-loop', action='store_true',
                        help=argparse.SUPPRESS)
    parser.add_argument('--count', help=argparse.SUPPRESS)
    parser.add_argument('--interval', help=argparse.SUPPRESS)
    parser.add_argument('addresses', nargs='*', help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.ping_loop:
        return run_ping_loop(args)
    if os.geteuid() != 0:
        sys.exit('bench_scale needs root (network namespaces, routes)')
    if args.ping_baseline is None:
        args.ping_baseline = args.vims <= 500
    os.environ['TVM_REQUIRE_SERVICES'] = '1'
    figures, sizing = measure(args)
    benchstack.print_table(
        'measure (%d VIMs, %d executor(s), %d engine(s), %s ICMP sockets,'
        ' %s)' % (
            args.vims, args.executors, args.engines, args.icmp_socket,
            'shipped Mistral settings'
            if args.mistral_settings else "Mistral's defaults"),
        [(name, {'value': value}) for name, value in figures.items()])
    if args.json:
        with open(args.json, 'w') as output:
            json.dump({'figures': figures, 'sizing': sizing}, output,
                      indent=1, sort_keys=True)


if __name__ == '__main__':
    main()
