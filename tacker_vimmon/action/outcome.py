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

"""What one check of a VIM saw, as a reason code of common/states.py.

The ICMP rounds and the API checks both end in a CheckResult, so that the
engine decides a VIM's status from the two alike.
"""

import collections
import errno
import os

from tacker_vimmon.common import states


class CheckResult(collections.namedtuple(
        'CheckResult', ['answered', 'reason', 'detail', 'rtt', 'extra'],
        defaults=[None, None, None])):
    """One check's outcome.

    :param answered: whether the VIM answered this check
    :param reason: a states.CHECK_REASONS code (``ok`` when answered)
    :param detail: what happened, for people (never a secret)
    :param rtt: seconds: the echo's round trip, or the TCP connect's
    :param extra: a dict of check-specific facts (HTTP status, the
        certificate's expiry)
    """


# Errors the kernel gives at once, while sending: it has no route.
_NO_ROUTE = (errno.ENETUNREACH, errno.EHOSTUNREACH)


def reason_of_error(error, immediate=True):
    """The reason code of a socket error.

    :param immediate: the error came from the send or connect call itself
        (the local routing table refused), not later from the network; an
        EHOSTUNREACH that arrives later is the network's "host
        unreachable" (an ICMP error, or no ARP answer)
    """
    number = getattr(error, 'errno', error)
    if number in _NO_ROUTE and (immediate or number == errno.ENETUNREACH):
        return states.REASON_NO_ROUTE
    if number == errno.EHOSTUNREACH:
        return states.REASON_HOST_UNREACHABLE
    if number == errno.ECONNREFUSED:
        return states.REASON_REFUSED
    if number == errno.ETIMEDOUT:
        return states.REASON_TIMEOUT
    return states.REASON_NETWORK_ERROR


def failed(error, immediate=True):
    """The CheckResult of a socket error."""
    if isinstance(error, int):
        text = os.strerror(error)
    else:
        text = getattr(error, 'strerror', None) or str(error)
    return CheckResult(False, reason_of_error(error, immediate), text)
