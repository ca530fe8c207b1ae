"""``codeaudit baseline create|update|check``: record known findings so only new ones are reported."""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import replace
from pathlib import Path

HELP = "record the current findings in a baseline, refresh it, or check the code against it"
DESCRIPTION = """\
A baseline (.codeaudit-baseline.json at the repository root by default) records the findings a
project already has, by rule and fingerprint (no line numbers: entries survive edits and file
moves). `codeaudit hook` and `codeaudit audit --baseline FILE` then report only new findings.

  create [PATH…]  audit the tracked files under PATH (default: the whole repository) and write
                  the baseline; refuses to overwrite one without --force
  update          re-audit the baseline's paths with its auditors and rewrite it: new findings
                  are added, entries nothing matches any more are dropped
  check [PATH…]   audit and list new findings, stale entries and unused inline suppressions;
                  exit 1 on new findings at or above --fail-on (with --strict, also on stale
                  entries and unused suppressions)

Outside a git repository the source files under PATH are audited (paths relative to the
current folder)."""


def configure(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    for name, help_text in (
        ("create", "write a baseline of the current findings"),
        ("update", "rewrite the baseline from a fresh audit of its paths"),
        ("check", "list new findings, stale entries and unused suppressions"),
    ):
        q = sub.add_parser(name, help=help_text, description=help_text)
        if name != "update":
            q.add_argument(
                "paths",
                nargs="*",
                metavar="PATH",
                help="files or folders to audit (default: the repository)",
            )
        q.add_argument(
            "-b",
            "--baseline",
            metavar="FILE",
            help="baseline file (default: .codeaudit-baseline.json at the repository root)",
        )
        q.add_argument(
            "--config",
            metavar="FILE",
            help="configuration file (default: nearest .codeaudit.toml or pyproject.toml)",
        )
        q.add_argument(
            "--auditors",
            metavar="LIST",
            help="comma-separated auditors (default: the baseline's, else all but tests)",
        )
        q.add_argument(
            "--progress",
            action=argparse.BooleanOptionalAction,
            default=None,
            help="progress bar on standard error (default: when it is a terminal)",
        )
        if name == "create":
            q.add_argument("--force", action="store_true", help="overwrite an existing baseline")
        if name == "check":
            q.add_argument(
                "--fail-on",
                metavar="SEVERITY",
                help="exit 1 on new findings at or above this (default: from config, medium)",
            )
            q.add_argument(
                "--strict",
                action="store_true",
                help="also exit 1 on stale entries and unused suppressions",
            )


def run(args: argparse.Namespace) -> int:
    from codeaudit.change.baseline import DEFAULT_FILENAME, Baseline, parameters_for
    from codeaudit.change.hook import HookSettings, write_text

    from ..config import load_config, parse_auditor_list
    from ..errors import EXIT_FINDINGS, EXIT_OK, ConfigError, UsageError
    from ..model import Severity
    from ..registry import auditor_targets
    from ._common import print_issue, wants_progress

    root, in_git = _root()
    target = Path(args.baseline) if args.baseline else root / DEFAULT_FILENAME
    config = load_config(args.config, search_from=root if args.config is None else None)
    settings = HookSettings.from_config(config)
    if getattr(args, "fail_on", None):
        try:
            settings = replace(settings, fail_on=Severity.parse(args.fail_on))
        except ValueError as exc:
            raise ConfigError(f"--fail-on: {exc}") from None

    old: Baseline | None = None
    if args.action in ("update", "check"):
        old = Baseline.load(target, root=root)
        if in_git:
            from codeaudit.change.hook import baseline_renames

            old.renames.update(baseline_renames(root, old, None))
    elif target.exists() and not args.force:
        raise UsageError(
            f"{target} exists: use 'codeaudit baseline update', or --force to start over"
        )

    if args.auditors:
        auditors = list(parse_auditor_list(args.auditors, available=auditor_targets()))
    elif old is not None and isinstance(old.parameters.get("auditors"), list):
        auditors = [str(a) for a in old.parameters["auditors"]]
    else:
        auditors = list(settings.auditors)

    if args.action == "update":
        scope = [str(p) for p in (old.parameters.get("paths") or ["."])]  # type: ignore[union-attr]
        paths = [str(root / p) for p in scope]
    else:
        paths = args.paths or [str(root)]
        scope = sorted({_relative(p, root) for p in paths})

    files = _collect(root, paths, in_git)
    from codeaudit.change.hook import audit_files

    from ._common import audit_progress

    with audit_progress(
        len(files), "files", enabled=wants_progress(args) and len(files) > 1
    ) as update:
        result = audit_files(
            files, config, settings=settings, auditors=auditors, baseline=old, progress=update
        )
    for issue in result.report.input_errors:
        print_issue(f"input: {issue}")

    if args.action in ("create", "update"):
        pairs = [
            (r.suggestion.path or r.id, f)
            for r, f in result.report.findings(include_suppressed=True)
        ]
        new = Baseline.from_findings(
            pairs, parameters=parameters_for(config, auditors, scope), root=root
        )
        new.write(target)
        files_with = len({e.path for e in new.entries})
        if old is None:
            print(
                f"wrote {_show(target)}: {len(new)} finding(s) in {files_with} file(s); audited {len(files)} file(s)"
            )
        else:
            kept = len(old.used)
            print(
                f"updated {_show(target)}: {len(new)} finding(s) in {files_with} file(s)"
                f" ({len(new) - kept} new, {kept} kept, {len(old.stale(None))} stale removed)"
            )
        return EXIT_OK

    assert old is not None
    for warning in old.parameter_warnings(config, auditors):
        print_issue(f"warning: {warning}")
    write_text(result, sys.stdout)
    stale = old.stale([f.path for f in files])
    for entry in stale:
        print(
            f"{entry.path}:{entry.line}: stale baseline entry: {entry.rule_id} {entry.rule_name} [{entry.severity}] (no longer found)"
        )
    new_count = sum(1 for _ in result.report.findings())
    print(
        f"codeaudit baseline check: {new_count} new finding(s), {len(stale)} stale entr{'y' if len(stale) == 1 else 'ies'},"
        f" {len(result.unused_suppressions)} unused suppression(s) in {len(files)} file(s)"
    )
    if result.failed or (args.strict and (stale or result.unused_suppressions)):
        return EXIT_FINDINGS
    return EXIT_OK


def _root() -> tuple[Path, bool]:
    """The repository root (else the current folder) and whether it is a git work tree."""
    from codeaudit.change.gitdiff import repo_root

    from ..errors import InputError

    try:
        return repo_root(), True
    except InputError:
        return Path.cwd(), False


def _relative(path: str, root: Path) -> str:
    rel = os.path.relpath(os.path.abspath(path), root)
    return Path(rel).as_posix()


def _show(path: Path) -> str:
    try:
        return os.path.relpath(path)
    except ValueError:
        return str(path)


def _collect(root: Path, paths: list[str], in_git: bool):
    """The files to audit in full: tracked files under ``paths`` in a git repository (working-tree
    content), else the source files under them."""
    from codeaudit.change.gitdiff import tracked_files
    from codeaudit.change.hook import ChangedFile

    from ..errors import InputError
    from ..inputs import MAX_FILE_BYTES, iter_source_files

    names: list[str] = []
    for p in paths:
        if not os.path.exists(p):
            raise InputError(f"{p}: no such file or folder")
    if in_git:
        names = tracked_files(root, [_relative(p, root) for p in paths])
    else:
        for p in paths:
            q = Path(p)
            found = [q] if q.is_file() else list(iter_source_files(q))
            names.extend(_relative(str(x), root) for x in found)
    files = []
    for name in dict.fromkeys(names):
        full = root / name
        try:
            if full.is_symlink() or not full.is_file() or full.stat().st_size > MAX_FILE_BYTES:
                continue
            content = full.read_bytes()
        except OSError:
            continue
        n = content.count(b"\n") + (0 if content.endswith(b"\n") or not content else 1)
        if n:
            files.append(
                ChangedFile(
                    path=name, content=content, added=frozenset(range(1, n + 1)), status="added"
                )
            )
    return files
