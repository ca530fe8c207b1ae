"""What makes a 1 MB one-line file fast to audit (issue 16) without changing what is found.

* The words of string literals (an SVG's path data is one literal of 250,000 of them) enter the
  lexer's table in one batch, and their offsets come from the characters that are not skipped
  whitespace instead of a search per word: the codes and offsets must be exactly those of one
  word at a time (the memorization index stores them; ``TOKENIZER_VERSION`` did not change).
* The report cites help text only from auditors that found something, so a clean file does not
  load the security auditor's rule packs.
"""

from __future__ import annotations

import random

import numpy as np

from codeaudit import Auditor, Confidence, Outcome, Rule, Severity, audit
from codeaudit.corpus import tokens as T

#: Whitespace the lexers skip, of every kind ``\s`` knows, around words of a literal.
SPACES = [" ", "\t", "\x0b", "\x0c", "\x1c", "\x1f", "\x85", "\xa0", "\u2003", "\u2028", "\u3000"]


def literal_text(seed: int, n: int = 400) -> str:
    rng = random.Random(seed)
    alphabet = ["M", "L", "z", "é", "ß", "数", "_", "9", ".", ",", "-", "\u200b", "😀"]
    words = []
    for _ in range(n):
        word = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 6)))
        words.append(word + "".join(rng.choice(SPACES) for _ in range(rng.randint(0, 2))))
    body = "".join(words)
    return f'x = 1\ny = "{body}"\nz = f("""{body[: len(body) // 2]}\n{body}""")\n'


def test_string_words_keep_their_codes_and_offsets():
    for seed in range(5):
        text = literal_text(seed)
        ts = T.tokenize(text, "python", offsets=True)
        assert ts.start is not None and ts.end is not None
        inside = np.flatnonzero(ts.norm >= 3)  # words, numbers, operators (not markers, names)
        checked = 0
        for k in inside.tolist():
            piece = text[ts.start[k] : ts.end[k]]
            assert piece and not any(c.isspace() and c != "\n" for c in piece), (seed, k, piece)
            if any(ts.start[k] >= s0 and ts.end[k] <= s1 for s0, s1 in _literals(text)):
                assert (int(ts.norm[k]), int(ts.raw[k])) == T._word(piece), (seed, piece)
                checked += 1
        assert checked > 500


def _literals(text: str) -> list[tuple[int, int]]:
    a = text.index('"') + 1
    b = text.index('"', a)
    c = text.index('"""') + 3
    return [(a, b), (c, text.rindex('"""'))]


def test_a_cold_table_and_a_warm_one_give_the_same_stream():
    text = literal_text(7, n=2000)
    T._WORD_VOCAB.reset()
    for vocab in T._VOCABS.values():
        vocab.reset()
    cold = T.tokenize(text, "python", offsets=True)
    warm = T.tokenize(text, "python", offsets=True)
    for name in ("norm", "raw", "line", "start", "end"):
        assert np.array_equal(getattr(cold, name), getattr(warm, name)), name


def test_batch_codes_are_the_one_word_codes():
    rng = random.Random(3)
    words = [
        "".join(chr(rng.randint(33, 0x2FFF)) for _ in range(rng.randint(1, 8))) for _ in range(3000)
    ]
    words += ["\ud800lone", "w", "0x1F", "数据"]
    norm, raw = T._words_many(words)
    assert [(int(n), int(r)) for n, r in zip(norm, raw)] == [T._word(w) for w in words]


def test_the_table_resets_before_a_lookup_that_could_pass_its_limit():
    vocab = T._WordVocab()
    vocab.LIMIT = 50
    first = [f"a{i}" for i in range(40)]
    vocab.lookup(first)
    parts = [f"b{i}" for i in range(30)] + first[:5]
    codes = vocab.lookup(parts)
    assert vocab.size == 2 + 35  # reset first, then the 35 distinct parts
    got = [(int(vocab.norm[c]), int(vocab.raw[c])) for c in codes]
    assert got == [T._word(w) for w in parts]


# --- help text only from auditors that found something -----------------------------------------


class Finder(Auditor):
    """Flags the word ``danger``; counts how often its rules are asked for."""

    name = "privacy"
    asked = 0

    @classmethod
    def rules(cls):
        cls.asked += 1
        return [
            Rule(
                id="CA970",
                name="danger-word",
                auditor=cls.name,
                title="the word danger",
                severity=Severity.MEDIUM,
                confidence=Confidence.HIGH,
                cwe=200,
                description="d",
                fix="f",
            )
        ]

    def audit_one(self, s):
        out = Outcome()
        for n, line in enumerate(s.completion.splitlines(), start=1):
            if "danger" in line:
                out.findings.append(
                    self.finding(s, "CA970", line=n, column=line.index("danger") + 1)
                )
        return out


class Silent(Finder):
    name = "security"
    asked = 0

    def audit_one(self, s):
        return Outcome()


def test_rules_are_read_only_from_auditors_that_reported():
    auditors = [Finder(), Silent()]  # the base class reads its rules once when built
    Finder.asked = Silent.asked = 0
    report = audit(["x = 'danger'\n", "y = 1\n"], auditors=auditors)
    assert list(report.rules) == ["CA970"]
    assert (Finder.asked, Silent.asked) == (1, 0)
    clean = audit(["y = 1\n"], auditors=auditors)
    assert clean.rules == {} and (Finder.asked, Silent.asked) == (1, 0)
