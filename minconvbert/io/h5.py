"""Keras HDF5 weight files (tf_model.h5, as transformers' TF classes save them), read and written through h5py.

An HDF5 file is a tree of groups (folders) and datasets (arrays), each with attributes. Keras's
`save_weights` lays a model out as:

    /                                  attrs: backend "tensorflow", keras_version "2.21.0",
                                              layer_names: the model's top-level layers, in order
    /<layer>                           a group per top-level layer; attr weight_names: its weights, in order
    /<layer>/<weight name>             a dataset per weight: its values, C order, float32

e.g. the layer "convbert" of TFConvBertModel holds
    /convbert/tf_conv_bert_model/convbert/encoder/layer_._0/attention/self/query/kernel:0   (hidden, heads * size)
A weight name is the model's name, then the path of Keras layers down to the variable, then ":0".
A layer without weights (a dropout, TFSequenceSummary) still has its group, with no weight_names.
Which weight names a ConvBERT class has, and how they map to ours, is
`minconvbert.models.convbert.tf_weights`'s business; this module only reads and writes the layout.

h5py is an optional dependency (`pip install minconvbert[tf]`). Reading checks the layout before
trusting it: every group and dataset that the attributes name must exist, datasets must be floating
point, uncompressed and fully stored inside the file (so the bytes read are bounded by the file's
size), names unique; problems raise `H5FormatError` naming the file, the layer and the weight.
(The HDF5 structure itself is parsed by the HDF5 C library, which this module cannot make safer.)
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from minconvbert.io.atomic import atomic_write
from minconvbert.io.regular_file import open_regular

__all__ = ["H5FormatError", "KerasH5", "write_weights", "require_h5py", "H5PY_MISSING"]

H5PY_MISSING = ("reading or writing tf_model.h5 needs h5py, which is not installed: "
                "pip install minconvbert[tf]  (or: pip install h5py)")
_MAX_NDIM = 8  # Keras weights have at most 3 dimensions
_FLOAT_KINDS = ("f",)


class H5FormatError(ValueError):
    """A tf_model.h5 file is not a readable Keras weights file; the message says where and why."""


def require_h5py():
    """The h5py module, or ImportError saying how to install it."""
    try:
        import h5py
    except ImportError:
        raise ImportError(H5PY_MISSING) from None
    return h5py


def _strings(value, what: str) -> list[str]:
    """An HDF5 string-array attribute as a list of str."""
    array = np.asarray(value)
    if array.size == 0:  # Keras writes a layer without weights as an empty (float) array
        return []
    if array.ndim != 1 or array.dtype.kind not in "OSU":
        raise H5FormatError(f"{what}: expected a list of strings, got {array.dtype} of shape {array.shape}")
    out = []
    for item in array.tolist():
        if isinstance(item, bytes):
            try:
                item = item.decode("utf-8")
            except UnicodeDecodeError:
                raise H5FormatError(f"{what}: {item[:60]!r} is not UTF-8") from None
        if not isinstance(item, str):
            raise H5FormatError(f"{what}: expected strings, got {type(item).__name__}")
        out.append(item)
    if len(set(out)) != len(out):
        raise H5FormatError(f"{what}: a name appears more than once")
    return out


class KerasH5:
    """An open Keras weights file: the layout read and checked, weights read on demand.

        with KerasH5("tf_model.h5") as f:
            f.layer_names                       # ["convbert", "generator_predictions", ...]
            f.weight_names("convbert")          # ["tf_conv_bert_model/convbert/embeddings/...:0", ...]
            f.shape("convbert", name)           # without reading the values
            f.read("convbert", name)            # float32 array
    """

    def __init__(self, path: str | os.PathLike):
        h5py = require_h5py()
        self.path = Path(path)
        with open_regular(self.path, H5FormatError, "KerasH5") as f:  # a FIFO is refused before h5py blocks on it
            self._size = os.fstat(f.fileno()).st_size
        try:
            self._file = h5py.File(self.path, "r")
        except OSError as e:
            raise H5FormatError(f"{self.path}: not a readable HDF5 file ({e}; truncated or not HDF5?)") from None
        try:
            self._check_layout(h5py)
        except H5FormatError:
            self._file.close()
            raise
        except (KeyError, ValueError, OSError, RuntimeError, TypeError) as e:  # h5py on damaged structures
            self._file.close()
            raise H5FormatError(f"{self.path}: damaged HDF5 structure ({type(e).__name__}: {str(e)[:200]})") from None
        except BaseException:
            self._file.close()
            raise

    def _check_layout(self, h5py) -> None:
        if "layer_names" not in self._file.attrs:
            raise H5FormatError(f"{self.path}: no 'layer_names' attribute: not a Keras weights file")
        self.layer_names = _strings(self._file.attrs["layer_names"], f"{self.path}: layer_names")
        self._weights: dict[str, list[str]] = {}
        self._datasets = {}  # (layer, weight name) -> its checked dataset
        for layer in self.layer_names:
            group = self._file.get(layer)
            if not isinstance(group, h5py.Group):
                raise H5FormatError(f"{self.path}: layer_names lists {layer!r}, but the file has no such group")
            names = _strings(group.attrs.get("weight_names", np.array([], dtype=object)),
                             f"{self.path}: layer {layer!r}: weight_names")
            for name in names:
                self._datasets[layer, name] = self._checked_dataset(layer, name, h5py)
            self._weights[layer] = names

    def _checked_dataset(self, layer: str, name: str, h5py):
        """The dataset of one weight, after checking that reading it is safe."""
        where = f"{self.path}: layer {layer!r}: weight {name!r}"
        try:
            dataset = self._file[layer].get(name)
        except (KeyError, ValueError, OSError) as e:
            raise H5FormatError(f"{where}: cannot be opened ({e})") from None
        if not isinstance(dataset, h5py.Dataset):
            raise H5FormatError(f"{where}: listed in weight_names but there is no such dataset")
        if dataset.dtype.kind not in _FLOAT_KINDS or dataset.dtype.itemsize not in (2, 4, 8):
            raise H5FormatError(f"{where}: dtype {dataset.dtype}; weights must be float16, float32 or float64")
        if dataset.ndim > _MAX_NDIM:
            raise H5FormatError(f"{where}: {dataset.ndim} dimensions")
        if dataset.compression is not None or dataset.id.get_create_plist().get_nfilters():
            raise H5FormatError(f"{where}: stored with filters (compression); Keras never writes them")
        nbytes = dataset.size * dataset.dtype.itemsize
        stored = dataset.id.get_storage_size()
        offset = dataset.id.get_offset()  # None unless stored contiguously
        if stored < nbytes or (offset is not None and offset + nbytes > self._size):
            raise H5FormatError(f"{where}: shape {dataset.shape} needs {nbytes} bytes but the file stores "
                                f"{stored} for it (truncated file?)")
        return dataset

    def weight_names(self, layer: str) -> list[str]:
        if layer not in self._weights:
            raise KeyError(f"{self.path.name}: no layer {layer!r} (layers: {self.layer_names})")
        return list(self._weights[layer])

    def _dataset(self, layer: str, name: str):
        try:
            return self._datasets[layer, name]
        except KeyError:
            raise KeyError(f"{self.path.name}: layer {layer!r} has no weight {name!r}") from None

    def shape(self, layer: str, name: str) -> tuple[int, ...]:
        return tuple(self._dataset(layer, name).shape)

    def read(self, layer: str, name: str) -> np.ndarray:
        """The weight's values as a float32 array of its shape."""
        dataset = self._dataset(layer, name)
        try:
            return np.asarray(dataset[()], dtype=np.float32)
        except (OSError, ValueError, TypeError) as e:
            raise H5FormatError(f"{self.path}: layer {layer!r}: weight {name!r}: cannot be read ({e})") from None

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> "KerasH5":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def write_weights(path: str | os.PathLike, layers: Sequence[tuple[str, Sequence[tuple[str, np.ndarray]]]], *,
                  keras_version: str = "2.21.0",
                  on_progress: Callable[[int, int], None] | None = None) -> Path:
    """Write a Keras weights file: layers = [(layer name, [(weight name, array), ...]), ...], atomically.

    A weight listed under two layers (Keras does this for tied weights) is stored under each. The
    attributes are those Keras writes (backend, keras_version, layer_names, weight_names).
    on_progress(bytes written, total bytes) is called after each weight.
    """
    h5py = require_h5py()
    path = Path(path)
    total = sum(np.asarray(a).nbytes for _, weights in layers for _, a in weights)
    done = 0
    with atomic_write(path) as raw, h5py.File(raw, "w") as f:
        f.attrs["backend"] = "tensorflow"
        f.attrs["keras_version"] = keras_version
        f.attrs["layer_names"] = np.array([name.encode("utf-8") for name, _ in layers])
        for layer, weights in layers:
            group = f.create_group(layer)
            group.attrs["weight_names"] = np.array([name.encode("utf-8") for name, _ in weights])
            for name, array in weights:
                group.create_dataset(name, data=np.ascontiguousarray(array, dtype=np.float32))
                done += np.asarray(array).nbytes
                if on_progress is not None:
                    on_progress(done, total)
    return path
