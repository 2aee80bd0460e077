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

"""Where to probe a VIM: the host of its auth_url.

The auth_url may name the host by DNS name, IPv4 address or bracketed IPv6
address, with or without a port and a path; only the host matters to an
ICMP probe. Names are resolved at each probe round, so a VIM whose address
changes in DNS is followed.
"""

import collections
import ipaddress
import socket
from urllib import parse

from tacker_vimmon.common import exception


class ProbeTarget(collections.namedtuple('ProbeTarget', ['url', 'host'])):
    """The host to probe, and the auth_url it came from (for messages)."""

    def is_address(self):
        return _ip_address(self.host) is not None

    def resolve(self):
        """The host's addresses, IPv4 and IPv6, in resolver order.

        :raises: MonitorTargetUnresolvable
        """
        if self.is_address():
            return [self.host]
        try:
            infos = socket.getaddrinfo(self.host, None, socket.AF_UNSPEC,
                                       socket.SOCK_RAW)
        except (socket.gaierror, UnicodeError) as error:
            raise exception.MonitorTargetUnresolvable(host=self.host,
                                                      reason=error)
        addresses = []
        for family, _type, _proto, _name, sockaddr in infos:
            if (family in (socket.AF_INET, socket.AF_INET6)
                    and sockaddr[0] not in addresses):
                addresses.append(sockaddr[0])
        if not addresses:
            raise exception.MonitorTargetUnresolvable(
                host=self.host, reason='no IPv4 or IPv6 address')
        return addresses


def _ip_address(text):
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def from_auth_url(url):
    """The ProbeTarget of an auth_url.

    :raises: InvalidMonitorTarget when no host can be found in it
    """
    if not isinstance(url, str) or not url.strip():
        raise exception.InvalidMonitorTarget(url=repr(url),
                                             reason='it is empty')
    text = url.strip()
    # A bare "host:port/path" has no scheme; urlsplit needs the "//" to
    # see a host in it.
    if '://' not in text:
        text = '//' + text
    try:
        parts = parse.urlsplit(text)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError as error:
        raise exception.InvalidMonitorTarget(url=url, reason=error)
    if not host:
        raise exception.InvalidMonitorTarget(url=url,
                                             reason='it names no host')
    # "[fe80::1%25eth0]": the zone of a link-local address is
    # percent-encoded in URLs.
    host = parse.unquote(host)
    if _ip_address(host) is None and not _looks_like_hostname(host):
        raise exception.InvalidMonitorTarget(
            url=url, reason='%r is neither an IP address nor a host name'
            % host)
    return ProbeTarget(url=url, host=host)


def _looks_like_hostname(host):
    if len(host) > 253 or ':' in host:
        return False
    labels = host.rstrip('.').split('.')
    return all(label and len(label) <= 63 and not label.startswith('-')
               and all(ch.isalnum() or ch in '-_' for ch in label)
               for label in labels)
