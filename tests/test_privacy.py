"""The privacy auditor (CA1xx personal data, CA2xx secrets): rules, locations, evidence, masking.

Quality on the labelled set is in ``test_privacy_labelled.py``, detect-secrets equivalence and the
gates in ``test_privacy_secrets.py``, property-based tests in ``test_privacy_fuzz.py``.

``python tests/test_privacy.py --write-docs`` regenerates the rule reference in docs/privacy.md.
"""

from __future__ import annotations

import json
import re
import sys

import pytest
from helpers.paths import ROOT

from codeaudit import audit
from codeaudit.auditors.privacy.auditor import SECRET_RULES, PrivacyAuditor
from codeaudit.config import Config, config_from_mapping
from codeaudit.model import Suggestion
from codeaudit.registry import check_unique

DOCS = ROOT / "docs" / "privacy.md"
BEGIN, END = (
    "<!-- rules:begin (generated from the rules; see tests/test_privacy.py) -->",
    "<!-- rules:end -->",
)


@pytest.fixture(scope="module")
def auditor():
    return PrivacyAuditor()


def run(auditor, completion: str, language: str | None = "python", **fields):
    (outcome,) = auditor.audit_batch(
        [Suggestion(id="t", completion=completion, language=language, **fields)]
    )
    assert not outcome.errors, outcome.errors
    return outcome.findings


def named(findings, rule: str | None = None):
    return [
        (f.evidence.get("username"), f.line)
        for f in findings
        if rule is None or f.rule_name == rule
    ]


# --- rules are data, documented, with their proof beside them -------------------------------------


def test_rules_are_complete_and_unique():
    rules = PrivacyAuditor.rules()
    check_unique(rules)
    assert [r.id for r in rules] == sorted(r.id for r in rules)
    for r in rules:
        assert r.auditor == "privacy" and re.fullmatch(r"CA[12]\d\d", r.id)
        assert r.cwe and r.description.strip() and r.fix.strip(), r.id
        assert r.bad_example.strip() and r.good_example.strip(), (
            f"{r.id} needs a bad and a good example"
        )
        assert any("cwe.mitre.org" in ref for ref in r.references), (
            f"{r.id} needs its CWE reference"
        )
    assert set(SECRET_RULES.values()) <= {r.id for r in rules}


@pytest.mark.parametrize(
    "rule", [r for r in PrivacyAuditor.rules() if r.examples], ids=lambda r: r.id
)
def test_rule_examples(auditor, rule):
    """Each rule's ``bad`` examples fire it on their pinned line; its ``good`` ones never do."""
    from codeaudit.auditors.privacy.ruledata import example_cases
    from codeaudit.languages import detect

    cases = example_cases(rule)
    assert any(kind == "bad" for kind, *_ in cases) and any(kind == "good" for kind, *_ in cases)
    for kind, code, line, language, path in cases:
        found = run(auditor, code, language=language or detect(code) or "python", path=path)
        lines = {f.line for f in found if f.rule_id == rule.id}
        if kind == "bad":
            assert line in lines, (rule.id, code, line, [(f.rule_id, f.line) for f in found])
        else:
            assert not lines, (rule.id, code, [(f.rule_id, f.line) for f in found])


def test_rule_data_errors_name_the_rule_and_field():
    from codeaudit.auditors.privacy.ruledata import RuleDataError, parse_rules

    good = {"id": "CA199", "name": "x-y", "title": "t", "severity": "low", "confidence": "low"}
    good |= {"cwe": 359, "description": "d", "fix": "f"}
    assert parse_rules({"rules": [good]})[0].id == "CA199"
    with pytest.raises(RuleDataError, match="rule CA199: missing field.*fix"):
        parse_rules({"rules": [{k: v for k, v in good.items() if k != "fix"}]})
    with pytest.raises(RuleDataError, match=r"rule CA199: unknown field\(s\) colour"):
        parse_rules({"rules": [good | {"colour": "red"}]})
    with pytest.raises(RuleDataError, match=r"examples.bad\[0\]: 'line' 3"):
        parse_rules({"rules": [good | {"examples": {"bad": [{"code": "a\n", "line": 3}]}}]})


