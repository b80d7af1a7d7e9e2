"""What a write service returns. Its own small module: a `kpictl checkin` imports this, and
not the forty read models of :mod:`kpictl.schemas` that only reports need."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class WriteResult:
    """What a write command did, for its confirmation line (stderr) and `--json` (stdout)."""

    action: str
    message: str
    data: dict = field(default_factory=dict)
