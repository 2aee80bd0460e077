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

"""The credential check: do the VIMs' stored credentials still work?

Every [credential_check] interval, each VIM's credentials are proven with
the VIM itself (a Keystone token request; a Kubernetes API call with the
bearer token). A refusal makes the VIM show AUTH_FAILED with the reason
while it is otherwise REACHABLE; a VIM that does not answer gets no
verdict (its monitor says why). The secrets are decrypted here, in the
conductor, used for that one request and dropped: they never go to
Mistral and are never logged.

Each conductor looks every poll_interval for VIMs whose check is due and
claims them (db_api.vim_credential_checks_claim): the checks are spread
over the interval, and several conductors share them without checking one
VIM twice.
"""

from oslo_log import log as logging
from oslo_utils import timeutils

from tacker_vimmon import vim as vim_types
from tacker_vimmon.common import context as vimmon_context
from tacker_vimmon.common import exception
from tacker_vimmon.common import notifications
from tacker_vimmon.common import states
from tacker_vimmon.conductor import metrics
from tacker_vimmon.conductor import periodic
from tacker_vimmon.db import api as db_api

LOG = logging.getLogger(__name__)

OK = 'ok'
UNREACHABLE = 'unreachable'


class CredentialChecker(periodic.Periodic):
    """One conductor's share of the credential checks.

    :param decrypt: decrypt(auth_cred_secret, vim_id) -> the VIM's secrets
    """

    THREAD_NAME = 'tacker-vimmon-credentials'

    def __init__(self, conf, decrypt, notifier=None):
        self._conf = conf
        self._decrypt = decrypt
        self._notifier = notifier or notifications.NoNotifier()

    def run_once(self, context=None):
        """Check every VIM due now (up to batch_size); how many."""
        group = self._conf.credential_check
        context = context or vimmon_context.get_admin_context()
        vims = db_api.vim_credential_checks_claim(
            context, timeutils.utcnow(), group.interval, group.batch_size)
        for vim in vims:
            self._check(context, vim)
        return len(vims)

    def _check(self, context, vim):
        verdict = self._prove(vim)
        metrics.CREDENTIAL_CHECKS.labels(verdict[0] or UNREACHABLE).inc()
        if verdict[0] is None:
            return
        written = db_api.vim_credentials_checked(
            context, vim.id, vim.auth_cred_secret, *verdict)
        if written is None:
            return
        before, after = written
        if before.auth_status != after.auth_status:
            LOG.info('The credentials of VIM %(vim)s: %(status)s',
                     {'vim': vim.id, 'status': after.auth_status})
        self._notifier.status_changed(
            context, after,
            states.shown_status(before.status, before.silent_since is not None,
                                before.auth_status),
            states.shown_status(after.status, after.silent_since is not None,
                                after.auth_status),
            (states.REASON_AUTH_FAILED
             if after.auth_status == states.REASON_AUTH_FAILED
             else after.status_reason), after.auth_reason)

    def _prove(self, vim):
        """(auth_status, reason): ('ok', None), ('auth_failed', why), or
        (None, why) when there is no verdict.
        """
        try:
            secrets = (self._decrypt(vim.auth_cred_secret, vim.id)
                       if vim.auth_cred_secret else {})
            proven = vim_types.prove_credentials(
                vim.type, vim.auth_url,
                vim_types.join_secrets(vim.auth_cred, secrets),
                vim.vim_project, self._conf.credential_check.timeout)
        except exception.VimCredentialsRejected as error:
            return states.REASON_AUTH_FAILED, error.format_message()
        except exception.TackerVimmonException as error:
            # Unreachable, or secrets this conductor cannot read: the
            # monitor (or the key set-up) says what is wrong, not this.
            LOG.info('No verdict on the credentials of VIM %(vim)s: '
                     '%(error)s', {'vim': vim.id, 'error': error})
            return None, None
        return (OK, None) if proven else (None, None)

    def pause(self):
        return self._conf.credential_check.poll_interval
