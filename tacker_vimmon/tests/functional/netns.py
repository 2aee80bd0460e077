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

"""VIM hosts in network namespaces, and the guard that keeps probes home.

Probes in functional tests go only to loopback or to hosts in network
namespaces the test creates. Every namespace host lives in a test range
(IPv4 10.250.0.0/16, IPv6 fd7e:5d1a:7e57::/48). ``ProbeGuard`` puts an
``unreachable`` route over both ranges before anything probes, so an
address of the range whose own route is gone is refused by the kernel
instead of following the default route off the machine. Several tests
(and stestr workers) share the guard: each holds it with a file named
after its process, and the routes go when the last live holder leaves.

``NetnsHosts`` makes hosts: one namespace each, joined to this namespace by
a veth pair with an IPv4 /30 and an IPv6 /64 of the test range. A host is
made unreachable by taking its interface down inside its namespace.
"""

import contextlib
import fcntl
import ipaddress
import os
import subprocess
import sys
import time

import fixtures
from oslo_utils import uuidutils

from tacker_vimmon.tests.functional import base

IPV4_RANGE = ipaddress.ip_network('10.250.0.0/16')
IPV6_RANGE = ipaddress.ip_network('fd7e:5d1a:7e57::/48')
STATE_DIR = os.environ.get('TVM_TEST_NETNS_DIR', '/run/tacker-vimmon-tests')
# Subnet 0 of the ranges is never given to a host: tests use it as an
# address that must be refused by the guard route.
UNUSED_IPV4 = str(IPV4_RANGE[2])
UNUSED_IPV6 = str(IPV6_RANGE[2])
IP_TIMEOUT = 30


def ip(*args, check=True):
    """Run ``ip`` and return its stdout."""
    result = subprocess.run(['ip', *args], capture_output=True, text=True,
                            timeout=IP_TIMEOUT)
    if check and result.returncode:
        raise RuntimeError('ip %s failed: %s' % (' '.join(args),
                                                 result.stderr.strip()))
    return result.stdout


def route_get(address):
    """What ``ip route get`` says of address (its refusal included)."""
    result = subprocess.run(['ip', 'route', 'get', address],
                            capture_output=True, text=True,
                            timeout=IP_TIMEOUT)
    return (result.stdout + result.stderr).strip()


@contextlib.contextmanager
def _locked():
    """Serialise guard and address bookkeeping across test processes."""
    os.makedirs(STATE_DIR, exist_ok=True)
    with open(os.path.join(STATE_DIR, 'lock'), 'w') as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _guard_routes():
    return [('-4', 'unreachable', str(IPV4_RANGE)),
            ('-6', 'unreachable', str(IPV6_RANGE))]


def _has_route(version, kind, prefix):
    return prefix in ip(version, 'route', 'show', 'type', kind, prefix)


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


NAMESPACE_PREFIX = 'tvm-test-'
# A namespace younger than this may be one another process is making.
_REAP_AFTER = 60


def _reap_leftovers(live_indexes):
    """Delete test namespaces whose index no live test holds.

    A run killed before its clean-up leaves its namespaces (and their veth
    pairs, with addresses of the test range) behind; reusing their
    addresses would make a downed test host still answer. Called with the
    bookkeeping lock held.
    """
    netns_dir = '/run/netns'
    try:
        names = os.listdir(netns_dir)
    except OSError:
        return
    now = time.time()
    for name in names:
        index = _index_of(name)
        if index is None or index in live_indexes:
            continue
        if now - os.stat(os.path.join(netns_dir, name)).st_mtime < _REAP_AFTER:
            continue
        ip('netns', 'del', name, check=False)


def _index_of(namespace):
    """The address index in a test namespace's name, or None."""
    if not namespace.startswith(NAMESPACE_PREFIX):
        return None
    index = namespace[len(NAMESPACE_PREFIX):].split('-', 1)[0]
    return int(index) if index.isdigit() else None


def _owner_alive(name):
    try:
        with open(os.path.join(STATE_DIR, name)) as f:
            return _pid_alive(int(f.read().strip() or 0))
    except (OSError, ValueError):
        return False


