"""Parity with transformers' ConvBERT: outputs (float32 and float64) and float64 gradients of the loss.

- test_parity_fixture: against the committed reference records (runs without torch);
- test_parity_live: against transformers itself, for every case and task, published widths included;
- test_fixtures_are_current: the committed records still equal what transformers computes now.
Tolerances (tests/models/parity.compare): float32 1e-5, float64 1e-10 max abs; gradients 1e-8 relative.
"""

import numpy as np
import pytest

from tests.models import parity
from tests.models.fixtures import FIXTURE_DIR, fixture_path, load_fixture

CASE_TASKS = [(name, task) for name, case in parity.CASES.items() for task in case.tasks]
FIXTURE_CASE_TASKS = [(name, task) for name, case in parity.CASES.items() if case.fixture for task in case.tasks]


@pytest.mark.parametrize("case_name,task", FIXTURE_CASE_TASKS, ids=[f"{c}-{t}" for c, t in FIXTURE_CASE_TASKS])
def test_parity_fixture(case_name, task):
    meta, weights, inputs, reference = load_fixture(fixture_path(case_name, task))
    assert (meta["case"], meta["task"]) == (case_name, task)
    assert meta["config"] == parity.task_config(parity.CASES[case_name], task), "fixture is stale: regenerate it"
    parity.compare(parity.run_ours(task, meta["config"], inputs, weights), reference)


def test_every_fixture_file_belongs_to_a_case():
    expected = {fixture_path(c, t).name for c, t in FIXTURE_CASE_TASKS}
    assert {p.name for p in FIXTURE_DIR.glob("*.npz")} == expected


@pytest.mark.parametrize("case_name,task", CASE_TASKS, ids=[f"{c}-{t}" for c, t in CASE_TASKS])
def test_parity_live(case_name, task):
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    case = parity.CASES[case_name]
    config = parity.task_config(case, task)
    inputs = parity.make_inputs(case, task)
    weights, reference = parity.run_reference(task, config, inputs)
    parity.compare(parity.run_ours(task, config, inputs, weights), reference)


@pytest.mark.parametrize("case_name,task", FIXTURE_CASE_TASKS[:4] + FIXTURE_CASE_TASKS[-2:],
                         ids=[f"{c}-{t}" for c, t in FIXTURE_CASE_TASKS[:4] + FIXTURE_CASE_TASKS[-2:]])
def test_fixtures_are_current(case_name, task):
    """Regenerating a fixture with the installed transformers gives the committed numbers."""
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    meta, weights, inputs, stored = load_fixture(fixture_path(case_name, task))
    live_weights, live = parity.run_reference(task, meta["config"], inputs)
    for name, value in weights.items():
        np.testing.assert_array_equal(live_weights[name], value, err_msg=name)
    for key, value in stored.items():
        np.testing.assert_allclose(live[key], value, rtol=1e-6, atol=1e-7, err_msg=key)
