"""What an export's records must satisfy, one line at a time (types, fields, references to
earlier records, the export's order) and across the file (managers, check-ins measured before
their KPI's start unless corrected)."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from kpictl.services.transfer.records import END, FIELDS, TYPES, F
from kpictl.services.transfer.values import (
    VALUE_CHECKS,
    Bad,
    Consequence,
    json_reason,
    loads,
    show,
)
from kpictl.textforms import iso


class Checker:
    """Validates records one line at a time and remembers what later lines may refer to."""

    def __init__(self) -> None:
        self.errors: list[str] = []
        self.unreadable = False  # a line whose person or KPI could not even be identified
        self.rank = 0  # index in TYPES of the latest valid record: the file keeps TYPES order
        self.handles: set[str] = set()
        self.managers: dict[str, tuple[int, str]] = {}
        self.roles: dict[str, str] = {}  # db_role → handle
        self.keys: set[str] = set()
        self.open_assignment: set[str] = set()
        self.idem_keys: dict[str, set[str]] = defaultdict(set)
        self.starts: dict[str, datetime] = {}  # each KPI's start as the file ends
        self.start_changes: dict[str, list] = defaultdict(list)  # (at, start before), by at
        self.checkins: dict[int, str] = {}  # id → KPI key
        self.with_ids: bool | None = None  # whether check-in records carry ids
        self.early: dict[int, tuple[int, str]] = {}  # measured before the start: id → line
        self.nudges: set[tuple] = set()  # (to, nudge, kpi, slot, level): each sent once
        self.objectives: set[str] = set()  # KPI keys of kind objective
        self.parents: dict[str, tuple[int, str]] = {}  # key → (line, parent key)

    def check(self, n: int, line: str) -> tuple[str, dict] | None:
        try:
            return self._check(line.rstrip("\r\n"), n)
        except Consequence:
            return None
        except Bad as exc:
            self.errors.append(f"line {n}: {exc}")
            return None

    def _check(self, line: str, n: int) -> tuple[str, dict]:
        try:
            document = loads(line)
        except ValueError as exc:
            self.unreadable = True
            raise Bad(f"not valid JSON ({json_reason(exc)})") from None
        if not isinstance(document, dict):
            self.unreadable = True
            raise Bad("expected a JSON object")
        type_ = document.get("type")
        if type_ == END:
            return END, self._end(document)
        if type_ not in FIELDS:
            self.unreadable = True
            if "schema" in document and type_ is None:
                raise Bad("a second header; is this two exports joined together?")
            raise Bad(f"unknown type {show(type_)}; use one of {', '.join(TYPES)}"
                       if type_ is not None else "no \"type\"")
        # A person or KPI is known to later lines even when its record is invalid, so that
        # one bad line is reported once, not once more for every line that refers to it.
        names = {"person": self.handles, "kpi": self.keys}.get(type_)
        name = document.get("handle" if type_ == "person" else "key")
        if names is not None and isinstance(name, str) and name in names:
            raise Bad(f"{'person' if type_ == 'person' else 'KPI'} {show(name)} appears twice")
        try:
            if TYPES.index(type_) < self.rank:
                raise Bad(f"a {type_} record after {TYPES[self.rank]} records; records "
                           f"follow the export order {', '.join(TYPES)}")
            fields = FIELDS[type_]
            unknown = sorted(set(document) - {"type"} - {f.name for f in fields})
            if unknown:
                raise Bad(f"unknown field {show(unknown[0])} in a {type_} record")
            values = {f.name: self._field(f, document, type_) for f in fields}
            if type_ == "person" and "db_role" not in document:
                # An export from before shared servers: the role named like the handle, as
                # migration 0012 links existing people.
                values["db_role"] = values["handle"] if len(values["handle"]) < 64 else None
            getattr(self, f"_{type_}")(values, n)
        finally:
            if names is not None:
                if isinstance(name, str):
                    names.add(name)
                else:
                    self.unreadable = True
        self.rank = TYPES.index(type_)
        return type_, values

    def _end(self, document: dict) -> dict:
        counts = document.get("counts")
        if set(document) != {"type", "counts"} or not isinstance(counts, dict) or any(
                t not in TYPES or isinstance(c, bool) or not isinstance(c, int) or c < 0
                for t, c in counts.items()):
            raise Bad("an end record is {\"type\": \"end\", \"counts\": {TYPE: N, …}}")
        return counts

    def _field(self, f: F, document: dict, type_: str):
        value = document.get(f.name)
        if value is None:
            if f.required:
                raise Bad(f"{type_} record without \"{f.name}\"" if f.name not in document
                           else f"\"{f.name}\" is null in a {type_} record")
            return [] if f.kind in ("skills", "tags", "milestones") else None
        try:
            return VALUE_CHECKS[f.kind](f, value)
        except Bad as exc:
            raise Bad(f"\"{f.name}\" {exc}") from None

    def _person(self, v: dict, n: int) -> None:
        role = v["db_role"]
        if role is not None:
            if role in self.roles:
                raise Bad(f"\"db_role\" {show(role)} is also {self.roles[role]}'s: one role "
                          "is one person")
            self.roles[role] = v["handle"]
        if v["manager"] is not None:
            self.managers[v["handle"]] = (n, v["manager"])

    def _kpi(self, v: dict, n: int) -> None:
        key = v["key"]
        if v.get("zone") is None:
            v["zone"] = "UTC"
        self._people(v, "owner", "delegated_by")
        if v["due"] <= v["start"]:
            raise Bad(f"KPI {key}: \"due\" is not after \"start\"")
        kind, b, t, low, high = (v[k] for k in ("kind", "baseline", "target", "low", "high"))
        if kind in ("increase", "decrease"):
            if b is None or t is None:
                raise Bad(f"KPI {key}: a {kind} KPI needs \"baseline\" and \"target\"")
            if b == t:
                raise Bad(f"KPI {key}: \"target\" equals \"baseline\"")
        elif kind in ("at-least", "at-most") and t is None:
            raise Bad(f"KPI {key}: an {kind} KPI needs \"target\"")
        elif kind == "range" and (low is None or high is None or low >= high or t is not None):
            raise Bad(f"KPI {key}: a range KPI needs \"low\" below \"high\" and no \"target\"")
        if (v["every"] is None) != (v["aggregate"] is None):
            raise Bad(f"KPI {key}: \"every\" and \"aggregate\" are set together (ongoing) "
                       "or not at all")
        if (v["state"] == "active") != (v["closed_at"] is None):
            raise Bad(f"KPI {key}: \"closed_at\" must be set exactly when \"state\" is closed")
        if kind == "objective":
            if any(v[k] is not None for k in ("baseline", "target", "low", "high", "every")):
                raise Bad(f"KPI {key}: an objective has no \"baseline\", \"target\", "
                           "\"low\", \"high\" or \"every\" of its own")
            self.objectives.add(key)
        if v["weight"] is None:
            v["weight"] = 1.0
        elif not v["weight"] > 0:
            raise Bad(f"KPI {key}: \"weight\" must be above 0")
        if v["parent"] is not None:
            self.parents[key] = (n, v["parent"])
        self.starts[key] = v["start"]

    def _assignment(self, v: dict, n: int) -> None:
        self._kpi_ref(v)
        self._people(v, "to", "by")
        if v["valid_until"] is None:
            if v["kpi"] in self.open_assignment:
                raise Bad(f"a second open assignment (no \"valid_until\") of KPI {v['kpi']}")
            self.open_assignment.add(v["kpi"])
        elif v["valid_until"] < v["valid_from"]:
            raise Bad("\"valid_until\" is before \"valid_from\"")

    def _change(self, v: dict, n: int) -> None:
        self._kpi_ref(v)
        self._people(v, "by")
        if v["field"] == "start" and v["old"]:
            try:
                before = datetime.fromisoformat(v["old"].replace("Z", "+00:00"))
            except ValueError:
                raise Bad(f"\"old\" {show(v['old'])} is not a start time") from None
            self.start_changes[v["kpi"]].append((v["at"], before))

    def _start_at(self, key: str, instant: datetime) -> datetime | None:
        """The KPI's start as it was at ``instant`` (the change log undone after it)."""
        for at, before in self.start_changes.get(key, ()):
            if at > instant:
                return before
        return self.starts.get(key)

    def _before_start(self, key: str, measured: datetime, recorded: datetime) -> str | None:
        start = self._start_at(key, recorded)
        if start is not None and measured < start:
            return (f"measured {iso(measured)}, before the start of KPI {key} "
                    f"({iso(start)}) when it was recorded")
        return None

    def _checkin(self, v: dict, n: int) -> None:
        self._kpi_ref(v)
        if v["kpi"] in self.objectives:
            raise Bad(f"KPI {v['kpi']} is an objective: it takes no check-ins")
        self._people(v, "by")
        has_id = v["id"] is not None
        if self.with_ids is None:
            self.with_ids = has_id
        elif self.with_ids != has_id:
            raise Bad("some check-in records have an \"id\" and some do not")
        if has_id:
            if v["id"] in self.checkins:
                raise Bad(f"check-in id {v['id']} appears twice")
            self.checkins[v["id"]] = v["kpi"]
        early = self._before_start(v["kpi"], v["measured_at"], v["recorded_at"])
        if early:
            if not has_id:
                raise Bad(f"a check-in {early}")
            self.early[v["id"]] = (n, early)  # unless a correction below puts it right
        if v["key"] is not None:
            seen = self.idem_keys[v["kpi"]]
            if v["key"] in seen:
                raise Bad(f"check-in key {show(v['key'])} is used twice on KPI {v['kpi']}")
            seen.add(v["key"])

    def _correction(self, v: dict, n: int) -> None:
        self._kpi_ref(v)
        self._people(v, "by")
        if self.checkins.get(v["checkin"]) != v["kpi"]:
            raise Bad(f"\"checkin\" {v['checkin']} is not a check-in of KPI {v['kpi']} in "
                       "this file")
        if v["kind"] == "retract":
            self.early.pop(v["checkin"], None)
            return
        early = self._before_start(v["kpi"], v["measured_at"], v["at"])
        if early:
            raise Bad(f"a correction {early}")
        self.early.pop(v["checkin"], None)

    def _person_change(self, v: dict, n: int) -> None:
        self._people(v, "person", "by")

    def finish(self) -> None:
        """Checks that needed the whole file: check-ins measured before their KPI's start
        (refused, unless corrected or retracted)."""
        for n, reason in sorted(self.early.values()):
            self.errors.append(f"line {n}: a check-in {reason}")

    def _feedback(self, v: dict, n: int) -> None:
        self._kpi_ref(v)
        self._people(v, "by")

    def _away(self, v: dict, n: int) -> None:
        self._people(v, "person", "cover", "by")
        if v["ends"] < v["starts"]:
            raise Bad("\"ends\" is before \"starts\"")

    def _nudge(self, v: dict, n: int) -> None:
        self._kpi_ref(v)
        self._people(v, "to")
        identity = (v["to"], v["nudge"], v["kpi"], v["slot"], v["level"])
        if identity in self.nudges:
            raise Bad("the same nudge is recorded twice")
        self.nudges.add(identity)

    def _period_target(self, v: dict, n: int) -> None:
        self._kpi_ref(v)
        self._people(v, "by")

    def _close_kpis(self) -> None:
        for key, (n, parent) in self.parents.items():
            if parent not in self.objectives:
                if parent in self.keys:
                    self.errors.append(f"line {n}: \"parent\" {show(parent)} is not an "
                                       "objective")
                elif not self.unreadable:
                    self.errors.append(f"line {n}: \"parent\" {show(parent)} is not a KPI of "
                                       "this file")
                continue
            seen, up = {key}, parent
            while up is not None and up not in seen:
                seen.add(up)
                up = self.parents.get(up, (0, None))[1]
            if up == key:
                self.errors.append(f"line {n}: {key} sits under itself (a loop of parents)")

    def _kpi_ref(self, v: dict) -> None:
        if v["kpi"] not in self.keys:
            if self.unreadable:
                raise Consequence
            raise Bad(f"\"kpi\" {show(v['kpi'])} is not a KPI of this file")

    def _people(self, v: dict, *names: str) -> None:
        for name in names:
            if v[name] is not None and v[name] not in self.handles:
                if self.unreadable:
                    raise Consequence
                raise Bad(f"\"{name}\" {show(v[name])} is not a person of this file")

    def close(self, type_: str) -> None:
        """Checks that need the whole section: managers exist, and no one manages themself;
        parents are objectives of the file, and no objective sits under itself."""
        if type_ == "kpi":
            self._close_kpis()
        if type_ != "person":
            return
        for handle, (n, manager) in self.managers.items():
            if manager not in self.handles:
                if self.unreadable:
                    continue
                self.errors.append(f"line {n}: \"manager\" {show(manager)} is not a person "
                                   "of this file")
                continue
            seen, boss = {handle}, manager
            while boss is not None and boss not in seen:
                seen.add(boss)
                boss = self.managers.get(boss, (0, None))[1]
            if boss == handle:
                self.errors.append(f"line {n}: {handle} is their own (indirect) manager")


# Value checks by field kind: return the Python value or raise Bad with the reason.
