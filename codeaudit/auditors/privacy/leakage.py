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

import functools
import ipaddress
import re
from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

# --- what is not a person ----------------------------------------------------------------------

#: Accounts that belong to an operating system, a cloud image, a CI service or a container image,
#: and the names of profile folders Windows and macOS create for everybody.
GENERIC_ACCOUNTS = frozenset(
    """
    root admin admins administrator administrators adm user users guest guests default defaultuser0
    default-user defaultuser all-users allusers public shared everyone owner
    ubuntu debian centos fedora alpine arch archlinux kali parrot rocky almalinux opensuse suse rhel
    amzn amazon ec2-user ec2user azureuser azure-user cloud-user clouduser opc core bitnami vagrant pi
    raspberry runner runneradmin vssadministrator containeradministrator containeruser
    wdagutilityaccount defaultapppool iusr appveyor jenkins hudson gitlab-runner gitlab-ci gitlab
    circleci travis buildkite buildkite-agent buildbot bamboo teamcity drone concourse semaphore
    codebuild cloudbuild vsts azdo agent builder build buildagent buildd ci docker dockremap podman
    vscode codespace codespaces gitpod coder jovyan rstudio sagemaker-user studio-lab-user
    cloudshell-user cloudshell ssm-user sbx_user1051 colab kaggle databricks www-data www wwwrun
    http httpd apache apache2 nginx caddy nobody nogroup daemon bin sys sync games man lp mail news
    uucp proxy backup backups list irc gnats syslog messagebus sshd postgres postgresql pgsql mysql
    mariadb redis mongodb mongo oracle elasticsearch elastic kibana logstash grafana prometheus
    rabbitmq kafka zookeeper hadoop hdfs yarn mapred hive spark airflow superset jupyter notebook
    anaconda conda miniconda git svn hg mercurial node nodejs npm app apps appuser application
    service svc deploy deployer deployment ansible puppet chef salt terraform ops devops sysadmin
    operator system localsystem localservice networkservice local test tester testuser tests testing
    demo demouser dev developer devel devuser sandbox steam student students staff faculty
    linuxbrew homebrew lost+found home usuario benutzer utilisateur ieuser parallels osboxes vmuser
    unknown anonymous anon ftp ftpuser sftp gituser web webadmin webmaster site sites logfiles
    aistudio kesci featurize hduser cloudera maria_dev raj_ops training tomcat jboss weblogic wildfly
    odoo frappe mastodon minecraft alarm chronos nvidia jetson orangepi odroid linaro dietpi osmc
    xilinx mobile distiller apple mac pc hp dell lenovo asus acer windows win10 win11 gebruiker utente
    administrateur administrador gast anvandare användare пользователь 用户 defaultaccount wsiaccount
    default.migrated localadmin vboxuser live liveuser mint manjaro deepin user1 runner1
    django flask rails wordpress wp drupal joomla magento nextcloud owncloud gitea redmine sonar sonarqube
    nexus artifactory zabbix nagios solr myapp webapp api backend frontend server services worker mw
    cpython python python2 python3 pypy distutils setuptools pip dask numpy scipy pandas pytorch torch tensorflow
    """.split()
)

#: Folder names that sit where a user name could, but name no one.
GENERIC_DIRS = frozenset(
    """
    bin lib lib64 etc share src include data tmp temp cache config conf logs log docs doc test tests
    build dist out output target app apps www public static assets media uploads files backup
    backups workspace workspaces projects project repo repos code work scripts tools opt var run mnt
    srv usr sbin common global system default shared local group groups lab labs team teams pub
    archive archives install installs software packages pkg pkgs env envs venv venvs images jobs
    runs results models datasets checkpoints experiments users user home homes scratch spool
    containers volumes snapshots .snapshot .snapshots dir dirs directory folder folders path paths
    copy first second third last old new original latest current previous next final draft
    """.split()
)

