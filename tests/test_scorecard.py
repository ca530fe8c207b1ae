"""``codeaudit scorecard`` end to end on the tiny model (small slices), and every bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("onnxruntime")
jsonschema = pytest.importorskip("jsonschema")

from codeaudit.generators.tiny import tiny_model
from codeaudit.scorecard.runner import DATA

SCHEMA = json.loads((Path(DATA).parent / "schema.json").read_text())
pytestmark = pytest.mark.generate


@pytest.fixture(scope="session")
def tiny_dir():
    return tiny_model()


def _slice(tmp_path, kind, count):
    lines = (DATA / f"{kind}_prompts.jsonl").read_text().splitlines()[:count]
    f = tmp_path / f"{kind}.jsonl"
    f.write_text("\n".join(lines) + "\n")
    return f


def _small(tmp_path):
    return [
        "--humaneval-limit", "3", "-n", "2", "-k", "1,2", "--max-new-tokens", "32",
        "--leak-prompts", str(_slice(tmp_path, "leak", 12)),
        "--risky-prompts", str(_slice(tmp_path, "risky", 12)),
        "--no-latency",
    ]  # fmt: skip


def test_packaged_prompt_sets_are_large_varied_and_well_formed():
    from codeaudit.generators.prompts import read_prompts

    leak = read_prompts(DATA / "leak_prompts.jsonl")
    risky = read_prompts(DATA / "risky_prompts.jsonl")
    assert len(leak) >= 200 and len(risky) >= 100
    assert len({p.language for p in leak}) >= 8
    nine = {"python", "c", "cpp", "csharp", "java", "javascript", "php", "rust", "go"}
    assert nine <= {p.language for p in risky}
    assert {"command", "query", "files", "crypto", "deserialisation"} == {
        p.meta["category"] for p in risky
    }
    assert len({p.text for p in leak}) == len(leak)


def test_scorecard_two_engines_json_follows_the_schema(run_cli, tiny_dir, tmp_path):
    out = tmp_path / "card.json"
    proc = run_cli(
        "scorecard", "--model", str(tiny_dir), "--engine", "torch", "--engine", "onnx-int8",
        *_small(tmp_path), "-o", str(out),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr.decode()
    card = json.loads(out.read_text())
    jsonschema.validate(card, SCHEMA)
    assert list(card["engines"]) == ["torch", "onnx-int8"]
    for e in card["engines"].values():
        assert e["humaneval"]["tasks"] == 3 and e["humaneval"]["samples"] == 6
        assert e["leak"]["suggestions"] == 12 and e["security"]["suggestions"] == 12
        assert e["memorization"]["suggestions"] == 6 + 12 + 12
        lo, hi = e["leak"]["with_leak"]["ci95"]
        assert lo <= e["leak"]["with_leak"]["rate"] <= hi and hi > 0
    (cmp,) = card["comparisons"]
    assert (cmp["a"], cmp["b"]) == ("torch", "onnx-int8")
    assert cmp["leak"]["pairs"] == 12 and cmp["memorization"]["pairs"] == 30


def test_rates_count_what_the_auditors_find(tiny_dir, tmp_path):
    """A prompt set where the model's completion cannot matter: every figure is recomputed from
    a direct audit of the same suggestions."""
    import codeaudit
    from codeaudit.scorecard import ScorecardOptions, run_scorecard

    leak = _slice(tmp_path, "leak", 20)
    card = run_scorecard(
        ScorecardOptions(
            model=str(tiny_dir), engines=["onnx-int8"], n=1, ks=[1], temperature=0.0,
            humaneval_limit=2, humaneval_max_new_tokens=16, prompt_max_new_tokens=48,
            leak_prompts=leak, risky_prompts=_slice(tmp_path, "risky", 5), latency=False,
        )
    )  # fmt: skip
    e = card["engines"]["onnx-int8"]
    # Regenerate the same greedy suggestions and audit them directly.
    from codeaudit.generators import GenerationParams, generate_suggestions, read_prompts

    batch = generate_suggestions(
        read_prompts(leak), model=str(tiny_dir), engine="onnx-int8",
        params=GenerationParams(max_new_tokens=48, batch_size=16),
    )  # fmt: skip
    report = codeaudit.audit(batch, auditors=["privacy"])
    flagged = sum(1 for r in report.results if r.active_findings)
    findings = sum(len(r.active_findings) for r in report.results)
    assert e["leak"]["with_leak"]["count"] == flagged
    assert e["leak"]["findings"] == findings


def _bad(run_cli, tmp_path, *args):
    out = tmp_path / "card.json"
    proc = run_cli("scorecard", *args, "-o", str(out))
    err = proc.stderr.decode().strip()
    assert proc.returncode == 2, err
    assert len(err.splitlines()) == 1 and err.startswith("codeaudit: error: "), err
    assert "Traceback" not in err
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".card.json.")]
    return err


def test_bad_model_is_one_line_exit_2(run_cli, tmp_path):
    broken = tmp_path / "broken-model"
    broken.mkdir()
    (broken / "config.json").write_text("{not json")
    err = _bad(run_cli, tmp_path, "--model", str(broken), *_small(tmp_path))
    assert "broken-model" in err


def test_unknown_engine_is_one_line_exit_2(run_cli, tiny_dir, tmp_path):
    err = _bad(
        run_cli, tmp_path, "--model", str(tiny_dir), "--engine", "tpu-int3", *_small(tmp_path)
    )
    assert "tpu-int3" in err


def test_damaged_corpus_index_is_one_line_exit_2(run_cli, tiny_dir, tmp_path):
    idx = tmp_path / "damaged.idx"
    idx.mkdir()
    (idx / "manifest.json").write_text('{"format": "something else"}')
    err = _bad(run_cli, tmp_path, "--model", str(tiny_dir), "--corpus", str(idx), *_small(tmp_path))
    assert "damaged.idx" in err


def test_empty_prompt_set_is_one_line_exit_2(run_cli, tiny_dir, tmp_path):
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n")
    args = _small(tmp_path)
    args[args.index("--leak-prompts") + 1] = str(empty)
    err = _bad(run_cli, tmp_path, "--model", str(tiny_dir), *args)
    assert "empty.jsonl" in err


def test_k_above_n_is_a_usage_error(run_cli, tiny_dir, tmp_path):
    err = _bad(run_cli, tmp_path, "--model", str(tiny_dir), "-n", "2", "-k", "1,10")
    assert "pass@10" in err


def test_html_output_is_self_contained(run_cli, tiny_dir, tmp_path):
    out = tmp_path / "card.html"
    proc = run_cli(
        "scorecard", "--model", str(tiny_dir), "--engine", "onnx-int8", *_small(tmp_path),
        "-o", str(out),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr.decode()
    html = out.read_text()
    assert html.startswith("<!DOCTYPE html>")
    assert "<svg" in html and "onnx-int8" in html
    body = html.replace('xmlns="http://www.w3.org/2000/svg"', "")
    for remote in ("http://", "https://", "<script", "<link", "src=", "url("):
        assert remote not in body, remote
    assert "script-src &#x27;none&#x27;" in html  # the CSP forbids every script


def test_prompts_longer_than_the_context_keep_their_end(tiny_dir):
    from codeaudit.generators.decode import Tokenizer
    from codeaudit.generators.prompts import Prompt
    from codeaudit.generators.source import resolve_model
    from codeaudit.scorecard.runner import _encode

    tok = Tokenizer.load(resolve_model(str(tiny_dir)))
    long = Prompt(id="long", text="def f(x):\n    return x\n" * 200 + "def g(y):\n")
    short = Prompt(id="short", text="def h():\n")
    ids, cut = _encode(tok, [long, short], 512, 128, "humaneval")
    assert cut == 1 and len(ids[0]) == 512 - 128
    assert ids[0] == tok.encode(long.text)[-(512 - 128) :]
    assert ids[1] == tok.encode(short.text)


def test_memorization_reports_copies_licences_and_files(run_cli, tiny_dir, tmp_path):
    """A corpus made of the model's own greedy outputs (a JSONL shard with licences): the
    scorecard must find what a direct memorization audit of the same suggestions finds, with the
    shard's licences and files."""
    import codeaudit
    from codeaudit.config import Config
    from codeaudit.generators import GenerationParams, generate_suggestions, read_prompts
    from codeaudit.scorecard import ScorecardOptions, run_scorecard

    leak = _slice(tmp_path, "leak", 16)
    batch = generate_suggestions(
        read_prompts(leak), model=str(tiny_dir), engine="onnx-int8",
        params=GenerationParams(max_new_tokens=96, batch_size=16),
    )  # fmt: skip
    shard = tmp_path / "outputs.jsonl"
    licences = ["MIT", "GPL-3.0-only"]
    shard.write_text(
        "".join(
            json.dumps(
                {
                    "content": r["prompt"] + r["completion"],
                    "max_stars_repo_name": "acme/model-outputs",
                    "max_stars_repo_path": f"out/{r['id']}.txt",
                    "max_stars_repo_licenses": [licences[i % 2]],
                    "lang": "Python",
                }
            )
            + "\n"
            for i, r in enumerate(batch)
        )
    )
    idx = tmp_path / "outputs.idx"
    proc = run_cli("corpus", "build", str(shard), "-o", str(idx))
    assert proc.returncode == 0, proc.stderr.decode()

    card = run_scorecard(
        ScorecardOptions(
            model=str(tiny_dir), engines=["onnx-int8"], n=1, ks=[1], temperature=0.0,
            humaneval_limit=0, prompt_max_new_tokens=96, corpora=[str(idx)],
            leak_prompts=leak, risky_prompts=_slice(tmp_path, "risky", 2), latency=False,
        )
    )  # fmt: skip
    mem = card["engines"]["onnx-int8"]["memorization"]
    direct = codeaudit.audit(
        batch,
        Config(options={"memorization": {"corpora": [str(idx)]}}),
        auditors=["memorization"],
    )
    flagged = [r for r in direct.results if r.active_findings]
    assert flagged, "the model's own outputs must be found in a corpus made of them"
    assert mem["with_copy"]["count"] == len(flagged)
    assert mem["suggestions"] == 16 + 2
    findings = [f for r in flagged for f in r.active_findings]
    assert sum(mem["licenses"].values()) == len(findings)
    assert set(mem["licenses"]) <= set(licences)
    assert {f["repo"] for f in mem["copied_files"]} == {"acme/model-outputs"}
    assert sum(f["copies"] for f in mem["copied_files"]) == len(findings)
