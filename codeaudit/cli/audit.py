"""``codeaudit audit INPUT…``: audit a suggestion batch, source files or a folder and write a report."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from ..errors import EXIT_FINDINGS, EXIT_OK, ConfigError, InputError
from ._common import (
    add_progress_flag,
    add_report_options,
    audit_progress,
    print_issue,
    wants_progress,
    write_report,
)

if TYPE_CHECKING:
    from codeaudit.config import Config

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
    p.add_argument(
        "inputs",
        nargs="*",
        metavar="INPUT",
        help="JSONL batch, source file, folder, or - (with --diff: paths to limit the audit to)",
    )
    add_report_options(p)
    p.add_argument(
        "--strict",
        action="store_true",
        help="treat any input problem as fatal (exit 2 before auditing)",
    )
    p.add_argument(
        "--corpus",
        action="append",
        metavar="INDEX",
        help="memorization: search this corpus index (see 'codeaudit corpus build'); repeat for several; "
        "'stdlib' is the default corpus (the running Python's standard library, indexed on first use)",
    )
    p.add_argument(
        "--baseline",
        metavar="FILE",
        help="report only findings not in this baseline (see 'codeaudit baseline'); stale entries go to standard error",
    )
    p.add_argument(
        "--diff",
        metavar="BASE..HEAD",
        help="audit only the lines HEAD adds in the current git repository, at HEAD's paths and lines (BASE...HEAD: from the merge base, for pull requests)",
    )
    p.add_argument(
        "--path-policy",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="lower findings in tests, docs, examples and build tooling (by path convention) below medium "
        "(default: on; --no-path-policy audits a test suite on purpose; see [tool.codeaudit.paths])",
    )
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
    """Config from --config (or discovery), with --auditors, --fail-on and --corpus applied."""
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
    if getattr(args, "corpus", None):
        options = {name: dict(table) for name, table in config.options.items()}
        options.setdefault("memorization", {})["corpora"] = list(args.corpus)
        changes["options"] = options
    if getattr(args, "path_policy", None) is not None:
        options = dict(changes.get("options") or config.options)
        options = {name: dict(table) for name, table in options.items()}
        options.setdefault("paths", {})["enabled"] = bool(args.path_policy)
        changes["options"] = options
    return config.with_overrides(**changes) if changes else config


def run(args: argparse.Namespace) -> int:
    from ..inputs import Batch, read_input
    from ..pipeline import admit, audit

    config = load_cli_config(args)
    fmt = choose_format(args)
    if args.diff:
        return run_audit_diff(args, config, fmt)
    if not args.inputs:
        from ..errors import UsageError

        raise UsageError("give at least one INPUT (or --diff BASE..HEAD)")
    baseline = None
    if args.baseline:
        from codeaudit.change.baseline import Baseline

        baseline = Baseline.load(args.baseline)

    batch = Batch()
    for spec in args.inputs:
        batch.extend(read_input(spec))
    suggestions, admission_issues = admit(batch.suggestions, config)
    issues = _in_input_order([*batch.issues, *admission_issues])
    for issue in issues:
        print_issue(f"input: {issue}")
    if args.strict and issues:
        raise InputError(f"{len(issues)} input problem(s) and --strict is set; nothing audited")
    if not suggestions:
        raise InputError("nothing to audit" + (" (see the input problems above)" if issues else ""))

    show = wants_progress(args) and len(suggestions) > 1
    with audit_progress(len(suggestions), "suggestions", enabled=show) as update:
        report = audit(suggestions, config, input_issues=issues, progress=update, baseline=baseline)
    if baseline is not None:
        for entry in baseline.stale(baseline.key(s) for s in suggestions):
            print_issue(f"baseline: stale entry {entry}")

    _print_auditor_errors(report)

    write_report(report, fmt, args.output)

    return EXIT_FINDINGS if report.failed else EXIT_OK


def _in_input_order(issues):
    """Problems by input, then by line: reading and admission find them in separate passes."""
    first_seen = {}
    for issue in issues:
        first_seen.setdefault(issue.source, len(first_seen))
    return sorted(issues, key=lambda i: (first_seen[i.source], i.line or 0))


def _print_auditor_errors(report) -> None:
    """One line per distinct auditor error, so a crashed auditor is never silent on the console."""
    seen: dict[tuple[str, str, str], int] = {}
    for result in report.results:
        for e in result.errors:
            key = (e.auditor, e.code, e.message)
            seen[key] = seen.get(key, 0) + 1
    for (auditor, code, message), count in seen.items():
        print_issue(f"auditor {auditor}: {code} in {count} suggestion(s): {message}")


def run_audit_diff(args: Any, config: Config, fmt: str) -> int:
    """``codeaudit audit --diff BASE..HEAD``: the report in ``fmt``, exit 1 when something blocks.

    ``--fail-on`` and ``--auditors`` given on the command line win over ``[tool.codeaudit.hook]``.
    """
    from codeaudit.change.hook import audit_diff
    from codeaudit.cli._common import output_stream, print_issue
    from codeaudit.errors import EXIT_FINDINGS, EXIT_OK
    from codeaudit.report import render

    if args.fail_on:
        config = config.with_overrides(
            options={
                **config.options,
                "hook": {**config.auditor_options("hook"), "fail_on": args.fail_on},
            }
        )
    result = audit_diff(
        args.diff,
        paths=args.inputs or None,
        config=config,
        baseline=args.baseline,
        auditors=list(config.auditors) if args.auditors else None,
    )
    for issue in result.report.input_errors:
        print_issue(f"input: {issue}")
    for note in result.notes:
        print_issue(f"note: {note}")
    with output_stream(args.output) as stream:
        options = {"color": stream is sys.stdout and sys.stdout.isatty()} if fmt == "table" else {}
        render(result.report, fmt, stream, **options)
    return EXIT_FINDINGS if result.failed else EXIT_OK
