"""Run a source's code in a separate process isolated by the operating system (bubblewrap).

The child (:mod:`cdk.sandbox.child`) sees:

- a read-only view of the Python installation (interpreter, standard library, site-packages, the
  ``cdk`` package) and of the system's shared libraries (``/usr/lib``); no ``/etc``, no ``/home``, no
  ``/tmp``, no ``/usr/bin`` (no shell to spawn);
- its own empty writable directory ``/sandbox`` (a size-capped tmpfs, gone when the child ends);
- new user (mapped to nobody, all capabilities dropped), PID, IPC, UTS, cgroup and network
  namespaces: its network is its own loopback, and the one way out is the parent's
  :class:`~cdk.sandbox.proxy.EgressProxy` on a Unix socket bound into the sandbox, which refuses
  every host outside ``allowed_hosts``;
- rlimits for CPU time, address space (memory), file size, open files and core dumps, a wall-time
  kill of the whole process group, an output cap, and an empty environment.

Request and credentials go in on stdin (never argv, never a file outside the sandbox); the result
comes back on fd 3. Where bubblewrap cannot create the namespaces, :func:`available` says why, and
:func:`run` refuses unless ``unsafe=True`` (``cdk serve --unsafe-sandbox``, logged loudly).
"""

from __future__ import annotations

import json
import logging
import os
import resource
import shutil
import signal
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from cdk.errors import SandboxUnavailable
from cdk.sandbox.proxy import EgressProxy
from cdk.secrets import mask

log = logging.getLogger("cdk.sandbox")

SANDBOX_DIR = "/sandbox"
SOCKET_DIR = "/run/cdk"
NOBODY = 65534


@dataclass(frozen=True)
class Limits:
    """The documented limits of one sandboxed run (``cdk serve`` settings may change them)."""

    wall_seconds: float = 30.0
    cpu_seconds: int = 20
    memory_bytes: int = 1024 * 1024 * 1024
    output_bytes: int = 1024 * 1024
    result_bytes: int = 32 * 1024 * 1024
    disk_bytes: int = 64 * 1024 * 1024
    open_files: int = 256


@dataclass
class SandboxResult:
    success: bool
    records: list[dict[str, Any]] = field(default_factory=list)
    total_count: int = 0
    error: str | None = None
    message: str | None = None
    execution_time_ms: int = 0
    http_log: list[dict[str, Any]] = field(default_factory=list)
    killed: str | None = None  # "wall_time" | "cpu_time" | "memory" | "output" | None
    isolation: str = "bubblewrap"


def _python_roots() -> list[str]:
    """Directories the interpreter needs, read-only: prefixes, stdlib, site-packages, the cdk package."""
    import cdk

    paths = {
        sys.prefix,
        sys.base_prefix,
        sys.exec_prefix,
        sys.base_exec_prefix,
        str(Path(cdk.__file__).resolve().parent),
    }
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        p = sysconfig.get_paths().get(key)
        if p:
            paths.add(p)
    exe = Path(sys.executable)
    paths.add(str(exe.parent))
    paths.add(str(exe.resolve().parent.parent))
    out = sorted(p for p in paths if Path(p).exists() and not p.startswith(("/usr/bin", "/bin")))
    # drop nested paths (a bind of the parent covers them), keep /usr-based paths: /usr/lib is bound
    keep: list[str] = []
    for p in out:
        if p in ("/usr", "/usr/local"):
            continue
        if any(p == k or p.startswith(k.rstrip("/") + "/") for k in keep):
            continue
        keep.append(p)
    return keep


def _lib_binds() -> list[str]:
    args: list[str] = []
    for d in ("/usr/lib", "/usr/lib64", "/usr/local/lib"):
        if Path(d).is_dir():
            args += ["--ro-bind", d, d]
    for link in ("/lib", "/lib64", "/lib32"):
        p = Path(link)
        if p.is_symlink():
            args += ["--symlink", os.readlink(p), link]
        elif p.is_dir():
            args += ["--ro-bind", link, link]
    return args


CONNECTOR_DIR = "/connector"


def bwrap_command(
    *, socket_dir: str, limits: Limits, roots: Iterable[str], folder: str | None = None
) -> list[str]:
    bwrap = shutil.which("bwrap") or "bwrap"
    cmd = [
        bwrap,
        "--unshare-all",  # user, ipc, pid, net, uts, cgroup namespaces
        "--unshare-user",
        "--uid",
        str(NOBODY),
        "--gid",
        str(NOBODY),
        "--cap-drop",
        "ALL",
        "--die-with-parent",
        "--new-session",
        "--hostname",
        "sandbox",
        "--proc",
        "/proc",
        "--dev",
        "/dev",
        *_lib_binds(),
    ]
    for root in roots:
        cmd += ["--ro-bind", root, root]
    if folder is not None:
        cmd += ["--ro-bind", folder, CONNECTOR_DIR]
    cmd += [
        "--size", str(limits.disk_bytes),
        "--tmpfs", SANDBOX_DIR,
        "--bind", socket_dir, SOCKET_DIR,
        "--remount-ro", "/",
        "--chdir", SANDBOX_DIR,
        "--clearenv",
        "--setenv", "HOME", SANDBOX_DIR,
        "--setenv", "LANG", "C.UTF-8",
        "--setenv", "PYTHONDONTWRITEBYTECODE", "1",
        "--setenv", "PYTHONHASHSEED", "0",
    ]  # fmt: skip
    return cmd


