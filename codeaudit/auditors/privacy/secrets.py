"""detect-secrets' plug-ins, run in process behind an exact gate.

detect-secrets scans a file line by line and runs every plug-in on every line; most of its time
goes into regular expressions that cannot match. :class:`SecretScanner` runs the *same* plug-in
objects (detect-secrets' default plug-in list and default filters) but asks each plug-in to look
only at lines that could hold one of its secrets. The gate in front of a plug-in is derived at run
time from that plug-in's own patterns, so it follows detect-secrets when its rules change:

* for a regex plug-in, :func:`required_literals` reads each pattern's syntax tree and finds a set
  of strings of which every match must contain one (``AKIA``/``ABIA``/… for AWS keys, the secret
  words for the keyword plug-in); a line containing none of them cannot match;
* a pattern without such strings is searched once over the whole text instead of once per line,
  when :func:`whole_text_safe` proves that a match inside one line is also a match inside the
  joined text;
* the high-entropy plug-ins only report quoted runs whose Shannon entropy exceeds their limit, and
  a string of ``n`` characters has an entropy of at most ``log2(n)``; so a quoted run of at least
  ``2**limit`` characters of the plug-in's alphabet must be present;
* a plug-in the gate does not understand (a newer or custom one) sees every line.

The gate only ever skips work that cannot produce a finding; the benchmark
(``benchmarks/bench_privacy.py``) checks on every run that each secret detect-secrets' own
``SecretsCollection.scan_file`` reports is also reported here (same line, same type).

detect-secrets is imported on first use, not with this module: ``import codeaudit`` stays cheap.

>>> scanner = SecretScanner()
>>> [(s.line, s.secret_type) for s in scanner.scan('x = 1\\ntoken = "ghp_' + 'a1B2c3D4' * 4 + 'e5F6"\\n', "app.py")]
[(2, 'GitHub Token')]
"""

from __future__ import annotations

import contextlib
import functools
import io
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from codeaudit.auditors.privacy.gates import (
    _Gate,
    _gates_for,
    _Text,
    required_literals,
    whole_text_safe,
)

#: The gates live in :mod:`.gates`; the two analyses stay importable from here.
__all__ = ["RawSecret", "SecretScanner", "required_literals", "whole_text_safe"]


@contextlib.contextmanager
def _requests_deferred() -> Iterator[None]:
    """While detect-secrets loads, ``import requests`` gives a stand-in for the real module.

    detect-secrets imports requests (~60 ms, most of its import time) only for its optional
    network verification of secrets, which codeaudit never runs. At import time its modules touch
    requests only in two return annotations (``-> requests.Response``), which get a placeholder
    type. After loading, the stand-in leaves ``sys.modules`` (everyone else imports the real
    module) and forwards every attribute to the real requests, so the verification code that
    detect-secrets' modules keep would still work if anything called it.
    """
    import sys
    import types

    if "requests" in sys.modules:
        yield
        return
    loading = True

    def forward(name: str) -> Any:
        if loading:
            return type(
                name,
                (),
                {"__module__": "requests", "__doc__": "placeholder (codeaudit deferred requests)"},
            )
        import importlib

        return getattr(importlib.import_module("requests"), name)

    stand_in = types.ModuleType("requests", "codeaudit's deferred stand-in for requests")
    stand_in.__getattr__ = forward  # type: ignore[method-assign]  # PEP 562 module __getattr__
    sys.modules["requests"] = stand_in
    try:
        yield
    finally:
        loading = False
        if sys.modules.get("requests") is stand_in:
            del sys.modules["requests"]


@dataclass(frozen=True, slots=True)
class RawSecret:
    """One secret a plug-in reported. ``value`` never leaves the privacy auditor unmasked."""

    line: int  # 1-based line of the scanned text
    secret_type: str  # the plug-in's ``secret_type``, e.g. ``"AWS Access Key"``
    value: str
    plugin: str  # the plug-in's class name
    #: The text to hide: the whole token the plug-in's pattern matched. Some plug-ins report only
    #: a capture group (the GitHub plug-in reports ``ghp`` for ``ghp_…``), which would leave the
    #: rest of the token on show.
    match: str = ""


# --- the scanner ------------------------------------------------------------------------------


class _NamedStringIO(io.StringIO):
    """What detect-secrets' transformers read: a text file with a name."""

    def __init__(self, text: str, name: str) -> None:
        super().__init__(text, newline=None)  # universal newlines, like open() in text mode
        self.name = name


@functools.lru_cache(maxsize=64)
def _matches(regex: re.Pattern[str], line: str) -> tuple[re.Match[str], ...]:
    """Every match of a plug-in pattern on a line, once per line (a line can hold thousands)."""
    return tuple(regex.finditer(line))


