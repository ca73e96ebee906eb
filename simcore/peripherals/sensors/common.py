"""Shared machinery of the sensor models: bit fields, stats, sample clocks, source binding, lazy FIFOs.

Nothing here runs per sample. A :class:`SampleClock` maps sample indices to the virtual cycle
at which each sample is complete and back, so models schedule one event per batch (a DMA
half-buffer, a FIFO watermark) and compute what arrived in between from the source. A
:class:`StreamFifo` is filled lazily: its level is computed from the clock when it is read.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from simcore.errors import BadInputError
from simcore.peripherals.base import Host, PeripheralModel

if TYPE_CHECKING:  # recordings (and numpy) load when one is attached or read, not at start-up
    import numpy as np

    from simcore.board import Peripheral
    from simcore.runtypes import ChainPlan
    from simcore.sources import Source

MAX_RECORDED_EVENTS = 1000


class SensorStats:
    """Counters plus a time-stamped record of overruns, drops, late services and end of data."""

    def __init__(self, cycles_per_second: Callable[[], float]) -> None:
        self._cps = cycles_per_second
        self.counts: dict[str, int] = {}
        self.events: list[dict[str, Any]] = []
        self.latencies: list[int] = []

    def count(self, kind: str, n: int = 1) -> None:
        self.counts[kind] = self.counts.get(kind, 0) + n

    def record(self, kind: str, cycle: int, n: int = 1, **detail: Any) -> None:
        """Count ``n`` occurrences of ``kind`` and keep a time-stamped entry (the first 1000 are kept)."""
        self.count(kind, n)
        if len(self.events) < MAX_RECORDED_EVENTS:
            entry = {"kind": kind, "cycle": int(cycle), "time_s": cycle / self._cps(), "count": n}
            entry.update(detail)
            self.events.append(entry)

    def service(self, raised: int, cleared: int, deadline: int | None) -> None:
        """A flag raised at cycle ``raised`` was cleared by firmware at ``cleared``; late if after ``deadline``."""
        self.latencies.append(cleared - raised)
        if deadline is not None and cleared > deadline:
            self.record("late_services", cleared, raised_cycle=raised, deadline_cycle=deadline)

    def as_dict(self) -> dict[str, Any]:
        lat = self.latencies
        return {
            **{k: v for k, v in sorted(self.counts.items())},
            "service_latency_cycles": {
                "count": len(lat),
                "max": max(lat) if lat else 0,
                "mean": (sum(lat) / len(lat)) if lat else 0.0,
            },
            "events": list(self.events),
        }


def _samples_by(cycle: int, rate_hz: float, cps: float) -> int:
    """Samples complete by core ``cycle`` at ``rate_hz`` (before the clamp at 0): SampleClock's one formula."""
    return math.floor(cycle * rate_hz / cps + 1e-9)


class SampleClock:
    """Sample ``k`` of a stream at ``rate_hz`` is complete at virtual time ``(k + 1) / rate_hz``.

    ``count_by(cycle)`` is how many samples are complete at ``cycle``; ``arrival(k)`` is the first
    cycle at which sample ``k`` is complete. The two agree exactly (no drift over long runs).
    """

    ARRIVALS_KEPT = 4096  # remembered arrivals at most (a long run's are dropped and made again)

    def __init__(self, rate_hz: float, cycles_per_second: float) -> None:
        if not rate_hz > 0:
            raise ValueError("sample rate must be positive")
        self.rate_hz = float(rate_hz)
        self.cps = float(cycles_per_second)
        # A clock is made once per enable and never changes, so both answers are kept: a model asks count_by
        # of the same cycle several times an access and arrival of the same sample at each plan (the cortex-m4
        # imu_steps run: 1,895 count_by and 431 arrival calls, 12% of its Python bytecodes).
        self._by_cycle: int | None = None
        self._by = 0
        self._arrivals: dict[int, int] = {}

    def count_by(self, cycle: int) -> int:
        if cycle == self._by_cycle:
            return self._by
        n = _samples_by(cycle, self.rate_hz, self.cps)
        if n < 0:
            n = 0
        self._by_cycle, self._by = cycle, n
        return n

    def arrival(self, k: int) -> int:
        c = self._arrivals.get(k)
        if c is not None:
            return c
        rate, cps = self.rate_hz, self.cps  # (count_by's formula without its kept answer: at c >= 0 its max is a no-op)
        c = max(0, math.ceil((k + 1) * cps / rate) - 1)
        while c > 0 and _samples_by(c - 1, rate, cps) >= k + 1:
            c -= 1
        while _samples_by(c, rate, cps) < k + 1:
            c += 1
        if len(self._arrivals) >= self.ARRIVALS_KEPT:
            self._arrivals.clear()
        self._arrivals[k] = c
        return c

    @property
    def cycles_per_sample(self) -> float:
        return self.cps / self.rate_hz


