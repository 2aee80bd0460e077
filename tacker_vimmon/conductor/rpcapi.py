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

"""The client side of the conductor's RPC API.

The monitor action imports this module inside Mistral's executor, so it
reads no configuration: the caller passes the topic and the timeout.
"""

from tacker_vimmon.common import rpc

# Seconds a call waits for an answer unless the caller says otherwise.
DEFAULT_TIMEOUT = 10


class ConductorAPI:
    """Client of the conductor.

    API version history:

    * 1.0 - Initial version: ``update_vim(vim_id, status, action_id)``
      returns the status stored, or ``'bad_action'`` when the VIM is gone
      or the action is not the VIM's current monitor.
    * 1.1 - ``heartbeat(action_ids)``, a cast: these monitors still run.
    * 1.2 - ``monitor_failed(vim_id, action_id, reason)``: an action that
      cannot start says why; returns the status stored (``'ERROR'``), or
      ``'bad_action'``.
    * 1.3 - ``ping()``: the answering conductor's host name; writes
      nothing (``tacker-vimmon-status upgrade check``).
    * 1.4 - ``update_vim`` also takes ``reason`` (a code of
      states.CHECK_REASONS) and ``details`` (the round-trip time and what
      each check saw); a 1.0 call (neither) still works.
    * 1.5 - ``update_vims(reports)``: many monitors' reports in one call,
      each a mapping of update_vim's arguments; returns their answers in
      the same order.
    """

    RPC_API_VERSION = '1.5'

    def __init__(self, topic=rpc.CONDUCTOR_TOPIC, transport=None,
                 version_cap=None, timeout=DEFAULT_TIMEOUT):
        """:param topic: the conductors' ``[conductor] topic``
        :param transport: default the process-wide one (rpc.init)
        :param version_cap: newest version to send (a rolling upgrade
            with older conductors still running); default this one
        :param timeout: seconds to wait for each answer
        """
        self.topic = topic
        self.timeout = timeout
        target = rpc.target(self.topic, version=self.RPC_API_VERSION)
        self.client = rpc.get_client(
            target, version_cap=version_cap or self.RPC_API_VERSION,
            transport=transport)

    def update_vim(self, context, vim_id, status, action_id, timeout=None,
                   reason=None, details=None):
        """Report a VIM's status; also the monitor's periodic check-in.

        :param status: 'REACHABLE' or 'UNREACHABLE'
        :param action_id: the id the monitor action was created with
        :param timeout: seconds to wait for the answer (default: the
            client's)
        :param reason: why (states.CHECK_REASONS); sent as 1.4, and left
            out for a conductor capped below 1.4
        :param details: {'rtt': seconds or None, 'detail': text,
            'checks': {check: what it saw}}
        :returns: the status stored, or 'bad_action' when the action must
            stop (VIM unknown, or another action is its monitor now)
        :raises: InvalidRpcCall for a bad status or argument;
            oslo_messaging.MessagingTimeout when no conductor answered
        """
        timeout = timeout or self.timeout
        if reason is not None and self.client.can_send_version('1.4'):
            cctxt = self.client.prepare(version='1.4', timeout=timeout)
            return cctxt.call(context, 'update_vim', vim_id=vim_id,
                              status=status, action_id=action_id,
                              reason=reason, details=details or {})
        cctxt = self.client.prepare(version='1.0', timeout=timeout)
        return cctxt.call(context, 'update_vim', vim_id=vim_id,
                          status=status, action_id=action_id)

    def update_vims(self, context, reports, timeout=None):
        """Many monitors' reports (their routine check-ins) in one call.

        Each is written and answered as update_vim would write and answer
        it on its own; one call costs the caller and the conductor about
        what a single report costs.

        :param reports: mappings of update_vim's arguments (``vim_id``,
            ``status``, ``action_id``, and ``reason`` and ``details``), at
            most manager.MAX_REPORTS, of distinct VIMs
        :returns: the answers, in the order of ``reports``: each the status
            stored, or 'bad_action'
        :raises: InvalidRpcCall naming the report to fix (nothing of the
            call is written); oslo_messaging.MessagingTimeout when no
            conductor answered; oslo_messaging.UnsupportedVersion when
            capped below 1.5 (a rolling upgrade: send update_vim instead)
        """
        cctxt = self.client.prepare(version='1.5',
                                    timeout=timeout or self.timeout)
        return cctxt.call(context, 'update_vims', reports=list(reports))

    def heartbeat(self, context, action_ids):
        """Tell the conductors which monitors run in this process (a cast).

        :param action_ids: the action_ids of every monitor still running
        :raises: oslo_messaging.MessagingException when it cannot be sent
        """
        cctxt = self.client.prepare(version='1.1')
        cctxt.cast(context, 'heartbeat', action_ids=list(action_ids))

    def ping(self, context, timeout=None):
        """Ask one conductor on the topic to answer; it writes nothing.

        :returns: the host name ([DEFAULT] host) of the conductor that
            answered
        :raises: oslo_messaging.MessagingTimeout when none answered;
            oslo_messaging.UnsupportedVersion from a conductor older than
            1.3
        """
        cctxt = self.client.prepare(version='1.3',
                                    timeout=timeout or self.timeout)
        return cctxt.call(context, 'ping')

    def monitor_failed(self, context, vim_id, action_id, reason,
                       timeout=None):
        """Report that a monitor action could not start, and why.

        :param action_id: the id the monitor action was created with
        :param reason: what is wrong, for the operator (status ERROR,
            monitor_error and a MONITOR event)
        :returns: the status stored, or 'bad_action' when the action is
            not the VIM's monitor any more
        :raises: InvalidRpcCall for a bad argument;
            oslo_messaging.MessagingTimeout when no conductor answered
        """
        cctxt = self.client.prepare(version='1.2',
                                    timeout=timeout or self.timeout)
        return cctxt.call(context, 'monitor_failed', vim_id=vim_id,
                          action_id=action_id, reason=reason)
