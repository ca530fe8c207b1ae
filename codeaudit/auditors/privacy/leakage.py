"""Find personal data in code: user names in paths and remotes, credentials in URLs, e-mail and IP
addresses, internal host names.

:func:`find_leaks` takes a text (a completion, possibly with the rest of its first and last
lines as context) and returns :class:`Leak` records with offsets into that text; the privacy
auditor (:mod:`codeaudit.auditors.privacy.auditor`) turns them into findings. Nothing here knows about
rules, severities or reports.

Each detector is gated by a few lowercase strings (``/home``, ``users``, ``@`` …): a text without
them costs one substring search per string, and only lines that hold them are parsed.

>>> [(leak.rule, leak.evidence["username"]) for leak in find_leaks("cfg = '/home/alice/.config/app.toml'\\n")]
[('username-in-path', 'alice')]
>>> find_leaks("cfg = Path.home() / '.config' / 'app.toml'\\n")
[]
"""

from __future__ import annotations

import re

from codeaudit.auditors.privacy.leaktext import Leak, _Text
from codeaudit.auditors.privacy.names import (
    GENERIC_ACCOUNTS,
    GENERIC_DIRS,
    HOME_GROUPS,
    HOME_SIGNATURE,
    ROUTE_WORDS,
    is_generic_account,
    is_placeholder,
    looks_like_username,
)
from codeaudit.auditors.privacy.network import _hosts, _ips, classify_ip, judge_ipv4
from codeaudit.auditors.privacy.paths import _joined_paths, _paths_in_line
from codeaudit.auditors.privacy.remotes import (
    _AUTH_NEEDLES,
    _CONN_NEEDLES,
    _SSH_CONFIG_USER,
    _auth_headers,
    _connection_strings,
    _credentials,
    _emails,
    _remotes,
)

#: The detectors live in sibling modules (``names``, ``leaktext``, ``paths``, ``remotes``,
#: ``network``); their public names stay importable from here.
__all__ = [
    "GENERIC_ACCOUNTS",
    "GENERIC_DIRS",
    "HOME_GROUPS",
    "HOME_SIGNATURE",
    "ROUTE_WORDS",
    "Leak",
    "classify_ip",
    "find_leaks",
    "is_generic_account",
    "is_placeholder",
    "judge_ipv4",
    "looks_like_username",
]

# --- driver -------------------------------------------------------------------------------------

_PATH_NEEDLES = (
    "/home",
    "users",
    "documents and settings",
    "/u/",
    "/u1/",
    "/u2/",
    "scratch",
    "/afs/",
    "/eos/",
    "/homes/",
    "/work/",
    "mail/",
    "/cron/",
    "~",
    "\\\\",
    "\\home",
    "/user/",
)
_REMOTE_NEEDLES = ("@", "ssh", "scp", "sftp", "rsync", "mosh")
_HOST_NEEDLES = (
    ".corp",
    ".internal",
    ".intranet",
    ".intra",
    ".lan",
    ".local",
    ".home.arpa",
    ".priv",
    "corp.",
    "internal.",
    "intranet.",
    "intra.",
    "int.",
    "priv.",
    "private.",
    "lan.",
)
_IP_SHAPE = re.compile(r"\d\.\d{1,3}\.\d{1,3}\.\d|:[0-9A-Fa-f]{0,4}:")
_SSH_CONFIG = re.compile(r"(?im)^\s*host(?:name)?\s+\S")


def find_leaks(text: str, language: str | None = None) -> list[Leak]:
    """Every leak in ``text``, ordered by position. ``language`` tunes a few heuristics.

    >>> [(l.rule, l.evidence.get("username")) for l in find_leaks("git clone ssh://priya@git.acme.io/tools.git")]
    [('username-in-remote', 'priya')]
    """
    t = _Text(text)
    low = t.low
    leaks: list[Leak] = []
    if any(n in low for n in _PATH_NEEDLES):
        for offset, line in t.lines_with(_PATH_NEEDLES):
            found = list(_paths_in_line(offset, line, language))
            leaks.extend(found)
            if line.count("'") + line.count('"') >= 4:
                leaks.extend(_joined_paths(offset, line, language, {leak.focus for leak in found}))
    # Per line: which user-name positions a URL or remote already reported (not again as e-mail).
    named: dict[int, set[int]] = {}
    if "://" in low:
        for offset, line in t.lines_with(("://",)):
            for leak in _credentials(offset, line):
                leaks.append(leak)
                named.setdefault(offset, set()).add(
                    leak.start - offset + len(leak.evidence["scheme"]) + 3
                )
    if any(n in low for n in _CONN_NEEDLES):
        for offset, line in t.lines_with(_CONN_NEEDLES):
            taken_pw = {
                leak.focus[0] - offset
                for leak in leaks
                if leak.rule == "credentials-in-url" and leak.start >= offset
            }
            leaks.extend(_connection_strings(offset, line, taken_pw))
    if any(n in low for n in _AUTH_NEEDLES):
        for offset, line in t.lines_with(_AUTH_NEEDLES):
            leaks.extend(_auth_headers(offset, line))
    if any(n in low for n in _REMOTE_NEEDLES):
        for offset, line in t.lines_with(_REMOTE_NEEDLES):
            taken = named.setdefault(offset, set())
            leaks.extend(_remotes(offset, line, taken))
            if "@" in line:
                leaks.extend(_emails(offset, line, taken, language))
    if "user" in low and _SSH_CONFIG.search(text):
        for m in _SSH_CONFIG_USER.finditer(text):
            user = m.group("user")
            if looks_like_username(user):
                leaks.append(
                    Leak(
                        rule="username-in-remote",
                        start=m.start("user"),
                        end=m.end("user"),
                        focus=(m.start("user"), m.end("user")),
                        evidence={"username": user, "host": "", "form": "ssh config"},
                        message=f"the ssh configuration logs in as '{user}'",
                    )
                )
    if _IP_SHAPE.search(text):
        for offset, line in t.lines_matching(_IP_SHAPE):
            leaks.extend(_ips(offset, line))
    if any(n in low for n in _HOST_NEEDLES):
        emails = {leak.start for leak in leaks if leak.rule == "email-address"}
        for offset, line in t.lines_with(_HOST_NEEDLES):
            leaks.extend(_hosts(offset, line, language, emails))
    leaks.sort(key=lambda leak: (leak.focus[0], leak.rule))
    return leaks
