"""Checkpoint input/output: safetensors and PyTorch zip files read without torch, hub ids, layouts.

- `safetensors`: the safetensors format on NumPy (lazy, memory-mapped reader; atomic writer).
- `torch_pickle`: `torch.save` zip checkpoints (pytorch_model.bin) through a restricted unpickler.
- `hub`: a checkpoint name or path -> a local directory (Hugging Face cache layout, optional download).
- `checkpoint_files`: a directory's weights as {name: array}, in any published layout; saving them.
- `atomic`: writes that never leave a half-written file behind.
"""

from minconvbert.io.safetensors import SafetensorsError, load_file, safe_open, save_file

__all__ = ["SafetensorsError", "load_file", "safe_open", "save_file"]
