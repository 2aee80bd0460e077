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

"""The whole system on this machine, driven as an operator drives it.

Shared by the benchmarks that register VIMs through the REST API
(bench_faults.py, bench_scale.py): the machine's PostgreSQL, a RabbitMQ
node of the benchmark's own (so that it can be restarted and its CPU told
apart), a Mistral 23 from .venv-mistral with the shipped etc/mistral
settings and its executors as processes of their own, tacker-vimmon
conductors and one API server; namespace hosts behind the guard route to
take down, and loopback addresses 127.x.y.z, which this machine answers
itself, for the rest.
"""

import collections
import datetime
import os
import subprocess
import sys
import time

import fixtures
import requests

from tacker_vimmon.tests.functional import base
from tacker_vimmon.tests.functional import mistral
from tacker_vimmon.tests.functional import netns
from tacker_vimmon.tests.functional import processes
from tacker_vimmon.tests.functional import rabbit
from tacker_vimmon.tests.functional.api import api_server

# Executor pool threads beyond one per monitor, for Mistral's own work.
POOL_HEADROOM = 64
# Where every VIM's auth_url points (register()).
VIM_API_PORT = 5000


class Stack(fixtures.Fixture):
    """Guard, hosts, database, broker, Mistral, conductors and API server.

    :param vims: the VIMs the executors must carry between them
    :param executors: Mistral executor processes
    :param conductors: tacker-vimmon-conductor processes
    :param netns_hosts: namespace hosts (the first VIMs' addresses)
    :param sections: extra tacker-vimmon configuration {section: {k: v}}
    :param mistral_settings: False to run Mistral without the shipped
        settings (its defaults)
    :param engines: Mistral engine processes
    :param vim_apis: serve every VIM's API (a version document on port
        5000, as Keystone would): in each namespace host, and on 0.0.0.0
        for the loopback ones, so that the API check passes
    :param icmp_socket: the executors' [vim_monitor] icmp_socket; with
        'dgram', this machine's net.ipv4.ping_group_range is widened to
        their group for the run, as the devstack plugin does
    """

    def __init__(self, vims, executors=1, conductors=1, netns_hosts=3,
                 sections=None, mistral_settings=True, engines=1,
                 vim_apis=False, icmp_socket='auto'):
        super().__init__()
        self.icmp_socket = icmp_socket
        self.vim_apis = vim_apis
        self.engines = engines
        self.mistral_settings = mistral_settings
        self.vims = vims
        self.executor_count = executors
        self.conductor_count = conductors
        self.netns_hosts = netns_hosts
        self.sections = sections or {}

    def _setUp(self):
        guard = self.useFixture(netns.ProbeGuard())
        self.hosts = self.useFixture(netns.NetnsHosts(
            guard, self.netns_hosts)).hosts
        if self.vim_apis:
            for host in self.hosts:
                self.useFixture(netns.NetnsServer(host, VIM_API_PORT))
            self.useFixture(LoopbackApis())
        database = self.useFixture(base.RealDatabase('postgresql'))
        self.database_url = url = database.url.render_as_string(
            hide_password=False)
        # Mistral on a vhost of its own, tacker-vimmon on the default one.
        self.broker = self.useFixture(rabbit.PrivateRabbit())
        transport_url = self.broker.transport_url
        self.monitor_config = config = os.path.join(
            self.useFixture(fixtures.TempDir()).path,
            'tacker-vimmon-monitor.conf')
        if self.icmp_socket == 'dgram':
            self.useFixture(PingGroupRange(os.getgid()))
        base.write_config(config, {
            'DEFAULT': {'transport_url': transport_url},
            'vim_monitor': {'icmp_socket': self.icmp_socket}})
        per_executor = -(-self.vims // self.executor_count)
        self.mistral = self.useFixture(mistral.MistralFixture(
            thread_pool_size=per_executor + POOL_HEADROOM,
            environment={'TACKER_VIMMON_MONITOR_CONFIG_FILE': config},
            separate_executor=True,
            transport_url=self.broker.add_vhost('mistral'),
            settings_file=(mistral.SETTINGS_FILE if self.mistral_settings
                           else None),
            engines=self.engines))
        for _more in range(self.executor_count - 1):
            self.mistral.start_executor()
        shared = {
            'DEFAULT': {'transport_url': transport_url},
            'mistral': {'endpoint_override': self.mistral.url,
                        'timeout': 60},
            'vim_monitor': {'enabled': True},
        }
        for section, values in self.sections.items():
            shared.setdefault(section, {}).update(values)
        self.api = self.useFixture(api_server.ApiServerProcess(
            url, sections=shared))
        conductor_conf = dict(shared, reconciler=dict(
            shared.get('reconciler', {}), enabled=True))
        self.conductors = [self.useFixture(processes.ConductorProcess(
            transport_url, url, 'bench-conductor-%d' % index,
            upgrade=False, conf=conductor_conf))
            for index in range(self.conductor_count)]


class PingGroupRange(fixtures.Fixture):
    """This machine's net.ipv4.ping_group_range opened to one group.

    What the devstack plugin does for Mistral's executor, so that its
    monitors probe with unprivileged ICMP sockets, whose replies the kernel
    sorts by socket: with raw sockets every executor on the host reads
    every other executor's replies too. The value found is put back.
    """

    PATH = '/proc/sys/net/ipv4/ping_group_range'

    def __init__(self, gid):
        super().__init__()
        self.gid = gid

    def _setUp(self):
        with open(self.PATH) as current:
            found = current.read().split()
        low, high = map(int, found)
        if low <= self.gid <= high:
            return
        self.addCleanup(self._write, ' '.join(found))
        if low > high:
            low = high = self.gid
        self._write('%d %d' % (min(low, self.gid), max(high, self.gid)))

    def _write(self, value):
        with open(self.PATH, 'w') as sysctl:
            sysctl.write(value + '\n')


class LoopbackApis(fixtures.Fixture):
    """The loopback VIMs' APIs: one endpoint on 0.0.0.0, port 5000."""

    def _setUp(self):
        self.process = subprocess.Popen(
            [sys.executable, '-m', 'tacker_vimmon.tests.http_endpoint',
             '--address', '0.0.0.0', '--port', str(VIM_API_PORT),  # noqa: S104
             '--status', '300'],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.addCleanup(self._stop)
        if self.process.stdout.readline().strip() != 'listening':
            raise RuntimeError('the loopback VIM API did not start: %s'
                               % self.process.stderr.read()[-2000:])

    def _stop(self):
        self.process.terminate()
        self.process.wait(10)
        self.process.stdout.close()
        self.process.stderr.close()


class Operator:
    """What an operator does and sees, over HTTP."""

    def __init__(self, url):
        self.url = url
        self.session = requests.Session()

    def register(self, name, host):
        response = self.session.post(self.url + '/v1.0/vims', json={'vim': {
            'name': name, 'type': 'openstack',
            'auth_url': 'http://%s:%d/v3' % (host, VIM_API_PORT),
            'auth_cred': {'username': 'u', 'password': 'p'},
            'vim_project': {'name': 'nfv'}}}, timeout=120)
        response.raise_for_status()
        return response.json()['vim']['id']

    def deregister(self, vim_id):
        response = self.session.delete(
            self.url + '/v1.0/vims/%s' % vim_id, timeout=120)
        response.raise_for_status()

    def vims(self, fields=('id', 'status', 'monitor')):
        response = self.session.get(self.url + '/v1.0/vims', timeout=120,
                                    params={'fields': list(fields)})
        response.raise_for_status()
        return {vim['id']: vim for vim in response.json()['vims']}

    def statuses(self):
        # Only the two fields: the watchers list every VIM twice a second
        # or more while the registrations run, through the same API server.
        return {vim_id: vim['status'] for vim_id, vim in
                self.vims(fields=('id', 'status')).items()}

    def status(self, vim_id):
        response = self.session.get(
            self.url + '/v1.0/vims/%s' % vim_id, timeout=120,
            params={'fields': ['id', 'status']})
        response.raise_for_status()
        return response.json()['vim']['status']


def utcnow():
    return datetime.datetime.now(datetime.UTC).replace(tzinfo=None)


def checked_in_since(vim, moment):
    """True if the VIM's monitor checked in after moment (naive UTC)."""
    heard = vim['monitor'].get('last_check_in_at')
    return bool(heard) and datetime.datetime.fromisoformat(
        heard.rstrip('Z')) > moment


def loopback(index):
    # 127.1.0.0 and up: never the machine's own 127.0.0.1.
    return '127.%d.%d.%d' % (1 + index // 65025, index // 255 % 255,
                             index % 255 + 1)


def addresses(stack, count):
    """The namespace hosts' addresses first, then loopback ones."""
    hosts = [host.ipv4 for host in stack.hosts]
    return hosts + [loopback(index) for index in range(count - len(hosts))]


def wait_until(predicate, timeout, what, interval=0.5):
    return base.wait_for(predicate, timeout, interval=interval, message=what)


def percentile(values, fraction):
    """The nearest-rank percentile of values (None if there are none)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, int(round(fraction * len(ordered))))
    return ordered[min(rank, len(ordered)) - 1]


# Printed by an interpreter about itself: where it is, its version, and
# whether its core is a shared libpython (built --enable-shared; a
# distribution's python3 links it into the binary).
# How the interpreter was built shows in every CPU figure
# (tools/venv-lib.sh, bench_interpreters.py).
_DESCRIBE = """
import os, sys
with open('/proc/self/maps') as maps:
    shared = any('libpython' in line for line in maps)
print('%s %s%s' % (os.path.realpath(sys._base_executable),
                   sys.version.split()[0], ', shared libpython' if shared
                   else ''))
"""


def describe_interpreter(python=sys.executable):
    return subprocess.run([python, '-c', _DESCRIBE], capture_output=True,
                          text=True, check=True).stdout.strip()


def fmt(value):
    if value is None:
        return 'not reached'
    return '%.1f' % value if isinstance(value, float) else str(value)


def print_table(title, rows):
    """rows: [(name, {column: value})]; a Markdown table of them all."""
    columns = []
    for _name, figures in rows:
        columns += [column for column in figures if column not in columns]
    print('\n| %s | %s |' % (title, ' | '.join(columns)))
    print('|---|%s|' % '|'.join('---' for _ in columns))
    for name, figures in rows:
        print('| %s | %s |' % (name, ' | '.join(
            fmt(figures[column]) if column in figures else '-'
            for column in columns)))


def elapsed_since(started):
    return time.monotonic() - started


def process_groups(stack):
    """{name: pids now} of each part of the stack, for CpuMeter."""
    mistral = stack.mistral
    groups = {'Mistral api+engine': lambda: [
        pid for process in [mistral.process] + mistral.more_engines
        for pid in process_tree(process.pid)]}
    for index, executor in enumerate(stack.mistral.executors):
        groups['executor %d' % (index + 1)] = (
            lambda pid=executor.pid: process_tree(pid))
    for index, conductor in enumerate(stack.conductors):
        groups['conductor %d' % (index + 1)] = (
            lambda pid=conductor.process.pid: process_tree(pid))
    groups['API server'] = lambda: process_tree(
        stack.api.process.pid)
    groups['PostgreSQL'] = lambda: pids_named('postgres')
    groups['RabbitMQ'] = lambda: process_tree(
        stack.broker.process.pid)
    return groups


def _children_map():
    """{pid: [child pids]} of every process on the machine."""
    children = {}
    for entry in os.listdir('/proc'):
        if not entry.isdigit():
            continue
        try:
            with open('/proc/%s/stat' % entry) as stat:
                fields = stat.read().rsplit(')', 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry))
    return children


def process_tree(pid):
    """pid and all its descendants, as they are now."""
    children = _children_map()
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, ()))
    return found


def pids_named(name):
    """Every process whose command name (comm) is name."""
    found = []
    for entry in os.listdir('/proc'):
        if not entry.isdigit():
            continue
        try:
            with open('/proc/%s/comm' % entry) as comm:
                if comm.read().strip() == name:
                    found.append(int(entry))
        except OSError:
            continue
    return found


def cpu_ticks(pids):
    """User plus system clock ticks of the processes (gone ones count 0)."""
    total = 0
    for pid in pids:
        try:
            with open('/proc/%d/stat' % pid) as stat:
                fields = stat.read().rsplit(')', 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total


def cpu_seconds_by_thread_name(pids):
    """{kernel name (comm): CPU seconds so far} of the processes' threads,
    summed over the threads of each name.

    From /proc/<pid>/task/<tid>/schedstat, the scheduler's nanoseconds,
    not the clock ticks of .../stat: a monitor's thread uses about a
    millisecond a minute, which the per-thread tick counts round to 0, so
    summing them loses what thousands of such threads cost together.
    """
    seconds = collections.Counter()
    for pid in pids:
        try:
            tasks = os.listdir('/proc/%d/task' % pid)
        except OSError:
            continue
        for task in tasks:
            base = '/proc/%d/task/%s/' % (pid, task)
            try:
                with open(base + 'comm') as comm, \
                        open(base + 'schedstat') as schedstat:
                    name = comm.read().rstrip('\n')
                    nanoseconds = int(schedstat.read().split()[0])
            except (OSError, IndexError, ValueError):
                continue
            seconds[name] += nanoseconds / 1e9
    return seconds


def memory_and_threads(pids):
    """(RSS in MiB, threads) summed over the processes."""
    rss_kib = threads = 0
    for pid in pids:
        try:
            with open('/proc/%d/status' % pid) as status:
                for line in status:
                    if line.startswith('VmRSS:'):
                        rss_kib += int(line.split()[1])
                    elif line.startswith('Threads:'):
                        threads += int(line.split()[1])
        except OSError:
            continue
    return rss_kib / 1024.0, threads


class CpuMeter:
    """CPU % of one core of named process groups over a window.

    :param groups: {name: callable returning that group's pids now}
    """

    def __init__(self, groups):
        self.groups = groups
        self._hz = os.sysconf('SC_CLK_TCK')

    def measure(self, seconds):
        """{group: CPU %} over the next seconds."""
        window = self.begin()
        time.sleep(seconds)
        return self.end(window)

    def begin(self):
        """Start a window of any length; end(window) gives its figures."""
        pids = {name: find() for name, find in self.groups.items()}
        return (pids, {name: cpu_ticks(group)
                       for name, group in pids.items()}, time.monotonic())

    def end(self, window):
        pids, before, started = window
        wall = time.monotonic() - started
        return {name: 100.0 * (cpu_ticks(group) - before[name])
                / self._hz / wall for name, group in pids.items()}
