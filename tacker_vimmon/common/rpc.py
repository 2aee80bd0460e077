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

"""oslo.messaging plumbing shared by the conductor and its callers.

The control exchange is set on every Target this module hands out instead
of through ``set_transport_defaults``: the monitor action runs inside
Mistral's executor, whose global configuration is Mistral's own and must not
be changed by a library it loads.
"""

import importlib

from oslo_config import cfg
from oslo_log import log as logging
import oslo_messaging as messaging
from oslo_messaging import opts as messaging_opts
from oslo_messaging._drivers import amqpdriver
from oslo_messaging._drivers import common as driver_common
from oslo_messaging._drivers import impl_rabbit
from oslo_messaging.rpc import dispatcher as rpc_dispatcher

from tacker_vimmon.common import context as vimmon_context
from tacker_vimmon.common import threads
from tacker_vimmon.i18n import _

LOG = logging.getLogger(__name__)

CONTROL_EXCHANGE = 'tacker_vimmon'

# The default topic of the conductors ([conductor] topic).
CONDUCTOR_TOPIC = 'tacker_vimmon_conductor'

# The fanout topic on which every executor process running monitors hears
# wake-ups (tacker_vimmon.action.wakeup, tacker_vimmon.workflow.rpcapi).
MONITOR_WAKEUP_TOPIC = 'tacker_vimmon_monitors'

# [conductor] topic: read by the conductors (the services' configuration)
# and by the monitor action (the executor's own file), so defined once here.
CONDUCTOR_GROUP = 'conductor'
conductor_topic_opt = cfg.StrOpt(
    'topic', default=CONDUCTOR_TOPIC,
    help=_('RPC topic the conductors listen on (exchange %s). Every '
           'conductor and every monitor of one deployment must use the same '
           'topic; conductors on one topic share the calls.')
    % CONTROL_EXCHANGE)

# Exceptions from these modules are rebuilt as their own class on the
# caller's side, so that it can catch, say, InvalidRpcCall.
ALLOWED_EXMODS = ['tacker_vimmon.common.exception']

# oslo.messaging registers these option lists on the global cfg.CONF only
# (seen on 18.x); a private ConfigOpts needs them too or the first call
# fails with NoSuchOptError. (module, attribute, group)
_GLOBAL_ONLY_OPTS = [
    ('oslo_messaging._tracing.client', 'oslo_messaging_tracing',
     'oslo_messaging_tracing'),
    ('oslo_messaging._metrics.client', 'oslo_messaging_metrics',
     'oslo_messaging_metrics'),
]

TRANSPORT = None


def target(topic, server=None, version=None, fanout=False):
    """A Target on tacker-vimmon's exchange."""
    return messaging.Target(exchange=CONTROL_EXCHANGE, topic=topic,
                            server=server, version=version, fanout=fanout)


def init(conf):
    """Build the process-wide RPC transport from ``conf``."""
    global TRANSPORT
    TRANSPORT = messaging.get_rpc_transport(
        conf, allowed_remote_exmods=ALLOWED_EXMODS)


def stop_taking_calls(server):
    """Ask the broker to stop delivering to an RPC server, at once.

    oslo.messaging's ``stop()`` only stops reading: RabbitMQ goes on
    sending calls to the server's queue consumer until the connection is
    closed in ``wait()``, and the rabbit driver acknowledges each call as
    it reads it, so those that arrive meanwhile are taken and never
    answered (their callers wait their whole timeout). Cancelling the
    consumers first makes the broker hand later calls to the other
    servers on the topic; the calls already taken still finish.

    This reaches into the rabbit driver (oslo.messaging 18); on another
    driver, or if its insides differ, it does nothing.
    """
    connection = getattr(getattr(getattr(server, 'listener', None),
                                 '_poll_style_listener', None), 'conn', None)
    consumers = getattr(connection, '_consumers', None)
    if not consumers:
        return
    try:
        with connection._connection_lock:
            for consumer, tag in list(consumers.items()):
                channel = consumer.queue.channel
                # nowait: the answer would be read on this connection,
                # where it would also deliver (and acknowledge) calls.
                channel.basic_cancel(str(tag), nowait=True)
                channel.callbacks.pop(str(tag), None)
    except Exception:
        LOG.warning('Could not stop the broker delivering calls early; '
                    'calls that arrive while stopping may go unanswered',
                    exc_info=True)


# How long the reply reader of a quiet_replies() transport waits for a
# frame before it looks whether it must stop (stop() also wakes it).
REPLY_POLL_TIMEOUT = 1.0
# The kernel name of that reader's thread.
REPLY_THREAD = 'tvm-rpc-replies'


class _QuietReplyWaiter(amqpdriver.ReplyWaiter):
    """Reads replies as they come, without a millisecond poll after each.

    oslo.messaging's reply reader waits 1 ms after every reply, then 2,
    4, ... up to 5 s, raising and catching a timeout each time. Nothing is
    done on those timeouts (replies are acknowledged as they are read), so
    with thousands of callers replying every few tens of milliseconds,
    the polls cost as much CPU as the replies themselves.
    """

    def poll(self):
        threads.name_this_thread(REPLY_THREAD)
        while not self._thread_exit_event.is_set():
            try:
                self.conn.consume(timeout=REPLY_POLL_TIMEOUT)
            except driver_common.Timeout:
                continue
            except Exception:
                LOG.exception('Failed to process incoming message, '
                              'retrying..')


