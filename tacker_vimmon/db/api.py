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

"""The database API: the only module that opens SQLAlchemy sessions.

Every function takes a request context; the transaction is bound to it with
oslo.db's enginefacade, so a caller never sees a session. Rows come back as
detached model objects.
"""

import collections
import datetime
import random

from oslo_db import api as oslo_db_api
from oslo_db import exception as db_exc
from oslo_db.sqlalchemy import enginefacade
from oslo_log import log as logging
from oslo_serialization import jsonutils
from oslo_utils import timeutils
from oslo_utils import uuidutils
import sqlalchemy as sa

from tacker_vimmon.common import exception
from tacker_vimmon.common import states
from tacker_vimmon.db import models

LOG = logging.getLogger(__name__)

main_context_manager = enginefacade.transaction_context()


def _set_names_utf8mb4(dbapi_connection, connection_record):
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute('SET NAMES utf8mb4')
    finally:
        cursor.close()


def _speak_utf8mb4_to_mysql(engine):
    """Make every MariaDB/MySQL connection talk 4-byte UTF-8.

    oslo.db connects with charset=utf8 (3-byte on MariaDB/MySQL) unless the
    URL says otherwise, and then text such as emoji, which the utf8mb4
    tables hold, fails on the server. A connection URL without
    ?charset=utf8mb4 is an easy mistake to make; it must not turn a valid
    request into a server error.
    """
    if engine.dialect.name == 'mysql':
        sa.event.listen(engine, 'connect', _set_names_utf8mb4)
        # oslo.db made a first connection (its connectivity test) before
        # this hook ran; drop it so that every pooled connection is set.
        engine.pool.dispose()


main_context_manager.append_on_engine_create(_speak_utf8mb4_to_mysql)

# How long a writer on SQLite waits for another one before giving up.
SQLITE_BUSY_TIMEOUT_MS = 30000


def _sqlite_wait_for_writers(dbapi_connection, connection_record):
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute('PRAGMA busy_timeout = %d' % SQLITE_BUSY_TIMEOUT_MS)
        # Readers no longer wait for a writer (a no-op in memory).
        cursor.execute('PRAGMA journal_mode = WAL')
    finally:
        cursor.close()


def _sqlite_begin_immediate(connection):
    # oslo.db's own listener (which runs first) begins with a plain BEGIN:
    # two transactions that read, then write, deadlock, and SQLite fails
    # one at once ("database is locked") without waiting. Nothing has run
    # in that transaction yet, so it is swapped for BEGIN IMMEDIATE, which
    # takes the write lock first: concurrent requests wait their turn (up
    # to the busy timeout).
    if connection.info.get('in_transaction'):
        connection.exec_driver_sql('COMMIT')
    connection.exec_driver_sql('BEGIN IMMEDIATE')
    connection.info['in_transaction'] = True


def _serialize_sqlite_writers(engine):
    """Concurrent writers on the embedded SQLite database wait, not fail."""
    if engine.dialect.name == 'sqlite':
        sa.event.listen(engine, 'connect', _sqlite_wait_for_writers)
        sa.event.listen(engine, 'begin', _sqlite_begin_immediate)
        engine.pool.dispose()


main_context_manager.append_on_engine_create(_serialize_sqlite_writers)

RESOURCE_TYPE_VIM = 'vim'
EVENT_CREATE = 'CREATE'
EVENT_UPDATE = 'UPDATE'
EVENT_DELETE = 'DELETE'
EVENT_MONITOR = 'MONITOR'


def get_engine():
    """The engine of [database] connection (used by the migrations)."""
    return main_context_manager.writer.get_engine()


def ping():
    """One round trip to the database (the healthcheck, status checks).

    :raises: oslo_db.exception.DBError (DBConnectionError when it cannot
        be reached)
    """
    with get_engine().connect() as connection:
        connection.execute(sa.text('SELECT 1'))


def _filtered(query, model, filters):
    for name, value in (filters or {}).items():
        query = query.where(getattr(model, name) == value)
    return query


def _vim_query(vim_id=None, project_id=None):
    query = sa.select(models.Vim)
    if vim_id is not None:
        query = query.where(models.Vim.id == vim_id)
    if project_id is not None:
        query = query.where(models.Vim.tenant_id == project_id)
    return query


def _get_vim(session, vim_id, project_id=None, for_update=False):
    query = _vim_query(vim_id, project_id)
    if for_update:
        query = query.with_for_update()
    vim = session.execute(query).scalar_one_or_none()
    if vim is None:
        raise exception.VimNotFound(vim_id=vim_id)
    return vim


