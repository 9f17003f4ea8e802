"""Measure parity with transformers for every case and task, and the checkpoint round trips; print Markdown.

    python scripts/parity_report.py > docs/parity.md

Needs the reference stack (torch, transformers). Uses the same cases and runners as the tests
(tests/models/parity.py), so the figures are the ones the tests bound.
"""

import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import minconvbert  # noqa: E402
from tests.models import parity  # noqa: E402


def round_trip_error(task, case):
    """Max abs difference of the first output after ours -> transformers and transformers -> ours."""
    import torch
    import transformers

    config = parity.task_config(case, task)
    inputs = {k: v for k, v in parity.make_inputs(case, task).items()
              if k not in ("labels", "start_positions", "end_positions")}
    cls = getattr(minconvbert, parity.TASK_CLASS[task])
    ref_cls = getattr(transformers, parity.TASK_CLASS[task])
    errors = []
    with tempfile.TemporaryDirectory() as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours = cls(minconvbert.ConvBertConfig(**config), rng=1).eval()
        ours.save_pretrained(f"{tmp}/ours")
        theirs = ref_cls.from_pretrained(f"{tmp}/ours").eval()
        with torch.no_grad():
            expected = theirs(**{k: torch.tensor(v) for k, v in inputs.items()}).to_tuple()[0].numpy()
        errors.append(np.abs(np.asarray(ours(**inputs).to_tuple()[0]) - expected).max())
        reference = parity.build_reference(task, config, seed=2)
        reference.save_pretrained(f"{tmp}/theirs")
        loaded = cls.from_pretrained(f"{tmp}/theirs", strict=True)
        with torch.no_grad():
            expected = reference(**{k: torch.tensor(v) for k, v in inputs.items()}).to_tuple()[0].numpy()
        errors.append(np.abs(np.asarray(loaded(**inputs).to_tuple()[0]) - expected).max())
    return max(errors)


def main():
    print("# Parity with transformers' ConvBERT\n")
    print(f"Measured by `python scripts/parity_report.py` (backend {minconvbert.get_backend()}); bounds asserted by "
          "tests/models/test_parity.py: float32 1e-5, float64 1e-10 max abs, gradients 1e-8 relative.\n")
    print("| case | task (class) | float32 outputs max abs | float64 outputs max abs | float64 gradients max rel |")
    print("|---|---|---|---|---|")
    worst_by_task = {}
    for name, case in parity.CASES.items():
        for task in case.tasks:
            config = parity.task_config(case, task)
            inputs = parity.make_inputs(case, task)
            weights, reference = parity.run_reference(task, config, inputs)
            worst = parity.compare(parity.run_ours(task, config, inputs, weights), reference)
            for key, value in worst.items():
                worst_by_task.setdefault(task, {}).setdefault(key, 0.0)
                worst_by_task[task][key] = max(worst_by_task[task][key], value)
            print(f"| {name} | {task} ({parity.TASK_CLASS[task]}) | {worst['f32']:.1e} | {worst['f64']:.1e} | "
                  f"{worst['grad_rel']:.1e} |", flush=True)
    print("\n## Worst per class\n")
    print("| task (class) | float32 | float64 | gradients (rel) |")
    print("|---|---|---|---|")
    for task, worst in worst_by_task.items():
        print(f"| {task} ({parity.TASK_CLASS[task]}) | {worst['f32']:.1e} | {worst['f64']:.1e} | {worst['grad_rel']:.1e} |")
    print("\n## Checkpoint round trips (published widths, one layer)\n")
    print("ours `save_pretrained` -> transformers `from_pretrained`, and transformers `save_pretrained` -> ours "
          "`from_pretrained`: max abs difference of the first output (float32), worst of the two directions.\n")
    print("| task (class) | conv-bert-base | conv-bert-medium-small | conv-bert-small |")
    print("|---|---|---|---|")
    for task in ("model", "masked_lm", "seq_single", "multiple_choice", "token", "qa"):
        cells = [f"{round_trip_error(task, parity.CASES[size]):.1e}"
                 for size in ("conv_bert_base", "conv_bert_medium_small", "conv_bert_small")]
        print(f"| {task} ({parity.TASK_CLASS[task]}) | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
