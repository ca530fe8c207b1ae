"""Run untrusted generated Python code and its tests in a sandbox, with honest outcomes.

Each worker is one warm *zygote* process started inside the sandbox (bubblewrap where available,
else the weaker ``rlimit`` mode); per attempt it forks a fresh process for the code under test
and another for the tests, from its own clean state, and kills everything the attempt started
afterwards. See ``docs/sandbox.md`` for what each mode guarantees and what it does not.

>>> from codeaudit.sandbox import Job, Sandbox
>>> with Sandbox() as sandbox:                                     # doctest: +SKIP
...     result = sandbox.run(Job(setup="def add(a, b):\\n    return a + b\\n",
...                              tests="def check(f):\\n    assert f(2, 3) == 5\\n",
...                              call="add"))
>>> result.outcome, result.passed                                  # doctest: +SKIP
('passed', True)

Outcomes: ``passed`` (the tests returned; proven by the attempt's secret marker), ``failed`` (an
assertion failed), ``error`` (another exception, or the code exited early), ``timeout`` (wall or
CPU time), ``oom`` (MemoryError under the memory limit), ``killed`` (a signal, e.g. over the
output limit) and ``sandbox-error`` (the sandbox itself failed; says nothing about the code).
"""

from __future__ import annotations

import json
import os
import random
import select
import shutil
import struct
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import CodeauditError

OUTCOMES = ("passed", "failed", "error", "timeout", "oom", "killed", "sandbox-error")
MODES = ("auto", "bwrap", "rlimit")
DEFAULT_BWRAP = "/usr/bin/bwrap"

_LEN = struct.Struct(">I")
#: The parent's own watchdog, on top of the attempt's timeout, for a zygote that stops answering.
_WATCHDOG_GRACE_S = 10.0
_START_TIMEOUT_S = 60.0
#: Random per-worker uids for the code under test and the tests (root only): unused by anyone
#: else, so RLIMIT_NPROC counts only the attempt's processes and "kill every process of this uid"
#: is exact. Even numbers; the tests process uses the next one.
_UID_RANGE = (1_100_000_000, 2_000_000_000)
_CAPS = ("CAP_SETUID", "CAP_SETGID", "CAP_KILL", "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER")


