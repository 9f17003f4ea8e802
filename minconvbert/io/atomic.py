"""Atomic file writes: a crash or an exception mid-write leaves any earlier file untouched.

    with atomic_write("ckpt/model.safetensors") as f:
        f.write(header)
        f.write(data)

The bytes go to a temporary file `.model.safetensors.<random>.tmp` in the same directory (so the
final rename never crosses a file system), which is flushed and fsync-ed before `os.replace` swaps
it in under the final name in one step. Readers see either the old file or the complete new one,
never a half-written file. If the body of the `with` raises, the temporary file is removed and the
old file stays as it was.

A process killed mid-write (SIGKILL, power loss) cannot remove its temporary file. So while it
writes, a process holds an exclusive lock (flock) on its temporary file, which the kernel releases
when the process dies, however it dies; each new write to the same target first sweeps the
temporary files whose lock it can take. A live writer's file is never touched. Where there is no
flock (Windows), nothing is swept. `create_locked` and `claim_abandoned` do the same for the
staging directories of `atomic_dir`.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import secrets
from pathlib import Path
from typing import BinaryIO, Iterator

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None

__all__ = ["atomic_write", "atomic_copy", "create_locked", "claim_abandoned", "sweep_temporary_files",
           "is_temporary_name"]

_TOKEN = re.compile(r"[0-9a-f]{12}")


def _fsync_directory(directory: Path) -> None:
    """Make renames in `directory` durable (POSIX); silently skipped where directories cannot be opened."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _try_lock(fd: int) -> bool | None:
    """Take an exclusive lock without waiting: True if taken, False if another holds it, None if unsupported."""
    if fcntl is None:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except OSError as e:
        return False if e.errno in (errno.EWOULDBLOCK, errno.EAGAIN) else None


def create_locked(directory: Path, prefix: str, suffix: str = "", *, is_dir: bool = False) -> tuple[int, Path]:
    """Create `directory/<prefix><random><suffix>` (a file, or a directory with is_dir) and lock it.

    Returns (fd holding the lock, path). A sweeper may take the lock in the instant between the
    creation and our lock, and remove the new entry: then another name is tried.
    """
    for _ in range(100):
        path = directory / f"{prefix}{secrets.token_hex(6)}{suffix}"
        try:
            if is_dir:
                os.mkdir(path)
                fd = os.open(path, os.O_RDONLY)
            else:
                fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
        except (FileExistsError, FileNotFoundError):
            continue
        if _try_lock(fd) is not False and os.fstat(fd).st_nlink > 0:
            return fd, path
        os.close(fd)  # a sweeper got there first and removes it
    raise FileExistsError(f"could not create a temporary entry {prefix}*{suffix} in {directory}")


@contextlib.contextmanager
def claim_abandoned(path: Path) -> Iterator[bool]:
    """Yield True, holding its lock, if `path` is a temporary entry whose owner has died; else False.

    Nothing is claimed without flock: an entry that cannot be locked is assumed live.
    """
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    except OSError:
        yield False
        return
    try:
        yield _try_lock(fd) is True and _still_at(path, fd)
    finally:
        os.close(fd)


def _still_at(path: Path, fd: int) -> bool:
    """Whether `path` still names the file open as `fd` (not renamed away since it was opened)."""
    try:
        return os.stat(path, follow_symlinks=False).st_ino == os.fstat(fd).st_ino
    except OSError:
        return False


def is_temporary_name(name: str, target: str | None = None) -> bool:
    """Whether `name` is one of atomic_write's temporary files (of `target`, if given)."""
    if not (name.startswith(".") and name.endswith(".tmp")) or len(name) < 19:
        return False
    stem, token = name[1:-17], name[-16:-4]
    return name[-17] == "." and bool(_TOKEN.fullmatch(token)) and (target is None or stem == target)


def sweep_temporary_files(directory: Path, target: str | None = None) -> list[Path]:
    """Remove the temporary files in `directory` (of `target`) whose writer has died; returns them."""
    removed, candidates = [], []
    with contextlib.suppress(OSError), os.scandir(directory) as entries:
        candidates = [Path(e.path) for e in entries if is_temporary_name(e.name, target)]
    for path in candidates:
        with claim_abandoned(path) as abandoned:
            if abandoned:
                with contextlib.suppress(OSError):
                    os.unlink(path)
                    removed.append(path)
    return removed


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike) -> Iterator[BinaryIO]:
    """Open a binary file for writing that appears under `path` only once complete.

    The temporary file is created with mode 0o666 minus the umask, like a plain `open(path, "wb")`.
    """
    path = Path(path)
    directory = path.parent
    if not directory.is_dir():
        raise FileNotFoundError(f"atomic_write: directory {str(directory)!r} does not exist")
    sweep_temporary_files(directory, path.name)
    fd, tmp = create_locked(directory, f".{path.name}.", ".tmp")
    f = os.fdopen(fd, "wb")
    try:
        yield f
        f.flush()
        os.fsync(f.fileno())
        if fcntl is None:
            f.close()  # Windows cannot rename an open file (and there is no lock to keep)
        os.replace(tmp, path)  # still holding the lock: a sweeper never sees this file abandoned
    except BaseException:
        f.close()
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    finally:
        f.close()
    _fsync_directory(directory)


def atomic_copy(src: str | os.PathLike, dst: str | os.PathLike, chunk_bytes: int = 1 << 24) -> None:
    """Copy the file `src` to `dst` atomically (same guarantees as `atomic_write`)."""
    with open(src, "rb") as fin, atomic_write(dst) as fout:
        while chunk := fin.read(chunk_bytes):
            fout.write(chunk)
