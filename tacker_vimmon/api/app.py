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

"""The WSGI application: routes, handlers and the middleware around them."""

from keystonemiddleware import auth_token
from oslo_middleware import healthcheck
from oslo_middleware import http_proxy_to_wsgi
from oslo_middleware import request_id
from oslo_middleware import sizelimit
import routes
import webob.dec

from tacker_vimmon.api import metrics
from tacker_vimmon.api import middleware
from tacker_vimmon.api import wsgi_util
from tacker_vimmon.api.handlers import events
from tacker_vimmon.api.handlers import root
from tacker_vimmon.api.handlers import vims
from tacker_vimmon.common import exception
from tacker_vimmon.common import notifications
from tacker_vimmon.conf import api as api_conf
from tacker_vimmon.registry import api as registry_api
from tacker_vimmon.registry import crypto
from tacker_vimmon.workflow import lifecycle

# path -> {method: handler}. Every path also answers "<path>.json", the
# form python-tackerclient requests.
ROUTES = {
    '/': {'GET': root.versions},
    '/v1.0/vims': {'GET': vims.list_vims, 'POST': vims.create},
    '/v1.0/vims/{vim_id}': {'GET': vims.show, 'PUT': vims.update,
                            'DELETE': vims.delete},
    '/v1.0/events': {'GET': events.list_events},
    '/v1.0/events/{event_id}': {'GET': events.show},
}

_JSON_SUFFIX = '.json'


class MethodNotAllowed(exception.TackerVimmonException):
    msg_fmt = 'Method %(method)s is not allowed here; allowed: %(allowed)s.'
    code = 405


class ResourceNotFound(exception.NotFound):
    msg_fmt = 'There is no resource at %(path)s.'


def _make_mapper():
    mapper = routes.Mapper()
    for path, methods in ROUTES.items():
        for method, handler in methods.items():
            mapper.connect(path, handler=handler,
                           conditions={'method': [method]})
        # Matched only when no method above did.
        mapper.connect(path, handler=None, allowed=', '.join(sorted(methods)))
    return mapper


class Router:
    """Dispatch a request to its handler by path and method.

    :param registry: the registry.api.VimRegistry the VIM handlers use
    """

    def __init__(self, registry):
        self.mapper = _make_mapper()
        self.registry = registry

    @webob.dec.wsgify
    def __call__(self, req):
        path = req.path_info
        if path.endswith(_JSON_SUFFIX) and path != _JSON_SUFFIX:
            path = path[:-len(_JSON_SUFFIX)]
        environ = dict(req.environ, PATH_INFO=path)
        match = self.mapper.match(environ=environ)
        if match is None:
            raise ResourceNotFound(path=req.path[:200])
        handler = match.pop('handler')
        if handler is None:
            raise MethodNotAllowed(method=req.method[:16],
                                   allowed=match['allowed'])
        req.urlvars = match
        req.environ[wsgi_util.REGISTRY_KEY] = self.registry
        return req.get_response(handler)


def _auth(application, conf):
    if conf.auth_strategy == api_conf.AUTH_NOAUTH:
        return middleware.NoAuth(application, conf.api.noauth_project_id,
                                 conf.api.noauth_roles)
    # auth_token reads [keystone_authtoken] from our own configuration.
    return auth_token.AuthProtocol(application, {'oslo_config_config': conf})


def _limit_body_size(application, conf):
    limited = sizelimit.RequestBodySizeLimiter(application, conf)
    return middleware.RequestTooLargeFault(
        limited, conf.oslo_middleware.max_request_body_size)


def setup_app(conf, monitors=None):
    """The application with its middleware, outermost last.

    The oslo.middleware pieces read their options ([healthcheck],
    [oslo_middleware]) from ``conf``.

    :param monitors: the workflow.lifecycle.MonitorLifecycle (or
        NoMonitors) the VIM registry uses; by default the one ``conf``
        asks for
    """
    notifier = notifications.Notifier(conf, 'tacker-vimmon-api')
    if monitors is None:
        monitors = lifecycle.from_conf(conf, decrypt=crypto.decrypt_secrets,
                                       notifier=notifier)
    registry = registry_api.VimRegistry(conf, monitors, notifier=notifier)
    application = Router(registry)
    application = middleware.ContextMiddleware(application)
    application = middleware.FaultWrapper(application)
    application = _auth(application, conf)
    # Before authentication: an oversized body is refused unread.
    application = _limit_body_size(application, conf)
    # Rewrites scheme, host and SCRIPT_NAME from a trusted proxy's
    # headers ([oslo_middleware] enable_proxy_headers_parsing), so that
    # links (the version document) name the URL the client used.
    application = http_proxy_to_wsgi.HTTPProxyToWSGI(application, conf)
    # Outside the proxy rewrite: [healthcheck] allowed_source_ranges must
    # judge the peer itself, not what a header claims. A request the
    # healthcheck ignores goes on into the API (and gets 404 or 401).
    application = middleware.HealthcheckPath(
        application, healthcheck.Healthcheck(application, conf))
    if conf.metrics.api_enabled:
        application = metrics.Metrics(application, registry,
                                      conf.vim_monitor.enabled)
    application = request_id.RequestId(application)
    return application
