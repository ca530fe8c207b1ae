"""``codeaudit serve``: a completion server that audits every suggestion before an editor sees it."""

from __future__ import annotations

import argparse
import os
import sys

from ..errors import UsageError

HELP = "run a completion server (OpenAI, Copilot-proxy and llama.cpp routes) that audits every suggestion"
DESCRIPTION = """\
Serve code completions from a local model and audit every choice before the editor sees it.
Routes: POST /v1/completions (OpenAI), POST /v1/engines/{engine}/completions (FauxPilot /
Copilot proxy), POST /infill (llama.cpp), GET /v1/models, GET /health, GET /metrics (Prometheus).
Streaming (stream: true) sends server-sent events; a line goes out only once it is complete and
audited. The policy in [tool.codeaudit.serve] decides what a finding does to a choice: block
(finish_reason "content_filter"), redact (secrets and usernames replaced), annotate (findings
under the choice's "codeaudit" key). Every choice is appended to a suggestion log (JSONL, the
batch contract, secrets masked) in the user state folder unless --log/--no-log say otherwise.

Started inside a git repository (or with --repo), it also answers `codeaudit hook` for that
repository over a per-repository Unix socket (mode 0600), warm: same findings and exit code as a
cold run, in less time. --audit-only runs just that, without a model.

--engine replay:FILE answers from recorded suggestions (a batch: matched by exact prompt and
suffix) without a model. Binds to 127.0.0.1 unless --host says otherwise; --api-key (or the
CODEAUDIT_API_KEY environment variable) makes every route but /health require
'Authorization: Bearer <key>'.

exit codes: 0 stopped · 2 usage, configuration, model or input error

requires the serve extra: pip install 'codeaudit[serve]' (and 'codeaudit[generate]' for a model)"""

API_KEY_ENV = "CODEAUDIT_API_KEY"


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", metavar="M", help="model folder, hub id, or 'tiny'")
    p.add_argument(
        "--engine",
        default="auto",
        metavar="E",
        help="torch, torch-int8, onnx, onnx-int8, auto (default), or replay:FILE",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=5000, help="port (default 5000; 0: any free port)")
    p.add_argument(
        "--api-key",
        metavar="KEY",
        help=f"require 'Authorization: Bearer KEY' (default: ${API_KEY_ENV} when set)",
    )
    p.add_argument(
        "--config",
        metavar="FILE",
        help="configuration file (default: nearest .codeaudit.toml or pyproject.toml)",
    )
    p.add_argument(
        "--auditors",
        metavar="LIST",
        help="comma-separated auditors (default: privacy, security, memorization)",
    )
    p.add_argument(
        "--no-audit", action="store_true", help="serve without auditing (for comparison only)"
    )
    log = p.add_mutually_exclusive_group()
    log.add_argument("--log", metavar="FILE", help="suggestion log (default: user state folder)")
    log.add_argument("--no-log", action="store_true", help="keep no suggestion log")
    p.add_argument("--threads", type=int, metavar="K", help="CPU threads for the model")
    p.add_argument("--max-batch", type=int, metavar="B", help="sequences decoded together (16)")
    p.add_argument("--queue", type=int, metavar="Q", help="requests that may wait (default 32)")
    p.add_argument("--timeout", type=float, metavar="S", help="seconds per request (default 60)")
    p.add_argument(
        "--max-tokens", type=int, metavar="L", help="largest max_tokens a request may ask (512)"
    )
    p.add_argument(
        "--prompt-overflow",
        choices=("cut", "error"),
        help="prompts longer than the context: cut from the left at a line (default) or 400",
    )
    p.add_argument(
        "--audit-only",
        action="store_true",
        help="no model and no HTTP: only answer `codeaudit hook` for the repository, warm",
    )
    p.add_argument(
        "--repo",
        metavar="DIR",
        help="repository whose `codeaudit hook` runs this server answers (default: the one around "
        "the current folder, if any)",
    )
    p.add_argument(
        "--no-hook-socket",
        action="store_true",
        help="do not answer `codeaudit hook` over the repository's socket",
    )
    p.add_argument(
        "--cors-origin",
        action="append",
        metavar="ORIGIN",
        help="allow browser requests from ORIGIN (repeatable; default: no CORS)",
    )


