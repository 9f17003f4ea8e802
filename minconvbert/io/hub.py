"""A checkpoint name or path -> a local directory holding its files.

    resolve_checkpoint("checkpoints/my-run")          # an existing directory: returned as is
    resolve_checkpoint("YituTech/conv-bert-base")     # a hub id: the local cache first, then download

A hub id is looked up, without any network, in the Hugging Face cache layout:

    <cache>/models--YituTech--conv-bert-base/
        refs/main                  the commit hash that "main" points to (no newline)
        snapshots/<hash>/          the files of that commit (symlinks into blobs/)
        blobs/<sha>                the file contents

where <cache> is $HF_HUB_CACHE, else $HUGGINGFACE_HUB_CACHE, else $HF_HOME/hub, else
$XDG_CACHE_HOME/huggingface/hub, else ~/.cache/huggingface/hub (the same order as huggingface_hub).
If the snapshot is missing or incomplete and `huggingface_hub` is installed, `snapshot_download`
fetches the files into that cache (only from the cache when HF_HUB_OFFLINE=1). Without
huggingface_hub, or without network, the error says how to get the files by hand. transformers'
loader arguments map onto `resolve_checkpoint`'s: cache_dir, revision, subfolder, force_download, and
local_files_only=True as download=False.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

__all__ = ["resolve_checkpoint", "hub_cache_dir", "CheckpointNotFoundError", "WEIGHT_FILES"]

# The weight layouts a checkpoint directory may use, in the order they are preferred.
WEIGHT_FILES = ("model.safetensors", "model.safetensors.index.json", "pytorch_model.bin",
                "pytorch_model.bin.index.json")
_TOKENIZER_FILES = ("vocab.txt", "tokenizer_config.json", "special_tokens_map.json", "tokenizer.json",
                    "added_tokens.json")
_REPO_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,95}(/[A-Za-z0-9][A-Za-z0-9_.-]{0,95})?")
_COMMIT = re.compile(r"[0-9a-f]{40}")


class CheckpointNotFoundError(FileNotFoundError):
    """A checkpoint could not be found locally nor downloaded; the message says how to get it."""


def _truthy(value: str | None) -> bool:
    return (value or "").strip().upper() in {"1", "ON", "YES", "TRUE"}


def hub_cache_dir(environ: Mapping[str, str] | None = None) -> Path:
    """The Hugging Face hub cache directory the environment points to (it may not exist)."""
    env = os.environ if environ is None else environ

    def expand(p: str) -> str:
        return os.path.expandvars(os.path.expanduser(p))

    for var in ("HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE"):
        if env.get(var):
            return Path(expand(env[var]))
    if env.get("HF_HOME"):
        return Path(expand(env["HF_HOME"])) / "hub"
    xdg = env.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(expand(xdg)) / "huggingface" / "hub"


def _offline(environ: Mapping[str, str]) -> bool:
    return _truthy(environ.get("HF_HUB_OFFLINE")) or _truthy(environ.get("TRANSFORMERS_OFFLINE"))


def _missing(directory: Path, required: Sequence[str], weights: bool) -> list[str]:
    """What `directory` lacks: required files, and any weights file when `weights` is asked for."""
    missing = [name for name in required if not (directory / name).is_file()]
    if weights and not any((directory / name).is_file() for name in WEIGHT_FILES):
        missing.append(" or ".join(WEIGHT_FILES))
    return missing


def _cached_snapshot(cache: Path, repo_id: str, revision: str) -> Path | None:
    """The snapshot directory of `repo_id` at `revision` in a hub cache, or None. No network."""
    repo_dir = cache / ("models--" + repo_id.replace("/", "--"))
    if _COMMIT.fullmatch(revision):
        commit = revision
    else:
        ref = repo_dir / "refs" / revision
        if ".." in Path(revision).parts or not ref.is_file():
            return None
        commit = ref.read_text(encoding="utf-8", errors="replace").strip()
        if not _COMMIT.fullmatch(commit):
            return None
    snapshot = repo_dir / "snapshots" / commit
    return snapshot if snapshot.is_dir() else None


def _how_to_get(repo_id: str, revision: str, reason: str) -> str:
    return (f"cannot get checkpoint {repo_id!r} (revision {revision!r}): there is no such local directory, "
            f"so it was taken as a hub id, but {reason}. Either install "
            "huggingface_hub (pip install huggingface_hub) and make sure the network is reachable (and "
            "HF_HUB_OFFLINE is not set), or download the files yourself from "
            f"https://huggingface.co/{repo_id}/tree/{revision} -- config.json, model.safetensors (or "
            "pytorch_model.bin) and vocab.txt -- into a folder, and pass that folder's path instead.")


def _download(repo_id: str, revision: str, cache_dir: Path, required, weights, offline: bool, subfolder: str,
              force_download: bool) -> Path:
    """The snapshot directory (its `subfolder`) after fetching what is missing with huggingface_hub."""
    try:
        from huggingface_hub import snapshot_download
    except ImportError:
        raise CheckpointNotFoundError(_how_to_get(
            repo_id, revision, f"it is not in the hub cache {str(cache_dir)!r} and huggingface_hub is not "
            "installed")) from None
    prefix = f"{subfolder}/" if subfolder else ""
    wanted = [prefix + name for name in ("config.json", *_TOKENIZER_FILES, *required)]
    # Safetensors first; a pytorch_model.bin is fetched only when the repository has no safetensors
    # (published ConvBERT repositories also hold a TensorFlow file that we never download).
    attempts = [["model.safetensors", "model.safetensors.index.json", "model-*-of-*.safetensors"],
                ["pytorch_model.bin", "pytorch_model.bin.index.json", "pytorch_model-*-of-*.bin"]]
    snapshot = None
    for weight_patterns in attempts if weights else [[]]:
        try:
            again = {"force_download": True} if force_download else {}
            root = snapshot_download(repo_id, revision=revision, cache_dir=str(cache_dir),
                                     allow_patterns=wanted + [prefix + p for p in weight_patterns],
                                     local_files_only=offline, **again)
        except Exception as e:  # network down, offline mode, unknown repository, gated repository...
            where = "HF_HUB_OFFLINE is set and the files are not in the cache" if offline else "the download failed"
            raise CheckpointNotFoundError(_how_to_get(repo_id, revision, f"{where} ({type(e).__name__}: {e})")) from e
        snapshot = Path(root) / subfolder
        if snapshot.is_dir() and not _missing(snapshot, required, weights):
            return snapshot
    if not snapshot.is_dir():
        raise CheckpointNotFoundError(f"checkpoint {repo_id!r} (revision {revision!r}) has no folder {subfolder!r}")
    lacking = _missing(snapshot, required, weights)
    raise CheckpointNotFoundError(
        f"checkpoint {repo_id!r} (revision {revision!r}) has no {', '.join(lacking)}: found "
        f"{sorted(p.name for p in snapshot.iterdir())}")


def _check_subfolder(subfolder) -> str:
    """A relative folder inside a checkpoint ("" for none); absolute paths and ".." are refused."""
    subfolder = os.fspath(subfolder or "")
    parts = Path(subfolder).parts
    if Path(subfolder).is_absolute() or ".." in parts or "\\" in subfolder:
        raise ValueError(f"subfolder: expected a relative folder inside the checkpoint, got {subfolder!r}")
    return "/".join(parts)


# Checkpoints shipped inside the package, loadable by name with no network.
EMBEDDED = {"minconvbert/nano": Path(__file__).resolve().parents[1] / "checkpoints" / "nano"}


def resolve_checkpoint(name_or_path: str | os.PathLike, *, revision: str | None = None,
                       cache_dir: str | os.PathLike | None = None, required: Sequence[str] = ("config.json",),
                       weights: bool = True, download: bool = True, subfolder: str = "",
                       force_download: bool = False, environ: Mapping[str, str] | None = None) -> Path:
    """The local directory of a checkpoint given as a directory path or a hub id.

    required: file names the directory must hold for a cached snapshot to count as complete
    (a tokenizer asks for ("vocab.txt",)); weights: whether it must also hold a weights file.
    subfolder: the checkpoint lies in this folder of the directory or repository (transformers'
    `subfolder=`). download=False (transformers' local_files_only=True) never touches the network;
    force_download=True fetches the files again even when the cache holds them.
    environ: stands in for os.environ (tests).
    A directory given by path is returned as is, whatever it holds: the caller reports what is missing.
    Names in EMBEDDED ("minconvbert/nano") are the checkpoints shipped inside the package.
    """
    env = os.environ if environ is None else environ
    subfolder = _check_subfolder(subfolder)
    if not str(name_or_path):
        raise CheckpointNotFoundError("checkpoint '': no such directory (an empty name, not even '.')")
    path = Path(name_or_path).expanduser()
    if path.is_dir():
        return _inside(path, subfolder, name_or_path)
    if str(name_or_path) in EMBEDDED:
        if not EMBEDDED[str(name_or_path)].is_dir():
            raise CheckpointNotFoundError(f"the embedded checkpoint {str(name_or_path)!r} is missing from the "
                                          f"installed package (expected at {EMBEDDED[str(name_or_path)]})")
        return _inside(EMBEDDED[str(name_or_path)], subfolder, name_or_path)
    name = str(name_or_path)
    if path.exists():
        raise NotADirectoryError(f"checkpoint {name!r} is a file; pass the directory that holds it")
    if not isinstance(name_or_path, str) or not _REPO_ID.fullmatch(name) or "--" in name or ".." in name:
        raise CheckpointNotFoundError(f"checkpoint {name!r}: no such directory, and not a hub id like 'owner/name'")
    revision = revision or "main"
    cache = Path(cache_dir).expanduser() if cache_dir is not None else hub_cache_dir(env)
    snapshot = _cached_snapshot(cache, name, revision)
    if snapshot is not None and subfolder:
        snapshot = snapshot / subfolder if (snapshot / subfolder).is_dir() else None
    if snapshot is not None and not force_download and not _missing(snapshot, required, weights):
        return snapshot
    if not download:
        reason = (f"the cached snapshot {str(snapshot)!r} lacks {', '.join(_missing(snapshot, required, weights))}"
                  if snapshot is not None else f"it is not in the hub cache {str(cache)!r}")
        raise CheckpointNotFoundError(_how_to_get(name, revision, reason + " and downloading is disabled"))
    return _download(name, revision, cache, tuple(required), weights, _offline(env), subfolder, force_download)


def _inside(directory: Path, subfolder: str, name) -> Path:
    if not subfolder:
        return directory
    if not (directory / subfolder).is_dir():
        raise CheckpointNotFoundError(f"checkpoint {str(name)!r} has no folder {subfolder!r}")
    return directory / subfolder