class SandboxUnavailable(CodeauditError):
    """The requested sandbox mode cannot run on this machine."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Limits:
    """Per-attempt limits. Memory, CPU, processes, files and output apply to each process."""

    timeout_s: float = 3.0
    memory_mb: int = 512
    max_procs: int = 16
    max_files: int = 64
    max_output_bytes: int = 1 << 20
    #: Size of the private /tmp of each bubblewrap worker.
    tmpfs_mb: int = 64

    def __post_init__(self) -> None:
        for name in (
            "timeout_s",
            "memory_mb",
            "max_procs",
            "max_files",
            "max_output_bytes",
            "tmpfs_mb",
        ):
            if getattr(self, name) <= 0:
                raise ValueError(
                    f"sandbox limit {name} must be positive, not {getattr(self, name)!r}"
                )
        if self.max_files < 16:
            raise ValueError("sandbox limit max_files must be at least 16 (Python needs a few)")
        if self.memory_mb < 64:
            raise ValueError(
                "sandbox limit memory_mb must be at least 64 (Python needs about 40 MiB)"
            )


@dataclass(frozen=True, kw_only=True, slots=True)
class SandboxConfig:
    """Which sandbox, how many workers, which limits."""

    #: ``auto`` (bubblewrap when it works, else ``rlimit`` with one warning), ``bwrap`` (fail when
    #: bubblewrap cannot run), or ``rlimit`` (the weaker mode, chosen on purpose).
    mode: str = "auto"
    #: Path of the bubblewrap binary; ``None`` = ``bwrap`` on PATH, else /usr/bin/bwrap.
    bwrap: str | None = None
    #: Worker processes; 0 = two per CPU core (an attempt alternates between its two
    #: processes, so one worker alone leaves its core idle part of the time).
    workers: int = 0
    limits: Limits = field(default_factory=Limits)
    #: The interpreter that runs the code (its stdlib and site-packages are made visible).
    python: str = sys.executable

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"sandbox mode must be one of {', '.join(MODES)}, not {self.mode!r}")
        if self.workers < 0:
            raise ValueError(f"sandbox workers must be 0 (all cores) or more, not {self.workers}")

    def bwrap_path(self) -> str:
        return self.bwrap or shutil.which("bwrap") or DEFAULT_BWRAP


@dataclass(frozen=True, kw_only=True, slots=True)
class ModeInfo:
    """The sandbox mode that will run, and why."""

    mode: str  # "bwrap" | "rlimit"
    reason: str
    bwrap: str | None
    bwrap_version: str | None
    network_isolated: bool
    #: Root only: the code runs under its own unprivileged uid, without capabilities.
    own_uid: bool
    #: True when ``auto`` had to fall back to the weaker mode.
    degraded: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "reason": self.reason,
            "bwrap": self.bwrap,
            "bwrap_version": self.bwrap_version,
            "network_isolated": self.network_isolated,
            "own_uid": self.own_uid,
            "degraded": self.degraded,
        }


@dataclass(frozen=True, kw_only=True, slots=True)
class Job:
    """One attempt: ``setup`` (prompt + completion) runs in the sandboxed process; ``tests`` runs
    in the tests process, then ``check(<call>)`` when ``call`` names the entry point."""

    setup: str
    tests: str = ""
    call: str | None = None
    timeout_s: float | None = None

    def __post_init__(self) -> None:
        if self.call is not None and not self.call.isidentifier():
            raise ValueError(f"entry point {self.call!r} is not a Python identifier")


@dataclass(frozen=True, kw_only=True, slots=True)
class RunResult:
    """The record of one attempt."""

    outcome: str
    error_type: str | None = None
    message: str = ""
    duration_s: float = 0.0
    #: Line of the program (prompt + completion) where the exception was raised, when known.
    sample_line: int | None = None
    #: Line of the tests where they failed, and its source.
    tests_line: int | None = None
    tests_source: str | None = None

    @property
    def passed(self) -> bool:
        return self.outcome == "passed"

    @property
    def detail(self) -> str:
        """One line: what happened, e.g. ``AssertionError at tests line 9: assert f(1) == 2``."""
        if self.passed:
            return "passed"
        text = self.error_type or self.outcome
        if self.message:
            text += f": {self.message}"
        if self.tests_line is not None:
            text += f" (tests line {self.tests_line}"
            text += f": {self.tests_source})" if self.tests_source else ")"
        return text

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "outcome": self.outcome,
            "passed": self.passed,
            "duration_s": self.duration_s,
        }
        if not self.passed:
            out["error_type"] = self.error_type
            out["message"] = self.message
            for name in ("sample_line", "tests_line", "tests_source"):
                value = getattr(self, name)
                if value is not None:
                    out[name] = value
        return out

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> RunResult:
        outcome = record.get("outcome")
        if outcome not in OUTCOMES:
            return cls(
                outcome="sandbox-error",
                error_type="BadRecord",
                message=f"unknown outcome {outcome!r}",
            )
        return cls(
            outcome=outcome,
            error_type=record.get("type"),
            message=str(record.get("message") or ""),
            duration_s=float(record.get("duration_s") or 0.0),
            sample_line=record.get("sample_line"),
            tests_line=record.get("tests_line"),
            tests_source=record.get("tests_source"),
        )


# --- mode detection ------------------------------------------------------------------------------
_probe_cache: dict[tuple[str, str, str], ModeInfo] = {}
_warned: set[str] = set()
_lock = threading.Lock()


def detect_mode(config: SandboxConfig | None = None) -> ModeInfo:
    """Which mode :class:`Sandbox` will use with ``config``, probing bubblewrap once per process.

    Raises :class:`SandboxUnavailable` when ``mode="bwrap"`` and bubblewrap cannot run.
    """
    config = config or SandboxConfig()
    key = (config.mode, config.bwrap_path(), config.python)
    with _lock:
        if key in _probe_cache:
            return _probe_cache[key]
    info = _detect(config)
    with _lock:
        _probe_cache[key] = info
    return info


def _detect(config: SandboxConfig) -> ModeInfo:
    root = os.geteuid() == 0
    bwrap = config.bwrap_path()
    if config.mode in ("auto", "bwrap"):
        problem = _probe_bwrap(bwrap, config)
        if problem is None:
            return ModeInfo(
                mode="bwrap",
                reason=f"bubblewrap at {bwrap} works",
                bwrap=bwrap,
                bwrap_version=_bwrap_version(bwrap),
                network_isolated=True,
                own_uid=root,
                degraded=False,
            )
        if config.mode == "bwrap":
            raise SandboxUnavailable(f"sandbox mode 'bwrap': {problem}")
        reason = f"{problem}; running in the weaker rlimit mode"
        degraded = True
    else:
        reason = "rlimit mode was chosen in the configuration"
        degraded = False
    return ModeInfo(
        mode="rlimit",
        reason=reason,
        bwrap=None,
        bwrap_version=None,
        network_isolated=_unshare_net_works(),
        own_uid=root,
        degraded=degraded,
    )


def _bwrap_version(bwrap: str) -> str | None:
    try:
        out = subprocess.run([bwrap, "--version"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip().removeprefix("bubblewrap ").strip() or None


def _probe_bwrap(bwrap: str, config: SandboxConfig) -> str | None:
    """``None`` when bubblewrap runs our interpreter; else why not, in one line."""
    if not os.path.exists(bwrap):
        return f"bubblewrap not found at {bwrap}"
    if not os.access(bwrap, os.X_OK):
        return f"bubblewrap at {bwrap} is not executable"
    argv = _bwrap_argv(bwrap, config, ["-I", "-S", "-c", "print('sandbox-ok')"])
    try:
        out = subprocess.run(argv, capture_output=True, timeout=30, env=_clean_env("/tmp"))
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"bubblewrap at {bwrap} cannot start: {exc}"
    if out.returncode != 0 or b"sandbox-ok" not in out.stdout:
        why = (
            out.stderr.decode(errors="replace").strip().splitlines()
            or [f"exit status {out.returncode}"]
        )[-1]
        return f"bubblewrap at {bwrap} fails here: {why}"
    return None


def _unshare_net_works() -> bool:
    unshare = shutil.which("unshare")
    if unshare is None:
        return False
    try:
        return (
            subprocess.run([unshare, "-n", "true"], capture_output=True, timeout=10).returncode == 0
        )
    except (OSError, subprocess.TimeoutExpired):
        return False


def _warn_once(info: ModeInfo) -> None:
    if not info.degraded:
        return
    with _lock:
        if info.reason in _warned:
            return
        _warned.add(info.reason)
    print(f"codeaudit: warning: sandbox: {info.reason} (see docs/sandbox.md)", file=sys.stderr)


def _clean_env(home: str) -> dict[str, str]:
    """The whole environment of the sandboxed processes: nothing of the caller's leaks in."""
    return {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "HOME": home,
        "TMPDIR": home,
        "PYTHONDONTWRITEBYTECODE": "1",
        "OMP_NUM_THREADS": "1",
    }