class SourceBinding:
    """A source attached to a peripheral stream: rate check or explicit resampling, index alignment.

    ``align = "virtual"`` (default): the recording is laid on virtual time from cycle 0, so a
    sensor enabled later sees the data of that moment. ``align = "enable"``: playback starts at
    the first sample after the peripheral is enabled.
    """

    def __init__(self, owner: str, source: Source, resample: str | bool = False, align: str = "virtual") -> None:
        if align not in ("virtual", "enable"):
            raise BadInputError(f"{owner}: option align = {align!r}; use 'virtual' or 'enable'")
        if resample not in (False, True, "linear", "hold", "no"):
            raise BadInputError(f"{owner}: option resample = {resample!r}; use false, true, 'linear' or 'hold'")
        self.owner = owner
        self.original = source
        self.source = source
        self.resample = "linear" if resample is True else (False if resample == "no" else resample)
        self.align = align
        self.k_base = 0
        self._rate: float | None = None
        self.ended_at: int | None = None

    def prepare(self, rate_hz: float, what: str = "sample rate") -> None:
        """Check the source against the peripheral's rate, resampling only if asked."""
        if self._rate == rate_hz:
            return
        src = self.original
        if src.rate_hz is None or abs(src.rate_hz - rate_hz) > 1e-6 * rate_hz:
            if not self.resample:
                have = "irregular timestamps" if src.rate_hz is None else f"{src.rate_hz:g} Hz"
                raise BadInputError(
                    f"{self.owner}: the recording {src.path} has {have} but the peripheral's {what} is "
                    f"{rate_hz:g} Hz; record at {rate_hz:g} Hz, configure the peripheral to match, or set "
                    "option resample = true to convert it (linear interpolation, anti-aliased)"
                )
            from simcore.sources.resample import resample

            self.source = resample(src, rate_hz, str(self.resample))
        else:
            self.source = src
        self._rate = rate_hz

    def use_as_is(self, rate_hz: float) -> None:
        """Use the recording unconverted at the peripheral's ``rate_hz`` (frames: picked by time)."""
        self.source = self.original
        self._rate = rate_hz

    def start(self, first_k: int) -> None:
        """The peripheral starts with its sample ``first_k``; fixes which source index that is."""
        if self.align == "enable":
            self.k_base = first_k
        else:
            rate = self._rate or 1.0
            self.k_base = round(self.source.start_s * rate)

    def limit(self) -> int | None:
        """First peripheral sample index with no data (``stop`` rule), else None."""
        if self.source.end_rule == "stop":
            return self.k_base + len(self.source)
        return None

    def fetch(self, k0: int, k1: int) -> np.ndarray:
        """Peripheral samples ``k0 .. k1-1``: zeros before the recording starts, fewer rows at a stop."""
        import numpy as np

        n = max(0, k1 - k0)
        j0, j1 = k0 - self.k_base, k1 - self.k_base
        lead = min(n, max(0, -j0))
        parts = []
        if lead:
            parts.append(np.zeros((lead, *self.source.sample_shape), dtype=self.source.dtype))
        if j1 > max(j0, 0):
            parts.append(self.source.take(max(j0, 0), j1))
        if not parts:
            return np.zeros((0, *self.source.sample_shape), dtype=self.source.dtype)
        return np.concatenate(parts) if len(parts) > 1 else parts[0]


