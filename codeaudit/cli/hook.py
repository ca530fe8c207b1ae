"""``codeaudit hook [FILES…]``: audit the lines a commit adds (the pre-commit hook)."""

from __future__ import annotations

import argparse

HELP = "audit only the lines the staged changes add (pre-commit hook)"
DESCRIPTION = """\
Audit the lines the next commit adds, read from the index (the staged version, not the working
tree), with the code around them as context. Findings are reported at working-tree lines; the
command fails (exit 1) when a finding is at or above fail_on, or ai_fail_on for findings in
AI-generated lines (from suggestion logs or "codeaudit: ai-generated" markers). Findings on
unchanged lines are never reported. Policy and defaults come from [tool.codeaudit.hook].

FILES limits the audit to those staged files (pre-commit passes them). Outside a git repository,
or with --all-lines, the given files are audited in full. Under pre-commit's pre-push stage the
pushed range (PRE_COMMIT_FROM_REF...PRE_COMMIT_TO_REF) is audited instead of the index.

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
    # -- warm server call site (codeaudit serve, issue 14): a `codeaudit serve` running for this
    # repository answers instead, with the same findings and exit code; else this runs cold.
    from ..serve.client import warm_hook

    warm = warm_hook(args)
    if warm is not None:
        return warm
    # -- end of the warm server call site
    from ..hook import run as run_hook

    return run_hook(args)
