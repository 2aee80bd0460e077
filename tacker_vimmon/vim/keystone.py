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

"""Checking an OpenStack VIM's credentials against its own Keystone.

A password session is opened to the VIM's Keystone with the credentials
being registered. Success proves them and yields the VIM's regions, from
the regions API or, where the user may not list regions, from the service
catalog of the token. The credentials never appear in a message or a log.
"""

import contextlib

from keystoneauth1 import exceptions as ks_exc
from keystoneauth1 import session as ks_session
from keystoneauth1.identity import v3
from oslo_log import log as logging

from tacker_vimmon.common import exception
from tacker_vimmon.conf import CONF
from tacker_vimmon.vim import openstack

LOG = logging.getLogger(__name__)


def _password_plugin(auth_url, cred, project):
    return v3.Password(
        auth_url=auth_url,
        username=cred.get('username'),
        user_id=cred.get('user_id'),
        password=cred['password'],
        user_domain_name=cred.get('user_domain_name'),
        user_domain_id=cred.get('user_domain_id'),
        project_name=project.get('name'),
        project_id=project.get('id'),
        project_domain_name=project.get('project_domain_name'),
        project_domain_id=project.get('project_domain_id'))


def _regions_from_api(session, auth_url):
    response = session.get(auth_url + '/regions', raise_exc=False)
    if response.status_code != 200:
        return None
    return sorted(region['id'] for region in response.json()['regions'])


def _regions_from_catalog(access):
    regions = set()
    for service in access.service_catalog.catalog or []:
        for endpoint in service.get('endpoints', []):
            region = endpoint.get('region_id') or endpoint.get('region')
            if region:
                regions.add(region)
    return sorted(regions)


def _session(auth_url, auth_cred, vim_project, timeout):
    return ks_session.Session(
        auth=_password_plugin(auth_url, auth_cred, vim_project),
        verify=openstack.cert_verify(auth_cred), timeout=timeout)


def prove_credentials(auth_url, auth_cred, vim_project, timeout):
    """Ask the VIM's Keystone for a token with these credentials.

    :raises: VimCredentialsRejected, VimKeystoneUnreachable
    """
    session = _session(auth_url, auth_cred, vim_project, timeout)
    with _keystone_errors(auth_url):
        session.auth.get_access(session)


def discover_regions(auth_url, auth_cred, vim_project):
    """Authenticate with these credentials; return the VIM's regions.

    :raises: VimCredentialsRejected, VimKeystoneUnreachable
    """
    session = _session(auth_url, auth_cred, vim_project,
                       CONF.vim.keystone_timeout)
    with _keystone_errors(auth_url):
        access = session.auth.get_access(session)
        regions = _regions_from_api(session, auth_url)
    if regions is None:
        regions = _regions_from_catalog(access)
    return regions


@contextlib.contextmanager
def _keystone_errors(auth_url):
    """What Keystone answered, as the exceptions of this module."""
    try:
        yield
    except ks_exc.Unauthorized:
        raise exception.VimCredentialsRejected(
            auth_url=auth_url, reason='authentication failed')
    except (ks_exc.ConnectFailure, ks_exc.ConnectTimeout,
            ks_exc.SSLError, ks_exc.DiscoveryFailure) as error:
        raise exception.VimKeystoneUnreachable(auth_url=auth_url,
                                               reason=type(error).__name__)
    except (ks_exc.ClientException, ValueError, KeyError,
            TypeError) as error:
        # Anything else that is not a usable Keystone answer: an HTTP
        # error, or a body that is not what Keystone sends.
        LOG.info('Keystone of VIM at %s gave an unusable answer: %s',
                 auth_url, type(error).__name__)
        raise exception.VimKeystoneUnreachable(
            auth_url=auth_url,
            reason='not a usable Keystone v3 answer (%s)' %
            type(error).__name__)
