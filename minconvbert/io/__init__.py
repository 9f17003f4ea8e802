"""Checkpoint input/output: safetensors and PyTorch zip files read without torch, hub ids, layouts.

- `safetensors`: the safetensors format on NumPy (lazy, memory-mapped reader; atomic writer).
- `torch_pickle`: `torch.save` zip checkpoints (pytorch_model.bin) read without torch, through
  `torch_unpickler`, a restricted pickle machine; `torch_save`: writing them without torch.
- `hub`: a checkpoint name or path -> a local directory (Hugging Face cache layout, optional download).
- `checkpoint_files`: a directory's weights as {name: array}, in any published layout; saving them;
  converting a pytorch_model.bin directory to safetensors.
- `atomic`: writes that never leave a half-written file behind; `atomic_dir`: a directory's files
  replaced in one step; `regular_file`: opening regular files only; `progress`: a byte progress display.
"""

from minconvbert.io.checkpoint_files import (
    CheckpointLayoutError,
    NoWeightsFoundError,
    convert_bin_to_safetensors,
    find_weights,
    load_weights,
    save_weights,
)
from minconvbert.io.hub import CheckpointNotFoundError, resolve_checkpoint
from minconvbert.io.safetensors import SafetensorsError, load_file, safe_open, save_file
from minconvbert.io.torch_pickle import RefusedGlobalError, TorchCheckpointError

__all__ = [
    "SafetensorsError",
    "load_file",
    "safe_open",
    "save_file",
    "TorchCheckpointError",
    "RefusedGlobalError",
    "resolve_checkpoint",
    "CheckpointNotFoundError",
    "find_weights",
    "load_weights",
    "save_weights",
    "convert_bin_to_safetensors",
    "NoWeightsFoundError",
    "CheckpointLayoutError",
]
