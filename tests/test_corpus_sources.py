"""Corpus sources: folders, git revisions, JSONL and Parquet shards, licences, bad input."""

from __future__ import annotations

import gzip
import json
import os

import pytest
from helpers.git import git

from codeaudit.corpus import licenses
from codeaudit.corpus.build import iter_documents
from codeaudit.corpus.sources import (
    FieldMap,
    FolderSource,
    GitSource,
    ShardSource,
    Skipped,
    parse_field_map,
    parse_source,
    stdlib_source,
)
from codeaudit.errors import UsageError

CODE = "def total(items):\n    result = 0\n    for item in items:\n        result += item\n    return result\n"


def _docs(source):
    docs = list(iter_documents([source]))
    return [d for d in docs if not isinstance(d, Skipped)], [
        d for d in docs if isinstance(d, Skipped)
    ]


# --- licences -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, spdx",
    [
        (
            "MIT License\n\nPermission is hereby granted, free of charge, to any person obtaining a copy of this software",
            "MIT",
        ),
        ("Apache License\n   Version 2.0, January 2004\n", "Apache-2.0"),
        (
            "Redistribution and use in source and binary forms, with or without modification ... Neither the name of",
            "BSD-3-Clause",
        ),
        (
            "Redistribution and use in source and binary forms, with or without\nmodification, are permitted",
            "BSD-2-Clause",
        ),
        (
            "GNU GENERAL PUBLIC LICENSE\n Version 3, 29 June 2007\n Everyone is permitted to copy and distribute verbatim copies",
            "GPL-3.0-only",
        ),
        (
            "This program is free software; you can redistribute it and/or modify it under the terms of the GNU General "
            "Public License as published by the Free Software Foundation; either version 2 of the License, or (at your option) any later version.",
            "GPL-2.0-or-later",
        ),
        (
            "GNU LESSER GENERAL PUBLIC LICENSE Version 2.1, February 1999 Everyone is permitted to copy and distribute verbatim copies",
            "LGPL-2.1-only",
        ),
        ("Mozilla Public License Version 2.0", "MPL-2.0"),
        (
            "PYTHON SOFTWARE FOUNDATION LICENSE VERSION 2\n1. This LICENSE AGREEMENT is between",
            "PSF-2.0",
        ),
        ("This is free and unencumbered software released into the public domain.", "Unlicense"),
        ("All rights reserved. Do not copy.", licenses.UNKNOWN),
    ],
)
def test_licence_texts_are_recognised_by_key_phrases(text, spdx):
    assert licenses.classify_text(text) == spdx


def test_a_licence_that_mentions_the_gpl_is_not_the_gpl():
    text = "Most releases are GPL-compatible (see the GNU General Public License).\n\nPYTHON SOFTWARE FOUNDATION LICENSE VERSION 2\n"
    assert licenses.classify_text(text) == "PSF-2.0"


def test_first_licence_in_a_bundle_wins():
    text = "Permission is hereby granted, free of charge, to any person obtaining a copy\n\n--- bundled ---\nGNU GENERAL PUBLIC LICENSE Version 3 Everyone is permitted to copy and distribute verbatim copies"
    assert licenses.classify_text(text) == "MIT"


def test_spdx_lines_records_and_copyleft():
    assert (
        licenses.spdx_from_source("/* SPDX-License-Identifier: Apache-2.0 OR MIT */\nint x;")
        == "Apache-2.0 OR MIT"
    )
    assert licenses.spdx_from_source("x = 1\n") is None
    assert licenses.from_record(["MIT", "BSD-3-Clause", "MIT"]) == "MIT AND BSD-3-Clause"
    assert licenses.from_record([]) is None and licenses.from_record(None) is None
    assert licenses.is_copyleft("GPL-3.0-only") and licenses.is_copyleft(
        "Apache-2.0 AND LGPL-2.1-only"
    )
    assert (
        not licenses.is_copyleft("MIT")
        and licenses.is_unknown(None)
        and licenses.is_unknown("NOASSERTION")
    )
    assert (
        licenses.is_license_file("LICENSE.txt")
        and licenses.is_license_file("COPYING")
        and not licenses.is_license_file("license.py")
    )


# --- folders --------------------------------------------------------------------------------


