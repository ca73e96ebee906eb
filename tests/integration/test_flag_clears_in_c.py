"""Write-1-to-clear flag registers served in C (hotpath.c hp_ack's W1C slots, SystemBlock.event_clear_slot): the
STM32F4 DMA's LIFCR/HIFCR (RM0090 10.5.3), the STATUS of simcore's ADC and camera blocks and the STM32 EXTI's PR
(RM0432 14.5.6: the B-L475E-IOT01A's FIFO watermark line, cleared once per drain), whose clear of the flags holding
the interrupt line high no longer reaches the model (the line falls in C; the model applies the clear, with its
cycle, at Python's next sync). The ADC's STATUS reads are served by the register file too (peripherals/held.py).
The guest must see exactly what it sees with every write through the model and with the Python register file
(``native=False``): console, instructions, cycles, sleep, stop, exit status, reports, the sensors' figures (the
ADC's and the camera's service latencies come from the clears' cycles)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from simcore.api import prepare, result_of, run_machine
from simcore.peripherals.sensors.adc import SimcoreAdc
from simcore.peripherals.sensors.camera import SimcoreCamera
from simcore.peripherals.stm32.dma import Stm32Dma, Stm32F4Dma
from simcore.peripherals.stm32.exti import Stm32Exti
from tests.conftest import ROOT, elf
from tests.conftest import figures as report_figures
from tests.integration.test_sensors_audio import WAV

DISCO = "stm32f4-discovery"
ADC_CSV = str(ROOT / "examples" / "data" / "adc_trace_1k.csv")
FRAMES = (str(ROOT / "examples" / "data" / "camera_square"), {"fps": 10})


def _figures(m: Any) -> tuple[object, ...]:
    r = run_machine(m)
    return (r.text, r.instructions, r.cycles, r.sleep_cycles, r.stop.kind, r.exit_status, m.reports.to_dict(),
            r.sensors)


def _counting(monkeypatch: pytest.MonkeyPatch, cls: type, offset: int) -> dict[str, int]:
    """Count the reads and writes of the register at ``offset`` that reach a ``cls`` model."""
    calls = {"read": 0, "write": 0}
    read, write = cls.read, cls.write

    def counted_read(self: Any, off: int, size: int) -> int:
        calls["read"] += off == offset
        return read(self, off, size)

    def counted_write(self: Any, off: int, size: int, value: int) -> None:
        calls["write"] += off == offset
        write(self, off, size, value)

    monkeypatch.setattr(cls, "read", counted_read)
    monkeypatch.setattr(cls, "write", counted_write)
    return calls


def test_discovery_dma_flag_clears_in_c_equal_the_model_path(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = _counting(monkeypatch, Stm32F4Dma, 0x08)  # LIFCR
    m = prepare(elf(DISCO, "audio_events"), DISCO, sensors={"mic": WAV}, cmdline="audio_events.elf windows=12")
    fast = _figures(m)
    assert "done: 12 windows" in fast[0] and fast[5] == 0
    assert calls["write"] == 1  # the first clear made the slot; the other 11 windows' were served in C
    assert m.hot.state.ev_clears == 11
    assert m.bus.counts("DMA1.LIFCR")[1] == 12  # the register file counted every write
    monkeypatch.setattr(Stm32Dma, "CLEARS_IN_C", False)
    slow_m = prepare(elf(DISCO, "audio_events"), DISCO, sensors={"mic": WAV}, cmdline="audio_events.elf windows=12")
    assert _figures(slow_m) == fast
    assert calls["write"] == 1 + 12 and slow_m.hot.state.ev_clears == 0
    monkeypatch.undo()
    twin = prepare(elf(DISCO, "audio_events"), DISCO, sensors={"mic": WAV}, cmdline="audio_events.elf windows=12",
                   native=False)
    assert _figures(twin) == fast


def test_a_dma_flag_clear_is_served_in_c_only_when_it_lowers_the_one_line_held_high() -> None:
    """LIFCR's slot is armed while exactly one stream of LISR's four holds its line high, and takes a write only when
    it clears every enabled flag of that stream that is set; the model hears of it at the next sync."""
    m = prepare(elf(DISCO, "audio_events"), DISCO, sensors={"mic": WAV})
    dma, rf, s = m.peripheral("dma1"), m.bus.rf, m.hot.state
    base, irq3 = dma.base, dma.stream_irqs[3]
    dma.write(0x58, 4, 1 << 4 | 1 << 3)  # S3CR: TCIE, HTIE (not enabled: the flags are set below by hand)
    dma.write(0x10, 4, 1 << 4)  # S0CR: TCIE
    assert dma.read(0x00, 4) == 0  # LISR through the model: the register file holds it from now on
    dma.write(0x08, 4, 0)  # LIFCR through the model: its slot
    k = dma._clear_slots[0]
    dma._flag(3, 2)  # HTIF3: stream 3's line high
    assert rf.read(base, 4) == 1 << 26 and s.ev_armed[k] and s.ev_need[k] == 1 << 26 and s.ev_irq[k] == irq3
    rf.write(base + 0x08, 4, 1 << 27)  # TCIF3 alone leaves HTIF3 set: the model's write
    assert s.ev_clears == 0 and s.ev_armed[k]
    dma._flag(0, 1)  # TCIF0: stream 0's line high as well: no single line to lower
    assert not s.ev_armed[k]
    rf.write(base + 0x08, 4, 1 << 26)  # the model's
    assert s.ev_clears == 0 and dma.flags[3] == 0 and dma.flags[0] == 1
    dma._flag(3, 1 | 2)  # TCIF3 and HTIF3 while TCIF0 is cleared below: stream 3 alone again
    rf.write(base + 0x08, 4, 1 << 5)  # CTCIF0: the model's (stream 0 is not the armed one)
    assert s.ev_armed[k] and s.ev_need[k] == 1 << 27 | 1 << 26
    rf.write(base + 0x08, 4, 1 << 26)  # HTIF3 only: TCIF3 would keep the line high
    assert s.ev_clears == 0 and dma.flags[3] == 1
    dma._flag(3, 2)
    rf.write(base + 0x08, 4, 0x3D << 22)  # every flag of stream 3: served in C
    assert s.ev_clears == 1 and rf.read(base, 4) == 0 and s.fr_done & 4
    assert dma.flags[3] == 3 and 16 + irq3 in m.system.exc.lines_high  # the model hears of it at the sync
    m.system.sync_native()
    assert dma.flags[3] == 0 and 16 + irq3 not in m.system.exc.lines_high and not s.ev_armed[k]


def test_adc_status_reads_and_clears_in_c_equal_the_model_path(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = _counting(monkeypatch, SimcoreAdc, 0x04)  # STATUS

    def machine(**kw: Any) -> Any:
        return prepare(elf("cortex-m4", "adc_monitor"), "cortex-m4", sensors={"adc": ADC_CSV}, **kw)

    m = machine()
    fast = _figures(m)
    assert "done: 3000 samples, 4 transitions, 0 overruns" in fast[0] and fast[5] == 0
    halves = fast[7]["adc"]["dma_halves"] if isinstance(fast[7], dict) else m.peripheral("adc").stats_.counts[
        "dma_halves"]
    assert halves == 60
    # three reads and a clear per half, in C but the first read and the first clear, and the last clear: END (the
    # recording's end, an interrupt the firmware enabled) holds the line high too then
    assert calls == {"read": 1, "write": 2}
    assert m.hot.state.ev_clears == halves - 2
    reads, writes = m.bus.counts("adc.STATUS")
    assert reads >= 3 * halves - 1 and writes == halves
    monkeypatch.setattr(SimcoreAdc, "STATUS_IN_C", False)
    slow = machine()
    assert _figures(slow) == fast
    assert calls["read"] > 3 * halves and slow.hot.state.ev_clears == 0
    monkeypatch.undo()
    assert _figures(machine(native=False)) == fast


def test_an_adc_clear_leaving_a_flag_that_holds_the_line_is_the_models() -> None:
    """With HT and TC both set (the firmware was late), a clear of HT alone keeps the line high: the model serves it;
    a clear of both is served in C, and the service latencies the model records use the clear's cycle."""
    m = prepare(elf("cortex-m4", "adc_monitor"), "cortex-m4", sensors={"adc": ADC_CSV})
    adc, rf, s = m.peripheral("adc"), m.bus.rf, m.hot.state
    adc.write(0x08, 4, SimcoreAdc.HT | SimcoreAdc.TC)  # INTEN
    adc.write(0x18, 4, 0x20000000)  # DMA_ADDR
    adc.write(0x1C, 4, 100)  # DMA_LEN
    adc.write(0x0C, 4, 99)  # TIM_PSC, TIM_ARR: 1 kHz at 100 MHz
    adc.write(0x10, 4, 999)
    adc.write(0x00, 4, SimcoreAdc.EN | SimcoreAdc.DMA)
    assert adc.read(0x04, 4) == 0  # STATUS through the model: held from now on
    adc.write(0x04, 4, SimcoreAdc.HT)  # through the model: the slot
    k = adc._clear_slot
    assert k is not None and not s.ev_armed[k]
    assert s.cycle_count == 0
    adc.ring._on_half()
    adc.ring._on_half()  # both halves filled, neither cleared: an overrun (OVR, whose interrupt is off)
    both, ovr = SimcoreAdc.HT | SimcoreAdc.TC, SimcoreAdc.OVR
    assert rf.read(adc.base + 0x04, 4) == both | ovr and s.ev_armed[k] and s.ev_need[k] == both
    rf.write(adc.base + 0x04, 4, SimcoreAdc.HT)  # TC still holds the line: the model's
    assert s.ev_clears == 0 and adc.read(0x04, 4) == SimcoreAdc.TC | ovr and s.ev_need[k] == SimcoreAdc.TC
    s.cycle_count += 12345
    rf.write(adc.base + 0x04, 4, SimcoreAdc.TC)  # served in C, at this cycle
    assert s.ev_clears == 1 and s.ev_cycle[k] == s.cycle_count and rf.read(adc.base + 0x04, 4) == ovr
    assert adc._irq_level and adc._status() == SimcoreAdc.TC | ovr  # the model hears of it at the sync
    s.cycle_count += 1000  # the sync comes later: the latency is still the clear's
    m.system.sync_native()
    assert adc._status() == ovr and not adc._irq_level
    assert adc.stats_.latencies[-1] == 12345  # TC raised at cycle 0 (the halves filled by hand), cleared at 12345


