"""Precision of findings at medium and above on real projects, from a committed labelled sample.

Runs (or reuses from the cache) ``realcode.py``'s fetch and audit of the pinned projects, then
matches the findings at medium and above against ``benchmarks/labels/realcode-labels.jsonl``:
findings drawn reproducibly (seeded, stratified by auditor and project) and each judged by a person
reading the code around it — true (a real secret, a real person's path, real copied code, a real
insecure construct where it stands) or not (a right pattern in a harmless place: tests, docs
samples, placeholders; or a misfire), with a one-line reason.

A label is keyed by project, version, path, rule id and a hash of the normalised flagged line text
plus the evidence that names what was found (``realcode.finding_key``); the line number is only a
hint. A label whose finding is no longer reported is counted as *gone* (per auditor, by its label:
a detector change that drops true findings shows here). Findings not in the frame the sample was
drawn from (``benchmarks/labels/realcode-frame.txt``, one short hash per finding) are *new*; they are counted and written with
their context to the cache for labelling (``--draw-new``).

Precision per auditor is given two ways: over the labelled findings still reported (the sample's
share of true ones), and weighted by project (each project's sample precision weighted by its
number of findings of that auditor: the estimate for the whole population, since the sample is
stratified rather than proportional).

Run: ``.venv/bin/python benchmarks/bench_precision.py`` (prints a table for the README; writes
``benchmarks/results/precision.json``). ``--draw`` writes a fresh seeded sample with context to
``~/.cache/codeaudit-bench/realcode/to-label.jsonl`` (and the frame) for a labeller.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import sys
from collections import Counter, defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _common import write_results  # noqa: E402
from realcode import AUDITORS, PROJECTS, REALCODE, FetchError, project_source, run  # noqa: E402

LABELS = HERE / "labels" / "realcode-labels.jsonl"
FRAME = HERE / "labels" / "realcode-frame.txt"
QUOTA = {"privacy": 100, "security": 100, "memorization": 40}
SEED = 16


def context(f: dict, before: int = 4, after: int = 4, width: int = 220) -> list[str]:
    p = next(p for p in PROJECTS if p.name == f["project"])
    path = project_source(p) / f["path"]
    try:
        lines = path.read_bytes().decode("utf-8", "replace").splitlines()
    except OSError:
        return []
    lo = max(1, f["line"] - before)
    hi = min(len(lines), max(f["line"], f.get("end_line") or f["line"]) + after)
    if hi - lo > 40:
        hi = lo + 40
    out = []
    for n in range(lo, hi + 1):
        mark = ">" if f["line"] <= n <= (f.get("end_line") or f["line"]) else " "
        text = lines[n - 1]
        out.append(f"{mark}{n:5} {text[:width]}{'…' if len(text) > width else ''}")
    return out


def draw(findings: list[dict], quota: dict[str, int], seed: int) -> list[dict]:
    """Seeded sample, stratified by auditor (quota each) and project (round robin within)."""
    rng = random.Random(seed)
    sample: list[dict] = []
    for auditor in AUDITORS:
        by_project: dict[str, list[dict]] = defaultdict(list)
        for f in findings:
            if f["auditor"] == auditor:
                by_project[f["project"]].append(f)
        pools = {}
        for name in sorted(by_project):
            pool = sorted(by_project[name], key=lambda f: (f["path"], f["line"], f["rule_id"]))
            rng.shuffle(pool)
            pools[name] = pool
        order = sorted(pools)
        rng.shuffle(order)
        taken = 0
        while taken < quota.get(auditor, 0) and any(pools.values()):
            for name in order:
                if pools[name] and taken < quota[auditor]:
                    sample.append(pools[name].pop())
                    taken += 1
    return sample


def load_labels(path: Path = LABELS) -> list[dict]:
    if not path.exists():
        return []
    out = []
    for n, raw in enumerate(path.read_text().splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            row = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise SystemExit(f"{path}:{n}: not JSON: {exc.msg}") from None
        for field in ("project", "path", "rule_id", "key", "line_key", "auditor", "true", "reason"):
            if field not in row:
                raise SystemExit(f"{path}:{n}: field {field!r} missing")
        if not isinstance(row["true"], bool):
            raise SystemExit(f"{path}:{n}: field 'true' must be true or false")
        out.append(row)
    return out


def match(labels: list[dict], findings: list[dict]) -> tuple[list[tuple[dict, dict]], list[dict]]:
    """(label, finding) pairs still reported, and labels whose finding is gone."""
    by_key: dict[tuple, list[dict]] = defaultdict(list)
    by_line: dict[tuple, list[dict]] = defaultdict(list)
    for f in findings:
        by_key[(f["project"], f["path"], f["rule_id"], f["key"])].append(f)
        by_line[(f["project"], f["path"], f["rule_id"], f["line_key"])].append(f)
    used: set[int] = set()
    pairs, gone = [], []
    for lab in labels:
        cands = by_key.get((lab["project"], lab["path"], lab["rule_id"], lab["key"]), [])
        if not cands:  # evidence changed, the line did not: the same finding, if unique
            line_c = by_line.get((lab["project"], lab["path"], lab["rule_id"], lab["line_key"]), [])
            cands = line_c if len(line_c) == 1 else []
        cands = [c for c in cands if id(c) not in used]
        if not cands:
            gone.append(lab)
            continue
        best = min(cands, key=lambda c: abs(c["line"] - lab.get("line", c["line"])))
        used.add(id(best))
        pairs.append((lab, best))
    return pairs, gone


def frame_id(f: dict) -> str:
    """A short id of a finding for the frame: a hash of project, path, rule id and key."""
    text = f"{f['project']}\t{f['path']}\t{f['rule_id']}\t{f['key']}"
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def frame_keys(findings: list[dict]) -> list[str]:
    return sorted({frame_id(f) for f in findings})


def precision(data: dict, findings: list[dict], labels: list[dict]) -> dict:
    pairs, gone = match(labels, findings)
    per_aud: dict[str, dict] = {}
    count_by_aud_proj = Counter((f["auditor"], f["project"]) for f in findings)
    for auditor in AUDITORS:
        mine = [(lab, f) for lab, f in pairs if f["auditor"] == auditor]
        n_true = sum(lab["true"] for lab, _ in mine)
        strata: dict[str, list[bool]] = defaultdict(list)
        for lab, f in mine:
            strata[f["project"]].append(lab["true"])
        weight = sum(count_by_aud_proj[(auditor, p)] for p in strata)
        weighted = (
            sum(count_by_aud_proj[(auditor, p)] * sum(v) / len(v) for p, v in strata.items())
            / weight
            if weight
            else None
        )
        gone_mine = [lab for lab in gone if lab["auditor"] == auditor]
        per_aud[auditor] = {
            "findings": sum(1 for f in findings if f["auditor"] == auditor),
            "per_10k_lines": data["blocking_per_10k_lines_by_auditor"].get(auditor, 0.0),
            "labelled_matched": len(mine),
            "labelled_true": n_true,
            "precision_sample": round(n_true / len(mine), 3) if mine else None,
            "precision_weighted_by_project": round(weighted, 3) if weighted is not None else None,
            "gone": len(gone_mine),
            "gone_true": sum(lab["true"] for lab in gone_mine),
        }
    total_true = sum(v["labelled_true"] for v in per_aud.values())
    total = sum(v["labelled_matched"] for v in per_aud.values())
    n_all = sum(v["findings"] for v in per_aud.values())
    weighted_all = (
        sum(
            v["findings"] * v["precision_weighted_by_project"]
            for v in per_aud.values()
            if v["precision_weighted_by_project"] is not None
        )
        / sum(
            v["findings"]
            for v in per_aud.values()
            if v["precision_weighted_by_project"] is not None
        )
        if total
        else None
    )
    frame = set(FRAME.read_text().splitlines()) if FRAME.exists() else set()
    new = [f for f in findings if frame and frame_id(f) not in frame]
    reasons: dict[str, Counter[str]] = {a: Counter() for a in AUDITORS}
    truths: Counter[str] = Counter()
    for lab, f in pairs:
        if lab["true"]:
            truths[lab.get("kind", "other")] += 1
        else:
            reasons[f["auditor"]][lab.get("kind", "other")] += 1
    return {
        "labels": len(labels),
        "matched": total,
        "gone": len(gone),
        "gone_labels": [
            {k: lab[k] for k in ("project", "path", "rule_id", "line", "true")} for lab in gone
        ],
        "precision_sample": round(total_true / total, 3) if total else None,
        "precision_weighted": round(weighted_all, 3) if weighted_all is not None else None,
        "blocking_findings": n_all,
        "blocking_per_10k_lines": data["blocking_per_10k_lines"],
        "by_auditor": per_aud,
        "true_by_kind": dict(truths.most_common()),
        "false_by_kind": {a: dict(c.most_common()) for a, c in reasons.items()},
        "new_findings_not_in_frame": len(new),
        "new_by_auditor": dict(Counter(f["auditor"] for f in new).most_common()),
        "_new": new,
    }


def table(res: dict, data: dict) -> str:
    rows = [
        "| auditor | findings at medium+ | per 10 k lines | labelled | true | precision (sample) | precision (weighted) |",
        "|---|---|---|---|---|---|---|",
    ]

    def fmt(v):
        return "–" if v is None else f"{v:.2f}"

    for a, v in res["by_auditor"].items():
        rows.append(
            f"| {a} | {v['findings']} | {v['per_10k_lines']:.2f} | {v['labelled_matched']} | "
            f"{v['labelled_true']} | {fmt(v['precision_sample'])} | "
            f"{fmt(v['precision_weighted_by_project'])} |"
        )
    rows.append(
        f"| **all** | {res['blocking_findings']} | {res['blocking_per_10k_lines']:.2f} | "
        f"{res['matched']} | {sum(v['labelled_true'] for v in res['by_auditor'].values())} | "
        f"{fmt(res['precision_sample'])} | {fmt(res['precision_weighted'])} |"
    )
    rows.append("")
    rows.append(
        f"{data['projects']} projects, {data['lines']:,} lines; 30-line windows flagged: "
        f"{data['flagged_windows']:,} of {data['windows_of_30_lines']:,} "
        f"({100 * data['flagged_window_share']:.1f} %). Labels gone (finding no longer "
        f"reported): {res['gone']}; findings not in the labelled frame: "
        f"{res['new_findings_not_in_frame']}."
    )
    kinds = "; ".join(
        f"{a}: " + ", ".join(f"{k} {v}" for k, v in c.items())
        for a, c in res["false_by_kind"].items()
        if c
    )
    rows.append(f"Findings judged not true, by cause — {kinds}.")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--draw", action="store_true", help="write a fresh sample to label (cache)")
    ap.add_argument("--draw-new", action="store_true", help="write the new findings to label")
    ap.add_argument("--seed", type=int, default=SEED)
    args = ap.parse_args(argv)
    try:
        data = run(list(PROJECTS), log=lambda *_: None)
    except FetchError as exc:
        print(f"bench_precision: fetch failed: {exc}", file=sys.stderr)
        return 2
    findings = [json.loads(x) for x in (REALCODE / "findings.jsonl").read_text().splitlines()]
    if args.draw:
        sample = draw(findings, QUOTA, args.seed)
        out = REALCODE / "to-label.jsonl"
        with out.open("w") as fh:
            for f in sample:
                fh.write(json.dumps({**f, "context": context(f)}) + "\n")
        FRAME.parent.mkdir(parents=True, exist_ok=True)
        FRAME.write_text("\n".join(frame_keys(findings)) + "\n")
        print(
            f"wrote {len(sample)} findings to label to {out}; frame of {len(findings)} to {FRAME}"
        )
        return 0
    labels = load_labels()
    res = precision(data, findings, labels)
    new = res.pop("_new")
    if args.draw_new:
        out = REALCODE / "to-label-new.jsonl"
        with out.open("w") as fh:
            for f in new:
                fh.write(json.dumps({**f, "context": context(f)}) + "\n")
        print(f"wrote {len(new)} new findings to {out}")
    print(table(res, data))
    print("wrote", write_results("precision", {"codeaudit": data["codeaudit"], **res}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
