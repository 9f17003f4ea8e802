"""save_pretrained: the folder holds the old or the new complete checkpoint at every moment, however the
process stops (issue 16, bug 4); its other files are kept, stale weight files are not; leftovers of
killed saves are swept; dtype must be a float; safe_serialization=False writes a torch-loadable .bin.

Two models with different shapes, A and B, are saved alternately into one folder; whatever is left
after a kill must load strictly and be exactly A or exactly B (config and weights from one save).
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import zipfile

import numpy as np
import pytest

from minconvbert import ConvBertConfig, ConvBertForMaskedLM
from tests.killing import kill_at_each_step, kill_loop
from tests.models.parity import TINY

posix_only = pytest.mark.skipif(sys.platform == "win32", reason="the kill loops fork and SIGKILL")


@pytest.fixture(scope="module")
def models():
    a = ConvBertForMaskedLM(ConvBertConfig(**TINY), rng=0)
    b = ConvBertForMaskedLM(ConvBertConfig(**{**TINY, "num_hidden_layers": 3, "intermediate_size": 24}), rng=1)
    return a, b


def _weights(model) -> dict:
    return {k: np.asarray(v) for k, v in model.state_dict().items()}


def _which(directory, models) -> str:
    """'A' or 'B': the model the folder holds, loaded strictly, with every weight compared."""
    loaded = ConvBertForMaskedLM.from_pretrained(directory, strict=True)
    for name, model in zip("AB", models):
        if loaded.config.num_hidden_layers == model.config.num_hidden_layers:
            expected = _weights(model)
            assert all(np.array_equal(v, expected[k]) for k, v in _weights(loaded).items()), f"weights are not {name}'s"
            return name
    raise AssertionError(f"the folder holds neither A nor B: {loaded.config}")


def _leftovers(directory) -> list[str]:
    """Staging roots beside the folder and temporary files in it."""
    parent = os.path.dirname(directory)
    return sorted([n for n in os.listdir(parent) if ".saving-" in n] +
                  [n for n in os.listdir(directory) if n.endswith(".tmp")])


@posix_only
def test_twenty_random_kills_leave_a_complete_checkpoint(tmp_path, models):
    folder = tmp_path / "ckpt"
    models[0].save_pretrained(folder)
    (folder / "vocab.txt").write_text("[PAD]\nhello\n")  # another file of the folder: kept by every save
    seen, leftovers = set(), []

    def work():  # saves the other model first, then alternates; one .bin save in three
        first = 1 if json.loads((folder / "config.json").read_text())["num_hidden_layers"] == 2 else 0
        for i in range(first, 1_000_000):
            models[i % 2].save_pretrained(folder, safe_serialization=bool(i % 3))

    def check():
        seen.add(_which(folder, models))
        assert (folder / "vocab.txt").read_text() == "[PAD]\nhello\n"
        leftovers.append(len(_leftovers(folder)))

    assert kill_loop(work, check, kills=20, seed=0) == 20
    assert seen == {"A", "B"}  # the kills came at different moments
    assert max(leftovers) > 0  # some came mid-save, leaving a staging directory behind ...
    models[0].save_pretrained(folder)
    assert _leftovers(folder) == []  # ... which the next save swept


def _pristine(folder, models):
    """A folder holding A's checkpoint (safetensors) and a tokenizer file."""
    def reset():
        shutil.rmtree(folder.parent, ignore_errors=True)
        folder.mkdir(parents=True)
        models[0].save_pretrained(folder)
        (folder / "vocab.txt").write_text("[PAD]\nhello\n")
    return reset


@posix_only
@pytest.mark.parametrize("safe_serialization", [True, False])
def test_a_crash_before_any_file_system_change_leaves_old_or_new(tmp_path, models, safe_serialization):
    folder = tmp_path / "parent" / "ckpt"
    outcomes = []

    def check():
        outcomes.append(_which(folder, models))
        assert (folder / "vocab.txt").exists()

    points = kill_at_each_step(_pristine(folder, models),
                               lambda: models[1].save_pretrained(folder, safe_serialization=safe_serialization),
                               check)
    assert points >= 3 and outcomes[0] == "A" and outcomes[-1] == "B"
    assert outcomes == sorted(outcomes)  # old up to one change, new from there on: never back


@posix_only
def test_the_fallback_without_exchange_is_also_old_or_new(tmp_path, models, monkeypatch):
    from minconvbert.io import atomic_dir

    monkeypatch.setattr(atomic_dir, "_RENAMEAT2", None)  # as on macOS, Windows, or a file system without it
    folder = tmp_path / "parent" / "ckpt"

    def check():
        atomic_dir.sweep(folder.parent)  # what the next save (or a resume) does first
        _which(folder, models)

    assert kill_at_each_step(_pristine(folder, models), lambda: models[1].save_pretrained(folder), check) >= 3


def test_a_failed_config_write_leaves_the_old_checkpoint(tmp_path, models, monkeypatch):
    folder = tmp_path / "ckpt"
    models[0].save_pretrained(folder)
    real_replace = os.replace

    def failing(src, dst, *args, **kwargs):
        if os.path.basename(dst) == "config.json":
            raise PermissionError("read-only (simulated)")
        return real_replace(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "replace", failing)
    with pytest.raises(PermissionError):
        models[1].save_pretrained(folder)
    monkeypatch.undo()
    assert _which(folder, models) == "A"
    assert _leftovers(folder) == []


