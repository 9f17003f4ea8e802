"""Temporary files and staging directories: a killed writer's are swept, a live writer's never are;
replace_directory gives the same result with and without the one-step exchange."""

from __future__ import annotations

import os
import signal
import sys
import time

import pytest

from minconvbert.io import atomic, atomic_dir

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="flock and fork: POSIX only")


def _holder(create):
    """Fork a child that creates a locked entry with `create()` and then waits; returns (pid, path)."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        _, path = create()
        os.write(write, os.fsencode(path))
        time.sleep(60)
        os._exit(0)
    os.close(write)
    path = os.fsdecode(os.read(read, 4096))
    os.close(read)
    return pid, path


def _kill(pid):
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)


def test_a_live_writers_temporary_file_is_kept_and_a_dead_ones_swept(tmp_path):
    pid, path = _holder(lambda: atomic.create_locked(tmp_path, ".model.safetensors.", ".tmp"))
    try:
        assert atomic.is_temporary_name(os.path.basename(path), "model.safetensors")
        with atomic.atomic_write(tmp_path / "model.safetensors") as f:  # sweeps first
            f.write(b"new")
        assert os.path.exists(path)  # its writer is alive
    finally:
        _kill(pid)
    with atomic.atomic_write(tmp_path / "model.safetensors") as f:
        f.write(b"newer")
    assert sorted(os.listdir(tmp_path)) == ["model.safetensors"]  # the dead writer's file is gone
    assert (tmp_path / "model.safetensors").read_bytes() == b"newer"


def test_other_names_are_never_swept(tmp_path):
    for name in (".model.safetensors.tmp", ".model.safetensors.0123456789ab.tmp.bak", "notes.tmp",
                 ".other.0123456789ab.tmp"):
        (tmp_path / name).write_text("x")
    for name in (".ckpt.saving-notes", "ckpt.saving-0123456789ab", ".ckpt.saving-0123456789ab.old"):
        (tmp_path / name).mkdir()
    with atomic.atomic_write(tmp_path / "model.safetensors") as f:
        f.write(b"x")
    atomic_dir.sweep(tmp_path)
    assert len(os.listdir(tmp_path)) == 8


def test_a_live_staging_directory_is_kept_and_a_dead_ones_swept(tmp_path):
    target = tmp_path / "ckpt"
    pid, root = _holder(lambda: atomic.create_locked(tmp_path, ".ckpt.saving-", is_dir=True))
    try:
        with atomic_dir.replace_directory(target) as staging:
            (staging / "a").write_text("1")
        assert os.path.isdir(root)
    finally:
        _kill(pid)
    atomic_dir.sweep(tmp_path)
    assert sorted(os.listdir(tmp_path)) == ["ckpt"]


def test_sweep_restores_the_old_tree_when_the_fallback_was_interrupted(tmp_path):
    # A crash between the fallback's two renames: the directory is gone, its old tree in the root.
    pid, root = _holder(lambda: atomic.create_locked(tmp_path, ".ckpt.saving-", is_dir=True))
    try:
        os.mkdir(os.path.join(root, "old"))
        with open(os.path.join(root, "old", "config.json"), "w") as f:
            f.write("{}")
        atomic_dir.sweep(tmp_path)
        assert not (tmp_path / "ckpt").exists()  # its owner may still be between the renames
    finally:
        _kill(pid)
    atomic_dir.sweep(tmp_path)
    assert sorted(os.listdir(tmp_path)) == ["ckpt"] and (tmp_path / "ckpt" / "config.json").read_text() == "{}"


@pytest.mark.parametrize("exchange", [True, False])
def test_replace_directory_with_and_without_exchange(tmp_path, monkeypatch, exchange):
    if not exchange:
        monkeypatch.setattr(atomic_dir, "_RENAMEAT2", None)
    target = tmp_path / "ckpt"
    with atomic_dir.replace_directory(target) as staging:  # the directory does not exist yet
        (staging / "config.json").write_text("1")
    (target / "vocab.txt").write_text("v")
    (target / "sub").mkdir()
    (target / "sub" / "f").write_text("f")
    (target / "model.safetensors").write_text("old weights")
    inode = os.stat(target / "vocab.txt").st_ino
    with atomic_dir.replace_directory(target, drop=lambda name: name == "model.safetensors") as staging:
        (staging / "config.json").write_text("2")
        (staging / "pytorch_model.bin").write_text("new weights")
    assert sorted(os.listdir(target)) == ["config.json", "pytorch_model.bin", "sub", "vocab.txt"]
    assert (target / "config.json").read_text() == "2" and (target / "sub" / "f").read_text() == "f"
    assert os.stat(target / "vocab.txt").st_ino == inode  # hard-linked, not copied
    with atomic_dir.replace_directory(target, keep_others=False) as staging:
        (staging / "only").write_text("x")
    assert os.listdir(target) == ["only"] and sorted(os.listdir(tmp_path)) == ["ckpt"]


def test_an_exception_inside_leaves_the_directory_as_it_was(tmp_path):
    target = tmp_path / "ckpt"
    target.mkdir()
    (target / "config.json").write_text("old")
    with pytest.raises(RuntimeError), atomic_dir.replace_directory(target) as staging:
        (staging / "config.json").write_text("new")
        raise RuntimeError("disk full (simulated)")
    assert os.listdir(target) == ["config.json"] and (target / "config.json").read_text() == "old"
    assert sorted(os.listdir(tmp_path)) == ["ckpt"]


def test_remove_directory_is_one_step(tmp_path):
    (tmp_path / "checkpoint-1").mkdir()
    (tmp_path / "checkpoint-1" / "trainer_state.json").write_text("{}")
    atomic_dir.remove_directory(tmp_path / "checkpoint-1")
    assert os.listdir(tmp_path) == []
