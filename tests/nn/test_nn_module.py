"""Module, Parameter and ModuleList: names and order as in PyTorch, state dicts, modes, repr."""

import warnings

import numpy as np
import pytest

from minconvbert import Tensor
from minconvbert import nn


class Block(nn.Module):
    def __init__(self, rng):
        super().__init__()
        self.attn = nn.Linear(4, 4, rng=rng)
        self.drop = nn.Dropout(0.1)
        self.ln = nn.LayerNorm(4)

    def forward(self, x):
        return self.ln(x + self.drop(self.attn(x)))


class Net(nn.Module):
    """Embedding -> two Blocks -> head, the head's weight tied to the embedding, and a bare Parameter."""

    def __init__(self, rng=0):
        super().__init__()
        rng = np.random.default_rng(rng)
        self.embed = nn.Embedding(10, 4, padding_idx=0, rng=rng)
        self.layers = nn.ModuleList([Block(rng), Block(rng)])
        self.head = nn.Linear(4, 10, rng=rng)
        self.head.weight = self.embed.weight  # tied
        self.scale = nn.Parameter(np.ones(1, dtype=np.float32))

    def forward(self, ids):
        x = self.embed(ids)
        for layer in self.layers:
            x = layer(x)
        return self.head(x) * self.scale


def torch_net(torch):
    """The same tree in PyTorch, built the same way."""
    tnn = torch.nn

    class TBlock(tnn.Module):
        def __init__(self):
            super().__init__()
            self.attn, self.drop, self.ln = tnn.Linear(4, 4), tnn.Dropout(0.1), tnn.LayerNorm(4)

    class TNet(tnn.Module):
        def __init__(self):
            super().__init__()
            self.embed = tnn.Embedding(10, 4, padding_idx=0)
            self.layers = tnn.ModuleList([TBlock(), TBlock()])
            self.head = tnn.Linear(4, 10)
            self.head.weight = self.embed.weight
            self.scale = tnn.Parameter(torch.ones(1))

    return TNet()


# ----- names, order, ties --------------------------------------------------------------------------------
def test_named_parameters_equal_pytorchs_names_order_and_shapes():
    torch = pytest.importorskip("torch")
    ours = [(n, p.shape) for n, p in Net().named_parameters()]
    theirs = [(n, tuple(p.shape)) for n, p in torch_net(torch).named_parameters()]
    assert ours == theirs
    assert "head.weight" not in dict(ours)  # the tied weight is listed once, under its first name


def test_state_dict_keys_equal_pytorchs_with_the_tied_weight_under_both_names():
    torch = pytest.importorskip("torch")
    ours = Net().state_dict()
    theirs = torch_net(torch).state_dict()
    assert list(ours) == list(theirs)
    assert ours["head.weight"] is ours["embed.weight"]
    assert all(ours[k].shape == tuple(v.shape) for k, v in theirs.items())


def test_parameters_and_named_parameters_agree_and_count_tied_weights_once():
    net = Net()
    params = list(net.parameters())
    assert [id(p) for p in params] == [id(p) for _, p in net.named_parameters()]
    assert len({id(p) for p in params}) == len(params)
    assert net.num_parameters() == sum(p.size for p in params) == 10 * 4 + 2 * (16 + 4 + 4 + 4) + 10 + 1


def test_reassigning_keeps_the_place_in_the_order_as_in_pytorch():
    torch = pytest.importorskip("torch")

    def build(nn_module, param, linear, ones):
        class M(nn_module):
            def __init__(self):
                super().__init__()
                self.a, self.b = param(ones(1)), param(ones(1))
                self.a = param(ones(2))  # replaced: stays first
                self.c, self.d = linear(1, 1), linear(1, 1)
                self.c = None  # emptied, then filled again: stays before d
                self.c = linear(2, 2)

        return M()

    ours = build(nn.Module, nn.Parameter, nn.Linear, lambda n: np.ones(n, dtype=np.float32))
    theirs = build(torch.nn.Module, torch.nn.Parameter, torch.nn.Linear, torch.ones)
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert [p.shape for p in ours.parameters()] == [tuple(p.shape) for p in theirs.parameters()]


