"""The committed firmware ELFs (firmware/bin/<board>/<app>.elf) agree with the board files.

Checks the memory map against simcore's boards (vector table, stack and heap symbols,
segments inside the part's memories), that the FPU/DSP apps really contain the instructions
they are meant to exercise, and, where the tools exist, that the ELFs are up to date with
the sources (arm-none-eabi-gcc) and run correctly on QEMU's MPS2-AN386 (qemu-system-arm).
"""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import capstone
import pytest
from elftools.elf.elffile import ELFFile

from simcore.board import load_board

ROOT = Path(__file__).resolve().parents[2]
FIRMWARE = ROOT / "firmware"
BOARDS = ["stm32f407vg", "stm32l4r5zi", "nrf52840", "cortex-m4"]
APPS = sorted(p.parent.name for p in (FIRMWARE / "apps").glob("*/main.c"))


def app_boards(app: str) -> list[str]:
    """The boards an app is built for: APP_BOARDS.<app> in its app.mk, else every board."""
    mk = FIRMWARE / "apps" / app / "app.mk"
    found = re.search(rf"^APP_BOARDS\.{app}\s*:?=\s*(.+)$", mk.read_text(), re.M) if mk.is_file() else None
    return found.group(1).split() if found else BOARDS


ELFS = [(b, a) for b in BOARDS for a in APPS if b in app_boards(a)]
DEFAULT_STACK = 8192


class Elf:
    def __init__(self, path: Path) -> None:
        with path.open("rb") as f:
            elf = ELFFile(f)
            self.entry = elf["e_entry"]
            self.machine = elf["e_machine"]
            self.segments = [
                (s["p_paddr"], s["p_vaddr"], s["p_memsz"], s.data())
                for s in elf.iter_segments()
                if s["p_type"] == "PT_LOAD"
            ]
            board_section = elf.get_section_by_name(".simcore.board")
            self.board = board_section.data().rstrip(b"\0").decode() if board_section else None
            self.board_section_flags = board_section["sh_flags"] if board_section else None
            symtab = elf.get_section_by_name(".symtab")
            # GCC may clone static functions (fused.constprop.0): key by the name before the dot
            self.symbols = {s.name.split(".")[0]: (s["st_value"], s["st_size"]) for s in symtab.iter_symbols()}

    def sym(self, name: str) -> int:
        return self.symbols[name][0]

    def read(self, addr: int, size: int) -> bytes:
        """Bytes at a load (physical) address, as a loader writes them into flash."""
        for paddr, _vaddr, _memsz, data in self.segments:
            if paddr <= addr and addr + size <= paddr + len(data):
                return data[addr - paddr : addr - paddr + size]
        raise AssertionError(f"{addr:#x}+{size} is not in any loadable segment")

    def function_code(self, name: str) -> tuple[int, bytes]:
        value, size = self.symbols[name]
        start = value & ~1
        return start, self.read(start, size)


def elf_path(board: str, app: str) -> Path:
    return FIRMWARE / "bin" / board / f"{app}.elf"


def test_every_app_is_built_for_every_board() -> None:
    assert {"hello", "exitcode", "semihost", "semihost_exit", "fpu", "dsp", "compute", "stackhog"} <= set(APPS)
    missing = [f"{b}/{a}" for b, a in ELFS if not elf_path(b, a).is_file()]
    assert missing == []


@pytest.mark.parametrize(("board", "app"), ELFS)
def test_vector_table_and_memory_symbols_match_the_board(board: str, app: str) -> None:
    part = load_board(board)
    elf = Elf(elf_path(board, app))
    flash = part.flash[0]
    ram = max(part.ram, key=lambda m: m.size)
    assert elf.machine == "EM_ARM"
    assert elf.board == board
    assert elf.board_section_flags & 0x2 == 0, ".simcore.board must not be allocated (SHF_ALLOC)"

    initial_sp, reset = struct.unpack("<II", elf.read(flash.base, 8))
    assert initial_sp == ram.end == elf.sym("__StackTop")
    assert reset & 1 == 1, "reset vector must have the Thumb bit set"
    assert flash.contains(reset & ~1, 2)
    assert reset == elf.sym("Reset_Handler") == elf.entry | 1

    vt_addr, vt_size = elf.symbols["__isr_vector"]
    assert vt_addr == flash.base
    assert vt_size == 4 * (16 + part.num_irq)
    vectors = struct.unpack(f"<{16 + part.num_irq}I", elf.read(flash.base, vt_size))
    for n, handler in enumerate(vectors[1:], start=1):
        if n in (7, 8, 9, 10, 13):  # reserved entries
            assert handler == 0
        else:
            assert handler & 1 and flash.contains(handler & ~1, 2), f"vector {n} = {handler:#x}"

    assert elf.sym("__StackLimit") == elf.sym("__StackTop") - DEFAULT_STACK
    assert elf.sym("__HeapLimit") == elf.sym("__StackLimit")
    assert elf.sym("__HeapBase") % 8 == 0
    assert elf.sym("_ebss") <= elf.sym("__HeapBase") <= elf.sym("__HeapLimit")
    assert ram.contains(elf.sym("_sdata")) and ram.contains(elf.sym("_sbss"))
    assert elf.sym("_edata") - elf.sym("_sdata") <= ram.size
    assert flash.contains(elf.sym("_sidata"), max(1, elf.sym("_edata") - elf.sym("_sdata")))


