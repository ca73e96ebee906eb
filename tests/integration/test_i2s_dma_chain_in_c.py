"""The STM32F4 Discovery's I2S2 DMA halves delivered in C at the firmware's wfis (hotpath.c hp_chain_wake;
Machine._plan_chain, settle_chain; Stm32F4SpiI2s.dma_chain).

audio_events on the Discovery sleeps in wfi (PRIMASK set) until DMA1 stream 3 has filled a half of its ring of
PDM words from SPI2 in I2S mode, reads LISR, clears HTIF3 or TCIF3 through LIFCR and filters the half. Python
plans up to CH_MAX halves ahead (their words from the PDM stream's kept blocks, their cycles, the LISR bit each
sets); C sleeps to each half's cycle at the wfi that waits for it, writes the half into guest RAM, sets LISR and the
stream's line, and logs the firmware's LIFCR clears, which Python settles in cycle order at its next sync (the
I2S block's word count, DR and CHSIDE, the stream's NDTR count, flags and buffers, the microphone's figures). The
guest must see exactly what it sees when every half is the run loop's (planning off) and with the Python hot path
(``native=False``): the whole run JSON but wall times; and a snapshot taken inside a chain, right after a settle,
restored twice and run on, must end the same each time.
"""

from __future__ import annotations

from typing import Any

import pytest

from simcore.api import prepare, run_machine
from simcore.machine import Machine
from simcore.snapshot import Snapshot
from tests.conftest import ROOT, elf, figures
from tests.integration.test_wfi_wake_in_c import pause_after_settled

BOARD = "stm32f4-discovery"
WAV = str(ROOT / "examples" / "data" / "audio_events_16k.wav")
WINDOWS = 24  # windows of 30 ms: 24 DMA halves of 1,920 words


def _prepare(windows: int = WINDOWS, **kw: Any) -> Machine:
    return prepare(elf(BOARD, "audio_events"), BOARD, sensors={"mic": WAV},
                   cmdline=f"audio_events.elf windows={windows}", **kw)


def _run(**kw: Any) -> tuple[dict[str, Any], Machine]:
    m = _prepare(**kw)
    return figures(run_machine(m), drop=()), m


def _stream3(m: Machine) -> Any:
    return m.peripheral("dma1").streams[3]  # type: ignore[union-attr]


def test_i2s_halves_in_c_keep_every_figure(monkeypatch: pytest.MonkeyPatch) -> None:
    fast, m = _run()
    assert fast["stop"]["kind"] == "exit" and fast["exit_status"] == 0
    spi = m.peripheral("spi2")
    assert spi is not None and spi.words_received >= WINDOWS * 1920
    # all but the first halves (before the firmware's first LISR read and LIFCR write through Python) are C's
    assert m.chain_halves_in_c >= WINDOWS - 3 and m.hot.state.ch_done == m.chain_halves_in_c
    assert _stream3(m).buffers >= WINDOWS // 2
    monkeypatch.setattr(Machine, "_plan_chain", lambda self, top: None)  # every half the run loop's
    slow, m2 = _run()
    assert m2.chain_halves_in_c == 0 and m2.hot.state.ch_done == 0
    assert slow == fast
    monkeypatch.undo()
    twin, m3 = _run(native=False)  # the Python hot path delivers nothing in C
    assert m3.chain_halves_in_c == 0
    # its own figures of how it got there (fast-forwards in Python, block executions) are not the native path's
    own = ("native_hot_path", "polling", "cycles_error_bar")
    assert {k: v for k, v in twin.items() if k not in own} == {k: v for k, v in fast.items() if k not in own}


def test_a_snapshot_inside_an_i2s_chain_restored_twice_ends_as_the_plain_run() -> None:
    plain, _ = _run()
    m = pause_after_settled(_prepare(), "settle_chain", 1, "chain settle")
    at_pause = m.chain_halves_in_c
    spi = m.peripheral("spi2")
    assert spi is not None
    words = spi.words_received
    assert at_pause > 0 and 0 < words < WINDOWS * 1920  # between two chains: halves in C before and after
    snap = Snapshot.take(m)
    assert figures(run_machine(m), drop=()) == plain and m.chain_halves_in_c > at_pause
    for _ in range(2):
        snap.restore(m)
        assert m.chain_halves_in_c == at_pause and spi.words_received == words
        assert figures(run_machine(m), drop=()) == plain and m.chain_halves_in_c > at_pause


def test_no_plan_without_the_status_register_held_or_its_clear_slot() -> None:
    """dma_chain plans only while the register file holds LISR and LIFCR has its C slot (the firmware's first
    read and clear went through Python); the plan's halves alternate HTIF3 and TCIF3 over the ring's two halves."""
    m = pause_after_settled(_prepare(), "settle_chain", 1, "chain settle")
    spi = m.peripheral("spi2")
    dma = m.peripheral("dma1")
    assert spi is not None and dma is not None
    plan = spi.dma_chain()
    assert plan is not None and len(plan.values) >= 2
    assert set(plan.values[:2]) == {1 << 26, 1 << 27}  # RM0090 10.5.1: HTIF3 bit 26, TCIF3 bit 27
    t = _stream3(m)
    assert set(plan.dsts[:2]) == {t.mar, t.mar + t.total}  # two halves of total/2 half-words each
    assert len(plan.data) == len(plan.values) * t.total and list(plan.cycles) == sorted(plan.cycles)
    held, slots = dict(dma._held_status), dict(dma._clear_slots)
    dma._clear_slots.clear()
    assert spi.dma_chain() is None
    dma._clear_slots.update(slots)
    dma._held_status.pop("LISR")
    assert spi.dma_chain() is None
    dma._held_status.update(held)
    assert spi.dma_chain() is not None
