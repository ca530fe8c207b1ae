"""Index building, incremental adds, parallel builds, integrity checks and the corpus CLI."""

from __future__ import annotations

import json
import shutil
import sysconfig
from pathlib import Path

import pytest

from codeaudit.corpus import search
from codeaudit.corpus.build import build_index
from codeaudit.corpus.index import ARRAYS, MANIFEST, CorpusIndex, manifest_checksum
from codeaudit.corpus.sources import FolderSource
from codeaudit.errors import InputError, UsageError

STDLIB = Path(sysconfig.get_paths()["stdlib"])


def _sources(*names):
    return [FolderSource(str(STDLIB / n), repo=f"cpython/{n}", suffixes=(".py",)) for n in names]


def _arrays(folder: Path) -> dict[str, bytes]:
    return {name: (folder / name).read_bytes() for name in ARRAYS}


def _manifest(folder: Path) -> dict:
    m = json.loads((folder / MANIFEST).read_text())
    for key in ("build", "checksum", "name"):
        m.pop(key)
    return m


@pytest.fixture(scope="module")
def small_index(tmp_path_factory):
    out = tmp_path_factory.mktemp("idx") / "small.idx"
    build_index(_sources("json", "email", "html"), out, unit_bytes=30_000)
    return out


def test_build_then_find_a_copy_with_its_source_lines(small_index):
    index = CorpusIndex.open(small_index)
    assert index.windows > 1000 and index.manifest["counts"]["files"] >= 30
    lines = (STDLIB / "json" / "decoder.py").read_text().splitlines()
    suggestion = "\n".join(["def unrelated():", "    return 42", ""] + lines[250:275]) + "\n"
    (m,) = search([index], suggestion, "python")
    assert (m.repo, m.path) == ("cpython/json", "decoder.py")
    assert m.source_start_line <= 252 and m.source_end_line >= 270 and m.source_end_line <= 275
    assert m.line >= 4 and m.similarity == 1.0 and m.chars >= 150
    assert search([index], "def f(x):\n    return x + 1\n", "python") == []


def test_add_equals_a_fresh_build(tmp_path, small_index):
    inc = tmp_path / "inc.idx"
    build_index(_sources("json", "email"), inc, unit_bytes=30_000)
    build_index(_sources("html"), inc, base=inc, unit_bytes=30_000)
    assert _arrays(inc) == _arrays(small_index)
    assert _manifest(inc) == _manifest(small_index)


def test_process_pool_and_dask_builds_equal_the_single_process_build(tmp_path, small_index):
    pool = tmp_path / "pool.idx"
    build_index(_sources("json", "email", "html"), pool, workers=2, unit_bytes=30_000)
    assert _arrays(pool) == _arrays(small_index)
    pytest.importorskip("dask.distributed")
    dask = tmp_path / "dask.idx"
    build_index(
        _sources("json", "email", "html"), dask, workers=2, scheduler="local", unit_bytes=30_000
    )
    assert _arrays(dask) == _arrays(small_index)
    assert _manifest(dask) == _manifest(small_index)


def test_existing_output_is_not_overwritten(tmp_path, small_index):
    with pytest.raises(UsageError, match="exists"):
        build_index(_sources("json"), small_index)
    other = tmp_path / "notes"
    other.mkdir()
    (other / "keep.txt").write_text("mine")
    with pytest.raises(UsageError, match="not a corpus index"):
        build_index(_sources("json"), other, force=True)
    assert (other / "keep.txt").read_text() == "mine"


def _copy(src: Path, tmp_path: Path) -> Path:
    dst = tmp_path / "copy.idx"
    shutil.copytree(src, dst)
    return dst


