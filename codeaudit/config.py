"""Configuration: ``[tool.codeaudit]`` in pyproject.toml, or a ``.codeaudit.toml``, into one frozen Config.

Example (``.codeaudit.toml`` takes the same keys at its top level or under ``[tool.codeaudit]``)::

    [tool.codeaudit]
    auditors = ["privacy", "security", "memorization"]
    fail_on = "high"                 # info | low | medium | high | critical
    disable = ["B101", "email-address"]

    [tool.codeaudit.severity]        # per-rule overrides, by id or name
    CA104 = "low"

    [tool.codeaudit.allowlist]       # findings whose evidence matches are kept but suppressed
    usernames = ["builder"]
    emails = ["*@example-corp.com"]
    hosts = ["*.corp.internal"]
    patterns = ['/srv/ci/[^/]+/']    # regular expressions over the flagged text

    [tool.codeaudit.privacy]         # each auditor reads its own table
    ...

Unknown keys and bad values are errors that name the file and the key; nothing is ignored quietly.
"""

from __future__ import annotations

import fnmatch
import os
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

from .errors import ConfigError, described
from .model import AUDITOR_NAMES, Severity

CONFIG_FILENAMES = (".codeaudit.toml", "pyproject.toml")
DEFAULT_FAIL_ON = Severity.MEDIUM
#: Completions larger than this are reported as input errors instead of being audited.
DEFAULT_MAX_COMPLETION_BYTES = 1_000_000

_TOP_KEYS = {"auditors", "fail_on", "severity", "disable", "allowlist", "max_completion_bytes"}
_ALLOWLIST_KEYS = {"usernames", "emails", "hosts", "paths", "patterns"}
#: Tables read by a codeaudit tool rather than an auditor (kept in ``Config.options`` and checked
#: by that tool with :func:`check_options`): ``hook`` is the pre-commit hook's policy, ``serve``
#: the completion server's (``codeaudit serve``), ``paths`` the path policy.
TOOL_TABLES = frozenset({"hook", "paths", "serve"})


@dataclass(frozen=True, slots=True)
class Allowlist:
    """Evidence that is known and accepted: matching findings are kept but marked ``allowlist``.

    ``usernames``, ``emails`` and ``hosts`` take shell-style wildcards (case-insensitive);
    ``paths`` and ``patterns`` are regular expressions searched in the evidence path and in the
    flagged text.
    """

    usernames: tuple[str, ...] = ()
    emails: tuple[str, ...] = ()
    hosts: tuple[str, ...] = ()
    paths: tuple[re.Pattern[str], ...] = ()
    patterns: tuple[re.Pattern[str], ...] = ()

    def __bool__(self) -> bool:
        return bool(self.usernames or self.emails or self.hosts or self.paths or self.patterns)

    def matches(self, evidence: Mapping[str, Any], text: str) -> bool:
        def wild(values: tuple[str, ...], value: Any) -> bool:
            return isinstance(value, str) and any(
                fnmatch.fnmatchcase(value.lower(), v.lower()) for v in values
            )

        if wild(self.usernames, evidence.get("username")):
            return True
        if wild(self.emails, evidence.get("email")):
            return True
        if wild(self.hosts, evidence.get("host")):
            return True
        path = evidence.get("path")
        if isinstance(path, str) and any(p.search(path) for p in self.paths):
            return True
        return any(p.search(text) for p in self.patterns)


@dataclass(frozen=True, slots=True)
class Config:
    """Everything that steers an audit. Build with :func:`load_config` or directly.

    >>> Config(fail_on=Severity.HIGH).fail_on
    <Severity.HIGH: 3>
    """

    auditors: tuple[str, ...] = AUDITOR_NAMES
    fail_on: Severity = DEFAULT_FAIL_ON
    #: rule id or name -> severity
    severity: Mapping[str, Severity] = field(default_factory=dict)
    #: rule ids or names that are not reported at all
    disable: frozenset[str] = frozenset()
    allowlist: Allowlist = Allowlist()
    #: auditor name -> its own table, checked by that auditor
    options: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    max_completion_bytes: int = DEFAULT_MAX_COMPLETION_BYTES
    #: the file this came from, for messages
    source: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "severity", MappingProxyType(dict(self.severity)))
        object.__setattr__(
            self,
            "options",
            MappingProxyType({k: MappingProxyType(dict(v)) for k, v in self.options.items()}),
        )

    def auditor_options(self, name: str) -> Mapping[str, Any]:
        return self.options.get(name, MappingProxyType({}))

    def with_overrides(self, **changes: Any) -> Config:
        return replace(self, **changes)


