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

"""Benchmark of the conductor's update_vim against a no-op RPC endpoint.

  tools/bench/bench_conductor.py [--calls 1000] [--burst 2000]

Starts real tacker-vimmon-conductor processes on a private RabbitMQ vhost
and a fresh PostgreSQL database (both removed afterwards), and, on the same
broker, as many no-op RPC servers: the same oslo.messaging server, an
update_vim endpoint that only returns its status. The no-op numbers are the
transport's ceiling on this machine; the conductor's are compared to them.

Measured for 1 and 2 servers, with 1 and 16 concurrent callers:

* check-in: the same status again (one timestamp written);
* change: every call flips its VIM's status (row + MONITOR event);
* burst: every one of --burst VIMs flips, all at once (twice: down, up).

The no-op and conductor calls alternate in --rounds rounds so that both
meet the same background load; on a shared machine that load moves a lot.

Targets: check-ins >= 70 % of the no-op throughput, changes >= 50 %, the
burst stored in <= 2x the time of as many no-op calls.
"""

import argparse
import concurrent.futures
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from urllib import parse

from oslo_config import cfg
import oslo_messaging as messaging
from oslo_utils import uuidutils
import sqlalchemy as sa

from tacker_vimmon import cmd  # noqa: F401  (threading backend)
from tacker_vimmon.common import context as vimmon_context
from tacker_vimmon.common import rpc
from tacker_vimmon.conductor import rpcapi
from tacker_vimmon.db import migration

NOOP_TOPIC = 'bench_noop'
TOPIC = 'tacker_vimmon_conductor'
ACTION = 'bench-action'
STATUSES = ('REACHABLE', 'UNREACHABLE')


# --- the no-op server (run as a child process of this script) -------------

class NoopEndpoint:
    """update_vim (and update_vims) that store nothing: the transport's
    own cost.

    At the conductor's RPC version, so that a monitor's own 1.4 calls
    (with a reason and details) reach it too (bench_checkins.py).
    """

    target = messaging.Target(version=rpcapi.ConductorAPI.RPC_API_VERSION)

    def update_vim(self, context, vim_id, status, action_id, reason=None,
                   details=None):
        return status

    def update_vims(self, context, reports):
        return [report['status'] for report in reports]


def serve_noop(url, host):
    transport = rpc.get_transport_for(cfg.ConfigOpts(), url)
    server = rpc.get_server(rpc.target(NOOP_TOPIC, server=host),
                            [NoopEndpoint()], transport=transport)
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    server.start()
    print('serving', flush=True)
    stopped.wait()
    server.stop()
    server.wait()
    transport.cleanup()


# --- environment: vhost, database, processes ------------------------------

def _rabbitmqctl(*args):
    subprocess.run(['rabbitmqctl', '-q', *args], check=True,
                   capture_output=True, timeout=60)


