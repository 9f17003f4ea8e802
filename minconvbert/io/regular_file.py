"""Opening a checkpoint file for reading: regular files only.

A FIFO named model.safetensors makes a plain `open()` wait for a writer that may never come, and a
character device (/dev/zero) never ends. The file is opened with O_NONBLOCK, so that opening a FIFO
returns at once, and its type is checked with fstat before a single byte is read.
"""

from __future__ import annotations

import os
import stat

__all__ = ["open_regular", "read_regular"]

_KINDS = {stat.S_ISDIR: "a directory", stat.S_ISFIFO: "a FIFO (named pipe)", stat.S_ISCHR: "a character device",
          stat.S_ISBLK: "a block device", stat.S_ISSOCK: "a socket"}


def open_regular(path: str | os.PathLike, error: type[Exception], caller: str, buffering: int = -1):
    """Open `path` for binary reading; raise `error` unless it is a regular file (after symlinks).

    FileNotFoundError names `caller` (e.g. "safe_open") and the path. `buffering` as for `open`.
    """
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except FileNotFoundError:
        raise FileNotFoundError(f"{caller}: no such file {str(path)!r}") from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            kind = next((name for test, name in _KINDS.items() if test(mode)), "not a regular file")
            raise error(f"{path}: is {kind}, not a regular file; refusing to read it")
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb", buffering=buffering)
    except BaseException:
        os.close(fd)
        raise


def read_regular(path: str | os.PathLike, limit: int, error: type[Exception], caller: str,
                 what: str = "file") -> bytes:
    """The bytes of the regular file `path`; raise `error` for anything else or for more than `limit` bytes.

    The size is checked before reading, and the read asks for that size (plus one byte, to catch a
    file growing meanwhile), never for `limit`: a 0-byte file costs no 64 MB buffer.
    """
    with open_regular(path, error, caller) as f:
        size = os.fstat(f.fileno()).st_size
        if size > limit:
            raise error(f"{path}: is {size:,} bytes, larger than {limit:,} bytes, the limit for a {what}")
        raw = f.read(size + 1)
    if len(raw) > size:
        raise error(f"{path}: grew while it was read; more than the {size:,} bytes it held when opened")
    return raw
