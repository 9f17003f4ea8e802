"""Every operation's forward values and gradients against PyTorch's, in float64, on the same inputs."""

import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.engine.op_cases import CASES, empty_inputs_may_warn
from tests.strategies import tensor

TORCH_CASES = [c for c in CASES if c.torch is not None]


@pytest.mark.parametrize("case", TORCH_CASES, ids=[c.name for c in TORCH_CASES])
@given(data=st.data())
def test_matches_torch(case, data):
    torch = pytest.importorskip("torch")
    arrays, kw = data.draw(case.inputs, label="inputs")
    ours_in = [tensor(a) for a in arrays]
    theirs_in = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in arrays]
    with empty_inputs_may_warn(arrays):
        out = case.ours(*ours_in, **kw)
    with warnings.catch_warnings():  # var with ddof >= n is NaN on both sides: torch says so, expectedly
        warnings.filterwarnings("ignore", r"var\(\): degrees of freedom is <= 0", UserWarning)
        ref = case.torch(torch, *theirs_in, **kw)
    assert out.shape == tuple(ref.shape), f"shape {out.shape} vs torch {tuple(ref.shape)}"
    np.testing.assert_allclose(out.data, ref.detach().numpy(), rtol=1e-9, atol=1e-10)

    direction = np.random.default_rng(0).standard_normal(out.shape)
    with empty_inputs_may_warn(arrays):
        out.backward(direction)
    ref.backward(torch.from_numpy(direction))
    for i, (x, t) in enumerate(zip(ours_in, theirs_in)):
        expected = np.zeros(x.shape) if t.grad is None else t.grad.numpy()
        got = np.zeros(x.shape) if x.grad is None else x.grad
        np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-10, err_msg=f"gradient of input {i}")
