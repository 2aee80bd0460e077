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

"""Notifications: who else hears that a VIM changed.

The conductors (status changes: reports, silence, failures, the
credential check) and the API server (VIM create, update, delete) emit
oslo.messaging notifications when ``[oslo_messaging_notifications]
driver`` is set (``messaging`` for RabbitMQ); with no driver nothing is
sent. The payload is versioned as nova's and masakari's are: an object
with a name, a namespace, a version and its data, so that a consumer can
tell which fields to expect. A minor version adds fields; a major one
changes them.

Event types (priority INFO):

* ``vim.status.update``: VimStatusPayload, the VIM's status changed (as
  the API shows it: UNKNOWN and AUTH_FAILED included)
* ``vim.create``, ``vim.update``, ``vim.delete``: VimPayload
"""

from oslo_log import log as logging
import oslo_messaging as messaging
from oslo_utils import timeutils

from tacker_vimmon.common import rpc

LOG = logging.getLogger(__name__)

EVENT_STATUS = 'vim.status.update'
EVENT_CREATE = 'vim.create'
EVENT_UPDATE = 'vim.update'
EVENT_DELETE = 'vim.delete'

NAMESPACE = 'tacker_vimmon'
# Sending gives up after this many connection retries: a broker outage
# must not hold up the conductor's reports or an API request.
SEND_RETRIES = 2


class Payload:
    """A versioned notification payload (see the module's docstring)."""

    NAME = None
    VERSION = None
    FIELDS = ()

    def __init__(self, **fields):
        unknown = set(fields) - set(self.FIELDS)
        if unknown:
            raise TypeError('%s has no field %s' % (
                self.NAME, ', '.join(sorted(unknown))))
        self.fields = {name: fields.get(name) for name in self.FIELDS}

    def to_primitive(self):
        return {'%s_object.name' % NAMESPACE: self.NAME,
                '%s_object.namespace' % NAMESPACE: NAMESPACE,
                '%s_object.version' % NAMESPACE: self.VERSION,
                '%s_object.data' % NAMESPACE: dict(self.fields)}


class VimStatusPayload(Payload):
    """A VIM's status changed.

    1.0: vim_id, name, project_id, type, old_status, new_status, reason
    (a code of states.ALL_REASONS), detail, changed_at (ISO 8601, UTC)
    """

    NAME = 'VimStatusPayload'
    VERSION = '1.0'
    FIELDS = ('vim_id', 'name', 'project_id', 'type', 'old_status',
              'new_status', 'reason', 'detail', 'changed_at')


class VimPayload(Payload):
    """A VIM was registered, changed or deregistered.

    1.0: vim_id, name, project_id, type, auth_url, status, is_default,
    changed_at (ISO 8601, UTC)
    """

    NAME = 'VimPayload'
    VERSION = '1.0'
    FIELDS = ('vim_id', 'name', 'project_id', 'type', 'auth_url', 'status',
              'is_default', 'changed_at')


def _now():
    return timeutils.utcnow().replace(microsecond=0).isoformat() + 'Z'


class Notifier:
    """Emits tacker-vimmon's notifications; a no-op without a driver.

    :param conf: the service's configuration
    :param publisher: 'tacker-vimmon-conductor' or 'tacker-vimmon-api'
    """

    def __init__(self, conf, publisher):
        transport = messaging.get_notification_transport(conf)
        self._notifier = messaging.Notifier(
            transport, publisher_id='%s:%s' % (publisher, conf.host),
            serializer=rpc.RequestContextSerializer(),
            retry=SEND_RETRIES)
        self._transport = transport

    @property
    def enabled(self):
        return self._notifier.is_enabled()

    def status_changed(self, context, vim, old_status, new_status,
                       reason=None, detail=None):
        """vim.status.update for vim (anything with id, name, tenant_id
        and type).
        """
        if old_status == new_status or not self.enabled:
            return
        self._send(context, EVENT_STATUS, VimStatusPayload(
            vim_id=vim.id, name=vim.name, project_id=vim.tenant_id,
            type=vim.type, old_status=old_status, new_status=new_status,
            reason=reason, detail=detail, changed_at=_now()))

    def vim_changed(self, context, event_type, vim, status=None):
        """vim.create, vim.update or vim.delete for a VIM row."""
        if not self.enabled:
            return
        self._send(context, event_type, VimPayload(
            vim_id=vim.id, name=vim.name, project_id=vim.tenant_id,
            type=vim.type, auth_url=vim.auth_url,
            status=status or vim.status, is_default=vim.is_default,
            changed_at=_now()))

    def _send(self, context, event_type, payload):
        try:
            self._notifier.info(context, event_type, payload.to_primitive())
        except Exception:
            # Best effort: oslo.messaging logs what went wrong; the change
            # itself is stored and in the VIM's events whatever happens.
            LOG.warning('Could not send the %s notification', event_type,
                        exc_info=True)

    def cleanup(self):
        self._transport.cleanup()


class NoNotifier:
    """Nobody to tell (tools and tests that make no transport)."""

    enabled = False

    def status_changed(self, *args, **kwargs):
        pass

    def vim_changed(self, *args, **kwargs):
        pass

    def cleanup(self):
        pass
