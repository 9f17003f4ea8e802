"""Generate the committed parity fixtures with transformers (needs the reference stack).

    python scripts/make_parity_fixtures.py

For each case marked `fixture=True` in tests/models/parity.py and each of its tasks, builds the
transformers model (seeded), records its weights (float32), inputs, outputs (float32 and float64),
float64 loss and parameter gradients, and writes tests/fixtures/parity/<case>__<task>.npz.
"""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.models import parity  # noqa: E402
from tests.models.fixtures import fixture_path, save_fixture  # noqa: E402


def main() -> None:
    total = 0
    for case_name, case in parity.CASES.items():
        if not case.fixture:
            continue
        for task in case.tasks:
            config = parity.task_config(case, task)
            inputs = parity.make_inputs(case, task)
            weights, record = parity.run_reference(task, config, inputs)
            path = fixture_path(case_name, task)
            save_fixture(path, dict(case=case_name, task=task, config=config), weights, inputs, record)
            total += path.stat().st_size
            print(f"{path.relative_to(ROOT)}  {path.stat().st_size / 1024:.0f} KiB")
    print(f"total {total / 1024:.0f} KiB")


if __name__ == "__main__":
    main()
