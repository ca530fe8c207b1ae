"""``codeaudit serve`` on the replay engine: routes, policy, streaming, bad input, security, log.

Real parts throughout: a real uvicorn server on 127.0.0.1 (an ephemeral port, stopped at the end
of each test module), the real auditors, raw HTTP through httpx and the official ``openai``
client. Replayed suggestions are written here; the corpus copy is read at run time from the
installed standard library (the default memorization corpus).
"""

from __future__ import annotations

import inspect
import json
import textwrap
from pathlib import Path

import pytest

pytest.importorskip("starlette")
pytest.importorskip("uvicorn")
httpx = pytest.importorskip("httpx")

from codeaudit.config import Config, config_from_mapping
from codeaudit.serve.app import Running, build_app
from codeaudit.serve.requests import MAX_BODY_BYTES
from codeaudit.serve.setup import build_server, close_server

USER = "mkowalski"
SECRET = "Xk9#mQ2vLp8zR4"
AWS = "AKIAIOSFODNN7QWERTYU"
LEAKY_PROMPT = "def load():\n"
LEAKY = (
    f"    DATA = '/home/{USER}/churn/data.csv'\n"
    f'    password = "{SECRET}"\n'
    f'    aws_key = "{AWS}"\n'
    "    return open(DATA).read()\n"
)
SHELL_PROMPT = "import subprocess\n\ndef run(cmd):\n"
SHELL = "    return subprocess.call(cmd, shell=True)\n"
SUFFIX_PROMPT = "def area(r):\n"
SUFFIX = "\n\nprint(area(2))\n"
COPY_PROMPT = "class Wrapper:\n"


def corpus_copy() -> str:
    """A stretch of the standard library (the default corpus), read at run time."""
    return textwrap.dedent(inspect.getsource(textwrap.TextWrapper._split)) + "\n"


