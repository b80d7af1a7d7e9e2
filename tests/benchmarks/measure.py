"""Timing child processes: wall clock, CPU (user + sys) and peak RSS of exactly that child.

Children are started by a small spawner process (``spawner.py``, started first thing) that
reaps each one with ``os.wait4``, which returns the rusage of that one child. The spawner,
not this process, is the parent because on Linux a child's ``ru_maxrss`` starts at its
parent's high-water mark, and this process holds large data sets at times.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

MB = 1_000_000


class BenchError(RuntimeError):
    pass


@dataclass(frozen=True)
class Sample:
    wall: float  # seconds
    cpu: float  # user + sys seconds of the child
    rss_mb: float  # peak resident set of the child, MB (10^6 bytes)


class Spawner:
    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-S", str(Path(__file__).with_name("spawner.py"))],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.own_peak_mb = 0.0

    def run(self, request: dict) -> dict:
        self.proc.stdin.write(json.dumps(request) + "\n")
        self.proc.stdin.flush()
        reply = json.loads(self.proc.stdout.readline())
        self.own_peak_mb = max(self.own_peak_mb, reply.get("own_maxrss_kib", 0) * 1024 / MB)
        return reply

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait()


_spawner: Spawner | None = None


def start_spawner() -> Spawner:
    global _spawner
    if _spawner is None:
        _spawner = Spawner()
    return _spawner


def stop_spawner() -> None:
    global _spawner
    if _spawner is not None:
        _spawner.close()
        _spawner = None


def run(cmd: list[str], *, env: dict[str, str], stdout: Path | None = None,
        stdin: Path | None = None, cwd: Path | None = None) -> Sample:
    """Run ``cmd`` to completion; raise with its stderr if it fails."""
    err_path = Path(cwd or ".") / ".bench-stderr"
    reply = start_spawner().run({
        "cmd": [str(c) for c in cmd], "env": env, "cwd": str(cwd) if cwd else None,
        "stdout": str(stdout) if stdout else None, "stdin": str(stdin) if stdin else None,
        "stderr": str(err_path)})
    if reply["rc"] != 0:
        detail = reply.get("error") or " | ".join(
            err_path.read_text(errors="replace").strip().splitlines()[-5:])
        raise BenchError(f"{' '.join(map(str, cmd))} exited {reply['rc']}: {detail}")
    return Sample(wall=reply["wall"], cpu=reply["cpu"], rss_mb=reply["maxrss_kib"] * 1024 / MB)


@dataclass
class Series:
    """Several samples of one thing; the figure is the median, the noise is min–max."""

    samples: list[Sample] = field(default_factory=list)

    def add(self, sample: Sample) -> Sample:
        self.samples.append(sample)
        return sample

    def _of(self, attr: str) -> list[float]:
        return [getattr(s, attr) for s in self.samples]

    def median(self, attr: str = "wall") -> float:
        return statistics.median(self._of(attr))

    def low(self, attr: str = "wall") -> float:
        return min(self._of(attr))

    def high(self, attr: str = "wall") -> float:
        return max(self._of(attr))

    def spread(self, attr: str = "wall") -> float:
        """(max − min) / median, the run-to-run noise of this figure."""
        m = self.median(attr)
        return (self.high(attr) - self.low(attr)) / m if m else 0.0

    def as_dict(self) -> dict:
        return {
            "n": len(self.samples),
            "wall_median": self.median("wall"), "wall_min": self.low("wall"),
            "wall_max": self.high("wall"),
            "cpu_median": self.median("cpu"), "rss_mb_max": self.high("rss_mb"),
            "rss_mb_median": self.median("rss_mb"),
            "samples": [s.__dict__ for s in self.samples],
        }


def interleaved(commands: dict[str, dict], *, runs: int, warmup: int = 1) -> dict[str, Series]:
    """Run each named command ``warmup + runs`` times, round-robin, so that a burst of load on
    the machine hits every figure and its floor alike; warm-up runs are discarded."""
    series = {name: Series() for name in commands}
    for i in range(warmup + runs):
        for name, spec in commands.items():
            sample = run(**spec)
            if i >= warmup:
                series[name].add(sample)
    return series


def fmt_time(seconds: float) -> str:
    if seconds < 10:
        return f"{seconds:.3f} s"
    return f"{seconds:.1f} s"


def fmt_series(s: Series, attr: str = "wall") -> str:
    if len(s.samples) == 1:
        return fmt_time(s.median(attr))
    return f"{fmt_time(s.median(attr))} ({s.low(attr):.3g}–{s.high(attr):.3g})"


def load_average() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:  # pragma: no cover
        return "?"