def render_docs() -> str:
    return "\n".join(r.markdown() for r in PrivacyAuditor.rules())


def test_docs_are_generated_from_the_rules():
    text = DOCS.read_text(encoding="utf-8")
    assert BEGIN in text and END in text, "docs/privacy.md lost its generated section"
    current = text.split(BEGIN, 1)[1].split(END, 1)[0].strip()
    assert current == render_docs().strip(), "run: python tests/test_privacy.py --write-docs"
    for r in PrivacyAuditor.rules():
        assert f"{r.id} `{r.name}`" in text


def test_readme_section_reports_the_measured_figures():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = re.search(r"^## Privacy auditor\n(.*?)(?=^## )", readme, re.S | re.M).group(1)
    assert re.search(r"recall\D+\d", section) and re.search(r"false.positive", section)
    for r in PrivacyAuditor.rules():
        assert r.id in section or f"`{r.name}`" in section, (
            f"README's privacy section does not list {r.id}"
        )


# --- user names in paths ------------------------------------------------------------------------------

POSITIVE = [
    ("/home/u", "python", "x = '/home/mkowalski/data.csv'\n", "mkowalski"),
    ("/Users/u", "python", "x = '/Users/priya.raman/dev/a.yml'\n", "priya.raman"),
    ("/export/home", "shell", "ls /export/home/jsmith/src\n", "jsmith"),
    ("/var/home", "shell", "cd /var/home/anguyen/src\n", "anguyen"),
    ("/usr/home", "shell", "cd /usr/home/olga/ports\n", "olga"),
    ("WSL", "shell", "cp a /mnt/c/Users/lucas.moreau/Desktop/\n", "lucas.moreau"),
    ("Git Bash", "shell", "cd /c/Users/tokafor/repo\n", "tokafor"),
    ("Cygwin", "shell", "ls /cygdrive/d/Users/btanaka/x\n", "btanaka"),
    ("~u", "shell", "cp ~dmueller/notes.txt .\n", "dmueller"),
    ("C:\\Users", "python", "p = r'C:\\Users\\kpatel\\Documents\\a.txt'\n", "kpatel"),
    ("C:/Users", "r", "setwd('C:/Users/Maria/Documents')\n", "Maria"),
    ("escaped", "csharp", 'var p = "C:\\\\Users\\\\tnguyen\\\\AppData\\\\x.db";\n', "tnguyen"),
    (
        "JSON-in-notebook",
        "notebook",
        '"source": ["img = open(\'C:\\\\\\\\Users\\\\\\\\hcohen\\\\\\\\cat.jpg\')"]\n',
        "hcohen",
    ),
    (
        "space in name",
        "csharp",
        'var p = @"C:\\Users\\John Smith\\Desktop\\a.txt";\n',
        "John Smith",
    ),
    ("lower-case drive", "python", "p = 'c:\\\\users\\\\wkim\\\\x'\n", "wkim"),
    (
        "Documents and Settings",
        "batch",
        'copy "C:\\Documents and Settings\\fbianchi\\My Documents\\a.doc" .\n',
        "fbianchi",
    ),
    (
        "UNC home share",
        "powershell",
        "Copy-Item x \\\\fs01\\home$\\rhernandez\\backup\n",
        "rhernandez",
    ),
    ("UNC users share", "powershell", "dir \\\\nas\\users\\syamamoto\\docs\n", "syamamoto"),
    ("UNC admin share", "powershell", "dir \\\\pc42\\c$\\Users\\elena\\Desktop\n", "elena"),
    ("WSL UNC", "powershell", "cd \\\\wsl$\\Ubuntu\\home\\ivan\\src\n", "ivan"),
    ("/scratch", "shell", "#SBATCH -o /scratch/ahassan/logs/%j.out\n", "ahassan"),
    ("/u", "python", "W = '/u/mrossi/models/x.pt'\n", "mrossi"),
    ("/nfs/home", "python", "os.chdir('/nfs/home/gstewart/exp')\n", "gstewart"),
    ("AFS hashed", "shell", "cd /afs/cern.ch/user/t/tlee/analysis\n", "tlee"),
    ("AFS flat", "shell", "cd /afs/cs.cmu.edu/user/ynakamura/www\n", "ynakamura"),
    ("NERSC", "python", "d = '/global/homes/k/kmensah/runs'\n", "kmensah"),
    ("TACC work", "shell", "cd /work/02931/aisha/data\n", "aisha"),
    ("GPFS scratch", "shell", "cd /gpfs/scratch/dvolkov/run1\n", "dvolkov"),
    ("home group", "shell", "ls /home/students/marta/hw1\n", "marta"),
    ("home hash", "shell", "ls /home/h/hwang/x\n", "hwang"),
    ("nested home", "shell", "ls /mnt/disk2/home/emre/x\n", "emre"),
    ("sqlite URL", "python", "e = create_engine('sqlite:////home/fatima/app.db')\n", "fatima"),
    ("file URL", "python", "u = 'file:///Users/lnowak/index.html'\n", "lnowak"),
    ("PATH list", "shell", "export PATH=$PATH:/home/ccarter/bin\n", "ccarter"),
    ("compiler flag", "makefile", "CFLAGS += -I/home/bogdan/include\n", "bogdan"),
    (
        "ANSI traceback",
        "notebook",
        '"File \\u001b[0;32m/home/vkumar/x.py\\u001b[0m, line 3"\n',
        "vkumar",
    ),
    ("JSON escaped slashes", "json", '{"p": "\\/Users\\/zoe\\/a.json"}\n', "zoe"),
    ("properties escape", "ini", "dir=C\\:\\\\Users\\\\arturo\\\\proj\n", "arturo"),
    ("joined", "python", "p = os.path.join('/home', 'ingrid', 'x')\n", "ingrid"),
    ("joined Windows", "python", "p = os.path.join('C:\\\\', 'Users', 'tomasz', 'x')\n", "tomasz"),
    ("pathlib joined", "python", "p = Path('/Users') / 'jlopez' / 'x'\n", "jlopez"),
    ("HDFS", "python", "df = spark.read.csv('hdfs:///user/sarah/events')\n", "sarah"),
    ("mail spool", "shell", "cat /var/mail/dpark\n", "dpark"),
    ("in a test", "python", "assert expand('~') == '/home/nikhil'\n", "nikhil"),
]