#: Folders that group home folders (``/home/students/alice``): the next component is the user.
HOME_GROUPS = frozenset(
    "students student staff users people faculty grad grads gradstudents ugrad ugrads undergrad "
    "undergrads phd postdoc postdocs researchers research members employees visitors guests "
    "alumni interns contractors accounts homes".split()
)

#: Second components that show a home folder (``/users/bob/Documents``).
HOME_SIGNATURE = frozenset(
    """
    desktop documents downloads pictures music videos movies library appdata onedrive dropbox
    google-drive icloud icloud-drive applications sites anaconda3 miniconda3 miniforge3 mambaforge
    micromamba venv .venv envs go src code projects repos git github gitlab workspace work dev
    development source sources notebooks jupyter bin lib local data tmp downloads-tmp ntuser.dat
    """.split()
)

#: Words of web routes (``/users/login``, ``/home/dashboard``), which are not user names.
ROUTE_WORDS = frozenset(
    """
    login logout signin signout signup register registration profile profiles settings preferences
    index create edit delete destroy update details detail list search new show view add remove
    manage dashboard about contact privacy terms error errors welcome main feed overview landing
    explore page pages tab tabs account accounts current self all info status stats roles role
    permissions avatar avatars password passwords reset verify confirm activate invite invitations
    followers following repos orgs events notifications messages inbox help faq docs api auth oauth
    callback admin id get post put patch byid getall getbyid lookup find query count export import
    upload download bulk batch sessions session token tokens keys groups teams members
    subscriptions subscription home index.html index.php default.aspx blog news shop cart checkout
    products product orders order posts articles article gallery portfolio careers feeds friends chat
    """.split()
)

_PLACEHOLDER_WORDS = frozenset(
    """
    user username usr uname userid userhome login loginname accountname account name names yourname
    yourusername youruser yourlogin yourid yourhandle youraccount yourhome your you yours me myname
    myusername myuser mylogin myaccount myhome mine someone somebody someuser anyuser anyone
    person somename foo bar baz qux quux foobar example exampleuser sample sampleuser dummy
    dummyuser fake fakeuser placeholder changeme replaceme xyz firstname lastname firstlast
    firstnamelastname flast fname lname yourfirstname yourlastname yournamehere nameofuser
    currentuser whoami username1 username2 home myself yourself ourselves abc abcd abcde xyz qwerty asdf
    someperson someoneelse someone_else otheruser anotheruser
    to the my our their his her its this that some any path where somewhere """.split()  # /home/to/my/stuff
)
_PLACEHOLDER_RE = re.compile(
    r"^(?:x+|y+|z+|\.+|_+|-+|(?:your|my|some|any|the|a|current|local|default|example|sample|test|new)"
    r"(?:user|username|name|login|account|id|handle|home|dir)s?\d*|user[a-z]?\d*|users\d*|test\d*)$"
)
#: Characters that turn a path component into a template, a variable or a glob.
_TEMPLATE_CHARS = frozenset("{}<>$%*?[]()@!#^~`=&|+;,'\"\\")


def _norm(name: str) -> str:
    return re.sub(r"[\s._-]+", "", name.lower())


def is_placeholder(name: str) -> bool:
    """Whether a user-name slot holds a template or a stand-in rather than a name.

    >>> [is_placeholder(n) for n in ("${USER}", "<username>", "your_username", "USERNAME", "alice")]
    [True, True, True, True, False]
    """
    if not name or any(c in _TEMPLATE_CHARS for c in name):
        return True
    low = name.lower()
    norm = _norm(name)
    if (
        not norm
        or norm in _PLACEHOLDER_WORDS
        or _PLACEHOLDER_RE.match(norm)
        or _PLACEHOLDER_RE.match(low)
    ):
        return True
    # Upper-case slots such as YOUR_USER, MY_NAME, USER_NAME, LOGIN_ID are template variables.
    if (
        name.isupper()
        and len(name) >= 3
        and re.search(r"USER|NAME|LOGIN|ACCOUNT|YOUR|^MY|HOME", name)
    ):
        return True
    return False


