"""The one place that reads the wall clock.

Services take ``now``/``as_of`` as arguments; only the CLI layer calls :func:`utcnow`. Tests
and reproducible runs can pin the clock with ``KPICTL_NOW`` (an ISO-8601 instant).
"""

from __future__ import annotations

import os
from datetime import datetime, timezone


def utcnow() -> datetime:
    """Current instant, timezone-aware UTC, truncated to whole microseconds."""
    pinned = os.environ.get("KPICTL_NOW")
    if pinned:
        try:
            value = datetime.fromisoformat(pinned.replace("Z", "+00:00"))
        except ValueError:
            from kpictl.errors import InvalidInput

            raise InvalidInput(f"invalid KPICTL_NOW {pinned!r}: use an ISO-8601 instant") from None
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)
    return datetime.now(timezone.utc)
