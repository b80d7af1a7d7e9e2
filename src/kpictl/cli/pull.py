"""`kpictl pull` and `kpictl sources`: KPI values that arrive by themselves."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from kpictl.cli import complete
from kpictl.cli.common import FormatOption, JsonOption, choose_format, clock, state

SOURCES = "Sources"

SourcesOption = Annotated[
    str | None,
    typer.Option("--sources", envvar="KPICTL_SOURCES", metavar="FILE", rich_help_panel=SOURCES,
                 help="The sources file, or - for stdin (default: sources.toml in your kpictl "
                 "config dir). Refused if anyone but you could have written it."),
]


def pull(
    ctx: typer.Context,
    keys: Annotated[
        list[str] | None,
        typer.Argument(metavar="KEY", help="Pull only these KPIs' sources (default: all).",
                       autocompletion=complete.active_kpi_keys, show_default=False),
    ] = None,
    jobs: Annotated[
        int, typer.Option("--jobs", "-j", min=1, max=64, metavar="N", rich_help_panel=SOURCES,
                          help="Sources run at the same time.")
    ] = 4,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", rich_help_panel=SOURCES,
                           help="Run the sources and show what would be recorded; write "
                           "nothing and run no hooks.")
    ] = False,
    sources: SourcesOption = None,
    fmt: FormatOption = None,
    as_json: JsonOption = False,
) -> None:
    """Run the configured sources and record each value as a check-in.

    Each source in sources.toml (a command, or a read-only SQL query) runs within its
    timeout, several at once. A value is recorded once per cadence slot (source pull:KEY).
    A failing source never stops the others: one line on stderr, the flag source_failed in
    `kpictl report`, exit 1.

    Example: kpictl pull --dry-run
    """
    from kpictl.services.pull import PullReport, fetch_all, record_pulls

    st = state(ctx)
    now = st.now()
    chosen_fmt = choose_format(fmt, as_json, ctx=ctx, view="`pull`")
    config = _load(sources)
    selected = config.select(keys)
    tz = st.zone()
    db = st.open_db()  # before running anything: an unreachable database fails fast
    fetched = fetch_all(selected, jobs=jobs, now=now, tz=tz)
    if dry_run:
        with db.session() as session:
            results = record_pulls(session=session, now=clock(session, now), tz=tz, fetched=fetched,
                                   dry_run=True)
    else:
        with st.write(db, now=now) as session:
            results = record_pulls(session=session, now=clock(session, now), tz=tz, fetched=fetched)
    report = PullReport(generated_at=now, sources_file=str(config.path), dry_run=dry_run,
                        results=results)
    from kpictl.render.pull import render_pull
    from kpictl.render.text import sanitize

    render_pull(report, chosen_fmt, tz=tz, no_color=st.no_color)
    sys.stdout.flush()
    for failure in report.failed:
        print(f"kpictl: pull {failure.kpi}: {sanitize(failure.error)}", file=sys.stderr)
    counts = {}
    for r in results:
        action = f"would be {r.action}" if dry_run and r.action in ("recorded", "changed") \
            else r.action
        counts[action] = counts.get(action, 0) + 1
    summary = ", ".join(f"{n} {a}" for a, n in sorted(counts.items())) or "nothing to pull"
    st.say(f"pulled {len(results)} source(s){' (dry run)' if dry_run else ''}: {summary}")
    if report.failed:
        raise typer.Exit(1)


def sources_(
    ctx: typer.Context,
    sources: SourcesOption = None,
    fmt: FormatOption = None,
    as_json: JsonOption = False,
) -> None:
    """List the configured sources and check them without running them.

    Checks that only you could have written the file, that each KPI exists and is open, and
    that each $VAR is set and each program or database driver is there (exit 1 if not).
    Values of $VAR are never shown; URL passwords are masked.

    Example: kpictl sources
    """
    from kpictl.errors import RuntimeFailure
    from kpictl.render.pull import render_sources
    from kpictl.services.sources import check_sources

    st = state(ctx)
    chosen_fmt = choose_format(fmt, as_json, ctx=ctx, view="`sources`")
    config = _load(sources)
    db = st.open_db()
    with db.session() as session:
        checks = check_sources(session=session, sources=config)
    render_sources(str(config.path), checks, chosen_fmt, now=st.now(), no_color=st.no_color)
    bad = [c for c in checks if not c.ok]
    if bad:
        raise RuntimeFailure(f"{len(bad)} of {len(checks)} source(s) in {config.path} have "
                             "problems (see above)")


def _load(given: str | None):
    from pathlib import Path

    from kpictl.services.sources import load_sources, parse_sources, sources_path

    if given == "-":
        return parse_sources(sys.stdin.buffer.read() if hasattr(sys.stdin, "buffer")
                             else sys.stdin.read().encode("utf-8"),
                             path=Path("stdin"), base_dir=Path.cwd())
    return load_sources(sources_path(given))


def register(app: typer.Typer) -> None:
    app.command("pull", rich_help_panel="Track")(pull)
    app.command("sources", rich_help_panel="Track")(sources_)
