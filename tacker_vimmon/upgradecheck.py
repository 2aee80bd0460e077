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

"""The checks of ``tacker-vimmon-status upgrade check`` (oslo.upgradecheck).

Each check answers one question an operator has before starting the
services of a new release (see the upgrade guide) and returns Success,
Warning or Failure with what to do. A check never raises: whatever goes
wrong in it is its own Failure, so that every other check still runs and
the table shows them all (oslo.upgradecheck would otherwise end the whole
command with a traceback). The command's exit status is the worst result:
0, 1 or 2.
"""

import functools
import threading

from oslo_db import exception as db_exc
from oslo_log import log as logging
import oslo_messaging as messaging
from oslo_upgradecheck import upgradecheck
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import url as sa_url

from tacker_vimmon import conf as vimmon_conf
from tacker_vimmon.common import context as vimmon_context
from tacker_vimmon.common import exception
from tacker_vimmon.common import rpc
from tacker_vimmon.conductor import rpcapi
from tacker_vimmon.db import api as db_api
from tacker_vimmon.db import migration
from tacker_vimmon.i18n import _
from tacker_vimmon.registry import crypto
from tacker_vimmon.workflow import definition
from tacker_vimmon.workflow import mistral

LOG = logging.getLogger(__name__)

Code = upgradecheck.Code
Result = upgradecheck.Result

# Seconds to wait for a conductor to answer the ping once the broker took
# it, and for the broker to take it. oslo.messaging retries a broker that
# refuses connections for ever (the reply queue comes first, whatever the
# call's retry says), so the ping runs in a thread of its own that the
# check stops waiting for.
CONDUCTOR_TIMEOUT = 10
BROKER_TIMEOUT = 10

_DB_ERRORS = (db_exc.DBError, sa_exc.SQLAlchemyError)


def _first_line(error):
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__


def _database_unreachable(conf, error):
    url = sa_url.make_url(conf.database.connection)
    return Result(Code.FAILURE, _(
        'Cannot use the database %(url)s ([database] connection): '
        '%(error)s. Check the URL and that the database server runs.') % {
            'url': url.render_as_string(), 'error': _first_line(error)})


def _never_raises(check):
    """Turn an unexpected error in a check into its Failure."""
    @functools.wraps(check)
    def guarded(self):
        try:
            return check(self)
        except Exception as error:
            LOG.exception('Upgrade check %s failed', check.__name__)
            return Result(Code.FAILURE, _(
                'The check itself failed: %(type)s: %(error)s (the log has '
                'the traceback).') % {'type': type(error).__name__,
                                      'error': _first_line(error)})
    return guarded


