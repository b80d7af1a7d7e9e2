"""What the design card's stack costs by itself: reference floors, shown beside the bars.

``python typer_floor.py --help``
    A one-command Typer app with Rich help (``rich_markup_mode="rich"``, as kpictl): its
    ``--help`` is what Typer's Rich help formatting costs before any kpictl code runs.
``python typer_floor.py checkin DB KPI_ID AUTHOR_ID``
    ``sqlmodel_floor.py``'s one-row insert inside a Typer command that takes the same
    arguments and options as ``kpictl checkin``: Typer's import and per-parameter parsing
    added to the SQLModel floor, and nothing of kpictl.
"""

from typing import Annotated

import typer

app = typer.Typer(rich_markup_mode="rich", add_completion=True)


@app.callback()
def root(db: Annotated[str | None, typer.Option("--db", envvar="KPICTL_DB")] = None,
         quiet: Annotated[bool, typer.Option("--quiet", "-q")] = False) -> None:
    """A one-command Typer app."""


@app.command()
def checkin(
    db: str,
    kpi_id: int,
    author_id: int,
    at: Annotated[str | None, typer.Option("--at", help="When it was measured.")] = None,
    by: Annotated[str | None, typer.Option("--by", envvar="KPICTL_USER")] = None,
    confidence: Annotated[int | None, typer.Option("--confidence", min=0, max=10)] = None,
    note: Annotated[str | None, typer.Option("--note")] = None,
    blocker: Annotated[str | None, typer.Option("--blocker")] = None,
    key: Annotated[str | None, typer.Option("--key")] = None,
    file: Annotated[str | None, typer.Option("--file", rich_help_panel="Bulk")] = None,
    input_format: Annotated[str | None, typer.Option("--input-format")] = None,
    skip_invalid: Annotated[bool, typer.Option("--skip-invalid")] = False,
) -> None:
    """Insert one check-in row, exactly as sqlmodel_floor.py does."""
    import runpy
    import sys
    from pathlib import Path

    sys.argv = ["sqlmodel_floor.py", db, str(kpi_id), str(author_id)]
    runpy.run_path(str(Path(__file__).with_name("sqlmodel_floor.py")), run_name="__main__")


if __name__ == "__main__":
    app()
