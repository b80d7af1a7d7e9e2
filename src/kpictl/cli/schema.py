"""`kpictl schema`: the JSON Schema of each document kpictl prints (PRODUCT §4)."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from kpictl.cli import complete


def schema(
    name: Annotated[
        str | None,
        typer.Argument(metavar="NAME", help="Document name, e.g. report; omit to list them.",
                       autocompletion=complete.schema_names),
    ] = None,
) -> None:
    """Print the JSON Schema (draft 2020-12) that a --json document follows.

    Example: kpictl schema

    Example: kpictl schema report > kpictl.report.schema.json
    """
    import json

    from kpictl import jsonschemas

    if name is None:
        sys.stdout.write("".join(f"{n}\n" for n in jsonschemas.names()))
        return
    document = jsonschemas.load(name.strip().lower())
    sys.stdout.write(json.dumps(document, indent=2, ensure_ascii=False) + "\n")


def register(app: typer.Typer) -> None:
    app.command("schema", rich_help_panel="Data")(schema)
