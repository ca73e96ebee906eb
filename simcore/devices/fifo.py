"""The sample FIFO of the motion sensors, with the modes their datasheets define, filled lazily.

The FIFO holds sample indices of one :class:`~simcore.devices.base.RateClock` stream; what
arrived since the last access is let in when the FIFO is next touched, so nothing runs per
sample. Modes (ST names; the BMI270's are the same two behaviours):

- ``BYPASS``: not operational, empty (and held empty: this is how firmware resets it);
- ``FIFO``: samples enter until it is full; the first sample that does not fit sets the
  overrun flag and collection stops until the FIFO is reset through bypass (LIS3DH
  DocID17530 5.1.2, LSM9DS1 3.5.2; the BMI270's ``fifo_stop_on_full``), or, with
  ``stop_when_full=False``, samples that do not fit are dropped and reading makes room
  again (the APDS9960's gesture FIFO);
- ``STREAM`` (ST "continuous"): when full, each new sample replaces the oldest; the overrun
  flag is set when a sample is overwritten.

One *overrun* is one episode of losing samples, from the first lost until the firmware reads
again; every lost sample is counted too.
"""

from __future__ import annotations

from collections import deque
from enum import Enum
from typing import Protocol


class FifoMode(Enum):
    BYPASS = "bypass"
    FIFO = "fifo"
    STREAM = "stream"


class Clock(Protocol):
    def count_by(self, t: int) -> int: ...
    def arrival(self, k: int) -> int: ...


class Loss:
    """What a catch-up lost: how many samples, the time of the first, and whether it began a new episode."""

    __slots__ = ("count", "first_at", "new_episode")

    def __init__(self, count: int, first_at: int, new_episode: bool) -> None:
        self.count, self.first_at, self.new_episode = count, first_at, new_episode


class SampleFifo:
    """Consecutive samples of a stream, as runs ``[first index, count]``, with an overrun flag."""

    def __init__(self, depth: int, stop_when_full: bool = True) -> None:
        self.depth = depth
        self.stop_when_full = stop_when_full  # FIFO mode: stop collecting once full (ST), or take again after reads
        self.mode = FifoMode.BYPASS
        self.runs: deque[list[int]] = deque()
        self.level = 0
        self.next_k = 0  # the first sample not yet offered to the FIFO
        self.limit: int | None = None  # the first sample the recording does not have (end rule stop)
        self.clock: Clock | None = None
        self.overrun = False  # the flag the chip shows (cleared by reads or a reset)
        self.stopped = False  # FIFO mode after it filled: collects nothing until reset
        self._losing = False  # inside an episode of losing samples
        # the virtual time before which catch_up lets nothing in: sample ``next_k``'s arrival (count_by(t) > k exactly
        # from arrival(k) on), kept by catch_up; -1: not known (reset). A chip's FIFO is caught up at nearly every
        # register access, most of them between two samples
        self.due = -1

    def reset(self, mode: FifoMode, clock: Clock | None, first_k: int, limit: int | None) -> None:
        """Empty the FIFO and start collecting in ``mode`` from sample ``first_k``."""
        self.mode, self.clock, self.limit = mode, clock, limit
        self.runs.clear()
        self.level = 0
        self.next_k = first_k
        self.overrun = self.stopped = self._losing = False
        self.due = -1

    def _arrived(self, now: int) -> int:
        assert self.clock is not None
        arrived = self.clock.count_by(now)
        return min(arrived, self.limit) if self.limit is not None else arrived

    def catch_up(self, now: int) -> Loss | None:
        """Let in what arrived by ``now`` as the mode says; what was lost, if anything."""
        clock = self.clock
        if now < self.due or clock is None:  # (before the next sample's arrival: nothing to let in)
            return None
        arrived = self._arrived(now)
        first = self.next_k
        new = arrived - first
        if new <= 0:
            self.due = clock.arrival(first)
            return None
        self.next_k = arrived
        self.due = clock.arrival(arrived)
        if self.mode is FifoMode.BYPASS:
            return None
        if self.mode is FifoMode.FIFO or self.stopped:
            take = 0 if self.stopped else min(new, self.depth - self.level)
            self._append(first, take)
            lost = new - take
            if not lost:
                return None
            if self.mode is FifoMode.FIFO and self.stop_when_full:
                self.stopped = True
            return self._lose(lost, self.clock.arrival(first + take))
        self._append(first, new)  # stream: keep the newest ``depth``
        excess = self.level - self.depth
        if excess <= 0:
            return None
        self._drop_oldest(excess)
        return self._lose(excess, self.clock.arrival(first + new - excess))

    def _append(self, k0: int, n: int) -> None:
        if n <= 0:
            return
        if self.runs and self.runs[-1][0] + self.runs[-1][1] == k0:
            self.runs[-1][1] += n
        else:
            self.runs.append([k0, n])
        self.level += n

    def _drop_oldest(self, n: int) -> None:
        while n > 0:
            run = self.runs[0]
            k = min(n, run[1])
            run[0] += k
            run[1] -= k
            n -= k
            self.level -= k
            if run[1] == 0:
                self.runs.popleft()

    def _lose(self, n: int, first_at: int) -> Loss:
        new_episode = not self._losing
        self._losing = True
        self.overrun = True
        return Loss(n, first_at, new_episode)

    def peek(self) -> int | None:
        """The oldest sample index, without removing it."""
        return self.runs[0][0] if self.runs else None

    def pop(self) -> int | None:
        """Remove and return the oldest sample index (None when empty)."""
        if not self.runs:
            return None
        k = self.runs[0][0]
        self._drop_oldest(1)
        if not self.stopped:  # a stopped FIFO keeps losing everything until it is reset
            self._losing = False
        if self.mode is FifoMode.STREAM:
            self.overrun = False
        return k

    def pop_runs(self, n: int) -> list[tuple[int, int]]:
        """Remove the ``n`` oldest samples (fewer when it holds fewer) as ``pop`` does ``n`` times; they are
        returned as runs of consecutive indices ``(first, count)``, oldest first."""
        take = min(n, self.level)
        if take <= 0:
            return []
        out: list[tuple[int, int]] = []
        left = take
        for k0, count in self.runs:
            if left <= 0:
                break
            out.append((k0, min(count, left)))
            left -= count
        self._drop_oldest(take)
        if not self.stopped:
            self._losing = False
        if self.mode is FifoMode.STREAM:
            self.overrun = False
        return out

    def when_level(self, level: int, held: int | None = None) -> int | None:
        """When the FIFO will hold ``level`` samples if nobody reads it (None: never, or already). ``held``: as if it
        held that many now (fewer than it does: the oldest read before the next arrival), not ``self.level``."""
        have = self.level if held is None else held
        if self.clock is None or level <= have or level > self.depth or self.mode is FifoMode.BYPASS:
            return None
        if self.stopped:
            return None
        k = self.next_k + (level - have) - 1
        if self.limit is not None and k >= self.limit:
            return None
        return self.clock.arrival(k)

    def when_overrun(self) -> int | None:
        """When the next sample will be lost, unless an episode of losses is already under way."""
        if self.clock is None or self._losing or self.stopped or self.mode is FifoMode.BYPASS:
            return None
        k = self.next_k + (self.depth - self.level)
        if self.limit is not None and k >= self.limit:
            return None
        return self.clock.arrival(k)
