"""who may do what on a shared server: person.db_role, and on PostgreSQL the server's rules

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 07:00:00

Every backend gets ``person.db_role`` (the PostgreSQL role that *is* the person; filled with
the handle for existing people). On PostgreSQL the migration also installs the rules the server
enforces whoever connects, kpictl or psql (README "Shared servers"):

* ``kpictl_level()`` — ``admin`` for a superuser or a member of the role that owns the tables
  (whoever created the schema), else the highest of this database's group roles the connected
  role belongs to (``kpictl_group('member' | 'manager' | 'admin')``, names derived from the
  database's name, so databases on one cluster never share grants), else NULL;
  ``kpictl_me()`` — the person whose ``db_role`` is ``current_user``.
* Every function pins its search_path with ``pg_temp`` last: a role may create temporary
  tables, and one named ``kpi`` or ``person`` must not stand in for the real one.
* one trigger function, ``kpictl_guard()``, BEFORE INSERT/UPDATE/DELETE on every table a
  non-admin may write: it refuses (SQLSTATE 42501, a message naming who may do it) what the
  role may not do, and sets the author and recorded-at columns itself. Admins pass unchanged
  (imports keep their authors and times).
* The table privileges (append-only history: no UPDATE/DELETE but for admins) are granted to
  the group roles by ``kpictl.services.access`` when the groups are created (`db upgrade`,
  `db grant`), not here: the migration runner need not be allowed to create roles.

On SQLite (single-user: the file's permissions are the rule) only the column is added.
"""

from alembic import op
import sqlalchemy as sa


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

#: Tables whose rows kpictl_guard() checks for non-admins.
GUARDED = ("kpi", "kpi_tag", "milestone", "assignment", "kpi_change", "checkin",
           "checkin_correction", "feedback", "period_target", "away", "source_run")

