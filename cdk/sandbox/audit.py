"""The runtime guard: PEP 578 audit hooks that refuse what connector code must not do.

Static validation is one layer; this is the second, in-process one (``cdk test``, ``cdk ci``, and the
service's sandboxed child, inside its OS isolation). :func:`install` adds one audit hook (idempotent;
a hook can never be removed, so later calls only replace the configuration, and only by a narrower
one) that refuses:

* file opens (and removals, renames, directory changes...) outside ``allowed_roots`` and the Python
  installation (read-only there, except bytecode caches), plus a few read-only system files;
* process creation: ``subprocess.Popen``, ``os.system``, ``os.exec*``, ``os.posix_spawn``, ``os.spawn*``,
  ``os.fork``, ``os.forkpty``;
* ``ctypes``: loading libraries, calling foreign functions, reading raw memory;
* ``socket.connect``/``sendto`` and name resolution for hosts outside ``allowed_hosts`` (loopback too,
  unless ``allow_loopback``);
* adding audit hooks and patching the classes of the SDK session, its guard and requests' transport.

A refusal raises :class:`cdk.errors.SandboxViolation` naming the event and the connector's line, after
calling ``on_violation(event, args)`` so that a runner can fail the test even when connector code
swallows the exception.
"""

from __future__ import annotations

import fnmatch
import ipaddress
import os
import socket
import sys
import sysconfig
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

from cdk.errors import SandboxViolation

Handler = Callable[[str, tuple[object, ...]], None]

PROCESS_EVENTS = frozenset(
    {
        "subprocess.Popen",
        "os.system",
        "os.exec",
        "os.posix_spawn",
        "os.spawn",
        "os.fork",
        "os.forkpty",
        "os.startfile",
        "pty.spawn",
    }
)
CTYPES_EVENTS = frozenset(
    {
        "ctypes.dlopen",
        "ctypes.dlsym",
        "ctypes.dlsym/handle",
        "ctypes.call_function",
        "ctypes.cdata",
        "ctypes.cdata/buffer",
        "ctypes.string_at",
        "ctypes.wstring_at",
        "ctypes.addressof",
        "ctypes.set_errno",
        "ctypes.get_errno",
    }
)
# events whose first argument(s) are paths that get changed
WRITE_PATH_EVENTS = {
    "os.remove": 1,
    "os.rmdir": 1,
    "os.mkdir": 1,
    "os.chmod": 1,
    "os.chown": 1,
    "os.truncate": 1,
    "os.utime": 1,
    "os.rename": 2,
    "os.link": 2,
    "os.symlink": 2,
    "shutil.rmtree": 1,
    "shutil.copyfile": 2,
    "shutil.copytree": 2,
    "shutil.move": 2,
    "shutil.chown": 1,
}
READ_ONLY_SYSTEM = (
    "/dev/null",
    "/dev/urandom",
    "/dev/random",
    "/etc/localtime",
    "/usr/share/zoneinfo",
    "/etc/ssl",
    "/etc/pki",
    "/etc/ca-certificates",
    "/etc/mime.types",
    "/etc/hosts",
    "/etc/resolv.conf",
    "/etc/nsswitch.conf",
    "/etc/gai.conf",
    "/etc/host.conf",
    "/etc/services",
    "/etc/protocols",
    "/proc/self",
    "/sys/devices/system/cpu",
)
WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_TRUNC
# classes whose attributes connector code must not replace at run time (module prefixes)
GUARDED_CLASS_MODULES = ("cdk.sdk.", "cdk.sandbox.", "requests.", "urllib3.", "http.client", "socket", "ssl")


@dataclass
class _Config:
    roots: tuple[str, ...]
    python: tuple[str, ...]
    hosts: tuple[str, ...]
    allow_loopback: bool
    on_violation: Handler | None
    extra_read: tuple[str, ...] = ()
    resolved: set[str] = field(default_factory=set)
    resolved_ready: bool = False


_config: _Config | None = None
_TMP = os.path.normpath(os.path.abspath(__import__("tempfile").gettempdir()))
_local = threading.local()
_lock = threading.Lock()


def _norm(path: str) -> str:
    return os.path.normpath(os.path.abspath(path))