def test_ring_dma_conversion_block_equals_per_half_conversion() -> None:
    """RingDma converts PREFETCH samples at once when its owner gives a key: any range sliced from the block equals
    that range converted alone, across the block's end, at the recording's end, and after RES changes."""
    m = prepare(elf("cortex-m4", "adc_monitor"), "cortex-m4", sensors={"adc": ADC_CSV})
    adc = m.peripheral("adc")
    adc.write(0x18, 4, 0x20000000)
    adc.write(0x1C, 4, 100)
    adc.write(0x0C, 4, 99)
    adc.write(0x10, 4, 999)
    adc.write(0x00, 4, SimcoreAdc.EN | SimcoreAdc.DMA)
    ring = adc.ring
    ring.PREFETCH = 120  # a small block, so the ranges below cross its end

    def alone(k0: int, k1: int) -> np.ndarray:
        return adc.codes(ring.binding.fetch(k0, k1)).astype(ring.dtype)

    for k0, k1 in [(0, 50), (50, 100), (100, 150), (110, 130), (2950, 3000), (2980, 3030), (3000, 3050)]:
        assert np.array_equal(ring._converted(k0, k1), alone(k0, k1)), (k0, k1)
    adc.values["RES"] = 8
    assert np.array_equal(ring._converted(2960, 2990), alone(2960, 2990))
    assert int(ring._converted(2960, 2990).max()) < 256


