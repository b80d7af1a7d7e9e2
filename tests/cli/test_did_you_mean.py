"""A typo in a command or option gets one line on stderr naming what was meant, and exit 2
(Typer's `suggest_commands` and Click's option possibilities, not our own matcher)."""

from __future__ import annotations

import pytest

from .conftest import assert_error


@pytest.mark.parametrize(("args", "message"), [
    (["reprot"], "No such command 'reprot'. Did you mean 'report', 'export'? "
                 "Try 'kpictl --help'."),
    (["chekin", "sales.arr", "1"], "No such command 'chekin'. Did you mean 'checkin'? "
                                   "Try 'kpictl --help'."),
    (["people", "lsit"], "No such command 'lsit'. Did you mean 'list'? "
                         "Try 'kpictl people --help'."),
    (["db", "chek"], "No such command 'chek'. Did you mean 'check'? Try 'kpictl db --help'."),
    (["report", "--tagg", "sales"], "No such option: --tagg. Did you mean --tag? "
                                    "Try 'kpictl report --help'."),
    (["assign", "sales.arr", "--tilte", "ARR"], "No such option: --tilte. Did you mean --title? "
                                              "Try 'kpictl assign --help'."),
])
def test_a_typo_suggests_what_was_meant(run, args, message):
    assert_error(run(*args), 2, message)


def test_an_unknown_option_like_nothing_gets_no_suggestion(run):
    line = assert_error(run("report", "--xyzzy"), 2)
    assert line == "kpictl: error: No such option: --xyzzy. Try 'kpictl report --help'."


def test_a_word_like_nothing_gets_no_suggestion(run):
    line = assert_error(run("xyzzy"), 2)
    assert line == "kpictl: error: No such command 'xyzzy'. Try 'kpictl --help'."


pytestmark = pytest.mark.backend_free
