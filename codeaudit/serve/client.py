"""The warm hook's client: find a running ``codeaudit serve`` for this repository and let it audit.

A server started inside a git repository (``codeaudit serve``, or the model-less ``codeaudit serve
--audit-only``) listens on a per-repository Unix socket (mode 0600, in a 0700 folder of the
user's runtime directory). ``codeaudit hook`` finds it and sends its arguments, working folder
and environment; the server runs the very same hook code in a process forked from its warm state
(modules imported, caches filled) and sends back the exit code and output. Without a server, or
when anything about it is wrong (not ours, not a socket, not answering), the hook runs cold as
always. ``CODEAUDIT_NO_SERVER=1`` forces a cold run.

This module is imported by the hook on every run: it imports nothing beyond the standard library.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import stat
import sys
import tempfile
from pathlib import Path
from typing import Any

#: Seconds the hook waits for a warm server's answer before giving up on it (then runs cold).
TIMEOUT = 300.0
ENV_OFF = "CODEAUDIT_NO_SERVER"


def socket_folder() -> Path:
    """``$XDG_RUNTIME_DIR/codeaudit``, else ``<tmp>/codeaudit-<uid>`` (both mode 0700)."""
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime and Path(runtime).is_dir():
        return Path(runtime) / "codeaudit"
    return Path(tempfile.gettempdir()) / f"codeaudit-{os.getuid()}"


def socket_path(repo_root: str | os.PathLike[str]) -> Path:
    """The socket of the server for ``repo_root`` (its resolved path, hashed: short and fixed)."""
    key = hashlib.sha256(str(Path(repo_root).resolve()).encode("utf-8", "surrogatepass"))
    return socket_folder() / f"hook-{key.hexdigest()[:20]}.sock"


def repo_root(start: Path | None = None) -> Path | None:
    """The work tree's top folder (the nearest folder holding ``.git``), without running git."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / ".git").exists():
            return folder
    return None


def find_server(root: str | os.PathLike[str]) -> Path | None:
    """The socket of a server for this repository that this user owns, or ``None``."""
    path = socket_path(root)
    try:
        info = path.lstat()
        folder = path.parent.lstat()
    except OSError:
        return None
    if not stat.S_ISSOCK(info.st_mode) or info.st_uid != os.getuid():
        return None
    if info.st_mode & 0o077 or folder.st_uid != os.getuid() or folder.st_mode & 0o077:
        return None  # someone else could reach it, or could have put it there
    return path


def audit_via_server(
    path: Path,
    args: dict[str, Any],
    *,
    cwd: str | None = None,
    env: dict[str, str] | None = None,
    timeout: float = TIMEOUT,
) -> tuple[int, str, str] | None:
    """Send a hook run to the server at ``path``; ``(exit code, stdout, stderr)`` or ``None``."""
    request = {
        "kind": "hook",
        "args": args,
        "cwd": cwd or os.getcwd(),
        "env": dict(os.environ if env is None else env),
    }
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout)
            sock.connect(str(path))
            sock.sendall(json.dumps(request).encode("utf-8", "surrogatepass"))
            sock.shutdown(socket.SHUT_WR)
            chunks = []
            while True:
                chunk = sock.recv(1 << 16)
                if not chunk:
                    break
                chunks.append(chunk)
        answer = json.loads(b"".join(chunks))
        code = answer["code"]
        if not isinstance(code, int):
            return None
        return code, str(answer.get("stdout", "")), str(answer.get("stderr", ""))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def warm_hook(args: Any) -> int | None:
    """For ``codeaudit hook``: the exit code of a run done by a warm server, or ``None`` (run cold)."""
    if os.environ.get(ENV_OFF):
        return None
    root = repo_root()
    if root is None:
        return None
    path = find_server(root)
    if path is None:
        return None
    fields = {k: v for k, v in vars(args).items() if not k.startswith("_") and k != "command"}
    answer = audit_via_server(path, fields)
    if answer is None:
        return None
    code, out, err = answer
    sys.stdout.write(out)
    sys.stdout.flush()
    sys.stderr.write(err)
    return code