def python_installation() -> list[Path]:
    """Folders of the running Python: prefixes, the standard library, site-packages, sys.path."""
    out = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
    for key in ("stdlib", "platstdlib", "purelib", "platlib", "include", "scripts", "data"):
        try:
            out.add(sysconfig.get_paths()[key])
        except KeyError:
            continue
    out.update(p for p in sys.path if p and os.path.isdir(p))
    import cdk

    out.add(str(Path(cdk.__file__).resolve().parent))
    return sorted(Path(p) for p in out if p)


def install(
    *,
    allowed_roots: Sequence[str | os.PathLike[str]],
    allowed_hosts: Sequence[str],
    allow_loopback: bool = True,
    on_violation: Handler | None = None,
    read_only_roots: Sequence[str | os.PathLike[str]] = (),
) -> None:
    """Install the guard (once per process; a second call replaces the configuration). Code running
    after this call cannot open files outside ``allowed_roots`` and the Python installation, start
    processes, use ctypes, or connect outside ``allowed_hosts`` (and loopback, if allowed)."""
    global _config
    roots = tuple(sorted({_norm(str(Path(r).resolve())) for r in allowed_roots}))
    python = tuple(sorted({_norm(str(p)) for p in python_installation()} - set(roots)))
    new = _Config(roots, python, tuple(h.lower() for h in allowed_hosts), allow_loopback, on_violation)
    new.extra_read = tuple(sorted({_norm(str(p)) for p in read_only_roots}))
    with _lock:
        first = _config is None
        _config = new
    if first:
        sys.addaudithook(_hook)


def installed() -> bool:
    return _config is not None


def last_where() -> str | None:
    """file:line of the most recent refusal in this thread (for a runner's report)."""
    return getattr(_local, "last_where", None)


def _inside(path: str, folders: Sequence[str]) -> bool:
    for folder in folders:
        if path == folder or path.startswith(folder.rstrip("/") + "/"):
            return True
    return False


def _where(cfg: _Config) -> str | None:
    """file:line of the innermost frame inside an allowed root (the connector's code)."""
    frame: FrameType | None = sys._getframe(2)
    fallback = None
    while frame is not None:
        filename = frame.f_code.co_filename
        if filename == __file__:
            frame = frame.f_back
            continue
        if not filename.startswith("<") and _inside(_norm(filename), cfg.roots):
            return f"{filename}:{frame.f_lineno}"
        if (
            fallback is None
            and not filename.startswith("<")
            and not _inside(_norm(filename), cfg.python)
            and "cdk/sandbox" not in filename
        ):
            fallback = f"{filename}:{frame.f_lineno}"
        frame = frame.f_back
    return fallback


def _refuse(cfg: _Config, event: str, args: tuple[object, ...], detail: str) -> None:
    where = _where(cfg)
    _local.last_where = where
    if cfg.on_violation is not None:
        _local.busy = True
        try:
            cfg.on_violation(event, args)
        finally:
            _local.busy = False
    raise SandboxViolation(event, detail, where=where)


def _is_write(mode: object, flags: object) -> bool:
    if isinstance(mode, str) and any(c in mode for c in "wax+"):
        return True
    return isinstance(flags, int) and bool(flags & WRITE_FLAGS)


def _path_allowed(cfg: _Config, raw: object, write: bool) -> bool:
    if isinstance(raw, int):
        return True  # an already open descriptor
    if isinstance(raw, bytes):
        raw = os.fsdecode(raw)
    if not isinstance(raw, str | os.PathLike):
        return True
    path = _norm(os.fsdecode(raw))
    if _inside(path, cfg.roots):
        real = os.path.realpath(path)  # a symlink inside a root must not lead outside it
        return real == path or _inside(real, cfg.roots) or (not write and _inside(real, cfg.python))
    if _inside(path, cfg.python):
        return not write or "/__pycache__/" in path
    if path == "/dev/null" or (not write and _inside(path, cfg.extra_read)):
        return True
    if path == _TMP:
        return True  # the temp folder itself: an anonymous O_TMPFILE file (pytest's capture), or a listing
    return not write and _inside(path, READ_ONLY_SYSTEM)