def _add_event(session, vim, event_type, details, resource_state=None):
    session.add(models.Event(
        tenant_id=vim.tenant_id,
        resource_id=vim.id,
        resource_type=RESOURCE_TYPE_VIM,
        resource_state=resource_state or vim.status,
        event_type=event_type,
        event_details=details or {},
        timestamp=timeutils.utcnow()))


def _set_default_flag(vim):
    # default_tenant_id mirrors is_default so that the unique key on it
    # allows one default VIM per project (see models.Vim).
    vim.default_tenant_id = vim.tenant_id if vim.is_default else None


def _raise_conflict(context, error, tenant_id, name):
    """Turn a unique-key violation into the conflict the caller can fix."""
    if 'default_tenant_id' in (error.columns or []):
        current = vim_get_all(context, filters={'is_default': True},
                              project_id=tenant_id)
        raise exception.DefaultVimDuplicate(
            tenant_id=tenant_id, vim_id=current[0].id if current else '?')
    raise exception.VimNameDuplicate(name=name, tenant_id=tenant_id)


@oslo_db_api.retry_on_deadlock
def vim_create(context, values, event_details=None):
    """Store a new VIM and its CREATE event.

    :raises: VimNameDuplicate, DefaultVimDuplicate
    """
    values = dict(values)
    values.setdefault('status', states.PENDING)
    vim = models.Vim(**values)
    vim.id = values.get('id') or uuidutils.generate_uuid()
    try:
        with main_context_manager.writer.using(context) as session:
            _set_default_flag(vim)
            session.add(vim)
            session.flush()
            _add_event(session, vim, EVENT_CREATE, event_details)
    except db_exc.DBDuplicateEntry as error:
        _raise_conflict(context, error, values['tenant_id'], values['name'])
    return vim


@main_context_manager.reader
def vim_get(context, vim_id, project_id=None):
    """The VIM with this id (within project_id when given).

    :raises: VimNotFound
    """
    return _get_vim(context.session, vim_id, project_id)


@main_context_manager.reader
def vim_get_all(context, filters=None, project_id=None):
    """VIMs whose columns equal every value in filters, oldest first."""
    query = _filtered(_vim_query(project_id=project_id), models.Vim, filters)
    query = query.order_by(models.Vim.created_at, models.Vim.id)
    return list(context.session.execute(query).scalars())


@oslo_db_api.retry_on_deadlock
def vim_update(context, vim_id, values, project_id=None,
               event_details=None):
    """Change a VIM and record an UPDATE event.

    :raises: VimNotFound, VimNameDuplicate, DefaultVimDuplicate
    """
    try:
        with main_context_manager.writer.using(context) as session:
            vim = _get_vim(session, vim_id, project_id, for_update=True)
            vim.update(values)
            _set_default_flag(vim)
            # Kept for the error message: a failed flush expires the row.
            tenant_id, name = vim.tenant_id, vim.name
            session.flush()
            _add_event(session, vim, EVENT_UPDATE, event_details)
    except db_exc.DBDuplicateEntry as error:
        _raise_conflict(context, error, tenant_id, name)
    return vim


@oslo_db_api.retry_on_deadlock
@main_context_manager.writer
def vim_destroy(context, vim_id, project_id=None, event_details=None):
    """Delete a VIM and record a DELETE event; return the deleted row.

    :raises: VimNotFound
    """
    vim = _get_vim(context.session, vim_id, project_id, for_update=True)
    _add_event(context.session, vim, EVENT_DELETE, event_details)
    context.session.delete(vim)
    return vim


@main_context_manager.reader
def event_get(context, event_id, project_id=None):
    """The event with this id (within project_id when given).

    :raises: EventNotFound
    """
    query = sa.select(models.Event).where(models.Event.id == event_id)
    if project_id is not None:
        query = query.where(models.Event.tenant_id == project_id)
    event = context.session.execute(query).scalar_one_or_none()
    if event is None:
        raise exception.EventNotFound(event_id=event_id)
    return event


@main_context_manager.reader
def event_get_all(context, filters=None, project_id=None):
    """Events matching every value in filters, in the order they happened."""
    query = _filtered(sa.select(models.Event), models.Event, filters)
    if project_id is not None:
        query = query.where(models.Event.tenant_id == project_id)
    query = query.order_by(models.Event.timestamp, models.Event.id)
    return list(context.session.execute(query).scalars())


# The monitor's lifecycle: which monitor (action_id, workflow, execution) is
# the wanted one. Every change is a compare-and-swap on action_id, so that of
# two writers racing (an API node replacing a monitor, a conductor repairing
# it) exactly one wins and the other can undo what it created.

def _vim_wanting(session, vim_id, action_id):
    """The VIM, locked, if its monitor is still action_id; else None."""
    vim = session.execute(
        _vim_query(vim_id).with_for_update()).scalar_one_or_none()
    return vim if vim is not None and vim.action_id == action_id else None


