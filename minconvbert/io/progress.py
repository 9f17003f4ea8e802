"""A byte-count progress display: tqdm when it is installed, else one rewritten stderr line.

    bar = ByteProgress("writing model.safetensors", enabled=True)
    save_file(tensors, path, on_progress=bar.update)   # update(done_bytes, total_bytes)
    bar.close()
"""

from __future__ import annotations

import sys

__all__ = ["ByteProgress"]


class ByteProgress:
    """Shows done/total bytes for one task; a no-op when `enabled` is False."""

    def __init__(self, description: str, enabled: bool = True, stream=None):
        self.description = description
        self.enabled = enabled
        self.stream = stream if stream is not None else sys.stderr
        self._bar = None
        self._shown_percent = -1
        self._done = 0
        self._total = None

    def update(self, done: int, total: int) -> None:
        """Record that `done` of `total` bytes are finished."""
        if not self.enabled:
            return
        if self._total is None:
            self._total = total
            try:
                from tqdm.auto import tqdm
            except ImportError:
                tqdm = None
            if tqdm is not None:
                self._bar = tqdm(total=total, desc=self.description, unit="B", unit_scale=True,
                                 unit_divisor=1024, file=self.stream, leave=True)
        if self._bar is not None:
            self._bar.update(done - self._done)
        else:
            percent = 100 * done // total if total else 100
            if percent != self._shown_percent:
                self._shown_percent = percent
                self.stream.write(f"\r{self.description}: {percent:3d}% ({done / 1e6:.0f}/{total / 1e6:.0f} MB)")
                self.stream.flush()
        self._done = done

    def close(self) -> None:
        """End the display (a final newline, or closing the tqdm bar)."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        elif self.enabled and self._total is not None:
            self.stream.write("\n")
            self.stream.flush()
        self._total = None
        self._done = 0
        self._shown_percent = -1
