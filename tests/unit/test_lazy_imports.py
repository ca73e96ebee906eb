"""A plain run leaves out what it does not need (issue 16 start-up): no capstone, pyelftools or numpy in
`simcore run`, on kit boards too (their chip models load numpy only once a recording is read), and what
replaced capstone on that path finds what capstone finds (simcore.lazycs)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from simcore.board import builtin_boards, load_board
from simcore.cycles import divide_sites, divide_sites_in
from simcore.elf import load_elf
from simcore.lazycs import thumb
from tests.conftest import FIRMWARE, ROOT, elf

HEAVY = ("capstone", "elftools", "numpy")
PROBE = """
import json, sys
from simcore.cli import main
status = main(sys.argv[1:])
print(json.dumps({"status": status, "modules": sorted({m.split(".")[0] for m in sys.modules})}), file=sys.stderr)
"""


def _probe(*args: str) -> tuple[int, set[str], str]:
    """`simcore ARGS` in a fresh interpreter: its exit status, the top-level packages it imported, its output."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True, env=env, cwd=ROOT,
                          timeout=120)
    last = json.loads(proc.stderr.strip().splitlines()[-1])
    return last["status"], set(last["modules"]), proc.stdout + proc.stderr


def _modules_after(*args: str) -> tuple[int, set[str]]:
    status, modules, _out = _probe(*args)
    return status, modules


@pytest.mark.parametrize("board", ["stm32f407vg", "nrf52840"])
def test_plain_run_imports_no_disassembler_elf_library_or_numpy(board: str) -> None:
    status, modules = _modules_after("run", str(elf(board, "hello")), "--board", board, "-q")
    assert status == 0
    assert "unicorn" in modules  # the probe sees what the run imported
    assert not modules & set(HEAVY), sorted(modules & set(HEAVY))


KIT_BOARDS = [b for b in builtin_boards() if load_board(b).devices]  # sensor chips on their buses


def _hello(board: str) -> Path:
    """The board's own hello.elf, else its part's (the board's register table names the part)."""
    own = FIRMWARE / board / "hello.elf"
    return own if own.exists() else elf(str(load_board(board).svd), "hello")


def test_kit_boards_are_found() -> None:
    assert {"b-l475e-iot01a", "stm32f4-discovery", "arduino-nano-33-ble-sense", "arduino-nano-33-ble-sense-rev2",
            "stm32f407-ov7670"} <= set(KIT_BOARDS)


@pytest.mark.parametrize("board", KIT_BOARDS)
def test_kit_board_run_without_recordings_imports_no_numpy(board: str) -> None:
    status, modules = _modules_after("run", str(_hello(board)), "--board", board, "-q")
    assert status == 0
    assert "unicorn" in modules
    assert not modules & set(HEAVY), sorted(modules & set(HEAVY))


def test_kit_board_run_with_recordings_reads_them_without_numpy() -> None:
    """The same run with the IoT node's microphone and IMU fed: the recordings are opened and checked (the
    readers use the standard library) and the chips report their sources, but hello never starts a sensor, so
    numpy never loads."""
    data = ROOT / "examples" / "data"
    wav, csv = data / "audio_events_16k.wav", data / "imu_walk_100hz.csv"
    status, modules, out = _probe("run", str(_hello("b-l475e-iot01a")), "--board", "b-l475e-iot01a", "-q",
                                  "--sensor", f"mic={wav}", "--sensor", f"imu={csv}")
    assert status == 0
    assert "numpy" not in modules
    assert f"sensor mic (mp34dt01) <- {wav.name}" in out and f"sensor imu (lsm6dsl) <- {csv.name}" in out, out


def test_firmware_reading_a_recording_loads_numpy_then() -> None:
    """Firmware that starts the microphone reads samples: numpy loads at that first read, and the run ends as it
    did (the mic delivered its samples)."""
    wav = ROOT / "models" / "trained" / "kws_demo.wav"
    status, modules, out = _probe("run", str(elf("arduino-nano-33-ble-sense", "kws_mic")), "--board",
                                  "arduino-nano-33-ble-sense", "-q", "--max-instructions", "20M",
                                  "--sensor", f"mic={wav}")
    assert status == 124, out  # the budget: the firmware was still listening
    assert "numpy" in modules


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "simcore", *args], capture_output=True, text=True,
                          env=dict(os.environ, PYTHONPATH=str(ROOT)), cwd=ROOT, timeout=120)


def test_every_command_is_listed_and_parsed() -> None:
    """The parsers of compare/test/bench are built only for them, but `simcore --help` lists every command,
    each one's --help works, and a misspelt command is told the full list."""
    top = _cli("--help")
    assert top.returncode == 0
    for command in ("run", "size", "boards", "profile", "compare", "test", "bench"):
        assert command in top.stdout
        sub = _cli(command, "--help")
        assert sub.returncode == 0 and f"simcore {command}" in sub.stdout, sub.stderr
    wrong = _cli("bnech")
    assert wrong.returncode == 2 and "'bench'" in wrong.stderr and "'run'" in wrong.stderr


def test_divides_found_from_encodings_equal_capstone_on_every_elf() -> None:
    """divide_sites_in (no disassembler) against capstone's divide_sites over every function of every
    committed ELF, where capstone decodes the function linearly."""
    md = thumb(detail=True)
    total = 0
    for path in sorted(FIRMWARE.glob("*/*.elf")):
        fw = load_elf(path)
        for sym in fw.symbols:
            if sym.kind != "func" or not sym.size:
                continue
            code = fw.read_loaded(sym.addr, sym.size)
            if code is None:
                continue
            insns = list(md.disasm(code, sym.addr))
            decoded = sum(i.size for i in insns)
            want = divide_sites([i for i in insns if i.id])
            assert divide_sites_in(code[:decoded], sym.addr) == want, (path, sym.name)
            total += len(want)
    assert total > 100  # the corpus has divides (printf, the runtime's quantisation, div_bench)


def test_encoding_decoder_on_known_words() -> None:
    """SDIV r0, r1, r2 = FB91 F0F2; UDIV r3, r4, r5 = FBB4 F3F5 (ARMv7-M A7.7.127 / A7.7.195), after a 16-bit
    NOP (BF00) and a 32-bit instruction whose halfwords would look like a divide when misaligned."""
    from unicorn import arm_const as R

    words = [0xBF00, 0xF8D0, 0xFB90, 0xFB91, 0xF0F2, 0xFBB4, 0xF3F5]  # nop; ldr.w pc?, imm FB90; sdiv; udiv
    code = b"".join(w.to_bytes(2, "little") for w in words)
    sites = divide_sites_in(code, 0x1000)
    assert [(s.addr, s.rn, s.rm, s.signed) for s in sites] == [
        (0x1006, R.UC_ARM_REG_R1, R.UC_ARM_REG_R2, True), (0x100A, R.UC_ARM_REG_R4, R.UC_ARM_REG_R5, False)]
    cs = [i for i in thumb(detail=True).disasm(code, 0x1000)]
    assert [i.mnemonic for i in cs][-2:] == ["sdiv", "udiv"]
    assert divide_sites(cs) == sites