def to_pcm(values: np.ndarray, source: Source, bits: int) -> np.ndarray:
    """Samples as signed integers of ``bits`` bits: bit-exact when the recording already is."""
    import numpy as np

    full_out = float(1 << (bits - 1))
    if np.issubdtype(values.dtype, np.integer) and source.full_scale == full_out:
        out = values.astype(np.int64)
    else:
        out = np.rint(values.astype(np.float64) / source.full_scale * full_out).astype(np.int64)
    return np.clip(out, -(1 << (bits - 1)), (1 << (bits - 1)) - 1)


class StreamFifo:
    """A FIFO of sample indices filled by a :class:`SampleClock`, computed lazily when touched.

    Arrivals since the last access enter until the FIFO is full; later ones are dropped. One
    overrun is one episode of dropping, from the first lost sample until the firmware reads.
    """

    def __init__(self, depth: int) -> None:
        self.depth = depth
        self.runs: deque[list[int]] = deque()  # [first sample index, count]
        self.level = 0
        self.next_k = 0
        self.limit: int | None = None
        self.overflowing = False

    def restart(self, first_k: int, limit: int | None) -> None:
        self.runs.clear()
        self.level = 0
        self.next_k = first_k
        self.limit = limit
        self.overflowing = False

    def catch_up(self, clock: SampleClock, now: int) -> tuple[int, int, bool]:
        """Let in the samples complete by ``now``: (samples dropped, first drop's cycle, new episode)."""
        arrived = clock.count_by(now)
        if self.limit is not None:
            arrived = min(arrived, self.limit)
        new = arrived - self.next_k
        if new <= 0:
            return 0, 0, False
        take = min(new, self.depth - self.level)
        if take:
            if self.runs and self.runs[-1][0] + self.runs[-1][1] == self.next_k:
                self.runs[-1][1] += take
            else:
                self.runs.append([self.next_k, take])
            self.level += take
        dropped = new - take
        first_drop = clock.arrival(self.next_k + take) if dropped else 0
        episode = bool(dropped) and not self.overflowing
        if dropped:
            self.overflowing = True
        self.next_k = arrived
        return dropped, first_drop, episode

    def pop(self, n: int) -> list[int]:
        out: list[int] = []
        while n > 0 and self.runs:
            run = self.runs[0]
            k = min(n, run[1])
            out.extend(range(run[0], run[0] + k))
            run[0] += k
            run[1] -= k
            n -= k
            self.level -= k
            if run[1] == 0:
                self.runs.popleft()
        if out:
            self.overflowing = False
        return out

    def cycle_when_level(self, clock: SampleClock, level: int) -> int | None:
        """Cycle at which the FIFO reaches ``level`` entries if nobody reads it (None: never)."""
        if level <= self.level:
            return None
        k = self.next_k + (level - self.level) - 1
        if self.limit is not None and k >= self.limit:
            return None
        return clock.arrival(k)

    def cycle_of_overflow(self, clock: SampleClock) -> int | None:
        """Cycle of the first sample that will not fit, unless an overflow episode is already counted."""
        if self.overflowing:
            return None
        return self.cycle_when_level(clock, self.depth + 1)


class WatermarkService:
    """Measures how long firmware takes to drain a FIFO below its watermark once it was reached.

    The deadline is the moment the FIFO would have overflowed; draining after it is a late service.
    """

    def __init__(self) -> None:
        self.raised: int | None = None
        self.deadline: int | None = None

    def check(self, stats: SensorStats, fifo: StreamFifo, clock: SampleClock | None, watermark: int, now: int) -> None:
        if clock is None:
            return
        if fifo.level >= watermark and self.raised is None:
            self.raised, self.deadline = now, fifo.cycle_of_overflow(clock)
        elif fifo.level < watermark and self.raised is not None:
            stats.service(self.raised, now, self.deadline)
            self.raised = None


