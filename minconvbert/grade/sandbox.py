"""The operating-system side of isolation: start the worker apart, bound it, and kill everything it started.

Grader side:
    protect_grader()          this process: not readable by others (/proc/<pid>/fd), and the parent
                              that orphans of its workers are handed to (so that none escapes)
    worker_user()             `nobody`, when the grader is root and nobody can read this Python
    Spawned(argv, env, cwd)   the worker, in a session of its own; .kill() ends the worker and every
                              process it started, also those that left its session
Worker side, before any student code runs:
    enter_pid_namespace()     (root only) a PID namespace of its own: it can signal nothing outside,
                              and whatever it starts dies with it
    confine(limits)           drop root to `nobody` (or, when nobody cannot read this Python, drop
                              every capability), then resource limits on memory, CPU time, file size
                              and processes; no core dumps, no new privileges, death with the grader

Linux gives all of this; elsewhere the worker still gets its own session, the resource limits and
a kill of its process group. What this can and cannot promise is in docs/assignments/README.md.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import time

try:
    import pwd
    import resource
except ImportError:  # Windows: the worker still runs apart, with its time limits; no limits, no user change
    pwd = resource = None

__all__ = ["protect_grader", "worker_user", "isolation", "Spawned", "enter_pid_namespace", "confine", "DEFAULT_LIMITS"]

PR_SET_PDEATHSIG, PR_SET_DUMPABLE, PR_CAPBSET_DROP, PR_SET_CHILD_SUBREAPER, PR_SET_NO_NEW_PRIVS = 1, 4, 24, 36, 38

DEFAULT_LIMITS = {
    "memory_mb": 4096,  # address space: NumPy, numba and LLVM need ~400 MB; a runaway allocation fails
    "cpu_seconds": 600,  # a backstop behind the per-check wall-clock limits (set per worker by the runner)
    "file_mb": 64,  # the largest file the worker may write (its stderr included)
    "processes": 4,  # new processes or threads beyond those its user runs already
}


def _prctl(option: int, value: int) -> bool:
    try:
        return ctypes.CDLL(None, use_errno=True).prctl(option, value, 0, 0, 0) == 0
    except (OSError, AttributeError, TypeError):  # not Linux
        return False


def protect_grader() -> None:
    """Make this process unreadable through /proc by processes of its user (so a worker cannot write to
    its stdout), and a subreaper (so that a worker's orphans become its children, to be killed)."""
    _prctl(PR_SET_DUMPABLE, 0)
    _prctl(PR_SET_CHILD_SUBREAPER, 1)


def _readable_by_anyone(path: str) -> bool:
    """Whether every folder above `path` lets others through and `path` lets them read (no ACLs considered)."""
    import stat

    path = os.path.realpath(path)
    try:
        if not os.stat(path).st_mode & stat.S_IROTH:
            return False
        parent = os.path.dirname(path)
        while True:
            if not os.stat(parent).st_mode & stat.S_IXOTH:
                return False
            if parent == os.path.dirname(parent):
                return True
            parent = os.path.dirname(parent)
    except OSError:
        return False


def worker_user(needed=()) -> tuple[int, int] | None:
    """(uid, gid) of `nobody` when this process is root (the worker must not be) and nobody can read
    the interpreter, its standard library and the `needed` paths; else None (the worker then keeps
    this process's user; as root, without any capability)."""
    if pwd is None or os.geteuid() != 0:
        return None
    try:
        entry = pwd.getpwnam("nobody")
    except KeyError:
        return None
    paths = [os.path.realpath(sys.executable), os.path.dirname(os.__file__), *needed]
    return (entry.pw_uid, entry.pw_gid) if all(_readable_by_anyone(p) for p in paths) else None


def isolation(user, pid_namespace: bool) -> str:
    """How the worker was kept apart, in words (for the report)."""
    if user:
        who = "nobody"
    elif pwd is not None and os.geteuid() == 0:
        who = "root without capabilities (nobody cannot read this Python)"
    else:
        who = "your user"
    return f"worker ran as {who}" + (", in a PID namespace of its own" if pid_namespace else "")


def _process_table() -> dict[int, tuple[str, int, int, int]]:
    """{pid: (state, ppid, session, start time)} of every process, from /proc (empty elsewhere)."""
    table = {}
    try:
        names = os.listdir("/proc")
    except OSError:
        return table
    for name in names:
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as stat:
                fields = stat.read().rsplit(b")", 1)[1].split()
        except (OSError, IndexError):
            continue  # gone meanwhile
        # after "pid (comm)": state ppid pgrp session ... starttime is field 22 of the whole line
        table[int(name)] = (fields[0].decode(), int(fields[1]), int(fields[3]), int(fields[19]))
    return table


class Spawned:
    """A process started in a new session, and `kill()`, which leaves none of its descendants alive."""

    def __init__(self, argv: list[str], env: dict, cwd: str, stderr):
        self.me = os.getpid()
        self.children_before = {pid for pid, row in _process_table().items() if row[1] == self.me}
        self.process = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr, cwd=cwd,
                                        env=env, start_new_session=True, close_fds=True)
        self.started = _process_table().get(self.process.pid, ("", 0, 0, 0))[3]

    def _descendants(self, table) -> set[int]:
        root = self.process.pid
        tree = {pid for pid, (_, ppid, session, start) in table.items()
                if pid == root or session == root
                or (ppid == self.me and pid not in self.children_before and start >= self.started)}
        grew = True
        while grew:  # add the children of members, and theirs
            more = {pid for pid, (_, ppid, _, _) in table.items() if ppid in tree} - tree
            tree |= more
            grew = bool(more)
        return tree

    def kill(self) -> None:
        """SIGKILL the worker, its process group and session, and every descendant that left them
        (they were handed to this process, a subreaper); reap what became ours."""
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError, AttributeError):  # (no process groups on Windows)
            self.process.kill()
        for _ in range(200):
            table = _process_table()
            tree = self._descendants(table)
            for pid in tree:
                if table[pid][1] == self.me and pid != self.process.pid and table[pid][0] == "Z":
                    try:
                        os.waitpid(pid, os.WNOHANG)
                    except ChildProcessError:
                        pass
            alive = [pid for pid in tree if table[pid][0] != "Z"]
            if not alive:
                break
            for pid in alive:
                try:
                    os.kill(pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
            time.sleep(0.005)
        self.process.wait()


def _tasks_of(uid: int) -> int:
    """How many processes and threads user `uid` runs (the count RLIMIT_NPROC limits)."""
    count = 0
    for name in os.listdir("/proc") if os.path.isdir("/proc") else []:
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/status", encoding="ascii", errors="replace") as status:
                fields = dict(line.split(":", 1) for line in status if ":" in line)
            if int(fields["Uid"].split()[0]) == uid:
                count += int(fields["Threads"])
        except (OSError, KeyError, ValueError):
            continue
    return count


def enter_pid_namespace() -> bool:
    """Continue in a new PID namespace, as its first process (Linux, with CAP_SYS_ADMIN; else False and
    nothing changes). From there the worker sees and can signal no process outside, and when it dies
    the kernel kills every process it started. The process outside forks it, waits, and ends as it did."""
    libc = ctypes.CDLL(None, use_errno=True)
    if not sys.platform.startswith("linux") or libc.unshare(0x20000000) != 0:  # CLONE_NEWPID
        return False
    child = os.fork()
    if child == 0:
        return True
    os.close(0)  # the channel is the child's: its end must close when the child dies
    os.close(1)
    _, status = os.waitpid(child, 0)
    if os.WIFSIGNALED(status):
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        if os.WTERMSIG(status) not in (signal.SIGKILL, signal.SIGSTOP):
            signal.signal(os.WTERMSIG(status), signal.SIG_DFL)
        os.kill(os.getpid(), os.WTERMSIG(status))  # end as the worker did, for the grader's report
    os._exit(os.WEXITSTATUS(status) if os.WIFEXITED(status) else 1)


def _drop_capabilities() -> None:
    """Root without capabilities: file access by owner only, no ptrace, no raising of limits; the
    bounding set goes too, so that no program it runs gets them back."""
    libc = ctypes.CDLL(None, use_errno=True)
    for capability in range(64):
        if libc.prctl(PR_CAPBSET_DROP, capability, 0, 0, 0) != 0 and ctypes.get_errno() == 22:  # EINVAL: no more
            break

    class Header(ctypes.Structure):
        _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]

    class Data(ctypes.Structure):
        _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]

    if libc.capset(ctypes.byref(Header(0x20080522, 0)), (Data * 2)()) != 0:  # version 3: 64-bit sets, all empty
        raise RuntimeError("the worker could not drop its capabilities")


