"""User names in file system paths: POSIX and Windows homes, UNC shares, ``~name``, remote
paths, and paths joined from string literals (a detector of :mod:`.leakage`)."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator

from codeaudit.auditors.privacy.leaktext import Leak
from codeaudit.auditors.privacy.names import (
    _GENERIC_DIR_RE,
    GENERIC_DIRS,
    HOME_GROUPS,
    HOME_SIGNATURE,
    ROUTE_WORDS,
    looks_like_username,
)
from codeaudit.auditors.privacy.network import _CODE_LANGUAGES

# --- user names in paths ---------------------------------------------------------------------------

#: Characters that end an unquoted path.
_PATH_END = frozenset(" \t\r\n'\"`<>|;,(){}[]=*?^!&")
_ANSI_BEFORE = re.compile(r"(?:\x1b|\\u001b|\\x1b|\\033|\\e)\[[0-9;]*m$", re.IGNORECASE)
_OPTION_BEFORE = re.compile(r"(?:^|[\s'\"=])-{1,2}[A-Za-z][\w-]*$")
#: URL schemes whose path is a file system path (on this machine or a remote one).
_REMOTE_SCHEMES = (
    "file",
    "sftp",
    "ssh",
    "scp",
    "rsync",
    "smb",
    "cifs",
    "nfs",
    "git+ssh",
    "ssh+git",
    "hdfs",
    "webhdfs",
    "webdav",
    "sqlite",
    "duckdb",
    "jdbc:sqlite",
    "jdbc:h2:file",
    "lmdb",
    "leveldb",
)
_ROUTE_CONTEXT = re.compile(
    r"\b(?:href|router|navigate|redirect|Redirect|Navigate|NavLink|Link|fetch|axios|urlpatterns|url_for|"
    r"location\.href|window\.location|app\.(?:get|post|put|patch|delete|use|route)|"
    r"(?:Get|Post|Put|Patch|Delete|Request)Mapping|Http(?:Get|Post|Put|Patch|Delete)|MapRoute|RedirectTo\w*|"
    r"Route|route|path\(|re_path\(|endpoint)\b"
)
#: Router tables in JavaScript: { path: '/home/blog', component: Blog }.
_JS_ROUTE = re.compile(
    r"\bpath\s*:\s*['\"`]/[^'\"`]*['\"`]\s*,\s*(?:component|element|name|redirect|children|loadChildren)\b"
)
_FILE_EXT = re.compile(
    r"\.(?:py|pyc|ipynb|js|ts|jsx|tsx|json|ya?ml|toml|ini|cfg|conf|txt|md|rst|csv|tsv|xlsx?|docx?|pdf|png|jpe?g|gif|svg|"
    r"html?|css|xml|log|sh|bat|ps1|exe|dll|so|dylib|zip|tar|gz|tgz|bz2|xz|7z|rar|jar|war|class|java|c|h|cpp|hpp|cs|go|rs|"
    r"rb|php|pl|r|sql|db|sqlite3?|parquet|feather|pkl|pickle|npy|npz|h5|hdf5|pt|pth|ckpt|bin|onnx|mp3|mp4|wav|avi|mov|iso|img|lock)$",
    re.IGNORECASE,
)

# The roots that lead to a user name. Each alternative names its style; the user name (after any
# hash folders) follows the match.
_UNIX_ROOTS = re.compile(
    r"""
    /(?:
        (?P<home>(?:export/|var/|usr/|nfs/|mnt/|data/|storage/|cluster/|hpc/|gpfs/|lustre/|global/|private/|net/[\w.-]+/)?home\d*|homes)
      | (?P<mac>Users)
      | (?P<users>users)
      | (?P<hashed>u\d?|global/u\d|global/homes|afs/[\w.-]+/(?:user|users|usr|u|home|homes|work)|eos/(?:user|home-[a-z])|pscratch/sd|global/cscratch\d*/sd)
      | (?P<scratch>(?:gpfs/|lustre/|global/)?scratch\d*(?:/gpfs)?|work/\d+|scratch\d*/\d+)
      | (?P<spool>var/(?:spool/)?mail|var/spool/cron(?:/crontabs)?)
    )(?=/)
    """,
    re.VERBOSE,
)
_WIN_ROOT = re.compile(r"(?i)(?P<sep>\\{1,8}|/)(?P<root>users|documents and settings)(?=\\|/)")
_DRIVE_END = re.compile(
    r"(?i)(?:\b[a-z]\\?:|%systemdrive%|%homedrive%|\$env:systemdrive|\$\{env:systemdrive\}|\$env:homedrive|"
    r"(?:^|[\s'\"`=(:,])/(?:mnt/|cygdrive/|mnt/host/)?[a-z]|file:/{2,3}[a-z]:)$"
)
_UNC = re.compile(
    r"(?<![\w\\])(?P<lead>\\\\(?:\\\\)?)(?P<server>[\w][\w.$-]*)(?P<sep>\\{1,2})(?P<share>[\w][\w.$ -]*?)(?P=sep)"
)
_UNC_HOME_SHARES = frozenset(
    "home homes home$ homes$ users users$ user$ userhome userhomes profiles profiles$ profile "
    "userdata userdata$ personal redirected redirect folderredirection staff students people private".split()
)
_TILDE = re.compile(r"(?:^|(?<=[\s'\"`=(,:]))~(?P<name>[A-Za-z_][\w.-]*)(?=/)")


def _token_start(line: str, i: int) -> int:
    """Start of the path-like token that ends at ``i`` (scanning left over path characters).

    Bounded, so that a pathological megabyte-long line costs linear time.
    """
    j, stop = i, max(0, i - 400)
    while j > stop and line[j - 1] not in _PATH_END:
        j -= 1
    return j


def _component(
    line: str, i: int, *, windows: bool, quoted_to: int | None = None
) -> tuple[int, int]:
    """The path component starting at ``i``: (start, end). Windows names may hold spaces."""
    n = len(line)
    j = i
    if windows:
        while j < n and line[j] not in "\\/:*?\"<>|\r\n\t'`,;":
            j += 1
        name = line[i:j]
        if (
            " " in name
            and not (j < n and line[j] in "\\/")
            and not (quoted_to is not None and j == quoted_to)
        ):
            j = i + name.index(" ")  # prose after the path, not a folder with a space
        while j > i and line[j - 1] in " .":
            j -= 1
        return i, j
    while j < n and line[j] not in "/\\:" and line[j] not in _PATH_END:
        j += 1
    if (
        j == n or line[j] in " \t\r\n\"'`"
    ):  # prose: "installed in /home/hadoop." ends the sentence, not the name
        while j > i and line[j - 1] in ".,;!?":
            j -= 1
    return i, j


def _next_sep(line: str, j: int) -> int:
    """Length of the separator at ``j`` (``/``, ``\\`` or escaped ``\\\\``), 0 when none."""
    if j < len(line) and line[j] == "/":
        return 1
    k = j
    while k < len(line) and line[k] == "\\" and k - j < 8:
        k += 1
    return k - j


def _path_end(line: str, i: int, *, windows: bool) -> int:
    stop = "\"'`<>|\r\n\t,;" if windows else _PATH_END
    j, limit = i, min(len(line), i + 400)
    while j < limit and line[j] not in stop:
        j += 1
    return j


def _quote_close(line: str, start: int) -> int | None:
    """When the token at ``start`` opens a string literal, where that literal closes."""
    if start == 0 or line[start - 1] not in "'\"`":
        return None
    q = line[start - 1]
    k = line.find(q, start)
    return k if k >= 0 else None


def _context_of(line: str, root: int) -> str | None:
    """How the path whose root starts at ``root`` is anchored; ``None`` when it is no local path.

    ``direct``: the root starts the path; ``nested``: a longer absolute path holds it;
    ``remote``: a file/ssh URL or an scp target; ``None``: a web URL, a relative path, a variable.
    """
    ts = _token_start(line, root)
    token = line[ts:root]
    if not token:
        return "direct"
    if _ANSI_BEFORE.search(line[max(0, root - 16) : root]) or _OPTION_BEFORE.search(
        line[max(0, root - 24) : root]
    ):
        return "direct"
    m = re.match(r"(?i)((?:jdbc:)?[a-z][a-z0-9+.-]*(?::file)?):(//)?", token)
    if m and m.group(2):
        scheme = m.group(1).lower().split("+")[0]
        if scheme in _REMOTE_SCHEMES or m.group(1).lower() in _REMOTE_SCHEMES:
            return "remote"
        # scheme:///path has no host: a local file (sqlite:////home/u/db.sqlite3, file:///…)
        return "remote" if re.fullmatch(r"(?i)[a-z][a-z0-9+.:-]*:///*", token) else None
    if token.endswith(":") and "@" in token:
        return "remote"  # user@host:/home/u
    if ":" in token:
        token = token.rsplit(":", 1)[1]  # PATH-style lists, key:value, host:/path
        if not token:
            return "direct"
    if token.startswith("/") and "//" not in token:
        return "nested"
    return None


def _take_user(
    line: str, j: int, *, windows: bool, skip_hash: bool, groups: bool, quoted_to: int | None
) -> tuple[int, int, list[str]] | None:
    """Read the user name that follows the root (after hash folders such as ``a/`` or ``a/b/``).

    Returns (start, end, following components) or ``None`` when no name follows.
    """
    sep = _next_sep(line, j)
    if not sep:
        return None
    i = j + sep
    start, end = _component(line, i, windows=windows, quoted_to=quoted_to)
    shard = ""  # hash folders so far: /home/a/alice, /u/d/a/dana — the name starts with them
    for _ in range(3):
        name = line[start:end]
        after = _next_sep(line, end)
        if not after:
            break
        if groups and name.lower() in HOME_GROUPS:
            start, end = _component(line, end + after, windows=windows, quoted_to=quoted_to)
            continue
        if skip_hash and len(name) == 1 and name.isalnum():
            ns, ne = _component(line, end + after, windows=windows, quoted_to=quoted_to)
            following = line[ns:ne].lower()
            # a one-letter folder is a hash folder only when the next name starts with the letters
            # seen so far (or shares the first, for a/b/ layouts); /home/u/myvenv is user "u"
            if following.startswith(shard + name.lower()) or (
                shard and following.startswith(shard[0])
            ):
                shard += name.lower()
                start, end = ns, ne
                continue
        break
    if end <= start:
        return None
    rest: list[str] = []
    k = end
    while len(rest) < 2 and (s := _next_sep(line, k)):
        cs, ce = _component(line, k + s, windows=windows, quoted_to=quoted_to)
        if ce <= cs:
            break
        rest.append(line[cs:ce])
        k = ce
    return start, end, rest


@functools.lru_cache(maxsize=32)
def _route_context(line: str) -> bool:
    """Once per line, not once per path on it (a minified line holds thousands of paths)."""
    return bool(_ROUTE_CONTEXT.search(line))


@functools.lru_cache(maxsize=32)
def _js_route(line: str) -> bool:
    return bool(_JS_ROUTE.search(line))


def _ok_name(
    name: str, rest: list[str], *, route_risk: bool, line: str, windows: bool = False
) -> bool:
    if (
        not looks_like_username(name, numeric_ok=windows)
        or name.lower() in GENERIC_DIRS
        or _GENERIC_DIR_RE.match(name)
    ):
        return False
    if not rest and _FILE_EXT.search(name):
        return False  # /home/notes.txt: a file in /home, not a person
    if route_risk:
        if name.lower() in ROUTE_WORDS:
            return False
        signed = bool(rest) and (rest[0].startswith(".") or rest[0].lower() in HOME_SIGNATURE)
        routed = _route_context(line) or (
            _js_route(line) and not any(_FILE_EXT.search(r) for r in rest)
        )
        if not signed and routed and not any(_FILE_EXT.search(r) for r in rest):
            return False
    return True


def _path_leak(
    base: int,
    line: str,
    start: int,
    end: int,
    path_start: int,
    *,
    windows: bool,
    style: str,
    confidence: str,
) -> Leak:
    path_end = _path_end(line, end, windows=windows)
    path = line[path_start:path_end].rstrip(".:")
    name = line[start:end]
    return Leak(
        rule="username-in-path",
        start=base + path_start,
        end=base + max(path_end, end),
        focus=(base + start, base + end),
        evidence={"username": name, "path": path[:300], "style": style},
        message=f"the path '{path[:80]}' names the user account '{name}'",
        confidence=confidence,
    )


#: Where a macOS /Users folder sits below another path: other volumes, the data volume, backups.
_MAC_MOUNT = re.compile(
    r"/(?:Volumes|System/Volumes|private|mnt|media|run/media|net|Network|backup|backups)/"
)
_REDDIT_BEFORE = re.compile(r"(?i)reddit|\busers?\s+$|/u/[\w-]+\s*(?:,|and|&)\s*$")
_STYLE = {
    "home": "posix",
    "mac": "macos",
    "users": "posix",
    "hashed": "cluster",
    "scratch": "cluster",
    "spool": "posix",
}
_CLUSTER_PREFIX = re.compile(
    r"/(?:gpfs|lustre|nfs|global|cluster|hpc|storage|data\d*|fs\d*|p|projects?|mnt|net|Volumes|panfs|beegfs|cephfs|work)/"
)


def _paths_in_line(base: int, line: str, language: str | None) -> Iterator[Leak]:
    """User names in the paths of one line (``base``: the line's offset in the text)."""
    if "\\/" not in line:
        yield from _paths_in_plain_line(base, line, language)
        return
    # JSON may escape every slash (\/Users\/dana\/): read an unescaped copy, map positions back.
    origin = [i for i, ch in enumerate(line) if not (ch == "\\" and line[i + 1 : i + 2] == "/")]
    plain = "".join(line[i] for i in origin)
    origin.append(len(line))
    for leak in _paths_in_plain_line(0, plain, language):

        def back(k: int) -> int:
            return base + origin[k]

        def back_end(k: int) -> int:  # an exclusive end: one past the last character's origin
            return base + origin[k - 1] + 1 if k else base

        yield Leak(
            rule=leak.rule,
            start=back(leak.start),
            end=back_end(leak.end),
            focus=(back(leak.focus[0]), back_end(leak.focus[1])),
            evidence=leak.evidence,
            message=leak.message,
            mask=leak.mask,
            confidence=leak.confidence,
            severity=leak.severity,
        )


def _paths_in_plain_line(base: int, line: str, language: str | None) -> Iterator[Leak]:
    taken: list[tuple[int, int]] = []

    def fresh(s: int, e: int) -> bool:
        if any(s < te and ts < e for ts, te in taken):
            return False
        taken.append((s, e))
        return True

    # Windows profiles: C:\Users\u, C:/Users/u, C:\\Users\\u, /mnt/c/Users/u, /c/Users/u, UNC …\Users\u.
    for m in _WIN_ROOT.finditer(line):
        root_start = m.start()
        before = line[max(0, root_start - 40) : root_start]
        ts = _token_start(line, root_start)
        prefix = line[ts:root_start]
        style = None
        if _DRIVE_END.search(before):
            style = (
                "wsl"
                if re.search(r"(?i)/(?:mnt/|cygdrive/)?[a-z]$", before) and ":" not in prefix[-2:]
                else "windows"
            )
        elif prefix.startswith("\\\\"):
            style = "unc"
        elif not prefix and m.group("sep") != "/":
            style = "windows"
        elif m.group("root") == "Users" and m.group("sep") == "/":
            continue  # macOS, handled below with the other POSIX roots
        if style is None:
            continue
        quoted_to = _quote_close(line, ts)
        got = _take_user(
            line, m.end(), windows=True, skip_hash=False, groups=False, quoted_to=quoted_to
        )
        if not got:
            continue
        s, e, rest = got
        if _ok_name(line[s:e], rest, route_risk=False, line=line, windows=True) and fresh(s, e):
            yield _path_leak(base, line, s, e, ts, windows=True, style=style, confidence="high")

    # UNC paths whose share or a folder below it holds home folders: \\server\home$\u,
    # \\server\users\u, \\wsl$\Ubuntu\home\u.
    for m in _UNC.finditer(line):
        quoted_to = _quote_close(line, m.start())
        j = m.end() - len(m.group("sep"))
        folder = m.group("share")
        for _ in range(3):
            if folder.lower() in _UNC_HOME_SHARES:
                got = _take_user(
                    line, j, windows=True, skip_hash=False, groups=False, quoted_to=quoted_to
                )
                if got:
                    s, e, rest = got
                    if _ok_name(line[s:e], rest, route_risk=False, line=line) and fresh(s, e):
                        yield _path_leak(
                            base,
                            line,
                            s,
                            e,
                            m.start(),
                            windows=True,
                            style="unc",
                            confidence="medium",
                        )
                break
            sep = _next_sep(line, j)
            if not sep:
                break
            cs, ce = _component(line, j + sep, windows=True, quoted_to=quoted_to)
            if ce <= cs:
                break
            folder, j = line[cs:ce], ce

    # POSIX homes and cluster file systems.
    for m in _UNIX_ROOTS.finditer(line):
        context = _context_of(line, m.start())
        if context is None:
            continue
        kind = m.lastgroup
        ts = _token_start(line, m.start())
        cluster_prefix = bool(_CLUSTER_PREFIX.match(line, ts))
        if context == "nested" and (
            kind not in ("home", "mac", "users", "scratch")
            or (kind in ("users", "scratch") and not cluster_prefix)
        ):
            continue
        if context == "nested" and kind == "mac" and not _MAC_MOUNT.match(line, ts):
            continue  # …/properties/Users/items: a key path (JSON pointer, XPath), not a disk
        got = _take_user(
            line,
            m.end(),
            windows=False,
            skip_hash=kind in ("hashed", "home"),
            groups=kind == "home",
            quoted_to=None,
        )
        if not got:
            continue
        s, e, rest = got
        if kind in ("mac", "home") and not rest:
            spaced = _SPACED_NAME.match(line, e)
            if spaced:  # /Users/John Smith/Documents: a home folder whose name has a space
                e = spaced.end()
                rest = []
                k = e
                while len(rest) < 2 and (sep := _next_sep(line, k)):
                    cs, ce = _component(line, k + sep, windows=False, quoted_to=None)
                    if ce <= cs:
                        break
                    rest.append(line[cs:ce])
                    k = ce
        signed = bool(rest) and (rest[0].startswith(".") or rest[0].lower() in HOME_SIGNATURE)
        if kind == "users" and not (signed or cluster_prefix):
            continue  # a bare /users/<x> is a web route far more often than a home folder
        if (
            kind == "hashed"
            and not rest
            and ts == m.start()
            and m.group(0) == "/u"
            and _REDDIT_BEFORE.search(line, 0, ts)
        ):
            continue  # "the Reddit users /u/a and /u/b": accounts on a site, not folders
        if not _ok_name(line[s:e], rest, route_risk=kind in ("home", "mac", "users"), line=line):
            continue
        if not fresh(s, e):
            continue
        style = "afs" if m.group(0).startswith("/afs/") else _STYLE[kind]
        confidence = "high" if kind in ("home", "mac") and context != "nested" else "medium"
        yield _path_leak(base, line, s, e, ts, windows=False, style=style, confidence=confidence)

    # ~user/ (another user's home) — not in style sheets or module imports, where ~ means a
    # package; in code only inside a string literal (elsewhere ~x/2 is arithmetic).
    if "~" in line and (language or "") not in ("css", "scss", "less", "sass"):
        in_code = language is None or language in _CODE_LANGUAGES
        for m in _TILDE.finditer(line):
            if re.search(r"@import|@use|url\(|require\(|\bimport\b|\bfrom\s+['\"]", line):
                break
            if in_code and not _inside_string(line, m.start()):
                # Outside a string ~x/… is mostly arithmetic or prose (~eps/1e-3); a comment may
                # still point at another user's files when a real path follows (~dana/notes/a.md).
                got = _take_user(
                    line,
                    m.end("name"),
                    windows=False,
                    skip_hash=False,
                    groups=False,
                    quoted_to=None,
                )
                follow = line[m.end("name") + 1 : m.end("name") + 2]
                deep = bool(got) and (len(got[2]) >= 2 or any(_FILE_EXT.search(c) for c in got[2]))
                if not deep or not follow or not (follow.isalpha() or follow in "._"):
                    continue
            if _token_start(line, m.start()) != m.start():
                continue  # inside a URL or a longer token (https://host/~user/ is a web page)
            name = m.group("name")
            if any(c.isupper() for c in name):
                continue  # ~Unity/…, ~Library/…: account names are lower case
            if (
                looks_like_username(name)
                and name.lower() not in GENERIC_DIRS
                and fresh(m.start("name"), m.end("name"))
            ):
                yield _path_leak(
                    base,
                    line,
                    m.start("name"),
                    m.end("name"),
                    m.start(),
                    windows=False,
                    style="tilde",
                    confidence="medium",
                )

    # HDFS home folders: hdfs:///user/u/, /user/u/ in Hadoop and Spark code.
    if "/user/" in line and _HDFS_CONTEXT.search(line):
        for m in _HDFS_USER.finditer(line):
            got = _take_user(
                line, m.end(), windows=False, skip_hash=False, groups=False, quoted_to=None
            )
            if not got:
                continue
            s, e, rest = got
            if (
                _ok_name(line[s:e], rest, route_risk=False, line=line)
                and line[s:e].lower() not in ("hive", "spark", "hdfs", "history")
                and fresh(s, e)
            ):
                yield _path_leak(
                    base,
                    line,
                    s,
                    e,
                    _token_start(line, m.start()),
                    windows=False,
                    style="hdfs",
                    confidence="medium",
                )


_SPACED_NAME = re.compile(r" [A-Z][A-Za-z'.-]{0,30}(?=/)")
_HDFS_CONTEXT = re.compile(r"(?i)hdfs|hadoop|webhdfs|spark|\bhive\b|namenode")
_HDFS_USER = re.compile(r"(?:(?i:hdfs|webhdfs)://[^/\s'\"]*|(?<![\w.~/-]))/user(?=/)")


def _inside_string(line: str, i: int) -> bool:
    """Whether position ``i`` is inside a quoted string (quote parity before it; a heuristic)."""
    before = line[:i].replace("\\\\", "").replace('\\"', "").replace("\\'", "")
    return before.count('"') % 2 == 1 or before.count("'") % 2 == 1 or before.count("`") % 2 == 1


def _after_comment(line: str, i: int, language: str | None) -> bool:
    """Whether a comment starts before position ``i`` on this line (a heuristic: no string parsing)."""
    from codeaudit.languages import comment_syntax

    tokens, blocks = comment_syntax(language)
    head = line[:i]
    stripped = head.lstrip()
    return (
        any(t in head for t in tokens)
        or any(start in head for start, _ in blocks)
        or stripped.startswith(("*", "#", "//", "--", ";"))
    )


# Consecutive string literals joined into a path: os.path.join("/home", "alice"), Path("C:/Users") / "bob".
# The two alternatives must not both match a backslash: with overlapping ones a long literal full
# of escapes and no closing quote backtracks exponentially (found on a bytes literal in the stdlib).
_LITERAL = re.compile(r"""(?P<q>['"])(?P<body>(?:\\.|(?!(?P=q))[^\\]){0,200}?)(?P=q)""")
_JOINER = re.compile(r"\s*\)?\s*(?P<op>,|/|\+)\s*")
_JOIN_CALL = re.compile(
    r"(?i)(?:join|combine|resolve|Path|Paths\.get|file\.path|fs\.path|File)\s*\("
)
_JOIN_ROOT = re.compile(
    r"(?i)(?:^|[/\\])(?:home\d*|users|documents and settings)[/\\]*$|^[a-z]:[/\\]*$"
)


def _joined_paths(
    base: int, line: str, language: str | None, already: set[tuple[int, int]]
) -> Iterator[Leak]:
    """User names in paths built from several string literals, mapped back to their literal."""
    literals = list(_LITERAL.finditer(line))
    k = 0
    while k < len(literals) - 1:
        if not _JOIN_ROOT.search(literals[k].group("body")):
            k += 1
            continue
        chain = [literals[k]]
        ops = []
        while k + len(chain) < len(literals):
            nxt = literals[k + len(chain)]
            j = _JOINER.fullmatch(line, chain[-1].end(), nxt.start())
            if not j:
                break
            chain.append(nxt)
            ops.append(j.group("op"))
        k += len(chain)
        if len(chain) < 2:
            continue
        if "," in ops and not _JOIN_CALL.search(line, 0, chain[0].start()):
            continue  # a list of strings, not a path being joined
        # Rebuild the path as one quoted literal and remember where each piece came from.
        joined, pieces = '"', []
        for index, lit in enumerate(chain):
            body = lit.group("body")
            lead = 0
            if index and ops[index - 1] != "+":
                stripped = body.lstrip("/\\")
                lead = len(body) - len(stripped)
                body = stripped
                joined = joined.rstrip("/\\") + "/"
            pieces.append((len(joined), lit.start("body") + lead, len(body)))
            joined += body
        joined += '"'
        for leak in _paths_in_plain_line(0, joined, language):
            fs, fe = leak.focus
            for js, origin, length in pieces:
                if js <= fs and fe <= js + length:
                    focus = (base + origin + fs - js, base + origin + fe - js)
                    if focus not in already:
                        already.add(focus)
                        yield Leak(
                            rule=leak.rule,
                            start=base + chain[0].start(),
                            end=base + chain[-1].end(),
                            focus=focus,
                            evidence={
                                **leak.evidence,
                                "path": joined.strip('"')[:300],
                                "style": "joined",
                            },
                            message=leak.message,
                            confidence="medium",
                        )
                    break
