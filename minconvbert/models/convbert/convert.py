"""`minconvbert convert`: a checkpoint in any format this package reads -> the published layout
(config.json + model.safetensors, which transformers' PyTorch classes load).

    source                                          written as
    directory with pytorch_model.bin (or shards)    the same tensors (io.checkpoint_files)
    directory with tf_model.h5 + config.json        the TF class's PyTorch twin (names, layouts mapped)
    original TF1 checkpoint: its prefix, its .index  the discriminator as ConvBertModel (what the published
      file, or the directory holding it             models hold), or with generator=True the generator
                                                    as ConvBertForMaskedLM; config from `config` or, by
                                                    default, read from the variables' shapes

Every shape is checked against the model the config describes before anything is written; the
tokenizer files beside the source are copied; progress is shown while reading and writing.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from minconvbert.io import atomic, checkpoint_files
from minconvbert.io.checkpoint_files import COMPANION_FILES, ConversionReport, NoWeightsFoundError
from minconvbert.io.h5 import H5FormatError
from minconvbert.io.progress import ByteProgress
from minconvbert.io.tf1 import TF1Checkpoint, TF1CheckpointError, resolve_prefix
from minconvbert.models.convbert import tf_modeling
from minconvbert.models.convbert.config import ConvBertConfig
from minconvbert.models.convbert.heads import ConvBertForMaskedLM
from minconvbert.models.convbert.modeling import ConvBertModel
from minconvbert.models.convbert.tf1_weights import SCOPES, config_from_tf1, tf1_state
from minconvbert.models.convbert.tf_weights import TF_WEIGHTS_NAME, read_tf_weights, tf_class_of
from minconvbert.nn import init

__all__ = ["convert_checkpoint"]

_TIED = "generator_lm_head.weight"


def _with_progress(description: str, enabled: bool, work):
    bar = ByteProgress(description, enabled=enabled)
    try:
        return work(bar.update)
    finally:
        bar.close()


def _write(out: Path, state: dict, architecture: str, config: ConvBertConfig, source_dir: Path | None,
           progress: bool) -> ConversionReport:
    """out/model.safetensors (the tied LM matrix stored once, as transformers saves it), out/config.json,
    and the tokenizer files found in source_dir."""
    state = {k: v for k, v in state.items() if k != _TIED}
    path = _with_progress(f"writing {checkpoint_files.SAFE_WEIGHTS_NAME}", progress,
                          lambda update: checkpoint_files.save_weights(out, state, on_progress=update))
    fields = config.to_dict()
    fields.update(architectures=[architecture], dtype="float32")
    with atomic.atomic_write(out / "config.json") as f:
        f.write(json.dumps(fields, indent=2, sort_keys=True).encode("utf-8") + b"\n")
    copied = []
    for name in COMPANION_FILES:
        if name != "config.json" and source_dir is not None and (source_dir / name).is_file():
            atomic.atomic_copy(source_dir / name, out / name)
            copied.append(name)
    return ConversionReport(path, len(state), sum(v.nbytes for v in state.values()), [], copied)


def _convert_h5(src: Path, out: Path, progress: bool) -> ConversionReport:
    path = src / TF_WEIGHTS_NAME
    config = ConvBertConfig.from_pretrained(src)
    with init.deferred():  # only the shapes are needed
        model = getattr(tf_modeling, tf_class_of(path))(config)
    names = model._tf_names()
    shapes = {names[k]: v.shape for k, v in model.state_dict().items()}
    weights, unexpected = _with_progress(f"reading {path.name}", progress,
                                         lambda update: read_tf_weights(path, shapes, on_progress=update))
    lacking = sorted(set(shapes) - set(weights) - {_TIED})
    if lacking or unexpected:
        raise H5FormatError(f"{path}: does not match config.json's {type(model).__name__}: missing {lacking[:10]}, "
                            f"unexpected {unexpected[:10]}")
    state = {ours: weights[theirs] for ours, theirs in names.items() if theirs in weights}
    return _write(out, state, model._pytorch_class.__name__, config, src, progress)


def _convert_tf1(source, out: Path, config, generator: bool, progress: bool) -> ConversionReport:
    prefix = resolve_prefix(source)
    role = "generator" if generator else "discriminator"
    if config is None:
        config = config_from_tf1(prefix, role)
    elif not isinstance(config, ConvBertConfig):
        config = ConvBertConfig.from_pretrained(config)
    cls = ConvBertForMaskedLM if generator else ConvBertModel
    with init.deferred():
        model = cls(config)
    shapes = {k: v.shape for k, v in model.state_dict().items()}
    with TF1Checkpoint(prefix) as ckpt:
        state, missing = _with_progress(f"reading {prefix.name}", progress,
                                        lambda update: tf1_state(ckpt, shapes, role, config.num_groups,
                                                                 on_progress=update))
    if missing:
        raise TF1CheckpointError(f"{prefix}: no variables for {missing[:10]} of the {role} ({SCOPES[role]}/)")
    return _write(out, state, cls.__name__, config, prefix.parent, progress)


def convert_checkpoint(source: str | os.PathLike, out: str | os.PathLike, *, config=None, generator: bool = False,
                       progress: bool = True) -> ConversionReport:
    """Convert `source` (see the module docstring) into out/ (created if needed); returns what was written.

    config (TF1 only): a ConvBertConfig, or a path to a config.json or to a directory holding one;
    None reads the sizes from the checkpoint. generator (TF1 only): convert the generator.
    """
    src, out = Path(source), Path(out)
    if src.is_dir():
        try:
            found = checkpoint_files.find_weights(src)
        except NoWeightsFoundError:
            found = None
        if found is not None and found.name == TF_WEIGHTS_NAME:
            out.mkdir(parents=True, exist_ok=True)
            return _convert_h5(src, out, progress)
        if found is not None:
            return checkpoint_files.convert_bin_to_safetensors(src, out, progress=progress)
    out.mkdir(parents=True, exist_ok=True)
    return _convert_tf1(src, out, config, generator, progress)
