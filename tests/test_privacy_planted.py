"""Planted secrets, fresh on every run: each detected on its line, none printed anywhere.

Realistic secrets of every common shape are generated at random (so no test can pass by knowing
them), planted in suggestions of several languages and file kinds, and audited by the real
``codeaudit`` command with the default auditors. Every one must be reported on its line, and no
16-character piece of any of them may appear in any report format, in a report file, or on
standard error.
"""

from __future__ import annotations

import base64
import json
import random
import string

import pytest

RNG = random.SystemRandom()
ALNUM = string.ascii_letters + string.digits


def rand(n: int, alphabet: str = ALNUM) -> str:
    while True:
        s = "".join(RNG.choice(alphabet) for _ in range(n))
        # a realistic secret mixes classes (detect-secrets and our stand-in filters expect that)
        classes = [str.isdigit, str.isupper, str.islower]
        if all(any(f(c) for c in s) for f in classes if any(f(c) for c in alphabet)):
            return s


def password() -> str:
    return rand(10) + RNG.choice("!-_.~+") + rand(9)


def private_key() -> tuple[str, list[str]]:
    body = [base64.b64encode(RNG.randbytes(48)).decode() for _ in range(5)]
    text = "-----BEGIN RSA PRIVATE KEY-----\n" + "\n".join(body) + "\n-----END RSA PRIVATE KEY-----"
    return text, body


def planted() -> list[tuple[dict, list[tuple[int, str]]]]:
    """(suggestion, [(line, secret) …]) for every shape."""
    out = []

    def add(sid, path, lines, secrets, language=None):
        s = {"id": sid, "path": path, "completion": "\n".join(lines) + "\n"}
        if language:
            s["language"] = language
        out.append((s, secrets))

    aws_id, aws_secret = "AKIA" + rand(16, string.ascii_uppercase + "234567"), rand(40)
    add(
        "aws",
        "app/storage.py",
        [
            "import boto3",
            f"s3 = boto3.client('s3', aws_access_key_id='{aws_id}',",
            f"                  aws_secret_access_key='{aws_secret}')",
        ],
        [(2, aws_id), (3, aws_secret)],
    )
    gh, pw, db = "ghp_" + rand(36), password(), password()
    add(
        "python",
        "app/settings.py",
        [
            "import psycopg2",
            f'GITHUB_TOKEN = "{gh}"',
            f"conn = psycopg2.connect(host='db', user='shop', password='{pw}')",
            f"DATABASE_URL = 'postgresql://shop:{db}@db.prod.acme-shop.net:5432/shop'",
        ],
        [(2, gh), (3, pw), (4, db)],
    )
    key, body = private_key()
    add(
        "key",
        "deploy/keys.py",
        [
            "DEPLOY_KEY = '''" + key.splitlines()[0],
            *key.splitlines()[1:-1],
            key.splitlines()[-1] + "'''",
        ],
        [(1 + i + 1, b) for i, b in enumerate(body)],
    )
    stripe = "sk_live_" + rand(24)
    add(
        "php",
        "src/Billing.php",
        [
            "<?php",
            f"\\Stripe\\Stripe::setApiKey('{stripe}');",
        ],
        [(2, stripe)],
    )
    go_pw = password()
    add(
        "go",
        "store/db.go",
        [
            "package store",
            f'var dsn = "app:{go_pw}@tcp(db.shop.acme-corp.net:3306)/shop?parseTime=true"',
        ],
        [(2, go_pw)],
    )
    jdbc_pw, ado_pw = password(), password()
    add(
        "java",
        "src/main/java/Db.java",
        [
            "class Db {",
            f'  String url = "jdbc:mysql://db.acme-shop.net:3306/shop?user=svc&password={jdbc_pw}";',
            f'  String ado = "Server=sql01;Database=shop;User Id=svc;Password={ado_pw};";',
            "}",
        ],
        [(2, jdbc_pw), (3, ado_pw)],
    )
    env_pw, env_key = password(), rand(32)
    add(
        "env",
        ".env",
        [f"DB_PASSWORD={env_pw}", f"STRIPE_SECRET={env_key}", "DEBUG=false"],
        [(1, env_pw), (2, env_key)],
    )
    yml_pw = password()
    add(
        "yaml",
        "config/app.yaml",
        ["database:", "  user: shop", f"  password: {yml_pw}"],
        [(3, yml_pw)],
    )
    basic = base64.b64encode(f"svc:{password()}".encode()).decode()
    bearer = rand(40)
    add(
        "http",
        "client/api.js",
        [
            "const headers = {",
            f"  Authorization: 'Basic {basic}',",
            "};",
            f"fetch(url, {{ headers: {{ Authorization: `Bearer {bearer}` }} }});",
        ],
        [(2, basic), (4, bearer)],
    )
    return out


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    cases = planted()
    folder = tmp_path_factory.mktemp("planted")
    path = folder / "batch.jsonl"
    path.write_text("".join(json.dumps(s) + "\n" for s, _ in cases), encoding="utf-8")
    return path, cases


