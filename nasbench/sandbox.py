"""A filesystem sandbox for the isolated strategy process: Linux Landlock, through ctypes.

Landlock (Linux 5.13+) lets an unprivileged process give up file access for itself and its
children, for good: after :func:`restrict` the process may read only below the folders it
listed (minus the folders it denied), write only below the folders it listed as writable,
make no TCP connection (ABI 4+), and signal or ptrace nothing outside its sandbox (so it
cannot read the parent's memory through /proc). Landlock is an allow list whose rules
cover whole subtrees, so a denied folder inside an allowed one is carved out: the allowed
folder keeps its listing right and each of its entries off the path to the denied folder
is allowed one by one.

It must run while the process has one thread (a Landlock domain binds the calling thread
and the threads it starts later): the child calls it before importing numpy, so this module
imports the standard library only. Where Landlock is missing (another OS, an old kernel, a
container that blocks the system calls) :func:`restrict` changes nothing and says why.
:func:`sandbox_plan` makes the lists in the parent, which knows where the tables are.

Not chosen: user and mount namespaces (unshare). They hide folders by mounting over them, a
deny list, and leave the parent's memory readable through /proc/<pid>/mem to a process of
the same user; Landlock allows by list and confines ptrace.
"""

from __future__ import annotations

import ctypes
import os
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

# system calls and constants of <linux/landlock.h>; the numbers are the same on every architecture
SYS_CREATE_RULESET, SYS_ADD_RULE, SYS_RESTRICT_SELF = 444, 445, 446
CREATE_RULESET_VERSION = 1
RULE_PATH_BENEATH = 1
PR_SET_NO_NEW_PRIVS = 38
EXECUTE, WRITE_FILE, READ_FILE, READ_DIR = 1 << 0, 1 << 1, 1 << 2, 1 << 3
MAKE_AND_REMOVE = sum(1 << bit for bit in range(4, 13))  # remove dir/file, make char/dir/reg/sock/fifo/block/sym
REFER, TRUNCATE, IOCTL_DEV = 1 << 13, 1 << 14, 1 << 15  # ABI 2, 3 and 5
FILE_RIGHTS = EXECUTE | WRITE_FILE | READ_FILE | TRUNCATE | IOCTL_DEV  # the rights a rule on a file may hold
NET_BIND_TCP, NET_CONNECT_TCP = 1 << 0, 1 << 1  # ABI 4
SCOPE_ABSTRACT_UNIX_SOCKET, SCOPE_SIGNAL = 1 << 0, 1 << 1  # ABI 6

SYSTEM_READS = ("/usr", "/lib", "/lib32", "/lib64", "/libx32", "/bin", "/sbin", "/etc", "/dev/null", "/dev/zero",
                "/dev/urandom", "/dev/random", "/proc/self", "/proc/cpuinfo", "/proc/meminfo",
                "/sys/devices/system/cpu", "/sys/fs/cgroup")


class _RulesetAttr(ctypes.Structure):
    _fields_ = [("handled_access_fs", ctypes.c_uint64), ("handled_access_net", ctypes.c_uint64),
                ("scoped", ctypes.c_uint64)]


