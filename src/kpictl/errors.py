"""One route for every failure a user can cause or meet.

Services raise a :class:`KpictlError` subclass with a sentence the user can act on; the CLI
prints it as one line on stderr and exits with the class's ``exit_code``. Each class also has a
stable ``code`` for machine-readable error output.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class KpictlError(Exception):
    """Base class: a failure with a user-facing message and a documented exit code."""

    exit_code = 1
    code = "error"

    def __init__(self, message: str, *, details: list[str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        #: Lines printed before the message, e.g. every bad row of a file with its line number.
        self.details = details or []

    def __str__(self) -> str:
        return self.message


class RuntimeFailure(KpictlError):
    """The database is unreachable, corrupt, or something outside the user's input failed."""

    exit_code = 1
    code = "runtime"


class InvalidInput(KpictlError):
    """Usage error or invalid input: a bad number, date, handle, option combination."""

    exit_code = 2
    code = "invalid_input"


class NotFound(KpictlError):
    """A KPI key or person handle that does not exist."""

    exit_code = 3
    code = "not_found"


class Conflict(KpictlError):
    """A duplicate key or handle, or a write to a closed KPI."""

    exit_code = 4
    code = "conflict"


class FailOnMatched(KpictlError):
    """``report --fail-on`` matched at least one KPI (the report itself was printed)."""

    exit_code = 5
    code = "fail_on"


class NotAllowed(KpictlError):
    """A shared server refused this person the action (PRODUCT §4, exit 6)."""

    exit_code = 6
    code = "not_allowed"


#: Who may write what, for the server's bare "permission denied for table X" (the triggers'
#: own refusals already name who may do it).
_WHO_MAY = {
    **dict.fromkeys(("person", "person_skill", "person_change", "alembic_version"),
                    "only an admin may change people, grants or the schema"),
    **dict.fromkeys(("kpi", "kpi_tag", "milestone", "assignment", "kpi_change", "feedback",
                     "period_target"),
                    "only a manager (for KPIs owned in their reporting tree) or an admin may "
                    "assign, change, close, reopen or give feedback"),
    **dict.fromkeys(("checkin", "checkin_correction", "source_run"),
                    "history is append-only: only an admin may change or delete it"),
}


def refused(detail: str) -> NotAllowed:
    """The server's refusal (SQLSTATE 42501, a row-level rule or a missing privilege) as one
    line that says who may do it."""
    import re

    detail = detail.strip()
    table = re.search(r"permission denied for (?:table|relation) (\S+)", detail)
    if table:
        who = _WHO_MAY.get(table.group(1).strip('"'), "ask an admin (see `kpictl whoami`)")
        detail = f"{detail}: {who}"
    elif re.search(r'admin option on role "kpictl_admin_', detail):
        detail = (f"{detail}: granting or revoking admin takes the owner of the database's "
                  "tables or a role with CREATEROLE")
    elif re.search(r"(?i)admin option|permission denied to grant|to grant role|"
                   r"permission denied to revoke", detail):
        detail = f"{detail}: only an admin may grant or revoke access (`kpictl db grant`)"
    elif detail.startswith("permission denied for schema"):
        detail = (f"{detail}: creating or upgrading the schema takes the owner of the "
                  "database's tables (`kpictl db upgrade`)")
    elif detail.startswith("permission denied"):
        detail = f"{detail}: ask an admin (see `kpictl whoami`)"
    return NotAllowed(f"not allowed: {detail}")


def did_you_mean(word: str, candidates: Iterable[str]) -> str:
    """Return ``"; did you mean 'x'?"`` for the closest candidate, or ``""`` if none is close."""
    matches = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    return f"; did you mean '{matches[0]}'?" if matches else ""
