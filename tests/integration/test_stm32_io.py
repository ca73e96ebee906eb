"""The STM32 I/O apps on the F407 and the L4R5, at the reset clock and at the maximum the app sets up.

Expected figures are computed here from the reference manuals' formulas and the recordings, not
taken from simcore: a UART frame of 10 bits at the baud rate the BRR value really gives, 1 ms per
TIM2 update whatever the clock, the recorded button presses, ADC codes from the recorded volts.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from simcore.api import run
from tests.conftest import ROOT, elf

PARTS = ("stm32f407vg", "stm32l4r5zi")
CLOCKS = {("stm32f407vg", False): 16e6, ("stm32f407vg", True): 168e6,
          ("stm32l4r5zi", False): 4e6, ("stm32l4r5zi", True): 120e6}


def _run(board: str, app: str, fast: bool, part: str | None = None, **kw: object) -> object:
    part = part or board
    r = run(elf(part, app), board=board, cmdline=f"{app}.elf" + (" fast" if fast else ""), **kw)
    assert r.exit_status == 0, r.text + str(r.stop)
    assert r.mhz == CLOCKS[part, fast] / 1e6  # the clock follows what the firmware set
    return r


def _baud(board: str, fast: bool) -> float:
    """The baud rate the apps' BRR really gives: F4 USART2 on PCLK1 (16 or 42 MHz, BRR = round(fck / 115200));
    L4 LPUART1 on PCLK1 = HCLK (BRR = round(256 fck / 115200), RM0432 51.4.7)."""
    if board == "stm32f407vg":
        fck = 42e6 if fast else 16e6
        return fck / round(fck / 115200)
    fck = CLOCKS[board, fast]
    return 256 * fck / round(256 * fck / 115200)


CONSOLE = {"stm32f407vg": "usart2", "stm32l4r5zi": "lpuart1"}


@pytest.mark.parametrize("fast", [False, True])
@pytest.mark.parametrize("board", PARTS)
def test_uart_print_by_polling_interrupt_and_dma(board: str, fast: bool, tmp_path: Path) -> None:
    paced = tmp_path / f"{board}-paced.toml"  # the boards' console UART transmits at once unless paced
    paced.write_text(f'extends = "{board}"\nname = "{board}"\n\n[[peripheral]]\nname = "{CONSOLE[board]}"\n'
                     "paced = true\n")
    r = _run(str(paced), "uart_print", fast, part=board)
    line = "The quick brown fox jumps over the lazy dog, 0123456789 ABCDEF.\n"
    assert r.text.count(line) == 3
    frames_us = 64 * 10 / _baud(board, fast) * 1e6
    got = dict(re.findall(r"^(\w+): 64 bytes in \d+ cycles = (\d+) us", r.text, re.M))
    assert set(got) == {"polling", "interrupt", "DMA"}
    for how, us in got.items():
        # the 64 frames, plus the firmware's own reaction time (an interrupt entry at 4 MHz is ~25 us)
        assert frames_us - 1 <= int(us) <= frames_us + 30, (how, us, frames_us)


@pytest.mark.parametrize("fast", [False, True])
@pytest.mark.parametrize("board", PARTS)
def test_tim2_interrupts_at_1khz_whatever_the_clock(board: str, fast: bool) -> None:
    r = _run(board, "tim_irq", fast)
    hz = CLOCKS[board, fast]
    m = re.search(r"1000 TIM2 update interrupts in (\d+) cycles = (\d+\.\d+) ms", r.text)
    assert m, r.text
    cycles = int(m.group(1))
    assert abs(cycles - hz) <= 100  # 1.000 s of virtual time, to the interrupt latency
    assert m.group(2) in ("1000.000", "1000.001", "1000.003", "1000.014")
    cnt = int(re.search(r"CNT after 250 us: (\d+)", r.text).group(1))
    assert 250 <= cnt <= 252
    m = re.search(r"one pulse: CEN 0 after the update, UIF in (\d+) cycles", r.text)
    assert m and abs(int(m.group(1)) - hz * 0.005) <= 30


BUTTONS = ROOT / "examples" / "data" / "buttons.csv"


@pytest.mark.parametrize("fast", [False, True])
@pytest.mark.parametrize("board", PARTS)
def test_exti_interrupts_from_a_recorded_button(board: str, fast: bool) -> None:
    port, led = ("gpioa", "gpiod") if board == "stm32f407vg" else ("gpioc", "gpiob")
    r = _run(board, "exti_button", fast, sensors={port: str(BUTTONS)})
    rec = np.loadtxt(BUTTONS, delimiter=",", skiprows=1)
    col = 1 if port == "gpioa" else 2
    rises = [t for (t, prev, cur) in zip(rec[1:, 0], rec[:-1, col], rec[1:, col]) if cur and not prev]
    presses = [float(x) for x in re.findall(r"press \d+ at (\d+\.\d+) ms", r.text)]
    assert len(presses) == len(rises) == 4 and "4 presses in 1000 ms" in r.text
    # the app times presses from its own start: the differences are the recording's, to a few us
    assert np.allclose(np.diff(presses), np.diff(rises) * 1e3, atol=0.02)
    # and the LED (output trace, virtual time since reset) changes right after each recorded press
    changes = r.sensors[led]["changes"]
    assert [c["level"] for c in changes] == [1, 0, 1, 0]
    for c, t in zip(changes, rises):
        assert t <= c["time_s"] < t + 100e-6, (c, t)
    # the line was unmasked and the presses marked through the bit-band aliases: IMR is its reset value
    # (RM0090 12.3.1: 0; RM0432 14.5.1 IMR1: 0xFF820000) with the button's line; one RAM bit per press
    imr = (0 if board == "stm32f407vg" else 0xFF820000) | 1 << (0 if board == "stm32f407vg" else 13)
    assert f"bit-band: IMR bit 1 (IMR {imr:#x}), presses seen {(1 << len(rises)) - 1:#x} (bit 0 read back 1)" in r.text


ADC_TRACE = ROOT / "examples" / "data" / "adc_trace_1k.csv"


@pytest.mark.parametrize("fast", [False, True])
@pytest.mark.parametrize("board", PARTS)
def test_adc_conversions_on_timer_trigger_into_dma_halves(board: str, fast: bool) -> None:
    r = _run(board, "adc_dma", fast, sensors={"adc1": str(ADC_TRACE)})
    assert r.sensors["adc1"]["conversions"] == 256 and r.sensors["adc1"]["overruns"] == 0
    got = [int(x) for x in re.findall(r"mean (\d+) mV", r.text)]
    at = [float(x) for x in re.findall(r"half \d+ at (\d+\.\d+) ms", r.text)]
    assert len(got) == 8
    # halves complete every 32 ms: the 32nd conversion of each (1 kHz, the first ~12-63 us after start)
    assert np.allclose(np.diff(at), 32.0, atol=0.005) and 31.0 < at[0] < 31.5
    v = np.loadtxt(ADC_TRACE, delimiter=",", skiprows=1)[:, 1]
    codes = np.clip(np.rint(v / 3.3 * 4095), 0, 4095)
    # conversion k reads the sample in effect at its time, o + k ms after reset for the app's start offset o
    def means(o: int) -> list[int]:
        return [int(np.floor((codes[o + 32 * i: o + 32 * i + 32].sum() * 3300 + 32 * 4095 // 2) / (32 * 4095)))
                for i in range(8)]
    offsets = [o for o in range(0, 20) if means(o) == got]
    assert offsets, (got, means(2), means(3))


@pytest.mark.parametrize("native", [True, False], ids=["c", "twin"])
def test_exti_pending_register_reads_served_by_the_register_file(native: bool,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """EXTI PR1 (RM0432 14.5.6) on the B-L475E-IOT01A: once a line is pending the register file answers PR1's reads
    from the value the model gives it (a driver's wait for its pending bit reads it without Python), in C and in the
    Python twin; a write of 1 still reaches the model, which clears the bit there and lowers its NVIC line
    (EXTI15_10 for line 11; the NVIC keeps the interrupt pending, as the ARMv7-M NVIC latches it), and reads
    follow."""
    from simcore.api import prepare
    from simcore.peripherals.stm32.exti import Stm32Exti

    m = prepare(elf("b-l475e-iot01a", "hello"), "b-l475e-iot01a", native=native)
    exti = m.peripheral("exti")
    rf = m.bus.rf
    base = exti.base
    IMR1, RTSR1, PR1 = base + 0x00, base + 0x08, base + 0x14
    model_reads: list[int] = []
    own_read = Stm32Exti.read

    def counted(self: Stm32Exti, offset: int, size: int) -> int:
        model_reads.append(offset)
        return own_read(self, offset, size)

    monkeypatch.setattr(Stm32Exti, "read", counted)
    rf.write(IMR1, 4, 1 << 11)
    rf.write(RTSR1, 4, 1 << 11)
    assert rf.read(PR1, 4) == 0 and model_reads == [0x14]  # nothing pending yet: the model's
    irq = exti.irq_of_line[11]
    exti.gpio_edge(0, 11, 1)  # PA11 rises (EXTICR3 at reset: port A)
    assert 16 + irq in m.system.exc.pending and exti._levels[irq]
    assert [rf.read(PR1, 4) for _ in range(3)] == [1 << 11] * 3 and model_reads == [0x14]
    rf.write(PR1, 4, 1 << 11)  # write 1 to clear: the model's
    assert not exti._levels[irq] and exti.values["PR1"] == 0
    assert rf.read(PR1, 4) == 0 and model_reads == [0x14]
    exti.gpio_edge(0, 11, 0)
    exti.gpio_edge(0, 11, 1)
    assert rf.read(PR1, 4) == 1 << 11 and exti._levels[irq] and model_reads == [0x14]