def _python_roots(python: str) -> list[str]:
    """Folders the interpreter needs: its prefix, base prefix and the real executable's home."""
    probe = subprocess.run(
        [
            python,
            "-I",
            "-c",
            "import sys, os; print(sys.prefix); print(sys.base_prefix); print(sys.exec_prefix);"
            "print(os.path.dirname(os.path.dirname(os.path.realpath(sys.executable))))",
        ],
        capture_output=True,
        text=True,
        timeout=30,
    )
    roots = (
        {os.path.realpath(p) for p in probe.stdout.split("\n") if p.strip()}
        if probe.returncode == 0
        else set()
    )
    roots.add(os.path.dirname(os.path.dirname(os.path.realpath(python))))
    # The venv folder itself too (its bin/python is a link that must resolve), unresolved.
    roots.add(os.path.dirname(os.path.dirname(os.path.abspath(python))))
    return sorted(r for r in roots if r not in ("/", "") and not _under(r, "/usr"))


def _under(path: str, top: str) -> bool:
    return path == top or path.startswith(top.rstrip("/") + "/")


_roots_cache: dict[str, list[str]] = {}


def _bwrap_argv(bwrap: str, config: SandboxConfig, python_args: list[str]) -> list[str]:
    root = os.geteuid() == 0
    argv = [
        bwrap,
        "--unshare-ipc",
        "--unshare-pid",
        "--unshare-net",
        "--unshare-uts",
        "--unshare-cgroup-try",
    ]
    if not root:
        argv.append("--unshare-user")
    argv += [
        "--die-with-parent",
        "--new-session",
        "--hostname",
        "sandbox",
        "--ro-bind",
        "/usr",
        "/usr",
    ]
    for top in ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
        if os.path.islink(top):
            argv += ["--symlink", os.readlink(top), top]
        elif os.path.isdir(top):
            argv += ["--ro-bind", top, top]
    for name in ("/etc/ld.so.cache", "/etc/localtime"):
        argv += ["--ro-bind-try", name, name]
    # The private /tmp first: an interpreter or venv that lives under /tmp (common on CI) is then
    # bound on top of it instead of being hidden by it.
    argv += [
        "--proc",
        "/proc",
        "--dev",
        "/dev",
        "--size",
        str(config.limits.tmpfs_mb << 20),
        "--tmpfs",
        "/tmp",
    ]
    if config.python not in _roots_cache:
        _roots_cache[config.python] = _python_roots(config.python)
    made: set[str] = set()
    for folder in _roots_cache[config.python]:
        # bubblewrap creates missing parents 0700; the unprivileged uid must be able to pass.
        parents = []
        parent = os.path.dirname(folder)
        while parent not in ("/", "") and not _under(parent, "/usr"):
            parents.append(parent)
            parent = os.path.dirname(parent)
        for p in reversed(parents):
            if p not in made:
                argv += ["--perms", "0755", "--dir", p]
                made.add(p)
        argv += ["--ro-bind", folder, folder]
    if root:
        argv += ["--cap-drop", "ALL"]
        for cap in _CAPS:
            argv += ["--cap-add", cap]
    argv += ["--chdir", "/tmp", "--", config.python, *python_args]
    return argv