def test_folder_source_keeps_repo_path_and_nearest_licence(tmp_path):
    root = tmp_path / "proj"
    (root / "pkg" / "vendored").mkdir(parents=True)
    (root / "LICENSE").write_text(
        "Permission is hereby granted, free of charge, to any person obtaining a copy"
    )
    (root / "pkg" / "core.py").write_text(CODE)
    (root / "pkg" / "vendored" / "COPYING").write_text(
        "GNU GENERAL PUBLIC LICENSE Version 2 Everyone is permitted to copy and distribute verbatim copies"
    )
    (root / "pkg" / "vendored" / "old.py").write_text(CODE)
    (root / "pkg" / "own.py").write_text("# SPDX-License-Identifier: Apache-2.0\n" + CODE)
    (root / "README.md").write_text("not code")
    (root / "__pycache__").mkdir()
    (root / "__pycache__" / "x.py").write_text(CODE)
    docs, skipped = _docs(FolderSource(str(root), repo="acme/proj"))
    got = {d.path: (d.repo, d.license, d.language) for d in docs}
    assert got == {
        "pkg/core.py": ("acme/proj", "MIT", "python"),
        "pkg/own.py": ("acme/proj", "Apache-2.0", "python"),
        "pkg/vendored/old.py": ("acme/proj", "GPL-2.0-only", "python"),
    }
    assert skipped == []


def test_bad_files_are_skipped_and_counted(tmp_path):
    root = tmp_path / "bad"
    root.mkdir()
    (root / "ok.py").write_text(CODE)
    (root / "binary.py").write_bytes(b"x = 1\n\x00\x01\x02")
    (root / "latin1.py").write_bytes("s = 'caf\xe9'\n".encode("latin-1"))
    (root / "huge.py").write_text("x = 1\n" * 50_000)
    os.symlink(root / "missing.py", root / "dangling.py")
    docs, skipped = _docs(FolderSource(str(root), max_bytes=100_000))
    assert [d.path for d in docs] == ["ok.py"]
    reasons = {s.where.rsplit(":", 1)[1]: s.reason for s in skipped}
    assert reasons == {
        "binary.py": "binary",
        "latin1.py": "encoding",
        "huge.py": "too-large",
        "dangling.py": "unreadable",
    }


def test_stdlib_source_is_the_running_interpreters():
    src = stdlib_source()
    assert src.repo == "python/cpython" and src.license == "PSF-2.0"
    units = src.units()
    paths = [p for u in units for p in u.paths]
    assert "json/decoder.py" in paths and not any(p.startswith("test/") for p in paths)


# --- git ------------------------------------------------------------------------------------


_git = git  # the shared helper (tests/helpers/git.py)


def test_git_source_reads_tracked_files_at_a_revision(tmp_path):
    repo = tmp_path / "repo"
    repo.mkdir()
    _git(repo, "init", "-q")
    _git(repo, "remote", "add", "origin", "git@github.com:acme/widgets.git")
    (repo / "LICENSE").write_text("Mozilla Public License Version 2.0")
    (repo / "a.py").write_text(CODE)
    _git(repo, "add", "LICENSE", "a.py")
    _git(repo, "commit", "-q", "-m", "one")
    _git(repo, "tag", "v1")
    (repo / "b.py").write_text(CODE.replace("total", "amount"))
    _git(repo, "add", "b.py")
    _git(repo, "commit", "-q", "-m", "two")
    (repo / "a.py").write_text("changed in the work tree, not committed\n")
    (repo / "untracked.py").write_text(CODE)

    head, _ = _docs(parse_source(str(repo)))
    assert {d.path: (d.repo, d.license) for d in head} == {
        "a.py": ("acme/widgets", "MPL-2.0"),
        "b.py": ("acme/widgets", "MPL-2.0"),
    }
    assert (
        next(d for d in head if d.path == "a.py").text == CODE
    )  # the commit's content, not the work tree's
    v1, _ = _docs(parse_source(f"git:{repo}@v1"))
    assert [d.path for d in v1] == ["a.py"]
    with pytest.raises(UsageError, match="rev-parse"):
        GitSource(str(repo), "no-such-rev").units()


# --- shards ---------------------------------------------------------------------------------


