"""A realistic batch for the privacy benchmark and tests, built at run time (never committed).

Real code comes from the running interpreter's standard library and installed packages: windows
of 20–40 lines from Python, C, C++, JavaScript, JSON, YAML, TOML and shell files. A fraction of
the snippets gets one privacy problem injected: a user name in a path, an e-mail address, a URL
with a password, an ssh target, an IP address, or a secret in one of detect-secrets' formats.
Fake secrets are random strings in the right shape, drawn from a seeded generator.

>>> batch = build_batch(5, seed=1)
>>> len(batch), sorted(batch[0])
(5, ['completion', 'id', 'language', 'path'])
"""

from __future__ import annotations

import base64
import json
import os
import random
import string
import sysconfig
from collections.abc import Callable
from pathlib import Path

ALNUM = string.ascii_letters + string.digits
LOWER_ALNUM = string.ascii_lowercase + string.digits
B64 = ALNUM + "+/"
URLSAFE = ALNUM + "-_"

#: extension -> language name used in the batch
EXTENSIONS = {
    ".py": "python",
    ".c": "c",
    ".h": "c",
    ".cpp": "cpp",
    ".js": "javascript",
    ".json": "json",
    ".yaml": "yaml",
    ".yml": "yaml",
    ".toml": "toml",
    ".sh": "shell",
    ".cfg": "ini",
    ".go": "go",
    ".rs": "rust",
}
#: how many snippets of each language per 100 (the rest is Python)
MIX = {"c": 8, "cpp": 6, "javascript": 4, "json": 4, "yaml": 3, "toml": 2, "shell": 2, "ini": 1}


def _rand(rng: random.Random, n: int, alphabet: str = ALNUM) -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