def _uid_count(uid: int) -> int:
    count = 0
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if os.stat(f"/proc/{entry}").st_uid == uid:
                    count += 1
            except OSError:
                pass
    return count


# --- workers -------------------------------------------------------------------------------------
_ZYGOTE_SOURCE: str | None = None


def _zygote_source() -> str:
    global _ZYGOTE_SOURCE
    if _ZYGOTE_SOURCE is None:
        _ZYGOTE_SOURCE = Path(__file__).with_name("_zygote.py").read_text(encoding="utf-8")
    return _ZYGOTE_SOURCE


class _Spawner:
    """A thread that lives as long as the sandbox and starts every worker process.

    The workers die with their parent (``--die-with-parent``, ``PR_SET_PDEATHSIG``), and Linux
    takes "parent" to be the *thread* that forked them: started from a short-lived thread, they
    would be killed when it ends.
    """

    def __init__(self) -> None:
        import queue

        self._requests: queue.Queue[tuple[Callable[[], Any], list[Any], threading.Event] | None] = (
            queue.Queue()
        )
        self._thread = threading.Thread(
            target=self._serve, name="codeaudit-sandbox-spawner", daemon=True
        )
        self._thread.start()

    def _serve(self) -> None:
        while True:
            item = self._requests.get()
            if item is None:
                return
            fn, box, done = item
            try:
                box.append((True, fn()))
            except BaseException as exc:  # noqa: BLE001 - handed to the caller
                box.append((False, exc))
            done.set()

    def call(self, fn: Callable[[], Any]) -> Any:
        if threading.current_thread() is self._thread:
            return fn()
        box: list[Any] = []
        done = threading.Event()
        self._requests.put((fn, box, done))
        done.wait()
        ok, value = box[0]
        if not ok:
            raise value
        return value

    def stop(self) -> None:
        self._requests.put(None)


