"""The ``codeaudit`` command: argument parsing, exit codes and error reporting only.

Each sub-command lives in its own module of this package, named after the command, with::

    HELP = "one line for the command list"
    def configure(parser: argparse.ArgumentParser) -> None: ...
    def run(args: argparse.Namespace) -> int: ...

Modules import nothing heavy at module level; only the module of the command being run is
imported, so start-up stays fast (``codeaudit --version`` imports none of them).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from importlib import import_module

from .._version import __version__
from ..errors import EXIT_INTERNAL, EXIT_INTERRUPTED, CodeauditError

#: Command name -> module (in the order shown by ``--help``).
COMMANDS: dict[str, str] = {
    "audit": "codeaudit.cli.audit",
    "rules": "codeaudit.cli.rules",
    "corpus": "codeaudit.cli.corpus",
    "eval": "codeaudit.cli.eval",
    "doctor": "codeaudit.cli.doctor",
    "generate": "codeaudit.cli.generate",
    "run": "codeaudit.cli.run",
    "bench": "codeaudit.cli.bench",
    "model": "codeaudit.cli.model",
    "hook": "codeaudit.cli.hook",
    "baseline": "codeaudit.cli.baseline",
    "scorecard": "codeaudit.cli.scorecard",
    "serve": "codeaudit.cli.serve",
}

DESCRIPTION = """\
Audit AI-generated code before it reaches a codebase: privacy leaks (usernames in paths,
credentials, secrets), memorised copies of public code, security smells, and unit-test pass rate.

exit codes: 0 nothing at or above --fail-on · 1 findings at or above it ·
            2 usage, configuration or input error · 3 internal error · 130 interrupted"""


def _available() -> dict[str, str]:
    from importlib.util import find_spec

    return {name: mod for name, mod in COMMANDS.items() if find_spec(mod) is not None}


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="codeaudit",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"codeaudit {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, module_name in _available().items():
        if only is not None and name != only:
            continue
        module = import_module(module_name)
        p = sub.add_parser(
            name,
            help=module.HELP,
            description=getattr(module, "DESCRIPTION", module.HELP),
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        module.configure(p)
        p.set_defaults(_run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv in (["--version"], ["-V"]):
        print(f"codeaudit {__version__}")
        return 0
    command = next((a for a in argv if not a.startswith("-")), None)
    parser = build_parser(command if command in COMMANDS else None)
    args = parser.parse_args(argv)
    if getattr(args, "_run", None) is None:
        parser.print_help()
        return 2
    try:
        return int(args._run(args) or 0)
    except CodeauditError as exc:
        _print_error(str(exc))
        return exc.exit_code
    except KeyboardInterrupt:
        _print_error("interrupted")
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # Output piped into a command that stopped reading (e.g. `| head`): not an error.
        try:
            sys.stdout = open(os.devnull, "w")
        except OSError:
            pass
        return 0
    except Exception as exc:
        if os.environ.get("CODEAUDIT_DEBUG"):
            raise
        _print_error(
            f"internal error: {type(exc).__name__}: {exc} (set CODEAUDIT_DEBUG=1 for a traceback)"
        )
        return EXIT_INTERNAL


def _print_error(message: str) -> None:
    print(f"codeaudit: error: {message}", file=sys.stderr)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
