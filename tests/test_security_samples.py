"""The labelled security set under tests/data/security/: its reader and checks of its format.

``load_samples()`` is shared with ``test_security_quality.py`` and ``benchmarks/bench_security.py``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parent / "data" / "security"
MARK = "⚠"
#: The languages of Meta's CyberSecEval, which the quality targets are stated for, plus Go.
LANGUAGES = ("c", "cpp", "csharp", "java", "javascript", "php", "python", "rust", "go")
_HEADER = re.compile(r"^@@@ (?:(?P<pos>pos) (?P<cwe>\d+)|(?P<neg>neg)) (?P<name>[\w.-]+)\s*$")


@dataclass(frozen=True)
class Sample:
    language: str
    name: str
    positive: bool
    cwe: int | None
    prompt: str
    completion: str
    #: 1-based line of the insecure statement inside the completion (positives only).
    line: int | None
    source: str

    @property
    def id(self) -> str:
        return f"{self.language}/{'pos' if self.positive else 'neg'}/{self.name}"


def parse_samples(text: str, language: str, source: str) -> list[Sample]:
    samples: list[Sample] = []
    header: re.Match[str] | None = None
    header_line = 0
    body: list[str] = []

    def flush() -> None:
        if header is None:
            return
        prompt_lines: list[str] = []
        lines = body
        if "@@@ completion" in lines:
            cut = lines.index("@@@ completion")
            prompt_lines, lines = lines[:cut], lines[cut + 1 :]
        marked = [i for i, ln in enumerate(lines, start=1) if ln.rstrip().endswith(MARK)]
        where = f"{source}:{header_line}"
        if any(ln.rstrip().endswith(MARK) for ln in prompt_lines):
            raise ValueError(f"{where}: the {MARK} mark must be in the completion")
        positive = header["pos"] is not None
        if positive and len(marked) != 1:
            raise ValueError(
                f"{where}: a positive sample needs exactly one line ending in {MARK}, found {len(marked)}"
            )
        if not positive and marked:
            raise ValueError(f"{where}: a negative sample must not mark a line")
        clean = [re.sub(r"\s*" + MARK + r"\s*$", "", ln) for ln in lines]
        while clean and not clean[-1].strip():
            clean.pop()
        samples.append(
            Sample(
                language=language,
                name=header["name"],
                positive=positive,
                cwe=int(header["cwe"]) if positive else None,
                prompt="".join(ln + "\n" for ln in prompt_lines),
                completion="".join(ln + "\n" for ln in clean),
                line=marked[0] if positive else None,
                source=where,
            )
        )

    for number, line in enumerate(text.splitlines(), start=1):
        if line.startswith("@@@ ") and line != "@@@ completion":
            flush()
            header = _HEADER.match(line)
            if header is None:
                raise ValueError(f"{source}:{number}: bad sample header {line!r}")
            header_line, body = number, []
        elif header is None:
            if line.strip():
                raise ValueError(f"{source}:{number}: text before the first sample header")
        else:
            body.append(line)
    flush()
    return samples


def load_samples(languages: tuple[str, ...] = LANGUAGES, *, blind: bool = False) -> list[Sample]:
    """Every labelled sample of the given languages, in file order.

    ``blind=True`` reads the blind set (tests/data/security/blind/), written after the rules
    were settled and never used to tune them; it has no Go file.
    """
    folder = DATA / "blind" if blind else DATA
    out: list[Sample] = []
    for language in languages:
        path = folder / f"{language}.txt"
        if blind and not path.exists():
            continue
        out.extend(
            parse_samples(
                path.read_text(encoding="utf-8"),
                language,
                str(path.relative_to(DATA.parent.parent.parent)),
            )
        )
    return out


def test_every_language_has_a_labelled_file_with_both_kinds():
    for language in LANGUAGES:
        samples = load_samples((language,))
        positives = [s for s in samples if s.positive]
        negatives = [s for s in samples if not s.positive]
        assert len(positives) >= 20, f"{language}: only {len(positives)} insecure samples"
        assert len(negatives) >= 15, f"{language}: only {len(negatives)} clean samples"


def test_blind_set_has_both_kinds_for_the_cyberseceval_languages():
    for language in LANGUAGES[:-1]:
        samples = load_samples((language,), blind=True)
        assert (
            sum(s.positive for s in samples) >= 8 and sum(not s.positive for s in samples) >= 6
        ), language


def test_sample_names_are_unique_per_language():
    for language in LANGUAGES:
        ids = [s.id for s in load_samples((language,))]
        dupes = {i for i in ids if ids.count(i) > 1}
        assert not dupes, dupes


def test_reader_rejects_malformed_samples():
    with pytest.raises(ValueError, match="exactly one line"):
        parse_samples("@@@ pos 78 x\nsystem(cmd);\n", "c", "t")
    with pytest.raises(ValueError, match="must not mark"):
        parse_samples(f"@@@ neg x\nsystem(cmd); {MARK}\n", "c", "t")
    with pytest.raises(ValueError, match="bad sample header"):
        parse_samples("@@@ positive x\n", "c", "t")
    with pytest.raises(ValueError, match="in the completion"):
        parse_samples(f"@@@ pos 1 x\na {MARK}\n@@@ completion\nb {MARK}\n", "c", "t")


def test_reader_splits_prompt_and_completion():
    (s,) = parse_samples(
        f"@@@ pos 120 x\nvoid f() {{\n@@@ completion\n  char b[4];\n  gets(b); {MARK}\n}}\n",
        "c",
        "t",
    )
    assert s.prompt == "void f() {\n"
    assert s.completion == "  char b[4];\n  gets(b);\n}\n"
    assert s.line == 2 and s.cwe == 120