class Environment:
    """A private vhost and database, and the server processes on them."""

    def __init__(self, rabbit_url, postgres_url, workdir):
        self.workdir = workdir
        self.suffix = uuidutils.generate_uuid(dashed=False)[:10]
        self.vhost = 'tvm-bench-%s' % self.suffix
        split = parse.urlsplit(rabbit_url)
        self.transport_url = parse.urlunsplit(
            (split.scheme, split.netloc, '/' + self.vhost, '', ''))
        self.admin_url = sa.engine.make_url(postgres_url)
        self.db_name = 'tvm_bench_%s' % self.suffix
        self.db_url = self.admin_url.set(database=self.db_name)
        self.processes = []

    def __enter__(self):
        _rabbitmqctl('add_vhost', self.vhost)
        _rabbitmqctl('set_permissions', '-p', self.vhost,
                     parse.urlsplit(self.transport_url).username or 'guest',
                     '.*', '.*', '.*')
        self._admin('CREATE DATABASE %s' % self.db_name)
        self.engine = sa.create_engine(self.db_url)
        migration.upgrade('head', engine=self.engine)
        return self

    def __exit__(self, *exc):
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes:
            process.wait(timeout=60)
        self.engine.dispose()
        self._admin('DROP DATABASE %s' % self.db_name)
        _rabbitmqctl('delete_vhost', self.vhost)

    def _admin(self, statement):
        admin = sa.create_engine(self.admin_url, isolation_level='AUTOCOMMIT')
        with admin.connect() as connection:
            connection.execute(sa.text(statement))
        admin.dispose()

    def _spawn(self, args, log_name, ready):
        log_path = os.path.join(self.workdir, log_name)
        log = open(log_path, 'wb')
        process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
        self.processes.append(process)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with open(log_path, errors='replace') as text:
                if ready in text.read():
                    return
            if process.poll() is not None:
                raise RuntimeError('%s exited; see %s' % (args, log_path))
            time.sleep(0.1)
        raise RuntimeError('%s did not start; see %s' % (args, log_path))

    def start_conductor(self, host):
        config = os.path.join(self.workdir, '%s.conf' % host)
        with open(config, 'w') as out:
            out.write('[DEFAULT]\nhost = %s\ntransport_url = %s\n'
                      '[database]\nconnection = %s\n' % (
                          host, self.transport_url,
                          self.db_url.render_as_string(hide_password=False)))
        self._spawn([os.path.join(os.path.dirname(sys.executable),
                                  'tacker-vimmon-conductor'),
                     '--config-file', config], host + '.log', 'serving topic')

    def start_noop(self, host):
        self._spawn([sys.executable, os.path.abspath(__file__),
                     '--serve-noop', self.transport_url, '--host', host],
                    host + '.log', 'serving')

    def add_vims(self, count):
        """count VIMs with ACTION as their monitor, status REACHABLE."""
        ids = [uuidutils.generate_uuid() for _ in range(count)]
        vims = sa.table('vims', *[sa.column(name) for name in (
            'id', 'tenant_id', 'name', 'type', 'auth_url', 'vim_project',
            'auth_cred', 'status', 'is_default', 'placement_attr', 'extra',
            'action_id')])
        with self.engine.begin() as connection:
            connection.execute(vims.insert(), [dict(
                id=vim_id, tenant_id='bench', name=vim_id, type='openstack',
                auth_url='http://192.0.2.1/v3', vim_project='{}',
                auth_cred='{}', status='REACHABLE', is_default=False,
                placement_attr='{}', extra='{}', action_id=ACTION)
                for vim_id in ids])
        return ids

    def count_monitor_events(self):
        with self.engine.connect() as connection:
            return connection.execute(sa.text(
                "SELECT count(*) FROM events WHERE event_type = 'MONITOR'")
            ).scalar()


# --- measuring ------------------------------------------------------------

class Result:
    """Throughput and latency of the calls of one kind, over all rounds."""

    def __init__(self):
        self.calls = 0
        self.seconds = 0.0
        self.latencies = []

    def add(self, calls, seconds, latencies):
        self.calls += calls
        self.seconds += seconds
        self.latencies.extend(latencies)

    @property
    def rate(self):
        return self.calls / self.seconds

    def percentile(self, fraction):
        latencies = sorted(self.latencies)
        return latencies[min(len(latencies) - 1,
                             int(len(latencies) * fraction))] * 1000


def run_calls(api, work, callers, result):
    """Run work (a list of (vim_id, status)) split over callers threads."""
    context = vimmon_context.get_admin_context()
    latencies = []
    shares = [work[i::callers] for i in range(callers)]

    def caller(share):
        mine = []
        for vim_id, status in share:
            started = time.perf_counter()
            answer = api.update_vim(context, vim_id, status, ACTION)
            mine.append(time.perf_counter() - started)
            if answer != status:
                raise RuntimeError('unexpected answer %r' % answer)
        return mine

    started = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(callers) as pool:
        for mine in pool.map(caller, shares):
            latencies.extend(mine)
    result.add(len(work), time.perf_counter() - started, latencies)
    return result


def check_in_work(vim_ids, calls):
    return [(vim_ids[i % len(vim_ids)], 'REACHABLE') for i in range(calls)]


def change_work(vim_ids, calls, flips):
    """Calls that each flip a VIM; flips tracks each VIM's status."""
    work = []
    for i in range(calls):
        vim_id = vim_ids[i % len(vim_ids)]
        flips[vim_id] = STATUSES[STATUSES.index(flips[vim_id]) - 1]
        work.append((vim_id, flips[vim_id]))
    return work


