"""Property-based tests of the privacy auditor: arbitrary text never crashes it, every location lies
inside the completion, and no secret it detects appears unmasked in the JSON report."""

from __future__ import annotations

import os
import random
import sys

import pytest
from helpers.bench import bench_module
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from codeaudit import audit
from codeaudit.auditors.privacy.auditor import PrivacyAuditor, _filename
from codeaudit.auditors.privacy.secrets import SecretScanner
from codeaudit.context import line_starts
from codeaudit.model import Suggestion

_corpus = bench_module("privacy_corpus")
LEAK_MAKERS, SECRET_MAKERS = _corpus.LEAK_MAKERS, _corpus.SECRET_MAKERS

#: ``CODEAUDIT_FUZZ_EXAMPLES=5000`` runs a longer search locally.
SETTINGS = settings(
    max_examples=int(os.environ.get("CODEAUDIT_FUZZ_EXAMPLES", "250")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

#: Text that is mostly code-like: fragments that exercise the detectors, glued with noise.
FRAGMENTS = st.sampled_from(
    [
        "/home/",
        "/Users/",
        "C:\\Users\\",
        "C:\\\\Users\\\\",
        "\\\\srv\\home$\\",
        "~",
        "/",
        "\\",
        "@",
        ":",
        "://",
        "'",
        '"',
        "alice",
        "bob.k",
        "${USER}",
        "{user}",
        "%USERNAME%",
        "runner",
        "\n",
        "\r\n",
        "\r",
        "\t",
        " ",
        "=",
        "password",
        "secret",
        "ghp_",
        "AKIA",
        "xoxb-",
        "-----BEGIN RSA PRIVATE KEY-----",
        "10.0.0.1",
        "52.14.7.201",
        "::",
        "fe80::1",
        ".corp",
        ".local",
        "ssh ",
        "scp ",
        "git@",
        "version",
        "\x1b[0;32m",
        "\\u001b[0m",
        "é",
        "中",
        "\u2028",
        "\x0c",
        "\x00",
    ]
)
TEXT = st.lists(st.one_of(FRAGMENTS, st.text(max_size=8)), max_size=40).map("".join)


@pytest.fixture(scope="module")
def auditor():
    return PrivacyAuditor()


def completion_lines(text: str) -> int:
    return len(line_starts(text))


@SETTINGS
@given(
    prompt=TEXT,
    completion=TEXT,
    suffix=TEXT,
    language=st.sampled_from([None, "python", "shell", "json", "csharp", "yaml", "cobol"]),
)
def test_no_crash_and_locations_inside_the_completion(
    auditor, prompt, completion, suffix, language
):
    (outcome,) = auditor.audit_batch(
        [Suggestion(id="f", prompt=prompt, completion=completion, suffix=suffix, language=language)]
    )
    assert outcome.errors == []
    lines = completion.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    for f in outcome.findings:
        assert 1 <= f.line <= f.end_line <= completion_lines(completion), (f, completion)
        assert 1 <= f.column <= len(lines[f.line - 1]) + 1
        if f.rule_name == "username-in-path":
            # The name may run on into the prompt's or the suffix's part of the line (the cursor).
            whole = (prompt + completion + suffix).replace("\r\n", "\n").replace("\r", "\n")
            assert (
                f.evidence["username"] in whole
                or "\\/" in whole
                or "[REDACTED:" in f.evidence["username"]
            )


def _with_secrets(seed: int, noise: str, count: int) -> str:
    rng = random.Random(seed)
    parts = []
    for _ in range(count):
        parts.append(rng.choice(SECRET_MAKERS)[1](rng))
        if rng.random() < 0.5:
            parts.append(rng.choice(LEAK_MAKERS)[1](rng))
        parts.append(noise)
    rng.shuffle(parts)
    # Sometimes put a leak and a secret on one line, so a non-secret finding's snippet holds a secret.
    return (
        "\n".join(
            p if rng.random() < 0.7 else p + "  # " + rng.choice(LEAK_MAKERS)[1](rng) for p in parts
        )
        + "\n"
    )


@SETTINGS
@given(
    seed=st.integers(0, 10**9),
    noise=TEXT,
    count=st.integers(1, 4),
    language=st.sampled_from(["python", "yaml", "shell", None]),
)
def test_detected_secrets_never_appear_in_the_report(auditor, seed, noise, count, language):
    code = _with_secrets(seed, noise, count)
    report = audit([{"id": "s", "completion": code, "language": language}], auditors=[auditor])
    text = report.to_json()
    if not report.results:
        assert (
            report.input_errors
        )  # NUL bytes: the pipeline refuses the input before any auditor runs
        return
    # What the auditor scanned: the language the pipeline settled on decides detect-secrets' file type.
    found = SecretScanner().scan(
        code, _filename(Suggestion(id="s", completion=code, language=report.results[0].language))
    )
    for secret in found:
        for value in (secret.match, secret.value):
            if len(value) >= 6:
                assert value not in text, (secret.secret_type, value)


def test_a_megabyte_on_one_line_finishes(auditor):
    """No pattern backtracks catastrophically on a long line (the pipeline admits up to 1 MB)."""
    import subprocess

    code = (
        "import sys\n"
        "from codeaudit.auditors.privacy.auditor import PrivacyAuditor\n"
        "from codeaudit.model import Suggestion\n"
        "line = ('a' * 999 + ' /home/' + 'x' * 500 + ' password=\"' + 'f0' * 400 + ':' * 300 + '@' * 100) * 300\n"
        "(o,) = PrivacyAuditor().audit_batch([Suggestion(id='big', completion=line)])\n"
        "print(len(o.findings))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
