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

"""Many VIM monitors on one Mistral executor, for real.

Starts what the end-to-end tests start (a Mistral 23 from .venv-mistral, a
tacker-vimmon-conductor on PostgreSQL, RabbitMQ vhosts) and one network
namespace host per VIM, behind the unreachable guard route over the test
range. Then it measures, for N VIMs on one executor process:

* registration: monitor created in Mistral -> REACHABLE in the database;
* detection: interface taken down in the host's namespace -> UNREACHABLE
  in the database;
* stale-action exit, fast path: VIM row given a new action_id and
  a wake-up sent -> the old action execution completes in Mistral;
* stale-action exit, check-in path: the same without the wake-up.

Needs root (namespaces, routes), the machine's RabbitMQ and PostgreSQL and
tools/mistral/setup-mistral-venv.sh. Probes only namespace hosts.

    .venv/bin/python tools/bench/bench_monitors.py [--vims 100]
"""

import argparse
import os
import statistics
import sys
import time

import fixtures
from oslo_config import cfg
from oslo_db.sqlalchemy import enginefacade
from oslo_db.sqlalchemy import test_fixtures
from oslo_utils import timeutils
from oslo_utils import uuidutils

from tacker_vimmon.common import context as vimmon_context
from tacker_vimmon.common import rpc
from tacker_vimmon.conf import CONF
from tacker_vimmon.db import api as db_api
from tacker_vimmon.tests import fixtures as vimmon_fixtures
from tacker_vimmon.tests.functional import base
from tacker_vimmon.tests.functional import mistral
from tacker_vimmon.tests.functional import netns
from tacker_vimmon.tests.functional import processes
from tacker_vimmon.tests.functional import rabbit
from tacker_vimmon.workflow import mistral as monitor_mistral
from tacker_vimmon.workflow import rpcapi as wakeup_rpcapi

POLL = 0.1


class Stack(fixtures.Fixture):
    """Guard, hosts, database, broker, conductor and Mistral."""

    def __init__(self, vims):
        super().__init__()
        self.vims = vims

    def _setUp(self):
        guard = self.useFixture(netns.ProbeGuard())
        self.hosts = self.useFixture(netns.NetnsHosts(guard,
                                                      self.vims)).hosts
        database = self.useFixture(base.RealDatabase('postgresql'))
        url = database.url.render_as_string(hide_password=False)
        vhost = self.useFixture(rabbit.RabbitVhost())
        self.useFixture(processes.ConductorProcess(
            vhost.transport_url, url, 'bench-conductor'))
        facade = enginefacade.transaction_context()
        facade.configure(connection=url)
        self.addCleanup(lambda: facade.writer.get_engine().dispose())
        self.useFixture(test_fixtures.ReplaceEngineFacadeFixture(
            db_api.main_context_manager, facade))
        config = os.path.join(self.useFixture(fixtures.TempDir()).path,
                              'tacker-vimmon-monitor.conf')
        base.write_config(config, {
            'DEFAULT': {'transport_url': vhost.transport_url}})
        self.mistral = self.useFixture(mistral.MistralFixture(
            thread_pool_size=self.vims + 16,
            environment={'TACKER_VIMMON_MONITOR_CONFIG_FILE': config}))
        CONF.set_override('endpoint_override', self.mistral.url,
                          group='mistral')
        self.addCleanup(CONF.clear_override, 'endpoint_override',
                        group='mistral')
        self.transport = rpc.get_transport_for(cfg.ConfigOpts(),
                                               vhost.transport_url)
        self.addCleanup(self.transport.cleanup)


def percentiles(values):
    if not values:
        return 'n/a', 'n/a', 0
    ordered = sorted(values)
    p99 = ordered[min(len(ordered) - 1, int(round(0.99 * len(ordered))) - 1)]
    return ('%.2f' % statistics.median(ordered), '%.2f' % p99,
            len(ordered))


def wait_all(pending, check, timeout):
    """{key: start} -> {key: seconds until check(keys) said done}."""
    done = {}
    deadline = time.monotonic() + timeout
    while pending and time.monotonic() < deadline:
        now = time.monotonic()
        for key in check(set(pending)):
            done[key] = now - pending.pop(key)
        time.sleep(POLL)
    return done


