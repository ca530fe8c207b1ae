"""``codeaudit run``: generate suggestions with a local model, then audit them, in one command."""

from __future__ import annotations

import argparse
import json

from ..errors import EXIT_FINDINGS, EXIT_OK, InputError
from ._common import (
    add_progress_flag,
    add_report_options,
    audit_progress,
    output_stream,
    print_issue,
    wants_progress,
    write_report,
)
from .generate import add_generation_options, produce

HELP = "generate suggestions with a local model, then audit them (generate + audit)"
DESCRIPTION = """\
The whole loop in one command: generate suggestions from PROMPTS.jsonl (or --humaneval) with a
local model, exactly as `codeaudit generate` does, then audit them as `codeaudit audit` does and
write the report. --suggestions FILE also keeps the generated batch.

exit codes: 0 nothing at or above --fail-on · 1 findings at or above it · 2 usage, model or
input error (no output file is left behind)

requires the generate extra: pip install 'codeaudit[generate]'"""


def configure(p: argparse.ArgumentParser) -> None:
    add_generation_options(p)
    p.add_argument(
        "--suggestions", metavar="FILE", help="also write the generated batch (JSONL) here"
    )
    add_report_options(p)
    add_progress_flag(p)


def run(args: argparse.Namespace) -> int:
    from ..inputs import suggestion_from_mapping
    from ..pipeline import admit, audit
    from .audit import choose_format, load_cli_config

    config = load_cli_config(args)  # a bad config fails before the model loads
    fmt = choose_format(args)
    records = produce(args)
    if args.suggestions:
        with output_stream(args.suggestions) as stream:
            for record in records:
                stream.write(json.dumps(record, ensure_ascii=False) + "\n")

    suggestions = []
    for number, record in enumerate(records, start=1):
        suggestion, _problems = suggestion_from_mapping(
            record, default_id=f"line-{number}", origin=f"generated:{number}"
        )
        if suggestion is not None:
            suggestions.append(suggestion)
    suggestions, issues = admit(suggestions, config)
    for issue in issues:
        print_issue(f"input: {issue}")
    if not suggestions:
        raise InputError("nothing to audit: the model produced no suggestions")
    show = wants_progress(args) and len(suggestions) > 1
    with audit_progress(len(suggestions), "suggestions", enabled=show) as update:
        report = audit(suggestions, config, input_issues=issues, progress=update)
    write_report(report, fmt, args.output)
    return EXIT_FINDINGS if report.failed else EXIT_OK
