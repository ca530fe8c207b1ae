"""Memorization auditor: detection quality, build speed and size, load time, query latency, memory.

Run: ``.venv/bin/python benchmarks/bench_memorization.py`` (a few minutes; heavy parts should run
under ``flock /tmp/codeaudit-heavy.lock``). Writes ``benchmarks/results/memorization.json``.

Sections (each prints a table):

1. **Detection** on real code read at run time (``codeaudit/auditors/memorization/cases.py``): a held-out split
   (``TEST_CORPUS``, never used to choose thresholds) and the development split; recall per edit
   kind, precision, location accuracy, recall by copy length, all through ``codeaudit.audit``.
2. **Build, side by side on the same windows** (the default corpus: the standard library without
   its tests): ``build_index`` against the plain datasketch recipe (``MinHash.bulk`` with its
   default SHA-1 hash over each window's shingles, inserted into an in-memory ``MinHashLSH``
   with the same 8 x 4 banding), both from the same files with the same tokenizer. Also the
   index's bytes per window against the recipe's resident bytes per window, and both query
   paths on the same suggestions (the recipe's query returns unverified candidates only).
3. **A large index** (>= 1 million windows: the whole standard library with its tests plus
   sympy): load time, resident memory while querying, end-to-end latency of 30-line suggestions
   through the auditor (``MemorizationAuditor.audit_one``: lexing, candidates, verification,
   findings), measured in a fresh process after one warm-up pass; each query is timed three
   times: the first run gives the reported percentiles, the best of three shows the cost
   without preemption by other processes; and how build time, size and latency grow at
   25 / 50 / 100 % of that corpus.
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

# _common is found beside this script (a script's folder is on the path when it runs).
from _common import median, p99, write_results

from codeaudit import Config, audit
from codeaudit.auditors.memorization import cases as mc
from codeaudit.corpus.build import build_index
from codeaudit.corpus.sources import FolderSource, stdlib_source

ROOT = Path(__file__).resolve().parent.parent

STDLIB = Path(sysconfig.get_paths()["stdlib"])
TARGETS = {
    "recall_verbatim": 0.95,
    "recall_renamed": 0.85,
    "precision": 0.98,
    "location": 0.95,
    "build_speedup": 3.0,
    "bytes_per_window": 200,
    "rss_per_window": 300,
    "load_s": 0.5,
    "query_p99_ms": 5.0,
}


def rss_bytes() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def index_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.iterdir() if p.is_file())


# --- 1. detection ---------------------------------------------------------------------------------


def detection(
    corpus: tuple[str, ...],
    negatives: tuple[str, ...],
    per_kind: int,
    n_negative: int,
    seed: int,
    work: Path,
) -> dict:
    folder = work / f"det-{corpus[0]}.idx"
    build_index([FolderSource(str(mc.package_root(p)), repo=p) for p in corpus], folder)
    cases = mc.make_cases(corpus, negatives, per_kind=per_kind, n_negative=n_negative, seed=seed)
    config = Config(options={"memorization": {"corpora": [str(folder)]}})
    report = audit(
        [{"id": c.id, "completion": c.completion, "language": c.language} for c in cases],
        config,
        auditors=["memorization"],
    )
    reported: dict[str, list] = {}
    below_chars = 0
    for result, f in report.findings():
        src = f.evidence["source"]
        reported.setdefault(result.id, []).append(
            mc.Reported(
                src["repo"], src["path"], src["start_line"], src["end_line"], f.line, f.end_line
            )
        )
        below_chars += f.evidence["matched_chars"] < 150
    out = mc.score(cases, reported)
    # Recall by the copy's length in lines (the 150-character rule alone would miss short copies).
    by_len: dict[str, list[int]] = {}
    for c in cases:
        if c.source is None:
            continue
        n = c.lines[1] - c.lines[0] + 1  # type: ignore[index]
        bucket = "6-10" if n <= 10 else "11-20" if n <= 20 else "21+"
        hit = any(r.line <= c.lines[1] and r.end_line >= c.lines[0] for r in reported.get(c.id, []))  # type: ignore[index]
        by_len.setdefault(bucket, [0, 0])
        by_len[bucket][0] += hit
        by_len[bucket][1] += 1
    out["recall_by_copy_lines"] = {k: round(h / n, 4) for k, (h, n) in sorted(by_len.items())}
    out["reports_below_150_chars"] = below_chars
    out["corpus"] = list(corpus)
    out["negatives"] = list(negatives)
    return out


# --- 2. build against the datasketch recipe --------------------------------------------------------


def recipe_windows(sources, params):
    """The recipe's input: per window, its shingles as bytes, from the same tokens as ours."""
    from codeaudit.corpus import minhash
    from codeaudit.corpus.build import iter_documents
    from codeaudit.corpus.sources import Skipped
    from codeaudit.corpus.tokens import tokenize

    for doc in iter_documents(sources):
        if isinstance(doc, Skipped):
            continue
        ts = tokenize(doc.text, doc.language)
        shingles = minhash.shingle_bytes(ts.norm, params.shingle)
        if not shingles:
            continue
        for j in range(minhash.window_count(len(shingles), params)):
            yield shingles[j * params.stride : j * params.stride + params.window]


