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


"""Faults at scale, measured as an operator sees them: through the API.

Starts the whole system on this machine with default monitoring settings
(the machine's PostgreSQL, a RabbitMQ node of its own, a Mistral 23 from
.venv-mistral with the shipped etc/mistral settings and
its executor as a process of its own, two tacker-vimmon-conductors and
one tacker-vimmon-server), registers N VIMs through the REST API (loopback
addresses 127.x.y.z, which this machine answers itself, plus a few hosts in
network namespaces behind the guard route, to take down), waits until
every VIM is REACHABLE, then for each fault prints the seconds until every
VIM is UNKNOWN, until every VIM is monitored again, until a host downed
after the fault is shown UNREACHABLE, and the longest time that host was
still shown REACHABLE after the fault.

Faults:

* executor kill -9: SIGKILL of Mistral's executor, a new one started at
  once, one host taken down right after; a VIM counts as truthful from
  the moment it shows UNKNOWN or its monitor has checked in again since
  the crash (a new monitor's check-in);
* RabbitMQ restart: the stack's broker is a node of the benchmark's own
  (never the machine's); seconds from the broker answering again until
  every monitor has checked in again;
* conductor SIGTERM, conductor master kill -9, conductor crash (master and
  worker killed): one of two conductors, while 8 callers (the monitor
  action's own reporter) report in a loop; the calls lost are those that
  ended unanswered, and the slowest answer is shown too.

Needs root (namespaces, routes) and tools/mistral/setup-mistral-venv.sh.

    .venv/bin/python tools/bench/bench_faults.py --vims 500
"""

import argparse
import concurrent.futures
import os
import signal
import sys
import threading
import time

import benchstack
from oslo_db.sqlalchemy import enginefacade
from oslo_db.sqlalchemy import test_fixtures
from oslo_utils import uuidutils

from tacker_vimmon.action import loop
from tacker_vimmon.action import runtime
from tacker_vimmon.common import context as vimmon_context
from tacker_vimmon.db import api as db_api
from tacker_vimmon.tests import fixtures as vimmon_fixtures
from tacker_vimmon.tests.functional import base

# The API's VIM list, read this often: each read of 2,000 VIMs costs the
# API server CPU that the system under test would otherwise have.
POLL = 1.0
NETNS_HOSTS = 3
CALLERS = 8
# Calls before a conductor fault, and after it on the other conductor.
CALLS_BEFORE = 80
CALLS_AFTER = 200


def register_all(operator, stack, count):
    started = time.monotonic()
    ids = [operator.register('vim-%d' % index, host)
           for index, host in enumerate(benchstack.addresses(stack, count))]
    return ids, time.monotonic() - started


def executor_crash(operator, stack, ids, timeout):
    """Seconds to every VIM truthful, healed, downed-host UNREACHABLE."""
    downed = ids[0]
    stack.mistral.kill_executor()
    crashed = time.monotonic()
    crashed_at = benchstack.utcnow()
    stack.mistral.start_executor()
    stack.hosts[0].set_down()
    meter = benchstack.CpuMeter(benchstack.process_groups(stack))
    window = meter.begin()
    truthful_at, unknown, reachable_last = {}, set(), 0.0
    unreachable_at = healed_at = None
    while time.monotonic() - crashed < timeout:
        now = time.monotonic() - crashed
        vims = operator.vims()
        for vim_id, vim in vims.items():
            if vim['status'] == 'UNKNOWN':
                unknown.add(vim_id)
            if vim['status'] == 'UNKNOWN' or benchstack.checked_in_since(
                    vim, crashed_at):
                truthful_at.setdefault(vim_id, now)
        status = vims[downed]['status']
        if status == 'REACHABLE':
            reachable_last = now
        if status == 'UNREACHABLE' and unreachable_at is None:
            unreachable_at = now
        others = {vim['status'] for vim_id, vim in vims.items()
                  if vim_id != downed}
        if (unreachable_at is not None and others == {'REACHABLE'}
                and len(truthful_at) == len(ids)):
            healed_at = now
            break
        time.sleep(POLL)
    stack.hosts[0].set_up()
    print('CPU %% of a core from the executor crash until healed: %s' % (
        ', '.join('%s %.0f' % item for item in meter.end(window).items())),
        flush=True)
    return {
        'every VIM UNKNOWN or checked in again (s)': max(
            truthful_at.values()) if len(truthful_at) == len(ids) else None,
        'VIMs seen UNKNOWN': '%d/%d' % (len(unknown), len(ids)),
        'every VIM monitored again (s)': healed_at,
        'downed host UNREACHABLE (s)': unreachable_at,
        'downed host last shown REACHABLE (s)': reachable_last,
    }


def broker_restart(operator, stack, ids, timeout):
    """Seconds from the broker answering again to every monitor heard."""
    stack.broker.stop()
    stopped = time.monotonic()
    stack.broker.start()
    back = time.monotonic()
    back_at = benchstack.utcnow()
    unknown = set()

    def every_monitor_heard():
        vims = operator.vims()
        unknown.update(vim_id for vim_id, vim in vims.items()
                       if vim['status'] == 'UNKNOWN')
        return all(benchstack.checked_in_since(vims[vim_id], back_at)
                   and vims[vim_id]['status'] == 'REACHABLE'
                   for vim_id in ids)

    benchstack.wait_until(every_monitor_heard, timeout,
                          'every monitor reporting')
    return {
        'broker away (s)': back - stopped,
        'every VIM monitored again (s)': time.monotonic() - back,
        'VIMs seen UNKNOWN': '%d/%d' % (len(unknown), len(ids)),
    }


