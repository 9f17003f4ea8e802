"""Every file reader the fuzz harness attacks, one entry each: how to call it, what it may raise, a seed.

Adding a reader is one entry in READERS: the file's name, a function reading the
directory that holds it, the exception types it documents for a bad file, a function returning a
valid directory ({file name: bytes}; the fuzzed file plus any companion it needs), the kind of
mutations that suit the format -- "binary" (bytes), "torch zip" (a torch.save archive: its pickle
and storages mutated, then re-zipped), "json" (values replaced, deleted, added) or "text" (lines) --
and the memory it may hold (32 MB unless it says otherwise).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from minconvbert.io import h5, safetensors, tf1, torch_pickle, torch_save
from minconvbert.models.convbert.config import ConvBertConfig
from minconvbert.tokenizer import ConvBertTokenizer, ConvBertTokenizerFast
from tests.io import tf1_builder


@dataclass(frozen=True)
class Reader:
    read: Callable[[Path], object]  # directory -> anything; raises for a bad file
    refuses_with: tuple[type[BaseException], ...]
    seed: Callable[[], dict[str, bytes]]
    kind: str  # "binary", "torch zip", "json" or "text": which mutations suit the format
    memory_budget: Callable[[int], int] = lambda size: 32 << 20  # bytes it may hold for a file of `size`


SEED_TENSORS = {
    "embeddings.word_embeddings.weight": np.arange(12, dtype=np.float32).reshape(3, 4),
    "embeddings.position_ids": np.arange(4, dtype=np.int64)[None],
    "encoder.layer.0.bias": np.array([0.5, -1.0], dtype=np.float16),
    "mask": np.array([True, False, True]),
    "empty": np.zeros((0, 2), dtype=np.int32),
}
VOCAB = "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nhello\nworld\n##s\n"


def _bin_seed() -> dict[str, bytes]:
    tensors = dict(SEED_TENSORS)
    tensors["generator_lm_head.weight"] = tensors["embeddings.word_embeddings.weight"]  # tied: one storage
    tensors["transposed"] = np.arange(6.0).reshape(2, 3).T
    with tempfile.TemporaryDirectory() as tmp:
        torch_save.save_file(tensors, Path(tmp) / "pytorch_model.bin")
        return {"pytorch_model.bin": (Path(tmp) / "pytorch_model.bin").read_bytes()}


def _tokenizer_seed() -> dict[str, bytes]:
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "vocab.txt").write_text(VOCAB)
        ConvBertTokenizer(str(Path(tmp) / "vocab.txt")).save_pretrained(tmp)
        return {name: (Path(tmp) / name).read_bytes() for name in ("vocab.txt", "tokenizer_config.json")}


def _h5_seed() -> dict[str, bytes]:
    layers = [("convbert", [(f"convbert/{k}:0", v) for k, v in SEED_TENSORS.items() if v.dtype.kind == "f"])]
    with tempfile.TemporaryDirectory() as tmp:
        h5.write_weights(Path(tmp) / "tf_model.h5", layers)
        return {"tf_model.h5": (Path(tmp) / "tf_model.h5").read_bytes()}


def _read_h5(directory: Path):
    with h5.KerasH5(directory / "tf_model.h5") as f:
        return [f.read(layer, name) for layer in f.layer_names for name in f.weight_names(layer)]


def _tf1_seed() -> dict[str, bytes]:
    index, data = tf1_builder.bundle(SEED_TENSORS)
    return {"model.ckpt-1.index": index, "model.ckpt-1.data-00000-of-00001": data}


def _read_tf1(directory: Path):
    with tf1.TF1Checkpoint(directory / "model.ckpt-1") as ckpt:
        return [ckpt.get_tensor(name) for name in ckpt.keys()]


def _read_safetensors(directory: Path):
    safetensors.load_file(directory / "model.safetensors")
    return safetensors.load_file(directory / "model.safetensors", mmap=False)


def _read_tokenizers(directory: Path):
    for cls in (ConvBertTokenizer, ConvBertTokenizerFast):
        cls.from_pretrained(directory)("hello worlds [MASK]")


READERS = {
    "model.safetensors": Reader(_read_safetensors, (safetensors.SafetensorsError,),
                                lambda: {"model.safetensors": safetensors.save(SEED_TENSORS, {"format": "pt"})},
                                "binary"),
    "pytorch_model.bin": Reader(lambda d: torch_pickle.load_file(d / "pytorch_model.bin"),
                                (torch_pickle.TorchCheckpointError,), _bin_seed, "torch zip",
                                lambda size: torch_pickle.BUDGET_FACTOR * size + torch_pickle.BUDGET_SLACK_BYTES),
    # ConvBertConfig.from_pretrained documents ValueError (a bad value) and TypeError (a wrong type).
    "config.json": Reader(ConvBertConfig.from_pretrained, (ValueError, TypeError),
                          lambda: {"config.json": ConvBertConfig(vocab_size=40, hidden_size=16, num_hidden_layers=2,
                                                                 num_attention_heads=4, intermediate_size=32,
                                                                 num_labels=3).to_json_string().encode()},
                          "json"),
    "vocab.txt": Reader(_read_tokenizers, (ValueError,), lambda: {"vocab.txt": VOCAB.encode()}, "text"),
    "tf_model.h5": Reader(_read_h5, (h5.H5FormatError,), _h5_seed, "binary"),
    "model.ckpt-1.index": Reader(_read_tf1, (tf1.TF1CheckpointError,), _tf1_seed, "binary"),
    "model.ckpt-1.data-00000-of-00001": Reader(_read_tf1, (tf1.TF1CheckpointError,), _tf1_seed, "binary"),
    "tokenizer_config.json": Reader(_read_tokenizers, (ValueError, TypeError), _tokenizer_seed, "json"),
}
