def test_version_prints_the_package_version(run):
    from kpictl import __version__

    result = run("--version")
    assert result.exit_code == 0
    assert result.stdout == f"kpictl {__version__}\n"


def test_unknown_command_is_one_line_exit_2(run):
    result = run("frobnicate")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1
    assert "frobnicate" in result.stderr