@oslo_db_api.retry_on_deadlock
@main_context_manager.writer
def vim_monitor_assign(context, vim_id, expected_action_id, action_id,
                       workflow_id=None, execution_id=None, status=None,
                       event_details=None):
    """Make a new monitor the wanted one, if the old one still is.

    The lifecycle calls this before it starts the new monitor's execution
    (workflow_id and execution_id None: the row keeps its workflow and
    forgets the old execution), so that the new action finds itself
    current at its first report, which may come milliseconds after Mistral
    starts it; vim_monitor_started then names the execution.

    :param expected_action_id: the action_id the row must still hold
    :param workflow_id: the new monitor's workflow (None: unchanged)
    :param execution_id: the new monitor's execution, if it runs already
    :param status: the VIM's status from now on (unchanged when None)
    :returns: the VIM before the change, or None when the VIM is gone or
        holds another action_id (the caller must undo its new monitor)
    """
    vim = _vim_wanting(context.session, vim_id, expected_action_id)
    if vim is None:
        return None
    before = {'status': vim.status, 'action_id': vim.action_id,
              'workflow_id': vim.workflow_id,
              'execution_id': vim.execution_id,
              'silent': vim.silent_since is not None,
              'auth_status': vim.auth_status}
    vim.update({'action_id': action_id, 'execution_id': execution_id,
                'monitor_error': None, 'last_check_in_at': None})
    if workflow_id is not None:
        vim.workflow_id = workflow_id
    if status is not None:
        if status != vim.status:
            vim.status_since = timeutils.utcnow()
        # The new monitor has seen nothing yet.
        vim.update({'status': status, 'status_reason': None, 'rtt': None})
    if event_details is not None:
        _add_event(context.session, vim, EVENT_MONITOR, event_details)
    return before


@oslo_db_api.retry_on_deadlock
@main_context_manager.writer
def vim_monitor_started(context, vim_id, action_id, workflow_id,
                        execution_id):
    """Name the running execution of the wanted monitor action_id.

    :returns: True, or False when the VIM is gone or wants another monitor
        by now (the caller must remove the execution it started)
    """
    vims = models.Vim.__table__
    return context.session.execute(
        vims.update().where(sa.and_(vims.c.id == vim_id,
                                    vims.c.action_id == action_id))
        .values(workflow_id=workflow_id, execution_id=execution_id)
    ).rowcount == 1


def _record_monitor_failure(session, vim_id, expected_action_id, values,
                            event_details):
    """Mark a VIM's monitor failed, if its action_id is still the expected.

    The guard on action_id sits in the UPDATE itself, so that a writer
    holding a stale action_id can never write, whatever runs concurrently.
    monitor_failures counts consecutive failures, for the reconciler's
    back-off; a monitor's first successful report resets it.

    :returns: the VIM as stored, or None when the VIM is gone or holds
        another action_id (nothing was written)
    """
    vims = models.Vim.__table__
    guard = sa.and_(vims.c.id == vim_id,
                    vims.c.action_id == expected_action_id)
    values = dict(values, status=states.ERROR,
                  status_reason=states.REASON_MONITOR_FAILED,
                  status_since=sa.case(
                      (vims.c.status == states.ERROR, vims.c.status_since),
                      else_=timeutils.utcnow()),
                  monitor_failures=vims.c.monitor_failures + 1)
    if session.execute(vims.update().where(guard).values(values)
                       ).rowcount != 1:
        return None
    vim = _get_vim(session, vim_id)
    _add_event(session, vim, EVENT_MONITOR, event_details)
    return vim


@oslo_db_api.retry_on_deadlock
@main_context_manager.writer
def vim_monitor_failed(context, vim_id, expected_action_id, action_id,
                       reason):
    """Record that the wanted monitor could not be set up.

    The VIM shows status ERROR, the reason in monitor_error and in a
    MONITOR event; the reconciler retries (with a back-off, see
    vim_monitors_to_repair). action_id is set to the monitor that was being
    made, so that any older action exits at its next check-in.

    :returns: True when recorded, False when the VIM is gone or another
        writer changed its monitor meanwhile
    """
    return _record_monitor_failure(
        context.session, vim_id, expected_action_id,
        {'action_id': action_id, 'workflow_id': None, 'execution_id': None,
         'monitor_error': reason},
        {'monitor': 'set-up failed', 'reason': reason}) is not None


