"""A5's hidden checks: the edges of the sequence, float32, a larger case, untouched inputs."""

import numpy as np

from minconvbert.grade.a5_kernels.spec import A5, backward_equal, forward_equal, random_case


@A5.check(points=2, visible=False)
def edges(student):
    """A sequence shorter than the kernel (T = 3, K = 9), a single position (T = 1), and K = 1."""
    for seed, shape, K in ((4, (2, 3, 2, 3), 9), (5, (3, 1, 2, 4), 5), (6, (2, 4, 3, 2), 1)):
        values, kernels, grad_out = random_case(seed, *shape, K)
        what = f"T = {shape[1]}, K = {K}"
        forward_equal(student, values, kernels, what)
        backward_equal(student, values, kernels, grad_out, what)


@A5.check(points=1, visible=False)
def float32_stays_float32(student):
    """float32 inputs give float32 outputs equal to the reference within float32 precision."""
    values, kernels, grad_out = random_case(7, 2, 9, 2, 4, 5, np.float32)
    out = student.run("span_conv_forward", values, kernels).value
    if getattr(out, "dtype", None) != np.float32:
        raise AssertionError(f"span_conv_forward gave {getattr(out, 'dtype', type(out).__name__)} for float32 inputs")
    forward_equal(student, values, kernels, "float32", atol=1e-5, rtol=1e-5)
    backward_equal(student, values, kernels, grad_out, "float32", atol=1e-5, rtol=1e-5)


@A5.check(points=2, visible=False)
def larger_case(student):
    """B = 3, T = 33, H = 4, D = 16, K = 9."""
    values, kernels, grad_out = random_case(8, 3, 33, 4, 16, 9)
    forward_equal(student, values, kernels, "(3, 33, 4, 16), K = 9")
    backward_equal(student, values, kernels, grad_out, "(3, 33, 4, 16), K = 9")


@A5.check(points=1, visible=False)
def inputs_unchanged(student):
    """The forward and the backward give the right values and leave their inputs untouched."""
    values, kernels, grad_out = random_case(9, 2, 6, 2, 3, 5)
    for function, args in (("span_conv_forward", (values, kernels)),
                           ("span_conv_backward", (values, kernels, grad_out))):
        changed = student.run(function, *args).changed
        if changed:
            raise AssertionError(f"{function} modified its {', '.join(changed)} in place")
    forward_equal(student, values, kernels, "(2, 6, 2, 3), K = 5")
    backward_equal(student, values, kernels, grad_out, "(2, 6, 2, 3), K = 5")
