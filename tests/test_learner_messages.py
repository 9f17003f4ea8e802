"""What a learner is told: backward()'s checks of what a Function returned, gradcheck's hints, what
explain_mismatch says about two arrays, and help(Tensor)."""

import inspect
import pydoc
import warnings

import numpy as np
import pytest

from minconvbert import GradcheckError, Tensor, gradcheck
from minconvbert.function import Function
from minconvbert.testing import GradcheckWarning, explain_mismatch


def leaf(*shape, seed=0):
    return Tensor(np.random.default_rng(seed).standard_normal(shape), requires_grad=True)


class Square(Function):
    def forward(self, x):
        self.x = x
        return x * x


class BareArray(Square):
    def backward(self, g):
        return 2 * self.x * g  # the array itself, not (array,)


class TooFew(Function):
    def forward(self, a, b):
        return a * b

    def backward(self, g):
        return (g,)  # one gradient for two inputs


class ReturnsTensor(Square):
    def backward(self, g):
        return (Tensor(2 * self.x * g),)


class Doubled(Square):
    def backward(self, g):
        return (4 * self.x * g,)  # twice the true gradient


def test_a_bare_array_from_backward_is_named_as_that_mistake():
    x = leaf(3, 2)
    with pytest.raises(TypeError, match=r"BareArray.backward returned a bare NumPy array of shape \(3, 2\), not a "
                                        r"tuple.*`return \(grad_x,\)` \(with a trailing comma"):
        BareArray.apply(x).sum().backward()


def test_a_tuple_of_the_wrong_length_and_a_tensor_gradient_are_refused():
    with pytest.raises(RuntimeError, match="TooFew.backward returned 1 gradients for 2 inputs"):
        TooFew.apply(leaf(2), leaf(2, seed=1)).sum().backward()
    with pytest.raises(TypeError, match=r"ReturnsTensor.backward returned a Tensor as the gradient of input 0.*\.data"):
        ReturnsTensor.apply(leaf(2)).sum().backward()


def test_gradcheck_warns_when_the_output_does_not_depend_on_an_input():
    with pytest.warns(GradcheckWarning, match=r"the output does not depend on input 1 \(shape \(3,\)\)"):
        assert gradcheck(lambda x, unused: x * 2.0, [leaf(3), leaf(3, seed=1)])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an input used with a zero derivative is in the graph: no warning
        assert gradcheck(lambda x, w: x * 2.0 + w * 0.0, [leaf(3), leaf(3, seed=1)])
        assert gradcheck(lambda e, w: e @ w, [leaf(0, 3), leaf(3, 2)])  # an empty output depends on nothing


def test_gradcheck_names_a_constant_factor_and_a_cut_graph():
    with pytest.raises(GradcheckError, match=r"analytic ≈ 2 × numeric everywhere: a constant factor \(a missing "
                                             r"division by 2"):
        gradcheck(lambda x: Doubled.apply(x), [leaf(4)])
    with pytest.raises(GradcheckError, match="backward\\(\\) gave input 0 no gradient at all.*the graph is cut"):
        gradcheck(lambda x: Tensor(x.data) * 2.0, [leaf(3)])  # .data cuts the graph


@pytest.mark.parametrize("actual, expected, message", [
    (np.ones((4, 2)), np.ones(2), "shape (4, 2), expected (2,): not yet summed over the leading axes (0,)"),
    (np.ones((3, 2)), np.ones((2, 3)), "shape (3, 2), expected (2, 3): the same number of elements, so a reshape "
                                       "or a transpose away"),
    (4 * np.arange(1.0, 7.0), np.arange(1.0, 7.0), "6 of 6 elements differ: yours ≈ 4 × the expected value "
                                                  "everywhere: a constant factor (a missing division by 4"),
    (-np.arange(1.0, 4.0), np.arange(1.0, 4.0), "yours is the negative of the expected value everywhere"),
    (np.arange(9.0).reshape(3, 3).T, np.arange(9.0).reshape(3, 3), "yours is the transpose of the expected"),
    (np.roll(np.arange(1.0, 6.0), 1), np.arange(1.0, 6.0), "shifted by +1 along axis 0: an index off by one?"),
    (np.roll(np.arange(1.0, 10.0), -2), np.arange(1.0, 10.0), "shifted by -2 along axis 0: an index or a padding off "
                                                              "by 2?"),
    (np.ones((2, 8)), np.ones((2, 12)), "shape (2, 8), expected (2, 12): axis 1 has 4 fewer entries than it should"),
    (["a", "b"], ["a", "c"], "item 1 is 'b', expected 'c'"),
    (None, np.zeros(3), "got NoneType, expected an array of shape (3,)"),
    (0.5, 0.25, "yours 0.5, expected 0.25 (2 × the expected)"),
])
def test_explain_mismatch_says_what_differs(actual, expected, message):
    assert message in explain_mismatch(actual, expected)


def test_explain_mismatch_finds_the_ends_of_an_axis_and_accepts_equal_values():
    expected = np.random.default_rng(0).standard_normal((2, 12, 3))
    wrong = expected.copy()
    wrong[:, [0, 11]] += 1.0  # the two ends of the sequence axis
    assert "all at index 0 and 11 of axis 1 (of 12) (the two ends)" in explain_mismatch(wrong, expected)
    assert explain_mismatch(expected + 1e-12, expected) is None
    assert explain_mismatch((expected, [1, 2]), (expected, [1, 2])) is None
    assert explain_mismatch((expected, expected), (expected, 2 * expected)).startswith("value 1: ")


def test_help_tensor_documents_every_attribute_and_leaks_no_section_comment():
    text = pydoc.render_doc(Tensor, renderer=pydoc.plaintext)
    assert "# -----" not in text and "operators (each is a Function" not in text
    for name in ("data", "grad", "requires_grad", "_ctx"):
        assert Tensor.__slots__[name], f"slot {name} has no docstring"
    undocumented = [name for name, value in vars(Tensor).items()
                    if (callable(value) or isinstance(value, property)) and not name.startswith("_")
                    and not (inspect.getdoc(value) or "").strip()]
    undocumented += [name for name in ("__add__", "__mul__", "__matmul__", "__getitem__", "__array__", "__init__")
                     if not vars(Tensor)[name].__doc__]
    assert not undocumented, f"Tensor members without a docstring: {undocumented}"