def _host_allowed(cfg: _Config, host: str) -> bool:
    host = host.lower().rstrip(".")
    try:
        ip = ipaddress.ip_address(host.split("%")[0])
    except ValueError:
        ip = None
    if ip is not None:
        if ip.is_loopback or ip.is_unspecified:
            return cfg.allow_loopback
        if host in cfg.hosts:
            return True
        _resolve_allowed(cfg)
        return host in cfg.resolved
    if host == "localhost":
        return cfg.allow_loopback
    return any(host == h or fnmatch.fnmatchcase(host, h) for h in cfg.hosts)


def _is_ip(host: str) -> bool:
    """An address literal: resolving it asks no name server; the connect is checked instead."""
    try:
        ipaddress.ip_address(host.split("%")[0])
    except ValueError:
        return False
    return True


def _resolve_allowed(cfg: _Config) -> None:
    """The addresses of the allowed hosts (wildcards cannot be resolved: connect by name instead)."""
    if cfg.resolved_ready:
        return
    _local.busy = True
    try:
        for host in cfg.hosts:
            if "*" in host:
                continue
            try:
                for info in socket.getaddrinfo(host, None):
                    cfg.resolved.add(str(info[4][0]))
            except OSError:
                continue
    finally:
        _local.busy = False
        cfg.resolved_ready = True


def _hook(event: str, args: tuple[object, ...]) -> None:
    cfg = _config
    if cfg is None or getattr(_local, "busy", False):
        return
    if event == "open":
        write = _is_write(args[1] if len(args) > 1 else None, args[2] if len(args) > 2 else None)
        if not _path_allowed(cfg, args[0], write):
            _refuse(
                cfg, event, args, f"{'writing' if write else 'reading'} {args[0]!r} is outside the connector"
            )
    elif event in WRITE_PATH_EVENTS:
        for raw in args[: WRITE_PATH_EVENTS[event]]:
            if not _path_allowed(cfg, raw, True):
                _refuse(cfg, event, args, f"changing {raw!r} is outside the connector")
    elif event == "os.chdir":
        target = args[0]
        if isinstance(target, str | bytes | os.PathLike) and not _inside(
            _norm(os.fsdecode(target)), cfg.roots
        ):
            _refuse(cfg, event, args, f"changing directory to {args[0]!r}")
    elif event in PROCESS_EVENTS:
        _refuse(cfg, event, args, f"starting a process ({args[0]!r})" if args else "starting a process")
    elif event in CTYPES_EVENTS:
        _refuse(cfg, event, args, "ctypes reaches native code")
    elif event in ("socket.connect", "socket.sendto", "socket.sendmsg"):
        address = args[1] if len(args) > 1 else None
        if isinstance(address, tuple) and address:
            if not _host_allowed(cfg, str(address[0])):
                _refuse(cfg, event, args, f"connecting to {address[0]!r}, which is not in allowed_hosts")
        elif isinstance(address, str | bytes):  # a unix socket is a file
            if not _path_allowed(cfg, address, True):
                _refuse(cfg, event, args, f"connecting to the unix socket {address!r}")
    elif event in ("socket.getaddrinfo", "socket.gethostbyname", "socket.gethostbyname_ex"):
        host = args[0] if args else None
        if isinstance(host, bytes):
            host = host.decode("ascii", "replace")
        if isinstance(host, str) and host and not _is_ip(host) and not _host_allowed(cfg, host):
            _refuse(cfg, event, args, f"resolving {host!r}, which is not in allowed_hosts")
    elif event == "sys.addaudithook":
        _refuse(cfg, event, args, "adding an audit hook")
    elif event == "object.__setattr__" and args and isinstance(args[0], type):
        module = str(getattr(args[0], "__module__", ""))
        if module.startswith(GUARDED_CLASS_MODULES) and _caller_in_roots(cfg):
            _refuse(cfg, event, args, f"patching {module}.{args[0].__name__}.{args[1]}")


def _caller_in_roots(cfg: _Config) -> bool:
    """Whether the frame that did the setattr is the connector's own code (not a library it called)."""
    frame = sys._getframe(2)  # 0: this function, 1: the hook, 2: the code that set the attribute
    return _inside(_norm(frame.f_code.co_filename), cfg.roots)