@oslo_db_api.retry_on_deadlock
@main_context_manager.writer
def vim_monitor_start_failed(context, vim_id, action_id, reason):
    """Record that the VIM's monitor action ran but could not start.

    Like vim_monitor_failed, but told by the action itself (through the
    conductor): the VIM shows status ERROR with the reason. The workflow
    and execution stay recorded, so that the reconciler's repair removes
    them when it makes the next monitor.

    :returns: the status stored, or None when the VIM is gone or action_id
        is not its monitor any more
    """
    vim = _record_monitor_failure(
        context.session, vim_id, action_id, {'monitor_error': reason},
        {'monitor': 'start failed', 'reason': reason,
         'action_id': action_id})
    return vim.status if vim is not None else None


def retry_wait(failures, retry_after, max_retry_after):
    """Seconds to wait before retrying a monitor that failed ``failures``
    times in a row: retry_after, doubled at each further failure, at most
    max_retry_after.
    """
    # The exponent is bounded so that a long-failing VIM costs no bignum.
    doublings = min(max(failures - 1, 0), 32)
    return min(retry_after * 2 ** doublings, max_retry_after)


@main_context_manager.reader
def vim_monitors_to_repair(context, now, silent_after, retry_after,
                           max_retry_after, limit=None):
    """VIMs whose monitor is missing, failed, or has gone silent.

    :param now: the time of the pass
    :param silent_after: seconds after which a monitor not heard from (or,
        never heard from, whose row was last changed before) is presumed
        dead
    :param retry_after: a missing monitor is made only when the row has
        not changed for this many seconds, which leaves a monitor that is
        being set up right now alone; a failed one is retried after this,
        doubled at each consecutive failure (monitor_failures)...
    :param max_retry_after: ...up to this many seconds
    :param limit: the most VIMs returned, oldest first
    """
    query = _repair_candidates(now, silent_after, retry_after)
    return _due(context.session.execute(query).scalars(), now, retry_after,
                max_retry_after, limit)


@oslo_db_api.retry_on_deadlock
@main_context_manager.writer
def vim_monitors_claim_repairs(context, now, silent_after, retry_after,
                               max_retry_after, claim, claim_until, limit):
    """Claim, for one reconciler pass, the VIMs whose monitor needs repair.

    The due VIMs (see vim_monitors_to_repair) that no other conductor holds
    a claim on are marked with ``claim`` until ``claim_until``, so that
    several conductors never repair one VIM at once. Where the database
    has it, rows another conductor is claiming right now are skipped
    rather than waited for (FOR UPDATE SKIP LOCKED).

    :returns: the VIMs claimed (at most ``limit``)
    """
    vim = models.Vim
    query = _repair_candidates(now, silent_after, retry_after).where(
        sa.or_(vim.repair_claim_until.is_(None),
               vim.repair_claim_until < now)
    ).with_for_update(skip_locked=True)
    vims = _due(context.session.execute(query).scalars(), now, retry_after,
                max_retry_after, limit)
    if vims:
        context.session.execute(
            sa.update(vim).where(vim.id.in_([v.id for v in vims]))
            .values(repair_claim=claim, repair_claim_until=claim_until,
                    updated_at=vim.updated_at)
            .execution_options(synchronize_session=False))
    return vims


@oslo_db_api.retry_on_deadlock
@main_context_manager.writer
def vim_monitors_release_claim(context, claim):
    """Drop a reconciler pass's claim on the VIMs it repaired."""
    vim = models.Vim
    context.session.execute(
        sa.update(vim).where(vim.repair_claim == claim)
        .values(repair_claim=None, repair_claim_until=None,
                updated_at=vim.updated_at)
        .execution_options(synchronize_session=False))


def _not_heard_since(cutoff):
    """The VIM's monitor has not been heard from since ``cutoff``.

    Heard: a report or a heartbeat (last_check_in_at); a monitor that never
    was is judged from when the row last changed (its set-up).
    """
    vim = models.Vim
    changed_at = sa.func.coalesce(vim.updated_at, vim.created_at)
    return sa.or_(
        vim.last_check_in_at < cutoff,
        sa.and_(vim.last_check_in_at.is_(None), changed_at < cutoff))


def _repair_candidates(now, silent_after, retry_after):
    """VIMs that may need a repair; _due applies the back-off."""
    vim = models.Vim
    changed_at = sa.func.coalesce(vim.updated_at, vim.created_at)
    retry_before = now - datetime.timedelta(seconds=retry_after)
    silent_since = now - datetime.timedelta(seconds=silent_after)
    failed = sa.and_(vim.monitor_error.isnot(None),
                     changed_at <= retry_before)
    missing = sa.and_(vim.monitor_error.is_(None), vim.workflow_id.is_(None),
                      changed_at < retry_before)
    # A failed monitor is not running, so its silence says nothing; its
    # retry follows the back-off only.
    silent = sa.and_(vim.monitor_error.is_(None),
                     _not_heard_since(silent_since))
    return sa.select(vim).where(sa.or_(failed, missing, silent)).order_by(
        vim.created_at, vim.id)