@pytest.mark.parametrize(("board", "app"), ELFS)
def test_loadable_segments_lie_in_the_parts_memories(board: str, app: str) -> None:
    part = load_board(board)
    flash = part.flash[0]
    for paddr, vaddr, memsz, data in Elf(elf_path(board, app)).segments:
        if data:
            assert flash.contains(paddr, len(data)), f"load image at {paddr:#x}+{len(data):#x} outside flash"
        assert part.memory_at(vaddr, max(memsz, 1)) is not None, f"segment at {vaddr:#x}+{memsz:#x} outside memory"


def _mnemonics(code: bytes, addr: int) -> set[str]:
    md = capstone.Cs(capstone.CS_ARCH_ARM, capstone.CS_MODE_THUMB | capstone.CS_MODE_MCLASS)
    return {m.split(".")[0] for _a, _s, m, _o in md.disasm_lite(code, addr)}


@pytest.mark.parametrize("board", BOARDS)
def test_dsp_app_uses_the_dsp_instructions(board: str) -> None:
    elf = Elf(elf_path(board, "dsp"))
    addr, code = elf.function_code("run_dsp")
    wanted = set("smlad smladx smuad sxtb16 qadd8 qsub16 sadd16 usat16 sel uadd8 ssat smulbb smlabb usada8".split())
    assert wanted - _mnemonics(code, addr) == set()
    ref_addr, ref_code = elf.function_code("run_ref")  # the plain-C model must not use them
    assert {"smlad", "smuad", "usada8", "sel", "qadd8"} & _mnemonics(ref_code, ref_addr) == set()


@pytest.mark.parametrize("board", BOARDS)
def test_fpu_app_uses_the_fpu_instructions(board: str) -> None:
    elf = Elf(elf_path(board, "fpu"))
    found: set[str] = set()
    for name in ("main", "fused", "dot"):
        addr, code = elf.function_code(name)
        found |= _mnemonics(code, addr)
    assert {"vsqrt", "vdiv", "vfma", "vcvt"} <= found


def test_elfs_do_not_contain_the_checkout_path() -> None:
    needle = str(ROOT).encode()
    leaking = [f"{b}/{a}" for b, a in ELFS if needle in elf_path(b, a).read_bytes()]
    assert leaking == []


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("arm-none-eabi-gcc") is None, reason="arm-none-eabi-gcc not installed")
def test_committed_elfs_match_a_fresh_build() -> None:
    run = subprocess.run(
        [sys.executable, str(FIRMWARE / "tools" / "check_stale.py")], capture_output=True, text=True, timeout=600
    )
    assert run.returncode == 0, run.stdout + run.stderr


QEMU = shutil.which("qemu-system-arm")


@pytest.mark.skipif(QEMU is None, reason="qemu-system-arm not installed")
@pytest.mark.parametrize(
    ("app", "status", "text"),
    [
        ("hello", 0, "Hello from simcore on cortex-m4!\npi is about 3.142\n"),
        ("exitcode", 3, "exitcode: returning 3 from main on cortex-m4\n"),
        ("fpu", 0, "fpu: all checks passed\n"),
        ("dsp", 0, "DSP OK\n"),
        ("stackhog", 0, "stackhog: frame 136 bytes per level\n"),
        ("stackoverflow", 2, "STACK OVERFLOW"),
        ("semihost_exit", 0, "semihost_exit: console line\n"),
        ("compute", 0, "checksum 0x0a739e25\n"),
    ],
)
def test_generic_board_runs_on_qemu_mps2_an386(app: str, status: int, text: str) -> None:
    """An independent emulator: QEMU's MPS2-AN386 has the same CMSDK UART at 0x40004000."""
    run = subprocess.run(
        [QEMU, *"-M mps2-an386 -nographic -semihosting -monitor none -kernel".split(), str(elf_path("cortex-m4", app))],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert text in run.stdout
    assert run.returncode == status


@pytest.mark.skipif(QEMU is None, reason="qemu-system-arm not installed")
@pytest.mark.parametrize(
    ("app", "status", "text"),
    [
        ("hello", 0, "Hello from simcore on stm32f407vg!\npi is about 3.142\n"),
        ("exitcode", 3, "exitcode: returning 3 from main on stm32f407vg\n"),
        ("dsp", 0, "DSP OK\n"),
    ],
)
def test_stm32f407vg_build_runs_on_qemu_netduinoplus2(app: str, status: int, text: str) -> None:
    """QEMU's Netduino Plus 2 (STM32F405) has the F4 USART2 at 0x40004400 as its second serial port."""
    args = "-M netduinoplus2 -nographic -semihosting -monitor none -serial null -serial stdio -kernel".split()
    run = subprocess.run([QEMU, *args, str(elf_path("stm32f407vg", app))], capture_output=True, text=True, timeout=60)
    assert text in run.stdout
    assert run.returncode == status


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("arm-none-eabi-gcc") is None, reason="arm-none-eabi-gcc not installed")
def test_stack_size_variable_moves_stack_limit_exactly(tmp_path: Path) -> None:
    out = tmp_path / "bin"
    vars_ = [f"BUILD_DIR={tmp_path / 'build'}", f"BIN_DIR={out}", "BOARDS=nrf52840", "APPS=hello", "STACK_SIZE=12288"]
    run = subprocess.run(["make", "-C", str(FIRMWARE), *vars_], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    elf = Elf(out / "nrf52840" / "hello.elf")
    assert elf.sym("__StackTop") == 0x20040000
    assert elf.sym("__StackLimit") == 0x20040000 - 12288 == elf.sym("__HeapLimit")
    assert sorted(p.name for p in out.glob("*/*.elf")) == ["hello.elf"]