def write_replay(path: Path) -> Path:
    records = [
        {"id": "leak", "prompt": LEAKY_PROMPT, "completion": LEAKY, "language": "python"},
        {"id": "shell", "prompt": SHELL_PROMPT, "completion": SHELL},
        {
            "id": "sfx",
            "prompt": SUFFIX_PROMPT,
            "suffix": SUFFIX,
            "completion": "    return 3.14 * r * r\n",
        },
        {"id": "nosfx", "prompt": SUFFIX_PROMPT, "completion": "    return r\n"},
        {"id": "copy", "prompt": COPY_PROMPT, "completion": corpus_copy()},
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def start(tmp: Path, config: Config | None = None, **kwargs):
    replay = write_replay(tmp / "replay.jsonl")
    server = build_server(
        engine=f"replay:{replay}",
        model=None,
        config=config or Config(),
        log=kwargs.pop("log", tmp / "serve.jsonl"),
        **kwargs,
    )
    return server, Running(build_app(server))


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("serve")
    server, running = start(tmp)
    yield server, running
    running.stop()
    close_server(server)


@pytest.fixture
def client(served):
    with httpx.Client(base_url=served[1].url, timeout=30) as c:
        yield c


def sse(lines) -> list:
    out = []
    for line in lines:
        if line.startswith("data: "):
            data = line[len("data: ") :]
            out.append(data if data == "[DONE]" else json.loads(data))
    return out


# -- completions, policy ---------------------------------------------------------------------
def test_leaking_suggestion_is_redacted_and_annotated(client):
    r = client.post("/v1/completions", json={"model": "anything", "prompt": LEAKY_PROMPT})
    assert r.status_code == 200
    body = r.json()
    assert body["model"] == "anything" and body["object"] == "text_completion"
    choice = body["choices"][0]
    assert choice["finish_reason"] == "stop"
    text = choice["text"]
    assert USER not in text and SECRET not in text and AWS not in text
    assert "/home/<user>/churn/data.csv" in text and "[REDACTED:" in text
    assert "return open(DATA).read()" in text  # the rest is untouched
    annotation = choice["codeaudit"]
    assert annotation["action"] == "redact"
    rules = {f["rule_id"] for f in annotation["findings"]}
    assert {"CA101", "CA202"} <= rules
    assert USER not in json.dumps(body) and SECRET not in json.dumps(body)


def test_security_smell_is_annotated_not_changed(client):
    r = client.post("/v1/completions", json={"prompt": SHELL_PROMPT, "max_tokens": 32})
    choice = r.json()["choices"][0]
    assert choice["text"] == SHELL
    assert choice["codeaudit"]["action"] == "annotate"
    assert any(
        f["rule_id"] == "B602" and f["cwe"] == "CWE-78" for f in choice["codeaudit"]["findings"]
    )


def test_corpus_copy_is_blocked_with_source_and_licence(client):
    r = client.post("/v1/completions", json={"prompt": COPY_PROMPT, "max_tokens": 200})
    choice = r.json()["choices"][0]
    assert choice["finish_reason"] == "content_filter"
    assert choice["text"] == ""
    blocked = [f for f in choice["codeaudit"]["findings"] if f["action"] == "block"]
    assert blocked and blocked[0]["rule_id"] in ("CA301", "CA302")
    assert blocked[0]["source"]["path"].endswith("textwrap.py")
    assert "license" in blocked[0]


def test_clean_and_unknown_prompts(client):
    r = client.post("/v1/completions", json={"prompt": "never recorded\n"})
    choice = r.json()["choices"][0]
    assert choice["text"] == "" and choice["codeaudit"] == {"action": "pass", "findings": []}
    # The suffix is part of the match, and a prompt given as a list of one string is accepted.
    with_suffix = client.post("/v1/completions", json={"prompt": [SUFFIX_PROMPT], "suffix": SUFFIX})
    without = client.post("/v1/completions", json={"prompt": SUFFIX_PROMPT})
    assert with_suffix.json()["choices"][0]["text"] == "    return 3.14 * r * r\n"
    assert without.json()["choices"][0]["text"] == "    return r\n"


def test_stop_sequences_and_n(client):
    r = client.post("/v1/completions", json={"prompt": LEAKY_PROMPT, "stop": ["password"], "n": 2})
    choices = r.json()["choices"]
    assert [c["index"] for c in choices] == [0, 1]
    for c in choices:
        assert c["text"] == "    DATA = '/home/<user>/churn/data.csv'\n    "


def test_engine_and_infill_routes(client):
    r = client.post("/v1/engines/codegen/completions", json={"prompt": SHELL_PROMPT})
    assert r.json()["model"] == "codegen" and r.json()["choices"][0]["text"] == SHELL
    r = client.post("/infill", json={"input_prefix": SUFFIX_PROMPT, "input_suffix": SUFFIX})
    body = r.json()
    assert body["content"] == "    return 3.14 * r * r\n" and body["stop"] is True
    r = client.post("/infill", json={"input_prefix": LEAKY_PROMPT, "stream": True})
    events = sse(r.text.splitlines())
    text = "".join(e["content"] for e in events)
    assert USER not in text and SECRET not in text and events[-1]["stop"] is True


def test_models_health_metrics(client):
    assert client.get("/v1/models").json()["data"][0]["id"].startswith("replay:")
    health = client.get("/health").json()
    assert health["status"] == "ok" and health["queue"]["limit"] == 32
    client.post("/v1/completions", json={"prompt": COPY_PROMPT, "max_tokens": 100})
    metrics = client.get("/metrics").text
    assert 'codeaudit_serve_requests_total{route="/v1/completions",status="200"}' in metrics
    assert "codeaudit_serve_request_seconds_bucket" in metrics
    assert "codeaudit_serve_audit_seconds_count" in metrics
    blocked = [
        ln for ln in metrics.splitlines() if ln.startswith("codeaudit_serve_blocked_choices_total")
    ]
    assert int(blocked[0].split()[-1]) >= 1
    assert 'codeaudit_serve_findings_total{rule="CA301"' in metrics or 'rule="CA302"' in metrics


# -- streaming --------------------------------------------------------------------------------
def test_streaming_releases_audited_text_only(client):
    with client.stream(
        "POST", "/v1/completions", json={"prompt": LEAKY_PROMPT, "stream": True}
    ) as r:
        assert r.headers["content-type"].startswith("text/event-stream")
        events = sse(r.iter_lines())
    assert events[-1] == "[DONE]"
    chunks = events[:-1]
    text = "".join(c["choices"][0]["text"] for c in chunks)
    assert USER not in text and SECRET not in text and AWS not in text
    assert (
        text
        == client.post("/v1/completions", json={"prompt": LEAKY_PROMPT}).json()["choices"][0][
            "text"
        ]
    )
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"
    assert chunks[-1]["choices"][0]["codeaudit"]["action"] == "redact"


def test_streamed_corpus_copy_ends_with_content_filter(client):
    copy = corpus_copy()
    with client.stream(
        "POST", "/v1/completions", json={"prompt": COPY_PROMPT, "stream": True, "max_tokens": 300}
    ) as r:
        events = sse(r.iter_lines())
    chunks = [e for e in events if e != "[DONE]"]
    sent = "".join(c["choices"][0]["text"] for c in chunks)
    assert chunks[-1]["choices"][0]["finish_reason"] == "content_filter"
    # The minimum span (150 characters) was held back while the copy could still be reported:
    # what went out before the finding is shorter than a reportable copy, and the rest never did.
    assert copy.startswith(sent) and len(sent) < 150
    assert len(copy) > 600


def test_streaming_holds_back_the_minimum_span(served):
    """A long clean answer streams in several audited pieces, each ending at a line end, and
    the last piece holds the final held-back text."""
    from codeaudit.serve.gate import LineGate

    server, _ = served
    calls = []

    def check(text):
        calls.append(text)
        return server.auditing.check([(text, "", "", "python")])[0]

    gate = LineGate(check, hold_chars=150)
    lines = [f"value_{i} = compute_{i}(argument_{i})\n" for i in range(12)]
    released = ""
    text = ""
    for line in lines:
        text += line
        released += gate.feed(text)
        assert len(text) - len(released) >= 150 or released == ""
        assert released == "" or released.endswith("\n")
    released += gate.finish(text)
    assert released == "".join(lines)
    assert all(c.endswith("\n") for c in calls)


def test_openai_client_completions_and_streaming(served):
    openai = pytest.importorskip("openai")
    client = openai.OpenAI(base_url=served[1].url + "/v1", api_key="unused", max_retries=0)
    done = client.completions.create(model="codegen", prompt=LEAKY_PROMPT, max_tokens=64)
    text = done.choices[0].text
    assert USER not in text and SECRET not in text and "/home/<user>/" in text
    assert done.choices[0].model_extra["codeaudit"]["action"] == "redact"
    streamed = client.completions.create(model="codegen", prompt=LEAKY_PROMPT, stream=True)
    pieces = list(streamed)
    assert "".join(p.choices[0].text for p in pieces) == text
    assert pieces[-1].choices[0].finish_reason == "stop"
    blocked = client.completions.create(model="codegen", prompt=COPY_PROMPT, max_tokens=300)
    assert blocked.choices[0].finish_reason == "content_filter"


# -- bad input --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("body", "status", "needle"),
    [
        (b"{not json", 400, "malformed JSON"),
        (b"[1, 2]", 400, "JSON object"),
        (b"", 400, "empty"),
        (b"\xff\xfe", 400, "UTF-8"),
        (json.dumps({"max_tokens": 5}).encode(), 400, "'prompt' is required"),
        (json.dumps({"prompt": 5}).encode(), 400, "'prompt' must be a string"),
        (
            json.dumps({"prompt": "x", "max_tokens": "ten"}).encode(),
            400,
            "'max_tokens' must be an integer",
        ),
        (json.dumps({"prompt": "x", "max_tokens": 100000}).encode(), 400, "server's limit"),
        (json.dumps({"prompt": "x", "n": 99}).encode(), 400, "'n' must be between"),
        (json.dumps({"prompt": "x", "temperature": -1}).encode(), 400, "temperature"),
        (json.dumps({"prompt": "x", "top_p": 0}).encode(), 400, "top_p"),
        (json.dumps({"prompt": "x", "stream": "yes"}).encode(), 400, "'stream' must be a boolean"),
        (json.dumps({"prompt": "x", "stop": [1]}).encode(), 400, "'stop'"),
        (json.dumps({"prompt": "x", "seed": 1.5}).encode(), 400, "'seed' must be an integer"),
    ],
)
def test_bad_requests_get_openai_errors(client, body, status, needle):
    r = client.post("/v1/completions", content=body, headers={"content-type": "application/json"})
    assert r.status_code == status
    error = r.json()["error"]
    assert needle in error["message"] and error["type"] == "invalid_request_error"
    assert "Traceback" not in r.text
    assert client.get("/health").status_code == 200  # still serving


