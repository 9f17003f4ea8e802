"""Waiting for a quiet machine before timing: on a shared computer other processes' load would fall
on whichever measurement happens to run at that moment.

    from quiet_machine import wait_until_idle
    wait_until_idle()   # returns once the CPUs have been >= 90% idle for a second, or after the timeout
    load()              # "1.02 0.87 0.80": the load averages, to print beside a measurement

The timeout is BENCH_IDLE_TIMEOUT seconds (default 600): on a machine that is never idle, set it low
and read the load printed beside each figure.
"""

from __future__ import annotations

import os
import time


def _cpu_times() -> tuple[int, int]:
    """(total, idle) jiffies since boot, from /proc/stat."""
    with open("/proc/stat") as f:
        fields = [int(v) for v in f.readline().split()[1:]]
    return sum(fields), fields[3] + fields[4]  # idle + iowait


def idle_fraction(seconds: float = 0.5) -> float:
    """Share of all CPUs' time spent idle over the next `seconds` (1.0 where /proc/stat is missing)."""
    try:
        total0, idle0 = _cpu_times()
        time.sleep(seconds)
        total1, idle1 = _cpu_times()
    except OSError:
        return 1.0
    return (idle1 - idle0) / max(1, total1 - total0)


def load() -> str:
    """The 1, 5 and 15 minute load averages ("?" where /proc/loadavg is missing)."""
    try:
        with open("/proc/loadavg") as f:
            return " ".join(f.read().split()[:3])
    except OSError:
        return "?"


def wait_until_idle(threshold: float = 0.9, settle: int = 2, timeout: float | None = None) -> bool:
    """Block until `settle` consecutive half-second samples are >= `threshold` idle; False on timeout
    (`timeout` seconds, default BENCH_IDLE_TIMEOUT or 600)."""
    timeout = float(os.environ.get("BENCH_IDLE_TIMEOUT", 600)) if timeout is None else timeout
    deadline, calm = time.monotonic() + timeout, 0
    while time.monotonic() < deadline:
        calm = calm + 1 if idle_fraction() >= threshold else 0
        if calm >= settle:
            return True
    return False
