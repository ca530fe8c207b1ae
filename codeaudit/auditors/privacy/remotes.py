"""Credentials in URLs, user names in remotes (scp, ssh), e-mail addresses, connection strings and
authorization headers (detectors of :mod:`.leakage`)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from codeaudit.auditors.privacy.leaktext import Leak
from codeaudit.auditors.privacy.names import is_placeholder, looks_like_username
from codeaudit.auditors.privacy.network import _CODE_LANGUAGES
from codeaudit.auditors.privacy.paths import _after_comment, _inside_string, _token_start

# --- URLs, remotes, e-mail -------------------------------------------------------------------------

_URL_AUTH = re.compile(
    r"(?i)\b(?P<scheme>[a-z][a-z0-9+.-]{1,30})://(?P<auth>[^\s/?#'\"`<>\\]*)@(?P<host>[^\s/?#'\"`<>:@\\]+)"
)
_PASSWORD_PLACEHOLDER = re.compile(
    r"(?i)^(?:\*+|x+|\.+|pass|passw(?:or)?d|pwd|pw|secret|changeme|change_me|yourpassword|your_password|mypassword|"
    r"foo|bar|baz|qux|test|testing|example|sample|dummy|fake|hunter2|letmein|123456|12345678|1234|admin|root|guest|"
    r"my_password|password\d?|pass\d?|token|apikey|api_key|key|<[^>]*>|\{[^}]*\}|\$\{?[\w.:-]*\}?|%s|%\(\w+\)s|"
    r"\$\w+|\[\w+\]|_+|-+|#+|\?+)$"
)
_PASSWORD_VARIABLE = re.compile(
    r"^(?:\$\{[^}]*\}|\$\(?\w+\)?|\{\{?[^}]*\}\}?|<[^>]*>|%s|%\(\w+\)s|%\w+%|\$env:\w+)$"
)
_USER_PLACEHOLDER_HOSTS = re.compile(
    r"(?i)^(?:host|hostname|server|myserver|yourserver|your-server|example\.\w+|domain\.\w+|\S*\.example(?:\.\w+)?|<[^>]*>|\$\{?\w+\}?)$"
)
_SCP = re.compile(
    r"(?<![\w.+%/@-])(?P<user>[A-Za-z_][\w.-]{0,31})@(?P<host>[A-Za-z0-9][\w.-]*[A-Za-z0-9]|[A-Za-z0-9]):(?!//|\d+\b(?!/))(?=[\w~./$-]|$|['\"\s])"
)
_SSH_CMD = re.compile(
    r"(?<![\w-])(?:ssh|scp|sftp|rsync|mosh|ssh-copy-id|autossh|sshfs)\b(?P<args>[^\n|;&]*)"
)
_CMD_TARGET = re.compile(
    r"(?<![\w.+%-])(?P<user>[A-Za-z_][\w.-]{0,31})@(?P<host>[A-Za-z0-9][\w.-]*)"
)
_SSH_LOGIN = re.compile(r"(?<![\w-])-l\s+(?P<user>[A-Za-z_][\w.-]{0,31})\b")
_SSH_CONFIG_USER = re.compile(r"(?im)^\s*User\s+(?P<user>[A-Za-z_][\w.-]{0,31})\s*$")
_EMAIL = re.compile(
    r"(?<![\w.+%-])(?P<local>[A-Za-z0-9](?:[A-Za-z0-9._%+-]{0,62}[A-Za-z0-9_])?)@"
    r"(?P<domain>(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+(?P<tld>[A-Za-z]{2,24}))(?![\w-]|\.[A-Za-z0-9])"
)
_NOREPLY_GITHUB = re.compile(r"(?i)^(?:(?P<id>\d+)\+)?(?P<user>[a-z0-9](?:[a-z0-9-]{0,38}))$")
_DOC_DOMAINS = re.compile(
    r"(?i)(?:^|\.)(?:example|test|invalid|localhost|local|example\.(?:com|org|net|edu)|example\.co\.\w+|domain\.(?:com|org|net|tld)|"
    r"your-?domain\.\w+|my-?domain\.\w+|your-?company\.\w+|my-?company\.\w+|company\.(?:com|org)|acme\.(?:com|org|corp)|"
    r"foo\.(?:com|org|bar)|bar\.(?:com|org)|email\.(?:com|tld)|e-?mail\.tld|somewhere\.\w+|someplace\.\w+|host\.(?:com|tld)|"
    r"server\.com|mail\.example|test\.(?:com|org)|sample\.(?:com|org)|website\.com|yoursite\.\w+|mysite\.\w+|site\.com|"
    r"provider\.com|org\.tld|corp\.tld|company\.tld|\w+\.tld)$"
)
_FILE_TLDS = frozenset(
    "png jpg jpeg gif svg webp ico bmp tif tiff js mjs cjs ts tsx jsx css scss less py pyc rb go rs md txt json yaml yml "
    "xml html htm php java kt swift cpp hpp sh bash zip gz tar lock log csv pdf so dll exe bin dat cfg ini toml sql db "
    "sqlite mp3 mp4 wav mov avi woff woff2 ttf eot map min vue svelte ipynb pkl npy whl egg".split()
)
_ROLE_LOCALS = frozenset(
    """
    info support contact admin administrator sales security abuse postmaster webmaster hostmaster help hello
    team office privacy legal press media jobs careers billing accounts accounting feedback dev devs developers
    maintainers maintainer notifications notification alerts alert bot root mailer-daemon nobody list announce
    marketing hr service services enquiries inquiries orders shop store team-email newsletter opensource oss
    community bugs bug issues ops sre it licensing license licenses
    """.split()
)
#: Mailing lists: python-dev@, foo-users@, bar-announce@ …
_LIST_LOCAL = re.compile(
    r"[-_.](?:users?|dev|devel|developers|announce|list|discuss|discussion|general|help|commits|"
    r"bugs|core|team|maintainers|owner|request|security|questions|checkins|ideas|patches)$"
)
_PLACEHOLDER_LOCALS = frozenset(
    """
    user username name email mail you your yourname your.name your_name youremail your.email me myname my.name
    someone somebody foo bar baz test testing tester example sample dummy fake john.doe jane.doe johndoe janedoe
    john_doe jane_doe jdoe first.last firstname.lastname firstname lastname first_last name.surname
    """.split()
)


#: A password made of lower-case words only: a stand-in in docs and examples.
_WORDS = re.compile(r"[a-z]+(?:(?:%20|[ _.-])[a-z]+)*")


def _credentials(base: int, line: str) -> Iterator[Leak]:
    for m in _URL_AUTH.finditer(line):
        scheme, auth, host = m.group("scheme").lower(), m.group("auth"), m.group("host")
        if scheme == "mailto" or not auth:
            continue
        auth_start = m.start("auth")
        user, colon, password = auth.partition(":")
        user_ok = bool(user) and "@" not in user and looks_like_username(_unquote(user))
        if colon and password and not _PASSWORD_VARIABLE.match(password):
            # ${DB_PASSWORD}, {password}, <password>, %s are filled in at run time, as they should be.
            placeholder = bool(
                _PASSWORD_PLACEHOLDER.match(password) or _WORDS.fullmatch(password)
            ) or bool(
                _USER_PLACEHOLDER_HOSTS.match(host)
                or _DOC_DOMAINS.search(host.lower())
                or host.lower() in ("localhost", "host.com")
            )
            ps = auth_start + len(user) + 1
            evidence: dict[str, Any] = {"host": host, "scheme": scheme}
            if user_ok:
                evidence["username"] = _unquote(user)
            if placeholder:
                evidence["placeholder_password"] = True
            yield Leak(
                rule="credentials-in-url",
                start=base + m.start(),
                end=base + m.end(),
                focus=(base + ps, base + ps + len(password)),
                evidence=evidence,
                message=f"a {scheme} URL to {host} carries a password"
                + (f" for user '{evidence['username']}'" if user_ok else ""),
                mask=((base + ps, base + ps + len(password)),),
                confidence="low" if placeholder else None,
                severity="low" if placeholder else None,
            )
        elif (
            user_ok
            and user.lower() not in ("git", "localhost")
            and not re.fullmatch(r"[\d.]+|[\w-]+\.(?:com|org|net|io|dev)", user.lower())
            and not _USER_PLACEHOLDER_HOSTS.match(host)
        ):
            name = _unquote(user)
            yield Leak(
                rule="username-in-remote",
                start=base + m.start(),
                end=base + m.end(),
                focus=(base + auth_start, base + auth_start + len(user)),
                evidence={"username": name, "host": host, "scheme": scheme},
                message=f"the {scheme} URL names the user account '{name}' on {host}",
            )


def _unquote(text: str) -> str:
    if "%" not in text:
        return text
    from urllib.parse import unquote

    return unquote(text)


def _remotes(base: int, line: str, taken: set[int]) -> Iterator[Leak]:
    def emit(user: str, us: int, host: str, how: str) -> Iterator[Leak]:
        if (
            us in taken
            or user.lower() == "git"
            or not looks_like_username(user)
            or _USER_PLACEHOLDER_HOSTS.match(host)
        ):
            return
        taken.add(us)
        yield Leak(
            rule="username-in-remote",
            start=base + us,
            end=base + us + len(user) + 1 + len(host),
            focus=(base + us, base + us + len(user)),
            evidence={"username": user, "host": host, "form": how},
            message=f"the {how} target names the user account '{user}' on {host}",
        )

    for m in _SCP.finditer(line):
        if "://" in line[_token_start(line, m.start()) : m.start()]:
            continue  # the password and port of a URL (scheme://u:pass@host:5432/db), not an scp target
        yield from emit(m.group("user"), m.start("user"), m.group("host"), "scp")
    for cmd in _SSH_CMD.finditer(line):
        args, offset = cmd.group("args"), cmd.start("args")
        for m in _CMD_TARGET.finditer(args):
            yield from emit(m.group("user"), offset + m.start("user"), m.group("host"), "ssh")
        for m in _SSH_LOGIN.finditer(args):
            yield from emit(m.group("user"), offset + m.start("user"), "", "ssh -l")


def _emails(base: int, line: str, taken: set[int], language: str | None) -> Iterator[Leak]:
    in_code = language in _CODE_LANGUAGES
    for m in _EMAIL.finditer(line):
        if m.start("local") in taken:
            continue
        if in_code and not (
            _inside_string(line, m.start())
            or _after_comment(line, m.start(), language)
            or line[m.end() : m.end() + 1] == ">"
        ):
            continue  # a@b.mean() is matrix multiplication, not an address
        local, domain, tld = m.group("local"), m.group("domain"), m.group("tld").lower()
        low_local, low_domain = local.lower(), domain.lower()
        if tld in _FILE_TLDS:
            continue  # icon@2x.png, package@1.2.min.js
        if low_domain in ("users.noreply.github.com", "users.noreply.gitlab.com"):
            gm = (
                _NOREPLY_GITHUB.match(local)
                if low_domain.endswith("github.com")
                else re.match(r"^(?:\d+-)?(?P<user>[\w.-]+)$", local)
            )
            if gm and looks_like_username(gm.group("user")):
                user = gm.group("user")
                us = m.start("local") + local.rfind(user)
                yield Leak(
                    rule="email-address",
                    start=base + m.start(),
                    end=base + m.end(),
                    focus=(base + us, base + us + len(user)),
                    evidence={
                        "email": m.group(0),
                        "domain": low_domain,
                        "username": user,
                        "noreply": True,
                    },
                    message=f"a no-reply address that still names the account '{user}'",
                )
            continue
        if re.search(
            r"(?i)no-?reply|do-?not-?reply|donotreply|bounce", low_local
        ) or low_domain.startswith("noreply."):
            continue
        if (
            _DOC_DOMAINS.search(low_domain)
            or low_local in _PLACEHOLDER_LOCALS
            or is_placeholder(local)
        ):
            continue
        if low_local == "git" or re.fullmatch(r"[0-9a-f]{7,40}", low_local):
            continue
        if "://" in line[_token_start(line, m.start()) : m.start()]:
            continue  # the user-info of a URL (https://u:p@host/), not an address
        if re.match(r":[\w~./$-]", line[m.end() : m.end() + 2]):
            continue  # user@host:path is an scp/rsync target (reported as a remote when it names a person)
        role = (
            low_local.split("+")[0] in _ROLE_LOCALS
            or bool(_LIST_LOCAL.search(low_local))
            or low_domain.startswith(("lists.", "list.", "mail.python.org"))
            or low_domain in ("googlegroups.com", "groups.io")
        )
        yield Leak(
            rule="email-address",
            start=base + m.start(),
            end=base + m.end(),
            focus=(base + m.start(), base + m.end()),
            evidence={"email": m.group(0), "domain": low_domain} | ({"role": True} if role else {}),
            message=f"the e-mail address {m.group(0)}" + (" (a role address)" if role else ""),
            severity="low" if role else None,
            confidence="medium" if role else None,
        )


# --- connection strings and authorization headers -------------------------------------------------

#: Go's MySQL DSN: user:password@tcp(host:port)/db (also unix(...), udp(...)).
_GO_DSN = re.compile(
    r"(?<![\w/:.@-])(?P<user>[A-Za-z_][\w.-]{0,63}):(?P<pw>[^\s@\"'`/:()]{1,200})@(?:tcp|tcp6|udp|unix)\("
)
#: password=… inside a JDBC URL's query (?user=svc&password=…) or properties (;password=…).
_URL_PARAM_PW = re.compile(r"(?i)[?&;](?:password|passwd|pwd|pass)=(?P<pw>[^&;\s\"'`<>#]{1,200})")
#: password=… in key=value connection strings (ADO.NET, ODBC, libpq): Password=…; Pwd=…
_KV_PW = re.compile(
    r"(?i)(?<![\w.-])(?:password|passwd|pwd)\s*=\s*(?P<q>['\"]?)(?P<pw>[^;\s\"'`{}]{1,200})(?P=q)(?=[;\s\"'`]|$)"
)
_KV_CONTEXT = re.compile(
    r"(?i)(?:^|[;\s\"'])(?:server|data source|host|hostname|dbname|database|initial catalog|user id|uid|"
    r"user|username|driver|dsn|port|addr|address|sslmode)\s*="
)
#: PHP PDO: new PDO('mysql:host=…', 'user', 'password').
_PDO = re.compile(
    r"(?i)\bnew\s+\\?PDO\s*\(\s*(['\"])[^'\"]*\1\s*,\s*(['\"])[^'\"]*\2\s*,\s*(['\"])(?P<pw>[^'\"\n]{1,200})\3"
)
_AUTH_BASIC = re.compile(r"(?<![\w-])Basic\s+(?P<v>[A-Za-z0-9+/]{8,}={0,2})(?![\w+/=])")
_AUTH_BEARER = re.compile(r"(?<![\w-])Bearer\s+(?P<v>[A-Za-z0-9._~+/-]{20,}=*)(?![\w.~+/=-])")
_CONN_NEEDLES = ("pass", "pwd", "@tcp(", "@unix(", "@udp(", "pdo")
_AUTH_NEEDLES = ("basic ", "bearer ")


def _placeholder_password(pw: str) -> bool:
    if _WORDS.fullmatch(pw):
        return True  # words ("a%20secret", "pass_word"): a stand-in, not a real password
    return bool(_PASSWORD_PLACEHOLDER.match(pw) or _PASSWORD_VARIABLE.match(pw)) or bool(
        re.search(
            r"(?i)your|example|changeme|placeholder|secret|password|xxx|\*\*\*|<|>|\$\{|%s|\{\}", pw
        )
    )


def _conn_leak(base: int, line: str, s: int, e: int, form: str, user: str | None) -> Leak:
    pw = line[s:e]
    placeholder = _placeholder_password(pw)
    evidence: dict[str, Any] = {"form": form}
    if user and looks_like_username(user):
        evidence["username"] = user
    if placeholder:
        evidence["placeholder_password"] = True
    return Leak(
        rule="credentials-in-url",
        start=base + s,
        end=base + e,
        focus=(base + s, base + e),
        evidence=evidence,
        message=f"a {form} carries a password",
        mask=((base + s, base + e),),
        confidence="low" if placeholder else "high",
        severity="low" if placeholder else None,
    )


def _connection_strings(base: int, line: str, taken: set[int]) -> Iterator[Leak]:
    """Passwords in Go DSNs, JDBC URLs, key=value connection strings and PDO constructors."""
    seen: set[int] = set(taken)

    def fresh(s: int) -> bool:
        if s in seen:
            return False
        seen.add(s)
        return True

    low = line.lower()
    if "(" in line and "@" in line:
        for m in _GO_DSN.finditer(line):
            if fresh(m.start("pw")) and not _PASSWORD_VARIABLE.match(m.group("pw")):
                yield _conn_leak(base, line, *m.span("pw"), "Go DSN", m.group("user"))
    if "jdbc:" in low or "://" in low:
        for m in _URL_PARAM_PW.finditer(line):
            if fresh(m.start("pw")) and not _PASSWORD_VARIABLE.match(m.group("pw")):
                user = re.search(r"(?i)[?&;](?:user|username|uid)=([^&;\s\"']+)", line)
                yield _conn_leak(
                    base, line, *m.span("pw"), "connection URL", user.group(1) if user else None
                )
    if "=" in line and _KV_CONTEXT.search(line):
        for m in _KV_PW.finditer(line):
            pw = m.group("pw")
            if (
                not fresh(m.start("pw"))
                or _PASSWORD_VARIABLE.match(pw)
                or pw.startswith(("$", "%"))
            ):
                continue
            if not (m.group("q") or _inside_string(line, m.start())):
                continue  # password=auth_info[2]: a keyword argument, not a connection string
            yield _conn_leak(base, line, *m.span("pw"), "connection string", None)
    if "pdo" in low:
        for m in _PDO.finditer(line):
            if fresh(m.start("pw")):
                yield _conn_leak(base, line, *m.span("pw"), "PDO connection", None)


def _auth_headers(base: int, line: str) -> Iterator[Leak]:
    """HTTP Basic credentials and Bearer tokens written into code."""
    import base64
    import binascii

    for m in _AUTH_BASIC.finditer(line):
        value = m.group("v")
        try:
            decoded = base64.b64decode(value + "=" * (-len(value) % 4), validate=True).decode(
                "utf-8"
            )
        except (binascii.Error, UnicodeDecodeError, ValueError):
            continue
        user, colon, pw = decoded.partition(":")
        if not colon or not pw or not decoded.isprintable():
            continue
        placeholder = _placeholder_password(pw)
        yield Leak(
            rule="authorization-header",
            start=base + m.start(),
            end=base + m.end(),
            focus=(base + m.start("v"), base + m.end("v")),
            evidence={"scheme": "Basic"} | ({"placeholder": True} if placeholder else {}),
            message="an HTTP Basic authorization header carries a user name and password",
            mask=((base + m.start("v"), base + m.end("v")),),
            confidence="low" if placeholder else None,
            severity="low" if placeholder else None,
        )
    for m in _AUTH_BEARER.finditer(line):
        value = m.group("v")
        classes = sum(
            (
                any(c.islower() for c in value),
                any(c.isupper() for c in value),
                any(c.isdigit() for c in value),
            )
        )
        if classes < 2 or re.search(r"(?i)your|example|token|placeholder|xxx", value):
            continue
        yield Leak(
            rule="authorization-header",
            start=base + m.start(),
            end=base + m.end(),
            focus=(base + m.start("v"), base + m.end("v")),
            evidence={"scheme": "Bearer"},
            message="an HTTP Bearer authorization header carries a token",
            mask=((base + m.start("v"), base + m.end("v")),),
        )
