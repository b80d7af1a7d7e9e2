"""Live values for shell completion: KPI keys, people's handles, tags.

Completion runs on every <TAB>, so it must feel instant: on SQLite it reads the file with the
standard library's ``sqlite3`` (read-only, no SQLAlchemy, no migrations); on PostgreSQL it
goes through the normal engine. Any failure completes nothing rather than printing an error
into the user's shell.
"""

from __future__ import annotations

import os

import typer

_QUERIES = {
    "key": "SELECT key FROM kpi WHERE key LIKE ? ESCAPE '\\' ORDER BY key LIMIT 200",
    "active_key": "SELECT key FROM kpi WHERE state = 'active' AND key LIKE ? ESCAPE '\\' "
                  "ORDER BY key LIMIT 200",
    "checkin_key": "SELECT key FROM kpi WHERE state = 'active' AND kind != 'objective' "
                   "AND key LIKE ? ESCAPE '\\' ORDER BY key LIMIT 200",
    "objective_key": "SELECT key FROM kpi WHERE kind = 'objective' AND state = 'active' "
                     "AND key LIKE ? ESCAPE '\\' ORDER BY key LIMIT 200",
    "handle": "SELECT handle FROM person WHERE active AND handle LIKE ? ESCAPE '\\' "
              "ORDER BY handle LIMIT 200",
    "tag": "SELECT DISTINCT tag FROM kpi_tag WHERE tag LIKE ? ESCAPE '\\' ORDER BY tag "
           "LIMIT 200",
    "skill": "SELECT DISTINCT skill FROM person_skill WHERE skill LIKE ? ESCAPE '\\' "
             "ORDER BY skill LIMIT 200",
}


def _target(ctx: typer.Context | None) -> str | None:
    root = ctx.find_root() if ctx is not None else None
    given = root.params.get("db_target") if root is not None else None
    return given or os.environ.get("KPICTL_DB")


def _values(ctx, what: str, incomplete: str) -> list[str]:
    pattern = incomplete.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    pattern += "%"
    target = _target(ctx)
    try:
        if target and "://" in target:
            import sqlalchemy as sa

            from kpictl.db import open_database

            db = open_database(target, migrate=False)
            with db.engine.connect() as conn:
                rows = conn.execute(sa.text(_QUERIES[what].replace("?", ":p")), {"p": pattern})
                return [r[0] for r in rows]
        import sqlite3

        if target is None:
            from platformdirs import user_data_path

            target = str(user_data_path("kpictl", appauthor=False) / "kpictl.db")
        if not os.path.exists(target):
            return []
        conn = sqlite3.connect(f"file:{target}?mode=ro", uri=True, timeout=1)
        try:
            return [r[0] for r in conn.execute(_QUERIES[what], (pattern,))]
        finally:
            conn.close()
    except Exception:  # noqa: BLE001 - never break the user's shell
        return []


def kpi_keys(ctx: typer.Context, incomplete: str) -> list[str]:
    return _values(ctx, "key", incomplete)


def active_kpi_keys(ctx: typer.Context, incomplete: str) -> list[str]:
    return _values(ctx, "active_key", incomplete)


def checkin_keys(ctx: typer.Context, incomplete: str) -> list[str]:
    """`checkin KEY`: open KPIs, not objectives (their progress is their children's)."""
    return _values(ctx, "checkin_key", incomplete)


def objective_keys(ctx: typer.Context, incomplete: str) -> list[str]:
    """`--parent`: only objectives can have children."""
    return _values(ctx, "objective_key", incomplete)


def handles(ctx: typer.Context, incomplete: str) -> list[str]:
    return _values(ctx, "handle", incomplete)


def tags(ctx: typer.Context, incomplete: str) -> list[str]:
    return _values(ctx, "tag", incomplete)


def skills(ctx: typer.Context, incomplete: str) -> list[str]:
    return _values(ctx, "skill", incomplete)


# Fixed vocabularies (no database): the domain enums are cheap to import.

def _one_of(words, incomplete: str) -> list[str]:
    return [w for w in words if w.startswith(incomplete.lower())]


def _listed(words, incomplete: str) -> list[str]:
    """Complete the last item of a comma-separated list (``--fail-on overdue,st``)."""
    done, _, last = incomplete.rpartition(",")
    chosen = set(done.split(",")) if done else set()
    prefix = f"{done}," if done else ""
    return [prefix + w for w in words if w.startswith(last.lower()) and w not in chosen]


def statuses(ctx: typer.Context, incomplete: str) -> list[str]:
    from kpictl.domain import Status

    return _listed([str(s) for s in Status], incomplete)


def statuses_and_flags(ctx: typer.Context, incomplete: str) -> list[str]:
    from kpictl.domain import Flag, Status

    return _listed([str(s) for s in Status] + [str(f) for f in Flag], incomplete)


CADENCES = ("daily", "weekly", "biweekly", "monthly", "quarterly")


def cadences(ctx: typer.Context, incomplete: str) -> list[str]:
    return _one_of(CADENCES, incomplete)


def input_formats(ctx: typer.Context, incomplete: str) -> list[str]:
    return _one_of(("csv", "jsonl"), incomplete)


def weights(ctx: typer.Context, incomplete: str) -> list[str]:
    return _one_of(("track=", "skill=", "capacity=", "reliability="), incomplete)


def schema_names(ctx: typer.Context, incomplete: str) -> list[str]:
    from kpictl import jsonschemas

    return _one_of(jsonschemas.names(), incomplete)
