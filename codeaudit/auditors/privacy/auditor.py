"""The privacy auditor: personal data (CA1xx) and secrets (CA2xx) in generated code.

Personal data comes from :mod:`codeaudit.auditors.privacy.leakage` (user names in paths and remotes,
credentials in URLs, e-mail and IP addresses, internal host names); secrets from detect-secrets'
own plug-ins, run in process by :class:`~codeaudit.auditors.privacy.secrets.SecretScanner`. Both see the
completion together with the rest of its first and last lines (so ``"/home/`` + ``alice/…"`` split
at the cursor is still a path), and only what lies in the completion is reported.

Every finding that reveals a person's account name carries it as ``evidence["username"]``. A
secret never leaves the auditor: snippets, messages and evidence show ``[REDACTED:<hash>]``.

>>> from codeaudit.model import Suggestion
>>> auditor = PrivacyAuditor()
>>> (outcome,) = auditor.audit_batch([Suggestion(id="a", completion="log = '/Users/dana/app.log'\\n")])
>>> [(f.rule_id, f.line, f.column, f.evidence["username"]) for f in outcome.findings]
[('CA101', 1, 15, 'dana')]
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from codeaudit import languages
from codeaudit.auditors.base import Auditor, Outcome
from codeaudit.context import CodeContext, line_starts
from codeaudit.model import Confidence, Finding, Severity, Suggestion
from codeaudit.redact import Masker, mask, redact_spans, redact_values, secret_hash
from codeaudit.registry import Rule

_CWE_PRIVATE = 359  # Exposure of Private Personal Information to an Unauthorized Actor
_CWE_EXPOSURE = 200  # Exposure of Sensitive Information to an Unauthorized Actor
_CWE_CREDENTIALS = 798  # Use of Hard-coded Credentials


def _cwe(n: int) -> str:
    return f"https://cwe.mitre.org/data/definitions/{n}.html"


_RULES: tuple[Rule, ...] = (
    Rule(
        id="CA101",
        name="username-in-path",
        auditor="privacy",
        title="A person's user name inside an absolute path",
        severity=Severity.MEDIUM,
        confidence=Confidence.HIGH,
        cwe=_CWE_PRIVATE,
        description=(
            "An absolute path that runs through somebody's home folder names their account: "
            "`/home/alice/`, `/Users/alice/`, `C:\\Users\\alice\\` (also written `C:/Users/…` or "
            "`C:\\\\Users\\\\…` inside a string literal), `/mnt/c/Users/alice/` under WSL, "
            "`/c/Users/alice/` in Git Bash, `~alice/`, UNC home shares (`\\\\server\\home$\\alice`), "
            "and cluster homes and scratch space (`/u/alice`, `/scratch/alice`, `/nfs/home/alice`, "
            "`/afs/<cell>/user/a/alice`, `/global/homes/a/alice`, `/work/01234/alice`).\n\n"
            "Code models reproduce paths from their training data, so a suggestion can carry a "
            "real person's account name into your code base; in your own code such a path also "
            "breaks on every other machine. Shared and service accounts (`root`, `ubuntu`, "
            "`runner`, `ec2-user`, `Public`, `Default`, `jovyan` …) and placeholders (`<user>`, "
            "`${USER}`, `%USERNAME%`, `your_username`, f-string fields …) are not people and are "
            "not reported. The finding's evidence holds `username` and `path`."
        ),
        fix=(
            "Build the path from the running user's home folder (`Path.home()`, "
            "`os.path.expanduser('~')`, `$HOME`, `%USERPROFILE%`) or read it from configuration."
        ),
        bad_example='DATA = "/home/mkowalski/projects/churn/data"\nbook = load_workbook(r"C:\\Users\\jdoe\\Documents\\q3.xlsx")',
        good_example='DATA = Path.home() / "projects" / "churn" / "data"\nbook = load_workbook(Path(os.environ["REPORTS_DIR"]) / "q3.xlsx")',
        references=(
            _cwe(_CWE_PRIVATE),
            "https://docs.python.org/3/library/pathlib.html#pathlib.Path.home",
            "https://learn.microsoft.com/en-us/windows/win32/shell/knownfolderid",
        ),
        examples={
            "bad": (
                "cfg = open('/home/alice/.config/tool.toml')",
                'var dir = "C:\\\\Users\\\\tnguyen\\\\AppData\\\\Local";',
                "rsync -a /mnt/c/Users/lucas.moreau/Pictures/ backup/",
                "setwd('/Users/priya.raman/analysis')",
                "OUT=/scratch/jsmith/run42",
            ),
            "good": (
                "cfg = Path.home() / '.config' / 'tool.toml'",
                "cd /home/runner/work/app/app",
                "open(f'/home/{user}/notes.txt')",
                "copy %USERPROFILE%\\Documents\\a.txt C:\\Users\\Public\\a.txt",
                "router.push('/home/dashboard')",
            ),
        },
    ),
    Rule(
        id="CA102",
        name="credentials-in-url",
        auditor="privacy",
        title="A password inside a URL",
        severity=Severity.HIGH,
        confidence=Confidence.HIGH,
        cwe=_CWE_CREDENTIALS,
        description=(
            "A URL of the form `scheme://user:password@host` carries a password in clear text "
            "(database URLs, proxies, git remotes, message brokers). Anyone who reads the code, its "
            "history or its logs can use it. Obvious stand-ins (`:password@`, `:${DB_PASSWORD}@`, "
            "`:****@`) are reported at low severity. The password is masked in the report; a user "
            "name, when it is a person's, is kept as `evidence.username`."
        ),
        fix="Keep the URL without the password and supply the credentials from the environment or a secret store.",
        bad_example='DB = "postgres://orders:Winter2023Inventory!@db.prod.example.net:5432/orders"',
        good_example='DB = os.environ["DATABASE_URL"]',
        references=(
            _cwe(_CWE_CREDENTIALS),
            "https://datatracker.ietf.org/doc/html/rfc3986#section-3.2.1",
        ),
        examples={
            "bad": (
                "amqp://svc:Xk29-fjq1zz@mq.acme.io:5672/",
                "proxy = 'http://dana:S3cretPass@proxy.acme.io:3128'",
            ),
            "good": ("db = 'postgres://app@db:5432/app'", "url = 'https://api.github.com/repos'"),
        },
    ),
    Rule(
        id="CA103",
        name="username-in-remote",
        auditor="privacy",
        title="A person's user name in a remote, URL or ssh target",
        severity=Severity.MEDIUM,
        confidence=Confidence.MEDIUM,
        cwe=_CWE_PRIVATE,
        description=(
            "`ssh alice@host`, `scp f alice@host:/tmp`, `ssh://alice@git.acme.io/repo.git`, "
            "`https://alice@bitbucket.org/team/repo.git` or a `User alice` line in an ssh "
            "configuration names the account someone logs in with. The shared `git@` user of code "
            "hosts and generic accounts (`ubuntu@`, `ec2-user@`, `root@` …) are not reported."
        ),
        fix="Let the user's own ssh configuration or credential helper supply the login name, or use a configured variable.",
        bad_example="git remote add origin ssh://priya@git.acme.io/tools.git\nscp dist.tar mkowalski@build01:/srv/releases/",
        good_example='git remote add origin git@github.com:acme/tools.git\nscp dist.tar "$DEPLOY_USER@build01:/srv/releases/"',
        references=(_cwe(_CWE_PRIVATE), "https://man.openbsd.org/ssh_config#User"),
        examples={
            "bad": ("ssh dana.k@bastion.acme.io", "git clone ssh://priya@git.acme.io/tools.git"),
            "good": ("git clone git@github.com:acme/tools.git", "ssh ubuntu@10.0.0.5"),
        },
    ),
    Rule(
        id="CA104",
        name="email-address",
        auditor="privacy",
        title="A person's e-mail address",
        severity=Severity.MEDIUM,
        confidence=Confidence.HIGH,
        cwe=_CWE_PRIVATE,
        description=(
            "An e-mail address in generated code is usually an author's or a customer's, copied "
            "from training data. Addresses at documentation domains (`example.com`, `*.test` …), "
            "obvious stand-ins (`user@`, `john.doe@`) and no-reply forms are not reported; role "
            "addresses (`support@`, `security@` …) are reported at low severity. A GitHub or "
            "GitLab no-reply address (`12345+alice@users.noreply.github.com`) still names an "
            "account and is reported with `evidence.username`."
        ),
        fix="Use a documentation address (`user@example.com`) in examples, or read the address from configuration.",
        bad_example="__author__ = 'Jane Roe <jane.roe@university.edu>'",
        good_example="__author__ = 'Example Author <author@example.com>'",
        references=(
            _cwe(_CWE_PRIVATE),
            "https://datatracker.ietf.org/doc/html/rfc2606",
            "https://docs.github.com/en/account-and-profile/setting-up-and-managing-your-personal-account-on-github/managing-email-preferences/setting-your-commit-email-address",
        ),
        examples={
            "bad": (
                "# contact: m.kowalski@gmail.com",
                "COMMIT_EMAIL = '41898282+octocat@users.noreply.github.com'",
            ),
            "good": (
                "email = 'someone@example.com'",
                "img = 'logo@2x.png'",
                "author = 'noreply@acme.io'",
            ),
        },
    ),
    Rule(
        id="CA105",
        name="public-ip-address",
        auditor="privacy",
        title="A public IP address",
        severity=Severity.MEDIUM,
        confidence=Confidence.MEDIUM,
        cwe=_CWE_EXPOSURE,
        description=(
            "A public IPv4 or IPv6 address points at a real machine on the internet — often a "
            "server or a home connection from the training data. Loopback, unspecified, link-local, "
            "multicast and reserved addresses, the documentation ranges (192.0.2.0/24, "
            "198.51.100.0/24, 203.0.113.0/24, 2001:db8::/32), netmasks, well-known public resolvers "
            "and version numbers (`__version__ = '1.2.3.4'`, `pkg==1.2.3.4`) are not reported. "
            "detect-secrets' *Public IP (ipv4)* plug-in feeds this rule (its type is in the evidence)."
        ),
        fix="Use a host name from configuration, or a documentation address (203.0.113.10) in examples.",
        bad_example='API_HOST = "52.14.7.201"',
        good_example='API_HOST = os.environ.get("API_HOST", "203.0.113.10")',
        references=(
            _cwe(_CWE_EXPOSURE),
            "https://datatracker.ietf.org/doc/html/rfc5737",
            "https://datatracker.ietf.org/doc/html/rfc3849",
        ),
        examples={
            "bad": ("server = '52.14.7.201'", "peer = '2a03:2880:f10c:83:face:b00c:0:25de'"),
            "good": (
                "host = '127.0.0.1'",
                "__version__ = '1.2.3.4'",
                "mask = '255.255.255.0'",
                "dns = '8.8.8.8'",
            ),
        },
    ),
    Rule(
        id="CA106",
        name="private-ip-address",
        auditor="privacy",
        title="An address inside a private network",
        severity=Severity.LOW,
        confidence=Confidence.MEDIUM,
        cwe=_CWE_EXPOSURE,
        description=(
            "An RFC 1918 (10/8, 172.16/12, 192.168/16), carrier-grade NAT (100.64/10) or unique "
            "local IPv6 (fc00::/7) address describes somebody's internal network layout. It is not "
            "reachable from outside, hence the low severity."
        ),
        fix="Read addresses from configuration or service discovery.",
        bad_example='REDIS = "10.20.30.40"',
        good_example='REDIS = os.environ["REDIS_HOST"]',
        references=(_cwe(_CWE_EXPOSURE), "https://datatracker.ietf.org/doc/html/rfc1918"),
        examples={"bad": ("REDIS = '10.20.30.40'",), "good": ("bind = '0.0.0.0'",)},
    ),
    Rule(
        id="CA107",
        name="internal-hostname",
        auditor="privacy",
        title="An internal host name",
        severity=Severity.LOW,
        confidence=Confidence.MEDIUM,
        cwe=_CWE_EXPOSURE,
        description=(
            "Host names under private suffixes (`.corp`, `.internal`, `.intranet`, `.lan`, "
            "`.local`, `.home.arpa` …) or with an internal label (`jira.corp.acme.com`, "
            "`intranet.acme.com`) name an organisation's internal machines. Standard names "
            "(`host.docker.internal`, `*.svc.cluster.local`, `metadata.google.internal`) are not "
            "reported; in code, only host names inside string literals or URLs count "
            "(`threading.local` is an attribute, not a host)."
        ),
        fix="Move host names to configuration.",
        bad_example='JIRA = "https://jira.corp.acme.com/rest/api/2"',
        good_example='JIRA = os.environ["JIRA_URL"]',
        references=(
            _cwe(_CWE_EXPOSURE),
            "https://datatracker.ietf.org/doc/html/rfc6762",
            "https://datatracker.ietf.org/doc/html/rfc8375",
        ),
        examples={
            "bad": ("url = 'http://build01.corp:8080/job/nightly'", "DB_HOST = 'pg-main.internal'"),
            "good": ("lock = threading.local()", "host = 'host.docker.internal'"),
        },
    ),
    Rule(
        id="CA201",
        name="private-key",
        auditor="privacy",
        title="A private key",
        severity=Severity.CRITICAL,
        confidence=Confidence.HIGH,
        cwe=321,  # Use of Hard-coded Cryptographic Key
        description=(
            "A PEM, OpenSSH, PGP or PuTTY private key block (detect-secrets' *Private Key* "
            "plug-in). Whoever holds it can impersonate its owner or decrypt their traffic."
        ),
        fix="Remove the key, revoke it, and load keys from files outside the repository or a secret store.",
        bad_example='KEY = """-----BEGIN RSA PRIVATE KEY-----\nMIIEow…"""',
        good_example='KEY = Path(os.environ["SIGNING_KEY_FILE"]).read_text()',
        references=(
            _cwe(321),
            "https://github.com/Yelp/detect-secrets#currently-supported-plugins",
        ),
        examples={
            "bad": ("-----BEGIN OPENSSH PRIVATE KEY-----",),
            "good": ("key = load_pem_private_key(data, None)",),
        },
    ),
    Rule(
        id="CA202",
        name="cloud-credential",
        auditor="privacy",
        title="A cloud provider credential",
        severity=Severity.HIGH,
        confidence=Confidence.HIGH,
        cwe=_CWE_CREDENTIALS,
        description=(
            "An access key or secret of a cloud platform: AWS, Azure Storage, IBM Cloud IAM and "
            "COS HMAC, SoftLayer, Cloudant, Artifactory (detect-secrets' plug-ins of those names). "
            "The plug-in's secret type is in `evidence.secret_type`."
        ),
        fix="Revoke the key and use the platform's role-based credentials or a secret store.",
        bad_example="s3 = boto3.client('s3', aws_access_key_id='AKIA…', aws_secret_access_key='…')",
        good_example="s3 = boto3.client('s3')  # credentials from the instance role or the environment",
        references=(
            _cwe(_CWE_CREDENTIALS),
            "https://docs.aws.amazon.com/IAM/latest/UserGuide/best-practices.html",
        ),
    ),
    Rule(
        id="CA203",
        name="service-token",
        auditor="privacy",
        title="An API token of a known service",
        severity=Severity.HIGH,
        confidence=Confidence.HIGH,
        cwe=_CWE_CREDENTIALS,
        description=(
            "A token in a recognisable format: GitHub, GitLab, Slack, Stripe, Twilio, SendGrid, "
            "Mailchimp, npm, PyPI, OpenAI, Discord, Telegram, Square, JSON Web Tokens, and any "
            "other detect-secrets plug-in that recognises a token format."
        ),
        fix="Revoke the token and load it from the environment or a secret store at run time.",
        bad_example='GITHUB_TOKEN = "ghp_…"',
        good_example='GITHUB_TOKEN = os.environ["GITHUB_TOKEN"]',
        references=(
            _cwe(_CWE_CREDENTIALS),
            "https://github.com/Yelp/detect-secrets#currently-supported-plugins",
        ),
    ),
    Rule(
        id="CA204",
        name="secret-assignment",
        auditor="privacy",
        title="A password or secret assigned in code",
        severity=Severity.MEDIUM,
        confidence=Confidence.MEDIUM,
        cwe=259,  # Use of Hard-coded Password
        description=(
            "A literal assigned to or compared with a secret-sounding name (`password`, `api_key`, "
            "`secret`, `pwd` …), found by detect-secrets' *Secret Keyword* plug-in with its "
            "per-language patterns and filters (`get_password()`, `${VAR}`, `<token>` are skipped)."
        ),
        fix="Read the value from the environment or a secret store.",
        bad_example='db_password = "Tr1cky-Pa55word"',
        good_example='db_password = os.environ["DB_PASSWORD"]',
        references=(
            _cwe(259),
            "https://cheatsheetseries.owasp.org/cheatsheets/Secrets_Management_Cheat_Sheet.html",
        ),
        examples={
            "bad": ('db_password = "Tr1cky-Pa55word"',),
            "good": ('db_password = os.environ["DB_PASSWORD"]',),
        },
    ),
    Rule(
        id="CA205",
        name="high-entropy-string",
        auditor="privacy",
        title="A random-looking string that may be a secret",
        severity=Severity.LOW,
        confidence=Confidence.LOW,
        cwe=_CWE_CREDENTIALS,
        description=(
            "A quoted base64 or hex string whose Shannon entropy exceeds detect-secrets' limits "
            "(4.5 and 3.0 bits per character). Many are hashes or test vectors, hence the low "
            "severity and confidence; some are keys."
        ),
        fix="If it is a secret, revoke it and load it at run time; if it is a checksum, say so in a comment and suppress the finding.",
        bad_example='SIGNING_SECRET = "q8Yv3LmZ0pR7sT2wX9aB4cD6eF1gH5jK"',
        good_example='SIGNING_SECRET = os.environ["SIGNING_SECRET"]',
        references=(
            _cwe(_CWE_CREDENTIALS),
            "https://github.com/Yelp/detect-secrets#currently-supported-plugins",
        ),
    ),
)

#: detect-secrets' secret types -> our rule. Types not listed (new or custom plug-ins) are CA203.
SECRET_RULES: Mapping[str, str] = {
    "Private Key": "CA201",
    "AWS Access Key": "CA202",
    "Azure Storage Account access key": "CA202",
    "IBM Cloud IAM Key": "CA202",
    "IBM COS HMAC Credentials": "CA202",
    "SoftLayer Credentials": "CA202",
    "Cloudant Credentials": "CA202",
    "Artifactory Credentials": "CA202",
    "Secret Keyword": "CA204",
    "Base64 High Entropy String": "CA205",
    "Hex High Entropy String": "CA205",
    "Basic Auth Credentials": "CA102",
    "Public IP (ipv4)": "CA105",
}
#: Which rule wins when several plug-ins report the same secret: the most specific one.
_PRIORITY = ("CA201", "CA202", "CA203", "CA102", "CA204", "CA205", "CA105")
_RULE_BY_NAME = {r.name: r for r in _RULES}

#: Extensions that make detect-secrets pick the right per-language patterns for a suggestion.
_FILENAMES = {"dockerfile": "Dockerfile", "makefile": "Makefile"}


def _filename(s: Suggestion) -> str:
    if s.path:
        return s.path.replace("\\", "/").rsplit("/", 1)[-1] or "suggestion"
    lang = languages.LANGUAGES.get(s.language or "")
    if lang is None:
        return "suggestion"
    if lang.name in _FILENAMES:
        return _FILENAMES[lang.name]
    return "suggestion" + (lang.extensions[0] if lang.extensions else "")


class PrivacyAuditor(Auditor):
    """Personal data and secrets. Options (``[tool.codeaudit.privacy]``):

    * ``secrets`` (default ``true``): run detect-secrets' plug-ins (CA2xx);
    * ``context`` (default ``true``): read the rest of the first and last line from the prompt and
      suffix, so a path split at the cursor is still seen whole.
    """

    name = "privacy"
    options_spec: ClassVar[Mapping[str, Any]] = {"secrets": True, "context": True}

    def __init__(self, config=None) -> None:
        super().__init__(config)
        self._scanner = None

    @classmethod
    def rules(cls) -> Sequence[Rule]:
        return _RULES

    def describe(self) -> Mapping[str, Any]:
        from importlib.metadata import PackageNotFoundError, version

        out: dict[str, Any] = {"secrets": bool(self.options["secrets"])}
        if self.options["secrets"]:
            try:
                out["detect_secrets"] = version("detect-secrets")
            except PackageNotFoundError:  # pragma: no cover - a core dependency
                out["detect_secrets"] = None
            if self._scanner is not None:
                out["plugins"] = self._scanner.plugin_names()
        return out

    # -- one suggestion ------------------------------------------------------------------------
    def audit_one(self, s: Suggestion) -> Outcome:
        """Audit one suggestion (what :meth:`audit_batch` does for each)."""
        from codeaudit.auditors.privacy.leakage import find_leaks, judge_ipv4

        ctx = self._context(s)
        text = ctx.text
        leaks = find_leaks(text, s.language)
        raw = self._secrets(s, text) if self.options["secrets"] else []

        # Where each secret sits: (start, end) in the text, or the whole line when a transformer
        # (INI/YAML parsing) reported a value that is not written verbatim on its line.
        located: dict[tuple[int, int], list[Any]] = {}
        starts = line_starts(text) if raw else []
        extra_masks: list[tuple[int, int]] = []
        for secret in raw:
            line_start = starts[secret.line - 1]
            line_end = starts[secret.line] if secret.line < len(starts) else len(text)
            span = None
            for needle in (secret.match, secret.value):
                idx = text.find(needle, line_start, line_end) if needle else -1
                if idx >= 0:
                    span = (idx, idx + len(needle))
                    break
            if span is None:  # a transformer (INI/YAML) rewrote the line: hide all of it
                span = (line_start, line_end)
            located.setdefault(span, []).append(secret)
            if secret.secret_type == "Private Key":
                extra_masks.append((span[0], _key_block_end(text, span[1])))
        masks = [span for span in located] + extra_masks + [m for leak in leaks for m in leak.mask]
        values = Masker.of_values(
            [sec.value for group in located.values() for sec in group]
            + [text[a:b] for a, b in located]
        )

        findings: list[Finding] = []
        snippets: dict[
            tuple[int, int], str
        ] = {}  # one per line range: a minified line holds thousands of findings

        def add(
            rule_id: str,
            focus: tuple[int, int],
            *,
            evidence: dict[str, Any],
            message: str,
            identity: str,
            confidence: str | None = None,
            severity: str | None = None,
        ) -> None:
            where = ctx.completion_span(*focus)
            if where is None:
                return  # in the prompt or suffix: context only
            line, col, end_line, end_col = where
            snippet = snippets.get((line, end_line))
            if snippet is None:
                snippet = snippets[line, end_line] = self._snippet(
                    ctx, line, end_line, masks, values
                )
            findings.append(
                self.finding(
                    s,
                    rule_id,
                    line=line,
                    end_line=end_line,
                    column=col,
                    end_column=end_col,
                    message=redact_values(message, values),
                    evidence=evidence,
                    identity=identity,
                    snippet=snippet,
                    confidence=Confidence.parse(confidence) if confidence else None,
                    severity=Severity.parse(severity) if severity else None,
                )
            )

        # Personal data; URL credentials and IP addresses absorb the matching plug-in reports.
        for leak in leaks:
            rule = _RULE_BY_NAME[leak.rule]
            evidence = dict(leak.evidence)
            for span, group in list(located.items()):
                if not (span[0] < leak.end and leak.start < span[1]):
                    continue
                types = {sec.secret_type for sec in group}
                if (rule.id == "CA102" and "Basic Auth Credentials" in types) or (
                    rule.id in ("CA105", "CA106") and "Public IP (ipv4)" in types
                ):
                    evidence["secret_types"] = sorted(types)
                    if rule.id == "CA102":
                        evidence["secret_hash"] = secret_hash(group[0].value)
                    del located[span]
            evidence = {
                k: (redact_values(v, values) if isinstance(v, str) and k != "secret_hash" else v)
                for k, v in evidence.items()
            }
            identity = "\0".join(
                str(evidence.get(k, "")) for k in ("username", "path", "email", "ip", "host")
            )
            if rule.id == "CA102":
                identity = "\0".join((identity, secret_hash(leak_text(text, leak))))
            add(
                rule.id,
                leak.focus,
                evidence=evidence,
                message=leak.message,
                identity=identity,
                confidence=leak.confidence,
                severity=leak.severity,
            )

        # Secrets the plug-ins reported that no personal-data rule absorbed.
        excluded: list[dict[str, Any]] = []
        for span, group in located.items():
            types = sorted({sec.secret_type for sec in group})
            rule_id = min((SECRET_RULES.get(t, "CA203") for t in types), key=_PRIORITY.index)
            value = text[
                span[0] : span[1]
            ]  # the whole token, not just the group a plug-in reported
            if rule_id == "CA105":
                # The IP plug-in also reports 0.0.0.0, netmasks and version numbers; only real
                # network addresses are reported (see CA105).
                address = group[0].value.split(":")[0]
                line_start = starts[group[0].line - 1]
                line_end = starts[group[0].line] if group[0].line < len(starts) else len(text)
                verdict = judge_ipv4(
                    text[line_start:line_end].rstrip("\r\n"),
                    span[0] - line_start,
                    span[0] - line_start + len(address),
                )
                if isinstance(verdict, str):
                    where = ctx.completion_span(*span)
                    if where:
                        excluded.append(
                            {
                                "line": where[0],
                                "ip": address,
                                "secret_type": "Public IP (ipv4)",
                                "reason": verdict,
                            }
                        )
                    continue
                scope = verdict
                rule_id = "CA105" if scope[0] == "public" else "CA106"
                add(
                    rule_id,
                    span,
                    evidence={
                        "ip": scope[1],
                        "version": 4,
                        "scope": scope[0],
                        "secret_types": types,
                    },
                    message=f"the {scope[0]} IPv4 address {scope[1]}",
                    identity=scope[1],
                )
                continue
            hashed = secret_hash(value)
            evidence = {
                "secret_type": types[0] if len(types) == 1 else _preferred_type(types),
                "secret_types": types,
                "secret_hash": hashed,
                "masked": mask(value),
            }
            label = evidence["secret_type"]
            add(
                rule_id, span, evidence=evidence, message=f"{label}: {mask(value)}", identity=hashed
            )
        # Plug-in reports left out on purpose stay visible in the report (results[].auditors.privacy).
        return Outcome(findings=findings, data={"excluded_reports": excluded} if excluded else {})

    def _context(self, s: Suggestion) -> CodeContext:
        if not self.options["context"]:
            return CodeContext.build(completion=s.completion)
        prompt, suffix = s.prompt, s.suffix
        cut = max(prompt.rfind("\n"), prompt.rfind("\r"))
        tail = prompt[cut + 1 :]
        ends = [i for i in (suffix.find("\n"), suffix.find("\r")) if i >= 0]
        head = suffix[: min(ends)] if ends else suffix
        return CodeContext.build(prompt=tail, completion=s.completion, suffix=head)

    def _secrets(self, s: Suggestion, text: str) -> list[Any]:
        if self._scanner is None:
            from codeaudit.auditors.privacy.secrets import SecretScanner

            self._scanner = SecretScanner()
        return self._scanner.scan(text, _filename(s))

    @staticmethod
    def _snippet(
        ctx: CodeContext, line: int, end_line: int, masks: list[tuple[int, int]], values: Masker
    ) -> str:
        """The flagged completion lines with every secret masked."""
        lo = max(ctx.start, ctx.offset(ctx.first_line + line - 1, 1))
        last = ctx.first_line + min(end_line, line + 11) - 1  # text line of the last snippet line
        hi = ctx.offset(last, 1)
        while hi < ctx.end and ctx.text[hi] not in "\r\n":
            hi += 1
        hi = min(hi, ctx.end)
        spans = [(max(a, lo) - lo, min(b, hi) - lo) for a, b in masks if a < hi and lo < b]
        snippet = redact_spans(ctx.text[lo:hi], spans).rstrip("\r\n")
        snippet = redact_values(snippet, values)
        return snippet if len(snippet) <= 2000 else snippet[:1999] + "…"


_KEY_END = re.compile(r"-----END[ A-Z0-9]*-----|---- END SSH2|Private-MAC:")
_KEY_BODY = re.compile(r"""^[\s"'`,+]*[A-Za-z0-9+/=:\\-]{16,}[\s"'`,;+\\n]*$""")


def _key_block_end(text: str, start: int) -> int:
    """Where the body of a private key that begins at ``start`` ends (its END line, or its last body line)."""
    m = _KEY_END.search(text, start, start + 20_000)
    if m:
        nl = text.find("\n", m.end())
        return len(text) if nl < 0 else nl
    end = text.find("\n", start)
    while 0 <= end < len(text):
        nxt = text.find("\n", end + 1)
        line = text[end + 1 : nxt if nxt >= 0 else len(text)]
        if not _KEY_BODY.match(line):
            break
        end = nxt if nxt >= 0 else len(text)
    return len(text) if end < 0 else end


def leak_text(text: str, leak: Any) -> str:
    return text[leak.focus[0] : leak.focus[1]]


def _preferred_type(types: list[str]) -> str:
    """The most specific of several plug-in types reporting one secret."""
    return min(types, key=lambda t: (_PRIORITY.index(SECRET_RULES.get(t, "CA203")), t))