def _matched_text(plugin: Any, line: str, value: str) -> str:
    """The token a regex plug-in matched around ``value`` (``value`` itself for other plug-ins)."""
    for regex in getattr(plugin, "denylist", ()) or ():
        for m in _matches(regex, line):
            whole = m.group(0)
            if value not in whole:
                continue
            if len(value) >= 8 and any(m.group(g) == value for g in range(1, regex.groups + 1)):
                return value  # the plug-in reported the secret group itself
            return whole
    return value


def _transformed(text: str, filename: str, raw: list[str], *, eager: bool) -> list[str] | None:
    """detect-secrets' ``get_transformed_file``: the first transformer that parses the text.

    Its INI transformer is tried on every file and costs a ConfigParser per suggestion, so it is
    skipped where :func:`_ini_must_fail` shows that configparser would reject the text anyway.
    """
    from detect_secrets.transformers import get_transformers
    from detect_secrets.transformers.config import ConfigFileTransformer, EagerConfigFileTransformer
    from detect_secrets.transformers.exceptions import ParsingError

    for transformer in get_transformers():
        if not transformer.should_parse_file(filename) or transformer.is_eager != eager:
            continue
        kind = type(transformer)
        if kind in (ConfigFileTransformer, EagerConfigFileTransformer) and _ini_must_fail(
            raw, eager
        ):
            continue
        try:
            return transformer.parse_file(_NamedStringIO(text, filename))
        except ParsingError:
            pass
    return None


def _ini_must_fail(lines: list[str], with_header: bool) -> bool:
    """Whether Python's configparser (default settings) surely rejects these lines.

    Without an added ``[global]`` header, the first line that is neither blank nor a ``#``/``;``
    comment must be a ``[section]`` header, else configparser raises MissingSectionHeaderError.
    With the header, an unindented line that is no header and holds neither ``=`` nor ``:`` is a
    parsing error (configparser reports it after reading everything). Unsure cases say False.
    """
    for line in lines:
        value = line.strip()
        if not value or value.startswith(("#", ";")):
            continue
        if not with_header:
            return not value.startswith("[")
        if (
            not line[0].isspace()
            and not value.startswith("[")
            and "=" not in value
            and ":" not in value
        ):
            return True
    return False


#: detect-secrets' filter of lines such as ``secret = get_secret()`` or ``f(key)``. It drops every
#: secret on the line, including a token passed straight into a call (``setApiKey('sk_live_…')``);
#: codeaudit applies it only to plug-ins that guess (keywords, entropy), not to key formats.
_INDIRECT_FILTER = "detect_secrets.filters.heuristic.is_indirect_reference"


def _quoted(line: str, value: str | None) -> bool:
    """Whether ``value`` is written on ``line`` as a whole string literal."""
    return bool(value) and any(f"{q}{value}{q}" in line for q in "'\"`")


def _has_key_shape(plugin: Any) -> bool:
    """Whether the plug-in recognises a credential by its own format (AWS, Stripe, GitHub …)."""
    from detect_secrets.plugins import keyword
    from detect_secrets.plugins.base import RegexBasedDetector

    return isinstance(plugin, RegexBasedDetector) and not isinstance(
        plugin, keyword.KeywordDetector
    )


#: detect-secrets' file filters that need a real file on disk; a suggestion has none.
_DISK_FILTERS = ("detect_secrets.filters.common.is_invalid_file",)


