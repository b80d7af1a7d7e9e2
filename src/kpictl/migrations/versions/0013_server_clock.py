"""the server's clock, and row rules for the aggregates, nudges, away windows and KPI stamps

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 09:30:00

PostgreSQL only (SQLite is single-user: nothing to enforce). What migration 0012's rules left
open (README "Shared servers"):

* ``kpictl_now()`` is the server's clock for everything it stamps: ``now()``, the instant the
  transaction began — the same for every row of a write, and what kpictl reads as ``now`` for a
  non-admin's write (services/access.py), so the aggregates it files agree with the times the
  server stamped. The schema's owner may redefine it to pin the clock of a test or demo
  database, as ``KPICTL_NOW`` pins a client's; nobody else may (functions are never looked up
  in ``pg_temp``).
* A non-admin's write in a transaction that began more than ``kpictl_stale_after()`` (10
  minutes) ago is refused: its stamps would be stale (``now()`` is the transaction's start).
* ``checkin_stats``: a non-admin writes only the aggregates of KPIs they may record check-ins
  on (a manager: of their tree); a member only the rows filed at the instant of their write;
  and every such row must match the history at its instant (counts, first/last times, the
  latest check-in, the guard's ``covered_id``).
* ``nudge_sent``: a manager records nudges about the KPIs of their tree (stamped by the
  server), to the owner, their cover or a manager above them — about their own KPIs only to
  themselves; members none; only an admin changes the record.
* ``away``: one's own window may not start, end, change cover or be deleted in the past (more
  than a day back); a manager of the person, or an admin, may. Who recorded a window, and
  when, stay on UPDATE.
* ``kpi.created_at``/``updated_at``, ``kpi_change.at`` and ``source_run.at`` are the server's
  clock for non-admins, as check-ins', corrections' and feedback's already were; a check-in
  measured more than 5 minutes past it is refused.
"""

from pathlib import Path
import importlib.util

from alembic import op


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

#: Tables 0012 did not guard.
GUARDED = ("checkin_stats", "nudge_sent")