def pieces(secret: str, n: int = 16) -> list[str]:
    return [secret[i : i + n] for i in range(0, max(1, len(secret) - n + 1))]


@pytest.fixture(scope="module")
def outputs(batch, tmp_path_factory):
    import os
    import subprocess
    import sys

    path, _ = batch
    folder = path.parent
    env = {**os.environ, "CODEAUDIT_CACHE_DIR": str(tmp_path_factory.mktemp("cache"))}
    texts = {}
    for fmt in ("table", "json", "sarif", "html"):
        target = folder / f"report.{fmt}"
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "codeaudit",
                "audit",
                str(path),
                "--format",
                fmt,
                "-o",
                str(target),
                "--auditors",
                "privacy,security",
            ],
            capture_output=True,
            text=True,
            env=env,
            cwd=folder,
            timeout=300,
        )
        assert proc.returncode == 1, proc.stderr[-2000:]
        texts[fmt] = target.read_text(encoding="utf-8")
        texts[f"{fmt} stdout+stderr"] = proc.stdout + proc.stderr
    proc = subprocess.run(
        [sys.executable, "-m", "codeaudit", "audit", str(path), "--format", "table"],
        capture_output=True,
        text=True,
        env=env,
        cwd=folder,
        timeout=300,
    )
    texts["table on stdout"] = proc.stdout + proc.stderr
    return texts


def test_every_planted_secret_is_reported_on_its_line(batch, outputs):
    _, cases = batch
    report = json.loads(outputs["json"])
    by_id = {r["id"]: r for r in report["results"]}
    missed = []
    for s, secrets in cases:
        lines = {
            line
            for f in by_id[s["id"]]["findings"]
            if f["severity"] in ("medium", "high", "critical")
            for line in range(f["line"], f["end_line"] + 1)
        }
        missed += [(s["id"], line) for line, _ in secrets if line not in lines]
    assert not missed, missed


def test_no_piece_of_any_secret_is_printed(batch, outputs):
    _, cases = batch
    import html

    leaks = []
    for name, text in outputs.items():
        text = html.unescape(text) if name.startswith("html") else text
        plain = text.replace("\\/", "/")
        for _, secrets in cases:
            for _, secret in secrets:
                if any(p in text or p in plain for p in pieces(secret)):
                    leaks.append((name, f"a secret of {len(secret)} characters"))
    assert not leaks, leaks  # never the secret itself in the assertion message


def test_one_mask_format_and_one_hash_per_secret(batch, outputs):
    import re

    from codeaudit.redact import MASK_RE

    for name in ("table", "json"):
        assert "****" not in outputs[name], name
    for result in json.loads(outputs["sarif"])["runs"][0]["results"]:
        assert "****" not in json.dumps(result)
    masks = set(MASK_RE.findall(outputs["json"]))
    assert masks and all(re.fullmatch(r"\[REDACTED:[0-9a-f]{8}\]", m) for m in masks)
    # the private key: every line of its body shows the same mask in the code windows
    key_lines = [ln for ln in outputs["table"].splitlines() if "REDACTED" in ln and "│" not in ln]
    assert key_lines
