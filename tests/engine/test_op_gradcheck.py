"""Every operation's backward against central finite differences, in float64, on hypothesis-drawn inputs.

The inputs (see op_cases.py) include broadcasting, size-1 axes and empty batch axes; every drawn
array is differentiated at once.
"""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minconvbert as mc
from tests.engine.op_cases import CASES, empty_inputs_may_warn
from tests.strategies import tensor


GRADCHECK_CASES = [c for c in CASES if c.gradcheck]


@pytest.mark.parametrize("case", GRADCHECK_CASES, ids=[c.name for c in GRADCHECK_CASES])
@given(data=st.data())
def test_gradcheck(case, data):
    arrays, kw = data.draw(case.inputs, label="inputs")
    inputs = [tensor(a) for a in arrays]
    with empty_inputs_may_warn(arrays):
        out = case.ours(*inputs, **kw)
        assert out.dtype == np.float64 and out.requires_grad  # float64 in, float64 out, on the graph
        assert mc.gradcheck(lambda *ts: case.ours(*ts, **kw), inputs, atol=case.atol, rtol=case.rtol)
    for x, a in zip(inputs, arrays):  # the check leaves each input's gradient: float64, its shape
        assert x.grad.dtype == np.float64 and x.grad.shape == a.shape