def _due(candidates, now, retry_after, max_retry_after, limit):
    # The back-off's due time is computed here rather than in SQL: date
    # arithmetic with a per-row interval is spelled differently on SQLite,
    # MariaDB and PostgreSQL, and there are at most a few thousand VIMs.
    due = []
    for row in candidates:
        if row.monitor_error and not _retry_due(row, now, retry_after,
                                                max_retry_after):
            continue
        due.append(row)
        if limit and len(due) >= limit:
            break
    return due


def _retry_due(vim, now, retry_after, max_retry_after):
    failed_at = vim.updated_at or vim.created_at
    wait = retry_wait(vim.monitor_failures or 0, retry_after,
                      max_retry_after)
    return failed_at + datetime.timedelta(seconds=wait) <= now


@oslo_db_api.retry_on_deadlock
@main_context_manager.writer
def vim_monitors_mark_silent(context, heard_before):
    """Record, once, that monitors fell silent: the API shows UNKNOWN.

    For each VIM whose monitor should run but has not been heard from since
    ``heard_before``, and that is not marked yet: set silent_since and add
    a MONITOR event (the last status it reported, the reason). Rows are
    locked first, so that of several conductors only one records each.

    :returns: the VIMs marked now
    """
    vim = models.Vim
    now = timeutils.utcnow()
    query = sa.select(vim).where(
        vim.silent_since.is_(None), vim.action_id.isnot(None),
        vim.workflow_id.isnot(None), vim.monitor_error.is_(None),
        _not_heard_since(heard_before)
    ).order_by(vim.id).with_for_update()
    vims = list(context.session.execute(query).scalars())
    for row in vims:
        last = row.last_check_in_at
        reason = ('no report or heartbeat since %s' % last.isoformat(' ')
                  if last else 'the monitor never checked in')
        _add_event(context.session, row, EVENT_MONITOR, {
            'old_status': row.status, 'new_status': states.UNKNOWN,
            'reason': reason}, resource_state=states.UNKNOWN)
    if vims:
        context.session.execute(
            sa.update(vim).where(vim.id.in_([v.id for v in vims]))
            .values(silent_since=now, updated_at=vim.updated_at)
            .execution_options(synchronize_session=False))
    return vims


# Heartbeats name many monitors; the IN lists are sent in chunks this big.
_HEARTBEAT_CHUNK = 500


def vim_monitors_heard(context, action_ids):
    """Record a heartbeat: the monitors with these action_ids still run.

    One guarded UPDATE per chunk of ids sets last_check_in_at (the row's
    updated_at stays: being alive changes nothing of the VIM). A VIM that
    was marked silent is unmarked, with a MONITOR event from UNKNOWN back
    to the status its monitor last reported.

    Each chunk is a transaction of its own, its rows locked in id order,
    as every other writer of several VIMs locks them: one transaction for
    all chunks would hold the rows of one chunk while it waits for the
    (lower) ids of the next, and deadlock with a group of reports holding
    those and waiting for the first. Nothing needs the chunks to commit
    together: each row's heartbeat stands on its own.

    :returns: (how many VIMs want one of these monitors, ids of the VIMs
        heard from again after a silence)
    """
    now = timeutils.utcnow()
    heard, recovered = 0, []
    ids = sorted(set(action_ids))
    for start in range(0, len(ids), _HEARTBEAT_CHUNK):
        rows = _vim_monitors_heard_chunk(
            context, ids[start:start + _HEARTBEAT_CHUNK], now)
        heard += len(rows)
        recovered.extend(row.id for row in rows
                         if row.silent_since is not None)
    return heard, recovered


@oslo_db_api.retry_on_deadlock
@main_context_manager.writer.independent
def _vim_monitors_heard_chunk(context, action_ids, now):
    """One chunk of a heartbeat; the rows of the VIMs it named, before."""
    vim = models.Vim
    rows = context.session.execute(
        sa.select(vim.id, vim.tenant_id, vim.status, vim.silent_since)
        .where(vim.action_id.in_(action_ids)).order_by(vim.id)
        .with_for_update()).all()
    if not rows:
        return rows
    context.session.execute(
        sa.update(vim).where(vim.id.in_([row.id for row in rows]))
        .values(last_check_in_at=now, silent_since=None,
                updated_at=vim.updated_at)
        .execution_options(synchronize_session=False))
    for row in rows:
        if row.silent_since is not None:
            _add_event(context.session, row, EVENT_MONITOR, {
                'old_status': states.UNKNOWN, 'new_status': row.status,
                'reason': 'heard from again'})
    return rows


