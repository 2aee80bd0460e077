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

"""VIM types (API server): what each one accepts, keeps secret and checks.

A VIM type module offers ``AUTH_CRED_SCHEMA`` and ``VIM_PROJECT_SCHEMA``
(jsonschema of its fields), ``SECRET_FIELDS`` (kept encrypted, shown as
``***``), ``normalise(vim)`` (canonical auth_url, cross-field rules) and
``merge_auth_cred(stored, given)`` (what an update means).
"""

from tacker_vimmon.vim import keystone
from tacker_vimmon.vim import kubernetes
from tacker_vimmon.vim import openstack

TYPES = {
    openstack.TYPE: openstack,
    kubernetes.TYPE: kubernetes,
}

MASK = '***'

# Every field that is secret in some VIM type: masked wherever it appears.
ALL_SECRET_FIELDS = frozenset().union(
    *(module.SECRET_FIELDS for module in TYPES.values()))


def get_type(name):
    return TYPES[name]


def api_check_target(vim_type, auth_cred, secrets):
    """What the monitor's API check GETs and how it trusts the VIM.

    Nothing secret: the path of a document the VIM's API serves without
    credentials, whether to verify its certificate, and the CA
    certificate to verify it with (a public certificate, kept among the
    encrypted fields only because Tacker's API masks it).

    :returns: {'path', 'verify', 'ca_cert'} for monitor.apicheck
    """
    return TYPES[vim_type].api_check_target(auth_cred, secrets)


def split_secrets(vim_type, auth_cred):
    """(auth_cred with secrets masked, dict of the secrets)."""
    secret_fields = TYPES[vim_type].SECRET_FIELDS
    public = {key: (MASK if key in secret_fields else value)
              for key, value in auth_cred.items()}
    secrets = {key: value for key, value in auth_cred.items()
               if key in secret_fields}
    return public, secrets


def join_secrets(public, secrets):
    """The full auth_cred from its masked form and its secrets."""
    joined = dict(public)
    joined.update(secrets)
    return joined


def prove_credentials(vim_type, auth_url, auth_cred, vim_project, timeout):
    """Prove a VIM's credentials with the VIM itself.

    :param auth_cred: with its secrets (decrypted by the caller, never
        logged)
    :returns: True when proven, False when this type's way to
        authenticate cannot be proven from here
    :raises: VimCredentialsRejected (refused), VimKeystoneUnreachable (no
        verdict)
    """
    if vim_type == openstack.TYPE:
        keystone.prove_credentials(auth_url, auth_cred, vim_project, timeout)
        return True
    return TYPES[vim_type].prove_credentials(auth_url, auth_cred,
                                             vim_project, timeout)