def run_recipe(sources, params, chunk: int = 20_000) -> dict:
    from datasketch import MinHash, MinHashLSH

    gc.collect()
    before = rss_bytes()
    started = time.perf_counter()
    lsh = MinHashLSH(num_perm=params.num_perm, params=(params.bands, params.rows))
    batch: list[list[bytes]] = []
    n = 0

    def flush() -> None:
        nonlocal n, batch
        for m in MinHash.bulk(batch, num_perm=params.num_perm, seed=params.seed):
            lsh.insert(n, m)
            n += 1
        batch = []

    for window in recipe_windows(sources, params):
        batch.append(window)
        if len(batch) == chunk:
            flush()
    flush()
    seconds = time.perf_counter() - started
    gc.collect()
    return {"seconds": seconds, "windows": n, "rss_bytes": rss_bytes() - before, "lsh": lsh}


def recipe_query_ms(lsh, params, texts: list[str]) -> list[float]:
    """The recipe's query for the same suggestions: MinHash of every query window (our stride),
    then MinHashLSH.query for each; candidates only, nothing verified."""
    from datasketch import MinHash

    from codeaudit.corpus import minhash
    from codeaudit.corpus.match import query_views

    out = []
    for text in texts:
        t = time.perf_counter()
        for view in query_views(text, "python"):
            sh = minhash.shingle_bytes(view.stream.norm, params.shingle)
            wins = [
                sh[i : i + params.window]
                for i in range(0, max(1, len(sh) - params.window + 1), params.query_stride)
            ]
            for m in MinHash.bulk(
                [w for w in wins if w], num_perm=params.num_perm, seed=params.seed
            ):
                lsh.query(m)
        out.append((time.perf_counter() - t) * 1000)
    return out


def thirty_line_queries(files: list[Path], negatives: list[Path], n: int, seed: int) -> list[str]:
    """Half copies of 30 lines from the corpus files (verbatim, renamed or embedded), half 30
    lines of code from elsewhere."""
    rng = random.Random(seed)
    out: list[str] = []
    while len(out) < n:
        copy = len(out) % 2 == 0
        path = rng.choice(files if copy else negatives)
        try:
            lines = path.read_text("utf-8").splitlines()
        except (OSError, UnicodeDecodeError):
            continue
        if len(lines) < 40:
            continue
        a = rng.randrange(0, len(lines) - 30)
        body = lines[a : a + 30]
        if copy and rng.random() < 0.3:
            body = mc._rename(body, rng) or body
        out.append("\n".join(body) + "\n")
    return out


# --- 3. the large index, measured in a fresh process ----------------------------------------------

