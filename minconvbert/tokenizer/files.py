"""Saving and loading a tokenizer folder: vocab.txt, tokenizer_config.json, special_tokens_map.json.

    tok.save_pretrained("out")                      # the three files, readable by transformers too
    tok = ConvBertTokenizerFast.from_pretrained("out", model_max_length=128)   # keywords override

A save never leaves a half-written or mixed folder: every file is written to a temporary file and
renamed into place (io/atomic.py), and tokenizer_config.json is the commit point. It records the
SHA-256 and line count of the vocab.txt it belongs to ("vocab_file_check"), and a new vocabulary is
first written beside the old one as .vocab-<hash>.txt:

    1. .vocab-<new hash>.txt      (a crash here: the old tokenizer, untouched)
    2. tokenizer_config.json      (from here on the new tokenizer: its vocabulary is complete beside)
    3. .vocab-<new hash>.txt -> vocab.txt,  then special_tokens_map.json

from_pretrained follows the record: a vocab.txt that does not match it is replaced by the matching
.vocab-<hash>.txt of an interrupted save; with none, a vocab.txt with fewer lines than recorded (or
no final newline) is refused as cut short, and any other difference warns. The next save finishes an
interrupted one and sweeps the temporary files a killed save left. (transformers reads only vocab.txt,
so in the instant between steps 2 and 3 it would see the old vocabulary with the new settings.)

Hostile files are refused before any large allocation: VocabFileError for vocab.txt (see vocab.py),
TokenizerConfigError for the JSON files (larger than MAX_CONFIG_BYTES, not UTF-8 JSON, nested too
deeply, not an object, a field of the wrong type).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import warnings
from pathlib import Path

from minconvbert.io.atomic import _fsync_directory, atomic_write
from minconvbert.io.regular_file import read_regular
from minconvbert.tokenizer.arguments import check_argument
from minconvbert.tokenizer.vocab import VocabFileError, VocabularyWarning, load_vocab

__all__ = ["FilesMixin", "TokenizerConfigError", "read_json_config", "VOCAB_FILE", "CONFIG_FILE",
           "SPECIAL_TOKENS_FILE", "MAX_CONFIG_BYTES"]

VOCAB_FILE = "vocab.txt"
CONFIG_FILE = "tokenizer_config.json"
SPECIAL_TOKENS_FILE = "special_tokens_map.json"
MAX_CONFIG_BYTES = 16 << 20  # a config with 100,000 added tokens is about 15 MB
_CHECK = "vocab_file_check"
# temporary files of atomic_write for our three names, and the side vocabularies of step 1
_STALE = re.compile(r"\.(vocab\.txt|tokenizer_config\.json|special_tokens_map\.json|\.vocab-[0-9a-f]{16}\.txt)"
                    r"\.[0-9a-f]{12}\.tmp|\.vocab-[0-9a-f]{16}\.txt")


class TokenizerConfigError(ValueError):
    """tokenizer_config.json or special_tokens_map.json cannot be a tokenizer configuration."""


def read_json_config(path: str | os.PathLike) -> dict:
    """The JSON object in `path`; TokenizerConfigError if it is too large, not UTF-8 JSON, too deeply nested
    or not an object, and for any tokenizer argument of the wrong type (naming the field)."""
    path = os.fspath(path)
    raw = read_regular(path, MAX_CONFIG_BYTES, TokenizerConfigError, "tokenizer config", "tokenizer configuration")
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as error:
        raise TokenizerConfigError(f"{path}: not UTF-8 text (byte {error.start}): not a JSON file") from None
    except RecursionError:
        raise TokenizerConfigError(f"{path}: JSON nested too deeply to be a tokenizer configuration") from None
    except ValueError as error:
        raise TokenizerConfigError(f"{path}: not a readable JSON file ({error})") from None
    if not isinstance(data, dict):
        raise TokenizerConfigError(f"{path}: expected a JSON object, got {type(data).__name__}")
    for name, value in data.items():
        problem = check_argument(name, value)
        if problem:
            raise TokenizerConfigError(f"{path}: {problem}")
    check = data.get(_CHECK)
    if check is not None and not (isinstance(check, dict) and isinstance(check.get("sha256"), str)
                                  and re.fullmatch(r"[0-9a-f]{64}", check["sha256"])
                                  and isinstance(check.get("lines"), int) and check["lines"] > 0):
        raise TokenizerConfigError(f"{path}: {_CHECK}: expected {{'sha256': 64 hex digits, 'lines': int}}")
    return data


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _side_file(folder: Path, digest: str) -> Path:
    return folder / f".vocab-{digest[:16]}.txt"


def _vocab_for(folder: Path, check: dict | None):
    """The vocabulary that belongs to the folder's config (see the module docstring for the rules)."""
    path = folder / VOCAB_FILE
    if check is None:
        return load_vocab(path) if path.is_file() else _no_vocab(folder)
    side = _side_file(folder, check["sha256"])
    if (not path.is_file() or _sha256(path.read_bytes()) != check["sha256"]) and side.is_file() \
            and _sha256(side.read_bytes()) == check["sha256"]:
        path = side  # an interrupted save committed this vocabulary but did not rename it yet
    if not path.is_file():
        _no_vocab(folder)
    vocab = load_vocab(path)
    if vocab.sha256 != check["sha256"]:
        if len(vocab.lines) < check["lines"] or not vocab.ends_with_newline:
            raise VocabFileError(f"vocab_file: {str(path)!r} has {len(vocab.lines)} lines, but {CONFIG_FILE} was "
                                 f"saved with a vocabulary of {check['lines']}: the file was cut short (an "
                                 "interrupted copy or write?)")
        warnings.warn(f"vocab_file {str(path)!r} is not the file {CONFIG_FILE} was saved with (it has "
                      f"{len(vocab.lines)} lines, the saved one {check['lines']}): it was edited or replaced",
                      VocabularyWarning, stacklevel=4)
    return vocab


