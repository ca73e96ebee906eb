"""The committed register tables (simcore/data/svd) and the converter that makes them (tools/svd2table.py).

Expected reset values are the reference manuals' (RM0090 for the STM32F407, RM0432 for the
STM32L4R5, RM0351 for the STM32L475, the nRF52840 Product Specification), not the table's.
"""

from __future__ import annotations

import importlib.util
import json
import sys
import tomllib
from pathlib import Path

import pytest

from simcore.board import load_board
from simcore.errors import BadInputError
from simcore.peripherals import model_for
from simcore.peripherals.svd import TABLE_DIR, available_tables, load_table

ROOT = Path(__file__).resolve().parents[2]


def _converter():
    spec = importlib.util.spec_from_file_location("svd2table", ROOT / "tools" / "svd2table.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules["svd2table"] = mod  # dataclasses look their module up
    assert spec.loader is not None
    spec.loader.exec_module(mod)
    return mod


def reset(part: str, dotted: str) -> int:
    return load_table(part).register(dotted)[1].reset


def test_every_part_has_a_table_naming_its_source() -> None:
    sources = tomllib.loads((ROOT / "tools" / "svd_sources.toml").read_text())
    assert set(available_tables()) == {"stm32f407vg", "stm32l4r5zi", "stm32l475vg", "nrf52840"} == set(sources)
    for part, src in sources.items():
        table = load_table(part)
        assert table.source["file"] == src["file"]
        assert table.source["sha256"] == src["sha256"]
        assert table.source["version"]
        assert len(table.peripherals) > 50


@pytest.mark.parametrize(("dotted", "value"), [
    ("RCC.CR", 0x00000083),        # RM0090 7.3.1: HSION, HSIRDY, HSITRIM = 16
    ("RCC.PLLCFGR", 0x24003010),   # 7.3.2
    ("RCC.CFGR", 0x00000000),
    ("RCC.AHB1ENR", 0x00100000),   # 7.3.10: CCMDATARAMEN
    ("RCC.CSR", 0x0E000000),       # 7.3.21: PORRSTF, PINRSTF, BORRSTF
    ("FLASH.ACR", 0x00000000),     # 3.9.1
    ("FLASH.OPTCR", 0x0FFFAAED),   # 3.9.7 (an SVD erratum: the SVD has 0x14)
    ("GPIOA.MODER", 0xA8000000),   # 8.4.1: port A has the debug pins in alternate mode
    ("GPIOB.MODER", 0x00000280),
    ("GPIOC.MODER", 0x00000000),
    ("GPIOA.PUPDR", 0x64000000),
    ("GPIOB.PUPDR", 0x00000100),
    ("USART2.SR", 0x000000C0),     # 30.6.1 (an SVD erratum: the SVD has 0x00C00000)
    ("SPI2.I2SPR", 0x00000002),    # 28.5.9 (an SVD erratum)
])
def test_stm32f407_reset_values_match_rm0090(dotted: str, value: int) -> None:
    assert reset("stm32f407vg", dotted) == value


@pytest.mark.parametrize(("dotted", "value"), [
    ("RCC.CR", 0x00000063),        # RM0432 6.4.1: MSI on and ready, MSIRANGE 6 (4 MHz)
    ("RCC.CSR", 0x0C000600),       # 6.4.31: MSISRANGE 6, PINRSTF, BORRSTF
    ("RCC.ICSCR", 0x40000000),     # 6.4.2: HSITRIM 0x40 (an SVD erratum)
    ("RCC.PLLCFGR", 0x00001000),   # 6.4.4: PLLN 16
    ("FLASH.ACR", 0x00000600),     # 3.7.1: ICEN, DCEN
    ("PWR.CR1", 0x00000200),       # 5.4.1: VOS range 1
    ("GPIOA.MODER", 0xABFFFFFF),
    ("GPIOB.MODER", 0xFFFFFEBF),
])
def test_stm32l4r5_reset_values_match_rm0432(dotted: str, value: int) -> None:
    assert reset("stm32l4r5zi", dotted) == value


def test_stm32l475_reset_values_match_rm0351() -> None:
    assert reset("stm32l475vg", "GPIOA.MODER") == 0xABFFFFFF
    assert reset("stm32l475vg", "GPIOH.MODER") == 0x0000000F
    assert reset("stm32l475vg", "RCC.CR") == 0x00000063
    assert reset("stm32l475vg", "RCC.CSR") == 0x0C000600
    assert reset("stm32l475vg", "RCC.ICSCR") == 0x10000000  # 5-bit HSITRIM = 16 on the STM32L4
    assert reset("stm32l475vg", "FLASH.ACR") == 0x00000600


# where the vendor's SVD is wrong: the STM32F407 SVD gives RNG the FPU's IRQ 81 (RM0090 Table 61: HASH_RNG 80)
SVD_IRQ_ERRATA = {("stm32f407vg", "rng"): 80}


def test_interrupt_numbers_agree_with_the_board_files() -> None:
    for part in ("stm32f407vg", "stm32l4r5zi", "stm32l475vg", "nrf52840"):
        table = load_table(part)
        board = load_board(part)
        for p in board.peripherals:
            if not model_for(p.type).SVD:  # a peripheral the vendor's SVD lacks (the L4R5's DMAMUX1)
                continue
            offset = getattr(model_for(p.type), "WINDOW_OFFSET", 0)  # nRF52 GPIO: the window of its registers
            svd = [s for s in table.at(p.base - offset) if s.base == p.base - offset]
            assert svd, f"{part}: no SVD peripheral at {p.name} {p.base:#x}"
            irqs = {n for s in svd for _, n in s.interrupts}
            if (part, p.name) in SVD_IRQ_ERRATA:
                assert p.irq == SVD_IRQ_ERRATA[part, p.name] and p.irq not in irqs
                continue
            assert p.irq is None or p.irq in irqs, (part, p.name, p.irq, irqs)


def test_derived_peripherals_have_their_own_base_and_interrupts() -> None:
    table = load_table("stm32f407vg")
    usart3 = table.peripheral("USART3")
    assert usart3.base == 0x40004800
    assert usart3.interrupts == (("USART3", 39),)
    assert [r.name for r in usart3.registers] == [r.name for r in table.peripheral("USART2").registers]


def test_nrf52840_clusters_arrays_and_ficr() -> None:
    table = load_table("nrf52840")
    p, reg = table.register("UARTE0.PSEL.TXD")
    assert p.base + reg.offset == 0x4000250C and reg.reset == 0xFFFFFFFF
    assert [f.name for f in reg.fields] == ["PIN", "PORT", "CONNECT"]
    assert table.register("P0.PIN_CNF[31]")[1].offset == 0x77C
    assert table.register("PPI.CH[3].EEP")[1].offset == 0x528
    assert table.register("FICR.INFO.PART")[1].reset == 0x52840
    shared = {p.name for p in table.at(0x40003000)}
    assert {"SPIM0", "TWIM0", "SPIS0"} <= shared  # instances that share one peripheral ID


def test_register_masks_follow_field_access() -> None:
    _, cr = load_table("stm32l4r5zi").register("RCC.CR")
    assert cr.write_mask & 1 and not cr.write_mask & 2  # MSION writable, MSIRDY read-only
    assert cr.fields_in(0x00010100) == ["HSION", "HSEON"]
    _, intenclr = load_table("nrf52840").register("UARTE0.INTENCLR")
    assert intenclr.fields  # nRF INTENCLR fields are write-one-to-clear views of INTEN
    _, tasks = load_table("nrf52840").register("CLOCK.TASKS_HFCLKSTART")
    assert tasks.access == "w" and tasks.read_mask == 0


def test_committed_tables_are_what_the_converter_writes() -> None:
    """The loader's view equals the file: one peripheral per line, layouts shared by content."""
    data = json.loads((TABLE_DIR / "stm32f407vg.json").read_text())
    layouts = [p["layout"] for p in data["peripherals"]]
    assert len(set(layouts)) < len(layouts)  # GPIOC..GPIOI share GPIOC's layout
    assert data["source"]["converted_by"] == "tools/svd2table.py"
    assert {e.get("register") for e in data["errata"]} >= {"USART2.SR", "FLASH.OPTCR"}
    assert {"GPIOJ", "GPIOK"} <= {e.get("peripheral") for e in data["errata"]}
    assert not load_table("stm32f407vg").at(0x40022400)  # not on the F405/407


def test_unknown_table_is_bad_input() -> None:
    with pytest.raises(BadInputError, match="no register table named 'stm32f999'"):
        load_table("stm32f999")


SVD = """<?xml version="1.0"?>
<device><name>TOY</name><version>3.1</version><size>32</size><access>read-write</access>
<resetValue>0x0</resetValue><resetMask>0xFFFFFFFF</resetMask>
<peripherals>
 <peripheral><name>TIMA</name><baseAddress>0x40000000</baseAddress>
  <addressBlock><offset>0</offset><size>0x400</size><usage>registers</usage></addressBlock>
  <interrupt><name>TIMA</name><value>7</value></interrupt>
  <registers>
   <register><name>CR</name><addressOffset>0x0</addressOffset><resetValue>0x81</resetValue>
    <fields>
     <field><name>EN</name><bitOffset>0</bitOffset><bitWidth>1</bitWidth></field>
     <field><name>RDY</name><lsb>7</lsb><msb>7</msb><access>read-only</access></field>
     <field><name>FLAG</name><bitRange>[9:8]</bitRange><modifiedWriteValues>oneToClear</modifiedWriteValues></field>
    </fields></register>
   <register><dim>3</dim><dimIncrement>4</dimIncrement><name>CCR%s</name><addressOffset>0x10</addressOffset>
    <size>16</size><access>write-only</access></register>
   <cluster><dim>2</dim><dimIncrement>0x10</dimIncrement><name>CH[%s]</name><addressOffset>0x100</addressOffset>
    <register><name>PTR</name><addressOffset>0x4</addressOffset><resetValue>0xFF</resetValue></register>
   </cluster>
  </registers></peripheral>
 <peripheral derivedFrom="TIMA"><name>TIMB</name><baseAddress>0x40000400</baseAddress>
  <interrupt><name>TIMB</name><value>8</value></interrupt></peripheral>
</peripherals></device>"""


def test_converter_resolves_inheritance_arrays_clusters_and_derived(tmp_path: Path) -> None:
    svd = tmp_path / "toy.svd"
    svd.write_text(SVD)
    table = _converter().convert(svd, "toy", "a test", [])
    by_name = {p["name"]: p for p in table["peripherals"]}
    assert by_name["TIMB"]["layout"] == "TIMA" and by_name["TIMB"]["interrupts"] == [["TIMB", 8]]
    rows = {r[0]: r for r in table["layouts"]["TIMA"]}
    assert rows["CR"][:5] == ["CR", 0, 32, "rw", 0x81]
    assert rows["CR"][5] == [["EN", 0, 1, "rw"], ["RDY", 7, 1, "r"], ["FLAG", 8, 2, "rw", "w1c"]]
    assert [rows[f"CCR{i}"][1:4] for i in range(3)] == [[0x10, 16, "w"], [0x14, 16, "w"], [0x18, 16, "w"]]
    assert rows["CH[1].PTR"][1] == 0x114 and rows["CH[1].PTR"][4] == 0xFF
    assert table["source"]["device"] == "TOY" and table["source"]["version"] == "3.1"
    errata = [{"peripheral": ["TIMA"], "register": "CR", "reset": 1, "why": "manual says so"}]
    fixed = _converter().convert(svd, "toy", "a test", errata)
    assert fixed["errata"][0]["svd_reset"] == 0x81
    assert {r[0]: r for r in fixed["layouts"]["TIMA"]}["CR"][4] == 1
    assert {p["name"]: p["layout"] for p in fixed["peripherals"]}["TIMB"] == "TIMB"  # no longer the same


def test_layouts_read_on_demand_equal_the_whole_file() -> None:
    """load_table parses a layout only when asked (start-up); what it reads equals a full JSON parse."""
    for part in available_tables():
        full = json.loads((TABLE_DIR / f"{part}.json").read_text())
        table = load_table(part)
        layouts = table.peripherals[0]._layouts
        assert layouts.names() == set(full["layouts"])
        for name, rows in full["layouts"].items():
            assert layouts.rows(name) == rows, (part, name)
        for p, raw in zip(table.peripherals, full["peripherals"]):
            assert (p.name, p.base, p.size, p.layout) == (raw["name"], raw["base"], raw["size"], raw["layout"])