def _jwt(rng: random.Random) -> str:
    def part(obj: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")

    return ".".join(
        [
            part({"alg": "HS256", "typ": "JWT"}),
            part({"sub": str(rng.randint(1, 10**9)), "iat": rng.randint(10**9, 2 * 10**9)}),
            _rand(rng, 43, URLSAFE),
        ]
    )


def _public_ip(rng: random.Random) -> str:
    while True:
        first = rng.choice(
            [13, 18, 23, 34, 35, 44, 52, 54, 64, 81, 93, 104, 142, 151, 185, 198, 212]
        )
        if first != 198:
            return f"{first}.{rng.randint(1, 254)}.{rng.randint(1, 254)}.{rng.randint(1, 254)}"


#: (kind, line maker). Each maker returns a line of code holding one fake secret or leak.
SECRET_MAKERS: list[tuple[str, Callable[[random.Random], str]]] = [
    (
        "AWS Access Key",
        lambda r: (
            f'aws_access_key_id = "AKIA{_rand(r, 16, string.ascii_uppercase + string.digits)}"'
        ),
    ),
    ("AWS Access Key", lambda r: f'aws_secret_access_key = "{_rand(r, 40, B64)}"'),
    ("GitHub Token", lambda r: f'GITHUB_TOKEN = "ghp_{_rand(r, 36)}"'),
    ("GitLab Token", lambda r: f'token = "glpat-{_rand(r, 20, URLSAFE)}"'),
    (
        "Slack Token",
        lambda r: (
            f'SLACK = "xoxb-{r.randint(10**10, 10**11)}-{r.randint(10**11, 10**12)}-{_rand(r, 24, LOWER_ALNUM)}"'
        ),
    ),
    ("Stripe Access Key", lambda r: f'stripe.api_key = "sk_live_{_rand(r, 24)}"'),
    ("Twilio API Key", lambda r: f'TWILIO_KEY = "SK{_rand(r, 32, LOWER_ALNUM)}"'),
    (
        "SendGrid API Key",
        lambda r: f'sg = SendGridAPIClient("SG.{_rand(r, 22, URLSAFE)}.{_rand(r, 43, URLSAFE)}")',
    ),
    (
        "Mailchimp Access Key",
        lambda r: f'MAILCHIMP = "{_rand(r, 32, LOWER_ALNUM)}-us{r.randint(1, 20)}"',
    ),
    ("NPM tokens", lambda r: f"//registry.npmjs.org/:_authToken=npm_{_rand(r, 36)}"),
    ("PyPI Token", lambda r: f'password = "pypi-AgEIcHlwaS5vcmc{_rand(r, 80, URLSAFE)}"'),
    ("OpenAI Token", lambda r: f'openai.api_key = "sk-{_rand(r, 20)}T3BlbkFJ{_rand(r, 20)}"'),
    (
        "Discord Bot Token",
        lambda r: (
            f'bot.run("M{_rand(r, 23, URLSAFE)}.{_rand(r, 6, URLSAFE)}.{_rand(r, 27, URLSAFE)}")'
        ),
    ),
    (
        "Telegram Bot Token",
        lambda r: f'TOKEN = "{r.randint(10**8, 10**9)}:{_rand(r, 35, URLSAFE)}"',
    ),
    ("Square OAuth Secret", lambda r: f'SQUARE_SECRET = "sq0csp-{_rand(r, 43, URLSAFE)}"'),
    (
        "Azure Storage Account access key",
        lambda r: (
            f'conn = "DefaultEndpointsProtocol=https;AccountName=acme;AccountKey={_rand(r, 86, B64)}==;"'
        ),
    ),
    ("JSON Web Token", lambda r: f'auth = "Bearer {_jwt(r)}"'),
    ("Private Key", lambda r: "-----BEGIN RSA PRIVATE KEY-----"),
    (
        "Basic Auth Credentials",
        lambda r: (
            f'DATABASE_URL = "postgres://svc_{_rand(r, 5, string.ascii_lowercase)}:{_rand(r, 14)}@db.acme-corp.io:5432/app"'
        ),
    ),
    (
        "Secret Keyword",
        lambda r: f'db_password = "{_rand(r, 8, string.ascii_letters)}-{_rand(r, 6)}"',
    ),
    ("Hex High Entropy String", lambda r: f'checksum = "{_rand(r, 40, "0123456789abcdef")}"'),
    ("Base64 High Entropy String", lambda r: f'signing_key = "{_rand(r, 32, B64)}"'),
    ("Public IP (ipv4)", lambda r: f'API_HOST = "{_public_ip(r)}"'),
    ("Artifactory Credentials", lambda r: f'ARTIFACTORY = "AKC{_rand(r, 12)}"'),
    ("Cloudant Credentials", lambda r: f'cloudant_password = "{_rand(r, 64, "0123456789abcdef")}"'),
    ("SoftLayer Credentials", lambda r: f'softlayer_api_key = "{_rand(r, 64, LOWER_ALNUM)}"'),
    ("IBM Cloud IAM Key", lambda r: f'ibm_cloud_iam_key = "{_rand(r, 44, URLSAFE)}"'),
]

FIRST = [
    "mkowalski",
    "priya.raman",
    "jsmith",
    "anguyen",
    "chen.wei",
    "oleksandr",
    "tokafor",
    "lmartin",
    "dmueller",
    "kpatel",
    "fbianchi",
    "ahassan",
    "mia.jensen",
    "btanaka",
    "ivan.petrov",
    "rsingh",
    "joao.silva",
    "kmensah",
    "qzhang",
    "emre.y",
]
DOMAINS = [
    "gmail.com",
    "outlook.com",
    "uni-heidelberg.de",
    "cs.stanford.edu",
    "acme-corp.io",
    "yandex.ru",
    "qq.com",
]

#: (kind, line maker) for personal data.
LEAK_MAKERS: list[tuple[str, Callable[[random.Random], str]]] = [
    ("posix-home", lambda r: f'DATA = "/home/{r.choice(FIRST)}/projects/data/train.csv"'),
    (
        "macos-home",
        lambda r: f'cfg = open("/Users/{r.choice(FIRST)}/Library/Preferences/app.json")',
    ),
    ("windows", lambda r: f'path = r"C:\\Users\\{r.choice(FIRST)}\\Documents\\report.xlsx"'),
    (
        "windows-escaped",
        lambda r: f'path = "C:\\\\Users\\\\{r.choice(FIRST)}\\\\AppData\\\\Local\\\\app.db";',
    ),
    ("wsl", lambda r: f"cp out.csv /mnt/c/Users/{r.choice(FIRST)}/Desktop/"),
    ("cluster", lambda r: f"OUT=/scratch/{r.choice(FIRST)}/runs/$SLURM_JOB_ID"),
    ("email", lambda r: f"# Author: {r.choice(FIRST)}@{r.choice(DOMAINS)}"),
    (
        "ssh",
        lambda r: (
            f"scp dist.tar {r.choice(FIRST)}@build{r.randint(1, 9)}.acme-corp.io:/srv/releases/"
        ),
    ),
    (
        "private-ip",
        lambda r: f'REDIS = "10.{r.randint(0, 255)}.{r.randint(0, 255)}.{r.randint(1, 254)}"',
    ),
    ("internal-host", lambda r: f'JIRA = "https://jira.corp.acme-{r.randint(1, 99)}.com/rest"'),
]


def real_files(limit: int | None = None) -> list[Path]:
    """Source files of the standard library and site-packages, in a stable order."""
    roots = [Path(sysconfig.get_paths()["stdlib"]), Path(sysconfig.get_paths()["purelib"])]
    out: list[Path] = []
    for root in roots:
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames[:] = sorted(d for d in dirnames if d not in ("__pycache__",))
            for name in sorted(filenames):
                if os.path.splitext(name)[1] in EXTENSIONS:
                    out.append(Path(dirpath) / name)
    return out[:limit] if limit else out


def _window(path: Path, rng: random.Random) -> str | None:
    try:
        if path.stat().st_size > 400_000:
            return None
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return None
    if len(lines) < 20:
        return None
    n = rng.randint(20, min(40, len(lines)))
    start = rng.randint(0, len(lines) - n)
    return "\n".join(lines[start : start + n]) + "\n"


def build_batch(n: int, *, seed: int = 0, leak_fraction: float = 0.2) -> list[dict]:
    """``n`` suggestions of 20–40 real lines; ``leak_fraction`` of them carry one injected problem.

    Each item: ``id``, ``language``, ``path`` (for its extension) and ``completion``; items with an
    injected problem also get ``injected`` (the kind) and ``line``.
    """
    rng = random.Random(seed)
    by_lang: dict[str, list[Path]] = {}
    for path in real_files():
        by_lang.setdefault(EXTENSIONS[path.suffix], []).append(path)
    weights = {lang: MIX.get(lang, 0) for lang in by_lang}
    weights["python"] = 100 - sum(w for lang, w in weights.items() if lang != "python")
    langs = [lang for lang in weights if weights[lang] > 0 and by_lang.get(lang)]
    items: list[dict] = []
    while len(items) < n:
        lang = rng.choices(langs, weights=[weights[lang] for lang in langs])[0]
        path = rng.choice(by_lang[lang])
        text = _window(path, rng)
        if text is None:
            continue
        item = {
            "id": f"s{len(items):05d}",
            "language": lang,
            "path": "snippet" + path.suffix,
            "completion": text,
        }
        if rng.random() < leak_fraction:
            makers = SECRET_MAKERS if rng.random() < 0.6 else LEAK_MAKERS
            kind, make = rng.choice(makers)
            lines = text.split("\n")
            at = rng.randint(0, len(lines) - 2)
            lines.insert(at, make(rng))
            item["completion"] = "\n".join(lines)
            item["injected"], item["line"] = kind, at + 1
        items.append(item)
    return items
