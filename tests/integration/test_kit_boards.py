"""Kit boards extend their part with what is soldered around it: LED and button names in reports, chips wired
to the part's controllers; a kit file naming what the part cannot carry is refused before the run."""

from __future__ import annotations

import pytest

from simcore.api import run
from simcore.board import load_board
from simcore.errors import BadInputError
from tests.conftest import ROOT, elf

BUTTONS = ROOT / "examples" / "data" / "buttons.csv"


@pytest.mark.parametrize("board,part,port,led", [("stm32f4-discovery", "stm32f407vg", "gpioa", ("gpiod", "led_green")),
                                                  ("nucleo-l4r5zi", "stm32l4r5zi", "gpioc", ("gpiob", "led_blue"))])
def test_button_presses_toggle_the_named_led(board: str, part: str, port: str, led: tuple[str, str]) -> None:
    r = run(elf(part, "exti_button"), board, sensors={port: BUTTONS})
    assert "4 presses in 1000 ms" in r.text
    ports, name = led
    assert r.sensors[ports][f"{name}_rises"] == 2 and r.sensors[ports][f"{name}_falls"] == 2


def test_kits_extend_their_parts() -> None:
    disco = load_board("stm32f4-discovery")
    assert disco.svd == "stm32f407vg" and {d.name: d.type for d in disco.devices} == {"accel": "lis3dsh",
                                                                                      "mic": "mp45dt02"}
    nucleo = load_board("nucleo-l4r5zi")
    assert nucleo.svd == "stm32l4r5zi" and nucleo.peripheral("gpiog").options["pins"] == {"PG14": "led_red"}


@pytest.mark.parametrize("entry,words", [
    ('name = "imu"\ntype = "lis3dsh"\nbus = "spi1"\ncs = "PJ3"', "gpioj"),  # a port the F407 does not have
    ('name = "imu"\ntype = "lis3dsh"\nbus = "usart2"\ncs = "PE3"', "no SPI controller model"),
    ('name = "imu"\ntype = "lsm6dsl"\nbus = "i2c1"\naddress = 0x50', "address 0x50"),
    ('name = "imu"\ntype = "lis3dsh"\nbus = "spi1"\ncs = "PE3"\npins = { INT3 = "PE0" }', "no output 'INT3'"),
])
def test_bad_kit_files_are_refused_in_one_paragraph(tmp_path, entry: str, words: str) -> None:
    f = tmp_path / "kit.toml"
    f.write_text(f'extends = "stm32f407vg"\nname = "kit"\n[[device]]\n{entry}\n')
    with pytest.raises(BadInputError, match=words) as exc:
        run(elf("stm32f407vg", "hello"), str(f))
    assert "\n" not in str(exc.value) and "Traceback" not in str(exc.value)
