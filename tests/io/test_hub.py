"""Resolving checkpoint names: directories, a fake Hugging Face cache (no network), and the errors."""

import json
import os
import subprocess
import sys
import types

import pytest

from minconvbert.io import hub

REPO = "YituTech/conv-bert-base"
COMMIT = "0123456789abcdef0123456789abcdef01234567"


def _fake_cache(root, repo=REPO, commit=COMMIT, files=("config.json", "pytorch_model.bin", "vocab.txt"),
                ref="main", broken=()):
    """A hub cache laid out as huggingface_hub lays it out: blobs, refs/<ref>, snapshots/<commit>."""
    repo_dir = root / ("models--" + repo.replace("/", "--"))
    (repo_dir / "blobs").mkdir(parents=True, exist_ok=True)
    (repo_dir / "refs").mkdir(exist_ok=True)
    (repo_dir / "refs" / ref).write_text(commit)  # no trailing newline, as the hub writes it
    snapshot = repo_dir / "snapshots" / commit
    snapshot.mkdir(parents=True, exist_ok=True)
    for i, name in enumerate(files):
        blob = repo_dir / "blobs" / f"{i:064x}"
        if name not in broken:
            blob.write_text(json.dumps({"file": name}))
        os.symlink(os.path.relpath(blob, snapshot), snapshot / name)
    return snapshot


@pytest.fixture
def no_hub_library(monkeypatch):
    """Make `import huggingface_hub` fail, as on a machine without it."""
    monkeypatch.setitem(sys.modules, "huggingface_hub", None)


@pytest.fixture
def fake_hub_library(monkeypatch):
    """A stand-in huggingface_hub whose snapshot_download records its calls and runs `behaviour`."""
    module = types.ModuleType("huggingface_hub")
    module.calls = []
    module.behaviour = lambda **kw: (_ for _ in ()).throw(AssertionError("network must not be used"))

    def snapshot_download(repo_id, **kwargs):
        module.calls.append((repo_id, kwargs))
        return module.behaviour(repo_id=repo_id, **kwargs)

    module.snapshot_download = snapshot_download
    monkeypatch.setitem(sys.modules, "huggingface_hub", module)
    return module


def test_existing_directory_is_returned_as_is(tmp_path):
    assert hub.resolve_checkpoint(tmp_path) == tmp_path
    assert hub.resolve_checkpoint(str(tmp_path)) == tmp_path


def test_a_file_is_not_a_checkpoint(tmp_path):
    (tmp_path / "model.safetensors").write_bytes(b"")
    with pytest.raises(NotADirectoryError, match="is a file"):
        hub.resolve_checkpoint(tmp_path / "model.safetensors")


