"""How the numba kernels run: NUMBA_DISABLE_JIT=1 gives plain Python with the same results, numba's
own thread pool never starts, calls from several threads are safe, importing prints nothing and the
first compilation says so. Each of these needs a fresh interpreter, so they run in subprocesses."""

import re

import numpy as np
import pytest
from kernel_cases import TOLERANCE, normal, run_python
from numba import njit

from minconvbert.kernels import fast, loops


def kernel_outputs(kernels, dtype):
    """Every kernel of module `kernels` on small seeded inputs (small: plain Python loops are slow)."""
    rng = np.random.default_rng(0)
    x, g = normal(rng, (2, 3, 5), dtype, scale=3.0), normal(rng, (2, 3, 5), dtype)
    weight, bias = normal(rng, (5,), dtype), normal(rng, (5,), dtype)
    mask = np.where(rng.random((2, 1, 5)) < 0.4, np.finfo(dtype).min, 0.0).astype(dtype)
    values, span = normal(rng, (2, 4, 2, 3), dtype), normal(rng, (2, 4, 2, 5), dtype)
    depthwise = normal(rng, (5, 3), dtype)
    y = kernels.softmax_forward(x, mask)
    _, mean, rstd = kernels.layer_norm_forward(x, weight, bias, 1e-5)
    outputs = {
        "gelu": kernels.gelu_forward(x), "gelu_grad": kernels.gelu_backward(x, g),
        "gelu_new": kernels.gelu_new_forward(x), "gelu_new_grad": kernels.gelu_new_backward(x, g),
        "softmax": y, "softmax_grad": kernels.softmax_backward(y, g),
        "layer_norm": kernels.layer_norm_forward(x, weight, bias, 1e-5),
        "layer_norm_grad": kernels.layer_norm_backward(g, x, weight, mean, rstd),
        "span_conv": kernels.span_conv_forward(values, span),
        "span_conv_grad": kernels.span_conv_backward(values, span, values[:, ::-1].copy()),
        "depthwise": kernels.depthwise_conv1d_forward(x, depthwise),
        "depthwise_grad": kernels.depthwise_conv1d_backward(x, depthwise, g),
    }  # fmt: skip
    flat = {}
    for name, value in outputs.items():
        for i, array in enumerate(value if isinstance(value, tuple) else (value,)):
            flat[f"{np.dtype(dtype).name}/{name}/{i}"] = array
    return flat


def test_disable_jit_gives_plain_python_and_the_same_results(tmp_path):
    out = tmp_path / "outputs.npz"
    code = f"""
import numpy as np
from minconvbert.kernels import fast
from test_numba_runtime import kernel_outputs
assert fast._GELU_FORWARD.compiled is fast._gelu_forward_plain, "NUMBA_DISABLE_JIT=1 should leave plain Python"
assert fast._SPAN_CONV_BACKWARD.compiled is fast._span_conv_backward_plain
np.savez({str(out)!r}, **kernel_outputs(fast, np.float32), **kernel_outputs(fast, np.float64))
"""
    result = run_python(code, NUMBA_DISABLE_JIT="1")
    assert result.returncode == 0, result.stderr
    plain = np.load(out)
    compiled = {**kernel_outputs(fast, np.float32), **kernel_outputs(fast, np.float64)}
    assert sorted(plain.files) == sorted(compiled)
    for name, array in compiled.items():
        tol = TOLERANCE[np.float32 if name.startswith("float32") else np.float64]
        assert plain[name].dtype == array.dtype, name
        np.testing.assert_allclose(plain[name], array, rtol=tol, atol=tol, err_msg=name)


def test_import_prints_nothing():
    result = run_python("import minconvbert; import minconvbert.kernels.fast")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "" and result.stderr == ""


def test_numba_thread_pool_never_starts():
    """Large calls run split on minconvbert's threads, serial compilations only: numba's layer stays unloaded."""
    code = """
import numba, numpy as np
from minconvbert import threads
from minconvbert.kernels import fast
threads.set_num_threads(2)
fast.gelu_forward(np.ones(1_000_000, np.float32))  # large enough to be split
try:
    numba.threading_layer()
except ValueError:
    print("no threading layer")
print(all(not loop.compiled.targetoptions.get("parallel") for loop in
          (fast._GELU_FORWARD, fast._SOFTMAX_FORWARD, fast._SPAN_CONV_BACKWARD)))
"""
    result = run_python(code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[:2] == ["no threading layer", "True"]


def test_first_compilation_says_so_in_one_line(tmp_path):
    """With an empty cache the first call prints one line to stderr; with the cache warm, nothing."""
    code = "import numpy as np; from minconvbert.kernels import fast; fast.gelu_new_forward(np.ones(3)); " \
           "fast.gelu_new_backward(np.ones(3), np.ones(3))"  # fmt: skip
    cold = run_python(code, NUMBA_CACHE_DIR=str(tmp_path))
    assert cold.returncode == 0, cold.stderr
    lines = cold.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("compiling minconvbert's kernels, once per machine, ~"), lines
    warm = run_python(code, NUMBA_CACHE_DIR=str(tmp_path))
    assert warm.returncode == 0 and warm.stderr == "", warm.stderr


def test_calls_from_several_threads_at_once():
    """Several threads calling split kernels at once share the pool and all get the right results."""
    code = """
import threading
import numpy as np
from minconvbert.kernels import fast, reference
x = np.random.default_rng(0).standard_normal((256, 1025)).astype(np.float32)  # large enough to be split
expected = reference.softmax_forward(x)
errors = []
def work():
    for _ in range(200):
        if not np.allclose(fast.softmax_forward(x), expected, rtol=1e-5, atol=1e-6):
            errors.append("wrong result")
threads = [threading.Thread(target=work) for _ in range(3)]
for t in threads:
    t.start()
work()  # the main thread splits its calls meanwhile
for t in threads:
    t.join()
print("errors", len(errors))
"""
    result = run_python(code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "errors 0"


@pytest.mark.parametrize("loop, arrays", [
    (fast._gelu_forward_plain, lambda x: (x.ravel(), x.ravel().copy())),
    (fast._softmax_forward_plain, lambda x: (x, x[:1], np.zeros(len(x), np.int64), x.copy())),
    (fast._layer_norm_forward_plain, lambda x: (x, x[0], x[0], 1e-5, x.copy(), np.zeros(len(x)), np.zeros(len(x)))),
])  # fmt: skip
def test_float32_loops_are_vectorised(loop, arrays):
    """The inner loops compile to packed SIMD arithmetic. A libm call in the loop (math.erfc) or numba's
    Python error model (a zero check on every division) leaves none: the loop then runs 3-10x slower."""
    compiled = njit(**loops.OPTIONS)(loop)  # as kernels/loops.py compiles it, without the cache (to read the asm)
    args = arrays(np.ones((4, 64), np.float32))
    compiled(*args, 0, 1)
    asm = "\n".join(compiled.inspect_asm().values())
    packed = re.findall(r"\b\w*(?:add|sub|mul|div|fmadd\w*|max|min)p[sd]\s+%[xyz]mm", asm)
    assert len(packed) >= 8, f"{loop.__name__}: {len(packed)} packed SIMD instructions"