def quiet_replies(transport):
    """Give transport's RPC calls a _QuietReplyWaiter, if not done yet.

    Made on the first call, as the driver makes its own, and so raises
    what that call would (the broker being away). This reaches into the
    rabbit driver (oslo.messaging 18); on another driver, or once the
    driver has a reply queue, it does nothing.
    """
    driver = getattr(transport, '_driver', None)
    if (not isinstance(driver, amqpdriver.AMQPDriverBase)
            or getattr(driver, '_reply_q', True) is not None):
        return
    with driver._reply_q_lock:
        if driver._reply_q is not None:
            return
        reply_q = driver._get_reply_queue_name()
        conn = driver._get_connection(driver_common.PURPOSE_LISTEN)
        driver._waiter = _QuietReplyWaiter(reply_q, conn,
                                           driver._allowed_remote_exmods)
        driver._reply_q = reply_q
        driver._reply_q_conn = conn


class _UnconfirmedConnection(impl_rabbit.Connection):
    """A rabbit connection whose publishes the broker does not confirm.

    The driver turns publisher confirms on for every connection, so each
    call's request waits for the broker's Basic.Ack before the caller
    waits for the answer: one more frame to read and one more wake-up per
    call. For a call the answer is the confirmation (a request the broker
    lost times out, and is sent again); without the extra wait, a routine
    check-in costs the monitor process about 10 % less CPU
    (tools/bench/bench_checkins.py --confirms).
    """

    def ensure_connection(self):
        # Read by kombu each time it opens the connection, reconnections
        # included; the driver builds a fresh dict for each connection.
        self.connection.transport_options['confirm_publish'] = False
        super().ensure_connection()


def unconfirmed_sends(transport):
    """Make transport's new connections publish without confirms.

    For a transport whose sends are calls, or casts that are repeated
    (the monitor action's: update_vim, heartbeats). Must come before the
    transport's first send, when its pool holds no connection yet. This
    reaches into the rabbit driver (oslo.messaging 18); on another
    driver, or if its insides differ, it does nothing.
    """
    pool = getattr(getattr(transport, '_driver', None), '_connection_pool',
                   None)
    if getattr(pool, 'connection_cls', None) is impl_rabbit.Connection:
        pool.connection_cls = _UnconfirmedConnection


def cleanup():
    """Close the process-wide transport (safe to call twice)."""
    global TRANSPORT
    if TRANSPORT is not None:
        TRANSPORT.cleanup()
        TRANSPORT = None


def get_transport():
    """The process-wide transport; init(conf) must have run."""
    if TRANSPORT is None:
        raise RuntimeError('tacker_vimmon.common.rpc.init() was not called')
    return TRANSPORT


# oslo.messaging's options that tacker-vimmon does not read: the exchange
# is CONTROL_EXCHANGE on every Target, whatever [DEFAULT] control_exchange
# says.
_IGNORED_MESSAGING_OPTS = ('control_exchange',)


def list_messaging_opts():
    """oslo.messaging's options as its own list_opts(), less the ignored.

    For the sample files and the docs, in place of oslo.messaging's
    namespace, so that they show no option that does nothing here.
    """
    return [(group, [opt for opt in opts
                     if opt.dest not in _IGNORED_MESSAGING_OPTS])
            for group, opts in messaging_opts.list_opts()]


def register_messaging_opts(conf):
    """Register every option oslo.messaging reads on a private ``conf``."""
    for group, opts in messaging_opts.list_opts():
        conf.register_opts(opts, group=group)
    for module_name, attribute, group in _GLOBAL_ONLY_OPTS:
        try:
            opts = getattr(importlib.import_module(module_name), attribute)
        except (ImportError, AttributeError):
            # An oslo.messaging without this feature does not read them.
            continue
        conf.register_opts(opts, group=group)


def get_transport_for(conf, url=None):
    """An RPC transport built on a private ConfigOpts, not on cfg.CONF.

    For code that lives in another service's process (the monitor action
    in Mistral's executor). ``url`` overrides ``[DEFAULT] transport_url``
    of ``conf``. The caller owns the transport and cleans it up.
    """
    register_messaging_opts(conf)
    return messaging.get_rpc_transport(
        conf, url=url, allowed_remote_exmods=ALLOWED_EXMODS)


class RequestContextSerializer(messaging.Serializer):
    """Carry a tacker-vimmon RequestContext across RPC as a dict."""

    def __init__(self, base=None):
        self._base = base or messaging.NoOpSerializer()

    def serialize_entity(self, ctxt, entity):
        return self._base.serialize_entity(ctxt, entity)

    def deserialize_entity(self, ctxt, entity):
        return self._base.deserialize_entity(ctxt, entity)

    def serialize_context(self, ctxt):
        return ctxt.to_dict()

    def deserialize_context(self, ctxt):
        return vimmon_context.RequestContext.from_dict(ctxt)


def get_client(target, version_cap=None, serializer=None, transport=None):
    """An RPC client for ``target`` (on the process-wide transport)."""
    return messaging.get_rpc_client(
        transport or get_transport(), target, version_cap=version_cap,
        serializer=RequestContextSerializer(serializer))


def get_server(target, endpoints, serializer=None, transport=None):
    """An RPC server for ``target``.

    No executor is passed: oslo.messaging's default is the threading one,
    and the eventlet executor is not used anywhere in tacker-vimmon.
    """
    return messaging.get_rpc_server(
        transport or get_transport(), target, endpoints,
        serializer=RequestContextSerializer(serializer),
        access_policy=rpc_dispatcher.DefaultRPCAccessPolicy)