@pytest.mark.parametrize(
    ("style", "language", "code", "user"), POSITIVE, ids=[p[0] for p in POSITIVE]
)
def test_username_in_path(auditor, style, language, code, user):
    found = run(auditor, code, language)
    assert (user, 1) in named(found, "username-in-path"), found
    (f,) = [f for f in found if f.rule_name == "username-in-path"]
    assert (
        user in f.evidence["path"].replace("\\/", "/")
        or style.startswith("joined")
        or style == "pathlib joined"
    )
    # The location is the user name itself (the snippet shows the line).
    line = code.splitlines()[0]
    assert line[f.column - 1 : f.column - 1 + len(user)] == user or style == "JSON escaped slashes"


NEGATIVE = [
    ("CI runner", "python", "R = '/home/runner/work/app/app'\n"),
    ("cloud image", "shell", "scp a ubuntu@203.0.113.5:/home/ubuntu/a\n"),
    ("ec2", "shell", "cd /home/ec2-user/app\n"),
    ("container", "dockerfile", "WORKDIR /home/node/app\n"),
    ("jupyter", "dockerfile", "COPY nb/ /home/jovyan/work/\n"),
    ("Public", "powershell", "Copy-Item a C:\\Users\\Public\\Documents\\\n"),
    ("Default User", "batch", 'dir "C:\\Users\\Default User\\AppData"\n'),
    ("Shared", "shell", "cp a /Users/Shared/x/\n"),
    ("runneradmin", "powershell", "$c = 'C:\\Users\\runneradmin\\AppData\\Local'\n"),
    ("linuxbrew", "shell", 'eval "$(/home/linuxbrew/.linuxbrew/bin/brew shellenv)"\n'),
    ("Azure app service", "shell", "cd /home/site/wwwroot\n"),
    ("<user>", "python", "p = '/home/<user>/.config'\n"),
    ("{user}", "python", "p = f'/home/{user}/x'\n"),
    ("${USER}", "shell", "cp a /home/${USER}/b\n"),
    ("$USER", "shell", "cp a /home/$USER/b\n"),
    ("%USERNAME%", "batch", "copy a C:\\Users\\%USERNAME%\\Desktop\\\n"),
    ("$env:USERNAME", "powershell", '$d = "C:\\Users\\$env:USERNAME\\Documents"\n'),
    ("your_username", "text", "Put it in /home/your_username/.ssh\n"),
    ("yourname", "markdown", "Clone into /Users/yourname/code\n"),
    ("USERNAME", "shell", "rsync -a ./ /home/USERNAME/backup/\n"),
    ("whoami", "shell", "cd /home/$(whoami)/src\n"),
    ("concatenation", "python", "h = '/home/' + user + '/x'\n"),
    ("format", "python", "h = '/home/%s/.ssh' % login\n"),
    ("$HOME", "shell", "cp a $HOME/.config/\n"),
    ("expanduser", "python", "p = os.path.expanduser('~/.config/app')\n"),
    ("Path.home", "python", "p = Path.home() / '.cache'\n"),
    ("%USERPROFILE%", "batch", "copy a %USERPROFILE%\\Desktop\\\n"),
    ("user.home", "java", 'String h = System.getProperty("user.home");\n'),
    ("system path", "shell", "install tool /usr/local/bin/tool\n"),
    ("opt", "dockerfile", "COPY app /opt/app\n"),
    ("REST route", "javascript", "app.get('/api/users/:id', h);\n"),
    ("numeric route", "javascript", "fetch('/users/123/orders');\n"),
    ("ASP.NET route", "csharp", '[Route("/Users/Login")]\n'),
    ("SPA route", "javascript", "router.push('/home/dashboard');\n"),
    ("URL path", "python", "r = requests.get('https://api.example.com/users/42')\n"),
    ("URL userdir", "python", "# see https://www.cs.example.edu/~knuth/papers.html\n"),
    ("regex", "python", "R = re.compile(r'^/home/[^/]+/')\n"),
    ("glob", "shell", "grep x /home/*/.ssh/authorized_keys\n"),
    ("relative", "python", "f = 'tests/fixtures/users/alice.json'\n"),
    ("webpack tilde", "css", "@import '~bootstrap/scss/variables';\n"),
    ("arithmetic", "python", "y = ~mask/2\n"),
    ("generic dir", "shell", "du -sh /home/projects/genomics\n"),
    ("data disk", "shell", "ls /home/data1/imagenet\n"),
    ("/home alone", "python", "os.listdir('/home')\n"),
    ("UNC without home", "powershell", "Copy-Item a \\\\nas01\\backup\\finance\\\n"),
]


