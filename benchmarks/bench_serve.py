"""``codeaudit serve`` under load, audited and not, side by side in one run.

Two servers run at the same time as separate processes on the tiny CodeGen model with the
``onnx-int8`` engine: ours (every choice audited by privacy, security and memorization) and the
anchor (``--no-audit``, the same server without auditing). Load levels are interleaved between
them, round by round, so both see the same machine.

Measured:
* audit overhead per choice (the server's own ``x-codeaudit-audit-ms``), median and p99, and its
  share of the end-to-end p99 against the anchor (one client);
* p99 latency and throughput with 1, 8 and 32 concurrent clients; the 8-client / 1-client
  throughput ratio (batching);
* a replayed batch of leaking suggestions (made here at run time): every secret and username
  redacted or blocked, streamed and not, and in the log;
* a soak: N requests (default 2,000) of which 10 % are malformed and 10 % disconnect mid-stream,
  then resident memory growth, leftover tasks and streams, and whether the server still answers;
* the warm hook: ``codeaudit hook`` on a staged commit of 20 files and 1,000 added lines (the
  workload of ``bench_hook.py``) cold (``CODEAUDIT_NO_SERVER=1``) and answered by a running
  ``codeaudit serve --audit-only``, interleaved, each a new process; before every run each staged
  file (JSON files excepted: no comment syntax) gets a fresh last line, so no run can reuse a
  result of another.

    python benchmarks/bench_serve.py [--rounds 3] [--soak 2000] [--quick]

Writes ``benchmarks/results/serve.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import string
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine, median, p99, write_results

PROMPTS = [
    "def read_config(path):\n",
    "def parse_header(line):\n",
    "class Cache:\n    def __init__(self, size):\n",
    "def merge(left, right):\n",
    "import os\n\n\ndef list_files(root):\n",
    "def tokenize(text):\n",
    "def save(obj, path):\n",
    "for item in items:\n",
]
MAX_TOKENS = 64


# -- servers ------------------------------------------------------------------------------------
class ServerProcess:
    def __init__(self, name: str, args: list[str], workdir: Path) -> None:
        self.name = name
        self.err = workdir / f"{name}.stderr"
        env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "codeaudit", "serve", "--port", "0", *args],
            stdout=subprocess.DEVNULL,
            stderr=self.err.open("w"),
            cwd=workdir,
            env=env,
        )
        deadline = time.monotonic() + 300
        while True:
            text = self.err.read_text() if self.err.exists() else ""
            m = re.search(r"on (http://[0-9.]+:\d+)", text)
            if m:
                self.url = m.group(1)
                break
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{name} did not start: {text[-2000:]}")
            time.sleep(0.1)
        for _ in range(100):  # the port is bound before uvicorn answers
            try:
                if httpx.get(self.url + "/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)

    def rss_mb(self) -> float:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()


# -- load ---------------------------------------------------------------------------------------
async def load(url: str, clients: int, total: int, *, seed: int = 0) -> dict:
    latencies: list[float] = []
    audit_ms: list[float] = []
    statuses: dict[int, int] = {}
    counter = iter(range(total))
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=url, timeout=120, limits=limits) as client:

        async def worker() -> None:
            for i in counter:
                body = {"prompt": PROMPTS[(i + seed) % len(PROMPTS)], "max_tokens": MAX_TOKENS}
                started = time.perf_counter()
                r = await client.post("/v1/completions", json=body)
                latencies.append(time.perf_counter() - started)
                statuses[r.status_code] = statuses.get(r.status_code, 0) + 1
                if "x-codeaudit-audit-ms" in r.headers:
                    audit_ms.append(float(r.headers["x-codeaudit-audit-ms"]))

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(clients)))
        wall = time.perf_counter() - started
    return {
        "clients": clients,
        "requests": total,
        "wall_s": wall,
        "rps": total / wall,
        "latencies": latencies,
        "audit_ms": audit_ms,
        "statuses": statuses,
    }


def level_sizes(quick: bool) -> dict[int, int]:
    return {1: 40, 8: 96, 32: 192} if quick else {1: 80, 8: 240, 32: 480}


def run_levels(servers: list[ServerProcess], rounds: int, quick: bool) -> dict:
    runs: dict[str, dict[int, list[dict]]] = {s.name: {} for s in servers}
    for r in range(rounds):
        for clients, total in level_sizes(quick).items():
            order = servers if r % 2 == 0 else list(reversed(servers))
            for s in order:
                asyncio.run(load(s.url, 2, 8))  # settle
                out = asyncio.run(load(s.url, clients, total, seed=r))
                runs[s.name].setdefault(clients, []).append(out)
                print(
                    f"  round {r + 1} {s.name:9s} {clients:2d} clients: {out['rps']:7.1f} req/s, "
                    f"p99 {p99(out['latencies']) * 1000:7.1f} ms",
                    file=sys.stderr,
                )
    summary: dict = {}
    for name, levels in runs.items():
        summary[name] = {}
        for clients, outs in levels.items():
            lat = [x for o in outs for x in o["latencies"]]
            audit = [x for o in outs for x in o["audit_ms"]]
            statuses: dict[str, int] = {}
            for o in outs:
                for k, v in o["statuses"].items():
                    statuses[str(k)] = statuses.get(str(k), 0) + v
            summary[name][clients] = {
                "rps_median": median([o["rps"] for o in outs]),
                "p50_ms": median(lat) * 1000,
                "p99_ms": median([p99(o["latencies"]) for o in outs]) * 1000,
                "audit_ms_median": median(audit) if audit else None,
                "audit_ms_p99": p99(audit) if audit else None,
                "statuses": statuses,
            }
    return summary


# -- leaks ----------------------------------------------------------------------------------------
FIRST = ["anna", "marek", "yuki", "pedro", "fatima", "olaf", "li", "grace", "tomasz", "ines"]
LAST = ["kowalczyk", "tanaka", "silva", "haddad", "berg", "wei", "hopper", "nowak", "costa"]


def leaking_batch(n: int, rng: random.Random) -> tuple[list[dict], list[str], list[str]]:
    records, users, secrets = [], [], []
    for i in range(n):
        user = rng.choice(FIRST)[0] + rng.choice(LAST) + str(rng.randint(1, 99))
        secret = "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(24))
        key = "AKIA" + "".join(
            rng.choice(string.ascii_uppercase + string.digits) for _ in range(16)
        )
        kind = i % 3
        if kind == 0:
            body = (
                f"    data = open('/home/{user}/projects/report_{i}.csv').read()\n"
                f'    api_secret = "{secret}"\n'
                "    return data\n"
            )
        elif kind == 1:
            body = (
                f'    password = "{secret}"\n'
                f'    client = connect(key="{key}", secret=password)\n'
                f"    log_dir = '/Users/{user}/logs'\n"
                "    return client\n"
            )
        else:
            body = (
                f"    remote = 'ssh://{user}@build{i}.example.org/srv/repo.git'\n"
                f'    token = "{secret}"\n'
                f"    cache = 'C:\\\\Users\\\\{user}\\\\AppData\\\\cache'\n"
                "    return remote, token\n"
            )
            secrets.append(key)
        records.append({"id": f"leak-{i}", "prompt": f"def leak_{i}():\n", "completion": body})
        users.append(user)
        secrets.append(secret)
    return records, users, secrets


def leak_check(workdir: Path) -> dict:
    rng = random.Random(14)
    records, users, secrets = leaking_batch(60, rng)
    replay = workdir / "leaks.jsonl"
    replay.write_text("".join(json.dumps(r) + "\n" for r in records))
    log = workdir / "leaks-log.jsonl"
    server = ServerProcess("replay", ["--engine", f"replay:{replay}", "--log", str(log)], workdir)
    leaked_responses = 0
    actions: dict[str, int] = {}
    try:
        with httpx.Client(base_url=server.url, timeout=60) as c:
            for r in records:
                plain = c.post("/v1/completions", json={"prompt": r["prompt"], "max_tokens": 256})
                choice = plain.json()["choices"][0]
                actions[choice["codeaudit"]["action"]] = (
                    actions.get(choice["codeaudit"]["action"], 0) + 1
                )
                with c.stream(
                    "POST", "/v1/completions", json={"prompt": r["prompt"], "stream": True}
                ) as s:
                    streamed = "".join(s.iter_lines())
                for text in (plain.text, streamed):
                    if any(u in text for u in users) or any(x in text for x in secrets):
                        leaked_responses += 1
    finally:
        server.stop()
    logged = log.read_text()
    return {
        "suggestions": len(records),
        "usernames": len(users),
        "secrets": len(secrets),
        "responses_checked": 2 * len(records),
        "responses_leaking": leaked_responses,
        "log_lines": len(logged.splitlines()),
        "log_leaks": sum(u in logged for u in users) + sum(x in logged for x in secrets),
        "actions": actions,
    }


# -- soak -----------------------------------------------------------------------------------------
MALFORMED = [
    b"{not json",
    b'{"prompt": 5}',
    b'{"prompt": "x", "max_tokens": "many"}',
    b'{"max_tokens": 4}',
    b'{"prompt": "x", "n": 1000}',
    b"[]",
]


async def soak(url: str, total: int, clients: int = 8) -> dict:
    kinds = {"ok": 0, "malformed": 0, "disconnect": 0}
    statuses: dict[int, int] = {}
    errors = 0
    counter = iter(range(total))
    async with httpx.AsyncClient(base_url=url, timeout=120) as client:

        async def worker() -> None:
            nonlocal errors
            for i in counter:
                kind = "malformed" if i % 10 == 3 else "disconnect" if i % 10 == 7 else "ok"
                kinds[kind] += 1
                try:
                    if kind == "malformed":
                        r = await client.post(
                            "/v1/completions",
                            content=MALFORMED[i % len(MALFORMED)],
                            headers={"content-type": "application/json"},
                        )
                        statuses[r.status_code] = statuses.get(r.status_code, 0) + 1
                    elif kind == "disconnect":
                        body = {"prompt": PROMPTS[i % len(PROMPTS)], "max_tokens": 300}
                        body.update(stream=True, temperature=1.0, seed=i)
                        async with client.stream("POST", "/v1/completions", json=body) as r:
                            statuses[r.status_code] = statuses.get(r.status_code, 0) + 1
                            async for line in r.aiter_lines():
                                if line.startswith("data: "):
                                    break  # gone mid-stream
                    else:
                        body = {"prompt": PROMPTS[i % len(PROMPTS)], "max_tokens": MAX_TOKENS}
                        body["stream"] = i % 2 == 0
                        r = await client.post("/v1/completions", json=body)
                        statuses[r.status_code] = statuses.get(r.status_code, 0) + 1
                except httpx.HTTPError:
                    errors += 1

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(clients)))
        wall = time.perf_counter() - started
    return {
        "requests": total,
        "kinds": kinds,
        "statuses": statuses,
        "client_errors": errors,
        "wall_s": wall,
    }


COMMENT = {
    ".py": "#",
    ".sh": "#",
    ".yaml": "#",
    ".yml": "#",
    ".c": "//",
    ".h": "//",
    ".js": "//",
    ".go": "//",
}


def hook_bench(work: Path, repeats: int) -> dict:
    from bench_hook import build_repo, git

    repo = work / "hook-repo"
    repo.mkdir()
    files, facts = build_repo(repo)
    originals = {f: (repo / f).read_text(encoding="utf-8") for f in files}
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(work / "pycache")
    env["XDG_RUNTIME_DIR"] = str(work / "run")
    (work / "run").mkdir(mode=0o700)
    codeaudit = str(Path(sys.executable).parent / "codeaudit")
    fresh_files = [f for f in files if Path(f).suffix in COMMENT]

    def refresh(tag: str) -> None:
        for f in fresh_files:
            text = originals[f]
            if not text.endswith("\n"):
                text += "\n"
            (repo / f).write_text(
                text + f"{COMMENT[Path(f).suffix]} fresh {tag}\n", encoding="utf-8"
            )
        git(repo, "add", "-A")

    def timed(extra_env: dict, tag: str) -> tuple[float, int, str]:
        refresh(tag)
        started = time.perf_counter()
        proc = subprocess.run(
            [codeaudit, "hook", *files],
            cwd=repo,
            env={**env, **extra_env},
            capture_output=True,
            check=False,
        )
        return time.perf_counter() - started, proc.returncode, proc.stdout.decode()

    timed({"CODEAUDIT_NO_SERVER": "1"}, "warm-up")  # page cache, bytecode, corpus index
    server = subprocess.Popen(
        [codeaudit, "serve", "--audit-only", "--repo", str(repo)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        from codeaudit.serve.client import socket_path

        path = Path(env["XDG_RUNTIME_DIR"]) / "codeaudit" / socket_path(repo).name
        deadline = time.monotonic() + 120
        while not path.exists():
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the audit-only server did not start")
            time.sleep(0.05)
        timed({}, "warm-up-2")
        cold, warm, same = [], [], 0
        for r in range(repeats):
            pair = [("cold", {"CODEAUDIT_NO_SERVER": "1"}), ("warm", {})]
            if r % 2:
                pair.reverse()
            outs = {}
            for name, extra in pair:
                seconds, code, out = timed(extra, f"{r}")
                (cold if name == "cold" else warm).append(seconds)
                outs[name] = (code, out)
            same += outs["cold"] == outs["warm"]
    finally:
        server.terminate()
        server.wait(timeout=20)
    return {
        "workload": {k: facts[k] for k in ("files", "added_lines", "new_files", "modified_files")},
        "fresh_files_per_run": len(fresh_files),
        "repeats": repeats,
        "cold_median_s": median(cold),
        "warm_median_s": median(warm),
        "warm_over_cold": median(warm) / median(cold),
        "same_output_and_exit_code": f"{same}/{repeats}",
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--soak", type=int, default=2000)
    ap.add_argument("--quick", action="store_true", help="fewer requests per level")
    ap.add_argument("--hook-repeats", type=int, default=7, help="0: skip the warm hook part")
    ap.add_argument("--only-hook", action="store_true", help="run only the warm hook part")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-serve-"))
    if args.only_hook:
        hook = hook_bench(work, args.hook_repeats)
        print(json.dumps(hook, indent=2))
        return 0
    common = ["--model", "tiny", "--engine", "onnx-int8", "--threads", "1", "--max-tokens", "512"]
    print("starting servers (tiny model, onnx-int8) …", file=sys.stderr)
    ours = ServerProcess("audited", [*common, "--log", str(work / "serve.jsonl")], work)
    anchor = ServerProcess("no-audit", [*common, "--no-audit", "--no-log"], work)
    try:
        levels = run_levels([ours, anchor], args.rounds, args.quick)
        # soak, on our server
        with httpx.Client(base_url=ours.url, timeout=30) as c:
            before_health = c.get("/health").json()
        rss_before = ours.rss_mb()
        print(f"soak: {args.soak} requests …", file=sys.stderr)
        soaked = asyncio.run(soak(ours.url, args.soak))
        time.sleep(1.0)
        rss_after = ours.rss_mb()
        with httpx.Client(base_url=ours.url, timeout=30) as c:
            after_health = c.get("/health").json()
            still = c.post("/v1/completions", json={"prompt": PROMPTS[0], "max_tokens": 8})
    finally:
        ours.stop()
        anchor.stop()
    leaks = leak_check(work)
    hook = hook_bench(work, args.hook_repeats) if args.hook_repeats else None

    a1, b1 = levels["audited"][1], levels["no-audit"][1]
    overhead_share = (a1["p99_ms"] - b1["p99_ms"]) / a1["p99_ms"]
    result = {
        "what": "codeaudit serve, tiny CodeGen, onnx-int8, 1 model thread; anchor = --no-audit",
        "max_tokens": MAX_TOKENS,
        "rounds": args.rounds,
        "levels": {k: {str(c): v for c, v in d.items()} for k, d in levels.items()},
        "audit_overhead_ms": {"median": a1["audit_ms_median"], "p99": a1["audit_ms_p99"]},
        "audit_share_of_e2e_p99": overhead_share,
        "throughput_8_over_1": {
            name: levels[name][8]["rps_median"] / levels[name][1]["rps_median"] for name in levels
        },
        "server_errors": sum(
            n
            for d in levels.values()
            for lv in d.values()
            for code, n in lv["statuses"].items()
            if code.startswith("5")
        ),
        "soak": {
            **soaked,
            "rss_before_mb": rss_before,
            "rss_after_mb": rss_after,
            "rss_growth_mb": rss_after - rss_before,
            "health_before": before_health,
            "health_after": after_health,
            "still_answering": still.status_code == 200,
        },
        "leaks": leaks,
        "warm_hook": hook,
    }
    path = write_results("serve", result)
    print()
    print(f"machine: {machine()['cpu']}, {machine()['cores']} cores")
    print(
        f"{'clients':>8} | {'audited req/s':>13} {'p99 ms':>8} | {'no-audit req/s':>14} {'p99 ms':>8}"
    )
    for c in (1, 8, 32):
        a, b = levels["audited"][c], levels["no-audit"][c]
        print(
            f"{c:>8} | {a['rps_median']:13.1f} {a['p99_ms']:8.1f} | {b['rps_median']:14.1f} {b['p99_ms']:8.1f}"
        )
    print(
        f"audit per choice: median {a1['audit_ms_median']:.2f} ms, p99 {a1['audit_ms_p99']:.2f} ms "
        f"(target p99 <= 5 ms); share of e2e p99 (1 client): {overhead_share:.1%} (target <= 5 %)"
    )
    t = result["throughput_8_over_1"]
    print(
        f"throughput 8 / 1 clients: audited {t['audited']:.2f}x, no-audit {t['no-audit']:.2f}x (target >= 3x)"
    )
    print(f"server errors under load: {result['server_errors']}")
    s = result["soak"]
    print(
        f"soak: {s['requests']} requests ({s['kinds']}), statuses {s['statuses']}, "
        f"client errors {s['client_errors']}, RSS {s['rss_before_mb']:.1f} -> {s['rss_after_mb']:.1f} MB "
        f"({s['rss_growth_mb']:+.1f}), after: tasks {s['health_after']['tasks']} (before "
        f"{s['health_before']['tasks']}), streams open {s['health_after']['streams_open']}, "
        f"still answering: {s['still_answering']}"
    )
    print(
        f"leaks: {leaks['responses_leaking']} of {leaks['responses_checked']} responses and "
        f"{leaks['log_leaks']} log hits leak a username or secret; actions {leaks['actions']}"
    )
    if hook:
        print(
            f"hook, 20 files / {hook['workload']['added_lines']} added lines: cold "
            f"{hook['cold_median_s']:.3f} s, warm {hook['warm_median_s']:.3f} s "
            f"({hook['warm_over_cold']:.2f}x, target <= 0.5x); same output and exit code "
            f"{hook['same_output_and_exit_code']}"
        )
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
