"""The LSM9DS1's FIFO told ahead (Lsm9ds1.fifo_preview): the chip's half of a K-tick stretch in C (the Nano 33 BLE
Sense's imu_steps_bus: RTC1 compare, FIFO_SRC read, drain of that many samples, for K ticks without Python).

C would answer each FIFO_SRC read from the arrival cycles (the timeline's first cycle reaching each sample's arrival
time) and the samples it drained since, and each drain from the preview's bytes. Here every read the model really
makes after a preview is checked against what the preview says for that read's cycle, over many ticks: a preview
that counted arrivals, levels, the threshold bit or the bytes wrong fails.
"""

from __future__ import annotations

from typing import Any

import pytest

from simcore.api import run_machine
from simcore.devices.fifo import FifoMode
from simcore.devices.lsm9ds1 import FIFO_SRC_ADDR, FifoPreview, Lsm9ds1
from tests.integration.test_wfi_wake_in_c import _machine

DRAIN_ADDR = 0x28  # OUT_X_L_XL: the drain's register


def _recorded(frames: int, monkeypatch: pytest.MonkeyPatch, m_ahead: int) -> tuple[list[tuple[Any, ...]], Any]:
    """Run imu_steps_bus on the Rev1, recording every burst read the chip answers (cycle, register, bytes) and a
    preview of ``m_ahead`` arrivals taken just before each FIFO_SRC read (with its arrival cycles)."""
    m = _machine(frames)
    log: list[tuple[Any, ...]] = []
    own = Lsm9ds1.i2c_read_block

    def read(self: Lsm9ds1, n: int) -> bytes:
        cycle = m.hot.state.cycle_count
        reg = self._ptr
        if reg == FIFO_SRC_ADDR and n == 1:
            p = self.fifo_preview(m_ahead)
            if p is not None:
                cycles = tuple(m.clocks.timeline.cycle_at(a) for a in p.arrivals_fs)
                log.append(("preview", cycle, p, cycles))
        out = own(self, n)
        log.append(("read", cycle, reg, out))
        return out

    monkeypatch.setattr(Lsm9ds1, "i2c_read_block", read)
    run_machine(m)
    return log, m


def _check_from(log: list[tuple[Any, ...]], i: int) -> int:
    """Check the reads after the preview at ``log[i]`` against it, as far as it reaches; how many were checked."""
    _, _, p, cycles = log[i]
    assert isinstance(p, FifoPreview)
    popped = 0
    checked = 0
    for entry in log[i + 1:]:
        if entry[0] != "read":
            continue
        _, cycle, reg, out = entry
        reached = sum(1 for c in cycles if c <= cycle)
        if reached == len(cycles):  # (a later arrival may be in too: beyond what the preview tells)
            break
        level = p.first + reached - p.head - popped
        if level > p.depth:
            break
        if reg == FIFO_SRC_ADDR and len(out) == 1:
            assert out[0] == p.src[level], f"FIFO_SRC at cycle {cycle}: {out[0]:#x}, preview {p.src[level]:#x}"
        elif reg == DRAIN_ADDR and len(out) % 6 == 0:
            n = len(out) // 6
            assert n <= level  # (the firmware drains what FIFO_SRC said)
            assert out == p.data[6 * popped: 6 * (popped + n)], f"the drain at cycle {cycle}"
            popped += n
        else:
            break
        checked += 1
    return checked


def test_the_reads_after_a_preview_are_what_it_tells(monkeypatch: pytest.MonkeyPatch) -> None:
    log, m = _recorded(400, monkeypatch, 64)
    previews = [i for i, e in enumerate(log) if e[0] == "preview"]
    reads = sum(1 for e in log if e[0] == "read")
    assert len(previews) >= 15 and reads >= 2 * len(previews)
    total = [_check_from(log, i) for i in previews]
    # 64 arrivals at ODR_XL 119 Hz reach over 4 ticks of 125 ms (a FIFO_SRC read and a drain each): each preview but
    # the last few checks 8 reads or more
    assert sum(1 for t in total if t >= 8) >= len(previews) - 4, total
    drained = sum(len(e[3]) // 6 for e in log if e[0] == "read" and e[2] == DRAIN_ADDR)
    assert drained > 0


def test_no_preview_where_reads_would_depend_on_more(monkeypatch: pytest.MonkeyPatch) -> None:
    """An overrun flag, the FIFO in FIFO (not continuous) mode, the gyroscope running or an interrupt source routed:
    a read's answer is then not a function of its time and the drained count alone (or plans a wake-up), so none.
    Looked at on the chip of a running imu_steps_bus, at its third FIFO_SRC read, each changed and put back."""
    m = _machine(80)
    own = Lsm9ds1.i2c_read_block
    seen: list[object] = []

    def read(self: Lsm9ds1, n: int) -> bytes:
        if self._ptr == FIFO_SRC_ADDR and n == 1 and len(seen) < 3:
            seen.append(self.fifo_preview(8))
            if len(seen) == 3:
                seen.extend(_changed(self))
        return own(self, n)

    monkeypatch.setattr(Lsm9ds1, "i2c_read_block", read)
    run_machine(m)
    base = seen[2]
    assert isinstance(base, FifoPreview) and len(base.arrivals_fs) == 8 and len(base.src) == base.depth + 1
    assert len(base.data) == 6 * (base.first + 8 - base.head) and base.head < base.first
    assert seen[3:] == [None, None, None, None, base]


def _changed(chip: Lsm9ds1) -> list[object]:
    """fifo_preview with an overrun, FIFO mode, the gyroscope on, INT1 routed (each put back), then as it was."""
    out: list[object] = []
    chip.fifo.overrun = True
    out.append(chip.fifo_preview(8))
    chip.fifo.overrun = False
    chip.fifo.mode = FifoMode.FIFO
    out.append(chip.fifo_preview(8))
    chip.fifo.mode = FifoMode.STREAM
    clock, chip.gyro.clock = chip.gyro.clock, chip.accel.clock  # (Stream.running: a clock)
    out.append(chip.fifo_preview(8))
    chip.gyro.clock = clock
    chip.values["INT1_CTRL"] = 0x08
    out.append(chip.fifo_preview(8))
    chip.values["INT1_CTRL"] = 0
    out.append(chip.fifo_preview(8))
    ctrl, level = chip.values["FIFO_CTRL"], chip.fifo.level
    for fth in (level, level + 1):  # FIFO_SRC's FTH bit at the level on both sides of the threshold, as the model reads
        chip.values["FIFO_CTRL"] = ctrl & ~0x1F | fth
        p = chip.fifo_preview(8)
        assert p is not None and p.src[level] == chip._fifo_src(), (fth, level)
    chip.values["FIFO_CTRL"] = ctrl
    return out
