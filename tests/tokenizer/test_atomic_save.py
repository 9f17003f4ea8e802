"""Issue 16, bug 5: tokenizer.save_pretrained wrote with plain open(): 2 of 25 kills left a truncated
vocab.txt that loaded without a warning, and a full disk a 0-byte tokenizer_config.json.

Now a save leaves the folder holding the old or the new complete tokenizer at every moment
(minconvbert/tokenizer/files.py): a kill loop, a failing disk, and the loader's checks of a
vocab.txt that does not match its config."""

import errno
import os
import random
import signal
import time
import warnings

import pytest

from minconvbert.data import vocab_file
from minconvbert.tokenizer import ConvBertTokenizer, VocabFileError, VocabularyWarning
from minconvbert.tokenizer import files as tokenizer_files

KILLS = 20


def _quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", VocabularyWarning)
        return fn(*args, **kwargs)


@pytest.fixture(scope="module")
def two_tokenizers():
    """Two tokenizers that differ in every file: vocabulary, settings and special tokens."""
    a = ConvBertTokenizer(vocab_file("bert-base-uncased"), model_max_length=111)
    b = _quiet(ConvBertTokenizer, vocab_file("convbert-original"), do_lower_case=False, model_max_length=222)
    b.add_tokens(["zzqx"])
    return a, b


def _which(folder, a, b):
    """'a' or 'b': the folder loads as one of them, consistently (vocabulary, settings, added tokens)."""
    loaded = _quiet(ConvBertTokenizer.from_pretrained, folder)
    signature = (loaded.get_vocab(), loaded.do_lower_case, loaded.model_max_length, loaded.special_tokens_map)
    for name, tok in (("a", a), ("b", b)):
        if signature == (tok.get_vocab(), tok.do_lower_case, tok.model_max_length, tok.special_tokens_map):
            return name
    raise AssertionError(f"the folder holds neither tokenizer: vocab_size {loaded.vocab_size}, do_lower_case "
                         f"{loaded.do_lower_case}, model_max_length {loaded.model_max_length}")


def test_random_kills_always_leave_a_complete_tokenizer(tmp_path, two_tokenizers):
    a, b = two_tokenizers
    folder = tmp_path / "tok"
    a.save_pretrained(folder)
    rng = random.Random(16)
    seen = set()
    for kill in range(KILLS):
        pid = os.fork()
        if pid == 0:  # the child saves b and a in turn until it is killed
            try:
                while True:
                    b.save_pretrained(folder)
                    a.save_pretrained(folder)
            finally:
                os._exit(1)
        time.sleep(rng.uniform(0.0, 0.08))
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        seen.add(_which(folder, a, b))
    assert seen <= {"a", "b"}
    # the next save finishes what a kill interrupted and sweeps the temporary files
    b.save_pretrained(folder)
    assert _which(folder, a, b) == "b"
    assert sorted(os.listdir(folder)) == ["special_tokens_map.json", "tokenizer_config.json", "vocab.txt"]


def test_every_interrupted_step_loads_old_or_new(tmp_path, two_tokenizers, monkeypatch):
    """Interrupt the save at each of its writes and renames in turn (deterministic: no timing involved)."""
    a, b = two_tokenizers
    calls = {"n": 0}
    real_replace = os.replace

    class Killed(BaseException):
        pass

    def replace(src, dst):
        calls["n"] += 1
        if calls["n"] == calls["stop"]:
            raise Killed
        real_replace(src, dst)

    monkeypatch.setattr(tokenizer_files.os, "replace", replace)
    monkeypatch.setattr("minconvbert.io.atomic.os.replace", replace)
    outcomes = []
    for stop in range(1, 6):
        folder = tmp_path / f"step{stop}"
        calls.update(n=0, stop=10 ** 9)
        a.save_pretrained(folder)
        calls.update(n=0, stop=stop)
        try:
            b.save_pretrained(folder)
        except Killed:
            pass
        outcomes.append(_which(folder, a, b))
    # side vocabulary, config (the commit), rename into place, special_tokens_map: old until the commit
    assert outcomes == ["a", "a", "b", "b", "b"]


def test_a_full_disk_leaves_the_old_files(tmp_path, two_tokenizers, monkeypatch):
    a, b = two_tokenizers
    folder = tmp_path / "tok"
    a.save_pretrained(folder)
    before = {name: (folder / name).read_bytes() for name in os.listdir(folder)}

    def no_space(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("minconvbert.io.atomic.os.fsync", no_space)
    with pytest.raises(OSError, match="No space left"):
        b.save_pretrained(folder)
    assert {name: (folder / name).read_bytes() for name in os.listdir(folder)} == before
    assert _which(folder, a, b) == "a"


def test_a_truncated_vocab_is_refused_and_an_edited_one_warns(tmp_path, two_tokenizers):
    a, _ = two_tokenizers
    folder = tmp_path / "tok"
    a.save_pretrained(folder)
    data = (folder / "vocab.txt").read_bytes()
    (folder / "vocab.txt").write_bytes(data[: len(data) // 2])  # cut in the middle of a line
    with pytest.raises(VocabFileError, match="cut short"):
        _quiet(ConvBertTokenizer.from_pretrained, folder)
    cut = data[: data.index(b"\n", len(data) // 2) + 1]  # cut just after a line
    (folder / "vocab.txt").write_bytes(cut)
    lines = cut.count(b"\n")
    with pytest.raises(VocabFileError, match=f"has {lines} lines, but tokenizer_config.json was saved "
                                             "with a vocabulary of 30522"):
        ConvBertTokenizer.from_pretrained(folder)
    (folder / "vocab.txt").write_bytes(data.replace(b"\nhello\n", b"\nhallo\n"))  # edited by hand
    with pytest.warns(VocabularyWarning, match="not the file tokenizer_config.json was saved with"):
        ConvBertTokenizer.from_pretrained(folder)


def test_a_vocab_without_final_newline_warns(tmp_path):
    """A plain vocab.txt (no config to compare with) cut in the middle of its last line."""
    path = tmp_path / "vocab.txt"
    path.write_bytes(b"[PAD]\n[UNK]\n[CLS]\n[SEP]\nhel")
    with pytest.warns(VocabularyWarning, match="has no newline; the file may have been cut short"):
        ConvBertTokenizer(path)