@lru_cache(maxsize=1)
def available() -> str | None:
    """None when bubblewrap can create the sandbox here, else the reason it cannot."""
    if shutil.which("bwrap") is None:
        return "bubblewrap (bwrap) is not installed: apt-get install bubblewrap"
    with tempfile.TemporaryDirectory(prefix="cdk-sbx-probe-") as d:
        os.chmod(d, 0o711)
        cmd = bwrap_command(socket_dir=d, limits=Limits(), roots=_python_roots())
        try:
            proc = subprocess.run(
                [*cmd, sys.executable, "-I", "-c", "pass"], capture_output=True, timeout=30, check=False
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            return f"bubblewrap failed to start: {exc}"
    if proc.returncode != 0:
        err = proc.stderr.decode(errors="replace").strip().splitlines()
        return f"bubblewrap cannot create namespaces here: {err[-1] if err else proc.returncode}"
    return None


def _limit(limits: Limits) -> None:  # runs in the child between fork and exec
    resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_seconds, limits.cpu_seconds + 1))
    resource.setrlimit(resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes))
    resource.setrlimit(resource.RLIMIT_FSIZE, (limits.disk_bytes, limits.disk_bytes))
    resource.setrlimit(resource.RLIMIT_NOFILE, (limits.open_files, limits.open_files))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def _secret_values(authentication: Any, config: dict[str, Any] | None) -> list[str]:
    """The credentials of one run: every value under ``authentication``, and config values whose field
    name says secret (``token``, ``api_key``, ``password``... in the one secret vocabulary)."""
    from cdk.secrets import is_secret_name

    out: list[str] = []

    def walk(v: Any) -> None:
        if isinstance(v, dict):
            for x in v.values():
                walk(x)
        elif isinstance(v, list):
            for x in v:
                walk(x)
        elif isinstance(v, str) and len(v) >= 4:
            out.append(v)

    walk(authentication)
    for key, value in (config or {}).items():
        if is_secret_name(str(key)):
            walk(value)
    return out


def run(
    action: str,
    *,
    code: str = "",
    class_name: str = "",
    source_name: str = "",
    folder: str | os.PathLike[str] | None = None,
    stream: str | None = None,
    streams: Iterable[str] = (),
    authentication: dict[str, Any] | None = None,
    config: dict[str, Any] | None = None,
    max_records: int | None = 10,
    allowed_hosts: Iterable[str] = (),
    limits: Limits | None = None,
    unsafe: bool = False,
) -> SandboxResult:
    """Run ``action`` ("preview" or "check") on the source in a fresh sandbox; never raises for what
    the user's code does (errors, limits and refusals are in the result).

    The source is ``code`` (one file, its ``class_name``), or a connector ``folder`` bound read-only
    (what ``cdk read --sandbox`` runs). ``max_records=None`` reads the whole stream (up to the result
    limit)."""
    limits = limits or Limits()
    reason = available()
    if reason is not None and not unsafe:
        raise SandboxUnavailable(
            f"refusing to run untrusted code: {reason}",
            hint="install bubblewrap, or start `cdk serve --unsafe-sandbox` (no OS isolation) on a trusted machine",
        )
    allowed = list(allowed_hosts)
    secrets = _secret_values(authentication, config)
    roots = _python_roots()
    sock_dir = tempfile.mkdtemp(prefix="cdk-sbx-")
    os.chmod(sock_dir, 0o711)
    isolated = reason is None
    host_folder = str(Path(folder).resolve()) if folder is not None else None
    workdir = SANDBOX_DIR if isolated else tempfile.mkdtemp(prefix="cdk-sbx-work-")
    proxy_path = str(Path(sock_dir) / "egress.sock")
    request = {
        "action": action,
        "code": code,
        "class_name": class_name,
        "source_name": source_name,
        "stream": stream,
        "streams": list(streams),
        "authentication": authentication,
        "config": config or {},
        "max_records": max_records,
        "allowed_hosts": allowed,
        "workdir": workdir,
        "folder": (CONNECTOR_DIR if isolated else host_folder) if host_folder else None,
        "read_roots": roots + ([CONNECTOR_DIR if isolated else host_folder] if host_folder else []),
        "proxy_socket": f"{SOCKET_DIR}/egress.sock" if isolated else proxy_path,
    }
    start = time.monotonic()
    try:
        with EgressProxy(proxy_path, allowed, secrets) as proxy:
            if isolated:
                cmd = [*bwrap_command(socket_dir=sock_dir, limits=limits, roots=roots, folder=host_folder)]
                cmd += [sys.executable, "-I", "-m", "cdk.sandbox.child"]
                env: dict[str, str] = {}
            else:
                log.warning("UNSAFE SANDBOX: running user code without OS isolation (%s)", reason)
                cmd = [sys.executable, "-I", "-m", "cdk.sandbox.child"]
                env = {"HOME": workdir, "LANG": "C.UTF-8", "PYTHONDONTWRITEBYTECODE": "1"}
            result = _execute(cmd, env, request, limits, workdir if not isolated else None)
            result.http_log = [e.to_dict() for e in proxy.log]
    finally:
        shutil.rmtree(sock_dir, ignore_errors=True)
        if not isolated:
            shutil.rmtree(workdir, ignore_errors=True)
    result.execution_time_ms = int((time.monotonic() - start) * 1000)
    result.isolation = "bubblewrap" if isolated else "none (--unsafe-sandbox)"
    denied = [e for e in result.http_log if e.get("denied")]
    if not result.success and denied and result.error and "egress" not in result.error:
        result.error = f"egress denied to {denied[0]['url']} (not in allowed_hosts); {result.error}"
    if result.error and secrets:
        result.error = mask(result.error, secrets)
    if result.message and secrets:
        result.message = mask(result.message, secrets)
    return result


