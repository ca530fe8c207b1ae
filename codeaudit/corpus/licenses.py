"""Which licence a corpus file is under, as an SPDX identifier.

Three sources, most specific first: an ``SPDX-License-Identifier:`` line near the top of the file,
the licence named in a dataset record (The Stack's ``max_stars_repo_licenses``), and the
repository's licence file (``LICENSE``, ``COPYING`` …) recognised by a few key phrases of each
common licence text (:func:`classify_text`; no licence text is stored here). What cannot be
identified is :data:`UNKNOWN` (SPDX's ``NOASSERTION``), which the memorization auditor treats as
a risk, like copyleft.

>>> classify_text("Permission is hereby granted, free of charge, to any person obtaining a copy ...")
'MIT'
>>> spdx_from_source("# SPDX-License-Identifier: GPL-2.0-or-later\\nimport os\\n")
'GPL-2.0-or-later'
>>> is_copyleft("LGPL-2.1-only"), is_copyleft("Apache-2.0"), is_copyleft("MIT AND GPL-3.0")
(True, False, True)
"""

from __future__ import annotations

import re
from collections.abc import Callable

UNKNOWN = "NOASSERTION"

#: File names (lower case, without extension) that hold a repository's licence.
LICENSE_FILE_STEMS = ("license", "licence", "copying", "copyright", "unlicense")

_SPDX_LINE = re.compile(
    r"SPDX-License-Identifier:\s*([A-Za-z0-9.+\-() ]+?)\s*(?:\*/|-->|$)", re.MULTILINE
)

#: Licence families whose terms travel with copied code (strong and weak copyleft).
_COPYLEFT = re.compile(
    r"\b(?:A?GPL|LGPL|MPL|EPL|CDDL|EUPL|OSL|CPL|SSPL|CC-BY-SA|CECILL|APSL|RPL|Sleepycat)\b",
    re.IGNORECASE,
)


def _gnu(family: str, title: str) -> _Rule:
    def decide(t: str, at: int) -> str:
        head = t[at : at + 400]
        later = "any later version" in t or "or later version" in t
        version = (
            "3.0"
            if "version 3" in head
            else "2.1"
            if "version 2.1" in head
            else "2.0"
            if "version 2" in head
            else "1.0"
        )
        if family == "AGPL":
            version = "3.0"
        elif family == "LGPL" and version == "1.0":
            version = "2.0"
        return f"{family}-{version}-{'or-later' if later else 'only'}"

    # The licence's own text, not a mention of it: its title near one of its preamble phrases.
    return _Rule(
        decide,
        (title,),
        any_of=(
            "terms and conditions for copying, distribution and modification",
            "is free software; you can redistribute it and/or modify",
            "is free software: you can redistribute it and/or modify",
            "everyone is permitted to copy and distribute verbatim copies",
        ),
    )


class _Rule:
    """A licence recognised by phrases that must all occur (``all_of``) and, when given, one of
    ``any_of``; ``spdx`` is an id or a function of (text, position of the first phrase)."""

    def __init__(
        self,
        spdx: str | Callable[[str, int], str],
        all_of: tuple[str, ...],
        any_of: tuple[str, ...] = (),
    ) -> None:
        self.spdx, self.all_of, self.any_of = spdx, all_of, any_of

    def find(self, t: str) -> int:
        """Where the licence starts in ``t`` (its first phrase), or -1."""
        positions = [t.find(p) for p in self.all_of]
        if min(positions) < 0 or (self.any_of and not any(p in t for p in self.any_of)):
            return -1
        return min(positions)

    def id(self, t: str, at: int) -> str:
        return self.spdx if isinstance(self.spdx, str) else self.spdx(t, at)


