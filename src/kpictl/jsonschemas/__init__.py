"""The JSON Schemas (draft 2020-12) of the documents kpictl prints: the contract of PRODUCT §4.

One file per document (``report.json`` describes ``kpictl.report/1``). Definitions that several
documents share — a KPI row, a person, the date-time and enum vocabularies — live once in
``_defs.json``; :func:`load` copies into a document's ``$defs`` only the definitions it refers
to, so every schema it returns stands alone (a user can save it and validate with any tool).

Stdlib only: ``kpictl schema`` must stay as cheap as ``--help``.
"""

from __future__ import annotations

import json
import re
from importlib import resources
from typing import Any

_SHARED = "_defs"
_REF = re.compile(r"^#/\$defs/([^/]+)$")


def _read(stem: str) -> dict[str, Any]:
    text = resources.files(__name__).joinpath(f"{stem}.json").read_text(encoding="utf-8")
    return json.loads(text)


def names() -> list[str]:
    """The documents that have a schema, sorted: ``["kpi", "people", …]``."""
    return sorted(
        entry.name.removesuffix(".json")
        for entry in resources.files(__name__).iterdir()
        if entry.name.endswith(".json") and not entry.name.startswith("_")
    )


def _refs(node: Any) -> set[str]:
    """Names of the local ``#/$defs/NAME`` references anywhere inside ``node``."""
    found: set[str] = set()
    if isinstance(node, dict):
        match = _REF.match(node["$ref"]) if isinstance(node.get("$ref"), str) else None
        if match:
            found.add(match.group(1))
        for value in node.values():
            found |= _refs(value)
    elif isinstance(node, list):
        for value in node:
            found |= _refs(value)
    return found


def load(name: str) -> dict[str, Any]:
    """The self-contained JSON Schema of document ``name`` (a fresh dict on every call).

    Raises :class:`kpictl.errors.NotFound` for a name that is not in :func:`names`.
    """
    available = names()
    if name not in available:
        from kpictl.errors import NotFound, did_you_mean

        hint = did_you_mean(name, available)
        choices = ("; c" if not hint else f"{hint} C") + "hoose one of " + ", ".join(available)
        raise NotFound(f"no schema '{name}'{choices}")
    schema = _read(name)
    shared = _read(_SHARED)["$defs"]
    defs: dict[str, Any] = dict(schema.get("$defs", {}))
    pending = _refs(schema) - defs.keys()
    while pending:
        ref = pending.pop()
        if ref not in shared:
            raise KeyError(f"{name}.json refers to an undefined '#/$defs/{ref}'")
        defs[ref] = shared[ref]
        pending |= _refs(shared[ref]) - defs.keys()
    if defs:
        schema["$defs"] = dict(sorted(defs.items()))
    return schema
