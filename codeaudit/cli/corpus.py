"""``codeaudit corpus build|add|info|query``: corpus indexes for the memorization auditor."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from ..errors import UsageError
from ._common import add_progress_flag, progress_bar, wants_progress

HELP = "build, extend, inspect and query corpus indexes for the memorization auditor"
DESCRIPTION = """\
Corpus indexes for the memorization auditor.

SOURCE is a folder (every code file under it), a git work tree (the files tracked at HEAD) or
git:PATH@REV (tracked files at any revision), JSONL shards (.jsonl, .jsonl.gz, .ndjson) or Parquet
shards (.parquet) with one file per record in The Stack's shape (content, max_stars_repo_name,
max_stars_repo_path, max_stars_repo_licenses, lang; other shapes with --field-map), or 'stdlib'
(the running Python's standard library).

Unreadable, binary, huge (over --max-file-bytes) or non-UTF-8 files and records without content
are skipped and counted, never fatal. INDEX 'stdlib' in 'info' and 'query' is the default corpus.

examples:
  codeaudit corpus build ~/src/vendor git:../lib@v2.1 -o team.idx --workers 2
  codeaudit corpus build data/the-stack-python/*.parquet -o stack.idx --scheduler tcp://head:8786
  codeaudit corpus build shards/*.jsonl --field-map content=text,repo=repo_name,path=file -o x.idx
  codeaudit corpus add team.idx ~/src/new-service
  codeaudit corpus info team.idx
  codeaudit corpus query team.idx suggestion.py
  codeaudit audit batch.jsonl --corpus team.idx --corpus stdlib"""


def _source_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "sources",
        nargs="+",
        metavar="SOURCE",
        help="folder, git work tree, git:PATH@REV, shard file(s), or stdlib",
    )
    p.add_argument(
        "--workers",
        type=int,
        default=1,
        metavar="N",
        help="processes on this machine (default: 1); with --scheduler local, Dask workers",
    )
    p.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="build on a Dask cluster: a scheduler address (tcp://host:8786), or 'local' for a LocalCluster of --workers processes",
    )
    p.add_argument(
        "--field-map",
        metavar="F=NAME,…",
        help="record field names for shards: content, repo, path, license, language (default: The Stack's)",
    )
    p.add_argument(
        "--max-file-bytes",
        type=int,
        default=None,
        metavar="N",
        help="skip files larger than this (default: 1000000)",
    )
    add_progress_flag(p)


def configure(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="corpus_command", metavar="ACTION", required=True)
    b = sub.add_parser(
        "build",
        help="index sources into a new index folder",
        description="Index SOURCEs into a new index folder INDEX.",
    )
    _source_options(b)
    b.add_argument("-o", "--output", required=True, metavar="INDEX", help="index folder to create")
    b.add_argument("--name", help="name shown in reports (default: the folder's name)")
    b.add_argument("--force", action="store_true", help="replace INDEX if it exists")
    a = sub.add_parser(
        "add",
        help="add sources to an existing index",
        description="Add SOURCEs to the index INDEX (the result equals a fresh build of all sources).",
    )
    a.add_argument("index", metavar="INDEX")
    _source_options(a)
    i = sub.add_parser(
        "info",
        help="describe an index",
        description="Show an index's contents, parameters, sources and skipped files.",
    )
    i.add_argument("index", metavar="INDEX")
    i.add_argument("--verify", action="store_true", help="check every array's CRC-32 now")
    i.add_argument("--json", action="store_true", help="print the manifest as JSON")
    q = sub.add_parser(
        "query",
        help="find corpus copies in a file",
        description="Search FILE (or - for standard input) in INDEX and print the copies found.",
    )
    q.add_argument("index", metavar="INDEX")
    q.add_argument("file", metavar="FILE")
    q.add_argument(
        "--language", help="language of FILE (default: from its extension, else its content)"
    )
    q.add_argument(
        "--all",
        action="store_true",
        help="also show verified matches below the reporting thresholds",
    )
    q.add_argument("--json", action="store_true", help="print matches as JSON")


def run(args: argparse.Namespace) -> int:
    return {"build": _build, "add": _add, "info": _info, "query": _query}[args.corpus_command](args)


def _sources(args: argparse.Namespace) -> list[Any]:
    from ..corpus.sources import MAX_FILE_BYTES, parse_field_map, parse_sources

    if args.workers < 1:
        raise UsageError("--workers must be at least 1")
    max_bytes = args.max_file_bytes if args.max_file_bytes is not None else MAX_FILE_BYTES
    if max_bytes < 1:
        raise UsageError("--max-file-bytes must be positive")
    return parse_sources(args.sources, fields=parse_field_map(args.field_map), max_bytes=max_bytes)


def _summary(manifest: dict[str, Any], folder: Path, seconds: float | None = None) -> None:
    c = manifest["counts"]
    size = sum(v["bytes"] for v in manifest["arrays"].values())
    per_window = size / c["windows"] if c["windows"] else 0
    took = f" in {seconds:.1f} s" if seconds is not None else ""
    print(
        f"{folder}: {c['files']:,} files, {c['tokens']:,} tokens, {c['windows']:,} windows, {size / 1e6:.1f} MB ({per_window:.0f} bytes/window){took}"
    )
    skipped = manifest.get("skipped", {})
    if skipped:
        parts = ", ".join(f"{n:,} {reason}" for reason, n in skipped.items())
        print(f"skipped {sum(skipped.values()):,} files: {parts}")
        for ex in manifest.get("skipped_examples", [])[:5]:
            print(
                f"  {ex['file']}: {ex['reason']}{' (' + ex['detail'] + ')' if ex.get('detail') else ''}"
            )
    if c.get("short_files"):
        print(f"{c['short_files']:,} files too short to index (fewer tokens than one shingle)")


def _build(args: argparse.Namespace) -> int:
    from ..corpus.build import build_index

    sources = _sources(args)
    started = time.perf_counter()
    with progress_bar("indexing", enabled=wants_progress(args)) as update:
        manifest = build_index(
            sources,
            args.output,
            workers=args.workers,
            scheduler=args.scheduler,
            progress=update,
            name=args.name,
            force=args.force,
        )
    _summary(manifest, Path(args.output), time.perf_counter() - started)
    return 0


def _add(args: argparse.Namespace) -> int:
    from ..corpus.build import build_index

    sources = _sources(args)
    started = time.perf_counter()
    with progress_bar("indexing", enabled=wants_progress(args)) as update:
        manifest = build_index(
            sources,
            args.index,
            workers=args.workers,
            scheduler=args.scheduler,
            progress=update,
            base=args.index,
        )
    _summary(manifest, Path(args.index), time.perf_counter() - started)
    return 0


def _open(name: str, verify: str = "auto") -> Any:
    from ..corpus.default import DEFAULT_NAME, open_default_index
    from ..corpus.index import CorpusIndex

    if name == DEFAULT_NAME:
        return (
            open_default_index()
            if verify != "full"
            else CorpusIndex.open(open_default_index().path, verify="full")
        )
    return CorpusIndex.open(name, verify=verify)


def _info(args: argparse.Namespace) -> int:
    index = _open(args.index, "full" if args.verify else "auto")
    m = index.manifest
    if args.json:
        json.dump(m, sys.stdout, indent=1, sort_keys=True)
        print()
        return 0
    _summary(m, index.path)
    langs = m.get("languages", {})
    if langs:
        print(
            "languages: "
            + ", ".join(f"{k} {v:,}" for k, v in sorted(langs.items(), key=lambda kv: -kv[1]))
        )
    p = m["params"]
    print(
        f"format {m['format_version']}, tokenizer {p['tokenizer_version']}, shingle {p['shingle']} tokens, window {p['window']} shingles "
        f"every {p['stride']} (queries every {p['query_stride']}), MinHash {p['num_perm']} permutations (datasketch {p['scheme']}, seed {p['seed']}), "
        f"LSH {p['bands']} bands x {p['rows']} rows (threshold ~{p['lsh_threshold']}), buckets over {p['max_bucket']} windows collapsed"
    )
    for src in m["sources"]:
        detail = src.get("root") or ", ".join(src.get("paths", [])[:3]) + (
            " …" if len(src.get("paths", [])) > 3 else ""
        )
        rev = f" @ {src['commit'][:12]}" if src.get("commit") else ""
        print(f"source: {src['kind']} {detail}{rev}")
    if args.verify:
        print("all checksums verified")
    return 0


def _query(args: argparse.Namespace) -> int:
    from .. import languages
    from ..corpus import search
    from ..inputs import decode_source

    index = _open(args.index)
    if args.file == "-":
        data = sys.stdin.buffer.read()
    else:
        try:
            data = Path(args.file).read_bytes()
        except OSError as exc:
            raise UsageError(f"{args.file}: cannot read: {exc.strerror or exc}") from None
    text, problem = decode_source(data)
    if problem:
        print(f"codeaudit: {args.file}: {problem}", file=sys.stderr)
    language = languages.normalize(args.language) if args.language else None
    if args.language and language is None:
        raise UsageError(f"--language: unknown language {args.language!r}")
    language = language or languages.from_path(args.file) or languages.detect(text)
    matches = search([index], text, language, report_all=args.all)
    if args.json:
        out = [
            {
                "line": m.line,
                "end_line": m.end_line,
                "source": m.source(),
                "similarity": m.similarity,
                "matched_chars": m.chars,
                "matched_tokens": m.tokens,
                "kind": m.kind,
            }
            for m in matches
        ]
        json.dump(out, sys.stdout, indent=1)
        print()
        return 0
    if not matches:
        print(f"{args.file}: no copies of {index.name} found")
    for m in matches:
        print(
            f"{args.file}:{m.line}-{m.end_line}: {m.kind} copy of {m.repo}/{m.path}:{m.source_start_line}-{m.source_end_line} "
            f"({m.license}): {m.chars} characters, {m.tokens} tokens, similarity {m.similarity:.2f}"
        )
    return 0