def test_a_line_c_lowered_is_held_again_in_c_when_it_rises_before_the_next_arming() -> None:
    """A clear served in C lowers the line in C's NVIC view (nv_held), which the arming Python last gave C did not
    know: the sync forgets that line there, so that when the line is high again at the next arming (the next DMA half,
    with no arming between) C holds it high again. Otherwise an ICPR C serves then would clear a pending bit whose
    line is still high (and the firmware would sleep through its next wake-up)."""
    m = prepare(elf("cortex-m4", "adc_monitor"), "cortex-m4", sensors={"adc": ADC_CSV})
    adc, rf, s = m.peripheral("adc"), m.bus.rf, m.hot.state
    for offset, value in ((0x08, SimcoreAdc.HT | SimcoreAdc.TC), (0x18, 0x20000000), (0x1C, 100), (0x0C, 99),
                          (0x10, 999), (0x00, SimcoreAdc.EN | SimcoreAdc.DMA)):
        adc.write(offset, 4, value)
    adc.read(0x04, 4)
    adc.write(0x04, 4, SimcoreAdc.HT)  # through the model: the slot
    w, bit = adc.irq >> 5, 1 << (adc.irq & 31)
    adc.ring._on_half()  # HT: the line high, the interrupt pending
    m.system.arm_native()
    assert s.nv_held[w] & bit and s.nv_pending[w] & bit
    rf.write(adc.base + 0x04, 4, SimcoreAdc.HT)  # served in C: the line falls in C's view
    assert s.ev_clears == 1 and not s.nv_held[w] & bit
    m.system.sync_native()
    assert 16 + adc.irq not in m.system.exc.lines_high
    adc.ring._on_half()  # TC: the line high again, no arming since the one above
    m.system.arm_native()
    assert s.nv_held[w] & bit and s.nv_pending[w] & bit