def test_oversized_bodies_unknown_routes_and_methods(client):
    big = json.dumps({"prompt": "x" * (MAX_BODY_BYTES + 10)}).encode()
    r = client.post("/v1/completions", content=big)
    assert r.status_code == 413 and r.json()["error"]["code"] == "request_too_large"

    def chunks():
        yield b'{"prompt": "'
        for _ in range(20):
            yield b"y" * 60_000
        yield b'"}'

    r = client.post("/v1/completions", content=chunks())  # chunked: no Content-Length
    assert r.status_code == 413
    r = client.get("/v2/everything")
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
    r = client.get("/v1/completions")
    assert r.status_code == 405 and "error" in r.json()
    r = client.post("/infill", json={"input_suffix": "x"})
    assert r.status_code == 400 and "input_prefix" in r.json()["error"]["message"]
    assert client.post("/v1/completions", json={"prompt": SHELL_PROMPT}).status_code == 200


# -- security -----------------------------------------------------------------------------------
def test_api_key_cors_and_loopback(tmp_path):
    key = "k-" + "7" * 30
    server, running = start(tmp_path, api_key=key)
    try:
        assert running.url.startswith("http://127.0.0.1:")
        with httpx.Client(base_url=running.url, timeout=30) as c:
            assert c.post("/v1/completions", json={"prompt": "x"}).status_code == 401
            wrong = c.post(
                "/v1/completions", json={"prompt": "x"}, headers={"Authorization": "Bearer nope"}
            )
            assert (
                wrong.status_code == 401 and wrong.json()["error"]["type"] == "authentication_error"
            )
            assert key not in wrong.text
            ok = c.post(
                "/v1/completions", json={"prompt": "x"}, headers={"Authorization": f"Bearer {key}"}
            )
            assert ok.status_code == 200
            assert c.get("/metrics").status_code == 401
            assert c.get("/health").status_code == 200  # liveness stays open
            # No CORS unless configured: a browser preflight gets no allow-origin header.
            pre = c.options(
                "/v1/completions",
                headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
            )
            assert "access-control-allow-origin" not in pre.headers
    finally:
        running.stop()
        close_server(server)


