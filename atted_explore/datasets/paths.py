"""Where built atlases are cached locally."""

from __future__ import annotations

import os
from pathlib import Path


def data_dir() -> Path:
    """Local cache of built atlases: ``$ATTED_EXPLORE_DATA`` or ``./data``."""
    return Path(os.environ.get("ATTED_EXPLORE_DATA", "data"))
