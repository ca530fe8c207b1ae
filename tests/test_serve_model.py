"""``codeaudit serve`` on the tiny CodeGen model: batching, streaming, limits.

Most tests serve the ``onnx`` (float32) engine, whose output does not depend on the batch
(checked for ``generate`` in test_generate_engines.py); the INT8 engines quantize activations
with one scale per batch, so a batched row may differ from the same row alone. The tiny model is trained here, offline, once per recipe into the user cache. Servers bind to
127.0.0.1 on ephemeral ports and are stopped at the end of each test.
"""

from __future__ import annotations

import concurrent.futures
import json
import time

import pytest

pytest.importorskip("onnxruntime")
pytest.importorskip("starlette")
httpx = pytest.importorskip("httpx")

from codeaudit.config import Config, config_from_mapping
from codeaudit.generators import Row, decode_rows
from codeaudit.serve.app import Running, build_app
from codeaudit.serve.setup import build_server, close_server

pytestmark = pytest.mark.generate

PROMPTS = [
    "def parse_header(line):\n",
    "import os\n\n\nclass Cache:\n    def __init__(self, path):\n",
    "for item in items:\n",
]


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("serve-model")
    server = build_server(
        engine="onnx",
        model="tiny",
        config=Config(),
        log=tmp / "serve.jsonl",
        threads=1,
    )
    running = Running(build_app(server))
    yield server, running
    running.stop()
    close_server(server)


def test_decode_rows_batch_equals_each_row_alone(served):
    server, _ = served
    backend = server.backend
    tok = backend.tokenizer
    rows = [
        Row(prompt_ids=tuple(tok.encode(PROMPTS[0])), max_new_tokens=24),
        Row(prompt_ids=tuple(tok.encode(PROMPTS[1])), max_new_tokens=10, temperature=0.8, seed=5),
        Row(
            prompt_ids=tuple(tok.encode(PROMPTS[2])),
            max_new_tokens=16,
            temperature=1.0,
            top_p=0.9,
            seed=2,
        ),
    ]
    with backend._cond:  # the engine is used by one thread at a time; hold the scheduler off
        together = decode_rows(backend.engine, tok, rows)
        alone = [decode_rows(backend.engine, tok, [r])[0] for r in rows]
        streamed: dict[int, str] = {}

        def on_delta(i: int, text: str) -> bool:
            streamed[i] = streamed.get(i, "") + text
            return i != 1 or len(streamed[i]) < 5  # row 1 is cancelled early

        cancelled = decode_rows(backend.engine, tok, rows, on_delta=on_delta)
    assert [g.text for g in together] == [g.text for g in alone]
    assert [len(g.token_ids) for g in together] == [24, 10, 16]
    assert streamed[0] == together[0].text and streamed[2] == together[2].text
    assert cancelled[1].stop_reason == "cancel"
    assert len(cancelled[1].token_ids) < 10


def test_openai_client_against_the_model(served):
    openai = pytest.importorskip("openai")
    _server, running = served
    client = openai.OpenAI(base_url=running.url + "/v1", api_key="x", max_retries=0)
    done = client.completions.create(model="tiny", prompt=PROMPTS[0], max_tokens=120)
    text = done.choices[0].text
    assert done.model == "tiny" and done.usage.completion_tokens > 0
    assert done.choices[0].finish_reason in ("stop", "length", "content_filter")
    stream = client.completions.create(model="tiny", prompt=PROMPTS[0], max_tokens=120, stream=True)
    pieces = [c.choices[0].text for c in stream]
    assert "".join(pieces) == text  # greedy: the stream is the same completion, audited
    assert all(p.endswith("\n") for p in pieces[:-2] if p)  # released at line ends
    sampled = [
        client.completions.create(
            model="t", prompt=PROMPTS[1], max_tokens=20, temperature=0.9, seed=7
        )
        .choices[0]
        .text
        for _ in range(2)
    ]
    assert sampled[0] == sampled[1]  # same seed, same sample