@pytest.mark.parametrize(("kind", "language", "code"), NEGATIVE, ids=[n[0] for n in NEGATIVE])
def test_not_a_person(auditor, kind, language, code):
    found = run(auditor, code, language)
    assert named(found) == [], found


def test_prompt_is_context_only(auditor):
    # The root is in the prompt, the name in the completion: found, on completion line 1.
    (outcome,) = auditor.audit_batch(
        [Suggestion(id="a", prompt="import os\np = '/home/", completion="mkowalski/x.csv'\n")]
    )
    (f,) = outcome.findings
    assert (f.evidence["username"], f.line, f.column) == ("mkowalski", 1, 1)
    # A name only in the prompt is not reported.
    (outcome,) = auditor.audit_batch(
        [Suggestion(id="b", prompt="p = '/home/olga/x'\n", completion="q = p\n")]
    )
    assert outcome.findings == []
    # The suffix completes the last line without being reported.
    (outcome,) = auditor.audit_batch(
        [Suggestion(id="c", completion="p = 'C:\\\\Users\\\\", suffix="bob\\\\x'\nrest\n")]
    )
    assert outcome.findings == []


def test_line_and_column_are_exact_on_later_lines(auditor):
    code = "import os\n\n\ndef f():\n    return open('/Users/dana/x.txt')\n"
    (f,) = run(auditor, code)
    assert (f.line, f.column, f.end_column) == (5, 25, 28)
    assert code.splitlines()[4][f.column - 1 : f.end_column] == "dana"
    assert f.snippet == "    return open('/Users/dana/x.txt')"


