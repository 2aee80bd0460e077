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

"""Requests per second and latency of the VIM API on a real database.

    .venv/bin/python tools/bench/api_requests.py [--backend postgresql]
        [--requests 300] [--clients 4] [--vims 100]

Starts tacker-vimmon-server (noauth, no credential validation) on a new
database of the machine's PostgreSQL (or MariaDB), then, with --clients
threads on loopback, times --requests creates, shows and lists (the list
returns --vims VIMs). Prints a table; everything is removed afterwards.
"""

import argparse
import concurrent.futures
import statistics
import threading
import time

import requests

from tacker_vimmon.tests.functional import base
from tacker_vimmon.tests.functional.api import api_server

_LOCAL = threading.local()


def _session():
    if not hasattr(_LOCAL, 'session'):
        _LOCAL.session = requests.Session()
    return _LOCAL.session


def _vim(name):
    return {'vim': {'name': name, 'type': 'openstack',
                    'auth_url': 'http://192.0.2.1/identity',
                    'auth_cred': {'username': 'u', 'password': 'p'},
                    'vim_project': {'name': 'nfv'}}}


def _timed(method, url, expected, body=None):
    started = time.perf_counter()
    response = _session().request(method, url, json=body, timeout=60)
    elapsed = time.perf_counter() - started
    if response.status_code != expected:
        raise RuntimeError('%s %s: %s %s' % (method, url,
                                             response.status_code,
                                             response.text[:200]))
    return elapsed, response


def _run(calls, clients):
    started = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(clients) as pool:
        results = list(pool.map(lambda call: call(), calls))
    wall = time.perf_counter() - started
    return wall, [elapsed for elapsed, _response in results], results


def _row(name, wall, latencies):
    latencies = sorted(latencies)
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    return '%-22s %8d %10.1f %9.1f %9.1f' % (
        name, len(latencies), len(latencies) / wall,
        statistics.median(latencies) * 1000, p99 * 1000)


def bench(url, count, clients, vims):
    vims_url = url + '/v1.0/vims'
    rows = []
    wall, latencies, results = _run(
        [lambda i=i: _timed('POST', vims_url, 201, _vim('bench-%d' % i))
         for i in range(count)], clients)
    rows.append(_row('create', wall, latencies))
    ids = [response.json()['vim']['id'] for _e, response in results]
    wall, latencies, _ = _run(
        [lambda i=i: _timed('GET', vims_url + '/' + ids[i % len(ids)], 200)
         for i in range(count)], clients)
    rows.append(_row('show', wall, latencies))
    for vim_id in ids[vims:]:
        _timed('DELETE', vims_url + '/' + vim_id, 204)
    wall, latencies, _ = _run(
        [lambda: _timed('GET', vims_url, 200) for _ in range(count)],
        clients)
    rows.append(_row('list (%d VIMs)' % min(vims, count), wall, latencies))
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--backend', default='postgresql',
                        choices=['postgresql', 'mysql'])
    parser.add_argument('--requests', type=int, default=300)
    parser.add_argument('--clients', type=int, default=4)
    parser.add_argument('--vims', type=int, default=100)
    args = parser.parse_args()
    database = base.RealDatabase(args.backend)
    database.setUp()
    try:
        server = api_server.ApiServerProcess(database.url)
        server.setUp()
        try:
            rows = bench(server.url, args.requests, args.clients, args.vims)
        finally:
            server.cleanUp()
    finally:
        database.cleanUp()
    print('%s, %d client thread(s), loopback, tacker-vimmon-server with '
          '16 threads' % (args.backend, args.clients))
    print('%-22s %8s %10s %9s %9s' % ('operation', 'requests', 'req/s',
                                      'p50 ms', 'p99 ms'))
    for row in rows:
        print(row)


if __name__ == '__main__':
    main()