class _PathBeneathAttr(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


@dataclass(frozen=True)
class SandboxReport:
    """What :func:`restrict` did: ``filesystem`` is "landlock" or "none", with the reason."""

    filesystem: str
    detail: str
    abi: int = 0

    def as_dict(self) -> dict[str, object]:
        return {"filesystem": self.filesystem, "detail": self.detail, "landlock_abi": self.abi}


def _libc() -> ctypes.CDLL | None:
    try:
        return ctypes.CDLL(None, use_errno=True)
    except OSError:
        return None


def landlock_abi() -> tuple[int, str]:
    """(ABI version, "") when the kernel offers Landlock, else (0, why not)."""
    if not sys.platform.startswith("linux"):
        return 0, f"Landlock is Linux only (this is {sys.platform})"
    libc = _libc()
    if libc is None:
        return 0, "the C library cannot be loaded"
    abi = libc.syscall(SYS_CREATE_RULESET, None, ctypes.c_size_t(0), ctypes.c_uint32(CREATE_RULESET_VERSION))
    if abi < 0:
        return 0, f"the kernel offers no Landlock ({os.strerror(ctypes.get_errno())})"
    return int(abi), ""


def _inside(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def plan_rules(read: Iterable[str], write: Iterable[str], deny: Iterable[str]) -> list[tuple[str, str]]:
    """(path, "read" | "list" | "read-file" | "write") rules granting ``read`` and ``write``
    except anything inside ``deny`` (all paths resolved; missing ones skipped)."""
    denied = sorted({os.path.realpath(d) for d in deny})
    rules: list[tuple[str, str]] = []
    seen: set[str] = set()

    def grant(path: str) -> None:
        if path in seen or any(_inside(path, d) for d in denied):
            return
        seen.add(path)
        if not os.path.isdir(path):
            rules.append((path, "read-file"))
        elif not any(_inside(d, path) for d in denied):
            rules.append((path, "read"))
        else:  # a denied folder lies below: list this one, grant its other entries one by one
            rules.append((path, "list"))
            try:
                entries = sorted(os.scandir(path), key=lambda e: e.name)
            except OSError:
                return
            for entry in entries:
                if not entry.is_symlink():
                    grant(os.path.join(path, entry.name))

    for path in read:
        real = os.path.realpath(path)
        if os.path.exists(real):
            grant(real)
    for path in write:
        real = os.path.realpath(path)
        if os.path.exists(real) and not any(_inside(real, d) for d in denied):
            rules.append((real, "write"))
    return rules


def restrict(read: Iterable[str], write: Iterable[str], deny: Iterable[str]) -> SandboxReport:
    """Confine this process (and its future threads and children) with Landlock: read and
    execute only below ``read``, write only below ``write``, never inside ``deny``."""
    abi, why = landlock_abi()
    if not abi:
        return SandboxReport("none", why)
    libc = _libc()
    assert libc is not None  # landlock_abi found it
    fs = EXECUTE | WRITE_FILE | READ_FILE | READ_DIR | MAKE_AND_REMOVE
    fs |= (REFER if abi >= 2 else 0) | (TRUNCATE if abi >= 3 else 0) | (IOCTL_DEV if abi >= 5 else 0)
    attr = _RulesetAttr(fs, NET_BIND_TCP | NET_CONNECT_TCP if abi >= 4 else 0,
                        SCOPE_ABSTRACT_UNIX_SOCKET | SCOPE_SIGNAL if abi >= 6 else 0)
    size = 24 if abi >= 6 else 16 if abi >= 4 else 8  # the fields this ABI knows
    ruleset = libc.syscall(SYS_CREATE_RULESET, ctypes.byref(attr), ctypes.c_size_t(size), ctypes.c_uint32(0))
    if ruleset < 0:
        return SandboxReport("none", f"Landlock refused the rule set ({os.strerror(ctypes.get_errno())})", abi)
    rights = {"read": EXECUTE | READ_FILE | READ_DIR, "list": READ_DIR, "read-file": EXECUTE | READ_FILE,
              "write": fs & ~(REFER | EXECUTE)}
    try:
        skipped = []
        for path, kind in plan_rules(read, write, deny):
            allowed = rights[kind] if os.path.isdir(path) else rights[kind] & FILE_RIGHTS
            try:
                fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
            except OSError:
                skipped.append(path)
                continue
            rule = _PathBeneathAttr(allowed & fs, fd)
            if libc.syscall(SYS_ADD_RULE, ctypes.c_int(ruleset), ctypes.c_int(RULE_PATH_BENEATH),
                            ctypes.byref(rule), ctypes.c_uint32(0)) < 0:
                skipped.append(path)
            os.close(fd)
        if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            return SandboxReport("none", f"no_new_privs was refused ({os.strerror(ctypes.get_errno())})", abi)
        if libc.syscall(SYS_RESTRICT_SELF, ctypes.c_int(ruleset), ctypes.c_uint32(0)) < 0:
            return SandboxReport("none", f"Landlock could not be applied ({os.strerror(ctypes.get_errno())})", abi)
    finally:
        os.close(ruleset)
    detail = ("reads limited to the Python installation, its packages and the strategy's folder, minus every "
              "table folder and the load cache; writes to a private temporary folder only")
    if skipped:
        detail += f"; {len(skipped)} path(s) could not be allowed (first: {skipped[0]})"
    return SandboxReport("landlock", detail, abi)


# -- the plan, made in the parent (which knows where the tables are) --------------------------------


def package_roots() -> list[str]:
    """Folders (or files) of the top-level packages and modules this process has loaded:
    editable installs put nasbench's own code outside sys.path."""
    roots = set()
    for name, module in list(sys.modules.items()):
        path = getattr(module, "__file__", None)
        if "." in name or not isinstance(path, str) or not os.path.isabs(path):
            continue
        roots.add(os.path.dirname(path) if os.path.basename(path).startswith("__init__.") else path)
    return sorted(roots)


def deny_paths(tables_dirs: Sequence[str | Path] = (), tables: Iterable[str | Path] = ()) -> list[str]:
    """Every folder nasbench finds tables in, the load cache, and ``tables`` (table folders)."""
    from nasbench.table.arrays import cache_dir
    from nasbench.table.catalog import table_dirs

    paths = [*table_dirs(tables_dirs), *tables]
    cache = cache_dir()
    return [str(path) for path in (*paths, *([cache] if cache else []))]


def sandbox_plan(strategy_file: str | None, deny: list[str], tmp: str) -> dict[str, list[str]]:
    """What the child may read and write: Python and its packages, the strategy's folder, the
    system's libraries; writes only to ``tmp``; never anything inside ``deny``."""
    read = [*SYSTEM_READS, sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix,
            os.path.dirname(os.path.realpath(sys.executable))]
    read += [p for p in sys.path if p and os.path.isabs(p)]  # "" (the working folder) is not granted whole
    read += package_roots()
    if strategy_file:
        folder = Path(strategy_file).parent
        read.append(str(folder))
        # tables kept beside the strategy, if nasbench was not told of them (a cheap, shallow look)
        beside = [m.parent for pattern in ("*/manifest.json", "*/*/manifest.json") for m in folder.glob(pattern)]
        deny = deny + [str(path) for path in beside]
    return {"read": read, "write": [tmp, "/dev/null"], "deny": deny}
