"""kpictl: delegate KPIs, collect check-ins, see early what is on track."""

# First of all, when run as the `kpictl` program (console script, or ``python -m kpictl``,
# whose argv[0] is "-m" while the package is found) and not imported as a library or in a
# test: Ctrl-C from here on is one line, never a traceback. As few steps as possible come
# before it (``sys`` is loaded before any program's first line): an interrupt landing
# earlier is Python's own start-up's. The C module, not `signal`: that one imports enum
# (~3 ms), itself a window in which a Ctrl-C would still end in a KeyboardInterrupt traceback.
import sys as _sys


def _interrupted_while_starting(signum, frame) -> None:  # pragma: no cover - a signal's timing
    """Ctrl-C while the program is still importing: nothing has been done yet, so one line and
    exit 130, not a traceback from deep inside an import (main() installs Python's handler)."""
    import os

    os.write(2, b"kpictl: error: interrupted\n")
    os._exit(130)


_program = bool(_sys.argv) and (_sys.argv[0] == "-m" or _sys.argv[0].replace("\\", "/")
                                .rsplit("/", 1)[-1] in ("kpictl", "kpictl.exe"))
if _program:
    import _signal

    _signal.signal(_signal.SIGINT, _interrupted_while_starting)

__version__ = "0.1.0"


def end_of_start_up() -> None:
    """Start-up is over (the database is being opened): the cyclic garbage collector, off
    while the program imports its stack, runs again, without rescanning what start-up made.

    Importing Typer, SQLAlchemy and SQLModel allocates hundreds of thousands of long-lived
    objects and almost no garbage: the collections that allocation triggers are ~15 % of a
    one-row `kpictl checkin`'s CPU and find nothing. A no-op unless started as the program."""
    global _collector_paused
    if _collector_paused:
        import gc

        _collector_paused = False
        gc.freeze()  # what start-up made lives as long as the process
        if not _pauses:  # else the outermost collector_paused block resumes it
            gc.enable()


class collector_paused:  # noqa: N801 - used as a context manager, like a function
    """``with collector_paused():`` the cyclic garbage collector is off inside (as it was).

    For work that allocates many objects and frees them by reference counting, with no
    cycles: a portfolio keeps a few objects per KPI until it is written, and each young
    collection would rescan all of them (~0.05 s of a 10,000-KPI report). Resume only once the
    objects are gone — the collector then has nothing left to look at (they are counted off as
    they are freed) — so wrap a function whose locals hold them, not the code that uses them.
    """

    __slots__ = ("enabled",)

    def __enter__(self) -> None:
        import gc

        global _pauses
        # Off for start-up counts as on: the block resumes it when start-up ends inside.
        self.enabled = gc.isenabled() or _collector_paused
        gc.disable()
        _pauses += 1

    def __exit__(self, *exc) -> None:
        global _pauses
        _pauses -= 1
        if self.enabled and not _collector_paused:
            import gc

            if _program:  # what the work left (mappers configured, caches) stays to the end
                gc.freeze()
            gc.enable()


_pauses = 0  # collector_paused blocks open


_collector_paused = False
if _program:
    import gc as _gc

    if _gc.isenabled():
        _gc.disable()  # see end_of_start_up
        _collector_paused = True