def _no_vocab(folder: Path):
    raise FileNotFoundError(f"pretrained_model_name_or_path: {str(folder)!r} holds no {VOCAB_FILE}")


def _finish_interrupted_save(folder: Path) -> None:
    """Rename a committed side vocabulary into place, then remove what killed saves left behind."""
    config = folder / CONFIG_FILE
    if config.is_file():
        try:
            check = read_json_config(config).get(_CHECK)
        except (TokenizerConfigError, OSError):
            check = None
        if check is not None:
            side, path = _side_file(folder, check["sha256"]), folder / VOCAB_FILE
            if side.is_file() and _sha256(side.read_bytes()) == check["sha256"] and not (
                    path.is_file() and _sha256(path.read_bytes()) == check["sha256"]):
                os.replace(side, path)
                _fsync_directory(folder)
    for entry in os.scandir(folder):
        if _STALE.fullmatch(entry.name) and entry.is_file(follow_symlinks=False):
            try:
                os.unlink(entry.path)
            except FileNotFoundError:
                pass


def _write_json(path: Path, data: dict) -> None:
    with atomic_write(path) as f:
        f.write((json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode("utf-8"))


class FilesMixin:
    """save_pretrained / save_vocabulary / from_pretrained."""

    vocab_files_names = {"vocab_file": VOCAB_FILE}

    def _config(self) -> dict:
        """Everything tokenizer_config.json records: the constructor's arguments, the added tokens."""
        config = {"tokenizer_class": type(self).__name__, **self.init_kwargs}
        for name in ("vocab_file", "name_or_path", "added_tokens_decoder", "additional_special_tokens"):
            config.pop(name, None)
        config.update(self.special_tokens_map)
        config["extra_special_tokens"] = self.extra_special_tokens
        config["model_max_length"] = self.model_max_length
        config["padding_side"], config["truncation_side"] = self.padding_side, self.truncation_side
        config["added_tokens_decoder"] = {str(i): t.to_dict() for i, t in self.added_tokens_decoder.items()}
        return config

    def save_vocabulary(self, save_directory, filename_prefix: str | None = None) -> tuple[str]:
        """Write vocab.txt (every line of the file read, so ids are kept even for a defective file), atomically."""
        save_directory = os.fspath(save_directory)
        if not os.path.isdir(save_directory):
            raise NotADirectoryError(f"save_directory: {save_directory!r} is not a directory")
        name = (filename_prefix + "-" if filename_prefix else "") + VOCAB_FILE
        return (self.vocab_data.save(os.path.join(save_directory, name)),)

    def save_pretrained(self, save_directory, push_to_hub: bool = False) -> tuple[str, ...]:
        """Write vocab.txt, tokenizer_config.json and special_tokens_map.json into `save_directory`.

        A crash or kill at any moment leaves the folder holding the old or the new tokenizer, complete
        (see the module docstring). Returns the paths written.
        """
        if push_to_hub:
            raise NotImplementedError("push_to_hub: minconvbert does not upload; save_pretrained(folder), then "
                                      "upload the folder with huggingface_hub (HfApi().upload_folder)")
        folder = Path(os.fspath(save_directory))
        if folder.is_file():
            raise NotADirectoryError(f"save_directory: {str(folder)!r} is a file, expected a directory")
        folder.mkdir(parents=True, exist_ok=True)
        _finish_interrupted_save(folder)
        data = self.vocab_data.to_bytes()
        digest = _sha256(data)
        vocab_path, side = folder / VOCAB_FILE, _side_file(folder, digest)
        unchanged = vocab_path.is_file() and vocab_path.stat().st_size == len(data) and \
            _sha256(vocab_path.read_bytes()) == digest
        try:
            if not unchanged:
                with atomic_write(side) as f:  # 1
                    f.write(data)
            config = {**self._config(), _CHECK: {"sha256": digest, "lines": len(self.vocab_data.lines)}}
            _write_json(folder / CONFIG_FILE, config)  # 2: the commit point
        except BaseException:
            side.unlink(missing_ok=True)
            raise
        if not unchanged:
            os.replace(side, vocab_path)  # 3
            _fsync_directory(folder)
        special = {k: v for k, v in self.special_tokens_map.items() if k != "extra_special_tokens"}
        _write_json(folder / SPECIAL_TOKENS_FILE, special)
        return str(folder / CONFIG_FILE), str(folder / SPECIAL_TOKENS_FILE), str(vocab_path)

    @classmethod
    def from_pretrained(cls, pretrained_model_name_or_path, *, revision: str | None = None,
                        cache_dir=None, subfolder: str = "", **kwargs):
        """Load from a folder holding vocab.txt (and optionally tokenizer_config.json, special_tokens_map.json),
        an embedded name ("minconvbert/nano") or a hub id (resolved as for the models).

        Keyword arguments override what the folder's files say (e.g. do_lower_case=False).
        """
        from minconvbert.io.hub import resolve_checkpoint

        folder = Path(os.fspath(resolve_checkpoint(pretrained_model_name_or_path, revision=revision,
                                                   cache_dir=cache_dir, required=(VOCAB_FILE,), weights=False)))
        folder = folder / subfolder if subfolder else folder
        known = set(cls._init_argument_names())
        for key in kwargs:
            if key not in known and callable(getattr(cls, key, None)):
                raise AttributeError(f"from_pretrained: the argument {key!r} conflicts with the method "
                                     f"{cls.__name__}.{key}")
        unknown = set(kwargs) - known
        if unknown:
            raise TypeError(f"from_pretrained: unknown arguments {sorted(unknown)}")
        config = read_json_config(folder / CONFIG_FILE) if (folder / CONFIG_FILE).is_file() else {}
        check = config.get(_CHECK)
        init = {k: v for k, v in config.items() if k in known}
        if check is None and (folder / SPECIAL_TOKENS_FILE).is_file():  # a folder saved by another program
            init.update({k: v for k, v in read_json_config(folder / SPECIAL_TOKENS_FILE).items() if k in known})
        init.update(kwargs)
        vocab = _vocab_for(folder, check)
        tokenizer = cls(str(folder / VOCAB_FILE), vocab=vocab, **init)
        tokenizer.name_or_path = str(folder)
        return tokenizer