class Callers:
    """8 monitors' reporters reporting in a loop, on VIM rows of their own."""

    def __init__(self, stack):
        # The callers' VIM rows are written here, through the DB API.
        facade = enginefacade.transaction_context()
        facade.configure(connection=stack.database_url)
        self._facade = facade
        self._replaced = test_fixtures.ReplaceEngineFacadeFixture(
            db_api.main_context_manager, facade)
        self._replaced.setUp()
        context = vimmon_context.get_admin_context()
        self.reports = []
        for index in range(CALLERS):
            action_id = uuidutils.generate_uuid()
            # A workflow_id, so that the reconciler leaves the row alone:
            # these reports are its monitor.
            vim = db_api.vim_create(context, vimmon_fixtures.vim_values(
                name='caller-%d' % index, action_id=action_id,
                workflow_id='bench-caller'))
            self.reports.append((vim.id, action_id))
        self.runtime = runtime.Runtime(runtime.load_config(
            stack.monitor_config))
        self.answers, self.lost = [], []
        self._stop = threading.Event()
        self._pool = concurrent.futures.ThreadPoolExecutor(CALLERS)
        self._futures = [self._pool.submit(self._call, *report)
                         for report in self.reports]

    def _call(self, vim_id, action_id):
        report = self.runtime.reporter(vim_id, action_id)
        statuses = ('REACHABLE', 'UNREACHABLE')
        count = 0
        while not self._stop.is_set():
            count += 1
            started = time.monotonic()
            try:
                report(statuses[count % 2])
            except loop.ConductorUnreachable:
                self.lost.append(started)
                continue
            self.answers.append((started, time.monotonic() - started))

    def since(self, moment):
        """How long each call answered after moment took (those in flight
        at moment included: they are the ones a fault delays)."""
        return [took for at, took in self.answers if at + took >= moment]

    def close(self):
        self._stop.set()
        for future in self._futures:
            future.result()
        self._pool.shutdown()
        self.runtime.transport.cleanup()
        self._replaced.cleanUp()
        self._facade.writer.get_engine().dispose()


CONDUCTOR_FAULTS = (
    ('conductor SIGTERM', lambda p: p.process.send_signal(signal.SIGTERM)),
    ('conductor master kill -9',
     lambda p: os.kill(p.process.pid, signal.SIGKILL)),
    ('conductor crash (kill -9 of all)', lambda p: p.kill()),
)


def conductor_fault(callers, stack, index, fault, timeout):
    """One conductor faulted under the callers; it is started again after."""
    victim = stack.conductors[index % 2]
    base.wait_for(lambda: len(callers.answers) >= CALLS_BEFORE, timeout,
                  message='calls before the fault')
    lost_before = len(callers.lost)
    at = time.monotonic()
    fault(victim)
    base.wait_for(lambda: victim.process.poll() is not None, timeout,
                  message='the conductor to end')
    base.wait_for(lambda: len(callers.since(at)) >= CALLS_AFTER, timeout,
                  message='calls after the fault')
    after = callers.since(at)
    lost = len(callers.lost) - lost_before
    victim.start()
    callers.answers.clear()
    return {'calls lost': '%d of %d' % (lost, lost + len(after)),
            'slowest answer (s)': max(after)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--vims', type=int, default=500)
    parser.add_argument('--engines', type=int, default=2,
                        help='Mistral engine processes (the monitoring '
                        "guide's advice: two)")
    parser.add_argument('--timeout', type=float, default=600,
                        help='seconds each wait may take')
    args = parser.parse_args()
    if os.geteuid() != 0:
        sys.exit('bench_faults needs root (network namespaces, routes)')
    os.environ['TVM_REQUIRE_SERVICES'] = '1'
    # The VIMs here serve no API: ICMP alone decides.
    stack = benchstack.Stack(args.vims, conductors=2,
                             netns_hosts=NETNS_HOSTS, engines=args.engines,
                             sections={'vim_monitor': {
                                 'status_checks': 'icmp'}})
    started = time.monotonic()
    stack.setUp()
    try:
        operator = benchstack.Operator(stack.api.url)
        print('stack up in %.0f s' % (time.monotonic() - started),
              flush=True)
        ids, took = register_all(operator, stack, args.vims)
        print('%d VIMs registered in %.0f s (%.1f/s)'
              % (len(ids), took, len(ids) / took), flush=True)
        benchstack.wait_until(
            lambda: set(operator.statuses().values()) == {'REACHABLE'},
            args.timeout, 'every VIM REACHABLE')
        print('every VIM REACHABLE after %.0f s'
              % (time.monotonic() - started - took), flush=True)
        rows = [('executor kill -9', executor_crash(
            operator, stack, ids, args.timeout))]
        rows.append(('RabbitMQ restart', broker_restart(
            operator, stack, ids, args.timeout)))
        callers = Callers(stack)
        try:
            for index, (name, fault) in enumerate(CONDUCTOR_FAULTS):
                rows.append((name, conductor_fault(
                    callers, stack, index, fault, args.timeout)))
        finally:
            callers.close()
    finally:
        stack.cleanUp()
    benchstack.print_table(
        'fault (%d VIMs, one executor, %d engines, two conductors)'
        % (args.vims, args.engines), rows)


if __name__ == '__main__':
    main()
