"""`kpictl assign`, `feedback`, `close`: delegating KPIs and the accountability loop."""

from __future__ import annotations

from typing import Annotated

import typer

from kpictl.cli import complete
from kpictl.cli.common import ByOption, acting, clock, number, state
from kpictl.domain import Kind, Outcome

KeyArg = Annotated[str, typer.Argument(metavar="KEY", help="KPI key, e.g. sales.new-arr.",
                                       autocompletion=complete.kpi_keys)]
ActiveKeyArg = Annotated[str, typer.Argument(metavar="KEY", help="KPI key, e.g. sales.new-arr.",
                                             autocompletion=complete.active_kpi_keys)]
WHAT = "What"
TARGET = "Target"
SCHEDULE = "Schedule"
ONGOING = "Ongoing"
TREE = "Objectives"
BULK = "Bulk"


def assign(
    ctx: typer.Context,
    key: Annotated[str | None, typer.Argument(metavar="KEY", help="KPI key, e.g. sales.new-arr.",
                                              autocompletion=complete.kpi_keys)] = None,
    to: Annotated[str | None, typer.Option("--to", metavar="HANDLE",
                                           help="The owner (a reassignment if it changes).",
                                           autocompletion=complete.handles)] = None,
    title: Annotated[str | None, typer.Option("--title", metavar="TEXT", rich_help_panel=WHAT,
                                              help="A short name for tables.")] = None,
    outcome: Annotated[
        str | None, typer.Option("--outcome", metavar="TEXT", rich_help_panel=WHAT,
                                 help="The desired outcome, in words.")
    ] = None,
    unit: Annotated[str | None, typer.Option("--unit", metavar="UNIT", rich_help_panel=WHAT,
                                             help="e.g. EUR, %, tickets.")] = None,
    tag: Annotated[
        list[str] | None,
        typer.Option("--tag", metavar="TAG", rich_help_panel=WHAT,
                     help="Repeat; replaces the tag set.", autocompletion=complete.tags),
    ] = None,
    kind: Annotated[
        Kind | None,
        typer.Option("--kind", metavar="KIND", case_sensitive=False, rich_help_panel=TARGET,
                     help="increase, decrease (lower is better), at-least, at-most, range. "
                     "Default: increase, or decrease if target < baseline."),
    ] = None,
    target: Annotated[str | None, typer.Option("--target", metavar="N", rich_help_panel=TARGET,
                                               help="The value to reach by the due date.")]
    = None,
    baseline: Annotated[
        str | None, typer.Option("--baseline", metavar="N", rich_help_panel=TARGET,
                                 help="Starting value (default 0 for increase/decrease).")
    ] = None,
    low: Annotated[str | None, typer.Option("--low", metavar="N", rich_help_panel=TARGET,
                                            help="Lower bound for --kind range.")] = None,
    high: Annotated[str | None, typer.Option("--high", metavar="N", rich_help_panel=TARGET,
                                             help="Upper bound for --kind range.")] = None,
    milestone: Annotated[
        list[str] | None,
        typer.Option("--milestone", metavar="DATE=VALUE", rich_help_panel=TARGET,
                     help="Benchmark on the way; repeat; replaces the set."),
    ] = None,
    start: Annotated[
        str | None, typer.Option("--start", metavar="DATE", rich_help_panel=SCHEDULE,
                                 help="Default: today.")
    ] = None,
    due: Annotated[str | None, typer.Option("--due", metavar="DATE", rich_help_panel=SCHEDULE,
                                            help="Deadline: a date, eoq, +6w, friday, ….")]
    = None,
    zone: Annotated[
        str | None, typer.Option("--zone", metavar="ZONE", rich_help_panel=SCHEDULE,
                                 help="The KPI's own time zone for its check-in slots and "
                                      "dates (default at creation: --tz / KPICTL_TZ).")
    ] = None,
    cadence: Annotated[
        str | None, typer.Option("--cadence", metavar="CADENCE", rich_help_panel=SCHEDULE,
                                 autocompletion=complete.cadences,
                                 help="Check-in rhythm: daily, weekly, biweekly, monthly, "
                                 "quarterly, Nd, Nw. Default: weekly.")
    ] = None,
    grace: Annotated[
        str | None, typer.Option("--grace", metavar="Nd", rich_help_panel=SCHEDULE,
                                 help="Slack after a missed check-in before it is stale. "
                                 "Default: 2d.")
    ] = None,
    every: Annotated[
        str | None, typer.Option("--every", metavar="PERIOD", rich_help_panel=ONGOING,
                                 help="An ongoing KPI: a target every week, month, quarter or "
                                 "year (calendar periods in the KPI's zone, from --start's "
                                 "period to --due's, or open-ended).")
    ] = None,
    aggregate: Annotated[
        str | None, typer.Option("--aggregate", metavar="HOW", rich_help_panel=ONGOING,
                                 help="How a period's check-ins make its value: last, sum, "
                                 "mean, min, max. Default: last.")
    ] = None,
    target_for: Annotated[
        list[str] | None,
        typer.Option("--target-for", metavar="PERIOD=VALUE", rich_help_panel=ONGOING,
                     help="One period's target, e.g. 2027-03=500, 2027-Q2=1500; repeat."),
    ] = None,
    objective: Annotated[
        bool, typer.Option("--objective", rich_help_panel=TREE,
                           help="Create an objective: no target of its own; its progress is "
                           "the weighted mean of the KPIs and objectives under it. Default "
                           "--due: the end of the quarter.")
    ] = False,
    parent: Annotated[
        str | None, typer.Option("--parent", metavar="OBJ", rich_help_panel=TREE,
                                 autocompletion=complete.objective_keys,
                                 help="The objective this counts towards ('' detaches).")
    ] = None,
    weight: Annotated[
        str | None, typer.Option("--weight", metavar="W", rich_help_panel=TREE,
                                 help="Its weight under --parent, above 0. Default: 1.")
    ] = None,
    by: ByOption = None,
    note: Annotated[str | None, typer.Option("--note", metavar="TEXT",
                                             help="Why, logged with the change.")] = None,
    at: Annotated[
        str | None, typer.Option("--at", metavar="DATE",
                                 help="When a reassignment took effect.")
    ] = None,
    file: Annotated[
        str | None, typer.Option("--file", metavar="PATH|-", rich_help_panel=BULK,
                                 help="Many KPIs from CSV or JSON Lines ('-' = stdin); columns "
                                 "key, to, title, target, baseline, kind, low, high, unit, "
                                 "start, due, cadence, grace, tags (a;b), outcome, by, note, "
                                 "every, aggregate, zone, parent, weight (kind objective: "
                                 "an objective). {to} in key/title/outcome/parent is the "
                                 "row's owner; dates are read in the KPI's zone, as for "
                                 "--start.")
    ] = None,
    input_format: Annotated[
        str | None, typer.Option("--input-format", metavar="csv|jsonl", rich_help_panel=BULK,
                                 help="Default: from the extension, else the content.",
                                 autocompletion=complete.input_formats)
    ] = None,
    skip_invalid: Annotated[
        bool, typer.Option("--skip-invalid", rich_help_panel=BULK,
                           help="Apply the valid rows and report the bad ones.")
    ] = False,
) -> None:
    """Create a KPI and delegate it, or change or reassign an existing one.

    Every change to an existing KPI is logged; a reassignment closes the old owner's period
    and opens the new one.

    Example: kpictl assign sales.leads --to ana --target 500 --due eoq --tag sales

    Example: kpictl assign sales.new-arr --to ben --note "Ana moves to enterprise"

    Example: kpictl assign ops.signups --to maya --every month --target 400

    Example: kpictl assign hiring --objective --to maya --title "Hire well"

    Example: kpictl assign sales.pipeline --parent growth --weight 3
    """
    from kpictl.errors import InvalidInput
    from kpictl.services.kpis import KpiSpec
    from kpictl.services.kpis import assign as assign_kpi
    from kpictl.timeparse import resolve_zone

    st = state(ctx)
    now = st.now()
    if file is not None:
        given = [n for n, v in locals().items() if v not in (None, False) and n in (
            "key", "to", "title", "target", "baseline", "kind", "low", "high", "unit", "start",
            "due", "cadence", "grace", "zone", "tag", "milestone", "outcome", "note", "at",
            "every", "aggregate", "target_for", "objective", "parent", "weight")]
        if given:
            raise InvalidInput("--file takes the KPIs from the file; drop "
                               + ", ".join(f"--{g.replace('_', '-')}" if g != "key" else "KEY"
                                           for g in given))
        _assign_file(st, now, file, input_format, skip_invalid, by)
        return
    if key is None:
        raise InvalidInput("give a KPI KEY (kpictl assign sales.arr --to ana …), or --file PATH")
    # A KPI's dates are days in its own zone: --zone when given, else the zone of the KPI
    # being changed, else (a new KPI) the viewer's, which becomes its zone.
    own = _own_zone(st, key, zone) if (start or due or milestone) else None
    milestones = None
    if milestone is not None:
        milestones = []
        for item in milestone:
            date_text, sep, value_text = item.partition("=")
            if not sep:
                raise InvalidInput(f"--milestone {item!r}: use DATE=VALUE, e.g. 2027-02-15=60000")
            milestones.append((st.when(date_text, option="--milestone", bound="end", now=now,
                                       tz=own),
                               number(value_text, option="--milestone value")))
    targets_for = None
    if target_for is not None:
        targets_for = []
        for item in target_for:
            label, sep, value_text = item.partition("=")
            if not sep or not label.strip():
                raise InvalidInput(f"--target-for {item!r}: use PERIOD=VALUE, e.g. 2027-03=500")
            targets_for.append((label.strip(), number(value_text, option="--target-for value")))
    spec = KpiSpec(
        every=every, aggregate=aggregate, target_for=targets_for,
        title=title, outcome=outcome, unit=unit, kind=kind,
        baseline=number(baseline, option="--baseline"),
        target=number(target, option="--target"),
        low=number(low, option="--low"), high=number(high, option="--high"),
        start=st.when(start, option="--start", bound="start", now=now, tz=own),
        due=st.when(due, option="--due", bound="end", now=now, tz=own),
        cadence=cadence, grace=grace, zone=zone, tags=tag, milestones=milestones,
        objective=objective, parent=parent, weight=number(weight, option="--weight"),
    )
    when = st.when(at, option="--at", now=now)
    default_start = st.when("today", option="--start", now=now,
                            tz=resolve_zone(zone) if zone else None)
    db = st.open_db()
    with st.write(db, now=now) as session:
        result = assign_kpi(session=session, now=clock(session, now), key=key, spec=spec, to=to,
                            by=acting(session, by),
                            note=note, at=when, default_start=default_start,
                            default_zone=st.zone())
    st.say(result.message)


