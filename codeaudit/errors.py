"""Errors that reach the user, each with the exit code the CLI returns for it.

Every error message is one line that names the file, line or field at fault. The CLI prints
``codeaudit: error: <message>`` and exits with :attr:`CodeauditError.exit_code`; it never shows
a traceback unless ``CODEAUDIT_DEBUG=1`` is set.
"""

from __future__ import annotations

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