#: Folder names that are disks, mounts or numbered scratch areas (/home/data1, /home/ssd).
_GENERIC_DIR_RE = re.compile(
    r"^(?:data|disk|ssd|hdd|nvme|vol|volume|storage|raid|mnt|store|backup|tmp|temp|scratch|work|share|nas|"
    r"demo|test|dev|prod|stage|staging|proj|project|group|lab)[-_]?\d*$",
    re.IGNORECASE,
)


def is_generic_account(name: str) -> bool:
    """Whether a name belongs to a system, cloud, CI or container account (not a person).

    >>> [is_generic_account(n) for n in ("runner", "ec2-user", "Default User", "svc-backup", "alice")]
    [True, True, True, True, False]
    """
    low = name.lower()
    if (
        low in GENERIC_ACCOUNTS
        or low.replace(" ", "-") in GENERIC_ACCOUNTS
        or low.replace(" ", "") in GENERIC_ACCOUNTS
    ):
        return True
    # Service and robot accounts by naming convention.
    if re.match(r"^(?:svc|srv|sa|svc-acct|service)[-_.]", low) or re.search(
        r"[-_.](?:svc|bot|runner|agent|service|user)$", low
    ):
        return True
    if low.endswith("[bot]") or low.endswith("-bot") or low.endswith("_bot"):
        return True
    return False


def looks_like_username(name: str, *, numeric_ok: bool = False) -> bool:
    """A plausible account name: a letter somewhere, a sane length, no template characters.

    ``numeric_ok``: a Windows profile folder may be all digits (accounts named after a phone
    number are common), so there three or more digits also count.
    """
    if not 2 <= len(name) <= 64:
        return False
    if not any(c.isalpha() for c in name) and not (
        numeric_ok and name.isdigit() and len(name) >= 3
    ):
        return False
    if re.fullmatch(r"u\d+_a\d+|app_\d+|u\d+_i\d+", name.lower()):
        return False  # Android's generated per-app accounts (u0_a123)
    if re.fullmatch(r"(.)\1+", name.lower()) or re.fullmatch(r"defaultuser\d+", name.lower()):
        return False  # aaa, zzzz; Windows' defaultuser100000 set-up profile
    return not is_placeholder(name) and not is_generic_account(name)


# --- records -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Leak:
    """One piece of personal data in the analysed text (offsets into that text).

    ``focus`` is the part that reveals something (the user name, the address); a leak counts
    only when its focus lies in the audited completion. ``mask`` lists spans that must never be
    shown (a password).
    """

    rule: str
    start: int
    end: int
    focus: tuple[int, int]
    evidence: dict[str, Any]
    message: str
    mask: tuple[tuple[int, int], ...] = ()
    #: ``"high"``/``"medium"``/``"low"``; ``None``: the rule's default.
    confidence: str | None = None
    #: a severity label overriding the rule's default (e.g. a role address is ``low``).
    severity: str | None = None


# --- the text, line by line ---------------------------------------------------------------------


@dataclass(slots=True)
class _Text:
    """The analysed text, lowercased once, with its line starts (``\n``, ``\r\n`` and ``\r``)."""

    text: str
    low: str = ""
    starts: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.low = self.text.lower()
        starts = [0]
        find, i, text = self.text.find, 0, self.text
        if "\r" in text:
            for m in re.finditer(r"\r\n?|\n", text):
                starts.append(m.end())
        else:
            while (j := find("\n", i)) >= 0:
                i = j + 1
                starts.append(i)
        self.starts = starts

    def line_span(self, index: int) -> tuple[int, int]:
        start = self.starts[index]
        end = self.starts[index + 1] if index + 1 < len(self.starts) else len(self.text)
        text = self.text
        while end > start and text[end - 1] in "\r\n":
            end -= 1
        return start, end

    def lines_with(self, needles: tuple[str, ...]) -> Iterator[tuple[int, str]]:
        """(offset, line) of each line whose lowercase form holds one of ``needles``."""
        low, found = self.low, set()
        for needle in needles:
            i = low.find(needle)
            while i >= 0:
                found.add(self.line_index(i))
                i = low.find(
                    needle,
                    self.starts[self.line_index(i) + 1]
                    if self.line_index(i) + 1 < len(self.starts)
                    else len(low),
                )
        return self._lines_at(found)

    def lines_matching(self, pattern: re.Pattern[str]) -> Iterator[tuple[int, str]]:
        return self._lines_at({self.line_index(m.start()) for m in pattern.finditer(self.text)})

    def line_index(self, offset: int) -> int:
        return bisect_right(self.starts, offset) - 1

    def _lines_at(self, indices: set[int]) -> Iterator[tuple[int, str]]:
        for index in sorted(indices):
            start, end = self.line_span(index)
            yield start, self.text[start:end]


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


