"""Deprecated alias of :mod:`codeaudit.change.hook` (the hook moved into the change layer).

``codeaudit.hook.audit_diff`` and the module's other names keep working, with a
:class:`DeprecationWarning`; import them from :mod:`codeaudit.change.hook` (the pre-commit entry
point ``main`` from :mod:`codeaudit.cli.hook`).
"""

from __future__ import annotations

import warnings
from typing import Any


def __getattr__(name: str) -> Any:
    from codeaudit.change import hook
    from codeaudit.cli import hook as cli_hook

    home = cli_hook if name == "main" else hook
    value = getattr(home, name)
    warnings.warn(
        f"codeaudit.hook.{name} moved to {home.__name__}.{name}",
        DeprecationWarning,
        stacklevel=2,
    )
    return value
