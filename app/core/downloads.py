"""A model download's progress as people read it: per file and overall, speed and time left.

The adapter reports bytes as they arrive (`FileProgress` per file); `RateMeter` turns the
overall count into a speed over the last few seconds (a whole-download average would say
nothing after a stall, an instant one would jump about), and `DownloadProgress` carries it all
to the view as data.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

# The speed is measured over this much of the recent past.
RATE_WINDOW_MS = 3_000.0
# Too little time seen to say a speed yet.
MIN_RATE_SPAN_MS = 250.0


@dataclass(frozen=True)
class FileProgress:
    name: str
    loaded: int
    total: int | None  # None while the server has not said

    @property
    def done(self) -> bool:
        return self.total is not None and self.loaded >= self.total


@dataclass(frozen=True)
class DownloadProgress:
    model: str
    files: tuple[FileProgress, ...]
    bytes_per_second: float | None = None
    seconds_left: float | None = None

    @property
    def loaded(self) -> int:
        return sum(f.loaded for f in self.files)

    @property
    def total(self) -> int | None:
        """All files' size, once every file's size is known."""
        sizes = [f.total for f in self.files]
        return None if any(s is None for s in sizes) else sum(s for s in sizes if s is not None)


class RateMeter:
    """Bytes per second over a sliding window of (time, bytes so far) samples."""

    def __init__(self, window_ms: float = RATE_WINDOW_MS) -> None:
        self._window = window_ms
        self._samples: deque[tuple[float, int]] = deque()

    def add(self, now_ms: float, loaded: int) -> None:
        self._samples.append((now_ms, loaded))
        while len(self._samples) > 2 and now_ms - self._samples[1][0] >= self._window:
            self._samples.popleft()

    def bytes_per_second(self) -> float | None:
        if len(self._samples) < 2:
            return None
        (t0, b0), (t1, b1) = self._samples[0], self._samples[-1]
        if t1 - t0 < MIN_RATE_SPAN_MS:
            return None
        return max(0.0, (b1 - b0) * 1000.0 / (t1 - t0))


def seconds_left(loaded: int, total: int | None, rate: float | None) -> float | None:
    """How long the rest takes at this rate (None when either is unknown or nothing moves)."""
    if total is None or rate is None or rate <= 0:
        return None
    return max(0.0, (total - loaded) / rate)
