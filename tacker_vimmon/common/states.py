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


"""Every status a VIM can have, and the answer that retires a monitor.

One home for strings that cross process boundaries: the monitor action in
Mistral's executor sends REACHABLE or UNREACHABLE, the conductor stores
them and may answer BAD_ACTION, and the API shows them. Nothing here
imports anything, so every process may use it.
"""

# The VIM is registered; its monitor has not reported yet.
PENDING = 'PENDING'
# The monitor's last verdict: the VIM answers.
REACHABLE = 'REACHABLE'
# The monitor's last verdict: the VIM stopped answering.
UNREACHABLE = 'UNREACHABLE'
# The VIM's monitor could not be set up (the reason is shown with it).
ERROR = 'ERROR'
# Shown, never stored: the monitor has not been heard from within the
# silence window, so its last verdict may no longer be true.
UNKNOWN = 'UNKNOWN'
# Shown, never stored as the status: the VIM answers, but the conductor's
# credential check found its stored credentials refused.
AUTH_FAILED = 'AUTH_FAILED'

# Every status the API may show.
ALL_STATUSES = (PENDING, REACHABLE, UNREACHABLE, ERROR, UNKNOWN, AUTH_FAILED)

# What a monitor action may report.
MONITOR_STATUSES = (REACHABLE, UNREACHABLE)

# Why a VIM has its status: a closed set of machine-readable codes, the
# same in the API's ``monitor.reason``, the MONITOR events, the
# notifications and the metrics. Documented in the admin guide's
# "Statuses and reasons" page; a new code is an API change.
REASON_OK = 'ok'
# Reachable: the API answers, ICMP does not (filtered on the way).
REASON_ICMP_BLOCKED = 'icmp_blocked'
# A check got no answer in time (echo reply, TCP, TLS or HTTP).
REASON_TIMEOUT = 'timeout'
# The local kernel has no route to the VIM's address.
REASON_NO_ROUTE = 'no_route'
# The network says the host cannot be reached (ICMP unreachable, no ARP).
REASON_HOST_UNREACHABLE = 'host_unreachable'
# The host answers, but nothing listens on the API's port.
REASON_REFUSED = 'refused'
# The VIM's host name does not resolve.
REASON_DNS_FAILURE = 'dns_failure'
# The TLS handshake failed (untrusted or expired certificate, wrong name).
REASON_TLS_ERROR = 'tls_error'
# The API answered, but with an error (5xx, 404) or not in HTTP.
REASON_HTTP_ERROR = 'http_error'
# Any other socket error on the way (the text says which).
REASON_NETWORK_ERROR = 'network_error'
# The VIM's stored credentials were refused (credential check).
REASON_AUTH_FAILED = 'auth_failed'
# Not a verdict of the checks: why the status is PENDING, ERROR, UNKNOWN.
REASON_NOT_CHECKED = 'not_checked_yet'
REASON_MONITOR_FAILED = 'monitor_failed'
REASON_MONITOR_SILENT = 'monitor_silent'

# What a monitor action may report as a reason (its checks' verdicts).
CHECK_REASONS = (REASON_OK, REASON_ICMP_BLOCKED, REASON_TIMEOUT,
                 REASON_NO_ROUTE, REASON_HOST_UNREACHABLE, REASON_REFUSED,
                 REASON_DNS_FAILURE, REASON_TLS_ERROR, REASON_HTTP_ERROR,
                 REASON_NETWORK_ERROR)
ALL_REASONS = CHECK_REASONS + (REASON_AUTH_FAILED, REASON_NOT_CHECKED,
                               REASON_MONITOR_FAILED, REASON_MONITOR_SILENT)

# Which checks decide a VIM's status ([vim_monitor] status_checks).
CHECKS_ICMP = 'icmp'
CHECKS_API = 'api'
CHECKS_BOTH = 'both'
STATUS_CHECKS = (CHECKS_ICMP, CHECKS_API, CHECKS_BOTH)



def shown_status(status, silent=False, auth_status=None):
    """The status the API shows for a stored one.

    :param silent: the monitor was recorded silent (silent_since)
    :param auth_status: the credential check's verdict (auth_status)
    """
    if silent:
        return UNKNOWN
    if status == REACHABLE and auth_status == REASON_AUTH_FAILED:
        return AUTH_FAILED
    return status


# The conductor's answer to an action that is not the VIM's monitor any
# more (the VIM was deregistered, or a newer monitor replaced it): exit.
BAD_ACTION = 'bad_action'
