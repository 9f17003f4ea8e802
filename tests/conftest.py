"""Test-suite settings: hypothesis profiles, the kernel backend, and no silent skips in CI.

- HYPOTHESIS_PROFILE=ci (set by .ci/run) derandomises hypothesis so CI runs are reproducible.
- MINCONVBERT_BACKEND=numpy|numba runs the whole suite on one kernel backend.
- MINCONVBERT_STRICT_SKIPS=1 (set by .ci/run) turns every skipped test into a failure: in CI the
  reference stack and ../shared are installed, so a skip there means a test did not run.
"""

import os

import pytest
from hypothesis import HealthCheck, settings

import minconvbert

settings.register_profile(
    "ci", derandomize=True, deadline=None, max_examples=40, print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "dev", deadline=None, max_examples=40, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))

if os.environ.get("MINCONVBERT_BACKEND"):
    minconvbert.set_default_backend(os.environ["MINCONVBERT_BACKEND"])

STRICT_SKIPS = os.environ.get("MINCONVBERT_STRICT_SKIPS") == "1"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if STRICT_SKIPS and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"skipped in CI, where every test must run (MINCONVBERT_STRICT_SKIPS=1): {reason}"