def test_a_flipped_byte_is_caught_by_its_checksum(tmp_path, small_index):
    idx = _copy(small_index, tmp_path)
    CorpusIndex.open(idx)  # verified once; the stamp remembers it
    data = bytearray((idx / "tok.norm").read_bytes())
    data[len(data) // 2] ^= 0x01
    (idx / "tok.norm").write_bytes(bytes(data))
    with pytest.raises(InputError, match="tok.norm fails its CRC-32 check"):
        CorpusIndex.open(idx)


@pytest.mark.parametrize(
    "damage, message",
    [
        (
            lambda d: (d / "lsh.ids").write_bytes((d / "lsh.ids").read_bytes()[:-4]),
            "lsh.ids has .* bytes",
        ),
        (lambda d: (d / "files.tab").unlink(), "missing files.tab"),
        (lambda d: (d / MANIFEST).unlink(), "no manifest.json"),
        (lambda d: (d / MANIFEST).write_text("{"), "unreadable manifest.json"),
        (
            lambda d: _edit(d, lambda m: m["params"].update(num_perm=64), rehash=False),
            "fails its checksum",
        ),
        (
            lambda d: _edit(d, lambda m: m["params"].update(tokenizer_version=999)),
            "tokenizer version 999",
        ),
        (lambda d: _edit(d, lambda m: m.update(format_version=99)), "index format 99"),
    ],
)
def test_damaged_or_incompatible_indexes_are_refused(tmp_path, small_index, damage, message):
    idx = _copy(small_index, tmp_path)
    damage(idx)
    with pytest.raises(InputError, match=message):
        CorpusIndex.open(idx)


def _edit(folder: Path, change, rehash: bool = True) -> None:
    m = json.loads((folder / MANIFEST).read_text())
    change(m)
    if rehash:
        m["checksum"] = manifest_checksum(m)
    (folder / MANIFEST).write_text(json.dumps(m))


def test_lines_decode_across_checkpoints(small_index):
    index = CorpusIndex.open(small_index)
    f = max(range(len(index.files)), key=lambda i: int(index.files[i]["ntok"]))
    start, end = index.file_span(f)
    assert end - start > 3000  # spans several line checkpoints
    all_lines = index.lines(start, end)
    assert all_lines[0] >= 1 and (all_lines[1:] >= all_lines[:-1]).all()
    for a, b in ((start + 1000, start + 1100), (start + 2047, start + 2049), (end - 5, end)):
        assert index.lines(a, b).tolist() == all_lines[a - start : b - start].tolist()


# --- the CLI --------------------------------------------------------------------------------


def test_cli_build_info_query_and_errors(run_cli, tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "LICENSE").write_text(
        "GNU GENERAL PUBLIC LICENSE Version 3 Everyone is permitted to copy and distribute verbatim copies"
    )
    body = (STDLIB / "json" / "encoder.py").read_text()
    (src / "enc.py").write_text(body)
    (src / "blob.py").write_bytes(b"\x00\x01binary")
    done = run_cli("corpus", "build", str(src), "-o", str(tmp_path / "x.idx"), "--no-progress")
    assert done.returncode == 0, done.stderr
    out = done.stdout.decode()
    assert "1 files" in out and "skipped 1 files: 1 binary" in out and "blob.py" in out
    info = run_cli("corpus", "info", str(tmp_path / "x.idx"), "--verify")
    assert (
        info.returncode == 0
        and "skipped 1 files: 1 binary" in info.stdout.decode()
        and "checksums verified" in info.stdout.decode()
    )
    sugg = tmp_path / "s.py"
    sugg.write_text("\n".join(body.splitlines()[100:130]) + "\n")
    q = run_cli("corpus", "query", str(tmp_path / "x.idx"), str(sugg))
    assert (
        q.returncode == 0
        and "verbatim copy of src/enc.py" in q.stdout.decode()
        and "GPL-3.0-only" in q.stdout.decode()
    )
    bad = run_cli("corpus", "info", str(tmp_path / "nope.idx"))
    assert (
        bad.returncode == 2
        and bad.stderr.decode().count("\n") == 1
        and "not found" in bad.stderr.decode()
    )
    again = run_cli("corpus", "build", str(src), "-o", str(tmp_path / "x.idx"))
    assert again.returncode == 2 and "exists" in again.stderr.decode()
    (tmp_path / "x.idx" / "tok.raw").write_bytes(
        b"\x00" * (tmp_path / "x.idx" / "tok.raw").stat().st_size
    )
    audit = run_cli(
        "audit",
        str(sugg),
        "--auditors",
        "memorization",
        "--corpus",
        str(tmp_path / "x.idx"),
        "--format",
        "json",
    )
    assert audit.returncode == 2 and "CRC-32" in audit.stderr.decode()