def confine(limits: dict) -> None:
    """In the worker, before the student's code: become `limits["user"]` (uid, gid) if given (or, as
    root, lose every capability), then set the resource limits of DEFAULT_LIMITS' keys."""
    if resource is None:
        return
    user = limits.get("user")
    if user:
        uid, gid = user
        os.setgroups([])
        os.setgid(gid)
        os.setuid(uid)
        try:
            os.setuid(0)
        except PermissionError:
            pass
        else:
            raise RuntimeError("the worker could not drop root privileges")
    elif sys.platform.startswith("linux") and os.geteuid() == 0:
        _drop_capabilities()
    _prctl(PR_SET_NO_NEW_PRIVS, 1)  # no set-user-ID program can give privileges back
    _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)  # the worker dies with the grader
    mib = 1024 * 1024
    cpu = int(limits["cpu_seconds"])
    wanted = [(resource.RLIMIT_CORE, 0, 0), (resource.RLIMIT_AS, limits["memory_mb"] * mib, limits["memory_mb"] * mib),
              (resource.RLIMIT_FSIZE, limits["file_mb"] * mib, limits["file_mb"] * mib),
              (resource.RLIMIT_CPU, cpu, cpu + 5)]  # SIGXCPU at the soft limit, SIGKILL 5 s later
    if hasattr(resource, "RLIMIT_NPROC"):
        allowed = _tasks_of(os.getuid()) + int(limits["processes"])
        wanted.append((resource.RLIMIT_NPROC, allowed, allowed))
    for name, soft, hard in wanted:
        try:
            resource.setrlimit(name, (soft, hard))
        except (ValueError, OSError):
            if sys.platform.startswith("linux"):  # elsewhere some limits do not exist (macOS: address space)
                raise
    # a namespace's first process ignores signals it has no handler for: exit with the shell's status for SIGXCPU
    signal.signal(signal.SIGXCPU, lambda number, frame: os._exit(128 + number))
