"""Runs the benchmark's child processes and reports their wall time and rusage.

Started once, first thing, with ``python -S`` so that its own resident set stays at a few
MB: on Linux a child's ``ru_maxrss`` starts from the high-water mark of the process that
forked it (the mm is shared up to ``exec``), so measuring peak memory from a parent that has
ever held a large data set would report the parent's peak instead of the child's.

Protocol: one JSON request per line on stdin (``cmd``, ``env``, ``cwd``, ``stdout``,
``stdin``, ``stderr`` paths), one JSON reply per line on stdout.
"""

import json
import os
import subprocess
import sys
import time


def serve() -> None:
    for line in sys.stdin:
        req = json.loads(line)
        files = []
        try:
            out, inp, err = (_open(req[name], mode, files) for name, mode in
                             (("stdout", "wb"), ("stdin", "rb"), ("stderr", "wb")))
            start = time.perf_counter()
            proc = subprocess.Popen(req["cmd"], env=req["env"], cwd=req["cwd"], stdout=out,
                                    stdin=inp, stderr=err)
            _, status, usage = os.wait4(proc.pid, 0)
            wall = time.perf_counter() - start
            proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
            reply = {"rc": proc.returncode, "wall": wall, "cpu": usage.ru_utime + usage.ru_stime,
                     "maxrss_kib": usage.ru_maxrss, "own_maxrss_kib": _own_peak()}
        except OSError as exc:
            reply = {"rc": -1, "error": str(exc)}
        finally:
            for f in files:
                f.close()
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()


def _open(path, mode, files):
    if not path:
        return subprocess.DEVNULL
    f = open(path, mode)  # noqa: SIM115 - the caller closes it
    files.append(f)
    return f


def _own_peak() -> int:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


if __name__ == "__main__":
    serve()
