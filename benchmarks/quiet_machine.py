"""Waiting for a quiet machine before timing: on a shared computer other processes' load would fall
on whichever measurement happens to run at that moment.

    from quiet_machine import wait_until_idle
    wait_until_idle()   # returns once the CPUs have been >= 90% idle for a second (or after 10 min)
"""

from __future__ import annotations

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


def wait_until_idle(threshold: float = 0.9, settle: int = 2, timeout: float = 600.0) -> bool:
    """Block until `settle` consecutive half-second samples are >= `threshold` idle; False on timeout."""
    deadline, calm = time.monotonic() + timeout, 0
    while time.monotonic() < deadline:
        calm = calm + 1 if idle_fraction() >= threshold else 0
        if calm >= settle:
            return True
    return False
