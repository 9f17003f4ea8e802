"""minconvbert.gradcheck itself: it passes correct backwards and catches wrong ones with a useful report."""

import numpy as np
import pytest

from minconvbert import GradcheckError, Tensor, gradcheck
from minconvbert import functional as F
from minconvbert.function import Function


def leaf(*shape, seed=0):
    return Tensor(np.random.default_rng(seed).standard_normal(shape), requires_grad=True)


class MulWithBug(Function):
    """y = a * b, but dL/db is wrong at one element (1, 2)."""

    def forward(self, a, b):
        self.a, self.b = a, b
        return a * b

    def backward(self, g):
        grad_b = g * self.a
        grad_b[1, 2] += 0.5
        return g * self.b, grad_b


class SquareWithBug(Function):
    """y = x^2 with dy/dx = 3x (should be 2x)."""

    def forward(self, x):
        self.x = x
        return x * x

    def backward(self, g):
        return (3.0 * g * self.x,)


class IgnoresGrad(Function):
    """y = 2x with a backward that ignores the incoming gradient (right only for sum())."""

    def forward(self, x):
        return 2 * x

    def backward(self, g):
        return (np.full_like(g, 2.0),)


class ForgetsAnInput(Function):
    """y = a + b whose backward returns no gradient for b."""

    def forward(self, a, b):
        return a + b

    def backward(self, g):
        return g, None


def test_correct_backwards_pass():
    assert gradcheck(lambda x, w: F.gelu(x @ w).sum(), [leaf(3, 4), leaf(4, 2, seed=1)]) is True
    assert gradcheck(lambda x: F.softmax(x, axis=0), [leaf(3, 2)]) is True  # non-scalar output


def test_a_wrong_element_is_reported_by_input_and_index():
    a, b = leaf(2, 3), leaf(2, 3, seed=1)
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda a, b: MulWithBug.apply(a, b).sum(), [a, b])
    message = str(info.value)
    assert message.startswith("gradcheck: input 1 (shape (2, 3)) index (1, 2): analytic ")
    analytic, numeric = a.data[1, 2] + 0.5, a.data[1, 2]
    assert f"analytic {analytic:.10g} vs numeric " in message
    assert float(message.split("vs numeric ")[1].split()[0]) == pytest.approx(numeric, abs=1e-6)
    assert "(1 of 6 elements differ" in message


def test_a_wrong_formula_is_caught_and_raise_exception_false_returns_false():
    x = leaf(4)
    with pytest.raises(GradcheckError, match=r"input 0 \(shape \(4,\)\) index \(\d,\).*4 of 4 elements differ"):
        gradcheck(lambda x: SquareWithBug.apply(x).sum(), [x])
    assert gradcheck(lambda x: SquareWithBug.apply(x).sum(), [x], raise_exception=False) is False


def test_a_backward_that_ignores_the_incoming_gradient_is_caught_on_non_scalar_outputs():
    x = leaf(3)
    assert gradcheck(lambda x: IgnoresGrad.apply(x).sum(), [x])  # indistinguishable through sum()
    with pytest.raises(GradcheckError, match="input 0"):
        gradcheck(lambda x: IgnoresGrad.apply(x), [x])  # a random projection of the output exposes it


def test_a_missing_gradient_and_a_graph_broken_by_data_are_caught():
    with pytest.raises(GradcheckError, match=r"input 1 \(shape \(3,\)\).*analytic 0 vs numeric 1"):
        gradcheck(lambda a, b: ForgetsAnInput.apply(a, b).sum(), [leaf(3), leaf(3, seed=1)])
    with pytest.raises(GradcheckError, match="input 0"):
        gradcheck(lambda x: (x * Tensor(x.data)).sum(), [leaf(3)])  # the second factor is cut off


def test_a_wrongly_shaped_gradient_is_reported_by_the_engine():
    class WrongShape(Function):
        def forward(self, x):
            return x.sum()

        def backward(self, g):
            return (np.ones(1),)

    with pytest.raises(RuntimeError, match=r"WrongShape.backward returned a gradient of shape \(1,\)"):
        gradcheck(lambda x: WrongShape.apply(x), [leaf(2, 2)])


def test_tolerances_are_honoured():
    class SlightlyOff(Function):
        def forward(self, x):
            self.x = x
            return x * x

        def backward(self, g):
            return (g * 2.0 * self.x * (1 + 1e-3),)

    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    assert gradcheck(lambda x: SlightlyOff.apply(x).sum(), [x], rtol=1e-2)
    with pytest.raises(GradcheckError):
        gradcheck(lambda x: SlightlyOff.apply(x).sum(), [x])


def test_float32_inputs_are_rejected():
    x = Tensor([1.0, 2.0], requires_grad=True)  # float32
    with pytest.raises(TypeError, match="gradcheck: input 1 is float32; finite differences need float64"):
        gradcheck(lambda a, b: (a * b).sum(), [leaf(2), x])


def test_nothing_to_check_and_non_tensor_outputs_are_refused():
    with pytest.raises(ValueError, match="no input requires grad"):
        gradcheck(lambda x: x.sum(), [Tensor(np.ones(2))])
    with pytest.raises(TypeError, match="the function must return a Tensor, got float"):
        gradcheck(lambda x: 1.0, [leaf(2)])


def test_empty_inputs_pass_with_an_empty_gradient_and_non_empty_ones_are_still_checked():
    e, w = leaf(0, 3), leaf(3, 2, seed=1)
    assert gradcheck(lambda e, w: F.gelu(e @ w), [e, w])
    assert e.grad.shape == (0, 3) and np.all(w.grad == 0)  # nothing flowed: the batch is empty
    with pytest.raises(GradcheckError, match=r"input 1 \(shape \(3,\)\)"):  # the empty input does not hide a bug
        gradcheck(lambda e, x: F.sum(e) + SquareWithBug.apply(x).sum(), [leaf(0), leaf(3)])


def test_inputs_keep_their_values_and_shapes_and_constants_are_not_perturbed():
    x, c = leaf(2, 3), Tensor(np.arange(3.0))
    scalar = Tensor(np.array(1.5), requires_grad=True)
    before = x.data.copy()
    seen = []

    def fn(x, c, s):
        seen.append(c.data.copy())
        return (x * c * s).sum()

    assert gradcheck(fn, [x, c, scalar])
    np.testing.assert_array_equal(x.data, before)
    assert scalar.shape == () and scalar.data == 1.5
    assert all(np.array_equal(v, np.arange(3.0)) for v in seen)


def test_non_contiguous_inputs_are_checked():
    x = Tensor(np.random.default_rng(0).standard_normal((3, 4)).T, requires_grad=True)  # a transposed view
    assert gradcheck(lambda x: (x @ x.T).tanh(), [x])