class Checks(upgradecheck.UpgradeCommands):
    """tacker-vimmon's readiness checks for a new release.

    :param conf: the services' configuration, parsed
    """

    def __init__(self, conf):
        super().__init__()
        self.conf = conf

    @_never_raises
    def check_schema(self):
        """The database is at the schema head of this release."""
        try:
            migration.check_schema_current()
        except exception.DatabaseNotAtHead as error:
            return Result(Code.FAILURE, error.format_message())
        except _DB_ERRORS as error:
            return _database_unreachable(self.conf, error)
        return Result(Code.SUCCESS, _(
            'The schema is at the head revision %s.')
            % migration.head_revision())

    @_never_raises
    def check_secret_keys(self):
        """The key repository decrypts every VIM secret stored."""
        repository = crypto.KeyRepository()
        try:
            secrets = db_api.vim_secret_get_all(
                vimmon_context.get_admin_context())
        except _DB_ERRORS as error:
            return Result(Code.FAILURE, _(
                'Cannot read the VIMs\' secrets from the database '
                '(%s); make the database schema check pass first.')
                % _first_line(error))
        try:
            unreadable, old = crypto.audit(secrets, repository)
        except exception.VimKeysMissing as error:
            return Result(Code.FAILURE, error.format_message())
        if unreadable:
            return Result(Code.FAILURE, _(
                '%(bad)d of %(all)d VIM(s) have secrets that no key in '
                '%(path)s decrypts (for example VIM %(example)s). Every API '
                'node must have the same keys: copy the repository from a '
                'node that reads them, or point [vim_keys] key_repository '
                'at the shared one.') % {
                    'bad': len(unreadable), 'all': len(secrets),
                    'path': repository.path, 'example': unreadable[0]})
        if not secrets:
            return Result(Code.SUCCESS, _(
                'The key repository %(path)s has %(keys)d key(s); no VIM '
                'secret is stored yet.') % {
                    'path': repository.path,
                    'keys': len(repository.indexes())})
        details = _('The keys in %(path)s decrypt the secrets of all '
                    '%(all)d VIM(s).') % {'path': repository.path,
                                          'all': len(secrets)}
        if old:
            details += ' ' + _(
                '%d of them still need an older key: finish the rotation '
                'with "tacker-vimmon-manage-keys reencrypt", then '
                '"prune".') % len(old)
        return Result(Code.SUCCESS, details)

    @_never_raises
    def check_mistral(self):
        """Mistral answers and runs this release's monitor action."""
        if not self.conf.vim_monitor.enabled:
            return Result(Code.SUCCESS, _(
                'Monitoring is off ([vim_monitor] enabled = False): Mistral '
                'is not used.'))
        monitors = mistral.MistralMonitors(self.conf)
        try:
            inputs = monitors.action_inputs(definition.ACTION_NAME)
        except exception.MistralNotFound:
            return Result(Code.FAILURE, _(
                'Mistral answers but has no action %s: install this '
                'release of tacker-vimmon into the Python environment of '
                'Mistral and restart its api, engine and executor.')
                % definition.ACTION_NAME)
        except exception.TackerVimmonException as error:
            return Result(Code.FAILURE, error.format_message())
        if set(inputs) != set(definition.WORKFLOW_INPUTS):
            return Result(Code.FAILURE, _(
                'Mistral\'s action %(action)s takes (%(found)s) but this '
                'release passes (%(wanted)s): upgrade tacker-vimmon in the '
                'Python environment of Mistral and restart its api, engine '
                'and executor.') % {
                    'action': definition.ACTION_NAME,
                    'found': ', '.join(inputs),
                    'wanted': ', '.join(definition.WORKFLOW_INPUTS)})
        return Result(Code.SUCCESS, _(
            'Mistral knows the action %(action)s (inputs %(inputs)s).') % {
                'action': definition.ACTION_NAME,
                'inputs': ', '.join(inputs)})

    @_never_raises
    def check_conductors(self):
        """A conductor answers on the topic the monitors report to."""
        topic = self.conf.conductor.topic
        outcome = {}
        # A daemon thread: the command must be able to exit while a stuck
        # ping still waits for the broker.
        pinger = threading.Thread(target=self._ping, args=(topic, outcome),
                                  name='tacker-vimmon-ping', daemon=True)
        pinger.start()
        pinger.join(CONDUCTOR_TIMEOUT + BROKER_TIMEOUT)
        if pinger.is_alive():
            return Result(Code.FAILURE, _(
                'The message broker took no call within %(timeout)s s: '
                'check [DEFAULT] transport_url and that RabbitMQ runs (the '
                'log says why the connection fails).') % {
                    'timeout': CONDUCTOR_TIMEOUT + BROKER_TIMEOUT})
        error = outcome.get('error')
        if isinstance(error, messaging.MessagingTimeout):
            return Result(Code.WARNING, _(
                'No conductor answered on topic %(topic)s within %(timeout)s '
                's, so monitors cannot report. Start tacker-vimmon-conductor '
                '(same [DEFAULT] transport_url and [conductor] topic). In the '
                'middle of an upgrade, with the conductors stopped, this is '
                'expected: run the check again once they run.') % {
                    'topic': topic, 'timeout': CONDUCTOR_TIMEOUT})
        if isinstance(error, (messaging.UnsupportedVersion,
                              messaging.RemoteError)):
            return Result(Code.WARNING, _(
                'A conductor answered on topic %(topic)s but cannot serve '
                'this release (%(error)s): upgrade and restart every '
                'tacker-vimmon-conductor.') % {
                    'topic': topic, 'error': _first_line(error)})
        if error is not None:
            raise error
        return Result(Code.SUCCESS, _(
            'Conductor %(host)s answered on topic %(topic)s.') % {
                'host': outcome['host'], 'topic': topic})

    def _ping(self, topic, outcome):
        """Put the answering conductor's host, or the error, in outcome."""
        transport = rpc.get_transport_for(self.conf)
        try:
            outcome['host'] = rpcapi.ConductorAPI(
                topic=topic, transport=transport).ping(
                    vimmon_context.get_admin_context(),
                    timeout=CONDUCTOR_TIMEOUT)
        except Exception as error:  # noqa: BLE001 - judged by the check
            outcome['error'] = error
        finally:
            transport.cleanup()

    @_never_raises
    def check_settings(self):
        """The reconciler's and the monitors' timings fit together."""
        try:
            vimmon_conf.check_settings(self.conf)
        except exception.InconsistentSettings as error:
            return Result(Code.FAILURE, error.format_message())
        return Result(Code.SUCCESS, _(
            '[reconciler] silent_after (%(window)s s) is more than twice '
            '[vim_monitor] heartbeat_interval (%(heartbeat)s s).') % {
                'window': self.conf.reconciler.silent_after,
                'heartbeat': self.conf.vim_monitor.heartbeat_interval})

    _upgrade_checks = (
        (_('Database schema'), check_schema),
        (_('VIM secret keys'), check_secret_keys),
        (_('Mistral monitor action'), check_mistral),
        (_('Conductors'), check_conductors),
        (_('Monitor settings'), check_settings),
    )