class _Worker:
    """One zygote process (inside its own bubblewrap sandbox in ``bwrap`` mode)."""

    def __init__(self, config: SandboxConfig, info: ModeInfo, spawner: _Spawner) -> None:
        self.config = config
        self.info = info
        self.spawner = spawner
        self.proc: subprocess.Popen[bytes] | None = None
        self.base: str | None = None
        self.stderr = None
        self.start()

    def start(self) -> None:
        cfg = self.config
        lim = cfg.limits
        root = os.geteuid() == 0
        uid = random.SystemRandom().randrange(*_UID_RANGE) & ~1
        #: The uid of the code under test (root only; the tests process uses uid + 1).
        self.uid = uid
        settings: dict[str, Any] = {
            "limits": {
                "memory_bytes": lim.memory_mb << 20,
                "max_procs": lim.max_procs,
                "max_files": lim.max_files,
                "max_output_bytes": lim.max_output_bytes,
            },
            "drop_privileges": root,
            "sample_uid": uid if root else None,
            "tests_uid": uid + 1 if root else None,
            "pid_namespace": self.info.mode == "bwrap",
            "nproc_base": 0 if root else _uid_count(os.geteuid()),
        }
        python_args = ["-I", "-B", "-c", _zygote_source()]
        if self.info.mode == "bwrap":
            settings["base"] = "/tmp/codeaudit"
            env = _clean_env("/tmp")
            cwd = None
            argv = _bwrap_argv(
                self.info.bwrap or cfg.bwrap_path(), cfg, [*python_args, json.dumps(settings)]
            )
        else:
            self.base = tempfile.mkdtemp(prefix="codeaudit-sandbox-")
            settings["base"] = self.base
            env = _clean_env(self.base)
            cwd = self.base
            argv = [cfg.python, *python_args, json.dumps(settings)]
            if self.info.network_isolated:
                argv = [shutil.which("unshare") or "unshare", "-n", "--", *argv]
        self.stderr = tempfile.TemporaryFile()
        self.proc = self.spawner.call(
            lambda: subprocess.Popen(
                argv,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=self.stderr,
                env=env,
                cwd=cwd,
                start_new_session=True,
                close_fds=True,
            )
        )
        ready = self._read(time.monotonic() + _START_TIMEOUT_S)
        if ready is None or not ready.get("ready"):
            tail = self._stderr_tail()
            self.close()
            raise SandboxUnavailable(
                f"sandbox worker did not start ({self.info.mode} mode): {tail or 'no message'}"
            )

    def _stderr_tail(self) -> str:
        if self.stderr is None:
            return ""
        try:
            self.stderr.seek(0)
            lines = self.stderr.read()[-4000:].decode(errors="replace").strip().splitlines()
        except (OSError, ValueError):
            return ""
        return lines[-1] if lines else ""

    def _read(self, deadline: float) -> dict[str, Any] | None:
        assert self.proc is not None and self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        buf = b""
        need = _LEN.size
        size = None
        while len(buf) < need:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            ready, _, _ = select.select([fd], [], [], remaining)
            if not ready:
                return None
            chunk = os.read(fd, need - len(buf))
            if not chunk:
                return None
            buf += chunk
            if size is None and len(buf) == _LEN.size:
                (size,) = _LEN.unpack(buf)
                need = _LEN.size + size
        return json.loads(buf[_LEN.size :])

    def run(self, job: Job) -> RunResult:
        timeout = job.timeout_s or self.config.limits.timeout_s
        request = {"setup": job.setup, "tests": job.tests, "call": job.call, "timeout": timeout}
        # ASCII JSON: lone surrogates and other odd characters travel escaped, and the code
        # under test meets them (and fails on them) inside the sandbox.
        payload = json.dumps(request).encode("ascii")
        started = time.monotonic()
        try:
            assert self.proc is not None and self.proc.stdin is not None
            self.proc.stdin.write(_LEN.pack(len(payload)) + payload)
            self.proc.stdin.flush()
            record = self._read(started + timeout + _WATCHDOG_GRACE_S)
        except (OSError, ValueError):
            record = None
        if record is None:
            why = self._stderr_tail() or "the sandbox worker stopped answering"
            self.restart()
            return RunResult(
                outcome="sandbox-error",
                error_type="SandboxError",
                message=why,
                duration_s=round(time.monotonic() - started, 6),
            )
        return RunResult.from_record(record)

    def restart(self) -> None:
        self.close()
        self.start()

    def close(self) -> None:
        proc, self.proc = self.proc, None
        if proc is not None:
            try:
                if proc.stdin:
                    proc.stdin.close()
            except OSError:
                pass
            try:
                os.killpg(proc.pid, 9)
            except (ProcessLookupError, PermissionError):
                pass
            proc.wait()
            if proc.stdout:
                proc.stdout.close()
        if self.stderr is not None:
            self.stderr.close()
            self.stderr = None
        if self.base is not None:
            _force_rmtree(self.base)
            self.base = None