def test_camera_status_clears_in_c_equal_the_model_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """camera_motion acknowledges each frame by writing DONE to STATUS: from the second on the clear is served in C
    (the line falls there; the model records the frame's service latency from the clear's cycle at the next sync), but
    the last, when END (the recording's end, enabled) holds the line too. Same figures with every clear through the
    model and with the Python register file."""
    calls = _counting(monkeypatch, SimcoreCamera, 0x08)  # STATUS

    def machine(**kw: Any) -> Any:
        return prepare(elf("cortex-m4", "camera_motion"), "cortex-m4", sensors={"camera": FRAMES}, **kw)

    m = machine()
    fast = _figures(m)
    assert "done: 10 frames" in fast[0] and fast[5] == 0
    assert m.peripheral("camera").stats_.latencies and len(m.peripheral("camera").stats_.latencies) == 10
    assert calls["write"] == 2 and m.hot.state.ev_clears == 8
    assert m.bus.counts("camera.STATUS")[1] == 10  # the register file counted every write
    monkeypatch.setattr(SimcoreCamera, "CLEARS_IN_C", False)
    slow = machine()
    assert _figures(slow) == fast
    assert calls["write"] == 2 + 10 and slow.hot.state.ev_clears == 0
    monkeypatch.undo()
    assert _figures(machine(native=False)) == fast


IOT = "b-l475e-iot01a"
IMU = {"imu": (str(ROOT / "examples" / "data" / "imu_walk_100hz.csv"), {"end": "hold", "resample": True})}


def _iot_drains(**kw: Any) -> Any:
    """imu_steps_bus on the IoT node for 200 frames: 8 FIFO drains, each woken by EXTI11 and clearing PR1 bit 11."""
    return prepare(elf(IOT, "imu_steps_bus"), IOT, sensors=IMU, cmdline="imu_steps_bus.elf frames=200", **kw)


def test_iot_exti_pending_clears_in_c_equal_the_model_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """The firmware's PR1 write after each wake (wait_data) is served in C but the first; the run's whole report
    (counts, console, reports, the chip's figures, the polling figures) equals the model's path, and but for which
    path served the work (the hot path's name, the polling figures) the Python register file's."""
    calls = _counting(monkeypatch, Stm32Exti, 0x14)  # PR1
    m = _iot_drains()
    fast = run_machine(m)
    assert "done: " in fast.text and fast.exit_status == 0
    assert calls["write"] == 1  # the first clear made the slot; the other 7 drains' were served in C
    assert m.hot.state.ev_clears == 7
    assert m.bus.counts("EXTI.PR1")[1] == 8  # the register file counted every write
    monkeypatch.setattr(Stm32Exti, "_clears_in_c", lambda self: None)
    slow_m = _iot_drains()
    slow = run_machine(slow_m)
    assert calls["write"] == 1 + 8 and slow_m.hot.state.ev_clears == 0
    assert report_figures(slow, ()) == report_figures(fast, ())
    monkeypatch.undo()
    twin_path = ("native_hot_path", "polling")  # which path served the work: the twin fast-forwards in Python
    assert report_figures(run_machine(_iot_drains(native=False)), twin_path) == report_figures(fast, twin_path)