def measure(env, apis, servers, callers, args, rows):
    """One block of the table; see --rounds for why it interleaves."""
    noop, conductor = apis
    # Each caller works on its own VIMs, as each monitor action does.
    vim_ids = env.add_vims(callers * 4)
    flips = dict.fromkeys(vim_ids, 'REACHABLE')
    per_round = max(1, args.calls // args.rounds)
    results = {kind: Result() for kind in ('no-op', 'check-in', 'change')}
    for _round in range(args.rounds):
        run_calls(noop, check_in_work(vim_ids, per_round), callers,
                  results['no-op'])
        run_calls(conductor, check_in_work(vim_ids, per_round), callers,
                  results['check-in'])
        run_calls(conductor, change_work(vim_ids, per_round, flips),
                  callers, results['change'])
    label = '%d server%s, %d caller%s' % (servers, 's' * (servers > 1),
                                         callers, 's' * (callers > 1))
    base = results['no-op']
    rows.append((label, 'no-op', base, None))
    for kind in ('check-in', 'change'):
        rows.append((label, kind, results[kind],
                     results[kind].rate / base.rate))
    if callers > 1:
        measure_burst(env, apis, callers, args, label, rows)


def measure_burst(env, apis, callers, args, label, rows):
    """Every one of args.burst VIMs flips at once, twice (down and up)."""
    noop, conductor = apis
    burst_ids = env.add_vims(args.burst)
    base, result = Result(), Result()
    for status in ('UNREACHABLE', 'REACHABLE'):
        work = [(vim_id, status) for vim_id in burst_ids]
        run_calls(noop, work, callers, base)
        before = env.count_monitor_events()
        run_calls(conductor, work, callers, result)
        stored = env.count_monitor_events() - before
        if stored != args.burst:
            raise RuntimeError('burst stored %d of %d changes'
                               % (stored, args.burst))
    rows.append((label, 'burst no-op', base, None))
    rows.append((label, 'burst change', result,
                 result.seconds / base.seconds))


def print_table(rows, args):
    print()
    print('update_vim vs a no-op endpoint; RabbitMQ %s, database '
          'PostgreSQL (%s); %d calls per row in %d interleaved rounds; '
          'burst %d VIMs, flipped down and up'
          % (parse.urlsplit(args.rabbit_url).netloc.split('@')[-1],
             sa.engine.make_url(args.postgres_url).host, args.calls,
             args.rounds, args.burst))
    header = ('servers/callers', 'kind', 'calls/s', 'p50 ms', 'p99 ms',
              'seconds', 'vs no-op', 'target')
    print('| ' + ' | '.join(header) + ' |')
    print('|' + '|'.join('---' for _ in header) + '|')
    targets = {'check-in': ('>= 70 %', lambda r: r >= 0.7),
               'change': ('>= 50 %', lambda r: r >= 0.5),
               'burst change': ('<= 2.0x', lambda r: r <= 2.0)}
    for label, kind, result, ratio in rows:
        if ratio is None:
            versus, target = '', ''
        elif kind == 'burst change':
            versus = '%.2fx time' % ratio
        else:
            versus = '%.0f %%' % (ratio * 100)
        if ratio is not None:
            text, met = targets[kind]
            target = '%s %s' % (text, 'met' if met(ratio) else 'MISSED')
        print('| %s | %s | %.0f | %.1f | %.1f | %.2f | %s | %s |' % (
            label, kind, result.rate, result.percentile(0.5),
            result.percentile(0.99), result.seconds, versus, target))
    print('load average (1 min) at start %.1f, at end %.1f, on %d CPUs'
          % (args.load_at_start, os.getloadavg()[0], os.cpu_count()))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--rabbit-url',
                        default='rabbit://guest:guest@127.0.0.1:5672/')
    parser.add_argument('--postgres-url', default=(
        'postgresql+psycopg2://postgres@127.0.0.1:5432/postgres'))
    parser.add_argument('--calls', type=int, default=1000)
    parser.add_argument('--burst', type=int, default=2000)
    parser.add_argument('--rounds', type=int, default=5, help=(
        'no-op and conductor calls alternate in this many rounds, so that '
        'both see the same load of a shared machine'))
    parser.add_argument('--serve-noop', metavar='TRANSPORT_URL',
                        help=argparse.SUPPRESS)
    parser.add_argument('--host', help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_noop:
        return serve_noop(args.serve_noop, args.host)

    args.load_at_start = os.getloadavg()[0]
    rows = []
    with tempfile.TemporaryDirectory() as workdir, \
            Environment(args.rabbit_url, args.postgres_url, workdir) as env:
        transport = rpc.get_transport_for(cfg.ConfigOpts(), env.transport_url)
        apis = (rpcapi.ConductorAPI(topic=NOOP_TOPIC, transport=transport,
                                    timeout=60),
                rpcapi.ConductorAPI(topic=TOPIC, transport=transport,
                                    timeout=60))
        for servers in (1, 2):
            env.start_conductor('bench-conductor-%d' % servers)
            env.start_noop('bench-noop-%d' % servers)
            warm = env.add_vims(16)
            for api in apis:
                    run_calls(api, check_in_work(warm, 200), 16, Result())
            for callers in (1, 16):
                measure(env, apis, servers, callers, args, rows)
        transport.cleanup()
    print_table(rows, args)


if __name__ == '__main__':
    main()