def _indexes_on_links():
    """The /30 indexes whose addresses some interface here holds."""
    indexes = set()
    for line in ip('-o', '-4', 'addr', 'show').splitlines():
        fields = line.split()
        address = fields[fields.index('inet') + 1].split('/')[0]
        if ipaddress.ip_address(address) in IPV4_RANGE:
            offset = int(ipaddress.ip_address(address)) - int(
                IPV4_RANGE.network_address)
            indexes.add(offset // 4)
    return indexes


class ProbeGuard(fixtures.Fixture):
    """The ``unreachable`` routes over the test ranges, shared and counted.

    Use it before any fixture that probes, so that it is cleaned up after
    them: the routes are removed only when no live holder is left.
    """

    def _setUp(self):
        if os.geteuid() != 0:
            raise base.ServiceUnavailable(
                'network namespaces need root (ip netns, ip route)')
        self.holder = os.path.join(STATE_DIR, 'guard-%d-%s' % (
            os.getpid(), uuidutils.generate_uuid(dashed=False)[:8]))
        with _locked():
            for version, kind, prefix in _guard_routes():
                if not _has_route(version, kind, prefix):
                    ip(version, 'route', 'add', kind, prefix)
            with open(self.holder, 'w'):
                pass
        self.addCleanup(self._release)

    def _release(self):
        with _locked():
            os.unlink(self.holder)
            if self._live_holders():
                return
            for version, kind, prefix in _guard_routes():
                ip(version, 'route', 'del', kind, prefix, check=False)

    @staticmethod
    def _live_holders():
        live = []
        for name in os.listdir(STATE_DIR):
            if not name.startswith('guard-'):
                continue
            if _pid_alive(int(name.split('-')[1])):
                live.append(name)
            else:
                # Left by a crashed run.
                os.unlink(os.path.join(STATE_DIR, name))
        return live


class NetnsHost:
    """One host in its own namespace: addresses, and a switch."""

    def __init__(self, namespace, inner_if, outer_if, index):
        self.namespace = namespace
        self.inner_if = inner_if
        self.outer_if = outer_if
        self.ipv4 = str(IPV4_RANGE[index * 4 + 2])
        self.outer_ipv4 = str(IPV4_RANGE[index * 4 + 1])
        prefix = ipaddress.ip_network((int(IPV6_RANGE.network_address)
                                       + (index << 64), 64))
        self.ipv6 = str(prefix[2])
        self.outer_ipv6 = str(prefix[1])

    def set_sysctl(self, name, value):
        """Set a sysctl of the namespace (no procps needed)."""
        path = '/proc/sys/' + name.replace('.', '/')
        subprocess.run(['ip', 'netns', 'exec', self.namespace, 'sh', '-c',
                        'echo "$1" > "$2"', 'sh', value, path],
                       check=True, timeout=IP_TIMEOUT)

    def set_down(self):
        """Take the interface down inside the namespace."""
        ip('-n', self.namespace, 'link', 'set', 'dev', self.inner_if,
           'down')

    def set_up(self):
        """Bring the interface up again; return once both ends are up."""
        ip('-n', self.namespace, 'link', 'set', 'dev', self.inner_if, 'up')
        self.wait_until_up()

    def wait_until_up(self, timeout=10):
        # The kernel passes carrier changes on with a delay of up to a
        # second (linkwatch); until then the link drops packets.
        def both_up():
            inner = ip('-n', self.namespace, '-o', 'link', 'show', 'dev',
                       self.inner_if)
            outer = ip('-o', 'link', 'show', 'dev', self.outer_if)
            return 'state UP' in inner and 'state UP' in outer
        base.wait_for(both_up, timeout, interval=0.05,
                      message='%s to come up' % self.namespace)


class NetnsHosts(fixtures.Fixture):
    """``count`` namespace hosts, removed afterwards.

    :param guard: the ProbeGuard in force (taken to make sure there is one)
    """

    def __init__(self, guard, count=1):
        super().__init__()
        if guard is None:
            raise ValueError('NetnsHosts needs a ProbeGuard set up first')
        self.guard = guard
        self.count = count
        self.hosts = []

    def _setUp(self):
        indexes = self._allocate(self.count)
        for index in indexes:
            self.hosts.append(self._make_host(index))

    def _allocate(self, count):
        """Free /30 indexes of the test range (index 0 is never used)."""
        with _locked():
            used = {int(name.split('-')[1]) for name in os.listdir(STATE_DIR)
                    if name.startswith('index-') and _owner_alive(name)}
            _reap_leftovers(used)
            # A run that was killed leaves its hosts behind: their
            # addresses are taken whatever the bookkeeping says.
            used |= _indexes_on_links()
            free = [i for i in range(1, IPV4_RANGE.num_addresses // 4)
                    if i not in used][:count]
            for index in free:
                path = os.path.join(STATE_DIR, 'index-%d' % index)
                with open(path, 'w') as f:
                    f.write(str(os.getpid()))
                self.addCleanup(os.unlink, path)
        return free

    def _make_host(self, index):
        tag = uuidutils.generate_uuid(dashed=False)[:8]
        host = NetnsHost('%s%d-%s' % (NAMESPACE_PREFIX, index, tag),
                         'tvm%sn' % tag, 'tvm%sh' % tag, index)
        ip('netns', 'add', host.namespace)
        self.addCleanup(ip, 'netns', 'del', host.namespace, check=False)
        ip('link', 'add', host.outer_if, 'type', 'veth', 'peer', 'name',
           host.inner_if, 'netns', host.namespace)
        # Deleting the namespace deletes its end and so the pair, but a
        # failure before that must not leave the outer end behind.
        self.addCleanup(ip, 'link', 'del', host.outer_if, check=False)
        ip('addr', 'add', host.outer_ipv4 + '/30', 'dev', host.outer_if)
        ip('-6', 'addr', 'add', host.outer_ipv6 + '/64', 'dev',
           host.outer_if, 'nodad')
        ip('link', 'set', 'dev', host.outer_if, 'up')
        inside = ('-n', host.namespace)
        # Keep the IPv6 address across set_down()/set_up(); the kernel
        # drops it on link down otherwise.
        host.set_sysctl('net.ipv6.conf.all.keep_addr_on_down', '1')
        ip(*inside, 'link', 'set', 'dev', 'lo', 'up')
        ip(*inside, 'addr', 'add', host.ipv4 + '/30', 'dev', host.inner_if)
        ip(*inside, '-6', 'addr', 'add', host.ipv6 + '/64', 'dev',
           host.inner_if, 'nodad')
        ip(*inside, 'link', 'set', 'dev', host.inner_if, 'up')
        host.wait_until_up()
        return host


class NetnsServer(fixtures.Fixture):
    """A VIM API (tests/http_endpoint.py) inside a namespace host.

    :param host: the NetnsHost
    :param port: the port it listens on, at the host's IPv4 address
    :param status: the HTTP status of every answer
    :param cert: (certificate file, key file) to serve https
    :param hang: accept connections and never answer
    """

    def __init__(self, host, port, status=300, cert=None, hang=False):
        super().__init__()
        self.host = host
        self.port = port
        self.args = ['--address', host.ipv4, '--port', str(port),
                     '--status', str(status)]
        if cert:
            self.args += ['--cert', cert[0], '--key', cert[1]]
        if hang:
            self.args.append('--hang')

    def _setUp(self):
        self.process = subprocess.Popen(
            ['ip', 'netns', 'exec', self.host.namespace, sys.executable,
             '-m', 'tacker_vimmon.tests.http_endpoint', *self.args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.addCleanup(self._stop)
        line = self.process.stdout.readline()
        if line.strip() != 'listening':
            raise RuntimeError('the endpoint in %s did not start: %s' % (
                self.host.namespace, self.process.stderr.read()[-2000:]))

    def _stop(self):
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)
        self.process.stdout.close()
        self.process.stderr.close()