# --- IP addresses -------------------------------------------------------------------------------

_IPV4 = re.compile(r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?!\.?\w)")
_IPV6 = re.compile(
    r"(?<![\w:.])(?=[0-9A-Fa-f:]*:[0-9A-Fa-f]*:)[0-9A-Fa-f:]{2,39}(?:(?<=:)\d{1,3}(?:\.\d{1,3}){3})?(?:%[\w.]+)?(?![\w:])"
)
_VERSION_BEFORE = re.compile(
    r"(?i)(?:version|\bver\b|\brelease|\bbuild|\brev\b|(?:^|\W)v|==|>=|<=|~=|!=|\^|~|assembly\w*|\boid|objectidentifier|\bmib|"
    r"\bsnmp|\bsections?|§|\bsec\.|\bchapter|\bclause|\bparagraph|\bappendix|\bfigure|\btable|\brfc\s*\d+|\bspec\w*|"
    r"\bcf\.|\bstep|\brule|\bkernel|\bfirmware|\bpatch|c\+\+\s*\d*|\biso(?:/iec)?\s*\d*|\bieee\s*\d*|"
    r"\becma\w*\s*\d*|\bposix\b|\[[a-z][\w.]*\]|\bn\d{4}|\bp\d{4}r?\d*)[\s\"'=:(,\[]*$"
)
_IP_CONTEXT = re.compile(
    r"(?i)(?:\b|_)(?:ip|ipv4|host|hostname|addr|address|server|proxy|connect|ping|dns|gateway|endpoint|bind)(?:\b|_)|://"
)
_VERSION_LINE = re.compile(r"(?i)version|__version__|\boid\b|ObjectIdentifier|\bsnmp|\bmib\b")
_DOC_NETS = tuple(
    ipaddress.ip_network(n)
    for n in (
        "192.0.2.0/24",
        "198.51.100.0/24",
        "203.0.113.0/24",
        "198.18.0.0/15",
        "2001:db8::/32",
        "0.0.0.0/8",
        "240.0.0.0/4",
        "100::/64",
    )
)
_WELL_KNOWN = frozenset(
    "1.2.3.4 4.3.2.1 5.6.7.8 11.22.33.44 12.34.56.78 123.45.67.89 123.123.123.123 "
    "8.8.8.8 8.8.4.4 1.1.1.1 1.0.0.1 9.9.9.9 149.112.112.112 208.67.222.222 208.67.220.220 4.2.2.1 4.2.2.2 "
    "2001:4860:4860::8888 2001:4860:4860::8844 2606:4700:4700::1111 2606:4700:4700::1001".split()
)
_SHARED_NET = ipaddress.ip_network("100.64.0.0/10")  # carrier-grade NAT: private in practice
_MASK_OCTETS = frozenset({0, 128, 192, 224, 240, 248, 252, 254, 255})