def test_a_directory_named_config_json_is_replaced(tmp_path, models):
    folder = tmp_path / "ckpt"
    models[0].save_pretrained(folder)
    os.unlink(folder / "config.json")
    (folder / "config.json").mkdir()  # in the old reader's way: it renamed the weights, then failed
    models[1].save_pretrained(folder)
    assert _which(folder, models) == "B"


def test_other_files_are_kept_and_stale_weight_files_dropped(tmp_path, models):
    folder = tmp_path / "ckpt"
    models[0].save_pretrained(folder)
    (folder / "tokenizer_config.json").write_text("{}")
    (folder / "runs").mkdir()
    (folder / "runs" / "log.txt").write_text("step 1\n")
    os.symlink("tokenizer_config.json", folder / "link.json")
    for stale in ("model-00001-of-00002.safetensors", "model.safetensors.index.json", "pytorch_model.bin.index.json"):
        (folder / stale).write_text("stale")
    models[1].save_pretrained(folder, safe_serialization=False)
    assert sorted(os.listdir(folder)) == ["config.json", "link.json", "pytorch_model.bin", "runs",
                                          "tokenizer_config.json"]
    assert (folder / "runs" / "log.txt").read_text() == "step 1\n"
    assert os.readlink(folder / "link.json") == "tokenizer_config.json"
    assert _which(folder, models) == "B"  # the old model.safetensors would have shadowed the new .bin


def test_saving_into_the_working_directory(tmp_path, models, monkeypatch):
    folder = tmp_path / "ckpt"
    models[0].save_pretrained(folder)
    monkeypatch.chdir(folder)
    models[1].save_pretrained(".")
    assert os.path.samefile(os.getcwd(), folder) and os.path.exists("config.json")
    assert _which(folder, models) == "B"


@pytest.mark.parametrize("dtype", [np.int8, np.int64, np.uint8, bool, np.complex64])
def test_a_dtype_that_would_destroy_the_weights_is_refused(tmp_path, models, dtype):
    models[0].save_pretrained(tmp_path / "ckpt")
    with pytest.raises(ValueError, match="dtype must be float16, float32 or float64"):
        models[1].save_pretrained(tmp_path / "ckpt", dtype=dtype)
    assert _which(tmp_path / "ckpt", models) == "A"
    with pytest.raises(TypeError, match="is not a NumPy dtype"):
        models[1].save_pretrained(tmp_path / "ckpt", dtype="bfloat16")


def test_float16_keeps_tied_weights_one_array(tmp_path, models):
    models[0].save_pretrained(tmp_path / "bin", dtype=np.float16, safe_serialization=False)
    with zipfile.ZipFile(tmp_path / "bin" / "pytorch_model.bin") as zf:
        storages = [n for n in zf.namelist() if "/data/" in n]
    assert len(storages) == len(models[0].state_dict()) - 1  # the tied LM head shares the embeddings' storage
    assert '"dtype": "float16"' in (tmp_path / "bin" / "config.json").read_text()
    loaded = _weights(ConvBertForMaskedLM.from_pretrained(tmp_path / "bin", strict=True))
    for name, value in _weights(models[0]).items():
        np.testing.assert_array_equal(loaded[name], value.astype(np.float16).astype(loaded[name].dtype), err_msg=name)


def test_safe_serialization_false_is_read_by_torch_and_transformers(tmp_path, models):
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    models[0].save_pretrained(tmp_path / "bin", safe_serialization=False)
    state = torch.load(tmp_path / "bin" / "pytorch_model.bin", weights_only=True)
    ours = _weights(models[0])
    assert list(state) == list(ours)
    for name, tensor in state.items():
        np.testing.assert_array_equal(tensor.numpy(), ours[name], err_msg=name)
    tied = state["generator_lm_head.weight"], state["convbert.embeddings.word_embeddings.weight"]
    assert tied[0].untyped_storage().data_ptr() == tied[1].untyped_storage().data_ptr()  # stored once
    reference = transformers.ConvBertForMaskedLM.from_pretrained(tmp_path / "bin").eval()
    ids = np.array([[2, 7, 9, 11, 3]])
    with torch.no_grad():
        expected = reference(input_ids=torch.tensor(ids)).logits.numpy()
    np.testing.assert_allclose(models[0].eval()(input_ids=ids).logits.data, expected, rtol=1e-5, atol=1e-5)


def test_a_folder_that_cannot_be_swapped_whole_is_replaced_file_by_file(tmp_path, models, monkeypatch):
    from minconvbert.io import atomic_dir

    monkeypatch.setattr(atomic_dir, "_replaceable_whole", lambda directory: False)  # a mount point, say
    folder = tmp_path / "ckpt"
    with pytest.warns(RuntimeWarning, match="replaced one by one"):
        models[0].save_pretrained(folder)
    (folder / "vocab.txt").write_text("v")
    with pytest.warns(RuntimeWarning, match="replaced one by one"):
        models[1].save_pretrained(folder, safe_serialization=False)
    assert sorted(os.listdir(folder)) == ["config.json", "pytorch_model.bin", "vocab.txt"]
    assert _which(folder, models) == "B"