@main_context_manager.reader
def vim_monitor_ids(context):
    """{vim_id: action_id} of every VIM (to spot orphaned workflows)."""
    rows = context.session.execute(
        sa.select(models.Vim.id, models.Vim.action_id))
    return {vim_id: action_id for vim_id, action_id in rows}


# The monitor's reports (update_vim of the conductor). Every monitor action
# reports this way, so this is the hottest write of the service: it is kept
# to as few database round trips as each backend allows, and the
# action_id guard sits in the writing statement itself, so that a stale
# action can never write, whatever runs concurrently.
#
# On PostgreSQL (psycopg2) a group of reports is one autocommit statement
# that locks, compares, updates and logs. It commits without waiting for
# the WAL flush (synchronous_commit off for that transaction only): the
# flush cost ~3.5 ms per report here, most of a report's time. A database
# crash can lose the last moments of reports; the action's next check-in
# (same call, its current status) writes them again. A group waits at most
# 20 s for a row lock: the conductor writes one group at a time, so one
# long-locked row must not hold up every report behind it (and its caller
# has given up long before).

_REPORTS_POSTGRESQL = """
SET LOCAL synchronous_commit TO OFF;
SET LOCAL lock_timeout TO '20s';
WITH r (id, action_id, status, reason, rtt, details, detail) AS (
    VALUES {rows}),
old AS (
    SELECT vims.id, vims.tenant_id, vims.name, vims.type, vims.status,
           vims.status_reason, vims.silent_since, vims.auth_status
    FROM vims
    JOIN r ON vims.id = r.id AND vims.action_id = r.action_id
    ORDER BY vims.id
    FOR UPDATE OF vims),
upd AS (
    UPDATE vims SET
        status = r.status,
        status_reason = r.reason,
        rtt = r.rtt,
        monitor_details = r.details,
        last_check_in_at = :now,
        silent_since = NULL,
        monitor_failures = 0,
        status_since = CASE WHEN old.status = r.status
                            THEN vims.status_since ELSE :now END,
        updated_at = CASE WHEN old.status = r.status
                          THEN vims.updated_at ELSE :now END
    FROM old JOIN r ON r.id = old.id
    WHERE vims.id = old.id
    RETURNING vims.id, old.tenant_id, old.name, old.type, old.auth_status,
              old.status AS old_status,
              old.status_reason AS old_reason, r.status AS new_status,
              r.reason AS new_reason, r.rtt, r.detail, old.silent_since),
event AS (
    INSERT INTO events (tenant_id, resource_id, resource_type,
                        resource_state, event_type, event_details,
                        timestamp)
    SELECT tenant_id, id, :resource_type, new_status, :event_type,
           jsonb_strip_nulls(jsonb_build_object(
               'old_status', CASE WHEN silent_since IS NULL
                             THEN old_status ELSE :unknown END,
               'new_status', new_status,
               'reason', new_reason,
               'rtt', rtt,
               'detail', detail))::text,
           :now
    FROM upd WHERE old_status <> new_status OR silent_since IS NOT NULL
                   OR (new_reason IS NOT NULL
                       AND new_reason IS DISTINCT FROM old_reason)
    ORDER BY id)
SELECT id, old_status, old_reason, tenant_id, name, type,
       silent_since IS NOT NULL AS silent, auth_status FROM upd
"""


class Report(collections.namedtuple('Report', [
        'vim_id', 'action_id', 'status', 'reason', 'details'],
        defaults=[None, None])):
    """One report of a monitor action (see MonitorReportWriter).

    ``reason`` is None for a monitor older than reasons; ``details`` holds
    ``rtt`` (seconds), ``detail`` (text) and ``checks`` (per check).
    """

    @property
    def rtt(self):
        return (self.details or {}).get('rtt')

    @property
    def detail(self):
        return (self.details or {}).get('detail')


class Previous(collections.namedtuple('Previous', [
        'status', 'reason', 'tenant_id', 'name', 'type', 'silent',
        'auth_status'])):
    """What a VIM was before a report: its status and reason, whose and
    what it is, whether it was recorded silent and its credential check's
    verdict (for the status shown, states.shown_status).
    """


# The VALUES of one report: (parameter prefix, SQL type), in r's order.
_REPORT_COLUMNS = (('v', 'VARCHAR'), ('a', 'VARCHAR'), ('s', 'VARCHAR'),
                   ('r', 'VARCHAR'), ('t', 'FLOAT'), ('d', 'TEXT'),
                   ('x', 'TEXT'))