class SensorModel(PeripheralModel):
    """Base of the sensor models: options, a bound source, named events, a level IRQ line, stats."""

    OPTIONS: ClassVar[dict[str, str]] = {}  # board-file options and what they mean
    COMMON_OPTIONS: ClassVar[dict[str, str]] = {
        "source": "path of the recording (WAV, CSV, NPY, PNG/JPEG frames, RESD)",
        "source_options": "table of options for open_source (end, rate_hz, fps, columns, channel, ...)",
        "resample": "false (default: rates must match), true/'linear' or 'hold' to convert the recording",
        "align": "'virtual' (recording starts at cycle 0, default) or 'enable' (starts when enabled)",
    }

    def __init__(self, config: Peripheral, host: Host) -> None:
        self._events: dict[str, Any] = {}
        self._irq_level = False
        self.stats_ = SensorStats(host.cycles_per_second)
        self.binding: SourceBinding | None = None
        super().__init__(config, host)
        allowed = set(self.COMMON_OPTIONS) | set(self.OPTIONS)
        unknown = sorted(set(config.options) - allowed)
        if unknown:
            raise BadInputError(
                f"peripheral {config.name} ({self.TYPE}): unknown option(s) {', '.join(unknown)}; "
                f"known: {', '.join(sorted(allowed))}"
            )
        path = config.options.get("source")
        if path is not None:
            from simcore.sources import open_source

            opts = dict(config.options.get("source_options", {}))
            self.attach(open_source(Path(str(path)), **opts))

    # --- sources -------------------------------------------------------------------------
    def attach(self, source: Source) -> None:
        """Feed this peripheral from ``source`` (replaces any earlier one)."""
        opts = self.config.options
        self.binding = SourceBinding(
            f"peripheral {self.name} ({self.TYPE})", source, opts.get("resample", False), opts.get("align", "virtual")
        )

    def require_source(self) -> SourceBinding:
        if self.binding is None:
            raise BadInputError(
                f"peripheral {self.name} ({self.TYPE}) was started by the firmware but has no recording attached; "
                'give it one with option source = "file" in the board file (or attach() from Python)'
            )
        return self.binding

    # --- time and events -----------------------------------------------------------------
    def now(self) -> int:
        return self.host.now_cycles()

    def seconds(self, cycle: int) -> float:
        return cycle / self.host.cycles_per_second()

    def at(self, cycle: int, name: str, callback: Callable[[], None]) -> Any:
        """Schedule ``callback`` at ``cycle`` as this model's event ``name`` (replacing a pending one); its handle."""
        self.cancel_event(name)

        def fire(*_args: object) -> None:
            self._events.pop(name, None)
            callback()

        handle = self._events[name] = self.host.schedule(max(cycle, self.now()), fire, f"{self.name}.{name}")
        return handle

    def cancel_event(self, name: str) -> None:
        handle = self._events.pop(name, None)
        if handle is not None:
            self.host.cancel(handle)

    def cancel_all_events(self) -> None:
        for name in list(self._events):
            self.cancel_event(name)

    def event_pending(self, name: str) -> bool:
        return name in self._events

    def ring_overrun(self, cycle: int, ring_half: int) -> None:
        """A :class:`RingDma` refilled a half the firmware still owned (override to set a flag)."""
        self.stats_.record("overruns", cycle, what="DMA half refilled before its flag was cleared", ring_half=ring_half)

    def ring_end(self) -> None:
        """A :class:`RingDma`'s recording ran out (override to set a flag)."""
        self.stats_.record("end_of_data", self.now())

    def dma_chain(self) -> ChainPlan | None:
        """The next DMA halves of the model's :class:`RingDma` as C may deliver them at the firmware's wfis
        (Event.chain, hotpath.c hp_chain_wake), or None (the default: each half is a run-loop stop)."""
        return None

    # --- interrupts ----------------------------------------------------------------------
    def irq_pending(self) -> bool:
        """Whether the model's interrupt line is high now (override)."""
        return False

    def update_irq(self) -> None:
        level = bool(self.irq_pending())
        if self.irq is not None and level != self._irq_level:
            self.host.set_irq(self.irq, level)
        self._irq_level = level

    # --- reports -------------------------------------------------------------------------
    def stats(self) -> dict[str, Any]:
        """Counters and time-stamped overruns, drops and late services for the run report."""
        out: dict[str, Any] = {"name": self.name, "type": self.TYPE}
        if self.binding is not None:
            out["source"] = self.binding.original.path
        out.update(self.stats_.as_dict())
        return out

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "stats": self.stats()}

    def option(self, name: str, default: Any) -> Any:
        return self.config.options.get(name, default)