def test_cors_when_configured(tmp_path):
    config = config_from_mapping({"serve": {"cors_origins": ["https://ide.example"]}})
    server, running = start(tmp_path, config=config)
    try:
        with httpx.Client(base_url=running.url, timeout=30) as c:
            pre = c.options(
                "/v1/completions",
                headers={"Origin": "https://ide.example", "Access-Control-Request-Method": "POST"},
            )
            assert pre.headers.get("access-control-allow-origin") == "https://ide.example"
    finally:
        running.stop()
        close_server(server)


# -- configuration, log -------------------------------------------------------------------------
def test_policy_from_configuration(tmp_path):
    config = config_from_mapping(
        {"serve": {"policy": {"B602": "block", "privacy": "annotate", "CA101": "annotate"}}}
    )
    server, running = start(tmp_path, config=config)
    try:
        with httpx.Client(base_url=running.url, timeout=30) as c:
            shell = c.post("/v1/completions", json={"prompt": SHELL_PROMPT}).json()["choices"][0]
            assert shell["finish_reason"] == "content_filter" and shell["text"] == ""
            leak = c.post("/v1/completions", json={"prompt": LEAKY_PROMPT}).json()["choices"][0]
            assert f"/home/{USER}/" in leak["text"]  # usernames now annotated only
            assert SECRET not in leak["text"]  # secrets still redacted (rule ids win)
    finally:
        running.stop()
        close_server(server)
    log = (tmp_path / "serve.jsonl").read_text()
    assert SECRET not in log and AWS not in log