PROBE = r"""
import json, sys, time
def rss():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
from codeaudit.auditors.memorization.auditor import MemorizationAuditor
from codeaudit.config import Config
from codeaudit.corpus.index import CorpusIndex
from codeaudit.model import Suggestion
import numpy
queries = json.load(open({queries!r}))
before = rss()
t = time.perf_counter(); CorpusIndex.open({index!r}, verify="full"); full = time.perf_counter() - t
t = time.perf_counter(); CorpusIndex.open({index!r}); load = time.perf_counter() - t
opened = rss()
auditor = MemorizationAuditor(Config(options={{"memorization": {{"corpora": [{index!r}]}}}}))
for i, q in enumerate(queries):  # a first pass warms the page cache
    auditor.audit_one(Suggestion(id=str(i), completion=q, language="python"))
lat, best, found = [], [], 0
for i, q in enumerate(queries):
    s = Suggestion(id=str(i), completion=q, language="python")
    runs = []
    for _ in range(3):
        t = time.perf_counter(); out = auditor.audit_one(s); runs.append((time.perf_counter() - t) * 1000)
    lat.append(runs[0]); best.append(min(runs)); found += bool(out.findings)
print(json.dumps({{"load_s": load, "load_full_crc_s": full, "rss_open": opened - before, "rss_after": rss() - before,
                  "latency_ms": lat, "best_of_3_ms": best, "with_findings": found}}))
"""


def probe(index: Path, queries_file: Path) -> dict:
    code = PROBE.format(queries=str(queries_file), index=str(index))
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-3000:])
    return json.loads(done.stdout.strip().splitlines()[-1])


def big_sources(fraction: float) -> list[FolderSource]:
    """Whole standard library (tests included) + sympy; a fraction keeps every k-th file."""
    full = [
        FolderSource(
            str(STDLIB),
            repo="python/cpython",
            prefix="Lib/",
            suffixes=(".py",),
            exclude_dirs=frozenset(("site-packages",)),
        ),
        FolderSource(str(mc.package_root("sympy")), repo="sympy/sympy"),
    ]
    if fraction >= 1:
        return full
    return [_Subset(src, fraction) for src in full]  # type: ignore[misc]