@pytest.mark.parametrize("name", ["a/b/c", "../up", "x--y/z", "/abs/missing", "", "owner/"])
def test_neither_directory_nor_hub_id(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(hub.CheckpointNotFoundError, match="no such directory"):
        hub.resolve_checkpoint(name, environ={"HF_HUB_CACHE": str(tmp_path)})


@pytest.mark.parametrize("env_var, sub", [("HF_HUB_CACHE", ""), ("HUGGINGFACE_HUB_CACHE", ""),
                                          ("HF_HOME", "hub"), ("XDG_CACHE_HOME", "huggingface/hub")])
def test_cache_layout_resolves_without_network(tmp_path, fake_hub_library, env_var, sub):
    cache = tmp_path / sub if sub else tmp_path
    snapshot = _fake_cache(cache)
    assert hub.resolve_checkpoint(REPO, environ={env_var: str(tmp_path)}) == snapshot
    assert fake_hub_library.calls == []


def test_cache_dir_argument_revisions_and_tokenizer_requirements(tmp_path, fake_hub_library):
    snapshot = _fake_cache(tmp_path, files=("config.json", "model.safetensors", "vocab.txt"))
    other = _fake_cache(tmp_path, commit="f" * 40, ref="v1", files=("config.json", "pytorch_model.bin"))
    env = {}
    assert hub.resolve_checkpoint(REPO, cache_dir=tmp_path, environ=env) == snapshot
    assert hub.resolve_checkpoint(REPO, cache_dir=tmp_path, revision="v1", environ=env) == other
    assert hub.resolve_checkpoint(REPO, cache_dir=tmp_path, revision="f" * 40, environ=env) == other
    assert hub.resolve_checkpoint(REPO, cache_dir=tmp_path, required=("vocab.txt",), weights=False,
                                  environ=env) == snapshot
    assert fake_hub_library.calls == []


def test_incomplete_snapshot_without_download(tmp_path, fake_hub_library):
    _fake_cache(tmp_path, files=("config.json", "pytorch_model.bin"), broken=("pytorch_model.bin",))
    with pytest.raises(hub.CheckpointNotFoundError, match="lacks model.safetensors or .*pytorch_model.bin"):
        hub.resolve_checkpoint(REPO, cache_dir=tmp_path, download=False, environ={})
    with pytest.raises(hub.CheckpointNotFoundError, match="not in the hub cache"):
        hub.resolve_checkpoint("someone/else", cache_dir=tmp_path, download=False, environ={})
    assert fake_hub_library.calls == []


def test_without_huggingface_hub_the_message_says_how_to_get_the_files(tmp_path, no_hub_library):
    with pytest.raises(hub.CheckpointNotFoundError) as info:
        hub.resolve_checkpoint(REPO, environ={"HF_HUB_CACHE": str(tmp_path)})
    message = str(info.value)
    for needle in ("huggingface_hub is not installed", "pip install huggingface_hub", "config.json",
                   "model.safetensors", "pytorch_model.bin", "vocab.txt", f"https://huggingface.co/{REPO}",
                   "pass that folder's path"):
        assert needle in message, needle


def test_download_prefers_safetensors_then_falls_back_to_bin(tmp_path, fake_hub_library):
    def behaviour(repo_id, allow_patterns, cache_dir, revision, local_files_only):
        snapshot = tmp_path / "dl"
        snapshot.mkdir(exist_ok=True)
        (snapshot / "config.json").write_text("{}")
        if "pytorch_model.bin" in allow_patterns:  # the repository has only a .bin
            (snapshot / "pytorch_model.bin").write_bytes(b"")
        return str(snapshot)

    fake_hub_library.behaviour = behaviour
    out = hub.resolve_checkpoint(REPO, cache_dir=tmp_path / "cache", environ={})
    assert out == tmp_path / "dl"
    (first, kw1), (_, kw2) = fake_hub_library.calls
    assert first == REPO and kw1["revision"] == "main" and kw1["cache_dir"] == str(tmp_path / "cache")
    assert "model.safetensors" in kw1["allow_patterns"] and "pytorch_model.bin" not in kw1["allow_patterns"]
    assert "pytorch_model.bin" in kw2["allow_patterns"]
    assert not any(p.endswith(".h5") for p in kw1["allow_patterns"] + kw2["allow_patterns"])
    assert kw1["local_files_only"] is False


def test_repository_without_weights(tmp_path, fake_hub_library):
    def behaviour(**kw):
        (tmp_path / "dl").mkdir(exist_ok=True)
        (tmp_path / "dl" / "config.json").write_text("{}")
        return str(tmp_path / "dl")

    fake_hub_library.behaviour = behaviour
    with pytest.raises(hub.CheckpointNotFoundError, match=r"has no model.safetensors .* found \['config.json'\]"):
        hub.resolve_checkpoint(REPO, cache_dir=tmp_path / "cache", environ={})


@pytest.mark.parametrize("offline", [False, True])
def test_download_failure_or_offline_says_how_to_get_the_files(tmp_path, fake_hub_library, offline):
    def behaviour(**kw):
        raise ConnectionError("no route to host")

    fake_hub_library.behaviour = behaviour
    env = {"HF_HUB_OFFLINE": "1"} if offline else {}
    with pytest.raises(hub.CheckpointNotFoundError, match="no route to host") as info:
        hub.resolve_checkpoint(REPO, cache_dir=tmp_path, environ=env)
    assert "pass that folder's path" in str(info.value)
    assert isinstance(info.value.__cause__, ConnectionError)
    assert fake_hub_library.calls[0][1]["local_files_only"] is offline
    assert ("HF_HUB_OFFLINE is set" in str(info.value)) is offline


# ---------------------------------------------------------------------------------------------
# against the real huggingface_hub (no network: offline mode, local files only)


def test_real_huggingface_hub_agrees_on_the_cache_layout(tmp_path):
    hh = pytest.importorskip("huggingface_hub")
    snapshot = _fake_cache(tmp_path)
    theirs = hh.snapshot_download(REPO, cache_dir=str(tmp_path), local_files_only=True)
    assert hub.resolve_checkpoint(REPO, cache_dir=tmp_path, environ={}) == snapshot
    assert os.path.samefile(theirs, snapshot)


def test_real_huggingface_hub_offline_and_not_cached(tmp_path):
    pytest.importorskip("huggingface_hub")
    with pytest.raises(hub.CheckpointNotFoundError, match="HF_HUB_OFFLINE is set"):
        hub.resolve_checkpoint("nobody/nothing-here", cache_dir=tmp_path, environ={"HF_HUB_OFFLINE": "1"})


@pytest.mark.parametrize("env", [
    {},
    {"HF_HOME": "/h"},
    {"HF_HOME": "/h", "HF_HUB_CACHE": "/c"},
    {"HUGGINGFACE_HUB_CACHE": "/legacy", "HF_HOME": "/h"},
    {"HF_HUB_CACHE": "/c", "HUGGINGFACE_HUB_CACHE": "/legacy"},
    {"XDG_CACHE_HOME": "/x"},
    {"XDG_CACHE_HOME": "/x", "HF_HOME": "~/hfhome"},
])
def test_cache_dir_rule_matches_huggingface_hub(env):
    pytest.importorskip("huggingface_hub")
    clean = {k: v for k, v in os.environ.items()
             if k not in ("HF_HOME", "HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE", "XDG_CACHE_HOME")}
    theirs = subprocess.run(
        [sys.executable, "-c", "from huggingface_hub import constants; print(constants.HF_HUB_CACHE)"],
        env={**clean, **env}, capture_output=True, text=True, check=True).stdout.strip()
    assert str(hub.hub_cache_dir({**clean, **env})) == theirs


# ----- transformers' loader arguments: subfolder, force_download, local_files_only -----------------
def test_subfolder_of_a_directory_and_of_a_cached_snapshot(tmp_path):
    (tmp_path / "ckpt" / "bert").mkdir(parents=True)
    (tmp_path / "ckpt" / "bert" / "config.json").write_text("{}")
    assert hub.resolve_checkpoint(tmp_path / "ckpt", subfolder="bert", weights=False) == tmp_path / "ckpt" / "bert"
    with pytest.raises(hub.CheckpointNotFoundError, match="has no folder 'gpt'"):
        hub.resolve_checkpoint(tmp_path / "ckpt", subfolder="gpt", weights=False)
    for bad in ("../elsewhere", "/etc", "a/../../b"):
        with pytest.raises(ValueError, match="subfolder: expected a relative folder"):
            hub.resolve_checkpoint(tmp_path / "ckpt", subfolder=bad)
    repo = tmp_path / "cache" / "models--someone--model"
    commit = "0123456789abcdef0123456789abcdef01234567"
    (repo / "snapshots" / commit / "sub").mkdir(parents=True)
    (repo / "snapshots" / commit / "sub" / "config.json").write_text("{}")
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(commit)
    found = hub.resolve_checkpoint("someone/model", cache_dir=tmp_path / "cache", subfolder="sub", weights=False,
                                   download=False, environ={})
    assert found == repo / "snapshots" / commit / "sub"


def test_force_download_fetches_again_and_subfolder_narrows_the_patterns(tmp_path, fake_hub_library):
    def behaviour(repo_id, **kw):
        (tmp_path / "dl" / "sub").mkdir(parents=True, exist_ok=True)
        (tmp_path / "dl" / "sub" / "config.json").write_text("{}")
        return str(tmp_path / "dl")

    fake_hub_library.behaviour = behaviour
    out = hub.resolve_checkpoint(REPO, cache_dir=tmp_path / "cache", subfolder="sub", weights=False,
                                 force_download=True, environ={})
    assert out == tmp_path / "dl" / "sub"
    (_, kw), = fake_hub_library.calls
    assert kw["force_download"] is True and "sub/config.json" in kw["allow_patterns"]
    assert all(p.startswith("sub/") for p in kw["allow_patterns"])
