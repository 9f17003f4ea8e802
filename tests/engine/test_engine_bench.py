"""The engine benchmark still runs, and its two models compute the same loss (a short run)."""

import importlib.util
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_engine.py"


def test_benchmark_runs_and_compares_with_torch(capsys):
    pytest.importorskip("torch")
    spec = importlib.util.spec_from_file_location("bench_engine", BENCH)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    assert bench.main(["--layers", "2", "--rounds", "2", "--steps", "2"]) == 0  # exits if the losses disagree
    out = capsys.readouterr().out
    assert "first-step loss" in out and "ratio minconvbert / torch:" in out
