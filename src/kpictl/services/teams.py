"""``--team H``: narrow a report, a digest, a ranking or the nudges to H's subtree (issue 21).

The team is H and everyone under H, at any depth, as the reporting tree stood at the view's
instant (:func:`kpictl.services.tree.team_of`). The views are built as before and then narrowed,
so every other rule stays exactly as it is.
"""

from __future__ import annotations

from dataclasses import replace

from kpictl.schemas import Digest, NudgeReport, OwnersReport, Report, Suggestion, Summary


def narrow_report(report: Report, team: set[str], head: str) -> Report:
    rows = [r for r in report.kpis if r.owner in team]
    by_status = {s: 0 for s in report.summary.by_status}
    for row in rows:
        by_status[row.status] += 1
    return replace(report, kpis=rows, summary=Summary(total=len(rows), by_status=by_status),
                   filters={**report.filters, "team": head})


def narrow_owners(report: OwnersReport, team: set[str]) -> OwnersReport:
    return replace(report, owners=[o for o in report.owners if o.handle in team])


def narrow_digest(digest: Digest, team: set[str], team_keys: set[str]) -> Digest:
    """Events whose owner is in the team; check-ins on the KPIs the team owned."""
    keep = lambda items: [i for i in items if i.owner in team]  # noqa: E731
    narrowed = replace(digest,
                       checkins=[c for c in digest.checkins if c.key in team_keys],
                       status_changes=keep(digest.status_changes),
                       missed_checkins=keep(digest.missed_checkins),
                       new_kpis=keep(digest.new_kpis), reassigned=keep(digest.reassigned),
                       closed=keep(digest.closed), source_failures=keep(digest.source_failures))
    narrowed.summary = {"checkins": len(narrowed.checkins),
                        "status_changes": len(narrowed.status_changes),
                        "missed_checkins": len(narrowed.missed_checkins),
                        "new_kpis": len(narrowed.new_kpis),
                        "reassigned": len(narrowed.reassigned), "closed": len(narrowed.closed),
                        "source_failures": len(narrowed.source_failures)}
    return narrowed


def narrow_suggestion(suggestion: Suggestion, team: set[str]) -> Suggestion:
    return replace(suggestion, candidates=[c for c in suggestion.candidates if c.handle in team])


def narrow_nudges(report: NudgeReport, team: set[str]) -> NudgeReport:
    return replace(report, recipients=[r for r in report.recipients if r.handle in team])


def about_team(report: NudgeReport, team: set[str], head: str) -> NudgeReport:
    """Only the nudges about KPIs owned in ``team`` — ``head``'s reporting tree — and of
    those about ``head``'s own KPIs, only the ones to ``head``."""
    recipients = [replace(r, items=[i for i in r.items if i.owner in team
                                    and (i.owner != head or r.handle == head)])
                  for r in report.recipients]
    return replace(report, recipients=[r for r in recipients if r.items])