class _Subset:
    """Every k-th work unit of a source (nested: the 25 % subset lies inside the 50 % one)."""

    def __init__(self, src: FolderSource, fraction: float) -> None:
        self.src, self.step = src, round(1 / fraction)

    def units(self, unit_bytes: int | None = None):
        units = self.src.units(unit_bytes) if unit_bytes else self.src.units()
        return units[:: self.step]

    def describe(self):
        return {**self.src.describe(), "subset": 1 / self.step}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--quick",
        action="store_true",
        help="smaller sets (a smoke run; figures not for the record)",
    )
    ap.add_argument("--no-write", action="store_true", help="print only")
    args = ap.parse_args()
    per_kind, n_neg, n_q = (30, 60, 60) if args.quick else (200, 400, 400)
    work = Path(tempfile.mkdtemp(prefix="bench-mem-"))
    results: dict = {"targets": TARGETS}
    try:
        # 1. detection
        print("== detection (recall per edit kind, precision, location), through codeaudit.audit")
        det = {
            "held_out": detection(mc.TEST_CORPUS, mc.TEST_NEGATIVES, per_kind, n_neg, 1, work),
            "development": detection(mc.DEV_CORPUS, mc.DEV_NEGATIVES, per_kind, n_neg, 1, work),
        }
        for name, d in det.items():
            row = {k: v.get("recall") for k, v in d["kinds"].items() if k != "negative"}
            print(
                f"{name:12s} recall {row}  precision {d['precision']}  location {d['location_accuracy']}  by lines {d['recall_by_copy_lines']}  "
                f"false positives {d['false_positives']} (genuine copies elsewhere: {d['genuine_copies_elsewhere']})"
            )
        results["detection"] = det

        # 2. build side by side on the default corpus
        print(
            "\n== build, same windows: codeaudit build_index vs datasketch MinHash.bulk + MinHashLSH (in memory)"
        )
        sources = [stdlib_source()]
        from codeaudit.corpus.params import IndexParams

        params = IndexParams()
        ours_s, ours_par = [], []
        for i in range(3):
            out = work / f"std{i}.idx"
            t = time.perf_counter()
            m = build_index(sources, out)
            ours_s.append(time.perf_counter() - t)
            shutil.rmtree(out)
        for i in range(2):
            out = work / f"stdp{i}.idx"
            t = time.perf_counter()
            build_index(sources, out, workers=2)
            ours_par.append(time.perf_counter() - t)
            shutil.rmtree(out)
        out = work / "std.idx"
        m = build_index(sources, out)
        windows = m["counts"]["windows"]
        recipe = run_recipe(sources, params)
        assert recipe["windows"] == windows, (recipe["windows"], windows)
        files = [Path(u.root) / p for u in stdlib_source().units() for p in u.paths]
        negatives = [
            p
            for pkg in ("networkx", "scipy")
            for p in (mc.package_root(pkg) or Path("/nonexistent")).rglob("*.py")
        ][:4000]
        qtexts = thirty_line_queries(files, negatives, n_q, 7)
        rq = recipe_query_ms(recipe["lsh"], params, qtexts[:200])
        del recipe["lsh"]
        gc.collect()
        qfile = work / "std-queries.json"
        qfile.write_text(json.dumps(qtexts))
        std_probe = probe(out, qfile)
        build = {
            "corpus": "standard library without tests (the default corpus)",
            "windows": windows,
            "tokens": m["counts"]["tokens"],
            "files": m["counts"]["files"],
            "ours_seconds_median": round(median(ours_s), 3),
            "ours_seconds_runs": [round(x, 3) for x in ours_s],
            "ours_2_workers_seconds_median": round(median(ours_par), 3),
            "recipe_seconds": round(recipe["seconds"], 3),
            "speedup": round(recipe["seconds"] / median(ours_s), 2),
            "ours_index_bytes_per_window": round(index_bytes(out) / windows, 1),
            "recipe_resident_bytes_per_window": round(recipe["rss_bytes"] / windows, 1),
            "ours_resident_bytes_per_window_querying": round(std_probe["rss_after"] / windows, 1),
            "ours_query_ms_p50": round(median(std_probe["latency_ms"]), 3),
            "ours_query_ms_p99": round(p99(std_probe["latency_ms"]), 3),
            "ours_query_best_of_3_ms_p99": round(p99(std_probe["best_of_3_ms"]), 3),
            "recipe_query_ms_p50_unverified": round(median(rq), 3),
            "recipe_query_ms_p99_unverified": round(p99(rq), 3),
        }
        print(f"{'':28s}{'codeaudit':>14s}{'datasketch':>14s}{'ratio':>8s}")
        print(
            f"{'build, s (' + str(windows) + ' windows)':28s}{build['ours_seconds_median']:>14.2f}{build['recipe_seconds']:>14.2f}{build['speedup']:>7.1f}x"
        )
        print(
            f"{'bytes per window':28s}{build['ours_index_bytes_per_window']:>11.0f} disk{build['recipe_resident_bytes_per_window']:>10.0f} RAM"
        )
        print(
            f"{'resident/window querying':28s}{build['ours_resident_bytes_per_window_querying']:>14.0f}"
        )
        print(
            f"{'query p50 / p99, ms':28s}{build['ours_query_ms_p50']:>7.2f}/{build['ours_query_ms_p99']:<6.2f}{build['recipe_query_ms_p50_unverified']:>7.2f}/{build['recipe_query_ms_p99_unverified']:<6.2f} (recipe: candidates only)"
        )
        print(f"(ours with 2 worker processes: {build['ours_2_workers_seconds_median']:.2f} s)")
        results["build_vs_datasketch"] = build

        # 3. the large index and its growth
        print("\n== large index: standard library with tests + sympy; growth at 25 / 50 / 100 %")
        big_files = [
            Path(u.root) / p for src in big_sources(1) for u in src.units() for p in u.paths
        ]
        big_q = work / "big-queries.json"
        big_q.write_text(json.dumps(thirty_line_queries(big_files, negatives, n_q, 8)))
        scale = {}
        for fraction in (0.25, 0.5, 1.0):
            out = work / f"big-{fraction}.idx"
            t = time.perf_counter()
            m = build_index(big_sources(fraction), out)
            seconds = time.perf_counter() - t
            pr = probe(out, big_q)
            w = m["counts"]["windows"]
            scale[f"{int(fraction * 100)}%"] = {
                "windows": w,
                "tokens": m["counts"]["tokens"],
                "source_bytes": m["counts"]["bytes"],
                "build_seconds": round(seconds, 2),
                "index_bytes": index_bytes(out),
                "bytes_per_window": round(index_bytes(out) / w, 1),
                "load_s": round(pr["load_s"], 4),
                "load_with_full_crc_s": round(pr["load_full_crc_s"], 4),
                "resident_bytes_per_window_querying": round(pr["rss_after"] / w, 1),
                "query_ms_p50": round(median(pr["latency_ms"]), 3),
                "query_ms_p99": round(p99(pr["latency_ms"]), 3),
                "query_best_of_3_ms_p50": round(median(pr["best_of_3_ms"]), 3),
                "query_best_of_3_ms_p99": round(p99(pr["best_of_3_ms"]), 3),
                "queries": len(pr["latency_ms"]),
                "queries_with_findings": pr["with_findings"],
            }
            s = scale[f"{int(fraction * 100)}%"]
            print(
                f"{int(fraction * 100):>4d}%  {w:>9,} windows  build {s['build_seconds']:>6.1f} s  {s['index_bytes'] / 1e6:>6.1f} MB ({s['bytes_per_window']:.0f} B/window)  "
                f"load {s['load_s'] * 1000:.1f} ms (full CRC {s['load_with_full_crc_s'] * 1000:.0f} ms)  RSS {s['resident_bytes_per_window_querying']:.0f} B/window  "
                f"query p50 {s['query_ms_p50']:.2f} ms p99 {s['query_ms_p99']:.2f} ms (best of 3: {s['query_best_of_3_ms_p50']:.2f} / {s['query_best_of_3_ms_p99']:.2f} ms)"
            )
            if fraction < 1:
                shutil.rmtree(out)
        results["large_index"] = scale
    finally:
        shutil.rmtree(work, ignore_errors=True)

    big = results["large_index"]["100%"]
    held = results["detection"]["held_out"]
    verdict = {
        "recall_verbatim_whitespace_comments": min(
            held["kinds"][k]["recall"] for k in ("verbatim", "whitespace", "comments")
        )
        >= TARGETS["recall_verbatim"],
        "recall_renamed": held["kinds"]["renamed"]["recall"] >= TARGETS["recall_renamed"],
        "precision": held["precision"] >= TARGETS["precision"],
        "location": held["location_accuracy"] >= TARGETS["location"],
        "build_speedup": results["build_vs_datasketch"]["speedup"] >= TARGETS["build_speedup"],
        "bytes_per_window": big["bytes_per_window"] <= TARGETS["bytes_per_window"],
        "resident_per_window": big["resident_bytes_per_window_querying"]
        <= TARGETS["rss_per_window"],
        "load": big["load_s"] <= TARGETS["load_s"],
        "query_p99": big["query_ms_p99"] <= TARGETS["query_p99_ms"] and big["windows"] >= 1_000_000,
        # The same queries, each timed three times, best kept: what the code costs when no other
        # process preempts it (this 2-core machine is shared by several jobs).
        "query_p99_best_of_3": big["query_best_of_3_ms_p99"] <= TARGETS["query_p99_ms"]
        and big["windows"] >= 1_000_000,
    }
    results["targets_met"] = verdict
    print("\ntargets met:", json.dumps(verdict))
    if not args.no_write and not args.quick:
        print("wrote", write_results("memorization", results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
