"""``codeaudit hook [FILES…]``: audit the lines a commit adds (the pre-commit hook)."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import Any

from codeaudit.config import Config
from codeaudit.errors import ConfigError, InputError
from codeaudit.model import Severity

HELP = "audit only the lines the staged changes add (pre-commit hook)"
DESCRIPTION = """\
Audit the lines the next commit adds, read from the index (the staged version, not the working
tree), with the code around them as context. Findings are reported at working-tree lines; the
command fails (exit 1) when a finding is at or above fail_on, or ai_fail_on for findings in
AI-generated lines (from suggestion logs or "codeaudit: ai-generated" markers). Findings on
unchanged lines are never reported. Policy and defaults come from [tool.codeaudit.hook].

FILES limits the audit to those staged files (pre-commit passes them). Given files with no staged
change (pre-commit's --all-files passes every tracked file) are not audited: one line on standard
error says so and names `codeaudit audit .`, which audits committed code. Outside a git
repository, or with --all-lines, the given files are audited in full. Under pre-commit's pre-push
stage the pushed range (PRE_COMMIT_FROM_REF...PRE_COMMIT_TO_REF) is audited instead of the index.

exit codes: 0 nothing blocks · 1 blocking findings · 2 usage, configuration or input error"""


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "files",
        nargs="*",
        metavar="FILE",
        help="staged files to audit (default: every staged file)",
    )
    p.add_argument(
        "--config",
        metavar="FILE",
        help="configuration file (default: nearest .codeaudit.toml or pyproject.toml)",
    )
    p.add_argument(
        "--fail-on",
        metavar="SEVERITY",
        help="block findings at or above this (default: [tool.codeaudit.hook] fail_on, else the top-level fail_on)",
    )
    p.add_argument(
        "--ai-fail-on",
        metavar="SEVERITY",
        help="block findings in AI-generated lines at or above this (default: one level below fail-on)",
    )
    p.add_argument(
        "--baseline",
        metavar="FILE",
        help="report only findings not in this baseline (default: [tool.codeaudit.hook] baseline)",
    )
    p.add_argument(
        "--suggestions-log",
        metavar="JSONL",
        action="append",
        help="JSONL log of AI suggestions (batch contract) to recognise AI-generated lines; repeatable",
    )
    p.add_argument(
        "--no-markers", action="store_true", help="ignore 'codeaudit: ai-generated' comments"
    )
    p.add_argument(
        "--auditors", metavar="LIST", help="comma-separated auditors (default: all but tests)"
    )
    p.add_argument(
        "--all-lines",
        action="store_true",
        help="audit the given files in full, every line counting as added",
    )
    p.add_argument(
        "--format",
        choices=("text", "json", "sarif", "table", "html"),
        default="text",
        help="output format (default: text, one line per finding)",
    )
    p.add_argument(
        "-o",
        "--output",
        metavar="FILE",
        help="write the --format report here (the text summary then goes to standard error)",
    )
    p.add_argument(
        "--serial",
        action="store_true",
        help="run the auditors one after another in this process (default with --format text: each in a forked process, at the same time)",
    )
    p.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="also list skipped files and a summary when nothing was found",
    )


def run(args: argparse.Namespace) -> int:
    """``codeaudit hook`` with the arguments above."""
    # A `codeaudit serve` running for this repository answers instead (the warm hook), with the
    # same findings and exit code; without one this runs cold.
    from codeaudit.serve.client import warm_hook

    warm = warm_hook(args)
    if warm is not None:
        return warm
    return run_cold(args)


def run_cold(args: argparse.Namespace) -> int:
    """``codeaudit hook`` in this process (what a warm server's fork runs too)."""
    from codeaudit.change.hook import audit_diff, audit_paths, audit_staged, write_text
    from codeaudit.errors import EXIT_FINDINGS, EXIT_OK, UsageError

    config = _cli_config(args)
    from_ref, to_ref = os.environ.get("PRE_COMMIT_FROM_REF"), os.environ.get("PRE_COMMIT_TO_REF")
    ranged = bool(from_ref and to_ref)
    kwargs: dict[str, Any] = {
        "config": config,
        "baseline": args.baseline,
        "suggestions_logs": args.suggestions_log,
        "auditors": _cli_auditors(args),
        # The one-line-per-finding output needs no auditor summaries: let the auditors run at once.
        "parallel": args.format == "text" and not args.serial,
    }
    if args.all_lines:
        if not args.files:
            raise UsageError("--all-lines needs the files to audit")
        result = audit_paths(args.files, **kwargs)
    elif not _in_git():
        if not args.files:
            raise UsageError("not inside a git repository: give the files to audit")
        result = audit_paths(args.files, **kwargs)
    elif ranged:  # pre-commit's pre-push and manual stages pass the pushed range
        result = audit_diff(f"{from_ref}...{to_ref}", paths=args.files or None, **kwargs)
    else:
        result = audit_staged(paths=args.files or None, **kwargs)

    if args.format == "text":
        write_text(result, sys.stdout, verbose=args.verbose)
    else:
        from codeaudit.cli._common import output_stream
        from codeaudit.report import render

        with output_stream(args.output) as stream:
            render(result.report, args.format, stream)
        if args.output not in (None, "-"):
            write_text(result, sys.stderr, verbose=args.verbose)
    if result.unchanged:
        sys.stderr.write(unchanged_hint(len(result.unchanged), len(set(args.files)), ranged))
    return EXIT_FINDINGS if result.failed else EXIT_OK


def unchanged_hint(unchanged: int, given: int, ranged: bool = False) -> str:
    """The one line said when files were given that the change does not touch (pre-commit's
    ``--all-files`` passes every tracked file): their committed lines pass unaudited."""
    change = "no change in the pushed range" if ranged else "no staged change"
    return (
        f"codeaudit: {unchanged} of the {given} given file(s) have {change} (pre-commit"
        " --all-files?); the hook audits only the lines a commit adds, so findings already"
        " committed are not audited: run `codeaudit audit .` (or `codeaudit hook --all-lines"
        " FILE…`) to audit them\n"
    )


def _in_git() -> bool:
    from codeaudit.change.gitdiff import repo_root

    try:
        repo_root()
    except InputError:
        return False
    return True


def _cli_config(args: Any) -> Config:
    from codeaudit.config import load_config

    config = load_config(args.config)
    hook = dict(config.auditor_options("hook"))
    for key, value in (("fail_on", args.fail_on), ("ai_fail_on", args.ai_fail_on)):
        if value:
            try:
                Severity.parse(value)
            except ValueError as exc:
                raise ConfigError(f"--{key.replace('_', '-')}: {exc}") from None
            hook[key] = value
    if args.no_markers:
        hook["markers"] = False
    options = {**config.options, "hook": hook}
    return config.with_overrides(options=options)


def _cli_auditors(args: Any) -> list[str] | None:
    if not args.auditors:
        return None
    from codeaudit.config import parse_auditor_list
    from codeaudit.registry import auditor_targets

    return list(parse_auditor_list(args.auditors, available=auditor_targets()))


def main(argv: Sequence[str] | None = None) -> int:
    """The pre-commit entry point: ``codeaudit hook`` with ``argv``; returns the exit code.

    0: nothing blocks · 1: findings at or above the policy · 2: usage, configuration or input error.
    """
    from codeaudit.cli import main as cli_main

    return cli_main(["hook", *(sys.argv[1:] if argv is None else argv)])