def find_config(start: Path | None = None) -> Path | None:
    """The nearest ``.codeaudit.toml``, or ``pyproject.toml`` with a ``[tool.codeaudit]`` table."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        for name in CONFIG_FILENAMES:
            candidate = folder / name
            if candidate.is_file():
                if name == "pyproject.toml" and "[tool.codeaudit" not in _read_text(candidate):
                    continue
                return candidate
        if (folder / ".git").exists():
            break
    return None


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read configuration: {exc}") from exc


def load_config(
    path: str | os.PathLike[str] | None = None, *, search_from: Path | None = None
) -> Config:
    """Read a configuration file (or find one from ``search_from``/the current folder).

    Returns the defaults when no file is given and none is found.
    """
    if path is None:
        found = find_config(search_from)
        if found is None:
            return Config()
        path = found
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"{p}: configuration file not found")
    try:
        data = tomllib.loads(_read_text(p))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{p}: invalid TOML: {exc}") from exc
    table = data.get("tool", {}).get("codeaudit")
    if table is None:
        if p.name == "pyproject.toml":
            table = {}
        else:
            table = {k: v for k, v in data.items() if k != "tool"}
    return config_from_mapping(table, source=str(p))


def config_from_mapping(table: Mapping[str, Any], *, source: str | None = None) -> Config:
    """Check and convert one ``[tool.codeaudit]`` table."""
    where = f"{source}: [tool.codeaudit]" if source else "[tool.codeaudit]"
    from .registry import auditor_targets

    auditor_names = set(auditor_targets())
    options: dict[str, Mapping[str, Any]] = {}
    for key, value in table.items():
        if key in _TOP_KEYS:
            continue
        if key in auditor_names or key in TOOL_TABLES:
            if not isinstance(value, Mapping):
                raise ConfigError(f"{where}.{key} must be a table")
            options[key] = dict(value)
            continue
        known = ", ".join(sorted(_TOP_KEYS | auditor_names | TOOL_TABLES))
        raise ConfigError(f"{where}: unknown key '{key}' (known: {known})")

    kwargs: dict[str, Any] = {"options": options, "source": source}
    if "auditors" in table:
        names = _str_list(table["auditors"], f"{where}.auditors")
        for name in names:
            if name not in auditor_names:
                raise ConfigError(
                    f"{where}.auditors: unknown auditor '{name}' (known: {', '.join(sorted(auditor_names))})"
                )
        kwargs["auditors"] = tuple(names)
    if "fail_on" in table:
        kwargs["fail_on"] = _severity(table["fail_on"], f"{where}.fail_on")
    if "severity" in table:
        sev = table["severity"]
        if not isinstance(sev, Mapping):
            raise ConfigError(f'{where}.severity must be a table of rule = "severity"')
        kwargs["severity"] = {str(k): _severity(v, f"{where}.severity.{k}") for k, v in sev.items()}
    if "disable" in table:
        kwargs["disable"] = frozenset(_str_list(table["disable"], f"{where}.disable"))
    if "allowlist" in table:
        kwargs["allowlist"] = _allowlist(table["allowlist"], f"{where}.allowlist")
    if "max_completion_bytes" in table:
        value = table["max_completion_bytes"]
        if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
            raise ConfigError(
                f"{where}.max_completion_bytes must be a positive integer, not {described(value)}"
            )
        kwargs["max_completion_bytes"] = value
    return Config(**kwargs)


def _severity(value: Any, where: str) -> Severity:
    try:
        return Severity.parse(value)  # type: ignore[return-value]
    except ValueError as exc:
        raise ConfigError(f"{where}: {exc}") from None


def _str_list(value: Any, where: str) -> list[str]:
    if isinstance(value, str):
        value = [v.strip() for v in value.split(",") if v.strip()]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where} must be a list of strings")
    return value


def _allowlist(value: Any, where: str) -> Allowlist:
    if not isinstance(value, Mapping):
        raise ConfigError(f"{where} must be a table")
    unknown = set(value) - _ALLOWLIST_KEYS
    if unknown:
        raise ConfigError(
            f"{where}: unknown key '{sorted(unknown)[0]}' (known: {', '.join(sorted(_ALLOWLIST_KEYS))})"
        )

    def regexes(key: str) -> tuple[re.Pattern[str], ...]:
        out = []
        for pat in _str_list(value.get(key, []), f"{where}.{key}"):
            try:
                out.append(re.compile(pat))
            except re.error as exc:
                raise ConfigError(f"{where}.{key}: bad regular expression {pat!r}: {exc}") from None
        return tuple(out)

    return Allowlist(
        usernames=tuple(_str_list(value.get("usernames", []), f"{where}.usernames")),
        emails=tuple(_str_list(value.get("emails", []), f"{where}.emails")),
        hosts=tuple(_str_list(value.get("hosts", []), f"{where}.hosts")),
        paths=regexes("paths"),
        patterns=regexes("patterns"),
    )


def check_options(
    auditor: str, options: Mapping[str, Any], spec: Mapping[str, Any], *, source: str | None = None
) -> dict[str, Any]:
    """Validate an auditor's table against ``spec`` (key -> default value; the type is the default's).

    Returns the defaults updated with the given values. Ints are accepted where floats are expected.
    """
    where = f"{source}: [tool.codeaudit.{auditor}]" if source else f"[tool.codeaudit.{auditor}]"
    out = dict(spec)
    for key, value in options.items():
        if key not in spec:
            raise ConfigError(
                f"{where}: unknown key '{key}' (known: {', '.join(sorted(spec)) or 'none'})"
            )
        default = spec[key]
        if default is not None and not _type_ok(value, default):
            raise ConfigError(
                f"{where}.{key} must be {type(default).__name__}, not {described(value)}"
            )
        out[key] = value
    return out


def _type_ok(value: Any, default: Any) -> bool:
    if isinstance(default, bool):
        return isinstance(value, bool)
    if isinstance(default, float):
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if isinstance(default, int):
        return isinstance(value, int) and not isinstance(value, bool)
    if isinstance(default, (list, tuple)):
        return isinstance(value, list)
    return isinstance(value, type(default))


def parse_auditor_list(text: str, *, available: Iterable[str]) -> tuple[str, ...]:
    """``privacy,security`` -> ('privacy', 'security'), checked against the known auditors."""
    names = tuple(n.strip() for n in text.split(",") if n.strip())
    known = set(available)
    for name in names:
        if name not in known:
            raise ConfigError(
                f"--auditors: unknown auditor '{name}' (known: {', '.join(sorted(known))})"
            )
    if not names:
        raise ConfigError("--auditors: give at least one auditor")
    return names
