"""A wfi reached with an interrupt already pending wakes at once (ARMv7-M B1.5.19): with PRIMASK set nothing is
taken, so C goes on after the wfi without a run-loop stop (hotpath.c hp_wfi_pending, armed by
SystemBlock._wfi_pending_irq). The DMA-half apps wait so: after a half's flag clear the NVIC's pending bit is still set
(its ICPR came while the line was high), so their next wfi wakes at once. The guest must see exactly what it sees with
the stop in Python and with the Python register file (``native=False``)."""

from __future__ import annotations

from typing import Any

import pytest

import simcore.cortexm.system as system_module
from simcore.api import prepare, run_machine
from simcore.machine import Machine
from tests.conftest import ROOT, elf
from tests.integration.test_sensors_audio import WAV

ADC_CSV = str(ROOT / "examples" / "data" / "adc_trace_1k.csv")


def _run(board: str, app: str, sensors: dict[str, Any], cmdline: str, **kw: Any) -> tuple[tuple[object, ...], Any, int]:
    """What the guest saw, the machine, and the wfi halts Python handled."""
    halts = {"n": 0}
    on_halt = system_module.SystemBlock.on_halt

    def counted(self: Any, pc: int, wfe: bool = False) -> None:
        halts["n"] += 1
        on_halt(self, pc, wfe)

    system_module.SystemBlock.on_halt = counted  # type: ignore[method-assign]
    try:
        m = prepare(elf(board, app), board, sensors=sensors, cmdline=cmdline, **kw)
        r = run_machine(m)
    finally:
        system_module.SystemBlock.on_halt = on_halt  # type: ignore[method-assign]
    seen = (r.text, r.instructions, r.cycles, r.sleep_cycles, r.stop.kind, r.exit_status, m.reports.to_dict(),
            r.sensors)
    return seen, m, halts["n"]


@pytest.mark.parametrize(("board", "app", "sensors", "cmdline", "units"), [
    ("cortex-m4", "adc_monitor", {"adc": ADC_CSV}, "adc_monitor.elf", 60),  # DMA halves
    ("stm32f4-discovery", "audio_events", {"mic": WAV}, "audio_events.elf windows=12", 12),  # windows
])
def test_a_wfi_with_an_interrupt_pending_wakes_in_c(monkeypatch: pytest.MonkeyPatch, board: str, app: str,
                                                     sensors: dict[str, Any], cmdline: str, units: int) -> None:
    # the ADC's halves as the run loop's stops: a chain of halves in C (hp_chain_wake, test_dma_chain_in_c) arms
    # the pending wake of the wfi after each half itself
    monkeypatch.setattr(Machine, "_plan_chain", lambda self, top: None)
    fast, m, halts_c = _run(board, app, sensors, cmdline)
    assert fast[5] == 0
    skips = m.hot.state.wp_skips
    assert skips >= units - 2  # each half/window's second wfi (its pending bit still set) woken in C
    monkeypatch.setattr(system_module.SystemBlock, "_wfi_pending_irq", lambda self: 0)  # (the chain still off)
    slow, m2, halts_py = _run(board, app, sensors, cmdline)
    assert slow == fast
    assert m2.hot.state.wp_skips == 0 and halts_py == halts_c + skips
    monkeypatch.undo()
    twin, m3, _ = _run(board, app, sensors, cmdline, native=False)
    assert twin == fast and m3.hot.state.wp_skips == 0
