"""Replacing a directory's files in one step: after any crash it holds the old files or the new ones.

    with replace_directory("ckpt") as staging:       # an empty directory beside ckpt
        write config.json and model.safetensors into staging
    # now ckpt holds the new files and, hard-linked, every other file it held before

Renaming two files one after the other leaves, in between, one new file beside one old one: a
config.json that does not describe the weights. So the new files are written into a staging
directory on the same file system, every other entry of the old directory is hard-linked in beside
them (keep_others), and the two directories trade places in one system call, renameat2 with
RENAME_EXCHANGE (Linux 3.15+):

    <parent>/.ckpt.saving-<random>/    the staging root, locked (flock) while its owner lives
        new/                           the new tree; after the exchange, the old one (then removed)

Where the exchange is not available (other systems, some file systems), ckpt is renamed into the
root as old/ and new/ renamed to ckpt: for an instant there is no ckpt, and a crash in that instant
leaves the old tree in root/old. `sweep` puts it back: it removes the roots whose owner has died
(their lock can be taken; a live owner's root is never touched), restoring old/ first if its
directory is missing. Every `replace_directory` sweeps its own target first.

A directory that cannot be swapped with a sibling at all -- a mount point (say a Docker volume), or
one whose parent is not writable -- gets the best that can be done in place, with a warning: the
staging root inside it, each new file renamed into place, `last` (a checkpoint's config.json) last.

Not supported: another process writing into the directory while it is replaced (its files may land
in the old tree). A process whose working directory is inside the replaced one is moved to the new
one (other processes keep the old, removed, directory as their working directory).
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import re
import shutil
import sys
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path

from minconvbert.io.atomic import _fsync_directory, claim_abandoned, create_locked, is_temporary_name

__all__ = ["replace_directory", "remove_directory", "sweep"]

_SAVING = ".saving-"
_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


_ROOT = re.compile(r"\..+\.saving-[0-9a-f]{12}")


def _is_root(name: str) -> bool:
    """Whether `name` is a staging root (".<directory>.saving-<12 hex digits>")."""
    return bool(_ROOT.fullmatch(name))


def _renameat2():
    if not sys.platform.startswith("linux"):
        return None
    try:
        return getattr(ctypes.CDLL(None, use_errno=True), "renameat2", None)
    except OSError:
        return None


_RENAMEAT2 = _renameat2()


def _exchange(a: Path, b: Path) -> bool:
    """Swap the entries `a` and `b` in one step; False if this system or file system cannot."""
    if _RENAMEAT2 is None:
        return False
    if _RENAMEAT2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EPERM):
        return False
    raise OSError(code, os.strerror(code), str(a), None, str(b))


def _link_tree(src: Path, dst: Path, skip: Callable[[str], bool]) -> None:
    """Hard-link every file under `src` into `dst` (directories recreated, symlinks copied), except the
    top-level names `skip` accepts. Sockets, FIFOs and devices are not carried over."""
    with os.scandir(src) as entries:
        for entry in entries:
            if skip(entry.name) or is_temporary_name(entry.name) or _is_root(entry.name):
                continue
            target = dst / entry.name
            if entry.is_symlink():
                os.symlink(os.readlink(entry.path), target)
            elif entry.is_dir():
                os.mkdir(target)
                _link_tree(Path(entry.path), target, lambda name: False)
                shutil.copystat(entry.path, target)
            elif entry.is_file():
                try:
                    os.link(entry.path, target, follow_symlinks=False)
                except OSError:  # a file system without hard links, or a file we may not link
                    shutil.copy2(entry.path, target)


def _commit(new: Path, directory: Path, root: Path) -> None:
    """Put the tree `new` at `directory`; the old tree (if any) ends up inside `root`."""
    try:
        if _exchange(new, directory):
            return
    except FileNotFoundError:  # no old directory: a plain rename is atomic
        os.rename(new, directory)
        return
    try:
        os.rename(directory, root / "old")
    except FileNotFoundError:
        os.rename(new, directory)
        return
    try:
        os.rename(new, directory)
    except BaseException:
        os.rename(root / "old", directory)
        raise


def _working_directory_within(directory: Path) -> Path | None:
    try:
        return Path(os.path.realpath(os.getcwd())).relative_to(directory)
    except (OSError, ValueError):
        return None


def sweep(parent: str | os.PathLike, name: str | None = None) -> None:
    """Remove the abandoned staging roots in `parent` (of `parent/name` only, if given).

    An abandoned root whose directory is missing (a crash between the fallback's two renames) first
    gives its old/ tree back.
    """
    parent, roots = Path(parent), []
    with contextlib.suppress(OSError), os.scandir(parent) as entries:
        roots = [Path(e.path) for e in entries
                 if _is_root(e.name) and (name is None or e.name.startswith(f".{name}{_SAVING}"))]
    for root in roots:
        with claim_abandoned(root) as abandoned:
            if not abandoned:
                continue
            directory = parent / root.name[1:root.name.rindex(_SAVING)]
            with contextlib.suppress(OSError):
                if (root / "old").is_dir() and not os.path.lexists(directory):
                    os.rename(root / "old", directory)
            shutil.rmtree(root, ignore_errors=True)


def _replaceable_whole(directory: Path) -> bool:
    """Whether `directory` can be swapped for a sibling: its parent is writable and it is no mount point."""
    if not os.access(directory.parent, os.W_OK | os.X_OK):
        return False
    return not directory.is_dir() or os.stat(directory.parent).st_dev == os.stat(directory).st_dev


def _replace_file_by_file(new: Path, directory: Path, keep_others: bool, drop: Callable[[str], bool],
                          last: str | None) -> None:
    """The fallback for a directory that cannot be swapped whole: each entry of `new` renamed into it,
    `last` after the others and after the stale entries are removed. Not atomic across entries."""
    warnings.warn(f"{directory} is a mount point or its parent is not writable: its files are replaced one by "
                  "one, so a crash mid-save can leave new files beside old ones", RuntimeWarning, stacklevel=4)
    def move(name):
        target = directory / name
        if target.is_dir() and not target.is_symlink():
            shutil.rmtree(target)
        os.replace(new / name, target)

    names = sorted(os.listdir(new), key=lambda name: name == last)
    for name in names[:-1]:
        move(name)
    with os.scandir(directory) as entries:
        stale = [e for e in entries
                 if e.name not in names and not _is_root(e.name) and (not keep_others or drop(e.name))]
    for entry in stale:
        (shutil.rmtree if entry.is_dir(follow_symlinks=False) else os.unlink)(entry.path)
    if names:
        move(names[-1])


@contextlib.contextmanager
def replace_directory(directory: str | os.PathLike, *, keep_others: bool = True,
                      drop: Callable[[str], bool] = lambda name: False, last: str | None = None) -> Iterator[Path]:
    """Yield an empty staging directory; on a clean exit it replaces `directory` in one step.

    keep_others: entries of the old directory that the staging directory lacks are kept (hard
    links), except the top-level names for which `drop(name)` is true. Without it, the staging
    directory becomes the whole new directory. The parent is created if needed. If the body raises,
    `directory` is left as it was. A directory that cannot be swapped whole (a mount point, or its
    parent not writable) has its files replaced one by one instead, `last` last, with a warning.
    """
    directory = Path(os.path.realpath(directory))  # a symlink to a directory: replace its target
    if os.path.lexists(directory) and not directory.is_dir():
        raise NotADirectoryError(f"{directory} exists and is not a directory")
    whole = _replaceable_whole(directory)
    home = directory.parent if whole else directory  # where the staging root goes
    home.mkdir(parents=True, exist_ok=True)
    sweep(home, directory.name)
    fd, root = create_locked(home, f".{directory.name}{_SAVING}", is_dir=True)
    try:
        new = root / "new"
        os.mkdir(new)
        yield new
        if not whole:
            _replace_file_by_file(new, directory, keep_others, drop, last)
            return
        if directory.is_dir():
            shutil.copymode(directory, new)
            if keep_others:
                written = set(os.listdir(new))
                _link_tree(directory, new, lambda entry: entry in written or drop(entry))
        _fsync_directory(new)
        cwd = _working_directory_within(directory)
        _commit(new, directory, root)
        if cwd is not None and (directory / cwd).is_dir():
            os.chdir(directory / cwd)
    finally:
        _fsync_directory(home)
        shutil.rmtree(root, ignore_errors=True)
        os.close(fd)


def remove_directory(directory: str | os.PathLike) -> None:
    """Remove `directory` in one step (renamed into a staging root, then deleted; a crash leaves the
    root to `sweep`), so that no half-deleted directory is ever seen under its name."""
    directory = Path(directory)
    fd, root = create_locked(directory.parent, f".{directory.name}{_SAVING}", is_dir=True)
    try:
        os.rename(directory, root / "removed")
    finally:
        shutil.rmtree(root, ignore_errors=True)
        os.close(fd)