def classify_ip(text: str) -> tuple[str, str] | None:
    """``("public"|"private", normalised address)`` for a real network address, else ``None``.

    Loopback, unspecified, link-local, multicast, reserved and documentation ranges, netmasks and
    well-known public resolvers are not anybody's network.

    >>> classify_ip("52.14.7.201"), classify_ip("10.20.30.40"), classify_ip("192.0.2.10"), classify_ip("255.255.255.0")
    (('public', '52.14.7.201'), ('private', '10.20.30.40'), None, None)
    """
    try:
        addr = ipaddress.ip_address(text.split("%")[0])
    except ValueError:
        return None
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        addr = addr.ipv4_mapped
    if addr.is_loopback or addr.is_unspecified or addr.is_link_local or addr.is_multicast:
        return None
    if any(addr in net for net in _DOC_NETS if net.version == addr.version):
        return None
    if isinstance(addr, ipaddress.IPv4Address):
        octets = [int(o) for o in str(addr).split(".")]
        if (
            all(o in _MASK_OCTETS for o in octets)
            and octets == sorted(octets, reverse=True)
            and octets[0] == 255
        ):
            return None  # a netmask
        if octets[-1] == 255 and octets[0] == 255:
            return None
    if str(addr) in _WELL_KNOWN:
        return None
    if (
        addr.is_private
        or (addr.version == 4 and addr in _SHARED_NET)
        or (addr.version == 6 and addr.is_site_local)
    ):
        return "private", str(addr)
    if addr.is_reserved or not addr.is_global:
        return None
    return "public", str(addr)


def _ips(base: int, line: str) -> Iterator[Leak]:
    covered: list[tuple[int, int]] = []
    if ":" in line:
        for m in _IPV6.finditer(line):
            cand = m.group(0)
            groups = [g for g in cand.split("%")[0].split(":") if g]
            if "::" not in cand and cand.count(":") < 7:
                continue
            if len(groups) < 3 and not any(len(g) == 4 for g in groups):
                continue  # A::B in C++, Ruby, Rust
            covered.append(m.span())
            if cand.endswith("::") or line[m.end() : m.end() + 1] == "/":
                continue  # a network (2001:db8::/32, fd00::), not a host
            got = classify_ip(cand)
            if got:
                yield _ip_leak(base, m.start(), m.end(), got, 6)
    if "." not in line:
        return
    for m in _IPV4.finditer(line):
        if any(s <= m.start() < e for s, e in covered):
            continue
        got = judge_ipv4(line, m.start(), m.end())
        if isinstance(got, tuple):
            yield _ip_leak(base, m.start(), m.end(), got, 4)


def judge_ipv4(line: str, start: int, end: int) -> tuple[str, str] | str:
    """``(scope, address)`` when ``line[start:end]`` is a real network's IPv4 address, else why not.

    >>> judge_ipv4('API = "52.14.7.201"', 7, 18), judge_ipv4('__version__ = "1.2.3.4"', 15, 22)
    (('public', '52.14.7.201'), 'a version or section number')
    """
    text = line[start:end]
    before = line[max(0, start - 40) : start]
    if re.search(r"[A-Za-z][\w.]*[-_]$", before) or re.match(
        r"[-_.+](?:py\d|cp\d|any|none|whl|tar|zip|egg|jar|tgz|linux|win|mac|el\d|dev|rc|post|alpha|beta|\d)",
        line[end : end + 6],
    ):
        return "a version number"  # pkg-2.4.7.3-py3-none-any.whl, lib_1.2.3.4.tar.gz
    if _VERSION_BEFORE.search(before) or (
        _VERSION_LINE.search(line) and not _IP_CONTEXT.search(line)
    ):
        return "a version or section number"
    try:
        octets = [int(o) for o in text.split(".")]
    except ValueError:
        return "not an address"
    if len(octets) != 4:
        return "not an address"
    if octets[3] == 0 or line[end : end + 1] == "/":
        return "a network, not a host"
    if octets[0] <= 9 and octets[1] <= 9 and octets[2] <= 20 and not _IP_CONTEXT.search(line):
        return "a version or section number"  # 8.2.4.44, 3.1.1.6
    got = classify_ip(text)
    return got if got else "loopback, reserved, documentation, netmask or well-known address"


def _ip_leak(base: int, start: int, end: int, got: tuple[str, str], version: int) -> Leak:
    scope, address = got
    return Leak(
        rule="public-ip-address" if scope == "public" else "private-ip-address",
        start=base + start,
        end=base + end,
        focus=(base + start, base + end),
        evidence={"ip": address, "version": version, "scope": scope},
        message=f"the {scope} IPv{version} address {address}",
    )


