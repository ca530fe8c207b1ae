"""The security auditor on NIST's Juliet test suites: true- and false-positive rates per CWE.

Juliet (NIST SARD) test cases each hold a flawed ``bad`` function and fixed ``good*`` functions
(``good``, ``good1``, ``goodG2B``, ``goodB2G`` …, C# ``Bad``/``GoodG2B``). For each CWE that our
rules cover in a language, a seeded sample of single-file test cases (default 40 per CWE) is
audited by the security auditor (the CLI, ``codeaudit audit BATCH --auditors security --format
json``; each test case file is one suggestion, language from its extension). A case counts as

* **detected** when a finding (any severity) lies inside a ``bad`` function — the flaw's line is
  not needed, the function is the unit;
* **false alarm** when a finding lies inside a ``good`` function.

Per language and CWE it reports the true-positive rate (detected / cases), the false-positive rate
(false alarms / cases), and the mean over CWEs of (TPR − FPR); also the same counted only for
findings whose CWE is the case's CWE or a related one (``RELATED``).

The suites are read at run time from folders (a checkout or an extracted tree), never from the
repository. ``--export LANG=GITDIR`` writes the test case files of a bare git directory (what the
search tool's ``fetch`` gives) into the cache with ``git archive``:

    .venv/bin/python benchmarks/bench_juliet.py --export java=/work/.mirror/find-sec-bugs+juliet-test-suite/repo \\
        --export c=/work/.mirror/arichardson+juliet-test-suite-c/repo \\
        --export csharp=/work/.mirror/fluidattacks+NIST-SARD-Test-Suites/repo
    .venv/bin/python benchmarks/bench_juliet.py            # uses the exported trees in the cache

``--suite LANG=DIR`` names a folder directly. Without any suite it says so and exits 0 (so
``make bench`` passes on a machine without the suites). Figures: ``benchmarks/results/juliet.json``.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import subprocess
import sys
import tarfile
import tempfile
import time
from collections import defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _common import write_results  # noqa: E402
from realcode import CACHE, codeaudit_cli, head_commit, tree_state  # noqa: E402

JULIET = CACHE / "juliet"
SUITE_LANGS = ("c", "java", "csharp")  # "c" holds the C and C++ cases
EXT_LANG = {".c": "c", ".cpp": "cpp", ".java": "java", ".cs": "csharp"}
#: Juliet CWEs whose flaw a rule reports under a neighbouring CWE id.
RELATED: dict[int, set[int]] = {
    121: {120, 121, 676, 787},
    122: {120, 122, 676, 787},
    124: {120, 787},
    126: {120, 125},
    127: {120, 125},
    134: {134},
    242: {242, 676},
    23: {22},
    36: {22},
    78: {78},
    80: {79},
    81: {79},
    83: {79},
    89: {89},
    90: {90},
    259: {259, 798},
    321: {321, 798},
    327: {327},
    328: {328, 327},
    338: {338, 330},
    367: {367},
    377: {377},
    378: {377},
    379: {377},
    601: {601},
    614: {614},
    643: {643},
    676: {676},
    680: {680, 120},
    94: {94, 95},
    470: {470},
    315: {315, 614},
    759: {759, 328, 327},
    760: {760, 328},
    329: {329},
    336: {336, 335},
}
CASE_FILE = re.compile(r"^(CWE(\d+)_\w+?)_(\d\d)\.(c|cpp|java|cs)$")
FUNC_HEAD = re.compile(
    r"^\s*(?:[\w:<>\[\],*&~]+\s+)+\**(\w+)\s*\([^;{}]*\)?\s*(?:const\s*)?(?:throws\s+[\w.,\s]+)?\s*\{?\s*$"
)
KEYWORDS = frozenset(("if", "for", "while", "switch", "return", "catch", "else", "using", "new"))


def export(lang: str, gitdir: str) -> Path:
    """Write the tree of a bare git directory into the cache (``git archive``), once."""
    head = subprocess.run(
        ["git", "--git-dir", gitdir, "rev-parse", "HEAD"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    dest = JULIET / f"{lang}-{head[:12]}"
    if (dest / ".complete").exists():
        return dest
    dest.mkdir(parents=True, exist_ok=True)
    # only the testcases folders: a mirror may lack the blobs of large files elsewhere
    tree = subprocess.run(
        ["git", "--git-dir", gitdir, "ls-tree", "-d", "-r", "--name-only", "HEAD"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    folders = [d for d in tree if d.rsplit("/", 1)[-1] == "testcases"]
    if not folders:
        raise SystemExit(f"bench_juliet: {gitdir}: no testcases folder in HEAD")
    with tempfile.TemporaryFile() as tmp:
        cmd = ["git", "--git-dir", gitdir, "archive", "HEAD", "--", *folders]
        subprocess.run(cmd, stdout=tmp, check=True)
        tmp.seek(0)
        with tarfile.open(fileobj=tmp) as tf:
            members = [
                m
                for m in tf
                if m.isfile()
                and "testcases/" in m.name
                and CASE_FILE.match(m.name.rsplit("/", 1)[-1])
            ]
            tf.extractall(dest, members=members, filter="data")
    (dest / ".complete").write_text(head + "\n")
    return dest


def cached_suites() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for lang in SUITE_LANGS:
        for d in sorted(JULIET.glob(f"{lang}-*")):
            if (d / ".complete").exists():
                found[lang] = d
    return found


def rule_cwes() -> dict[str, set[int]]:
    """CWE numbers of the security rules, per language (from ``codeaudit rules list``)."""
    out = subprocess.run(
        [*codeaudit_cli(), "rules", "list", "--auditor", "security", "--format", "json"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    by_lang: dict[str, set[int]] = defaultdict(set)
    for rule in json.loads(out):
        cwe = rule.get("cwe") or ""
        m = re.match(r"CWE-(\d+)$", cwe)
        if not m:
            continue
        for lang in rule.get("languages") or ():
            by_lang[lang].add(int(m.group(1)))
    return by_lang


def _strip(line: str) -> str:
    """The line without string/char literals and comments (enough for Juliet's regular code)."""
    line = re.sub(r'"(?:\\.|[^"\\])*"', '""', line)
    line = re.sub(r"'(?:\\.|[^'\\])*'", "''", line)
    return line.split("//", 1)[0]


def functions(text: str) -> list[tuple[str, int, int]]:
    """(name, first line, last line) of each function or method whose body opens on its line."""
    lines = text.splitlines()
    out: list[tuple[str, int, int]] = []
    in_block = False
    i = 0
    while i < len(lines):
        raw = lines[i]
        if in_block:
            if "*/" in raw:
                in_block = False
            i += 1
            continue
        if raw.lstrip().startswith("/*") and "*/" not in raw:
            in_block = True
            i += 1
            continue
        m = FUNC_HEAD.match(_strip(raw))
        if not m or m.group(1) in KEYWORDS:
            i += 1
            continue
        # find the opening brace (same line or within the next 3)
        j = i
        while j < len(lines) and j <= i + 3 and "{" not in _strip(lines[j]):
            if ";" in _strip(lines[j]):
                break
            j += 1
        if j >= len(lines) or "{" not in _strip(lines[j]):
            i += 1
            continue
        depth = 0
        k = j
        comment = False
        while k < len(lines):
            s = lines[k]
            if comment:
                if "*/" not in s:
                    k += 1
                    continue
                s = s.split("*/", 1)[1]
                comment = False
            s = _strip(s)
            s = re.sub(r"/\*.*?\*/", "", s)
            if "/*" in s:
                s, comment = s.split("/*", 1)[0], True
            depth += s.count("{") - s.count("}")
            if depth <= 0 and k >= j:
                break
            k += 1
        out.append((m.group(1), i + 1, k + 1))
        i += 1  # nested functions (C# local functions, Java inner classes) are scanned too
    return out


def side(name: str) -> str | None:
    """``bad`` or ``good`` from Juliet's naming (``CWE…_01_bad``, ``badSink``, ``goodG2B``, ``Bad``)."""
    low = name.lower()
    if low.startswith("cwe"):
        low = low.rsplit("_", 1)[-1]
    if low.startswith("bad"):
        return "bad"
    if low.startswith("good"):
        return "good"
    return None


def collect_cases(root: Path, lang_suite: str, cwes: dict[str, set[int]], per_cwe: int, seed: int):
    """Seeded sample of single-file cases per (language, CWE) that the rules cover."""
    by_key: dict[tuple[str, int], list[Path]] = defaultdict(list)
    for p in root.rglob("CWE*"):
        m = CASE_FILE.match(p.name)
        if not m or not p.is_file():
            continue
        lang = EXT_LANG[p.suffix]
        cwe = int(m.group(2))
        ours = cwes.get(lang, set())
        if cwe in ours or RELATED.get(cwe, set()) & ours:
            by_key[(lang, cwe)].append(p)
    rng = random.Random(seed)
    chosen: dict[tuple[str, int], list[Path]] = {}
    for key in sorted(by_key):
        files = sorted(by_key[key])
        chosen[key] = sorted(rng.sample(files, min(per_cwe, len(files))))
    return chosen


def audit_batch(items: list[dict]) -> dict[str, list[dict]]:
    """Security findings per suggestion id, from the CLI's JSON report."""
    with tempfile.TemporaryDirectory() as tmp:
        batch = Path(tmp, "batch.jsonl")
        batch.write_text("".join(json.dumps(i) + "\n" for i in items))
        out = Path(tmp, "report.json")
        cmd = [*codeaudit_cli(), "audit", str(batch), "--auditors", "security"]
        proc = subprocess.run(
            [*cmd, "--format", "json", "-o", str(out)], capture_output=True, text=True
        )
        if proc.returncode not in (0, 1) or not out.exists():
            raise SystemExit(f"bench_juliet: audit exited {proc.returncode}: {proc.stderr[-800:]}")
        report = json.loads(out.read_text())
    return {
        r["id"]: [f for f in r.get("findings") or [] if not f.get("suppressed")]
        for r in report["results"]
    }


def cwe_num(finding: dict) -> int | None:
    m = re.match(r"CWE-(\d+)", finding.get("cwe") or "")
    return int(m.group(1)) if m else None


def run(suites: dict[str, Path], per_cwe: int, seed: int) -> dict:
    cwes = rule_cwes()
    per_lang_cwe: dict[str, dict[str, dict]] = defaultdict(dict)
    suite_info = {}
    total_cases = 0
    seconds = 0.0
    for suite_lang, root in sorted(suites.items()):
        chosen = collect_cases(root, suite_lang, cwes, per_cwe, seed)
        suite_info[suite_lang] = {"folder": _tilde(root), "commit": _commit(root)}
        items = []
        meta = {}
        for (lang, cwe), files in chosen.items():
            for p in files:
                text = p.read_text(encoding="utf-8", errors="replace")
                funcs = [(n, a, b, side(n)) for n, a, b in functions(text)]
                if not any(s == "bad" for *_, s in funcs) or not any(
                    s == "good" for *_, s in funcs
                ):
                    continue  # not a recognisable bad/good case (helpers, abstract bases)
                sid = p.relative_to(root).as_posix()
                items.append({"id": sid, "completion": text, "path": p.name, "language": lang})
                meta[sid] = (lang, cwe, funcs)
        t0 = time.perf_counter()
        found = audit_batch(items) if items else {}
        seconds += time.perf_counter() - t0
        stats: dict[tuple[str, int], dict] = defaultdict(
            lambda: {
                "cases": 0,
                "tp": 0,
                "fp": 0,
                "tp_cwe": 0,
                "fp_cwe": 0,
                "rules_in_bad": {},
                "rules_in_good": {},
            }
        )
        for sid, (lang, cwe, funcs) in meta.items():
            st = stats[(lang, cwe)]
            st["cases"] += 1
            related = RELATED.get(cwe, set()) | {cwe}
            hit = {"bad": False, "good": False}
            hit_cwe = {"bad": False, "good": False}
            for f in found.get(sid, []):
                line = f.get("line") or 0
                for _name, a, b, s in funcs:
                    if s and a <= line <= b:
                        hit[s] = True
                        if cwe_num(f) in related:
                            hit_cwe[s] = True
                        tally = st[f"rules_in_{s}"]
                        tally[f["rule_id"]] = tally.get(f["rule_id"], 0) + 1
            st["tp"] += hit["bad"]
            st["fp"] += hit["good"]
            st["tp_cwe"] += hit_cwe["bad"]
            st["fp_cwe"] += hit_cwe["good"]
        total_cases += len(meta)
        for (lang, cwe), st in sorted(stats.items()):
            n = st["cases"]
            st["tpr"] = round(st["tp"] / n, 3)
            st["fpr"] = round(st["fp"] / n, 3)
            st["tpr_cwe"] = round(st["tp_cwe"] / n, 3)
            st["fpr_cwe"] = round(st["fp_cwe"] / n, 3)
            per_lang_cwe[lang][f"CWE-{cwe}"] = st
    summary = {}
    for lang, table in sorted(per_lang_cwe.items()):
        k = len(table)
        summary[lang] = {
            "cwes": k,
            "cases": sum(s["cases"] for s in table.values()),
            "mean_tpr": round(sum(s["tpr"] for s in table.values()) / k, 3),
            "mean_fpr": round(sum(s["fpr"] for s in table.values()) / k, 3),
            "mean_tpr_minus_fpr": round(sum(s["tpr"] - s["fpr"] for s in table.values()) / k, 3),
            "mean_tpr_minus_fpr_same_cwe": round(
                sum(s["tpr_cwe"] - s["fpr_cwe"] for s in table.values()) / k, 3
            ),
        }
    every = [s for t in per_lang_cwe.values() for s in t.values()]
    overall = {
        "cwe_language_pairs": len(every),
        "cases": total_cases,
        "mean_tpr_minus_fpr": round(sum(s["tpr"] - s["fpr"] for s in every) / len(every), 3)
        if every
        else None,
        "mean_tpr_minus_fpr_same_cwe": round(
            sum(s["tpr_cwe"] - s["fpr_cwe"] for s in every) / len(every), 3
        )
        if every
        else None,
    }
    return {
        "commit": head_commit(),
        "codeaudit_tree": tree_state(),
        "per_cwe": per_cwe,
        "seed": seed,
        "suites": suite_info,
        "audit_seconds": round(seconds, 1),
        "overall": overall,
        "by_language": summary,
        "by_language_and_cwe": per_lang_cwe,
    }


def _tilde(p: Path) -> str:
    """The folder with the home directory written as ``~`` (no account name in results)."""
    try:
        return "~/" + p.resolve().relative_to(Path.home().resolve()).as_posix()
    except ValueError:
        return p.name


def _commit(root: Path) -> str | None:
    marker = root / ".complete"
    return marker.read_text().strip() if marker.exists() else None


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--export", action="append", default=[], metavar="LANG=GITDIR")
    ap.add_argument("--suite", action="append", default=[], metavar="LANG=DIR")
    ap.add_argument("--per-cwe", type=int, default=40)
    ap.add_argument("--seed", type=int, default=12)
    args = ap.parse_args(argv)
    suites = cached_suites()
    for spec in args.export:
        lang, _, gitdir = spec.partition("=")
        if lang not in SUITE_LANGS or not gitdir:
            ap.error(f"--export {spec!r}: expected LANG=GITDIR with LANG one of {SUITE_LANGS}")
        suites[lang] = export(lang, gitdir)
    for spec in args.suite:
        lang, _, folder = spec.partition("=")
        if lang not in SUITE_LANGS or not Path(folder).is_dir():
            ap.error(
                f"--suite {spec!r}: expected LANG=DIR (an existing folder), LANG in {SUITE_LANGS}"
            )
        suites[lang] = Path(folder)
    if not suites:
        print(
            "bench_juliet: no Juliet suite in the cache and none given (--export/--suite); skipped"
        )
        return 0
    data = run(suites, args.per_cwe, args.seed)
    print(f"{'language':8} {'CWE':9} {'cases':>5} {'TPR':>6} {'FPR':>6}  rules in bad / in good")
    for lang, table in data["by_language_and_cwe"].items():
        for cwe, st in table.items():
            bad = ",".join(sorted(st["rules_in_bad"])) or "-"
            good = ",".join(sorted(st["rules_in_good"])) or "-"
            print(
                f"{lang:8} {cwe:9} {st['cases']:>5} {st['tpr']:>6.3f} {st['fpr']:>6.3f}  "
                f"{bad[:40]} / {good[:40]}"
            )
    for lang, s in data["by_language"].items():
        print(
            f"{lang}: {s['cwes']} CWEs, {s['cases']} cases, mean TPR {s['mean_tpr']}, mean FPR "
            f"{s['mean_fpr']}, mean(TPR-FPR) {s['mean_tpr_minus_fpr']} "
            f"(same CWE only: {s['mean_tpr_minus_fpr_same_cwe']})"
        )
    o = data["overall"]
    print(
        f"overall: {o['cwe_language_pairs']} (language, CWE) pairs, {o['cases']} cases, "
        f"mean(TPR-FPR) {o['mean_tpr_minus_fpr']} (same CWE only: {o['mean_tpr_minus_fpr_same_cwe']})"
    )
    print("wrote", write_results("juliet", data))
    return 0


if __name__ == "__main__":
    sys.exit(main())
