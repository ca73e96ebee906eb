"""STM32 GPIO, SYSCFG and EXTI models driven through their registers on a fake clock (RM0090, RM0432)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from simcore.errors import BadInputError
from simcore.peripherals import model_for
from simcore.peripherals.testing import FakeHost, peripheral

F4_GPIOA, F4_GPIOD, F4_SYSCFG, F4_EXTI = 0x40020000, 0x40020C00, 0x40013800, 0x40013C00
L4_GPIOA, L4_GPIOC, L4_SYSCFG, L4_EXTI = 0x48000000, 0x48000800, 0x40010000, 0x40010400
MODER, OTYPER, PUPDR, IDR, ODR, BSRR, LCKR, AFRL, BRR = 0x00, 0x04, 0x0C, 0x10, 0x14, 0x18, 0x1C, 0x20, 0x28


def _port(host: FakeHost, family: str, name: str, base: int, **options: Any) -> Any:
    model = model_for(f"stm32{family}_gpio")(peripheral(name, f"stm32{family}_gpio", base, None, **options), host)
    host.peripherals[name] = model
    return model


def _exti(host: FakeHost, family: str) -> tuple[Any, Any]:
    sys_base, exti_base = (F4_SYSCFG, F4_EXTI) if family == "f4" else (L4_SYSCFG, L4_EXTI)
    syscfg = model_for(f"stm32{family}_syscfg")(peripheral("syscfg", f"stm32{family}_syscfg", sys_base, None), host)
    exti = model_for(f"stm32{family}_exti")(peripheral("exti", f"stm32{family}_exti", exti_base, None), host)
    host.peripherals.update(syscfg=syscfg, exti=exti)
    return syscfg, exti


def test_reset_values_come_from_the_svd_and_the_errata() -> None:
    host = FakeHost(mhz=16)
    assert _port(host, "f4", "gpioa", F4_GPIOA).read(MODER, 4) == 0xA8000000  # RM0090 8.4.1: PA13-15 debug
    assert _port(host, "l4", "gpioa", L4_GPIOA).read(MODER, 4) == 0xABFFFFFF  # RM0432 8.5.1: analog
    assert _port(host, "l4", "gpioc", L4_GPIOC).read(MODER, 4) == 0xFFFFFFFF


def test_output_pins_drive_idr_and_changes_are_time_stamped() -> None:
    host = FakeHost(mhz=16)
    gpiod = _port(host, "f4", "gpiod", F4_GPIOD, pins={"PD12": "led_green"})
    gpiod.write(MODER, 4, 1 << 24 | 1 << 26)  # PD12, PD13 outputs
    gpiod.write(BSRR, 4, 1 << 12)
    host.advance_to(16_000)  # 1 ms at 16 MHz
    gpiod.write(BSRR, 4, 1 << 28 | 1 << 13)  # reset PD12, set PD13
    gpiod.write(BSRR, 4, 1 << 13 | 1 << 29)  # both set and reset for PD13: set wins (RM0090 8.4.7)
    assert gpiod.read(IDR, 4) & 0x3000 == 0x2000
    assert gpiod.read(ODR, 4) == 0x2000
    assert gpiod.read(BSRR, 4) == 0  # write-only
    trace = gpiod.trace()
    assert [(t["name"], t["level"]) for t in trace] == [("led_green", 1), ("led_green", 0), ("PD13", 1)]
    assert trace[0]["time_s"] == 0.0 and trace[1]["time_s"] == pytest.approx(1e-3)
    stats = gpiod.sensor_stats()
    assert stats["led_green_rises"] == 1 and stats["led_green_falls"] == 1 and stats["PD13_rises"] == 1


def test_input_pins_read_pulls_outside_levels_and_analog_reads_zero() -> None:
    host = FakeHost(mhz=16)
    gpioa = _port(host, "l4", "gpioa", L4_GPIOA)
    gpioa.write(MODER, 4, 0xABFFFFF0)  # PA0, PA1 inputs
    gpioa.write(PUPDR, 4, 0x64000000 | 0b01)  # PA0 pull-up, PA1 floating
    assert gpioa.read(IDR, 4) & 3 == 0b01
    gpioa.drive(0b10, 0b10)
    gpioa.drive(0b1, 0b0)
    assert gpioa.read(IDR, 4) & 3 == 0b10
    gpioa.drive(0b100, 0b100)  # PA2 is analog: its input buffer is off
    assert gpioa.read(IDR, 4) & 4 == 0
    gpioa.write(ODR, 4, 1)
    gpioa.write(BRR, 4, 1)  # L4 BRR resets
    assert gpioa.read(ODR, 4) == 0


def test_open_drain_reads_the_line() -> None:
    host = FakeHost(mhz=16)
    gpiod = _port(host, "f4", "gpiod", F4_GPIOD)
    gpiod.write(MODER, 4, 1)  # PD0 output
    gpiod.write(OTYPER, 4, 1)  # open-drain
    gpiod.write(PUPDR, 4, 1)  # pull-up
    gpiod.write(ODR, 4, 1)  # released: the pull-up
    assert gpiod.read(IDR, 4) & 1 == 1
    gpiod.drive(1, 0)  # another device pulls the line low
    assert gpiod.read(IDR, 4) & 1 == 0
    gpiod.write(ODR, 4, 0)
    gpiod.release(1)
    assert gpiod.read(IDR, 4) & 1 == 0


def test_lock_key_sequence_freezes_the_configuration() -> None:
    host = FakeHost(mhz=16)
    gpiod = _port(host, "f4", "gpiod", F4_GPIOD)
    gpiod.write(MODER, 4, 0x1)
    # a wrong sequence (LCK bits change) does not lock
    gpiod.write(LCKR, 4, 1 << 16 | 0x1)
    gpiod.write(LCKR, 4, 0x3)
    gpiod.write(LCKR, 4, 1 << 16 | 0x1)
    gpiod.read(LCKR, 4)
    assert gpiod.read(LCKR, 4) & (1 << 16) == 0
    gpiod.write(MODER, 4, 0x4)
    assert gpiod.read(MODER, 4) == 0x4
    # the key sequence of RM0090 8.4.8 locks PD0
    for v in (1 << 16 | 0x1, 0x1, 1 << 16 | 0x1):
        gpiod.write(LCKR, 4, v)
    gpiod.read(LCKR, 4)
    assert gpiod.read(LCKR, 4) == 1 << 16 | 0x1
    gpiod.write(MODER, 4, 0x9)  # PD0's bits are frozen (input), PD1's change (to alternate function)
    assert gpiod.read(MODER, 4) == 0x8
    assert "GPIOD.MODER" in host.unmodelled
    gpiod.write(LCKR, 4, 0)  # cannot be undone
    assert gpiod.read(LCKR, 4) & (1 << 16)
    gpiod.reset()
    assert gpiod.read(LCKR, 4) == 0


def test_exti_edges_on_the_selected_port_pend_the_right_nvic_lines() -> None:
    host = FakeHost(mhz=16)
    gpioa = _port(host, "f4", "gpioa", F4_GPIOA)
    gpiod = _port(host, "f4", "gpiod", F4_GPIOD)
    syscfg, exti = _exti(host, "f4")
    gpioa.write(MODER, 4, 0xA8000000)  # inputs
    gpiod.write(MODER, 4, 0)
    exti.write(0x00, 4, 1 << 0 | 1 << 7)  # IMR: lines 0 and 7
    exti.write(0x08, 4, 1 << 0 | 1 << 7)  # RTSR
    exti.write(0x0C, 4, 1 << 7)  # FTSR: line 7 both edges
    syscfg.write(0x0C, 4, 3 << 12)  # EXTICR2: line 7 from port D
    gpioa.drive(1 << 7, 1 << 7)  # PA7: not the selected port
    assert exti.read(0x14, 4) == 0
    gpioa.drive(1, 1)  # PA0 rises -> EXTI0 (IRQ 6)
    assert exti.read(0x14, 4) == 1 and host.irq_levels[6]
    exti.write(0x14, 4, 1)  # PR: write 1 to clear
    assert exti.read(0x14, 4) == 0 and not host.irq_levels[6]
    gpioa.drive(1, 0)  # falling edge, no FTSR on line 0
    assert exti.read(0x14, 4) == 0
    gpiod.drive(1 << 7, 1 << 7)
    gpiod.drive(1 << 7, 0)
    assert exti.read(0x14, 4) == 1 << 7 and host.irq_levels[23]  # EXTI9_5
    assert exti.edges == 3


def test_exti_masked_lines_do_not_pend_and_software_interrupts_do() -> None:
    host = FakeHost(mhz=16)
    gpioc = _port(host, "l4", "gpioc", L4_GPIOC)
    syscfg, exti = _exti(host, "l4")
    gpioc.write(MODER, 4, 0xF3FFFFFF)  # PC13 input
    syscfg.write(0x14, 4, 2 << 4)  # EXTICR4: line 13 from port C
    exti.write(0x08, 4, 1 << 13)  # RTSR1
    gpioc.drive(1 << 13, 1 << 13)  # masked: nothing
    assert exti.read(0x14, 4) == 0
    exti.write(0x00, 4, 0xFF820000 | 1 << 13)  # IMR1
    exti.write(0x10, 4, 1 << 13)  # SWIER1
    assert exti.read(0x14, 4) == 1 << 13 and host.irq_levels[40]  # EXTI15_10
    exti.write(0x14, 4, 1 << 13)
    assert exti.read(0x10, 4) == 0 and not host.irq_levels[40]


def test_inputs_from_a_recording_arrive_on_virtual_time(tmp_path: Path) -> None:
    rec = tmp_path / "button.csv"
    rec.write_text("t,PA0,PA1\n0.0,0,1\n0.010,1,1\n0.0125,0,1\n0.020,0,0\n")
    host = FakeHost(mhz=16)
    gpioa = _port(host, "f4", "gpioa", F4_GPIOA, source=str(rec), source_options={"end": "stop"})
    syscfg, exti = _exti(host, "f4")
    gpioa.write(MODER, 4, 0xA8000000)
    exti.write(0x00, 4, 1)
    exti.write(0x08, 4, 1)
    host.advance_to(0)
    assert gpioa.read(IDR, 4) & 3 == 0b10
    host.advance_to(159_999)  # 10 ms at 16 MHz is cycle 160,000
    assert gpioa.read(IDR, 4) & 1 == 0 and not host.irq_levels.get(6)
    host.advance_to(160_000)
    assert gpioa.read(IDR, 4) & 1 == 1 and host.irq_levels[6]
    assert host.irq_rises(6) == [160_000]  # 10 ms at 16 MHz
    host.advance_seconds(0.05)
    assert gpioa.read(IDR, 4) & 3 == 0
    assert gpioa.sensor_stats()["input_changes"] == 4


def test_a_recording_needs_pin_columns(tmp_path: Path) -> None:
    rec = tmp_path / "bad.csv"
    rec.write_text("t,volts\n0,1\n")
    with pytest.raises(BadInputError, match="no column for a pin of GPIOA"):
        _port(FakeHost(), "f4", "gpioa", F4_GPIOA, source=str(rec))


def test_idr_of_every_pin_mode_follows_the_reference_manual() -> None:
    """IDR (computed for all pins at once) equals the per-pin rules of RM0090 8.3 / RM0432 8.4 for random modes,
    output types, pulls, ODR and outside drive: analog reads 0, a push-pull output its ODR bit, an open-drain
    output 0 while driven low else the line, inputs and alternate functions the line (outside level or pull-up)."""
    import random

    rng = random.Random(8)
    host = FakeHost(mhz=16)
    port = _port(host, "f4", "gpiod", F4_GPIOD)
    for _ in range(400):
        moder, pupdr, otyper, odr = rng.getrandbits(32), rng.getrandbits(32), rng.getrandbits(16), rng.getrandbits(16)
        driven, levels = rng.getrandbits(16), rng.getrandbits(16)
        port.release(0xFFFF)
        port.write(MODER, 4, moder)
        port.write(PUPDR, 4, pupdr)
        port.write(OTYPER, 4, otyper)
        port.write(ODR, 4, odr)
        port.drive(driven, levels)
        want = 0
        for n in range(16):
            mode, pull = moder >> 2 * n & 3, pupdr >> 2 * n & 3
            line = levels >> n & 1 if driven >> n & 1 else int(pull == 1)
            if mode == 3:
                level = 0
            elif mode == 1 and not otyper >> n & 1:
                level = odr >> n & 1
            elif mode == 1:
                level = line if odr >> n & 1 else 0
            else:
                level = line
            want |= level << n
        assert port.read(IDR, 4) == want