def test_crlf_and_form_feed_lines(auditor):
    (f,) = run(auditor, "a = 1\r\n\x0c\r\nb = '/home/qzhang/x'\r\n")
    assert (f.line, f.evidence["username"]) == (3, "qzhang")


def test_fingerprint_survives_line_shift_and_differs_by_user(auditor):
    a = run(auditor, "p = '/home/alice/x'\n")[0]
    b = run(auditor, "\n\n    p = '/home/alice/x'\n")[0]
    c = run(auditor, "p = '/home/bob/x'\n")[0]
    assert a.fingerprint == b.fingerprint != c.fingerprint


# --- other personal data ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "rule", "user"),
    [
        ("git clone ssh://priya@git.acme.io/t.git\n", "username-in-remote", "priya"),
        ("scp a.tar mkowalski@build01.corp:/srv/\n", "username-in-remote", "mkowalski"),
        ("ssh -i key dana.k@bastion.acme.io\n", "username-in-remote", "dana.k"),
        ("ssh -l olga bastion.acme.io\n", "username-in-remote", "olga"),
        (
            "git remote add o https://jsmith@bitbucket.org/team/r.git\n",
            "username-in-remote",
            "jsmith",
        ),
        (
            "Host build\n  HostName build01.acme.io\n  User anguyen\n",
            "username-in-remote",
            "anguyen",
        ),
        (
            "db = 'postgres://lmartin:Xk29fjq1zzPq@db.acme.io/app'\n",
            "credentials-in-url",
            "lmartin",
        ),
        ("e = '41898282+octocat@users.noreply.github.com'\n", "email-address", "octocat"),
    ],
)
def test_every_account_name_is_in_the_evidence(auditor, code, rule, user):
    found = run(auditor, code, language="shell")
    assert (user, 3 if code.startswith("Host") else 1) in named(found, rule), found


@pytest.mark.parametrize(
    "code",
    [
        "git clone git@github.com:acme/tools.git\n",
        "ssh ubuntu@10.0.0.5\n",
        "scp a root@host:/tmp/\n",
        "email = 'someone@example.com'\n",
        "img = 'logo@2x.png'\n",
        "author = 'noreply@acme.io'\n",
        "e = 'user@domain.com'\n",
        "dep = 'lodash@4.17.21'\n",
        "db = 'postgres://app:${DB_PASSWORD}@db:5432/app'\n",
    ],
)
def test_no_account_or_address_reported(auditor, code):
    found = run(auditor, code, language="shell")
    assert [
        f
        for f in found
        if f.rule_name in ("username-in-remote", "email-address", "credentials-in-url")
    ] == [], found


def test_email_role_and_personal(auditor):
    found = run(auditor, "a = 'jane.roe@university.edu'\nb = 'support@acme-corp.io'\n")
    assert [(f.rule_id, f.line, f.severity.label) for f in found] == [
        ("CA104", 1, "medium"),
        ("CA104", 2, "low"),
    ]
    assert found[0].evidence["email"] == "jane.roe@university.edu"


@pytest.mark.parametrize(
    ("code", "rule", "ip"),
    [
        ("API = '52.14.7.201'\n", "CA105", "52.14.7.201"),
        (
            "p = '2a03:2880:f10c:83:face:b00c:0:25de'\n",
            "CA105",
            "2a03:2880:f10c:83:face:b00c:0:25de",
        ),
        ("REDIS = '10.20.30.40:6379'\n", "CA106", "10.20.30.40"),
        ("peer = 'fd12:3456:789a:1::42'\n", "CA106", "fd12:3456:789a:1::42"),
    ],
)
def test_real_network_addresses(auditor, code, rule, ip):
    found = [f for f in run(auditor, code) if f.rule_id in ("CA105", "CA106")]
    assert [(f.rule_id, f.evidence["ip"]) for f in found] == [(rule, ip)]