def test_bad_configuration_and_engine_fail_in_one_line(run_cli, tmp_path):
    (tmp_path / ".codeaudit.toml").write_text('[serve]\nqueue = "many"\n')
    r = run_cli("serve", "--engine", f"replay:{write_replay(tmp_path / 'r.jsonl')}", "--port", "0")
    assert r.returncode == 2 and b"[tool.codeaudit.serve].queue" in r.stderr
    assert b"Traceback" not in r.stderr
    (tmp_path / ".codeaudit.toml").write_text('[serve.policy]\nB602 = "delete"\n')
    r = run_cli("serve", "--engine", "replay:r.jsonl", "--port", "0")
    assert r.returncode == 2 and b"not an action" in r.stderr
    (tmp_path / ".codeaudit.toml").unlink()
    r = run_cli("serve", "--engine", "replay:missing.jsonl", "--port", "0")
    assert r.returncode == 2 and b"missing.jsonl" in r.stderr and len(r.stderr.splitlines()) == 1
    (tmp_path / "bad.jsonl").write_text('{"completion": "x"}\n{oops\n')
    r = run_cli("serve", "--engine", "replay:bad.jsonl", "--port", "0")
    assert r.returncode == 2 and b"bad.jsonl:2" in r.stderr


def test_log_is_the_batch_contract_masked_and_replayable(tmp_path, run_cli):
    server, running = start(tmp_path)
    try:
        with httpx.Client(base_url=running.url, timeout=30) as c:
            c.post("/v1/completions", json={"prompt": LEAKY_PROMPT, "temperature": 0.5, "seed": 3})
            with c.stream(
                "POST", "/v1/completions", json={"prompt": LEAKY_PROMPT, "stream": True}
            ) as r:
                list(r.iter_lines())
            c.post("/v1/completions", json={"prompt": SHELL_PROMPT})
            c.post("/v1/completions", json={"prompt": COPY_PROMPT, "max_tokens": 300})
    finally:
        running.stop()
        close_server(server)
    path = tmp_path / "serve.jsonl"
    raw = path.read_text()
    assert USER not in raw and SECRET not in raw and AWS not in raw
    records = [json.loads(line) for line in raw.splitlines()]
    assert len(records) == 4
    first = records[0]
    assert (
        first["meta"]["sampling"]["seed"] == 3 and first["meta"]["sampling"]["temperature"] == 0.5
    )
    assert first["meta"]["engine"] == "replay" and first["meta"]["codeaudit"]["action"] == "redact"
    assert records[1]["meta"]["sampling"]["stream"] is True
    blocked = records[3]
    assert blocked["meta"]["codeaudit"] == {
        **blocked["meta"]["codeaudit"],
        "action": "block",
        "sent": False,
    }
    # `codeaudit audit log.jsonl` replays it: the withheld copy and the shell call are found again.
    r = run_cli("audit", str(path), "--format", "json", "--auditors", "security,memorization")
    assert r.returncode == 1, r.stderr
    report = json.loads(r.stdout)
    rules = {f["rule_id"] for res in report["results"] for f in res["findings"]}
    assert "B602" in rules and rules & {"CA301", "CA302"}
    # The hook's AI provenance recognises the lines the server wrote.
    from codeaudit.change.provenance import Provenance

    prov = Provenance.from_records(records)
    lines = ["import subprocess", "", "def run(cmd):", SHELL.rstrip("\n"), "x = 1"]
    assert 4 in prov.ai_lines("tool.py", lines, added={4, 5}, language="python")


def test_log_rotates_by_size(tmp_path):
    config = config_from_mapping({"serve": {"log_max_bytes": 3000, "log_keep": 2}})
    server, running = start(tmp_path, config=config)
    try:
        with httpx.Client(base_url=running.url, timeout=30) as c:
            for _ in range(12):
                c.post("/v1/completions", json={"prompt": SHELL_PROMPT})
    finally:
        running.stop()
        close_server(server)
    files = sorted(p.name for p in tmp_path.glob("serve*.jsonl"))
    assert files == ["serve.1.jsonl", "serve.2.jsonl", "serve.jsonl"]
    assert all((tmp_path / f).stat().st_size <= 3000 for f in files)
    assert (tmp_path / "serve.jsonl").stat().st_mode & 0o077 == 0


