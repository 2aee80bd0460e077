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

"""How often Mistral refuses concurrent creates of the monitor workflow.

Mistral 23 serves its API on threads and parses each YAQL expression with
one parser shared by them all, which is not thread-safe: under concurrent
creates it now and then refuses a valid definition with
"YaqlGrammarException: Parse error: unexpected end of statement". The
monitor workflow passes its input on with Jinja expressions for that
reason (workflow/definition.py). This starts a Mistral of its own
(api, engine and executor, PostgreSQL, a vhost of the machine's RabbitMQ)
and, for each kind of expression in turn, has --clients threads create
and delete --creates VIM workflows (the project's definition, its
expressions written in YAQL or as shipped in Jinja), then prints one row
per kind: creates, refusals and what Mistral said.

    .venv/bin/python tools/bench/bench_workflow_creates.py \
        [--creates 1500] [--clients 8] [--rounds 1]
"""

import argparse
import collections
from concurrent import futures
import os
import sys
import time

import benchstack
from mistralclient.api import base as mistral_base
from oslo_utils import uuidutils

from tacker_vimmon.tests.functional import mistral
from tacker_vimmon.workflow import definition

KINDS = ('yaql', 'jinja')


def definition_in(kind, vim_id):
    """The VIM's workflow definition, its expressions in YAQL or Jinja."""
    text = definition.definition(vim_id)
    if kind == 'yaql':
        for field in definition.WORKFLOW_INPUTS:
            text = text.replace("'{{ _.%s }}'" % field,
                                '<%% $.%s %%>' % field)
    return text


def creates(client, kind, count, clients):
    """(refusals by message, seconds) of count creates and deletes."""
    refused = collections.Counter()

    def one(_index):
        vim_id = uuidutils.generate_uuid()
        try:
            client.workflows.create(definition_in(kind, vim_id))
        except mistral_base.APIException as error:
            refused[error.error_message[:80]] += 1
            return
        client.workflows.delete(definition.workflow_name(vim_id))

    began = time.monotonic()
    with futures.ThreadPoolExecutor(clients) as pool:
        list(pool.map(one, range(count)))
    return refused, time.monotonic() - began


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--creates', type=int, default=1500)
    parser.add_argument('--clients', type=int, default=8)
    parser.add_argument('--rounds', type=int, default=1,
                        help='each kind this many times, in turn')
    args = parser.parse_args()
    os.environ['TVM_REQUIRE_SERVICES'] = '1'
    server = mistral.MistralFixture()
    server.setUp()
    rows = []
    try:
        for round_ in range(1, args.rounds + 1):
            for kind in KINDS:
                refused, took = creates(server.client, kind, args.creates,
                                        args.clients)
                rows.append(('%s, round %d' % (kind, round_), {
                    'creates': args.creates, 'clients': args.clients,
                    'refused': sum(refused.values()),
                    'creates/s': args.creates / took,
                    'Mistral said': '; '.join(
                        '%s (%d)' % item for item in refused.items()) or '-'}))
                print('%s: %d refused' % (rows[-1][0],
                                          rows[-1][1]['refused']),
                      file=sys.stderr, flush=True)
    finally:
        server.cleanUp()
    benchstack.print_table('expressions', rows)


if __name__ == '__main__':
    main()