def test_a_shared_submodule_is_walked_once_but_saved_under_both_names():
    torch = pytest.importorskip("torch")
    for lib in (nn, torch.nn):
        m = lib.Module()
        m.first = lib.Linear(2, 2)
        m.second = m.first
        names = [n for n, _ in m.named_parameters()]
        keys = list(m.state_dict())
        assert names == ["first.weight", "first.bias"]
        assert keys == ["first.weight", "first.bias", "second.weight", "second.bias"]


def test_assigning_a_non_parameter_to_a_parameter_slot_is_refused():
    net = Net()
    with pytest.raises(TypeError, match="cannot assign a Tensor to 'scale', which holds a Parameter"):
        net.scale = Tensor([1.0])
    with pytest.raises(TypeError, match="cannot assign a int to 'head', which holds a Module"):
        net.head = 3


def test_setting_attributes_before_init_is_a_clear_error():
    class Forgetful(nn.Module):
        def __init__(self):
            self.w = nn.Parameter([1.0])

    with pytest.raises(AttributeError, match=r"Forgetful: call super\(\).__init__\(\) before"):
        Forgetful()


def test_deleting_an_attribute_unregisters_it():
    net = Net()
    del net.scale
    assert "scale" not in dict(net.named_parameters())


# ----- state dicts ----------------------------------------------------------------------------------------
def test_state_dict_round_trip_copies_values_and_casts_dtype():
    a, b = Net(rng=1), Net(rng=2)
    state = {k: v.astype(np.float64) * 2 for k, v in a.state_dict().items()}
    missing, unexpected = b.load_state_dict(state)
    assert missing == [] and unexpected == []
    for k, v in b.state_dict().items():
        assert v.dtype == np.float32
        np.testing.assert_array_equal(v, (a.state_dict()[k].astype(np.float64) * 2).astype(np.float32))
        assert v is not state[k]  # a private copy


def test_load_state_dict_accepts_one_name_of_a_tied_weight():
    a, b = Net(rng=1), Net(rng=2)
    state = a.state_dict()
    del state["head.weight"]  # as in checkpoints that store tied weights once
    assert b.load_state_dict(state) == ([], [])
    assert b.head.weight is b.embed.weight
    np.testing.assert_array_equal(b.head.weight.data, a.embed.weight.data)


def test_strict_loading_reports_missing_and_unexpected_keys():
    net = Net()
    state = net.state_dict()
    del state["scale"], state["layers.1.ln.bias"]
    state["layers.2.ln.bias"] = np.zeros(4)
    with pytest.raises(KeyError, match=r"missing keys \['scale', 'layers.1.ln.bias'\]; "  # in the model's order
                                       r"unexpected keys \['layers.2.ln.bias'\]"):
        net.load_state_dict(state)


def test_non_strict_loading_warns_returns_the_report_and_loads_the_rest():
    net = Net()
    state = {k: np.zeros_like(v) for k, v in net.state_dict().items() if k != "scale"}
    state["extra"] = np.zeros(3)
    with pytest.warns(UserWarning, match=r"missing keys \['scale'\]; unexpected keys \['extra'\]"):
        missing, unexpected = net.load_state_dict(state, strict=False)
    assert (missing, unexpected) == (["scale"], ["extra"])
    assert np.all(net.layers[0].attn.weight.data == 0) and np.all(net.scale.data == 1)


@pytest.mark.parametrize("strict", [True, False])
def test_shape_mismatch_is_always_an_error_naming_both_shapes(strict):
    net = Net()
    state = net.state_dict()
    state["layers.0.attn.weight"] = np.zeros((4, 5))
    with pytest.raises(ValueError, match=r"layers.0.attn.weight: checkpoint \(4, 5\) vs model \(4, 4\)"):
        net.load_state_dict(state, strict=strict)


def test_loading_clears_stale_gradients_and_accepts_tensors():
    net = Net()
    for p in net.parameters():
        p.grad = np.ones_like(p.data)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        net.load_state_dict({k: Tensor(v) for k, v in net.state_dict().items()})
    assert all(p.grad is None for p in net.parameters())