def _force_rmtree(path: str) -> None:
    def unlock(func, target, _exc):
        try:
            os.chmod(os.path.dirname(target), 0o700)
            os.chmod(target, 0o700)
            func(target)
        except OSError:
            pass

    shutil.rmtree(path, onerror=unlock)


class Sandbox:
    """A pool of sandbox workers; reuse one across batches to pay start-up once.

    ``run_all`` keeps every core busy (two workers per core by default) and returns the results
    in the order of the jobs; a crashed worker costs only its current attempt (``sandbox-error``)
    and is restarted.
    """

    def __init__(self, config: SandboxConfig | None = None) -> None:
        self.config = config or SandboxConfig()
        self.info = detect_mode(self.config)
        _warn_once(self.info)
        self._workers: list[_Worker] = []
        self._pool_lock = threading.Lock()
        self._spawner: _Spawner | None = None

    @property
    def mode(self) -> str:
        return self.info.mode

    def _ensure(self, n: int) -> list[_Worker]:
        with self._pool_lock:
            missing = n - len(self._workers)
            if missing > 0:
                if self._spawner is None:
                    self._spawner = _Spawner()
                spawner = self._spawner
                started: list[_Worker | BaseException] = []

                def boot() -> None:
                    try:
                        started.append(_Worker(self.config, self.info, spawner))
                    except BaseException as exc:  # noqa: BLE001 - reported below
                        started.append(exc)

                threads = [threading.Thread(target=boot) for _ in range(missing)]
                for t in threads:
                    t.start()
                for t in threads:
                    t.join()
                errors = [s for s in started if isinstance(s, BaseException)]
                self._workers.extend(s for s in started if isinstance(s, _Worker))
                if errors and not self._workers:
                    raise errors[0]
            return self._workers[: max(1, min(n, len(self._workers)))]

    def run(self, job: Job) -> RunResult:
        return self.run_all([job])[0]

    def run_all(
        self, jobs: Sequence[Job], progress: Callable[[int], None] | None = None
    ) -> list[RunResult]:
        """Run every job; ``progress(1)`` is called as each finishes."""
        if not jobs:
            return []
        wanted = self.config.workers or 2 * (os.cpu_count() or 1)
        workers = self._ensure(min(wanted, len(jobs)))
        results: list[RunResult | None] = [None] * len(jobs)
        next_index = iter(range(len(jobs)))
        index_lock = threading.Lock()
        failures: list[BaseException] = []

        def drain(worker: _Worker) -> None:
            try:
                while True:
                    with index_lock:
                        i = next(next_index, None)
                    if i is None:
                        return
                    results[i] = worker.run(jobs[i])
                    if progress is not None:
                        progress(1)
            except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
                failures.append(exc)

        threads = [threading.Thread(target=drain, args=(w,), daemon=True) for w in workers]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if failures:
            raise failures[0]
        return [
            r
            if r is not None
            else RunResult(outcome="sandbox-error", error_type="SandboxError", message="not run")
            for r in results
        ]

    def close(self) -> None:
        with self._pool_lock:
            workers, self._workers = self._workers, []
            spawner, self._spawner = self._spawner, None
        for w in workers:
            w.close()
        if spawner is not None:
            spawner.stop()

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