_RULES = (
    _gnu("AGPL", "gnu affero general public license"),
    _gnu("LGPL", "gnu lesser general public license"),
    _gnu("LGPL", "gnu library general public license"),
    _gnu("GPL", "gnu general public license"),
    _Rule(
        lambda t, at: (
            "MPL-2.0" if "version 2.0" in t[at : at + 200] or "v. 2.0" in t else "MPL-1.1"
        ),
        ("mozilla public license",),
    ),
    _Rule(
        lambda t, at: "EPL-2.0" if "version 2.0" in t[at : at + 200] or "v 2.0" in t else "EPL-1.0",
        ("eclipse public license",),
    ),
    _Rule("CDDL-1.0", ("common development and distribution license",)),
    _Rule("EUPL-1.2", ("european union public licence",)),
    _Rule("PSF-2.0", ("python software foundation license version 2",)),
    _Rule("PSF-2.0", ("python software foundation", "psf hereby grants")),
    _Rule("Apache-2.0", ("apache license", "version 2.0")),
    _Rule("BSL-1.0", ("boost software license",)),
    _Rule("MIT", ("permission is hereby granted, free of charge, to any person obtaining a copy",)),
    _Rule(
        "ISC",
        (
            "permission to use, copy, modify, and/or distribute this software for any purpose with or without fee",
        ),
    ),
    _Rule(
        lambda t, at: (
            "BSD-4-Clause"
            if "all advertising materials mentioning features" in t[at : at + 3000]
            else "BSD-3-Clause"
            if (
                "neither the name" in t[at : at + 3000]
                or "may not be used to endorse or promote" in t[at : at + 3000]
            )
            else "BSD-2-Clause"
        ),
        ("redistribution and use in source and binary forms",),
    ),
    _Rule("Unlicense", ("this is free and unencumbered software released into the public domain",)),
    _Rule("CC0-1.0", ("cc0 1.0",)),
    _Rule(
        "Zlib",
        (
            "provided 'as-is', without any express or implied warranty",
            "altered source versions must be plainly marked",
        ),
    ),
    _Rule("HPND", ("historical permission notice and disclaimer",)),
    _Rule(
        "HPND",
        (
            "permission to use, copy, modify, and distribute this software and its documentation for any purpose and without fee is hereby granted",
        ),
    ),
)


def classify_text(text: str) -> str:
    """The SPDX id of a licence text, from key phrases; :data:`UNKNOWN` when none fits.

    The text is compared in lower case with whitespace collapsed, so line wrapping and
    indentation do not matter. When a file holds several licences (a project's own, then those
    of bundled code), the one that starts first is the project's.
    """
    t = " ".join(text.lower().split())
    best: tuple[int, str] | None = None
    for rule in _RULES:
        at = rule.find(t)
        if at >= 0 and (best is None or at < best[0]):
            best = (at, rule.id(t, at))
    return best[1] if best else UNKNOWN


def spdx_from_source(text: str) -> str | None:
    """The ``SPDX-License-Identifier`` expression in the first lines of a file, if any."""
    m = _SPDX_LINE.search(text[:4096])
    return " ".join(m.group(1).split()) if m else None


def from_record(value: object) -> str | None:
    """A dataset record's licence field (a string or a list of SPDX ids) as one expression."""
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, (list, tuple)):
        ids = [str(v).strip() for v in value if str(v).strip()]
        # A repository with several detected licences: all of them apply to some of its files.
        return " AND ".join(dict.fromkeys(ids)) or None
    return None


def is_copyleft(expression: str | None) -> bool:
    """True when any licence of an SPDX expression is copyleft (strong or weak)."""
    return bool(expression) and bool(_COPYLEFT.search(expression))  # type: ignore[arg-type]


def is_unknown(expression: str | None) -> bool:
    return not expression or expression.strip().upper() in (UNKNOWN, "NONE", "UNKNOWN", "")