def _report_statement_postgresql(reports, now):
    """The one statement that writes a group of reports of distinct VIMs.

    Rows are locked in id order, so that two groups never deadlock.
    """
    params = {'now': now, 'resource_type': RESOURCE_TYPE_VIM,
              'event_type': EVENT_MONITOR, 'unknown': states.UNKNOWN}
    rows = []
    for index, report in enumerate(reports):
        rows.append('(%s)' % ', '.join(
            'CAST(:%s%d AS %s)' % (name, index, kind)
            for name, kind in _REPORT_COLUMNS))
        params.update({
            'v%d' % index: report.vim_id, 'a%d' % index: report.action_id,
            's%d' % index: report.status, 'r%d' % index: report.reason,
            't%d' % index: report.rtt, 'x%d' % index: report.detail,
            'd%d' % index: (jsonutils.dumps(report.details)
                            if report.details is not None else None)})
    return sa.text(_REPORTS_POSTGRESQL.format(rows=', '.join(rows))), params


def _report_event(report, row, shown):
    details = {'old_status': shown, 'new_status': report.status,
               'reason': report.reason, 'rtt': report.rtt,
               'detail': report.detail}
    return {key: value for key, value in details.items()
            if value is not None}


def _write_report_locking(connection, report, now):
    """Lock the row, then write what changed (every other database)."""
    vims = models.Vim.__table__
    guard = sa.and_(vims.c.id == report.vim_id,
                    vims.c.action_id == report.action_id)
    row = connection.execute(
        sa.select(vims.c.status, vims.c.status_reason, vims.c.tenant_id,
                  vims.c.name, vims.c.type, vims.c.silent_since,
                  vims.c.auth_status)
        .where(guard).with_for_update()).one_or_none()
    if row is None:
        return None
    # updated_at is set either way: its onupdate default would otherwise
    # count a check-in as a change of the row.
    # A monitor that reports works: the back-off of failed ones restarts.
    values = {'last_check_in_at': now, 'silent_since': None,
              'updated_at': vims.c.updated_at, 'monitor_failures': 0,
              'status_reason': report.reason, 'rtt': report.rtt,
              'monitor_details': report.details}
    changed = row.status != report.status
    if changed:
        values.update(status=report.status, updated_at=now,
                      status_since=now)
    if connection.execute(
            vims.update().where(guard).values(values)).rowcount != 1:
        return None
    reason_changed = (report.reason is not None
                      and report.reason != row.status_reason)
    if changed or reason_changed or row.silent_since is not None:
        shown = row.status if row.silent_since is None else states.UNKNOWN
        connection.execute(models.Event.__table__.insert().values(
            tenant_id=row.tenant_id, resource_id=report.vim_id,
            resource_type=RESOURCE_TYPE_VIM, resource_state=report.status,
            event_type=EVENT_MONITOR,
            event_details=_report_event(report, row, shown),
            timestamp=now))
    return Previous(row.status, row.status_reason, row.tenant_id, row.name,
                    row.type, row.silent_since is not None, row.auth_status)


class MonitorReportWriter:
    """Stores what monitor actions report, a group of reports at a time.

    ``writer(reports)`` takes Reports (or (vim_id, action_id, status)
    tuples) of distinct VIMs and returns, in the same order, what each
    VIM was before (a Previous), or None where no VIM has that id or its
    action_id is another one (nothing was written for that report). Only
    the VIM's current action may write; a new status or reason updates
    the row and adds one MONITOR event (old and new status, the reason,
    the round-trip time and what happened in its details), the same again
    only records the check-in time, the round-trip time and what the
    checks saw. Either resets monitor_failures: the monitor works.

    On PostgreSQL (psycopg2, which sends a string of several statements as
    one simple query) a group is one statement on a connection the writer
    keeps: that saves, per group, taking a connection from the pool,
    oslo.db's ping of it and two changes of its isolation level. A
    connection the database dropped is replaced, and the group tried once
    more on the new one. Every other database writes a group in one
    transaction, rows locked in id order.
    """

    def __init__(self):
        self._connection = None

    def __call__(self, reports):
        reports = [Report(*report) for report in reports]
        engine = get_engine()
        if engine.dialect.driver != 'psycopg2':
            return self._write_locking(engine, reports)
        try:
            return self._write_postgresql(engine, reports)
        except db_exc.DBConnectionError:
            self.close()
            return self._write_postgresql(engine, reports)

    @staticmethod
    @oslo_db_api.retry_on_deadlock
    def _write_locking(engine, reports):
        now = timeutils.utcnow()
        previous = {}
        with engine.begin() as connection:
            for report in sorted(reports):
                previous[report.vim_id] = _write_report_locking(
                    connection, report, now)
        return [previous[report.vim_id] for report in reports]

    # No writer locks rows against the id order, so a deadlock means one
    # that does; the group was rolled back whole and is written again.
    @oslo_db_api.retry_on_deadlock
    def _write_postgresql(self, engine, reports):
        if self._connection is None:
            # The statements of one string sent at once run as one
            # implicit transaction in autocommit mode, which is what
            # scopes SET LOCAL.
            self._connection = engine.connect().execution_options(
                isolation_level='AUTOCOMMIT')
        statement, params = _report_statement_postgresql(
            reports, timeutils.utcnow())
        try:
            rows = self._connection.execute(statement, params).all()
        except Exception:
            # Whatever failed, start the next group on a fresh connection.
            self.close()
            raise
        previous = {row.id: Previous(row.old_status, row.old_reason,
                                     row.tenant_id, row.name, row.type,
                                     row.silent, row.auth_status)
                    for row in rows}
        return [previous.get(report.vim_id) for report in reports]

    def close(self):
        if self._connection is not None:
            connection, self._connection = self._connection, None
            try:
                connection.close()
            except Exception:
                LOG.debug('Closing a failed report connection failed',
                          exc_info=True)


