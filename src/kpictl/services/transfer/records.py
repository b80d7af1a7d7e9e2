"""The export's record types and the field specs that drive both directions (see the package
docstring): what each record holds, its table, its file form, and how a file is summed up."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from kpictl.domain import OBJECTIVE, Kind, NudgeType, Outcome
from kpictl.models import (
    Assignment,
    Away,
    Checkin,
    CheckinCorrection,
    Feedback,
    Kpi,
    KpiChange,
    NudgeSent,
    PeriodTarget,
    Person,
    PersonChange,
)
from kpictl.services.periods import AGGREGATES, EVERY
from kpictl.textforms import iso

SCHEMA = "kpictl.export/1"
TYPES = ("person", "kpi", "assignment", "change", "checkin", "correction", "feedback",
         "person_change", "away", "nudge", "period_target")
END = "end"  # the type of the trailer record
STATES = ("active", *(o.value for o in Outcome))
BATCH = 5_000  # rows per INSERT … executemany while streaming an import


@dataclass(frozen=True)
class F:
    """One field of a record: its name in the file, its column, and what values it takes."""

    name: str
    column: str | None
    kind: str  # a key of VALUE_CHECKS: text, handle, time, person (a reference), tags, …
    required: bool = True  # False: may be null or left out
    limit: int | None = None  # most characters of a text
    lo: int | None = None  # bounds of an int
    hi: int | None = None
    choices: tuple[str, ...] = ()


FIELDS: dict[str, tuple[F, ...]] = {
    "person": (
        F("handle", "handle", "handle"),
        F("name", "name", "text", limit=200),
        F("email", "email", "text", False, limit=320),
        F("capacity", "capacity", "int", lo=0, hi=1000),
        F("manager", "manager_id", "person", False),
        F("active", "active", "bool"),
        F("created_at", "created_at", "time"),
        F("db_role", "db_role", "db_role", False),
        F("skills", None, "skills", False),
    ),
    "kpi": (
        F("key", "key", "key"),
        F("title", "title", "text", limit=300),
        F("outcome", "outcome", "text", False),
        F("unit", "unit", "text", False, limit=40),
        F("kind", "kind", "choice", choices=(*(k.value for k in Kind), OBJECTIVE)),
        F("baseline", "baseline", "float", False),
        F("target", "target", "float", False),
        F("low", "low", "float", False),
        F("high", "high", "float", False),
        F("start", "start", "time"),
        F("due", "due", "time"),
        F("cadence", "cadence", "cadence"),
        F("grace", "grace", "grace"),
        F("zone", "zone", "zone", False),  # left out by exports before 0003: UTC
        F("owner", "owner_id", "person"),
        F("delegated_by", "delegated_by_id", "person", False),
        F("state", "state", "choice", choices=STATES),
        F("closed_at", "closed_at", "time", False),
        F("close_note", "close_note", "text", False),
        F("created_at", "created_at", "time"),
        F("updated_at", "updated_at", "time"),
        F("tags", None, "tags", False),
        F("milestones", None, "milestones", False),
        # Ongoing KPIs (migration 0009); left out by older exports: a one-off KPI.
        F("every", "every", "choice", False, choices=EVERY),
        F("aggregate", "aggregate", "choice", False, choices=AGGREGATES),
        # Objectives and roll-ups (migration 0010); left out by older exports: no parent,
        # weight 1. A parent may come later in the file (KPIs are in key order).
        F("parent", "parent_id", "kpi", False),
        F("weight", "weight", "float", False),
    ),
    "assignment": (
        F("kpi", "kpi_id", "kpi"),
        F("to", "person_id", "person"),
        F("by", "assigned_by_id", "person", False),
        F("valid_from", "valid_from", "time"),
        F("valid_until", "valid_until", "time", False),
        F("note", "note", "text", False),
        F("recorded_at", "recorded_at", "time"),
    ),
    "change": (
        F("kpi", "kpi_id", "kpi"),
        F("at", "at", "time"),
        F("by", "by_id", "person", False),
        F("field", "field", "text", limit=32),
        F("old", "old_value", "text", False),
        F("new", "new_value", "text", False),
        F("reason", "reason", "text", False),
    ),
    "checkin": (
        F("id", "id", "int", False, lo=1, hi=2**62),
        F("kpi", "kpi_id", "kpi"),
        F("value", "value", "float"),
        F("measured_at", "measured_at", "time"),
        F("recorded_at", "recorded_at", "time"),
        F("by", "author_id", "person", False),
        F("confidence", "confidence", "int", False, lo=0, hi=10),
        F("note", "note", "text", False),
        F("blocker", "blocker", "text", False),
        F("source", "source", "text", limit=120),
        F("key", "idem_key", "text", False, limit=200),
    ),
    "correction": (
        F("kpi", "kpi_id", "kpi"),
        F("checkin", "checkin_id", "int", lo=1, hi=2**62),
        F("kind", "kind", "choice", choices=("amend", "retract")),
        F("at", "recorded_at", "time"),
        F("by", "by_id", "person", False),
        F("reason", "reason", "text"),
        F("value", "value", "float"),
        F("measured_at", "measured_at", "time"),
        F("confidence", "confidence", "int", False, lo=0, hi=10),
        F("note", "note", "text", False),
        F("blocker", "blocker", "text", False),
    ),
    "feedback": (
        F("kpi", "kpi_id", "kpi"),
        F("by", "author_id", "person", False),
        F("at", "at", "time"),
        F("text", "text", "text"),
    ),
    "person_change": (
        F("person", "person_id", "person"),
        F("at", "at", "time"),
        F("by", "by_id", "person", False),
        F("field", "field", "text", limit=32),
        F("old", "old_value", "text", False),
        F("new", "new_value", "text", False),
    ),
    "away": (
        F("person", "person_id", "person"),
        F("starts", "starts", "time"),
        F("ends", "ends", "time"),
        F("cover", "cover_id", "person", False),
        F("by", "by_id", "person", False),
        F("recorded_at", "recorded_at", "time"),
    ),
    "nudge": (  # the log of nudges sent, so an imported database does not send them again
        F("to", "recipient_id", "person"),
        F("nudge", "type", "choice", choices=tuple(t.value for t in NudgeType)),
        F("kpi", "kpi_id", "kpi"),
        F("slot", "slot", "text", limit=64),
        F("level", "level", "int", lo=0, hi=1000),
        F("sent_at", "sent_at", "time"),
    ),
    "period_target": (  # an ongoing KPI's per-period targets, as recorded (append-only)
        F("kpi", "kpi_id", "kpi"),
        F("period", "period", "text", limit=16),
        F("target", "target", "float", False),
        F("low", "low", "float", False),
        F("high", "high", "float", False),
        F("by", "by_id", "person", False),
        F("recorded_at", "recorded_at", "time"),
    ),
}
TABLES = {"person": Person, "kpi": Kpi, "assignment": Assignment, "change": KpiChange,
          "checkin": Checkin, "correction": CheckinCorrection, "feedback": Feedback,
          "person_change": PersonChange, "away": Away, "nudge": NudgeSent,
          "period_target": PeriodTarget}
#: History tables in file order: by their own time, then by id (see the module docstring).
HISTORY_ORDER = {"assignment": "valid_from", "change": "at", "checkin": "measured_at",
                 "correction": "recorded_at", "feedback": "at", "person_change": "at",
                 "away": "starts", "nudge": "sent_at", "period_target": "recorded_at"}




def record(type_: str, values: dict) -> dict:
    """The canonical record for ``values`` (datetimes, floats and lists in their file form)."""
    out: dict = {"type": type_}
    for f in FIELDS[type_]:
        value = values.get(f.name)
        if f.kind == "time":
            value = iso(value)
        elif f.kind == "float" and value is not None:
            value = float(value)
        elif f.kind == "skills":
            value = [{"skill": s, "level": lv} for s, lv in sorted(value or ())]
        elif f.kind == "tags":
            value = sorted(value or ())
        elif f.kind == "milestones":
            value = [{"at": iso(at), "value": float(v)} for at, v in sorted(value or ())]
        out[f.name] = value
    return out


_ONLY_IF_ANY = ("away", "nudge", "period_target")  # named in the summary only when the file has some


def describe_counts(counts: Counter) -> str:
    """``8 people, 20 KPIs, 23 assignments, … and 5 feedback notes``."""
    words = {"person": ("person", "people"), "kpi": ("KPI", "KPIs"),
             "assignment": ("assignment", "assignments"), "change": ("change", "changes"),
             "checkin": ("check-in", "check-ins"), "correction": ("correction", "corrections"),
             "feedback": ("feedback note", "feedback notes"),
             "person_change": ("person change", "person changes"),
             "away": ("away window", "away windows"), "nudge": ("nudge sent", "nudges sent"),
             "period_target": ("period target", "period targets")}
    parts = [f"{counts[t]} {words[t][counts[t] != 1]}" for t in TYPES
             if counts[t] or t not in _ONLY_IF_ANY]
    return ", ".join(parts[:-1]) + " and " + parts[-1]