class SecretScanner:
    """detect-secrets' default plug-ins and filters, in process, behind per-plug-in gates.

    One scanner is built per auditor and reused for a whole batch (plug-ins and gates are set up
    once). :meth:`scan` follows ``detect_secrets.core.scan.scan_file``: the same transformers
    (INI/YAML parsing, then the eager config parser when nothing was found), the same filters,
    the same plug-in calls — only on fewer lines.

    >>> [s.secret_type for s in SecretScanner().scan("key = 'AKIA" + "Q3EXAMPLEKEY7ABC" + "'\\n", "c.py")]
    ['AWS Access Key']
    """

    def __init__(self) -> None:
        self._plugins: list[tuple[Any, _Gate]] | None = None
        self._first: tuple[str, ...] = ()

    @property
    def plugins(self) -> list[tuple[Any, _Gate]]:
        if self._plugins is None:
            self._load()
        return self._plugins  # type: ignore[return-value]

    def plugin_names(self) -> list[str]:
        return [type(p).__name__ for p, _ in self.plugins]

    def _load(self) -> None:
        with _requests_deferred():
            from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class
            from detect_secrets.settings import Settings

            # detect-secrets' default: every plug-in it ships, with its default arguments (what
            # `detect-secrets scan` and `default_settings()` use).
            plugins = [cls() for cls in get_mapping_from_secret_type_to_class().values()]
            self._plugins = list(zip(plugins, _gates_for(plugins)))
            self._first = tuple(sorted({n for _, gate in self._plugins for n in gate.first}))
            self._filters = self._load_filters(Settings().filters)

    @staticmethod
    def _load_filters(paths: Iterable[str]) -> dict[str, list[Callable[..., bool]]]:
        """detect-secrets' default filters, grouped by the stage at which scan_file applies them."""
        from importlib import import_module

        from detect_secrets.util.inject import get_injectable_variables

        loaded = []
        for path in sorted(paths):
            if path in _DISK_FILTERS:
                continue
            module, _, name = path.rpartition(".")
            fn = getattr(import_module(module), name)
            if path == _INDIRECT_FILTER:
                continue  # applied per plug-in (see _has_key_shape)
            loaded.append((fn, set(get_injectable_variables(fn))))
        stages = {
            "filename": {"filename"},
            "line": {"line"},
            "secret": {"secret"},
            "context": {"context"},
        }
        grouped = {
            stage: [(fn, params) for fn, params in loaded if need <= params]
            for stage, need in stages.items()
        }
        # A filter of the line itself (is_line_allowlisted) also falls in the context stage; it has
        # already passed for this line at the line stage, so it is not rerun once per secret on it
        # (a minified line can hold thousands).
        grouped["context"] = [
            (fn, params)
            for fn, params in grouped["context"]
            if not ("line" in params and params <= {"filename", "line", "context"})
        ]
        return grouped  # type: ignore[return-value]

    @staticmethod
    def _indirect(line: str) -> bool:
        from detect_secrets.filters.heuristic import is_indirect_reference

        return is_indirect_reference(line)

    def _filtered(self, stage: str, **kwargs: Any) -> bool:
        """Whether a filter of ``stage`` drops this item (arguments injected by name, like ds)."""
        for fn, params in self._filters[stage]:  # type: ignore[misc]
            if not params <= kwargs.keys():
                continue  # detect-secrets skips filters it cannot call (TypeError) the same way
            if fn(**{k: kwargs[k] for k in params}):
                return True
        return False

    def scan(self, text: str, filename: str) -> list[RawSecret]:
        """Secrets in ``text`` as detect-secrets would report them for a file named ``filename``.

        Every occurrence is returned (detect-secrets keeps the first line of each distinct secret).
        """
        plugins = self.plugins
        if self._filtered("filename", filename=filename):
            return []
        raw = _NamedStringIO(text, filename).readlines()
        lines = _transformed(text, filename, raw, eager=False) or raw
        found = self._scan_lines(lines, filename, plugins)
        if found:
            return found
        eager = _transformed(text, filename, raw, eager=True)
        return self._scan_lines(eager, filename, plugins) if eager else []

    def _scan_lines(
        self, raw_lines: list[str], filename: str, plugins: list[tuple[Any, _Gate]]
    ) -> list[RawSecret]:
        from detect_secrets.util.code_snippet import get_code_snippet

        stripped = [line.rstrip() for line in raw_lines]
        prepared = _Text(stripped)
        # One pass over the union of the plug-ins' first strings, instead of one per plug-in.
        low = prepared.low
        present = frozenset(n for n in self._first if n in low) if low is not None else None
        wanted: dict[int, list[Any]] = {}
        for plugin, gate in plugins:
            for index in gate.lines(prepared, present):
                wanted.setdefault(index, []).append(plugin)
        out: list[RawSecret] = []
        for index in sorted(wanted):
            line, number = stripped[index], index + 1
            context = None
            indirect = False
            for plugin in wanted[index]:
                secrets = plugin.analyze_line(
                    filename=filename, line=line, line_number=number, context=None
                )
                if not secrets:
                    continue
                if context is None:
                    context = get_code_snippet(lines=raw_lines, line_number=number)
                    if self._filtered("line", filename=filename, line=line, context=context):
                        break
                    indirect = self._indirect(line)
                for secret in sorted(secrets, key=lambda s: s.secret_value or ""):
                    value = secret.secret_value
                    if indirect and not _has_key_shape(plugin) and not _quoted(line, value):
                        # "x = get_secret()": the keyword and entropy plug-ins guessed a value;
                        # a token in a real key's format (setApiKey('sk_live_…')) or a quoted
                        # literal passed into a call (connect(password='…')) is still a secret.
                        continue
                    if self._filtered(
                        "secret", filename=filename, secret=value, plugin=plugin, line=line
                    ):
                        continue
                    if self._filtered(
                        "context",
                        filename=filename,
                        secret=value,
                        plugin=plugin,
                        line=line,
                        context=context,
                    ):
                        continue
                    out.append(
                        RawSecret(
                            line=number,
                            secret_type=secret.type,
                            value=value,
                            plugin=type(plugin).__name__,
                            match=_matched_text(plugin, line, value),
                        )
                    )
        return out
