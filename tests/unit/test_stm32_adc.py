"""STM32 ADC models: conversions on software and timer triggers, DMA, fed from a recording (RM0090 13, RM0432 21)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from simcore.errors import BadInputError
from tests.unit.stm32_bus import BusHost

RAM = 0x20000000
# F4 ADC (RM0090 13.13)
SR, CR1, CR2, SMPR2, SQR1, SQR3, DR = 0x00, 0x04, 0x08, 0x10, 0x2C, 0x34, 0x4C
# L4 ADC (RM0432 21.7)
ISR, IER, CR, CFGR, L4_SMPR1, L4_SQR1, L4_DR = 0x00, 0x04, 0x08, 0x0C, 0x14, 0x30, 0x40


def _ramp(tmp_path: Path, n: int = 200, rate: float = 1000.0) -> tuple[Path, np.ndarray, np.ndarray]:
    t = np.arange(n) / rate
    v = 0.5 + 2.0 * (np.arange(n) % 50) / 50.0
    path = tmp_path / "vin.csv"
    path.write_text("t,IN1,IN5\n" + "".join(f"{a:.6f},{b:.6f},{3.3 - b:.6f}\n" for a, b in zip(t, v)))
    return path, t, v


def test_f4_timer_triggered_conversions_by_dma_into_a_circular_buffer(tmp_path: Path) -> None:
    path, t, v = _ramp(tmp_path)
    host = BusHost()
    host.f4_clocks()
    tim2 = host.add("tim2", "stm32_timer", 0x40000000)
    dma2 = host.add("dma2", "stm32f4_dma", 0x40026400)
    host.add("adc_common", "stm32f4_adc_common", 0x40012300)
    adc = host.add("adc1", "stm32f4_adc", 0x40012000, source=str(path))
    adc.write(SMPR2, 4, 3 << 3)  # channel 1: 56 cycles
    adc.write(SQR3, 4, 1)  # SQ1 = channel 1
    adc.write(CR2, 4, 1 | 1 << 8 | 1 << 9 | 6 << 24 | 1 << 28)  # ADON, DMA, DDS, EXTSEL TIM2_TRGO, rising
    # DMA2 stream 0 channel 0 = ADC1: half-words, circular, 8 items, HT/TC interrupts
    s0 = 0x10
    dma2.write(s0 + 4, 4, 8)
    dma2.write(s0 + 8, 4, 0x40012000 + DR)
    dma2.write(s0 + 12, 4, RAM)
    dma2.write(s0, 4, 1 << 13 | 1 << 11 | 1 << 10 | 1 << 8 | 1 << 4 | 1 << 3 | 1)
    tim2.write(0x28, 4, 83)  # PSC: 1 MHz
    tim2.write(0x2C, 4, 999)  # 1 kHz
    tim2.write(0x04, 4, 2 << 4)  # MMS = update
    tim2.write(0x14, 4, 1)
    tim2.write(0x00, 4, 1)
    host.advance_seconds(0.0105)  # UG (an update: TRGO) at 0, then updates at 1, 2, ..., 10 ms
    got = np.frombuffer(host.ram_bytes(RAM, 16), dtype="<u2")
    # conversion k reads the recording at k ms (plus 68 ADC cycles at 21 MHz); the ring holds 8, 9, 10, 3..7
    codes = [round(v[k] / 3.3 * 4095) for k in range(11)]
    assert list(got) == codes[8:11] + codes[3:8]
    assert adc.conversions == 11 and host.irq_levels[56]  # DMA2_Stream0: HT and TC seen
    assert dma2.read(0x00, 4) & (1 << 5 | 1 << 4) == 1 << 5 | 1 << 4


def test_f4_software_scan_sequence_with_eoc_interrupt_and_overrun(tmp_path: Path) -> None:
    path, _t, v = _ramp(tmp_path)
    host = BusHost()
    host.f4_clocks()
    adc = host.add("adc1", "stm32f4_adc", 0x40012000, 18, source=str(path))
    adc.write(SQR1, 4, 2 << 20)  # three conversions
    adc.write(SQR3, 4, 5 | 1 << 5 | 17 << 10)  # IN5, IN1, VREFINT
    adc.write(CR1, 4, 1 << 8 | 1 << 5 | 1 << 26)  # SCAN, EOCIE, OVRIE
    adc.write(CR2, 4, 1 | 1 << 10)  # ADON, EOCS: EOC after each conversion
    adc.write(CR2, 4, 1 | 1 << 10 | 1 << 30)  # SWSTART
    assert adc.read(SR, 4) & 0x10  # STRT
    host.advance_seconds(1e-5)
    assert adc.read(SR, 4) & 0x22 == 0x22 and host.irq_levels[18]  # EOC, then OVR: nobody read IN5's result
    assert adc.read(DR, 4) == round((3.3 - v[0]) / 3.3 * 4095)  # the first result is kept
    assert adc.overruns == 2


def test_adc_inputs_must_name_channels(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("t,a,b\n0,1,2\n")
    with pytest.raises(BadInputError, match="name them after the ADC channels"):
        BusHost().add("adc1", "stm32f4_adc", 0x40012000, source=str(bad))


def test_l4_enable_calibrate_and_convert_on_software_start(tmp_path: Path) -> None:
    path, _t, v = _ramp(tmp_path)
    host = BusHost()
    host.set_clocks(HCLK=80e6, SYSCLK=80e6)
    common = host.add("adc_common", "stm32l4_adc_common", 0x50040300)
    adc = host.add("adc1", "stm32l4_adc", 0x50040000, 18, source=str(path))
    assert adc.read(CR, 4) == 0x20000000  # DEEPPWD at reset
    common.write(0x08, 4, 1 << 16)  # CKMODE = HCLK / 1
    adc.write(CR, 4, 1 << 31)  # calibration with the regulator off: refused
    assert "ADC.CR" in host.unmodelled
    adc.write(CR, 4, 1 << 28)  # DEEPPWD = 0, ADVREGEN
    host.advance_seconds(20e-6)
    adc.write(CR, 4, 1 << 28 | 1 << 31)
    assert adc.read(CR, 4) & 1 << 31
    host.advance_seconds(2e-6)
    assert not adc.read(CR, 4) & 1 << 31  # calibration done (116 cycles)
    adc.write(CR, 4, 1 << 28 | 1)
    assert adc.read(ISR, 4) & 1  # ADRDY
    adc.write(L4_SQR1, 4, 5 << 6)  # L = 0, SQ1 = IN5
    adc.write(IER, 4, 1 << 2)
    adc.write(CR, 4, 1 << 28 | 1 | 1 << 2)  # ADSTART
    host.advance_seconds(1e-6)
    assert adc.read(ISR, 4) & 0xC == 0xC and host.irq_levels[18]  # EOC, EOS
    assert adc.read(L4_DR, 4) == round((3.3 - v[0]) / 3.3 * 4095)
    assert not adc.read(ISR, 4) & 4 and not adc.read(CR, 4) & 1 << 2  # EOC read, ADSTART cleared