class RingDma:
    """Circular DMA of a sample stream into a two-half ring in guest RAM, one event per half.

    At each half's completion the samples that arrived meanwhile are fetched from the
    recording in one slice, converted, written with ``mem_write`` and the half's flag (HT for
    the first half, TC for the second) is raised. Ownership rule: the firmware owns a half from
    its flag until it clears it; refilling an owned half is an overrun (``owner.ring_overrun``).
    When a ``stop`` recording runs out, the partial half is written and ``owner.ring_end`` runs.
    """

    HT, TC = 1, 2
    PREFETCH = 4096  # samples converted at once when the owner says what its conversion depends on (``key``)

    def __init__(self, owner: SensorModel, convert: Callable[[np.ndarray], np.ndarray], dtype: str,
                 key: Callable[[], object] | None = None) -> None:
        import numpy as np

        self.owner = owner
        self.convert = convert
        self.key = key  # what ``convert`` depends on besides the samples (a change converts again); None: per half
        self._pre: tuple[object, int, np.ndarray] | None = None  # (key, first sample, converted samples from it)
        self.dtype = np.dtype(dtype)
        self.flags = 0
        self.overruns = 0
        self.delivered = 0
        self.running = False
        self._raised_at: dict[int, int] = {}
        self.clock: SampleClock | None = None
        self._arrivals: dict[int, int] = {}  # chain_halves' arrival cycles by sample (the clock's, remembered)
        self.binding: SourceBinding | None = None
        self.addr = self.half = self.k0 = self.done = 0

    def start(self, clock: SampleClock, binding: SourceBinding, addr: int, length: int, first_k: int) -> None:
        self.clock, self.binding = clock, binding
        self.addr, self.half, self.k0, self.done = addr, length // 2, first_k, 0
        self._arrivals = {}
        self.flags = 0
        self._raised_at = {}
        self.running = True
        self._schedule()

    def stop(self) -> None:
        self.running = False
        self.owner.cancel_event("dma")

    def _schedule(self) -> None:
        if self.clock is None or self.binding is None or not self.running:
            return
        last = self.k0 + (self.done + 1) * self.half - 1
        limit = self.binding.limit()
        if limit is not None and last >= limit:
            self.owner.at(self.clock.arrival(max(limit - 1, 0)), "dma", self._on_end)
        else:
            ev = self.owner.at(self.clock.arrival(last), "dma", self._on_half)
            if hasattr(ev, "chain"):  # (a machine's Event; a test clock's handle may be other)
                ev.chain = self.owner.dma_chain

    def chain_halves(self, most: int) -> tuple[list[int], list[int], list[int], bytes] | None:
        """The next ``most`` halves at most as C would deliver them (SensorModel.dma_chain): each half's cycle (and
        after them the cycle of the ring's next event: a half, or its end where a ``stop`` recording runs out), which
        half of the ring (0: first), its guest address, and their bytes one after the other, as ``_on_half`` would
        write them; None when none is next."""
        if self.clock is None or self.binding is None or not self.running:
            return None
        limit = self.binding.limit()
        k0 = self.k0 + self.done * self.half
        if self.key is not None:  # no more halves than the block converted at once holds (converted anew from k0
            self._converted(k0, k0 + self.half)  # when it does not hold the first): no conversion per plan
            assert self._pre is not None
            most = min(most, (self._pre[1] + len(self._pre[2]) - k0) // self.half)
        arrivals = self._arrivals
        if len(arrivals) > 4 * most + 8:  # (a plan a half later asks again for all but one of them)
            arrivals.clear()
        cycles: list[int] = []
        for j in range(most + 1):
            last = self.k0 + (self.done + j + 1) * self.half - 1
            if limit is not None and last >= limit:
                cycles.append(self.clock.arrival(max(limit - 1, 0)))
                break
            cycle = arrivals.get(last)
            if cycle is None:
                cycle = arrivals[last] = self.clock.arrival(last)
            cycles.append(cycle)
        n = len(cycles) - 1
        if n <= 0:
            return None
        data = self._converted(k0, k0 + n * self.half)
        if len(data) != n * self.half:
            return None
        which = [(self.done + j) % 2 for j in range(n)]
        dsts = [self.addr + w * self.half * self.dtype.itemsize for w in which]
        return cycles, which, dsts, data.tobytes()

    def settle_chain(self, halves: list[int], clears: list[tuple[int, int]],
                     clear: Callable[[int, int], None]) -> None:
        """Halves C delivered at cycles ``halves`` and flag clears it served (``(cycle, STATUS value)``, given to
        ``clear``) between them (hotpath.c hp_chain_wake): what ``_on_half`` and the clears did, in cycle order (a
        half before a clear of the same cycle), the bytes already in guest RAM; then the next half is scheduled as
        the last half's ``_on_half`` did (the caller's clock is at that half)."""
        ops = sorted([(c, 0, 0) for c in halves] + [(c, 1, v) for c, v in clears])
        stats = self.owner.stats_
        for cycle, kind, value in ops:
            if kind:
                clear(value, cycle)
                continue
            which = self.done % 2
            flag, other = (self.HT, self.TC) if which == 0 else (self.TC, self.HT)
            if self.flags & other:
                self.overruns += 1
                self.owner.ring_overrun(cycle, 1 - which)
            self.flags |= flag
            self._raised_at.setdefault(flag, cycle)
            self.done += 1
            self.delivered += self.half
            stats.count("dma_halves")
        if halves:
            self._schedule()

    def _converted(self, k0: int, k1: int) -> np.ndarray:
        """Samples ``k0 .. k1-1`` converted (fewer at a stop): with a ``key``, sliced from a block of PREFETCH
        samples converted at once (conversion is per sample, so a slice of the block equals the range converted
        alone), converted again when the key or the range leaves the block."""
        assert self.binding is not None
        if self.key is None:
            return self.convert(self.binding.fetch(k0, k1)).astype(self.dtype)
        key, pre = self.key(), self._pre
        if pre is None or pre[0] != key or not pre[1] <= k0 or k1 > pre[1] + len(pre[2]):
            src = self.binding.source  # not past the recording's end where it stops or raises there (end rules)
            last = self.binding.k_base + len(src) if src.end_rule in ("stop", "error") else k0 + self.PREFETCH
            end = max(k1, min(k0 + self.PREFETCH, last))
            pre = self._pre = (key, k0, self.convert(self.binding.fetch(k0, end)).astype(self.dtype))
        return pre[2][k0 - pre[1]: k1 - pre[1]]

    def _write(self, k0: int, k1: int) -> int:
        data = self._converted(k0, k1)
        which = self.done % 2
        at = self.addr + which * self.half * self.dtype.itemsize
        self.owner.host.mem_write(at, data.tobytes())
        self.delivered += len(data)
        return len(data)

    def _on_half(self) -> None:
        now = self.owner.now()
        which = self.done % 2
        k0 = self.k0 + self.done * self.half
        self._write(k0, k0 + self.half)
        flag, other = (self.HT, self.TC) if which == 0 else (self.TC, self.HT)
        if self.flags & other:  # the DMA now refills the half the firmware still owns
            self.overruns += 1
            self.owner.ring_overrun(now, 1 - which)
        self.flags |= flag
        self._raised_at.setdefault(flag, now)  # the oldest unserviced raise sets the deadline
        self.done += 1
        self.owner.stats_.count("dma_halves")
        self._schedule()
        self.owner.update_irq()

    def _on_end(self) -> None:
        assert self.binding is not None
        k0 = self.k0 + self.done * self.half
        limit = self.binding.limit() or k0
        if limit > k0:
            self._write(k0, limit)
        self.running = False
        self.owner.ring_end()

    def clear(self, mask: int, now: int | None = None) -> None:
        """Firmware cleared flags in ``mask`` (at cycle ``now``, default the clock now): record how long it took and
        whether it was too late."""
        if now is None:
            now = self.owner.now()
        cleared = self.flags & mask
        for flag in (self.HT, self.TC):
            if cleared & flag and flag in self._raised_at:
                raised = self._raised_at.pop(flag)
                per_sample = self.clock.cycles_per_sample if self.clock else 0.0
                self.owner.stats_.service(raised, now, int(raised + self.half * per_sample))
        self.flags &= ~cleared

    def position(self) -> int:
        """Samples the DMA has reached in the ring at this moment, from the clock."""
        if not self.running or self.clock is None or self.half == 0:
            return 0
        done = self.clock.count_by(self.owner.now()) - self.k0
        return max(0, done) % (2 * self.half)
