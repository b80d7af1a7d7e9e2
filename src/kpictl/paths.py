"""Where kpictl reads its configuration: ``<user config dir>/kpictl`` (``~/.config/kpictl`` on
Linux, ``$XDG_CONFIG_HOME/kpictl`` when set), holding ``sources.toml`` and ``hooks/``.

Its own module so that every write, which looks for hooks there, does not import the sources
machinery (:mod:`kpictl.services.sources`) to find it.
"""

from __future__ import annotations

from pathlib import Path


def config_dir() -> Path:
    """``<platformdirs user config dir>/kpictl`` (``~/.config/kpictl`` on Linux)."""
    import platformdirs

    return platformdirs.user_config_path("kpictl", appauthor=False)
