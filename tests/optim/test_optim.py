"""Optimisers and schedules: hand-computed updates, resuming, and parity with torch.optim on a ConvBERT."""

import numpy as np
import pytest

from minconvbert import ConvBertConfig, ConvBertForMaskedLM, Tensor, optim
from minconvbert.nn import Parameter
from minconvbert.optim import (
    SGD,
    AdamW,
    ConstantSchedule,
    CosineSchedule,
    LinearWarmupDecay,
    clip_grad_norm_,
    weight_decay_groups,
)
from tests.models import parity


def _param(values, grad):
    p = Parameter(np.array(values, dtype=np.float64))
    p.grad = np.array(grad, dtype=np.float64)
    return p


def test_sgd_momentum_by_hand():
    p = _param([1.0, -2.0], [0.5, 1.0])
    opt = SGD([p], lr=0.1, momentum=0.9, weight_decay=0.01)
    opt.step()  # d = g + 0.01 p; buf = d; p -= 0.1 d
    d1 = np.array([0.5, 1.0]) + 0.01 * np.array([1.0, -2.0])
    expected = np.array([1.0, -2.0]) - 0.1 * d1
    np.testing.assert_allclose(p.data, expected)
    p.grad = np.array([0.5, 1.0])
    opt.step()
    d2 = np.array([0.5, 1.0]) + 0.01 * expected
    buf = 0.9 * d1 + d2
    np.testing.assert_allclose(p.data, expected - 0.1 * buf)


def test_adamw_first_step_by_hand():
    p = _param([1.0, -2.0], [0.5, -1.0])
    AdamW([p], lr=0.1, weight_decay=0.1, eps=1e-8).step()
    # first step: m_hat = g, v_hat = g^2, so the update is lr * g / (|g| + eps) after decay
    decayed = np.array([1.0, -2.0]) * (1 - 0.1 * 0.1)
    np.testing.assert_allclose(p.data, decayed - 0.1 * np.array([0.5, -1.0]) / (np.array([0.5, 1.0]) + 1e-8))


def test_parameters_without_grad_are_skipped_and_bad_settings_refused():
    p, q = _param([1.0], [1.0]), _param([1.0], [1.0])
    q.grad = None
    AdamW([p, q], lr=0.1).step()
    assert q.data[0] == 1.0 and p.data[0] != 1.0
    with pytest.raises(ValueError, match="betas"):
        AdamW([p], betas=(0.9, 1.5))
    with pytest.raises(ValueError, match="nesterov"):
        SGD([p], lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="empty parameter list"):
        SGD([], lr=0.1)
    with pytest.raises(ValueError, match="more than one group"):
        SGD([{"params": [p]}, {"params": [p]}], lr=0.1)
    with pytest.raises(TypeError, match="require grad"):
        SGD([Tensor([1.0])], lr=0.1)


def test_clip_grad_norm():
    p, q = _param([0.0, 0.0], [3.0, 0.0]), _param([0.0], [4.0])
    total = clip_grad_norm_([p, q], max_norm=1.0)
    assert total == pytest.approx(5.0)
    np.testing.assert_allclose(np.concatenate([p.grad, q.grad]), np.array([3.0, 0.0, 4.0]) / (5.0 + 1e-6))
    assert clip_grad_norm_([p, q], max_norm=10.0) == pytest.approx(1.0, rel=1e-5)  # below max: untouched


@pytest.mark.parametrize("schedule,expected", [
    (lambda o: ConstantSchedule(o), [1, 1, 1, 1, 1, 1]),
    (lambda o: ConstantSchedule(o, warmup_steps=2), [0, 0.5, 1, 1, 1, 1]),
    (lambda o: LinearWarmupDecay(o, 2, 5), [0, 0.5, 1, 2 / 3, 1 / 3, 0]),
    (lambda o: CosineSchedule(o, 1, 5), [0, 1, 0.5 * (1 + np.cos(np.pi / 4)), 0.5, 0.5 * (1 + np.cos(3 * np.pi / 4)), 0]),
])
def test_schedules(schedule, expected):
    opt = SGD([_param([1.0], [0.0])], lr=2.0)
    s = schedule(opt)
    factors = []
    for _ in expected:
        factors.append(opt.param_groups[0]["lr"] / 2.0)
        s.step()
    np.testing.assert_allclose(factors, expected, atol=1e-12)


TRANSFORMERS_SCHEDULES = [  # (transformers' helper name, its arguments after the optimizer)
    ("get_constant_schedule", ()), ("get_constant_schedule_with_warmup", (3,)),
    ("get_linear_schedule_with_warmup", (3, 11)), ("get_cosine_schedule_with_warmup", (3, 11)),
    ("get_cosine_schedule_with_warmup", (3, 11, 1.5)), ("get_polynomial_decay_schedule_with_warmup", (3, 11)),
    ("get_polynomial_decay_schedule_with_warmup", (2, 9, 0.01, 2.0)),
]