_FUNCTIONS = r"""
CREATE OR REPLACE FUNCTION kpictl_group(level text) RETURNS text
LANGUAGE sql STABLE SET search_path = pg_catalog AS $$
  SELECT CASE WHEN octet_length('kpictl_' || level || '_' || current_database()) <= 63
              THEN 'kpictl_' || level || '_' || current_database()
              ELSE 'kpictl_' || level || '_' || left(md5(current_database()), 16) END
$$;

CREATE OR REPLACE FUNCTION kpictl_level() RETURNS text
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, {schema}, pg_temp AS $$
DECLARE
  lvl text;
  grp text;
BEGIN
  IF pg_has_role(current_user, (SELECT relowner FROM pg_class WHERE oid = '{schema}.kpi'::regclass),
                 'MEMBER')
     OR EXISTS (SELECT 1 FROM pg_roles WHERE rolname = current_user AND rolsuper) THEN
    RETURN 'admin';
  END IF;
  FOREACH lvl IN ARRAY ARRAY['admin', 'manager', 'member'] LOOP
    grp := kpictl_group(lvl);
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = grp)
       AND pg_has_role(current_user, grp, 'MEMBER') THEN
      RETURN lvl;
    END IF;
  END LOOP;
  RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION kpictl_me() RETURNS integer
LANGUAGE sql STABLE SET search_path = pg_catalog, {schema}, pg_temp AS $$
  SELECT id FROM person WHERE db_role = current_user
$$;

CREATE OR REPLACE FUNCTION kpictl_handle(person_id integer) RETURNS text
LANGUAGE sql STABLE SET search_path = pg_catalog, {schema}, pg_temp AS $$
  SELECT coalesce((SELECT handle FROM person WHERE id = person_id), 'nobody')
$$;

-- The connected person and everyone below them in the reporting tree (person.manager).
CREATE OR REPLACE FUNCTION kpictl_manages(person_id integer) RETURNS boolean
LANGUAGE sql STABLE SET search_path = pg_catalog, {schema}, pg_temp AS $$
  WITH RECURSIVE tree(id) AS (
    SELECT kpictl_me()
    UNION
    SELECT p.id FROM person p JOIN tree t ON p.manager_id = t.id
  )
  SELECT EXISTS (SELECT 1 FROM tree WHERE id = person_id)
$$;

-- The KPI's owner, or whoever covers for them while they are away (the window's cover,
-- else the owner's manager: the same person `kpictl nudge` writes to).
CREATE OR REPLACE FUNCTION kpictl_may_checkin(kpi_id integer) RETURNS boolean
LANGUAGE sql STABLE SET search_path = pg_catalog, {schema}, pg_temp AS $$
  SELECT EXISTS (
    SELECT 1 FROM kpi k
    WHERE k.id = kpi_id
      AND (k.owner_id = kpictl_me()
           OR EXISTS (SELECT 1 FROM away a JOIN person o ON o.id = a.person_id
                      WHERE a.person_id = k.owner_id AND now() BETWEEN a.starts AND a.ends
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
  row_kpi integer;
BEGIN
  IF lvl = 'admin' THEN
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
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
      NEW.recorded_at := now();
    ELSIF TG_TABLE_NAME = 'checkin_correction' THEN
      IF NEW.by_id IS NOT NULL AND NEW.by_id <> me THEN
        PERFORM kpictl_refuse(format('you are %s: you may not correct a check-in as %s (only '
          'an admin may)', kpictl_handle(me), kpictl_handle(NEW.by_id)));
      END IF;
      IF NEW.kpi_id IS DISTINCT FROM (SELECT c.kpi_id FROM checkin c WHERE c.id = NEW.checkin_id) THEN
        PERFORM kpictl_refuse('a correction must name the KPI of the check-in it corrects');
      END IF;
      NEW.by_id := me;
      NEW.recorded_at := now();
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
    RETURN NEW;
  END IF;

  IF TG_TABLE_NAME = 'away' THEN
    IF TG_OP = 'INSERT' THEN
      IF NEW.by_id IS NOT NULL AND NEW.by_id <> me THEN
        PERFORM kpictl_refuse(format('you are %s: you may not record an away window as %s',
          kpictl_handle(me), kpictl_handle(NEW.by_id)));
      END IF;
      NEW.by_id := me;
      NEW.recorded_at := now();
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
    END IF;
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
      NEW.recorded_at := now();
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
      NEW.recorded_at := now();
    END IF;
  ELSIF TG_TABLE_NAME = 'feedback' THEN
    IF NEW.author_id IS NOT NULL AND NEW.author_id <> me THEN
      PERFORM kpictl_refuse(format('you are %s: you may not give feedback as %s',
        kpictl_handle(me), kpictl_handle(NEW.author_id)));
    END IF;
    NEW.author_id := me;
    NEW.at := now();
  END IF;
  RETURN NEW;
END
$$;
"""


def upgrade() -> None:
    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.add_column(sa.Column('db_role', sa.String(length=63), nullable=True))
        batch_op.create_index('ix_person_db_role', ['db_role'], unique=True)
    op.execute("UPDATE person SET db_role = handle")
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    schema = bind.exec_driver_sql("SELECT quote_ident(current_schema())").scalar()
    # exec_driver_sql hands psycopg a parameter list: format()'s % signs are doubled.
    bind.exec_driver_sql(_FUNCTIONS.replace("{schema}", schema).replace("%", "%%"))
    for table in GUARDED:
        bind.exec_driver_sql(
            f"CREATE TRIGGER kpictl_guard BEFORE INSERT OR UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION kpictl_guard()")


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        for table in GUARDED:
            bind.exec_driver_sql(f"DROP TRIGGER IF EXISTS kpictl_guard ON {table}")
        for name in ("kpictl_guard()", "kpictl_refuse(text)", "kpictl_may_checkin(integer)",
                     "kpictl_manages(integer)", "kpictl_handle(integer)", "kpictl_me()",
                     "kpictl_level()", "kpictl_group(text)"):
            bind.exec_driver_sql(f"DROP FUNCTION IF EXISTS {name}")
    op.drop_index('ix_person_db_role', table_name='person')
    # In place on SQLite too: a batch copy of ``person`` is refused by the foreign keys that
    # point at it (as in 0010).
    op.execute('ALTER TABLE person DROP COLUMN db_role')
