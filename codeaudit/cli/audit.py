"""``codeaudit audit INPUT…``: audit a suggestion batch, source files or a folder and write a report."""

from __future__ import annotations

import argparse
import sys

from ..errors import EXIT_FINDINGS, EXIT_OK, ConfigError, InputError
from ._common import add_progress_flag, output_stream, print_issue, progress_bar, wants_progress

HELP = "audit a suggestion batch (JSONL), a source file, a folder, or - (stdin)"
DESCRIPTION = """\
Audit AI-generated code and write a report.

INPUT is a JSONL batch (one suggestion per line: id, completion, prompt, language, path, tests,
entry_point, task_id, model, meta), a source file, a folder of source files (each file one
suggestion, id = relative path), or - for standard input.

Input problems (malformed lines, missing fields …) are reported one per line on standard error and
the rest of the batch is still audited; exit code 2 only when nothing could be audited or --strict
is given."""


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="JSONL batch, source file, folder, or -")
    p.add_argument("-o", "--output", metavar="FILE", help="write the report here (default: standard output)")
    p.add_argument(
        "--format",
        choices=("table", "json", "sarif", "html"),
        help="report format (default: from -o's extension; else table on a terminal, json otherwise)",
    )
    p.add_argument("--auditors", metavar="LIST", help="comma-separated auditors to run (default: from config, else all)")
    p.add_argument("--fail-on", metavar="SEVERITY", help="exit 1 on findings at or above: info, low, medium, high, critical (default: medium)")
    p.add_argument("--config", metavar="FILE", help="configuration file (default: nearest .codeaudit.toml or pyproject.toml with [tool.codeaudit])")
    p.add_argument("--strict", action="store_true", help="treat any input problem as fatal (exit 2 before auditing)")
    add_progress_flag(p)


def choose_format(args: argparse.Namespace) -> str:
    if args.format:
        return args.format
    if args.output and args.output != "-":
        from pathlib import Path

        from ..report import EXTENSIONS

        return EXTENSIONS.get(Path(args.output).suffix.lower(), "json")
    return "table" if sys.stdout.isatty() else "json"


def load_cli_config(args: argparse.Namespace):
    """Config from --config (or discovery), with --auditors and --fail-on applied."""
    from ..config import load_config, parse_auditor_list
    from ..model import Severity
    from ..registry import auditor_targets

    config = load_config(args.config)
    changes = {}
    if getattr(args, "auditors", None):
        changes["auditors"] = parse_auditor_list(args.auditors, available=auditor_targets())
    if getattr(args, "fail_on", None):
        try:
            changes["fail_on"] = Severity.parse(args.fail_on)
        except ValueError as exc:
            raise ConfigError(f"--fail-on: {exc}") from None
    return config.with_overrides(**changes) if changes else config


def run(args: argparse.Namespace) -> int:
    from ..inputs import Batch, read_input
    from ..pipeline import admit, audit
    from ..report import render

    config = load_cli_config(args)
    fmt = choose_format(args)

    batch = Batch()
    for spec in args.inputs:
        batch.extend(read_input(spec))
    suggestions, admission_issues = admit(batch.suggestions, config)
    issues = [*batch.issues, *admission_issues]
    for issue in issues:
        print_issue(f"input: {issue}")
    if args.strict and issues:
        raise InputError(f"{len(issues)} input problem(s) and --strict is set; nothing audited")
    if not suggestions:
        raise InputError("nothing to audit" + (" (see the input problems above)" if issues else ""))

    with progress_bar("auditing", enabled=wants_progress(args) and len(suggestions) > 1) as update:
        report = audit(suggestions, config, input_issues=issues, progress=update)

    with output_stream(args.output) as stream:
        options = {}
        if fmt == "table":
            options["color"] = stream is sys.stdout and sys.stdout.isatty()
        render(report, fmt, stream, **options)

    return EXIT_FINDINGS if report.failed else EXIT_OK
