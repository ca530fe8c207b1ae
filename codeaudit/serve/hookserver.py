"""The warm hook's server side: a per-repository Unix socket answered by forks of a warm process.

Each connection carries one ``codeaudit hook`` run (its parsed arguments, working folder and
environment, from :mod:`codeaudit.serve.client`). The server forks; the child takes the client's
folder and environment and runs :func:`codeaudit.cli.hook.run_cold` exactly as the command would, with
the command's error handling, and sends back the exit code and what it printed. The parent
keeps nothing of the run, so there is no result cache across runs: every run reads the
repository afresh. Only connections from this user are served (``SO_PEERCRED``).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import socket
import struct
import sys
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path

from ..errors import UsageError
from .client import socket_path

MAX_REQUEST_BYTES = 8_000_000


def warm_up() -> None:
    """Import and exercise what a hook run uses, so forks start warm."""
    from ..change import hook
    from ..config import Config

    with tempfile.TemporaryDirectory() as tmp:
        sample = Path(tmp) / "warm.py"
        sample.write_text(
            "import subprocess\n\n\ndef run(cmd):\n"
            "    return subprocess.call(cmd, shell=True)  # /home/someone/x\n"
        )
        hook.audit_paths([str(sample)], config=Config(), parallel=False)


class HookSocket:
    """Listens on the repository's socket until :meth:`close`."""

    def __init__(self, repo_root: Path, runner: Callable[[argparse.Namespace], int]) -> None:
        #: Runs one cold ``codeaudit hook`` from its parsed arguments (the CLI passes its own).
        self.runner = runner
        self.repo_root = repo_root.resolve()
        self.path = socket_path(self.repo_root)
        folder = self.path.parent
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        if folder.stat().st_uid != os.getuid() or folder.stat().st_mode & 0o077:
            raise UsageError(f"{folder}: must be a folder of this user with mode 0700")
        if self.path.exists() or self.path.is_symlink():
            if _answers(self.path):
                raise UsageError(
                    f"another codeaudit serve already serves {self.repo_root} ({self.path})"
                )
            self.path.unlink()
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        old = os.umask(0o177)
        try:
            self.sock.bind(str(self.path))
        finally:
            os.umask(old)
        os.chmod(self.path, 0o600)
        self.sock.listen(16)
        self._closed = False
        self.served = 0
        self.thread = threading.Thread(target=self._loop, name="codeaudit-hook", daemon=True)
        self.thread.start()

    def close(self) -> None:
        self._closed = True
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)
        self.sock.close()
        with contextlib.suppress(OSError):
            if self.path.exists():
                self.path.unlink()

    def _loop(self) -> None:
        while not self._closed:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                try:
                    self._handle(conn)
                except Exception as exc:  # noqa: BLE001 - the client then runs cold
                    print(
                        f"codeaudit serve: hook request failed: {type(exc).__name__}",
                        file=sys.stderr,
                    )

    def _handle(self, conn: socket.socket) -> None:
        creds = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
        _pid, uid, _gid = struct.unpack("3i", creds)
        if uid != os.getuid():
            return
        conn.settimeout(30)
        chunks, size = [], 0
        while True:
            chunk = conn.recv(1 << 16)
            if not chunk:
                break
            size += len(chunk)
            if size > MAX_REQUEST_BYTES:
                return
            chunks.append(chunk)
        if not chunks:
            return  # a probe (another server checking whether this one is alive)
        request = json.loads(b"".join(chunks))
        if not isinstance(request, dict) or request.get("kind") != "hook":
            return
        conn.settimeout(None)
        pid = os.fork()
        if pid == 0:  # the child: one hook run, then gone
            try:
                _child(conn, request, self.runner)
            finally:
                os._exit(0)
        os.waitpid(pid, 0)
        self.served += 1


def _child(conn: socket.socket, request: dict, run: Callable[[argparse.Namespace], int]) -> int:
    from ..errors import EXIT_INTERNAL, CodeauditError

    out, err = io.StringIO(), io.StringIO()
    sys.stdout, sys.stderr = out, err
    try:
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update({str(k): str(v) for k, v in request["env"].items()})
        args = argparse.Namespace(**request["args"])
        code = int(run(args) or 0)
    except CodeauditError as exc:
        print(f"codeaudit: error: {exc}", file=err)
        code = exc.exit_code
    except Exception as exc:  # noqa: BLE001 - the same last line of defence as the command
        print(
            f"codeaudit: error: internal error: {type(exc).__name__}: {exc} "
            "(set CODEAUDIT_DEBUG=1 for a traceback)",
            file=err,
        )
        code = EXIT_INTERNAL
    payload = {"code": code, "stdout": out.getvalue(), "stderr": err.getvalue()}
    conn.sendall(json.dumps(payload, ensure_ascii=False).encode("utf-8", "surrogatepass"))
    return code


def _answers(path: Path) -> bool:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(1)
        try:
            s.connect(str(path))
        except OSError:
            return False
    return True
