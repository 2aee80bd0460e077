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

"""The middleware the application is built from (in code, no paste)."""

import time

from oslo_db import exception as db_exc
from oslo_log import log as logging
import webob
import webob.dec
import webob.exc

from tacker_vimmon.api import wsgi_util
from tacker_vimmon.common import context as vimmon_context
from tacker_vimmon.common import exception

LOG = logging.getLogger(__name__)

HEALTHCHECK_PATH = '/healthcheck'


def fault_body(error_type, message, detail=''):
    """The error format python-tackerclient shows to its user."""
    return {'TackerError': {'type': error_type, 'message': message,
                            'detail': detail}}


def fault_response(status, error_type, message):
    return wsgi_util.json_response(status,
                                   fault_body(error_type, message))


class Middleware:
    def __init__(self, application):
        self.application = application


def _raw_path(environ):
    """PATH_INFO as sent (WSGI gives it as latin-1 text), for logs."""
    return environ.get('PATH_INFO', '')[:200]


def _check_path(req):
    # webob decodes the path as UTF-8 when it is first asked for it.
    try:
        req.path_info  # noqa: B018
    except UnicodeDecodeError:
        raise exception.InvalidInput(field='URL path',
                                     reason='not valid UTF-8')


# Seconds a client is told to wait when the database is away.
DB_RETRY_AFTER = 2


class FaultWrapper(Middleware):
    """Turn every error into a TackerError body; log each request."""

    @webob.dec.wsgify
    def __call__(self, req):
        started = time.monotonic()
        try:
            _check_path(req)
            response = req.get_response(self.application)
        except exception.TackerVimmonException as error:
            response = fault_response(error.code, error.type_name,
                                      error.format_message())
        except webob.exc.HTTPException as error:
            response = fault_response(error.code, type(error).__name__,
                                      error.explanation)
        except db_exc.DBConnectionError as error:
            # The database went away (restarted, or its connections cut):
            # the request may succeed again in a moment, so not a 500.
            # oslo.db replaces the dropped connections by itself.
            LOG.warning('No database connection serving %(method)s '
                        '%(path)s: %(error)s',
                        {'method': req.method,
                         'path': _raw_path(req.environ), 'error': error})
            response = fault_response(
                503, 'ServiceUnavailable',
                'The database is not reachable right now; try again.')
            response.retry_after = DB_RETRY_AFTER
        except Exception:
            LOG.exception('Unexpected error serving %s %s', req.method,
                          _raw_path(req.environ))
            response = fault_response(
                500, 'InternalServerError',
                'The server failed to serve the request; its log has the '
                'details (request %s).'
                % req.environ.get('openstack.request_id', '?'))
        LOG.info('%(method)s %(path)s status: %(status)s time: %(time).3f',
                 {'method': req.method, 'path': _raw_path(req.environ),
                  'status': response.status_int,
                  'time': time.monotonic() - started})
        return response


class HealthcheckPath(Middleware):
    """GET or HEAD /healthcheck goes to ``healthcheck``, unauthenticated.

    :param healthcheck: oslo.middleware's Healthcheck, whose backends
        ([healthcheck] backends) say whether this node should get traffic
    """

    def __init__(self, application, healthcheck):
        super().__init__(application)
        self.healthcheck = healthcheck

    def __call__(self, environ, start_response):
        if environ.get('PATH_INFO') != HEALTHCHECK_PATH:
            return self.application(environ, start_response)
        if environ['REQUEST_METHOD'] not in ('GET', 'HEAD'):
            # oslo's healthcheck answers any method; a load balancer that
            # POSTs is misconfigured and should hear so.
            response = fault_response(405, 'HTTPMethodNotAllowed',
                                      'Use GET on %s.' % HEALTHCHECK_PATH)
            return response(environ, start_response)
        return self.healthcheck(environ, start_response)


class RequestTooLargeFault(Middleware):
    """Give the 413 of oslo.middleware's sizelimit the TackerError body.

    sizelimit answers 413 itself when Content-Length is over the limit,
    and its body reader raises 413 once a chunked body passes it; either
    way webob renders a page of its own, which does not say which option
    sets the limit and which the Tacker client cannot show. Nothing else
    in the server answers 413.
    """

    def __init__(self, application, limit):
        super().__init__(application)
        self.limit = limit

    @webob.dec.wsgify
    def __call__(self, req):
        response = req.get_response(self.application)
        if response.status_int != 413:
            return response
        too_large = exception.RequestTooLarge(limit=self.limit)
        return fault_response(413, too_large.type_name,
                              too_large.format_message())


class NoAuth(Middleware):
    """Act in a configured (or header-given) project with set roles.

    For local runs and demos: anyone who can reach the port is trusted.
    """

    def __init__(self, application, project_id, roles):
        super().__init__(application)
        self.project_id = project_id
        self.roles = ','.join(roles)

    def __call__(self, environ, start_response):
        environ.setdefault('HTTP_X_PROJECT_ID', self.project_id)
        environ.setdefault('HTTP_X_ROLES', self.roles)
        environ.setdefault('HTTP_X_USER_ID', 'noauth')
        environ.setdefault('HTTP_X_IDENTITY_STATUS', 'Confirmed')
        return self.application(environ, start_response)


class ContextMiddleware(Middleware):
    """Build the request context from the identity headers."""

    def __call__(self, environ, start_response):
        environ[wsgi_util.CONTEXT_KEY] = (
            vimmon_context.RequestContext.from_environ(environ))
        return self.application(environ, start_response)
