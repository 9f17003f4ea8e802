"""The kernel contract holds every backend: each declared name exists with the declared signature,
`@kernel` refuses a function that differs, and both backends refuse a bad call with the same error.
"""

import importlib
import inspect

import numpy as np
import pytest

from minconvbert.backend import BACKENDS
from minconvbert.kernels import contract
from minconvbert.kernels.contract import KERNELS, kernel

MODULES = {name: importlib.import_module(path) for name, path in BACKENDS.items()}


@pytest.mark.parametrize("backend", sorted(MODULES))
def test_every_backend_implements_every_declared_kernel_with_its_signature(backend):
    module = MODULES[backend]
    missing = [name for name in KERNELS if not hasattr(module, name)]
    assert not missing, f"backend {backend!r} misses kernels {missing}"
    for name in KERNELS:
        implementation = getattr(module, name)
        declaration = getattr(contract, name)
        assert implementation.declaration is declaration, f"{backend}.{name} is not marked @kernel"
        assert inspect.signature(implementation) == inspect.signature(declaration), f"{backend}.{name}"


def test_kernel_refuses_a_signature_that_differs_from_the_declaration():
    def gelu_forward(x, approximate):
        return x

    with pytest.raises(TypeError, match=r"gelu_forward\(x, approximate\) differs from the declared gelu_forward\(x\)"):
        kernel(gelu_forward)


def test_kernel_refuses_an_undeclared_name():
    def gelu_sideways(x):
        return x

    with pytest.raises(TypeError, match="'gelu_sideways' is not a declared kernel"):
        kernel(gelu_sideways)


def test_kernel_runs_the_declarations_checks_before_the_implementation():
    calls = []

    def nonzero_rows(x):
        calls.append(x)
        return x

    checked = kernel(nonzero_rows)
    with pytest.raises(ValueError, match=r"nonzero_rows: expected x \(R, N\), got shape \(3,\)"):
        checked(np.zeros(3))
    assert calls == []


BAD_CALLS = [  # (kernel, arguments, exception): each one a check of contract.py
    ("gelu_forward", (np.arange(4),), TypeError),
    ("gelu_backward", (np.zeros(4), np.zeros(5)), ValueError),
    ("softmax_forward", (np.zeros((2, 3)), np.zeros((2, 4))), ValueError),
    ("softmax_forward", (np.zeros((2, 0)),), ValueError),
    ("softmax_backward", (np.zeros((2, 3)), np.zeros((3, 2))), ValueError),
    ("layer_norm_forward", (np.zeros((2, 3)), np.ones(4), np.zeros(3), 1e-5), ValueError),
    ("layer_norm_backward", (np.zeros((2, 3)), np.zeros((2, 3)), np.ones(3), np.zeros((2, 1)), np.ones(2)), ValueError),
    ("span_conv_forward", (np.zeros((1, 4, 2, 3)), np.zeros((1, 4, 3, 5))), ValueError),
    ("span_conv_backward", (np.zeros((1, 4, 2, 3)), np.zeros((1, 4, 2, 5)), np.zeros((1, 4, 2, 2))), ValueError),
    ("depthwise_conv1d_forward", (np.zeros((1, 4, 3)), np.zeros((2, 5))), ValueError),
    ("depthwise_conv1d_backward", (np.zeros((1, 4, 3)), np.zeros((3, 5)), np.zeros((1, 4, 2))), ValueError),
    ("nonzero_rows", (np.zeros((2, 3), dtype=np.int64),), TypeError),
]


@pytest.mark.parametrize("name, arguments, error", BAD_CALLS, ids=[f"{c[0]}-{i}" for i, c in enumerate(BAD_CALLS)])
def test_both_backends_refuse_a_bad_call_with_the_same_message(name, arguments, error):
    messages = {}
    for backend, module in MODULES.items():
        with pytest.raises(error) as raised:
            getattr(module, name)(*arguments)
        messages[backend] = str(raised.value)
    assert len(set(messages.values())) == 1, messages
    assert messages["numpy"].startswith(f"{name}: ")