def _execute(
    cmd: list[str], env: dict[str, str], request: dict[str, Any], limits: Limits, cwd: str | None
) -> SandboxResult:
    r_fd, w_fd = os.pipe()
    os.set_inheritable(w_fd, True)
    request["result_fd"] = w_fd  # pass_fds keeps the number across bwrap's exec
    proc = subprocess.Popen(
        cmd,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=env,
        cwd=cwd,
        pass_fds=(w_fd,),
        start_new_session=True,
        preexec_fn=lambda: _limit(limits),
        close_fds=True,
    )
    os.close(w_fd)
    killed: list[str] = []
    out_bytes = [0]
    result_buf: list[bytes] = []

    def kill(why: str) -> None:
        if not killed:
            killed.append(why)
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    def drain_output() -> None:
        assert proc.stdout is not None
        while True:
            chunk = proc.stdout.read1(65536) if hasattr(proc.stdout, "read1") else proc.stdout.read(65536)
            if not chunk:
                return
            out_bytes[0] += len(chunk)
            if out_bytes[0] > limits.output_bytes:
                kill("output")
                return

    def drain_result() -> None:
        total = 0
        with os.fdopen(r_fd, "rb") as f:
            while True:
                chunk = f.read(65536)
                if not chunk:
                    return
                total += len(chunk)
                if total > limits.result_bytes:
                    kill("result")
                    return
                result_buf.append(chunk)

    readers = [
        threading.Thread(target=drain_output, daemon=True),
        threading.Thread(target=drain_result, daemon=True),
    ]
    for t in readers:
        t.start()
    try:
        assert proc.stdin is not None
        proc.stdin.write(json.dumps(request).encode())
        proc.stdin.close()
    except OSError:
        pass
    request.clear()
    try:
        rc = proc.wait(timeout=limits.wall_seconds)
    except subprocess.TimeoutExpired:
        kill("wall_time")
        rc = proc.wait()
    for t in readers:
        t.join(timeout=5)
    if rc in (-signal.SIGXCPU, 128 + signal.SIGXCPU) and not killed:
        killed.append("cpu_time")
    if killed:
        why = killed[0]
        messages = {
            "wall_time": f"killed: wall-time limit of {limits.wall_seconds:g} s exceeded",
            "cpu_time": f"killed: CPU-time limit of {limits.cpu_seconds} s exceeded",
            "output": f"killed: output limit of {limits.output_bytes} bytes exceeded",
            "result": f"killed: result larger than {limits.result_bytes} bytes",
        }
        return SandboxResult(success=False, error=messages.get(why, why), killed=why)
    try:
        data = json.loads(b"".join(result_buf) or b"null")
    except ValueError:
        data = None
    if not isinstance(data, dict):
        why = f"exit code {rc}" if rc >= 0 else f"signal {signal.Signals(-rc).name}"
        if rc == -signal.SIGKILL or (rc != 0 and out_bytes[0] == 0):
            return SandboxResult(
                success=False, error=f"the source's process died ({why}): memory limit?", killed="memory"
            )
        return SandboxResult(success=False, error=f"the source's process ended without a result ({why})")
    error = data.get("error")
    if error and "MemoryError" in error:
        return SandboxResult(
            success=False,
            error=f"memory limit of {limits.memory_bytes // (1024 * 1024)} MiB exceeded (MemoryError)",
            killed="memory",
            records=data.get("records") or [],
        )
    records = data.get("records") or []
    return SandboxResult(
        success=bool(data.get("success")),
        records=records,
        total_count=int(data.get("total_count") or len(records)),
        error=error,
        message=data.get("message"),
    )


__all__ = ["Limits", "SandboxResult", "available", "bwrap_command", "run"]