def test_an_exti_pending_clear_is_served_in_c_only_when_it_lowers_the_one_line_held_high() -> None:
    """PR1's slot is armed while exactly one of the EXTI's NVIC lines is high, and takes a write only when it clears
    every pending bit holding that line; the model applies it (PR1, SWIER1, the line) at the next sync."""
    m = _iot_drains()
    exti, rf, s = m.peripheral("exti"), m.bus.rf, m.hot.state
    base, lines_high = exti.base, m.system.exc.lines_high
    irq_10_15, irq_5_9 = exti.irq_of_line[11], exti.irq_of_line[5]
    exti.write(0x00, 4, 1 << 11 | 1 << 10 | 1 << 5)  # IMR1
    exti.write(0x10, 4, 1 << 11)  # SWIER1: line 11 pending (the register file holds PR1 from now on)
    exti.write(0x14, 4, 1 << 11)  # PR1 through the model: the slot
    k = exti._clear_slot
    assert k is not None and not s.ev_armed[k]
    exti.write(0x10, 4, 1 << 11 | 1 << 10)  # lines 10 and 11: EXTI15_10 high
    assert rf.read(base + 0x14, 4) == 3 << 10 and s.ev_armed[k] and s.ev_need[k] == 3 << 10
    assert s.ev_irq[k] == irq_10_15
    rf.write(base + 0x14, 4, 1 << 11)  # line 10 would keep the line high: the model's write
    assert s.ev_clears == 0 and s.ev_armed[k] and s.ev_need[k] == 1 << 10
    exti.write(0x10, 4, 1 << 10 | 1 << 5)  # line 5: EXTI9_5 high as well: no single line to lower
    assert not s.ev_armed[k]
    rf.write(base + 0x14, 4, 1 << 10)  # the model's
    assert s.ev_clears == 0 and exti.values["PR1"] == 1 << 5
    assert s.ev_armed[k] and s.ev_need[k] == 1 << 5 and s.ev_irq[k] == irq_5_9
    rf.write(base + 0x14, 4, 1 << 5 | 1 << 3)  # every bit holding EXTI9_5 (and a clear one): served in C
    assert s.ev_clears == 1 and rf.read(base + 0x14, 4) == 0 and s.fr_done & 4
    assert exti.values["PR1"] == 1 << 5 and 16 + irq_5_9 in lines_high  # the model hears of it at the sync
    m.system.sync_native()
    assert exti.values["PR1"] == 0 and exti.values["SWIER1"] == 0 and 16 + irq_5_9 not in lines_high
    assert not s.ev_armed[k]


@pytest.mark.parametrize("native", [True, False], ids=["c", "twin"])
def test_a_snapshot_with_the_exti_clear_armed_restores_it(monkeypatch: pytest.MonkeyPatch, native: bool) -> None:
    """A snapshot taken just after the 4th wake (EXTI11 pending, PR1's slot armed: C serves the clear that follows)
    restores to the counts, console and chip figures of a plain run, twice."""
    from simcore.debug import Debugger, Pause
    from simcore.snapshot import Snapshot
    from tests.integration.test_debug import figures as run_figures

    plain = run_machine(_iot_drains(native=native))
    m = _iot_drains(native=native)
    d = Debugger(m)
    seen = [0]
    own = Stm32Exti._pend

    def counted(self: Stm32Exti, bits: int) -> None:
        own(self, bits)
        seen[0] += 1
        if seen[0] == 4:
            m.request_pause(Pause("interrupt", "EXTI11 pending", pc=None))

    monkeypatch.setattr(Stm32Exti, "_pend", counted)
    assert d.cont().kind == "interrupt"
    exti = m.peripheral("exti")
    assert exti.values["PR1"] == 1 << 11
    assert native == (exti._clear_slot is not None and bool(m.hot.state.ev_armed[exti._clear_slot]))
    snap = Snapshot.take(m)
    d.cont()
    ref = run_figures(m), result_of(m, m.stop, 0.0).sensors
    assert ref[0]["instructions"] == plain.instructions and ref[0]["console"] == plain.console
    for _ in range(2):
        snap.restore(m)
        d.cont()
        assert (run_figures(m), result_of(m, m.stop, 0.0).sensors) == ref