def changed_since(context, since, status, timeout):
    """{vim_id: seconds from since[vim_id] to the change to status}.

    Read from the row's updated_at, which the conductor sets when the
    status changes: no polling delay in the figures.
    """
    def arrived():
        rows = {v.id: v for v in db_api.vim_get_all(context)}
        return all(rows[v].status == status for v in since) and rows

    rows = base.wait_for(arrived, timeout, interval=POLL,
                         message='every VIM %s' % status)
    return {vim_id: (rows[vim_id].updated_at - start).total_seconds()
            for vim_id, start in since.items()}


def run(args):
    context = vimmon_context.get_admin_context()
    stack = Stack(args.vims)
    started = time.monotonic()
    stack.setUp()
    try:
        print('stack up in %.1f s' % (time.monotonic() - started),
              file=sys.stderr)
        monitors = monitor_mistral.MistralMonitors(CONF)
        probe = {'count': args.count, 'interval': args.interval,
                 'timeout': args.timeout, 'failure_threshold':
                 args.threshold, 'check_interval': args.check_interval}
        vims = {}
        created_at = {}
        for host in stack.hosts:
            action_id = uuidutils.generate_uuid()
            url = 'http://%s:5000/v3' % host.ipv4
            vim = db_api.vim_create(context, vimmon_fixtures.vim_values(
                name='bench-%s' % action_id[:8], auth_url=url))
            db_api.vim_update(context, vim.id, {'action_id': action_id})
            monitor = monitors.create(vim.id, action_id, url, probe)
            vims[vim.id] = (host, action_id, monitor)
            created_at[vim.id] = timeutils.utcnow()
        registered = changed_since(context, created_at, 'REACHABLE',
                                   args.timeout_all)
        down_at = {}
        for vim_id, (host, _a, _m) in vims.items():
            host.set_down()
            down_at[vim_id] = timeutils.utcnow()
        detected = changed_since(context, down_at, 'UNREACHABLE',
                                 args.timeout_all)

        ids = list(vims)
        fast, slow = ids[::2], ids[1::2]
        retired = {}
        for vim_id in ids:
            db_api.vim_update(context, vim_id,
                              {'action_id': uuidutils.generate_uuid()})
            retired[vim_id] = time.monotonic()
        # The fast path counts from the wake-up, sent once all are retired.
        woken = time.monotonic()
        for vim_id in fast:
            retired[vim_id] = woken
        wakeup_rpcapi.MonitorWakeupAPI(stack.transport).wake(
            [vims[vim_id][1] for vim_id in fast])
        by_execution = {vims[v][2].execution_id: v for v in ids}

        def exited(keys):
            client = stack.mistral.client
            finished = []
            for execution in client.executions.list(limit=-1):
                vim_id = by_execution.get(execution.id)
                if (vim_id in keys and execution.state != 'RUNNING'):
                    finished.append(vim_id)
            return finished

        exits = wait_all(dict(retired), exited,
                         args.check_interval * 2 + 30)
        rows = [
            ('registration -> REACHABLE', registered, len(ids)),
            ('link down -> UNREACHABLE', detected, len(ids)),
            ('stale exit, fast path', {v: exits[v] for v in fast
                                       if v in exits}, len(fast)),
            ('stale exit, check-in path', {v: exits[v] for v in slow
                                           if v in exits}, len(slow)),
        ]
        print('VIMs: %d on one executor (executor_thread_pool_size %d); '
              'probe count %d, interval %.1f s, timeout %.1f s, '
              'threshold %d, check_interval %d s'
              % (args.vims, args.vims + 16, args.count, args.interval,
                 args.timeout, args.threshold, args.check_interval))
        print('| measure | p50 s | p99 s | done/total |')
        print('| --- | ---: | ---: | ---: |')
        for name, values, total in rows:
            p50, p99, count = percentiles(list(values.values()))
            print('| %s | %s | %s | %d/%d |' % (name, p50, p99, count,
                                                total))
    finally:
        stack.cleanUp()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--vims', type=int, default=100)
    parser.add_argument('--count', type=int, default=3)
    parser.add_argument('--interval', type=float, default=1.0)
    parser.add_argument('--timeout', type=float, default=1.0)
    parser.add_argument('--threshold', type=int, default=2)
    parser.add_argument('--check-interval', type=int, default=60)
    parser.add_argument('--timeout-all', type=float, default=300)
    run(parser.parse_args())


if __name__ == '__main__':
    main()