# --- internal host names -----------------------------------------------------------------------------

_INTERNAL_SUFFIX = r"(?:corp|internal|intranet|intra|lan|local|home\.arpa|priv|private)"
_HOST = re.compile(
    r"(?i)(?<![\w.@$-])(?P<host>(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+(?:"
    + _INTERNAL_SUFFIX
    + r"))(?![\w-]|\.[a-z0-9])"
    r"|(?<![\w.@$-])(?P<sub>(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*(?:corp|internal|intranet|intra|int|priv|private|lan)"
    r"\.(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9-]+\.(?:com|net|org|io|co|de|uk|fr|nl|ch|se|no|dk|fi|it|es|jp|cn|in|au|ca|us|eu|biz|info|cloud|tech|dev|app|ai))"
    r"(?![\w-]|\.[a-z0-9])"
)
_GENERIC_HOSTS = re.compile(
    r"(?i)^(?:(?:host|gateway|kubernetes)\.docker\.internal|metadata\.google\.internal|.*\.cluster\.local|"
    r".*\.svc\.cluster\.local|localhost\.localdomain|localhost\.local|(?:raspberrypi|octopi|homeassistant|"
    r"printer|router|nas|myhost|host|hostname|your-?host|server|my-?server|machine|my-?machine|computer|"
    r"my-?computer|pc|laptop|example|foo|bar|test|mydomain|domain|yourdomain)\.(?:local|lan|home|internal|corp)|"
    r".*\.ec2\.internal|.*\.compute\.internal|.*\.example\.\w+|.*\.example|instance-data\.\w+)$"
)
_HOST_CONTEXT = re.compile(
    r"(?i)\b(?:host|hostname|server|servers|addr|address|url|uri|endpoint|ping|ssh|scp|curl|wget|connect|proxy|dns|"
    r"smtp|imap|ldap|mqtt|broker|db|database|redis|kafka|remote|upstream|domain|fqdn|nslookup|dig)\w*\b"
)
_CODE_LANGUAGES = frozenset(
    "python c cpp csharp java kotlin scala javascript typescript php rust go ruby perl lua r swift objectivec dart".split()
)


def _hosts(base: int, line: str, language: str | None, taken: set[int]) -> Iterator[Leak]:
    for m in _HOST.finditer(line):
        host = m.group("host") or m.group("sub")
        start = m.start()
        if start in taken or _GENERIC_HOSTS.match(host):
            continue
        before = line[:start]
        if before.endswith("/") and not before.endswith("//"):
            continue  # a path segment (/srv/app.local/), not a host
        after = line[m.end() : m.end() + 1]
        anchored = (
            before.endswith(("//", "@", "'", '"', "`", "=", " ", "\t", ":", "(", "[", ","))
            or not before
        )
        if after in ("(", "<", "[", "}") or before.endswith("{"):
            continue  # a method call, a generic, an f-string field: code, not a host
        labels = host.lower().split(".")
        if (
            len(labels) == 2
            and not _HOST_CONTEXT.search(line)
            and not before.endswith(("//", "@"))
            and after not in (":", "/")
        ):
            continue  # Setup.local, settings.local: file names far more often than host names
        if language is None or language in _CODE_LANGUAGES:
            # In code, a.b.local is usually attribute access (threading.local): accept a host name
            # only inside a string literal or a URL.
            quoted = (
                before.count('"') % 2 == 1
                or before.count("'") % 2 == 1
                or before.count("`") % 2 == 1
            )
            if not (quoted or before.endswith(("//", "@"))):
                continue
        elif not anchored:
            continue
        if len(labels) < 2 or all(label.isdigit() for label in labels[:-1]):
            continue
        yield Leak(
            rule="internal-hostname",
            start=base + start,
            end=base + m.end(),
            focus=(base + start, base + m.end()),
            evidence={"host": host},
            message=f"the internal host name {host}",
        )


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