# ----- modes, gradients, calling, dtype ---------------------------------------------------------------------------
def test_train_and_eval_propagate_to_every_descendant():
    net = Net()
    assert all(m.training for m in net.modules())
    assert net.eval() is net and not any(m.training for m in net.modules())
    assert net.train() is net and all(m.training for m in net.modules())
    net.layers[1].eval()
    assert not net.layers[1].drop.training and net.layers[0].drop.training


def test_eval_makes_dropout_the_identity_so_outputs_repeat():
    net = Net().eval()
    ids = np.array([[1, 2, 3]])
    np.testing.assert_array_equal(net(ids).data, net(ids).data)
    net.train()
    assert not np.array_equal(net(ids).data, net(ids).data)


def test_call_runs_forward_and_zero_grad_clears_every_gradient():
    net = Net()
    out = net(np.array([[1, 2, 0]]))
    assert out.shape == (1, 3, 10)
    out.sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())


def test_forward_must_be_defined():
    with pytest.raises(NotImplementedError, match="Module has no forward"):
        nn.Module()(1)


def test_to_float64_converts_every_parameter_and_the_computation():
    net = Net().to(np.float64)
    assert all(p.dtype == np.float64 for p in net.parameters())
    assert net.head.weight is net.embed.weight
    assert net(np.array([[1, 2]])).dtype == np.float64
    with pytest.raises(TypeError, match="parameters must stay floating point"):
        net.to(np.int32)


def test_requires_grad_false_freezes_parameters():
    net = Net().requires_grad_(False)
    out = net(np.array([[1, 2]]))
    assert not out.requires_grad


# ----- Parameter and ModuleList -------------------------------------------------------------------------------
def test_parameter_is_a_leaf_tensor_that_requires_grad():
    p = nn.Parameter(np.zeros(3, dtype=np.float32))
    assert isinstance(p, Tensor) and p.requires_grad and p.is_leaf
    assert repr(p).startswith("Parameter containing:\nTensor(")
    assert nn.Parameter([1.0]).dtype == np.float32
    with pytest.raises(TypeError, match="only floating-point tensors can require grad"):
        nn.Parameter(np.arange(3))


def test_module_list_names_indexing_and_slicing():
    layers = nn.ModuleList([nn.Linear(2, 2), nn.Linear(2, 3)])
    layers.append(nn.Linear(3, 1)).extend([nn.Identity()])
    assert len(layers) == 4 and layers[-2].out_features == 1
    assert [n for n, _ in layers.named_parameters()] == [f"{i}.{w}" for i in range(3) for w in ("weight", "bias")]
    sliced = layers[1:3]
    assert isinstance(sliced, nn.ModuleList) and [m.out_features for m in sliced] == [3, 1]
    assert [type(m).__name__ for m in layers] == ["Linear", "Linear", "Linear", "Identity"]


# ----- repr ----------------------------------------------------------------------------------------------
def test_repr_is_the_same_tree_as_pytorchs():
    torch = pytest.importorskip("torch")

    def build(lib):
        class Head(lib.Module):
            def __init__(self):
                super().__init__()
                self.dense = lib.Linear(4, 3)
                self.words = lib.Embedding(10, 4, padding_idx=0)

        class Model(lib.Module):
            def __init__(self):
                super().__init__()
                self.head, self.out = Head(), lib.Linear(3, 2, bias=False)

        return Model()

    assert repr(build(nn)) == repr(build(torch.nn))


def test_repr_of_the_test_net():
    text = repr(Net())
    assert text.startswith("Net(\n  (embed): Embedding(10, 4, padding_idx=0)\n  (layers): ModuleList(\n    (0): Block(")
    assert "      (attn): Linear(in_features=4, out_features=4, bias=True)\n" in text
    assert "      (drop): Dropout(p=0.1)\n      (ln): LayerNorm((4,), eps=1e-05)\n" in text
    assert text.endswith("  (head): Linear(in_features=4, out_features=10, bias=True)\n)")