@pytest.mark.parametrize("name,args", TRANSFORMERS_SCHEDULES, ids=[f"{n}{a}" for n, a in TRANSFORMERS_SCHEDULES])
def test_schedule_helpers_match_transformers(name, args):
    """transformers' helper of each name and ours give the same learning rate at every step (past the end too)."""
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    t_opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.5)
    t_sched = getattr(transformers, name)(t_opt, *args)
    o_opt = SGD([_param([0.0], [0.0])], lr=0.5)
    o_sched = getattr(optim, name)(o_opt, *args)
    for _ in range(14):
        assert o_opt.param_groups[0]["lr"] == pytest.approx(t_opt.param_groups[0]["lr"], abs=1e-12)
        assert o_sched.get_last_lr() == pytest.approx(t_sched.get_last_lr(), abs=1e-12)
        t_opt.step()
        t_sched.step()
        o_sched.step()


def test_get_scheduler_by_name_and_bad_arguments():
    opt = SGD([_param([0.0], [0.0])], lr=1.0)
    get_scheduler = optim.get_scheduler
    assert isinstance(get_scheduler("linear", opt, num_warmup_steps=2, num_training_steps=4), LinearWarmupDecay)
    assert isinstance(get_scheduler("cosine", opt, 0, 4, scheduler_specific_kwargs={"num_cycles": 1.0}),
                      CosineSchedule)
    with pytest.raises(ValueError, match="unknown schedule 'cyclic'"):
        get_scheduler("cyclic", opt)
    with pytest.raises(ValueError, match="needs num_training_steps"):
        get_scheduler("linear", opt, num_warmup_steps=2)
    with pytest.raises(ValueError, match="last_epoch=5: to resume a schedule"):
        optim.get_linear_schedule_with_warmup(opt, 1, 4, last_epoch=5)


def _tiny_model():
    config = dict(parity.TINY)
    model = ConvBertForMaskedLM(ConvBertConfig(**config), rng=0).to(np.float64).eval()
    rng = np.random.default_rng(0)
    ids = rng.integers(1, 40, (2, 6))
    labels = np.where(rng.random((2, 6)) < 0.5, ids, -100)
    return model, ids, labels


@pytest.mark.parametrize("name", ["adamw", "sgd_nesterov", "sgd_momentum"])
def test_matches_torch_optim_on_a_convbert(name):
    """N steps on the same gradients (ours, computed at our weights) give the same weights as torch.optim."""
    torch = pytest.importorskip("torch")
    model, ids, labels = _tiny_model()
    groups = weight_decay_groups(model, 0.05)
    names = {id(p): n for n, p in model.named_parameters()}
    torch_params = {id(p): torch.nn.Parameter(torch.tensor(p.data.copy())) for p in model.parameters()}
    torch_groups = [{"params": [torch_params[id(p)] for p in g["params"]], "weight_decay": g["weight_decay"]}
                    for g in groups]
    if name == "adamw":
        ours = AdamW(groups, lr=3e-3, betas=(0.8, 0.99), eps=1e-7)
        theirs = torch.optim.AdamW(torch_groups, lr=3e-3, betas=(0.8, 0.99), eps=1e-7)
    else:
        nesterov = name == "sgd_nesterov"
        ours = SGD(groups, lr=0.05, momentum=0.9, nesterov=nesterov, dampening=0.0 if nesterov else 0.1)
        theirs = torch.optim.SGD(torch_groups, lr=0.05, momentum=0.9, nesterov=nesterov,
                                 dampening=0.0 if nesterov else 0.1)
    ours_sched = LinearWarmupDecay(ours, 2, 8)
    theirs_sched = torch.optim.lr_scheduler.LambdaLR(
        theirs, lambda s: s / 2 if s < 2 else max(0.0, (8 - s) / 6))
    for _ in range(6):
        ours.zero_grad()
        model(input_ids=ids, labels=labels).loss.backward()
        for p in model.parameters():
            torch_params[id(p)].grad = torch.tensor(p.grad.copy())
        ours_norm = clip_grad_norm_(model.parameters(), 0.5)
        theirs_norm = torch.nn.utils.clip_grad_norm_(list(torch_params.values()), 0.5)
        assert ours_norm == pytest.approx(float(theirs_norm), rel=1e-12)
        ours.step()
        theirs.step()
        ours_sched.step()
        theirs_sched.step()
    for p in model.parameters():
        expected = torch_params[id(p)].detach().numpy()
        scale = max(np.abs(expected).max(), 1e-12)
        assert np.abs(p.data - expected).max() / scale < 1e-10, names[id(p)]


def test_state_dict_resumes_exactly():
    def run(steps, resume_at=None):
        model, ids, labels = _tiny_model()
        opt = AdamW(weight_decay_groups(model, 0.01), lr=1e-2)
        sched = CosineSchedule(opt, 1, 6)
        for step in range(steps):
            if step == resume_at:
                saved_opt, saved_sched = opt.state_dict(), sched.state_dict()
                weights = {k: v.copy() for k, v in model.state_dict().items()}
                model, ids, labels = _tiny_model()
                model.load_state_dict(weights)
                opt = AdamW(weight_decay_groups(model, 0.01), lr=1e-2)
                sched = CosineSchedule(opt, 1, 6)
                opt.load_state_dict(saved_opt)
                sched.load_state_dict(saved_sched)
            opt.zero_grad()
            model(input_ids=ids, labels=labels).loss.backward()
            opt.step()
            sched.step()
        return model.state_dict()

    straight, resumed = run(5), run(5, resume_at=3)
    for name in straight:
        np.testing.assert_array_equal(straight[name], resumed[name], err_msg=name)