def vim_monitor_report(context, vim_id, action_id, status, reason=None,
                       details=None):
    """Store one report of the monitor action ``action_id``.

    For callers outside the conductor's group commit (tools, tests); see
    MonitorReportWriter for what is written.

    :returns: the status the VIM had before, or None when nothing was
        written (no such VIM, or another action_id)
    """
    writer = MonitorReportWriter()
    try:
        previous = writer([Report(vim_id, action_id, status, reason,
                                  details)])[0]
    finally:
        writer.close()
    return previous.status if previous is not None else None


# The credential check (conductor/credentials.py). A conductor claims the
# VIMs whose check is due by moving their due time a whole interval on, in
# the transaction that found them (rows another conductor is claiming are
# skipped, FOR UPDATE SKIP LOCKED, as the reconciler's claims are): no two
# conductors check one VIM, and one that dies mid-check leaves the VIM
# due again an interval later.

@oslo_db_api.retry_on_deadlock
@main_context_manager.writer
def vim_credential_checks_claim(context, now, interval, limit):
    """Claim the VIMs whose credential check is due.

    A VIM never checked before gets a due time at random within the next
    ``interval`` seconds instead, so that N VIMs do not all fire at once.

    :returns: the VIMs claimed for checking now (at most ``limit``)
    """
    vim = models.Vim
    query = sa.select(vim).where(sa.or_(
        vim.auth_check_due.is_(None), vim.auth_check_due <= now)
    ).order_by(vim.auth_check_due, vim.id).limit(limit).with_for_update(
        skip_locked=True)
    claimed = []
    for row in context.session.execute(query).scalars():
        if row.auth_check_due is None:
            wait = interval * random.random()  # noqa: S311 - spreading only
        else:
            claimed.append(row)
            wait = interval
        context.session.execute(
            sa.update(vim).where(vim.id == row.id)
            .values(auth_check_due=now + datetime.timedelta(seconds=wait),
                    updated_at=vim.updated_at)
            .execution_options(synchronize_session=False))
    return claimed


@oslo_db_api.retry_on_deadlock
@main_context_manager.writer
def vim_credentials_checked(context, vim_id, secret, auth_status, reason):
    """Record a credential check's verdict.

    Nothing is written when the VIM's credentials changed since they were
    read (``secret``, their ciphertext, differs): the verdict is about the
    old ones.

    :returns: (the VIM before, the VIM after), or None when nothing was
        written
    """
    vims = models.Vim.__table__
    before = context.session.execute(
        _vim_query(vim_id).with_for_update()).scalar_one_or_none()
    if before is None or before.auth_cred_secret != secret:
        return None
    context.session.expunge(before)
    values = {'auth_status': auth_status, 'auth_reason': reason,
              'updated_at': vims.c.updated_at}
    if before.auth_status != auth_status:
        values['auth_since'] = timeutils.utcnow()
    context.session.execute(vims.update().where(vims.c.id == vim_id)
                            .values(values))
    return before, _get_vim(context.session, vim_id)


@main_context_manager.reader
def vim_secret_get_all(context):
    """(vim_id, auth_cred_secret) of every VIM that has secrets."""
    query = sa.select(models.Vim.id, models.Vim.auth_cred_secret).where(
        models.Vim.auth_cred_secret.is_not(None))
    return [tuple(row) for row in context.session.execute(query)]


@oslo_db_api.retry_on_deadlock
@main_context_manager.writer
def vim_secret_replace(context, vim_id, old_secret, new_secret):
    """Swap a VIM's encrypted secrets unless they changed meanwhile.

    Returns True when replaced; an update by the API in between wins.
    """
    result = context.session.execute(
        sa.update(models.Vim)
        .where(models.Vim.id == vim_id,
               models.Vim.auth_cred_secret == old_secret)
        .values(auth_cred_secret=new_secret)
        .execution_options(synchronize_session=False))
    return result.rowcount == 1