@pytest.mark.parametrize(
    "code",
    [
        "host = '127.0.0.1'\n",
        "bind = '0.0.0.0'\n",
        "h = '::1'\n",
        "doc = '192.0.2.10'\n",
        "doc = '198.51.100.7'\n",
        "doc = '203.0.113.9'\n",
        "doc6 = '2001:db8::1'\n",
        "mask = '255.255.255.0'\n",
        "ll = '169.254.169.254'\n",
        "__version__ = '1.2.3.4'\n",
        "pkg==1.2.3.4\n",
        '[assembly: AssemblyVersion("1.0.0.1")]\n',
        "VERSION = (2, 4, 1)\n",
        "net = IPv4Network('10.0.0.0/8')\n",
        "# see RFC 9110 section 8.4.1.3\n",
        "oid = '1.3.6.1.4.1.311'\n",
        "dns = '8.8.8.8'\n",
        "mcast = '224.0.0.251'\n",
        "std::vector<int> A::B;\n",
    ],
)
def test_not_a_network_address(auditor, code):
    assert [f for f in run(auditor, code) if f.rule_id in ("CA105", "CA106")] == []


def test_internal_hosts(auditor):
    code = "J = 'https://jira.corp.acme-corp.com/rest'\nlock = threading.local()\nh = 'host.docker.internal'\n"
    found = run(auditor, code)
    assert [(f.rule_id, f.line, f.evidence["host"]) for f in found] == [
        ("CA107", 1, "jira.corp.acme-corp.com")
    ]


# --- secrets never leave the auditor ----------------------------------------------------------------------

TOKEN = "ghp_" + "Zq8RbT4xW2mK9pLs7VnC3dFg6HjY1aUe0oIi"


def test_secret_is_masked_everywhere_and_typed(auditor):
    code = f'TOKEN = "{TOKEN}"\nurl = "https://dana:{TOKEN[4:20]}@ci.acme-corp.io/"\n'
    report = audit([{"id": "s", "completion": code, "language": "python"}], auditors=[auditor])
    text = report.to_json()
    assert TOKEN not in text and TOKEN[4:] not in text and TOKEN[4:20] not in text
    findings = {f.rule_id: f for _, f in report.findings()}
    token = findings["CA203"]
    assert token.evidence["secret_type"] == "GitHub Token" and token.snippet.startswith(
        'TOKEN = "[REDACTED:'
    )
    assert token.column == 10 and token.end_column == 9 + len(TOKEN)
    creds = findings["CA102"]
    assert creds.evidence["username"] == "dana" and "[REDACTED:" in creds.snippet


def test_same_secret_same_fingerprint(auditor):
    a = run(auditor, f'T = "{TOKEN}"\n')[0]
    b = run(auditor, f'\n\n# moved\nTOKEN_B = "{TOKEN}"\n')[0]
    assert a.fingerprint == b.fingerprint and a.evidence["secret_hash"] == b.evidence["secret_hash"]


def test_private_key_body_is_masked(auditor):
    body = "MIIEowIBAAKCAQEAxyz0123456789abcdefABCDEFghij"
    code = f'KEY = """-----BEGIN RSA PRIVATE KEY-----\n{body}\n{body[::-1]}\n-----END RSA PRIVATE KEY-----"""\nSECRET_TOKEN = "{body}"\n'
    report = audit([{"id": "k", "completion": code, "language": "python"}], auditors=[auditor])
    assert body not in report.to_json() and body[::-1] not in report.to_json()
    assert any(f.rule_id == "CA201" and f.line == 1 for _, f in report.findings())


def test_secrets_can_be_turned_off():
    quiet = PrivacyAuditor(config_from_mapping({"privacy": {"secrets": False}}))
    found = run(quiet, f'T = "{TOKEN}"\nP = "/home/alice/x"\n')
    assert [f.rule_id for f in found] == ["CA101"]
    assert quiet.describe()["secrets"] is False


def test_bad_option_is_a_config_error():
    from codeaudit.errors import ConfigError

    with pytest.raises(ConfigError, match=r"\[tool.codeaudit.privacy\].*unknown key 'secret'"):
        PrivacyAuditor(config_from_mapping({"privacy": {"secret": True}}))


# --- through the pipeline -------------------------------------------------------------------------------