def _own_zone(st, key: str, zone: str | None):
    """The zone the date options of `assign KEY` are read in (see :func:`assign`)."""
    from kpictl.errors import KpictlError
    from kpictl.services.lookups import find_kpi
    from kpictl.timeparse import resolve_zone

    if zone:
        return resolve_zone(zone)
    try:
        db = st.open_db(read=True, warn_missing=False)
        if db.stand_in:
            return None
        with db.session() as session:
            kpi = find_kpi(session, key)
            return resolve_zone(kpi.zone) if kpi is not None and kpi.zone else None
    except KpictlError:  # e.g. an older schema: the write below upgrades it, or says why not
        return None


def _assign_file(st, now, path, input_format, skip_invalid, by) -> None:
    from kpictl.cli.files import finish, progress_bar, read_bulk, refuse_invalid
    from kpictl.services.bulk.kpis import KPI_COLUMNS, import_kpis

    rows, errors, name = read_bulk(path, fmt=input_format, columns=KPI_COLUMNS)
    db = st.open_db()
    with progress_bar(st, len(rows), "KPIs") as progress, st.write(db, now=now) as session:
        result = import_kpis(session=session, now=clock(session, now), tz=st.zone(), rows=rows, errors=errors,
                             skip_invalid=skip_invalid, default_by=acting(session, by),
                             progress=progress)
        refuse_invalid(result, name=name, skip_invalid=skip_invalid)
    code = finish(st, result, what="KPIs", name=name, skipped="unchanged")
    if code:  # after the commit: the valid rows are written
        raise typer.Exit(code)


