"""The warm hook: ``codeaudit hook`` answered by a running ``codeaudit serve --audit-only``.

Real processes throughout: a git repository made here, the real server command (its socket in a
runtime folder of this test), and the real hook command, cold and warm, compared.
"""

from __future__ import annotations

import os
import signal
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from codeaudit.serve.client import find_server, socket_path

pytest.importorskip("starlette")

BAD = 'import subprocess\n\n\ndef run(cmd):\n    return subprocess.call(cmd, shell=True)\nDATA = "/home/mkowalski/x.csv"\n'


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)


@pytest.fixture
def repo(tmp_path):
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q")
    git(repo, "config", "user.email", "t@example.org")
    git(repo, "config", "user.name", "t")
    (repo / "a.py").write_text("x = 1\n")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "init")
    return repo


@pytest.fixture
def runtime(tmp_path, monkeypatch):
    folder = tmp_path / "run"
    folder.mkdir(mode=0o700)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(folder))
    return folder


def start_server(repo: Path) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-m", "codeaudit", "serve", "--audit-only", "--repo", str(repo)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=os.environ.copy(),
    )
    deadline = time.monotonic() + 120
    while find_server(repo) is None:
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise AssertionError(proc.stderr.read().decode() if proc.stderr else "no server")
        time.sleep(0.05)
    return proc


def stop(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()


def test_warm_hook_gives_the_cold_findings_and_exit_code(repo, runtime, run_cli):
    (repo / "b.py").write_text(BAD)
    git(repo, "add", "b.py")
    cold = run_cli("hook", cwd=repo, env={"CODEAUDIT_NO_SERVER": "1"})
    assert cold.returncode == 1 and b"B602" in cold.stdout
    proc = start_server(repo)
    try:
        path = socket_path(repo)
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
        warm = run_cli("hook", cwd=repo)
        assert (warm.returncode, warm.stdout) == (cold.returncode, cold.stdout)
        # Fresh content on every run: no result is kept between runs.
        (repo / "b.py").write_text("total = 1 + 2\n")
        git(repo, "add", "b.py")
        clean_warm = run_cli("hook", cwd=repo)
        clean_cold = run_cli("hook", cwd=repo, env={"CODEAUDIT_NO_SERVER": "1"})
        assert clean_warm.returncode == clean_cold.returncode == 0
        assert clean_warm.stdout == clean_cold.stdout
        # Errors too: a bad option value is the same one line and exit code 2.
        bad_warm = run_cli("hook", "--fail-on", "severe", cwd=repo)
        bad_cold = run_cli(
            "hook", "--fail-on", "severe", cwd=repo, env={"CODEAUDIT_NO_SERVER": "1"}
        )
        assert bad_warm.returncode == bad_cold.returncode == 2
        assert bad_warm.stderr == bad_cold.stderr
    finally:
        stop(proc)
    assert not socket_path(repo).exists()  # removed on exit
    again = run_cli("hook", cwd=repo)  # no server: cold, as today
    assert again.returncode == 0


def test_only_our_private_socket_is_trusted(repo, runtime):
    path = socket_path(repo)
    path.parent.mkdir(mode=0o700)
    assert find_server(repo) is None  # nothing there
    path.write_text("not a socket")
    assert find_server(repo) is None
    path.unlink()
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.bind(str(path))
        os.chmod(path, 0o666)
        assert find_server(repo) is None  # others could connect
        os.chmod(path, 0o600)
        assert find_server(repo) == path
        os.chmod(path.parent, 0o755)
        assert find_server(repo) is None  # a folder others can write into
    finally:
        sock.close()


def test_second_server_for_the_same_repository_is_refused(repo, runtime, run_cli):
    proc = start_server(repo)
    try:
        second = run_cli("serve", "--audit-only", "--repo", str(repo))
        assert second.returncode == 2 and b"already serves" in second.stderr
        outside = run_cli("serve", "--audit-only", "--repo", str(repo.parent))
        assert outside.returncode == 2 and b"not a git work tree" in outside.stderr
    finally:
        stop(proc)