def run(args: argparse.Namespace) -> int:
    from importlib.util import find_spec

    missing = [m for m in ("starlette", "uvicorn") if find_spec(m) is None]
    if missing:
        raise UsageError(
            f"codeaudit serve needs the 'serve' extra ({', '.join(missing)} not installed): "
            "pip install 'codeaudit[serve]'"
        )
    from ..config import parse_auditor_list
    from ..registry import auditor_targets
    from ..serve.app import bind, build_app
    from ..serve.setup import build_server, close_server
    from .audit import load_cli_config

    if args.audit_only:
        return run_audit_only(args)
    if not 0 <= args.port <= 65535:
        raise UsageError(f"--port must be between 0 and 65535, not {args.port}")
    config = load_cli_config(args)
    auditors = (
        parse_auditor_list(args.auditors, available=auditor_targets()) if args.auditors else None
    )
    api_key = args.api_key or os.environ.get(API_KEY_ENV) or None
    overrides = {
        "max_batch": args.max_batch,
        "queue": args.queue,
        "timeout": args.timeout,
        "max_tokens": args.max_tokens,
        "prompt_overflow": args.prompt_overflow,
        "cors_origins": args.cors_origin,
    }
    try:
        sock = bind(args.host, args.port)  # a taken port fails before the model loads
    except OSError as exc:
        raise UsageError(
            f"--host {args.host} --port {args.port}: cannot listen there: {exc.strerror or exc}"
        ) from None
    server = build_server(
        engine=args.engine,
        model=args.model,
        config=config,
        overrides=overrides,
        api_key=api_key,
        audit=not args.no_audit,
        auditors=auditors,
        log=False if args.no_log else args.log,
        threads=args.threads,
        status=lambda message: print(f"codeaudit: {message}", file=sys.stderr),
    )
    import asyncio

    import uvicorn

    hook_socket = None if args.no_hook_socket else open_hook_socket(args, required=False)

    host, port = sock.getsockname()[:2]
    loopback = args.host in ("127.0.0.1", "::1", "localhost")
    if not loopback and not api_key:
        print(
            f"codeaudit serve: warning: listening on {args.host} without --api-key: anyone who "
            "can reach this address can use the model",
            file=sys.stderr,
        )
    where = f"[{host}]" if ":" in str(host) else host
    print(
        f"codeaudit serve: {server.backend.model_name} ({server.backend.name}) on "
        f"http://{where}:{port} · auditors: {', '.join(server.auditing.names) or 'none'} · "
        f"log: {server.log.path if server.log else 'off'}",
        file=sys.stderr,
    )
    uv = uvicorn.Server(
        uvicorn.Config(build_app(server), log_level="warning", access_log=False, lifespan="off")
    )
    try:
        asyncio.run(uv.serve(sockets=[sock]))
    finally:
        if hook_socket is not None:
            hook_socket.close()
        close_server(server)
        sock.close()
    return 0


def open_hook_socket(args: argparse.Namespace, *, required: bool):
    """The repository's hook socket, warmed up; ``None`` outside a repository (unless required)."""
    from pathlib import Path

    from ..serve.client import repo_root
    from ..serve.hookserver import HookSocket, warm_up

    root = Path(args.repo).resolve() if args.repo else repo_root()
    if args.repo and not (root / ".git").exists():
        raise UsageError(f"--repo {args.repo}: not a git work tree")
    if root is None:
        if required:
            raise UsageError("--audit-only: not inside a git repository (give --repo DIR)")
        return None
    warm_up()
    from ..serve.setup import freeze_heap

    freeze_heap()
    from .hook import run_cold

    hook_socket = HookSocket(root, run_cold)
    print(
        f"codeaudit serve: answering `codeaudit hook` for {root} ({hook_socket.path})",
        file=sys.stderr,
    )
    return hook_socket


def run_audit_only(args: argparse.Namespace) -> int:
    """``--audit-only``: the warm hook socket, until interrupted or terminated."""
    import signal
    import threading

    hook_socket = open_hook_socket(args, required=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        hook_socket.close()
    return 0
