"""codeaudit's cache folder: default corpus indexes, derived detector gates, bandit rule docs,
ONNX exports. ``$CODEAUDIT_CACHE_DIR`` overrides the platform's user cache folder (tests use it).

Kept import-light (no numpy, no corpus package) because every auditor asks for it at start-up.
"""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir() -> Path:
    """``$CODEAUDIT_CACHE_DIR``, else the platform's user cache folder for codeaudit."""
    env = os.environ.get("CODEAUDIT_CACHE_DIR")
    if env:
        return Path(env)
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("codeaudit"))