def feedback(
    ctx: typer.Context,
    key: KeyArg,
    text: Annotated[str, typer.Argument(metavar="TEXT", help="Your note to the owner.")],
    by: ByOption = None,
) -> None:
    """Leave a manager's feedback on a KPI; it shows in `kpictl report KEY`.

    Example: kpictl feedback sales.new-arr "Focus on closing" --by maya
    """
    from kpictl.services.kpis import add_feedback

    st = state(ctx)
    db = st.open_db()
    with st.write(db) as session:
        result = add_feedback(session=session, now=clock(session, st.now()), key=key, text=text,
                              by=acting(session, by))
    st.say(result.message)


def close(
    ctx: typer.Context,
    key: ActiveKeyArg,
    outcome: Annotated[Outcome | None, typer.Option(
        "--outcome", case_sensitive=False,
        help="achieved, missed or cancelled (default: the report's suggested outcome, once "
             "the KPI is past due).")] = None,
    note: Annotated[str | None, typer.Option("--note", metavar="TEXT",
                                             help="Why, in a sentence.")] = None,
    by: ByOption = None,
    at: Annotated[str | None, typer.Option("--at", metavar="DATE",
                                           help="When it closed (default: now).")] = None,
) -> None:
    """Close a KPI with its outcome; it takes no more check-ins.

    Without --outcome, a KPI past its due date closes with the outcome the report suggests
    (achieved when its target was reached or its threshold held, else missed).

    Example: kpictl close sales.new-arr --outcome achieved --note "Q4 deals won"
    """
    from kpictl.services.kpis import close_kpi

    st = state(ctx)
    now = st.now()
    when = st.when(at, option="--at", now=now)
    db = st.open_db()
    with st.write(db, now=now) as session:
        result = close_kpi(session=session, now=clock(session, now), key=key, outcome=outcome, note=note,
                           by=acting(session, by),
                           at=when, tz=st.zone())
    st.say(result.message)


def register(app: typer.Typer) -> None:
    app.command("assign", rich_help_panel="Delegate")(assign)
    app.command("feedback", rich_help_panel="Delegate")(feedback)
    app.command("close", rich_help_panel="Delegate")(close)