def is_license_file(name: str) -> bool:
    """``LICENSE``, ``LICENSE.txt``, ``COPYING.md``, ``LICENCE-MIT`` … (not ``license.py``)."""
    base = name.lower()
    stem = base.split(".", 1)[0]
    if base.endswith((".py", ".js", ".c", ".h", ".java", ".go", ".rs", ".html")):
        return False
    return any(
        stem == s or stem.startswith(s + "-") or stem.startswith(s + "_")
        for s in LICENSE_FILE_STEMS
    )


#: File names (lower case, without extension) of notice files: attributions, not code.
NOTICE_FILE_STEMS = ("notice", "notices", "third_party_notices", "thirdpartynotices", "patents")


def is_notice_file(name: str) -> bool:
    """A licence file (:func:`is_license_file`) or a ``NOTICE``/``PATENTS`` file."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1].lower()
    if is_license_file(base):
        return True
    if base.endswith((".py", ".js", ".c", ".h", ".java", ".go", ".rs", ".html")):
        return False
    stem = base.split(".", 1)[0]
    return any(stem == s or stem.startswith((s + "-", s + "_")) for s in NOTICE_FILE_STEMS)


#: Words that licence and notice paragraphs use and code rarely does (lower case).
_LICENSE_WORD = re.compile(
    r"copyright|\(c\)|©|licen[cs]|redistribut|warrant|merchantab|liab|permission|permitted|"
    r"disclaim|rights reserved|endorse|in no event|damages|contributor|free software|"
    r"granted|terms and conditions|as is\b|spdx-license-identifier|public domain|sublicense"
)
#: Signs of code in a paragraph without licence words (it then ends a licence block).
_CODE_SIGN = re.compile(r"[=;{}]|\b(?:def|return|import|class|function|var|const)\b")
#: Comment and string delimiters around a licence block, stripped before reading a line.
_DELIMS = re.compile(r"^[\s#/*;!\-\"'<>]*|[\s#/*;!\-\"'<>]*$")


def license_blocks(text: str) -> list[tuple[int, int]]:
    """Character spans ``[start, end)`` of the licence texts in ``text``: runs of paragraphs
    (split at blank lines, comment and quote marks ignored) that use licence wording, each run
    recognised by :func:`classify_text` as a known licence. A paragraph without licence words
    between two that have them stays in the run unless it looks like code.

    >>> text = "# Copyright 2020 A. Person\\n#\\n# Licensed under the Apache License, Version 2.0\\n" \\
    ...        "# you may not use this file except in compliance with the License.\\n\\nx = 1\\n"
    >>> [text[a:b].splitlines()[0] for a, b in license_blocks(text)]
    ['# Copyright 2020 A. Person']
    """
    paras: list[tuple[int, int, str]] = []  # (start, end, kind: "lic" | "prose" | "code")
    start = None
    words: list[str] = []
    pos = 0
    for line in text.splitlines(keepends=True):
        inner = _DELIMS.sub("", line)
        if inner:
            if start is None:
                start, words = pos, []
            words.append(inner)
        elif start is not None:
            paras.append(_para(start, pos, words))
            start = None
        pos += len(line)
    if start is not None:
        paras.append(_para(start, pos, words))
    blocks: list[tuple[int, int]] = []
    i = 0
    while i < len(paras):
        if paras[i][2] != "lic":
            i += 1
            continue
        j = i
        k = i + 1
        while k < len(paras) and paras[k][2] != "code":
            if paras[k][2] == "lic":
                j = k
            k += 1
        a, b = paras[i][0], paras[j][1]
        if classify_text(_inner_lines(text[a:b])) != UNKNOWN:
            blocks.append((a, b))
        i = j + 1
    return blocks


def _para(start: int, end: int, lines: list[str]) -> tuple[int, int, str]:
    body = " ".join(lines)
    low = body.lower()
    if _LICENSE_WORD.search(low):
        return (start, end, "lic")
    return (start, end, "code" if _CODE_SIGN.search(body) else "prose")


def _inner_lines(text: str) -> str:
    return "\n".join(_DELIMS.sub("", line) for line in text.splitlines())
