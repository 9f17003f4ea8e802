import numpy as np

from minconvbert import Tensor


def test_square_gradient():
    x = Tensor([[1.0, 2.0]], requires_grad=True)
    (x * x).sum().backward()
    np.testing.assert_array_equal(x.grad, [[2.0, 4.0]])
