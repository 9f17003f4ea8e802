"""How the numba kernels run: NUMBA_DISABLE_JIT=1 gives plain Python with the same results, the
threading layer is chosen without overriding the user, calls from several threads are safe, and
importing prints nothing. Each of these needs a fresh interpreter, so they run in subprocesses."""

import numpy as np
from kernel_cases import TOLERANCE, normal, run_python

from minconvbert.kernels import fast


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


def test_threading_layer_defaults_to_workqueue():
    code = """
import numba, numpy as np
from minconvbert.kernels import fast
fast.gelu_forward(np.ones(1_000_000, np.float32))  # above fast.SERIAL_BELOW: the parallel loop
print(numba.config.THREADING_LAYER, numba.threading_layer())
"""
    result = run_python(code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["workqueue", "workqueue"]


def test_threading_layer_respects_the_user():
    from_env = run_python("import numba; import minconvbert.kernels.fast; print(numba.config.THREADING_LAYER)",
                          NUMBA_THREADING_LAYER="omp")  # fmt: skip
    assert from_env.returncode == 0, from_env.stderr
    assert from_env.stdout.strip() == "omp"
    in_code = "import numba; numba.config.THREADING_LAYER = 'tbb'; import minconvbert.kernels.fast; " \
              "print(numba.config.THREADING_LAYER)"  # fmt: skip
    result = run_python(in_code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "tbb"


def test_calls_from_several_threads_at_once():
    """workqueue aborts the process on concurrent parallel launches; other threads must run serial loops."""
    code = """
import threading
import numpy as np
from minconvbert.kernels import fast, reference
x = np.random.default_rng(0).standard_normal((256, 1025)).astype(np.float32)  # parallel on the main thread
expected = reference.softmax_forward(x)
errors = []
def work():
    for _ in range(200):
        if not np.allclose(fast.softmax_forward(x), expected, rtol=1e-5, atol=1e-6):
            errors.append("wrong result")
threads = [threading.Thread(target=work) for _ in range(3)]
for t in threads:
    t.start()
work()  # the main thread launches parallel loops meanwhile
for t in threads:
    t.join()
print("errors", len(errors))
"""
    result = run_python(code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "errors 0"