def test_allowlist_and_suppression_apply():
    cfg = config_from_mapping({"allowlist": {"usernames": ["build*"]}})
    report = audit(
        [
            {"id": "a", "completion": "p = '/home/buildbox/x'\n"},
            {
                "id": "b",
                "completion": "p = '/home/alice/x'  # codeaudit: ignore[username-in-path]\n",
                "language": "python",
            },
        ],
        cfg,
        auditors=["privacy"],
    )
    assert [
        (f.suppressed, f.evidence["username"]) for _, f in report.findings(include_suppressed=True)
    ] == [("allowlist", "buildbox"), ("inline", "alice")]
    assert not report.failed


def test_unknown_language_and_odd_input_are_audited(auditor):
    assert named(run(auditor, "/home/alice/x\n", language=None)) == [("alice", 1)]
    assert named(run(auditor, "/home/alice/x\n", language="cobol")) == [("alice", 1)]
    assert run(auditor, "", language="python") == []
    assert run(auditor, "\x00\x01\xff binary-ish \ufffd /home/\n", language=None) == []


def test_report_json_shape(auditor):
    report = audit(
        [{"id": "a", "completion": "p = '/home/alice/x'\n"}], Config(), auditors=[auditor]
    )
    (finding,) = json.loads(report.to_json())["results"][0]["findings"]
    assert finding["auditor"] == "privacy" and finding["cwe"] == "CWE-359"
    assert finding["evidence"] == {"username": "alice", "path": "/home/alice/x", "style": "posix"}


@pytest.mark.parametrize(
    "module",
    [
        "codeaudit.auditors.privacy.auditor",
        "codeaudit.auditors.privacy.leakage",
        "codeaudit.auditors.privacy.names",
        "codeaudit.auditors.privacy.network",
        "codeaudit.auditors.privacy.gates",
        "codeaudit.auditors.privacy.secrets",
        "codeaudit.redact",
    ],
)
def test_module_docstring_examples(module):
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(module), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0


if __name__ == "__main__" and "--write-docs" in sys.argv:
    text = DOCS.read_text(encoding="utf-8")
    head, rest = text.split(BEGIN, 1)
    tail = rest.split(END, 1)[1]
    DOCS.write_text(f"{head}{BEGIN}\n\n{render_docs().strip()}\n\n{END}{tail}", encoding="utf-8")
    print(f"wrote {DOCS}")


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        # a one-letter folder is a hash folder only when the name below starts with it
        ('p = "/home/a/alice/x.py"\n', ["alice"]),
        ('p = "/home/u/myvenv/lib/site-packages/pkg/x.py"\n', []),
        # a key path that happens to hold a "Users" segment is not a macOS disk path
        ('ptr = "/definitions/Act/properties/Users/items/minLength"\n', []),
        ('p = "/Volumes/Backup/Users/dana/notes.txt"\n', ["dana"]),
        # prose stand-ins
        ("convert_path('/home/to/my/stuff')\n", []),
        # sentence punctuation ends the name; a service account is no person
        ("# Hadoop is installed in /home/hadoop. Logs go to /home/erin.\n", ["erin"]),
        # accounts on a web site, named in prose, are not folders; a cluster home is
        ('"""Scaling credited to the Reddit users /u/bloc97 and /u/emozilla."""\n', []),
        ('os.chdir("/u/dana")\n', ["dana"]),
        # a home folder named after software, as in test fixtures of interpreters and build tools
        ('argv0 = r"/home/cpython/python"\n', []),
    ],
)
def test_path_shapes_found_on_real_code(code, expected):
    report = audit([{"id": "a", "language": "python", "completion": code}], auditors=["privacy"])
    assert [
        f.evidence["username"] for _, f in report.findings() if f.rule_id == "CA101"
    ] == expected


def test_a_long_literal_full_of_escapes_does_not_backtrack():
    # A literal with many escapes and no closing quote, on a line that also joins path literals,
    # once made the joined-path regex backtrack exponentially (2**escapes; found on the stdlib's
    # test_bz2.py). Run in a child so a regression fails on the timeout instead of hanging the suite.
    import subprocess
    import sys

    line = "p = join('/home', 'a') + b'BZh91" + "\\x8a" * 60 + "\n"
    code = f"from codeaudit import audit\naudit([{{'id': 'a', 'completion': {line!r}}}], auditors=['privacy'])\n"
    subprocess.run([sys.executable, "-c", code], check=True, timeout=30)