def _records():
    return [
        {
            "content": CODE,
            "max_stars_repo_name": "acme/a",
            "max_stars_repo_path": "src/a.py",
            "max_stars_repo_licenses": ["MIT"],
            "lang": "Python",
        },
        {
            "content": "int add(int a, int b) { return a + b; }\n",
            "max_stars_repo_name": "acme/c",
            "max_stars_repo_path": "add.c",
            "max_stars_repo_licenses": ["GPL-2.0-only"],
        },
        {"content": None, "max_stars_repo_name": "acme/d", "max_stars_repo_path": "none.py"},
        {
            "content": "x = '\x00'\n",
            "max_stars_repo_name": "acme/e",
            "max_stars_repo_path": "nul.py",
        },
    ]


def test_jsonl_shards_in_the_stacks_shape(tmp_path):
    shard = tmp_path / "part-0.jsonl"
    lines = [json.dumps(r) for r in _records()]
    lines.insert(2, "{not json")
    shard.write_text("\n".join(lines) + "\n")
    gz = tmp_path / "part-1.jsonl.gz"
    with gzip.open(gz, "wt") as fh:
        fh.write(json.dumps(_records()[0]) + "\n")
    docs, skipped = _docs(ShardSource((str(shard), str(gz))))
    assert [(d.repo, d.path, d.license, d.language) for d in docs] == [
        ("acme/a", "src/a.py", "MIT", "python"),
        ("acme/c", "add.c", "GPL-2.0-only", "c"),
        ("acme/a", "src/a.py", "MIT", "python"),
    ]
    assert sorted(s.reason for s in skipped) == ["bad-record", "bad-record", "binary"]


def test_jsonl_byte_ranges_cover_every_record_once(tmp_path):
    shard = tmp_path / "many.jsonl"
    rows = [
        {"content": f"x{i} = {i}\n", "max_stars_repo_name": "r", "max_stars_repo_path": f"{i}.py"}
        for i in range(200)
    ]
    shard.write_text("".join(json.dumps(r) + "\n" for r in rows))
    units = ShardSource((str(shard),)).units(unit_bytes=997)
    assert len(units) > 5
    paths = [d.path for u in units for d in u.read()]
    assert paths == [f"{i}.py" for i in range(200)]


def test_field_map_for_other_shapes(tmp_path):
    shard = tmp_path / "other.jsonl"
    shard.write_text(
        json.dumps({"text": CODE, "repository": "x/y", "file": "m.py", "licence": "Apache-2.0"})
        + "\n"
    )
    fm = parse_field_map("content=text,repo=repository,path=file,license=licence")
    docs, _ = _docs(ShardSource((str(shard),), fm))
    assert [(d.repo, d.path, d.license) for d in docs] == [("x/y", "m.py", "Apache-2.0")]
    with pytest.raises(UsageError, match="unknown field"):
        parse_field_map("body=text")
    with pytest.raises(UsageError, match="FIELD=NAME"):
        parse_field_map("content")


def test_parquet_shards(tmp_path):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    table = pa.Table.from_pylist(_records())
    path = tmp_path / "part.parquet"
    pq.write_table(table, path, row_group_size=2)
    units = ShardSource((str(path),)).units()
    assert len(units) == 2  # one unit per row group
    docs, skipped = _docs(ShardSource((str(path),)))
    assert [(d.repo, d.path, d.license) for d in docs] == [
        ("acme/a", "src/a.py", "MIT"),
        ("acme/c", "add.c", "GPL-2.0-only"),
    ]
    assert sorted(s.reason for s in skipped) == ["bad-record", "binary"]
    broken = tmp_path / "broken.parquet"
    broken.write_bytes(b"PAR1 not really")
    with pytest.raises(UsageError, match="not a readable Parquet file"):
        ShardSource((str(broken),)).units()


def test_source_arguments(tmp_path):
    with pytest.raises(UsageError, match="no such file"):
        parse_source(str(tmp_path / "nope"))
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(UsageError, match="not a folder, git repository or shard"):
        parse_source(str(tmp_path / "notes.txt"))
    assert (
        isinstance(parse_source("x.jsonl"), ShardSource)
        and parse_source("x.jsonl").fields == FieldMap()
    )


def test_the_bundled_sample_shard():
    sample = os.path.join(
        os.path.dirname(__file__), "..", "corpora", "samples", "stack-sample.jsonl"
    )
    docs, skipped = _docs(ShardSource((sample,)))
    assert [(d.repo, d.license, d.language) for d in docs] == [
        ("example/ring", "MIT", "python"),
        ("example/clamp", "GPL-2.0-only", "c"),
        ("example/debounce", licenses.UNKNOWN, "javascript"),
    ]
    assert [s.reason for s in skipped] == ["bad-record"]
