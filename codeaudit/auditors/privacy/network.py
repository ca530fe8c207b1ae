"""Public IP addresses and internal host names (detectors of :mod:`.leakage`)."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator

from codeaudit.auditors.privacy.leaktext import Leak

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