def test_concurrent_requests_are_batched_and_equal_sequential(served):
    _server, running = served
    body = {"prompt": PROMPTS[1], "max_tokens": 48}
    with httpx.Client(base_url=running.url, timeout=60) as c:
        alone = c.post("/v1/completions", json=body).json()["choices"][0]["text"]

        def one(_):
            return c.post("/v1/completions", json=body)

        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(one, range(8)))
    assert all(a.status_code == 200 for a in answers)
    assert {a.json()["choices"][0]["text"] for a in answers} == {alone}


def test_queue_full_answers_503_with_retry_after(tmp_path):
    config = config_from_mapping({"serve": {"queue": 1, "max_batch": 1}})
    server = build_server(engine="onnx-int8", model="tiny", config=config, log=False, threads=1)
    running = Running(build_app(server))
    try:
        with httpx.Client(base_url=running.url, timeout=60) as c:

            def one(_):
                return c.post("/v1/completions", json={"prompt": PROMPTS[0], "max_tokens": 400})

            with concurrent.futures.ThreadPoolExecutor(12) as pool:
                answers = list(pool.map(one, range(12)))
            codes = [a.status_code for a in answers]
            assert 503 in codes and 200 in codes and set(codes) <= {200, 503}
            busy = next(a for a in answers if a.status_code == 503)
            assert busy.headers["retry-after"] == "1"
            assert busy.json()["error"]["code"] == "server_overloaded"
            assert (
                c.post("/v1/completions", json={"prompt": "x", "max_tokens": 4}).status_code == 200
            )
    finally:
        running.stop()
        close_server(server)


def test_disconnect_cancels_generation(served):
    server, running = served
    with httpx.Client(base_url=running.url, timeout=60) as c:
        body = {"prompt": PROMPTS[0], "max_tokens": 500, "stream": True, "temperature": 1.0}
        with c.stream("POST", "/v1/completions", json=body) as r:
            for line in r.iter_lines():
                if line.startswith("data: "):
                    break  # the editor moved on
        deadline = time.monotonic() + 10
        while (server.backend.running or server.open_streams) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert server.backend.running == 0 and server.open_streams == 0
        assert c.get("/health").json()["queue"]["waiting"] == 0
        assert c.post("/v1/completions", json={"prompt": "x", "max_tokens": 4}).status_code == 200
    records = [json.loads(x) for x in server.log.path.read_text().splitlines()]
    assert any(r["meta"]["finish_reason"] == "cancelled" for r in records)


def test_long_prompts_cut_or_refused(served, tmp_path):
    server, running = served
    long_prompt = "".join(f"item_{i} = load({i})\n" for i in range(400))
    with httpx.Client(base_url=running.url, timeout=60) as c:
        r = c.post("/v1/completions", json={"prompt": long_prompt, "max_tokens": 16})
        assert r.status_code == 200
        assert r.json()["usage"]["prompt_tokens"] <= server.backend.context_length - 16
    config = config_from_mapping({"serve": {"prompt_overflow": "error", "timeout": 0.05}})
    strict = build_server(engine="onnx-int8", model="tiny", config=config, log=False, threads=1)
    running2 = Running(build_app(strict))
    try:
        with httpx.Client(base_url=running2.url, timeout=60) as c:
            r = c.post("/v1/completions", json={"prompt": long_prompt, "max_tokens": 16})
            assert r.status_code == 400 and r.json()["error"]["code"] == "context_length_exceeded"
            assert r.json()["error"]["param"] == "prompt"
            # A request that cannot finish within the timeout gets 504, and the server goes on.
            slow = [
                c.post(
                    "/v1/completions",
                    json={"prompt": PROMPTS[0], "max_tokens": 480, "n": 8, "temperature": 1.0},
                )
                for _ in range(3)
            ]
            assert 504 in [s.status_code for s in slow]
            assert (
                next(s for s in slow if s.status_code == 504).json()["error"]["code"] == "timeout"
            )
            assert c.get("/health").status_code == 200
    finally:
        running2.stop()
        close_server(strict)
