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

"""GET /: the API versions this server offers."""

import webob.dec

from tacker_vimmon.api import wsgi_util


@webob.dec.wsgify
def versions(req):
    # application_url, not host_url: behind a proxy that serves the API
    # under a path prefix (SCRIPT_NAME), the links must carry it.
    return wsgi_util.json_response(200, {'versions': [{
        'id': 'v1.0',
        'status': 'CURRENT',
        'links': [{'rel': 'self', 'href': req.application_url + '/v1.0/'}],
    }]})
