"""A seccomp filter the sandboxed child puts on itself before the user's code is imported.

It refuses, for the rest of the process's life (threads included, and every thread created later):
``fork``, ``vfork``, ``clone`` without ``CLONE_THREAD`` (new processes; threads stay allowed),
``clone3`` (answered ENOSYS so the C library falls back to ``clone``), ``execve``/``execveat``,
``ptrace``, and every x32-ABI system call. Spawning a process from user code then fails with
``PermissionError`` whatever route it takes (``subprocess``, ``os.system``, ``os.fork``, ``ctypes``).
``no_new_privs`` is set first, as the kernel requires for an unprivileged filter.

Implemented for x86_64 (the architecture of this service's machines); elsewhere :func:`install`
returns False and the other layers (namespaces, audit hooks) remain.
"""

from __future__ import annotations

import ctypes
import errno
import platform
import struct

AUDIT_ARCH_X86_64 = 0xC000003E
X32_SYSCALL_BIT = 0x40000000
CLONE_THREAD = 0x00010000
NR = {"clone": 56, "fork": 57, "vfork": 58, "execve": 59, "ptrace": 101, "execveat": 322, "clone3": 435}

LD_W_ABS = 0x20
JEQ_K = 0x15
JGE_K = 0x35
JSET_K = 0x45
RET_K = 0x06
RET_ALLOW = 0x7FFF0000
RET_KILL_PROCESS = 0x80000000
RET_ERRNO = 0x00050000

PR_SET_NO_NEW_PRIVS = 38
SYS_SECCOMP = 317
SECCOMP_SET_MODE_FILTER = 1
SECCOMP_FILTER_FLAG_TSYNC = 1


def _program() -> list[tuple[int, int, int, int]]:
    eperm = RET_ERRNO | errno.EPERM
    denied = [NR[n] for n in ("fork", "vfork", "execve", "execveat", "ptrace")]
    prog: list[tuple[int, int, int, int]] = [
        (LD_W_ABS, 0, 0, 4),  # seccomp_data.arch
        (JEQ_K, 1, 0, AUDIT_ARCH_X86_64),
        (RET_K, 0, 0, RET_KILL_PROCESS),
        (LD_W_ABS, 0, 0, 0),  # seccomp_data.nr
        (JGE_K, 0, 1, X32_SYSCALL_BIT),
        (RET_K, 0, 0, eperm),
        (JEQ_K, 0, 1, NR["clone3"]),
        (RET_K, 0, 0, RET_ERRNO | errno.ENOSYS),
    ]
    for nr in denied:
        prog += [(JEQ_K, 0, 1, nr), (RET_K, 0, 0, eperm)]
    prog += [
        (JEQ_K, 1, 0, NR["clone"]),
        (RET_K, 0, 0, RET_ALLOW),
        (LD_W_ABS, 0, 0, 16),  # low 32 bits of args[0] (clone flags), little-endian
        (JSET_K, 1, 0, CLONE_THREAD),
        (RET_K, 0, 0, eperm),
        (RET_K, 0, 0, RET_ALLOW),
    ]
    return prog


def install() -> bool:
    """Put the filter on every thread of this process; False where unsupported (not x86_64 Linux)."""
    if platform.system() != "Linux" or platform.machine() not in ("x86_64", "AMD64"):
        return False
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS) failed")
    prog = _program()
    raw = b"".join(struct.pack("HBBI", *ins) for ins in prog)
    buf = ctypes.create_string_buffer(raw, len(raw))

    class SockFprog(ctypes.Structure):
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]

    fprog = SockFprog(len(prog), ctypes.cast(buf, ctypes.c_void_p))
    rc = libc.syscall(SYS_SECCOMP, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, ctypes.byref(fprog))
    if rc != 0:
        raise OSError(ctypes.get_errno(), "seccomp(SECCOMP_SET_MODE_FILTER) failed")
    return True


__all__ = ["install"]
