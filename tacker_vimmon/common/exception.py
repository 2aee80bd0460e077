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

"""tacker-vimmon's exceptions.

Every exception carries a message format (``msg_fmt``) filled from keyword
arguments and an HTTP status (``code``) that the API returns for it. They
travel over RPC unchanged (this module is in the allowed remote exception
modules), so the API can answer a conductor's error with the right code.
"""

import sys

from oslo_log import log as logging

from tacker_vimmon.i18n import _

LOG = logging.getLogger(__name__)


class TackerVimmonException(Exception):
    """Base exception: a message format plus an HTTP status code."""

    msg_fmt = _('An unknown exception occurred.')
    code = 500
    # The type name python-tackerclient shows, and the HTTP error title.
    error_type = None

    def __init__(self, message=None, **kwargs):
        self.kwargs = kwargs
        if not message:
            try:
                message = self.msg_fmt % kwargs
            except (KeyError, TypeError, ValueError):
                # A wrong format argument is our bug, not the caller's: keep
                # the raw format rather than hiding the original error.
                LOG.exception('Exception message formatting failed for %s, '
                              'kwargs %s', self.__class__.__name__,
                              sorted(kwargs))
                message = self.msg_fmt
        self.message = str(message)
        super().__init__(self.message)

    def format_message(self):
        return self.message

    @property
    def type_name(self):
        return self.error_type or self.__class__.__name__


class Invalid(TackerVimmonException):
    msg_fmt = _('Invalid input: %(reason)s')
    code = 400


class InvalidParameterValue(Invalid):
    msg_fmt = _('Invalid value for %(name)s: %(reason)s')


class NotFound(TackerVimmonException):
    msg_fmt = _('Resource could not be found.')
    code = 404


class Conflict(TackerVimmonException):
    msg_fmt = _('Conflict: %(reason)s')
    code = 409


class VimNotFound(NotFound):
    msg_fmt = _('VIM %(vim_id)s could not be found.')


class EventNotFound(NotFound):
    msg_fmt = _('Event %(event_id)s could not be found.')


class VimNameDuplicate(Conflict):
    msg_fmt = _('A VIM named "%(name)s" already exists in project '
                '%(tenant_id)s; choose another name.')


class DefaultVimDuplicate(Conflict):
    msg_fmt = _('Project %(tenant_id)s already has a default VIM '
                '(%(vim_id)s); unset is_default on it first, or register '
                'this VIM with is_default false.')


class DatabaseNotAtHead(TackerVimmonException):
    msg_fmt = _('The database schema is at revision %(current)s but this '
                'release needs revision %(head)s. Run "%(command)s" and '
                'start the service again.')
    code = 503


class InconsistentSettings(TackerVimmonException):
    msg_fmt = _('The configuration cannot work: %(reason)s')
    code = 500


# Monitor set-up through Mistral.

class MistralUnavailable(TackerVimmonException):
    msg_fmt = _('Mistral at %(url)s cannot be reached: %(reason)s')
    code = 503


class MistralRequestFailed(TackerVimmonException):
    msg_fmt = _('Mistral refused to %(operation)s: HTTP %(status)s, '
                '%(reason)s')
    code = 502


class MistralNotFound(MistralRequestFailed):
    """What was asked for is not in Mistral (HTTP 404)."""


class MistralNotConfigured(TackerVimmonException):
    msg_fmt = _('Mistral is not configured: set [mistral] endpoint_override '
                '(a Mistral without auth) or [mistral] auth_type and its '
                'options (a Mistral in the Keystone catalog).')
    code = 503


class MonitorReplacedConcurrently(Conflict):
    msg_fmt = _('The monitor of VIM %(vim_id)s was changed by another '
                'request at the same time; read the VIM and try again.')


# The conductor's RPC API.

class InvalidRpcCall(Invalid):
    msg_fmt = _('Invalid call of %(method)s: %(reason)s')


# Probing VIMs (the monitor action).

class IcmpUnavailable(TackerVimmonException):
    msg_fmt = _('This process cannot send ICMP echo requests: %(reason)s. '
                'Allow unprivileged ICMP for its group (sysctl '
                'net.ipv4.ping_group_range, e.g. "0 2147483647") or give it '
                'the CAP_NET_RAW capability.')
    code = 503


class InvalidMonitorTarget(Invalid):
    msg_fmt = _('Cannot monitor %(url)s: %(reason)s. The auth_url must be a '
                'URL with a host, such as http://192.0.2.10:5000/v3 or '
                'https://[2001:db8::10]/identity.')


class MonitorTargetUnresolvable(TackerVimmonException):
    msg_fmt = _('The host %(host)s of the VIM cannot be resolved to an '
                'address: %(reason)s')
    code = 503


# The API server (issue 4).

class InvalidInput(Invalid):
    """A request the API cannot accept; message says what to fix."""
    msg_fmt = _('Invalid input for %(field)s: %(reason)s')


class BadRequestBody(Invalid):
    msg_fmt = _('The request body is not valid: %(reason)s')


class UnsupportedMediaType(TackerVimmonException):
    msg_fmt = _('The request body must be JSON (Content-Type: '
                'application/json), not %(content_type)s.')
    code = 415


class RequestTooLarge(TackerVimmonException):
    msg_fmt = _('The request body is larger than the %(limit)s bytes this '
                'server accepts ([oslo_middleware] max_request_body_size); '
                'send less.')
    code = 413


class PolicyNotAuthorized(TackerVimmonException):
    msg_fmt = _('Policy does not allow %(action)s to be performed.')
    code = 403


class VimCredentialsRejected(Invalid):
    msg_fmt = _('The Keystone of the VIM at %(auth_url)s refused the given '
                'credentials (%(reason)s); check auth_cred and vim_project.')


class VimKeystoneUnreachable(Invalid):
    msg_fmt = _('The Keystone of the VIM at %(auth_url)s cannot be reached '
                '(%(reason)s); check auth_url, or register with [vim] '
                'validate_credentials = False on the server.')


class VimKeysMissing(TackerVimmonException):
    msg_fmt = _('No usable Fernet key in the key repository %(path)s; run '
                '"tacker-vimmon-manage-keys setup" with the same '
                'configuration.')
    code = 503


class VimSecretUndecryptable(TackerVimmonException):
    msg_fmt = _('The secrets of VIM %(vim_id)s cannot be decrypted with any '
                'key in %(path)s; a key they need was pruned or the '
                'repository is not the one shared by the API nodes.')
    code = 500


class MonitorConfigNotFound(TackerVimmonException):
    msg_fmt = _('The monitor action cannot read its configuration file '
                '%(path)s. Install tacker-vimmon-monitor.conf there, or set '
                '%(env)s in the environment of Mistral\'s executor to where '
                'it is.')
    code = 503


def exit_at_start(error):
    """Refuse to start a service: log and print why, then exit 2.

    For the start-up checks (schema, keys, settings): the message says what
    to do, and systemd units keep 2 from restarting in a loop.
    """
    message = error.format_message()
    LOG.error('%s', message)
    print(message, file=sys.stderr)
    raise SystemExit(2)