_FUNCTIONS = r"""
CREATE OR REPLACE FUNCTION kpictl_now() RETURNS timestamptz
LANGUAGE sql STABLE SET search_path = pg_catalog AS $$
  SELECT now()
$$;

-- How long a non-admin's transaction may have been open when it writes (the owner may
-- redefine it, as kpictl_now()).
CREATE OR REPLACE FUNCTION kpictl_stale_after() RETURNS interval
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog AS $$
  SELECT interval '10 minutes'
$$;

-- Whether ``boss`` is above ``person_id`` in the reporting line (their manager, theirs, …).
CREATE OR REPLACE FUNCTION kpictl_above(boss integer, person_id integer) RETURNS boolean
LANGUAGE sql STABLE SET search_path = pg_catalog, {schema}, pg_temp AS $$
  WITH RECURSIVE line(id) AS (
    SELECT manager_id FROM person WHERE id = person_id
    UNION
    SELECT p.manager_id FROM person p JOIN line l ON p.id = l.id
  )
  SELECT EXISTS (SELECT 1 FROM line WHERE id = boss)
$$;

CREATE OR REPLACE FUNCTION kpictl_may_checkin(kpi_id integer) RETURNS boolean
LANGUAGE sql STABLE SET search_path = pg_catalog, {schema}, pg_temp AS $$
  SELECT EXISTS (
    SELECT 1 FROM kpi k
    WHERE k.id = kpi_id
      AND (k.owner_id = kpictl_me()
           OR EXISTS (SELECT 1 FROM away a JOIN person o ON o.id = a.person_id
                      WHERE a.person_id = k.owner_id AND kpictl_now() BETWEEN a.starts AND a.ends
                        AND coalesce(a.cover_id, o.manager_id) = kpictl_me())))
$$;

CREATE OR REPLACE FUNCTION kpictl_refuse(message text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege', MESSAGE = message;
END
$$;

CREATE OR REPLACE FUNCTION kpictl_guard() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, {schema}, pg_temp AS $$
DECLARE
  lvl text := kpictl_level();
  me integer;
  k record;
  agg record;
  row_kpi integer;
BEGIN
  IF lvl = 'admin' THEN
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
  END IF;
  -- The server's stamps are the instant the transaction began: one held open would stamp a
  -- time long past (a check-in "before the deadline", written after it).
  IF clock_timestamp() - now() > kpictl_stale_after() THEN
    PERFORM kpictl_refuse(format('this transaction began more than %s ago, so the times the '
      'server stamps would be stale: write in a new transaction', kpictl_stale_after()));
  END IF;
  IF lvl IS NULL THEN
    PERFORM kpictl_refuse(format('role %s has no kpictl role in database %s: an admin grants '
      'one with `kpictl db grant HANDLE --as member|manager|admin`', current_user,
      current_database()));
  END IF;
  me := kpictl_me();
  IF me IS NULL THEN
    PERFORM kpictl_refuse(format('role %s is not linked to a person: an admin links it with '
      '`kpictl people edit HANDLE --db-role %s`', current_user, current_user));
  END IF;

  -- The per-KPI aggregates (services/stats.py): a non-admin writes only those of KPIs they
  -- may record check-ins on (or, a manager, that they manage); a member only the rows filed
  -- at the instant of their own write: the past of the running log is a manager's or an
  -- admin's to recount (a definition change, `kpictl db rebuild`).
  IF TG_TABLE_NAME = 'checkin_stats' THEN
    row_kpi := CASE WHEN TG_OP = 'DELETE' THEN OLD.kpi_id ELSE NEW.kpi_id END;
    SELECT key, owner_id INTO k FROM kpi WHERE id = row_kpi;
    IF NOT (kpictl_may_checkin(row_kpi) OR (lvl = 'manager' AND kpictl_manages(k.owner_id))) THEN
      PERFORM kpictl_refuse(format('only whoever may record check-ins on %s, a manager of %s '
        '(its owner) or an admin may write its aggregates', k.key, kpictl_handle(k.owner_id)));
    END IF;
    IF TG_OP = 'UPDATE' AND NEW.kpi_id <> OLD.kpi_id THEN
      PERFORM kpictl_refuse('aggregates stay with their KPI');
    END IF;
    IF lvl = 'member' AND (TG_OP = 'DELETE' OR NEW.recorded_at <> kpictl_now()
                           OR (TG_OP = 'UPDATE' AND OLD.recorded_at <> kpictl_now())) THEN
      PERFORM kpictl_refuse(format('a member files the aggregates of %s only at the instant of '
        'their own check-in; recounting its past takes a manager of %s or an admin '
        '(`kpictl db rebuild`)', k.key, kpictl_handle(k.owner_id)));
    END IF;
    IF TG_OP = 'DELETE' THEN
      RETURN OLD;
    END IF;
    -- What a report reads from the row must be what the history says at its instant: the
    -- counts, first and last times, the latest check-in (of this KPI), and a guard that
    -- claims no check-in not yet written. (The forecast's moments are checked by `db check`.)
    SELECT count(*) AS n, min(c.measured_at) AS first_at, max(c.measured_at) AS last_at,
           count(*) FILTER (WHERE c.measured_at BETWEEN d.start AND d.due) AS in_window,
           count(*) FILTER (WHERE c.measured_at BETWEEN d.start AND d.due AND CASE d.kind
             WHEN 'at-least' THEN c.value >= d.target WHEN 'at-most' THEN c.value <= d.target
             WHEN 'range' THEN c.value BETWEEN d.low AND d.high ELSE false END) AS met,
           count(*) FILTER (WHERE c.measured_at >= d.start) AS fit_n,
           least(3, count(DISTINCT c.measured_at) FILTER (WHERE c.measured_at >= d.start))
             AS fit_distinct
      INTO agg FROM kpi d JOIN checkin c ON c.kpi_id = d.id
     WHERE d.id = NEW.kpi_id AND c.recorded_at <= NEW.recorded_at;
    IF (NEW.n, NEW.first_at, NEW.last_at, NEW.in_window, NEW.met, NEW.fit_n, NEW.fit_distinct)
         IS DISTINCT FROM (agg.n::integer, agg.first_at, agg.last_at, agg.in_window::integer,
                           agg.met::integer, agg.fit_n::integer, agg.fit_distinct::integer)
       OR NEW.latest_id IS DISTINCT FROM (
         SELECT c.id FROM checkin c WHERE c.kpi_id = NEW.kpi_id
            AND c.recorded_at <= NEW.recorded_at ORDER BY c.measured_at DESC, c.id DESC LIMIT 1)
       OR NEW.covered_id > (SELECT coalesce(max(id), 0) FROM checkin) THEN
      PERFORM kpictl_refuse(format('the aggregates of %s must be those of its check-ins (kpictl '
        'keeps them; `kpictl db rebuild` recomputes them)', k.key));
    END IF;
    RETURN NEW;
  END IF;

  -- Who was nudged, and when: what keeps a reminder from being sent twice and an escalation
  -- from being skipped. A manager records nudges about the KPIs of their tree, at the
  -- server's instant; the record is never changed but by an admin.
  IF TG_TABLE_NAME = 'nudge_sent' THEN
    SELECT key, owner_id INTO k FROM kpi WHERE id = CASE WHEN TG_OP = 'DELETE' THEN OLD.kpi_id
                                                        ELSE NEW.kpi_id END;
    IF lvl <> 'manager' OR TG_OP <> 'INSERT' OR NOT kpictl_manages(k.owner_id) THEN
      PERFORM kpictl_refuse(format('only a manager of %s (the owner of %s) or an admin may '
        'send nudges about it (`kpictl nudge` runs as a manager or an admin)',
        kpictl_handle(k.owner_id), k.key));
    END IF;
    -- About one's own KPI, only to oneself: an escalation about it is one's manager's to
    -- send. Otherwise to the owner, whoever covers for them, or a manager above them.
    IF k.owner_id = me AND NEW.recipient_id <> me THEN
      PERFORM kpictl_refuse(format('a nudge about your own KPI %s goes to you only: its '
        'escalations are for a manager of yours or an admin to send', k.key));
    END IF;
    IF NEW.recipient_id <> k.owner_id AND NOT kpictl_above(NEW.recipient_id, k.owner_id)
       AND NOT EXISTS (SELECT 1 FROM away a WHERE a.person_id = k.owner_id
                                              AND a.cover_id = NEW.recipient_id) THEN
      PERFORM kpictl_refuse(format('a nudge about %s goes to %s (its owner), whoever covers for '
        'them, or a manager above them', k.key, kpictl_handle(k.owner_id)));
    END IF;
    NEW.sent_at := kpictl_now();
    RETURN NEW;
  END IF;

  IF TG_TABLE_NAME IN ('checkin', 'checkin_correction', 'source_run') THEN
    IF TG_OP <> 'INSERT' THEN
      PERFORM kpictl_refuse(format('%s is append-only: only an admin may change or delete '
        'its rows (correct a check-in with `kpictl amend` or `kpictl retract`)', TG_TABLE_NAME));
    END IF;
    IF TG_TABLE_NAME = 'checkin' THEN
      IF NEW.author_id IS NOT NULL AND NEW.author_id <> me THEN
        PERFORM kpictl_refuse(format('you are %s: you may not record a check-in as %s (only an '
          'admin may)', kpictl_handle(me), kpictl_handle(NEW.author_id)));
      END IF;
      NEW.author_id := me;
      NEW.recorded_at := kpictl_now();
    ELSIF TG_TABLE_NAME = 'checkin_correction' THEN
      IF NEW.by_id IS NOT NULL AND NEW.by_id <> me THEN
        PERFORM kpictl_refuse(format('you are %s: you may not correct a check-in as %s (only '
          'an admin may)', kpictl_handle(me), kpictl_handle(NEW.by_id)));
      END IF;
      IF NEW.kpi_id IS DISTINCT FROM (SELECT c.kpi_id FROM checkin c WHERE c.id = NEW.checkin_id) THEN
        PERFORM kpictl_refuse('a correction must name the KPI of the check-in it corrects');
      END IF;
      NEW.by_id := me;
      NEW.recorded_at := kpictl_now();
    ELSE  -- source_run
      NEW.at := kpictl_now();
    END IF;
    IF (SELECT kind FROM kpi WHERE id = NEW.kpi_id) = 'objective' THEN
      PERFORM kpictl_refuse(format('%s is an objective: it takes no check-ins (its KPIs do)',
        (SELECT key FROM kpi WHERE id = NEW.kpi_id)));
    END IF;
    IF NOT kpictl_may_checkin(NEW.kpi_id) THEN
      SELECT key, owner_id INTO k FROM kpi WHERE id = NEW.kpi_id;
      PERFORM kpictl_refuse(format('only %s (the owner of %s), whoever covers for them while '
        'they are away, or an admin may record check-ins on it', kpictl_handle(k.owner_id),
        k.key));
    END IF;
    IF TG_TABLE_NAME <> 'source_run' THEN  -- (a record's fields are looked up eagerly)
      IF NEW.measured_at > kpictl_now() + interval '5 minutes' THEN
        PERFORM kpictl_refuse('a check-in may not be measured in the future (more than 5 '
          'minutes past the server''s clock)');
      END IF;
    END IF;
    RETURN NEW;
  END IF;

  IF TG_TABLE_NAME = 'away' THEN
    IF TG_OP = 'INSERT' THEN
      IF NEW.by_id IS NOT NULL AND NEW.by_id <> me THEN
        PERFORM kpictl_refuse(format('you are %s: you may not record an away window as %s',
          kpictl_handle(me), kpictl_handle(NEW.by_id)));
      END IF;
      NEW.by_id := me;
      NEW.recorded_at := kpictl_now();
    ELSIF TG_OP = 'UPDATE' THEN  -- who recorded the window, and when, stay
      NEW.by_id := OLD.by_id;
      NEW.recorded_at := OLD.recorded_at;
    END IF;
    IF NOT (CASE WHEN TG_OP = 'DELETE' THEN OLD.person_id ELSE NEW.person_id END = me
            OR (lvl = 'manager' AND kpictl_manages(
                  CASE WHEN TG_OP = 'DELETE' THEN OLD.person_id ELSE NEW.person_id END))) THEN
      PERFORM kpictl_refuse(format('only %s, their managers or an admin may set when %1$s is '
        'away', kpictl_handle(CASE WHEN TG_OP = 'DELETE' THEN OLD.person_id ELSE NEW.person_id END)));
    END IF;
    IF TG_OP = 'UPDATE' AND NEW.person_id <> OLD.person_id THEN
      PERFORM kpictl_refuse('an away window stays with its person');
    END IF;
    -- One's own window may not reach into the past (more than a day back: "from today" in
    -- any zone): that would excuse check-ins already missed. A manager of the person (other
    -- than themselves) or an admin may record a window after the fact.
    IF ((CASE WHEN TG_OP = 'DELETE' THEN OLD.person_id ELSE NEW.person_id END) = me
       AND ((TG_OP = 'INSERT' AND NEW.starts < kpictl_now() - interval '1 day')
            OR (TG_OP = 'UPDATE' AND (
                  (NEW.starts IS DISTINCT FROM OLD.starts
                   AND least(NEW.starts, OLD.starts) < kpictl_now() - interval '1 day')
                  OR (NEW.ends IS DISTINCT FROM OLD.ends
                      AND least(NEW.ends, OLD.ends) < kpictl_now() - interval '1 day')
                  OR (NEW.cover_id IS DISTINCT FROM OLD.cover_id
                      AND OLD.starts < kpictl_now() - interval '1 day')))
            OR (TG_OP = 'DELETE' AND OLD.starts < kpictl_now() - interval '1 day'))) THEN
      PERFORM kpictl_refuse(format('you may not set your own away time in the past: a manager '
        'of %s or an admin may', kpictl_handle(me)));
    END IF;
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
  END IF;

  -- Everything else manages KPIs: a manager's work, within their reporting tree.
  IF TG_TABLE_NAME = 'kpi' THEN
    row_kpi := CASE WHEN TG_OP = 'INSERT' THEN NULL ELSE OLD.id END;
  ELSE
    row_kpi := CASE WHEN TG_OP = 'DELETE' THEN OLD.kpi_id ELSE NEW.kpi_id END;
  END IF;
  SELECT key, owner_id INTO k FROM kpi WHERE id = row_kpi;
  IF lvl <> 'manager' THEN
    PERFORM kpictl_refuse(format('only a manager of %s or an admin may %s', CASE WHEN row_kpi
      IS NULL THEN 'its owner' ELSE format('%s (the owner of %s)', kpictl_handle(k.owner_id),
      k.key) END, CASE TG_TABLE_NAME WHEN 'feedback' THEN 'give feedback on it'
      WHEN 'period_target' THEN 'set its targets' ELSE 'assign, change, close or reopen it' END));
  END IF;
  IF TG_OP = 'DELETE' AND TG_TABLE_NAME NOT IN ('kpi_tag', 'milestone') THEN
    PERFORM kpictl_refuse(format('only an admin may delete rows of %s', TG_TABLE_NAME));
  END IF;
  IF row_kpi IS NOT NULL AND NOT kpictl_manages(k.owner_id) THEN
    PERFORM kpictl_refuse(format('only a manager of %s (the owner of %s) or an admin may change '
      'it: %s is not in your reporting tree', kpictl_handle(k.owner_id), k.key,
      kpictl_handle(k.owner_id)));
  END IF;
  IF TG_OP = 'DELETE' THEN
    RETURN OLD;
  END IF;
  IF TG_TABLE_NAME = 'kpi' THEN
    IF NOT kpictl_manages(NEW.owner_id) THEN
      PERFORM kpictl_refuse(format('you may delegate only to people in your reporting tree: %s '
        'is not (an admin may delegate to anyone)', kpictl_handle(NEW.owner_id)));
    END IF;
    IF NEW.delegated_by_id IS DISTINCT FROM (CASE WHEN TG_OP = 'UPDATE' THEN OLD.delegated_by_id END)
       AND NEW.delegated_by_id IS DISTINCT FROM me THEN
      PERFORM kpictl_refuse(format('you are %s: you may not delegate as %s',
        kpictl_handle(me), kpictl_handle(NEW.delegated_by_id)));
    END IF;
    IF TG_OP = 'INSERT' THEN
      NEW.delegated_by_id := me;
      NEW.created_at := kpictl_now();
    ELSE
      NEW.created_at := OLD.created_at;
    END IF;
    NEW.updated_at := kpictl_now();
    -- A KPI does not become an objective, nor an objective a KPI, nor a kind kpictl lacks.
    IF NEW.kind NOT IN ('increase', 'decrease', 'at-least', 'at-most', 'range', 'objective')
       OR (TG_OP = 'UPDATE' AND (NEW.kind = 'objective') <> (OLD.kind = 'objective')) THEN
      PERFORM kpictl_refuse(format('only an admin may make %s of kind %s', NEW.key, NEW.kind));
    END IF;
    -- Linking under an objective, or weighing a link, changes that objective's roll-up: its
    -- owner's manager's decision too.
    IF NEW.parent_id IS NOT NULL
       AND (TG_OP = 'INSERT' OR NEW.parent_id IS DISTINCT FROM OLD.parent_id
            OR NEW.weight IS DISTINCT FROM OLD.weight)
       AND NOT kpictl_manages((SELECT owner_id FROM kpi WHERE id = NEW.parent_id)) THEN
      PERFORM kpictl_refuse(format('only a manager of %s (the owner of %s) or an admin may link '
        'KPIs under it', kpictl_handle((SELECT owner_id FROM kpi WHERE id = NEW.parent_id)),
        (SELECT key FROM kpi WHERE id = NEW.parent_id)));
    END IF;
  ELSIF TG_TABLE_NAME = 'assignment' THEN
    IF TG_OP = 'UPDATE' AND (NEW.kpi_id, NEW.person_id, NEW.assigned_by_id, NEW.valid_from,
        NEW.note, NEW.recorded_at) IS DISTINCT FROM (OLD.kpi_id, OLD.person_id,
        OLD.assigned_by_id, OLD.valid_from, OLD.note, OLD.recorded_at) THEN
      PERFORM kpictl_refuse('the delegation log is append-only: a reassignment only ends the '
        'open row (valid_until)');
    END IF;
    IF TG_OP = 'INSERT' THEN
      IF NOT kpictl_manages(NEW.person_id) THEN
        PERFORM kpictl_refuse(format('you may delegate only to people in your reporting tree: '
          '%s is not (an admin may delegate to anyone)', kpictl_handle(NEW.person_id)));
      END IF;
      IF NEW.assigned_by_id IS NOT NULL AND NEW.assigned_by_id <> me THEN
        PERFORM kpictl_refuse(format('you are %s: you may not delegate as %s',
          kpictl_handle(me), kpictl_handle(NEW.assigned_by_id)));
      END IF;
      NEW.assigned_by_id := me;
      NEW.recorded_at := kpictl_now();
    END IF;
  ELSIF TG_OP = 'UPDATE' THEN
    PERFORM kpictl_refuse(format('%s is append-only: only an admin may change its rows',
      TG_TABLE_NAME));
  ELSIF TG_TABLE_NAME IN ('kpi_change', 'period_target') THEN
    IF NEW.by_id IS NOT NULL AND NEW.by_id <> me THEN
      PERFORM kpictl_refuse(format('you are %s: you may not record a change as %s',
        kpictl_handle(me), kpictl_handle(NEW.by_id)));
    END IF;
    NEW.by_id := me;
    IF TG_TABLE_NAME = 'period_target' THEN
      NEW.recorded_at := kpictl_now();
    ELSE
      NEW.at := kpictl_now();
    END IF;
  ELSIF TG_TABLE_NAME = 'feedback' THEN
    IF NEW.author_id IS NOT NULL AND NEW.author_id <> me THEN
      PERFORM kpictl_refuse(format('you are %s: you may not give feedback as %s',
        kpictl_handle(me), kpictl_handle(NEW.author_id)));
    END IF;
    NEW.author_id := me;
    NEW.at := kpictl_now();
  END IF;
  RETURN NEW;
END
$$;
"""


def _0012():
    """Migration 0012's module (its functions, restored on downgrade)."""
    path = Path(__file__).with_name("0012_access.py")
    spec = importlib.util.spec_from_file_location("kpictl_migration_0012", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _install(bind, functions: str) -> None:
    schema = bind.exec_driver_sql("SELECT quote_ident(current_schema())").scalar()
    # exec_driver_sql hands psycopg a parameter list: format()'s % signs are doubled.
    bind.exec_driver_sql(functions.replace("{schema}", schema).replace("%", "%%"))


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    _install(bind, _FUNCTIONS)
    for table in GUARDED:
        bind.exec_driver_sql(
            f"CREATE TRIGGER kpictl_guard BEFORE INSERT OR UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION kpictl_guard()")


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    for table in GUARDED:
        bind.exec_driver_sql(f"DROP TRIGGER IF EXISTS kpictl_guard ON {table}")
    _install(bind, _0012()._FUNCTIONS)
    bind.exec_driver_sql("DROP FUNCTION IF EXISTS kpictl_above(integer, integer)")
    bind.exec_driver_sql("DROP FUNCTION IF EXISTS kpictl_stale_after()")
    bind.exec_driver_sql("DROP FUNCTION IF EXISTS kpictl_now()")
