"""Errors that reach the user, each with the exit code the CLI returns for it.

Every error message is one line that names the file, line or field at fault. The CLI prints
``codeaudit: error: <message>`` and exits with :attr:`CodeauditError.exit_code`; it never shows
a traceback unless ``CODEAUDIT_DEBUG=1`` is set.
"""

from __future__ import annotations

import json
import re
from typing import Any

EXIT_OK = 0
#: Findings at or above ``--fail-on``.
EXIT_FINDINGS = 1
#: Usage, configuration or input error (nothing could be audited, or ``--strict``).
EXIT_USAGE = 2
#: A bug in codeaudit or a plug-in: reported in one line, never as a silent partial result.
EXIT_INTERNAL = 3
#: Interrupted by the user (Ctrl-C).
EXIT_INTERRUPTED = 130


class CodeauditError(Exception):
    """Base class of the errors codeaudit reports to a user."""

    exit_code = EXIT_USAGE


class UsageError(CodeauditError):
    """Bad command-line arguments or API arguments."""


class ConfigError(CodeauditError):
    """A configuration file or table that cannot be used as written."""


class InputError(CodeauditError):
    """Input that could not be read at all (missing file, empty batch, ``--strict`` failures)."""


class InternalError(CodeauditError):
    exit_code = EXIT_INTERNAL


# --- what an error message may quote from the input ------------------------------------------


def quoted(value: str, limit: int = 80) -> str:
    """A value from the input, quoted for a one-line message: control characters escaped, cut short.

    >>> quoted("a\\nb")
    "'a\\\\nb'"
    """
    text = json.dumps(value, ensure_ascii=False)[1:-1].replace('\\"', '"')
    return f"'{text[: limit - 1]}…'" if len(text) > limit else f"'{text}'"


# What an echoed input value may look like: a value of another shape (or a long one) could be a
# secret pasted into the wrong field, and messages go to standard error and into every report.
_SHAPES = {
    "language": re.compile(r"[A-Za-z][A-Za-z0-9+#._ -]{0,23}"),
    "id": re.compile(r"[\w.:/#@+-]{1,64}"),
    "field": re.compile(r"[A-Za-z_][\w.-]{0,39}"),
}
# A run of letters and digits this long, mixing both, is credential-shaped even inside an id.
_SECRET_RUN = re.compile(
    r"(?=[A-Za-z0-9]{17,})(?=[A-Za-z0-9]*[0-9])[A-Za-z0-9]*[A-Za-z][A-Za-z0-9]*"
)
_LONG_RUN = re.compile(r"[A-Za-z0-9]{33,}")


def shown(value: str, shape: str) -> str | None:
    """``value`` quoted for a message when it has the expected ``shape`` ("language", "id",
    "field") and nothing credential-shaped in it, else ``None`` (say what is wrong without it).

    >>> shown("klingon", "language")
    "'klingon'"
    >>> shown("AKIA" + "IOSFODNN7EXAMPLE", "id") is None
    True
    """
    if not _SHAPES[shape].fullmatch(value):
        return None
    if _SECRET_RUN.search(value) or _LONG_RUN.search(value):
        return None
    return quoted(value)


def described(value: Any) -> str:
    """A value from a configuration or input file for an error message: numbers, booleans and
    short plain strings as they are; a string that could be a secret by its length only.

    >>> described(12), described("warn"), described("sk_live_" + "4eC39HqLyjWDarjtT1zdp7dc")
    ('12', "'warn'", 'a string of 32 characters (not shown)')
    """
    if isinstance(value, str):
        return shown(value, "id") or f"a string of {len(value)} characters (not shown)"
    if value is None or isinstance(value, (bool, int, float)):
        return repr(value)
    return {dict: "an object", list: "an array"}.get(type(value), type(value).__name__)