def test_default_log_is_in_the_user_state_folder(monkeypatch, tmp_path):
    from codeaudit.serve.suggestion_log import default_log_path

    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    assert default_log_path() == tmp_path / "state" / "codeaudit" / "serve.jsonl"


def test_replay_server_never_imports_the_generation_libraries(tmp_path):
    import subprocess
    import sys

    replay = write_replay(tmp_path / "r.jsonl")
    code = (
        "import sys\n"
        "from codeaudit.config import Config\n"
        "from codeaudit.serve.setup import build_server, close_server\n"
        "from codeaudit.serve.app import build_app\n"
        f"s = build_server(engine='replay:{replay}', model=None, config=Config(), log=False)\n"
        "build_app(s); close_server(s)\n"
        "print(sorted(m for m in ('torch', 'transformers', 'onnxruntime', 'optimum') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_the_command_serves_with_a_key_from_the_environment(tmp_path):
    import os
    import re
    import subprocess
    import sys
    import time

    replay = write_replay(tmp_path / "r.jsonl")
    key = "env-key-" + "5" * 24
    err = tmp_path / "stderr.txt"
    env = {**os.environ, "CODEAUDIT_API_KEY": key, "XDG_STATE_HOME": str(tmp_path / "state")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "codeaudit", "serve", "--engine", f"replay:{replay}", "--port", "0"],
        stdout=subprocess.DEVNULL,
        stderr=err.open("w"),
        env=env,
        cwd=tmp_path,
    )
    try:
        deadline = time.monotonic() + 120
        while not (m := re.search(r"on (http://127\.0\.0\.1:\d+)", err.read_text())):
            assert proc.poll() is None and time.monotonic() < deadline, err.read_text()
            time.sleep(0.05)
        url = m.group(1)
        for _ in range(100):
            try:
                httpx.get(url + "/health", timeout=2)
                break
            except httpx.HTTPError:
                time.sleep(0.05)
        body = {"prompt": LEAKY_PROMPT}
        assert httpx.post(url + "/v1/completions", json=body).status_code == 401
        ok = httpx.post(
            url + "/v1/completions", json=body, headers={"Authorization": f"Bearer {key}"}
        )
        assert ok.status_code == 200 and SECRET not in ok.text
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    text = err.read_text()
    assert key not in text and SECRET not in text and "Traceback" not in text
    # The default log is in the user state folder, not in the folder the server ran in.
    log = tmp_path / "state" / "codeaudit" / "serve.jsonl"
    assert log.exists() and SECRET not in log.read_text()
    assert not list(tmp_path.glob("*.jsonl"))[1:]  # only the replay file itself


def test_choices_of_one_stream_finish_independently(tmp_path):
    """Two recordings of one prompt: choice 0 a corpus copy (blocked), choice 1 clean code."""
    replay = tmp_path / "two.jsonl"
    clean = "".join(f"    total_{i} = compute_{i}(values)\n" for i in range(12))
    replay.write_text(
        json.dumps({"prompt": COPY_PROMPT, "completion": corpus_copy()})
        + "\n"
        + json.dumps({"prompt": COPY_PROMPT, "completion": clean})
        + "\n"
    )
    server = build_server(engine=f"replay:{replay}", model=None, config=Config(), log=False)
    running = Running(build_app(server))
    try:
        body = {"prompt": COPY_PROMPT, "n": 2, "stream": True, "max_tokens": 300}
        with (
            httpx.Client(base_url=running.url, timeout=30) as c,
            c.stream("POST", "/v1/completions", json=body) as r,
        ):
            events = [e for e in sse(r.iter_lines()) if e != "[DONE]"]
    finally:
        running.stop()
        close_server(server)
    texts = {0: "", 1: ""}
    finish = {}
    for e in events:
        choice = e["choices"][0]
        texts[choice["index"]] += choice["text"]
        if choice["finish_reason"]:
            finish[choice["index"]] = choice["finish_reason"]
    assert finish == {0: "content_filter", 1: "stop"}
    assert texts[1] == clean
    assert len(texts[0]) < 150
    # The clean choice streamed in more than one piece: released line by line as audited.
    assert sum(1 for e in events if e["choices"][0]["index"] == 1 and e["choices"][0]["text"]) > 1
