"""The STM32 DMA's interrupt status registers (F4 LISR/HISR, L4 ISR) are served by the register file after their
first read through Python: the audio apps' DMA interrupt handlers read them at every half/complete flag without
reaching the model, and what they read is the model's flags (the value the register file holds equals the one the
model computes, and the firmware reads the same windows as with every read through Python)."""

from __future__ import annotations

import pytest

from simcore.api import prepare
from simcore.peripherals.stm32.dma import Stm32Dma
from tests.conftest import elf
from tests.integration.test_sensors_audio import WAV


@pytest.mark.parametrize("board,status", [("stm32f4-discovery", "LISR"), ("b-l475e-iot01a", "ISR")])
def test_status_reads_after_the_first_are_served_in_c(board: str, status: str, monkeypatch) -> None:
    python_reads: list[str] = []
    read_status = Stm32Dma._read_status

    def counted(self: Stm32Dma, name: str) -> int:
        python_reads.append(name)
        return read_status(self, name)

    monkeypatch.setattr(Stm32Dma, "_read_status", counted)
    m = prepare(elf(board, "audio_events"), board, sensors={"mic": WAV}, cmdline="audio_events.elf windows=8")
    stop = m.run()
    assert stop.exit_code == 0
    dma = m.peripheral("dma1")
    reads, _writes = m.bus.counts(f"DMA1.{status}")
    assert python_reads == [status]  # the first read only
    assert reads >= 8  # one or more per interrupt: 8 windows, a half or complete flag each
    assert m.bus.rf.value(dma._held_status[status]) == dma.status(status)
    assert dma.streams[3].buffers >= 3  # (the app's stream: the flags kept coming after the first read)
