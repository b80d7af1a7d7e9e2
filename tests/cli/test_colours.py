"""Colours read well on dark and light terminals: only the terminal's palette colours (which
each theme tunes), never blue, black/white or grey literals, no backgrounds, and "dim" only
for decoration ("—", empty bar cells), never for data a reader needs."""

from __future__ import annotations

import re
import shutil

import pytest

from .conftest import ok

SGR = re.compile(r"\x1b\[([0-9;]*)m")
UNREADABLE = {"30", "34", "37", "90", "94", "97", "2;34"}  # black, blue, white, grey
DECORATION = set("—·░ \n")
VIEWS = [["report"], ["report", "sales.pipeline"], ["report", "mkt.cac"], ["people", "list"],
         ["people", "show", "ana"], ["report", "--by", "owner"],
         ["suggest", "sales.pipeline", "--explain"], ["report", "--status", "at_risk,off_track"],
         ["report", "--week", "last"], ["db", "check"]]


@pytest.fixture(scope="module")
def demo_template(tmp_path_factory):
    from tests.conftest import make_runner

    from .conftest import pinned_env

    path = tmp_path_factory.mktemp("colours") / "demo.db"
    with pinned_env(path):
        ok(make_runner(), "demo", "--path", str(path))
    return path


def styled_spans(out: str):
    """(SGR parameters, text) for every run of text after an escape sequence."""
    parts = SGR.split(out)
    return [(parts[i], parts[i + 1]) for i in range(1, len(parts) - 1, 2)]


@pytest.mark.parametrize("view", VIEWS, ids=" ".join)
def test_colours_are_readable_on_dark_and_light_terminals(run, demo_template, monkeypatch,
                                                          tmp_path, view):
    db = tmp_path / "demo.db"
    shutil.copyfile(demo_template, db)
    monkeypatch.setenv("KPICTL_DB", str(db))
    monkeypatch.setenv("FORCE_COLOR", "1")
    out = ok(run, *view).stdout
    spans = styled_spans(out)
    assert spans, "the control: FORCE_COLOR colours a pipe"
    for params, text in spans:
        codes = params.split(";")
        assert not UNREADABLE.intersection(codes), (params, text)
        assert not any(c.startswith(("4", "10")) and len(c) == 2 or c == "48" for c in codes), \
            (params, text)  # no backgrounds
        assert not any(c.startswith("38") for c in codes), (params, text)  # no fixed RGB/256
        if "2" in codes:
            assert set(text) <= DECORATION, (view, repr(text))
