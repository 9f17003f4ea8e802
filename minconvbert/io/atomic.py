"""Atomic file writes: a crash or an exception mid-write leaves any earlier file untouched.

    with atomic_write("ckpt/model.safetensors") as f:
        f.write(header)
        f.write(data)

The bytes go to a temporary file in the same directory (so the final rename never crosses a file
system), which is flushed and fsync-ed before `os.replace` swaps it in under the final name in one
step. Readers see either the old file or the complete new one, never a half-written file. If the
body of the `with` raises (or the process is interrupted), the temporary file is removed and the old
file stays as it was.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path
from typing import BinaryIO, Iterator

__all__ = ["atomic_write", "atomic_copy"]


def _fsync_directory(directory: Path) -> None:
    """Make the rename itself durable (POSIX); silently skipped where directories cannot be opened."""
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


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike) -> Iterator[BinaryIO]:
    """Open a binary file for writing that appears under `path` only once complete.

    The temporary file is created with mode 0o666 minus the umask, like a plain `open(path, "wb")`.
    """
    path = Path(path)
    directory = path.parent
    if not directory.is_dir():
        raise FileNotFoundError(f"atomic_write: directory {str(directory)!r} does not exist")
    tmp = directory / f".{path.name}.{secrets.token_hex(6)}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_directory(directory)


def atomic_copy(src: str | os.PathLike, dst: str | os.PathLike, chunk_bytes: int = 1 << 24) -> None:
    """Copy the file `src` to `dst` atomically (same guarantees as `atomic_write`)."""
    with open(src, "rb") as fin, atomic_write(dst) as fout:
        while chunk := fin.read(chunk_bytes):
            fout.write(chunk)
