"""Differential tests: the same firmware on simcore and on QEMU gives the same console and status.

QEMU (``qemu-system-arm``, Debian's package in CI) runs each ELF with
``-nographic -monitor none -semihosting-config enable=on,target=native`` and the board's
console UART on stdio, without ``-icount``, under a timeout. Boards: simcore's
``mps2-an386`` against ``-M mps2-an386``, and the ``stm32f407vg`` builds against
``-M netduinoplus2`` (an STM32F405: same flash/SRAM map and USART2, QEMU's second serial).

Firmware that never exits (``spin``) is compared on its output up to the point where
simcore diagnoses the idle loop (exit 125) and QEMU is still running when killed: QEMU is killed
once simcore's output has appeared on its console (or after the timeout) and one more second
has passed, so a loaded machine that starts QEMU slowly does not cut its output short.

QEMU's M-profile reset takes SP and PC from the vector table at 0 and ignores the ELF
entry point, so a bare ``--specs=rdimon.specs`` image (code at 0x8000, nothing at 0) would
lock up there. The test gives QEMU a two-word table holding the entry point
(``-device loader,file=vectors.bin,addr=0,force-raw=on``): the start simcore takes by its
boot rule for images without a vector table.
"""

from __future__ import annotations

import json
import os
import shutil
import struct
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import pytest

from simcore.elf import load_elf
from tests.conftest import elf, run_cli

QEMU = shutil.which("qemu-system-arm")
pytestmark = pytest.mark.skipif(QEMU is None, reason="qemu-system-arm is not installed (apt-get install "
                                "qemu-system-arm); the differential tests need it")

SPIN = 125
QEMU_TIMEOUT = 20.0  # seconds for programs that exit
SPIN_GRACE = 1.0  # seconds a never-ending program runs on QEMU after the awaited output, then killed


@dataclass
class Outcome:
    console: str
    status: int | None  # None: still running when killed (never exits)


def qemu(elf_path: Path, machine: str, *, args: tuple[str, ...] = (), cwd: Path | None = None,
         spins_until: str | None = None, tmp: Path | None = None) -> Outcome:
    """Run ``elf_path`` on QEMU; stdout and stderr are the console (UART, semihosting stdout and stderr).

    ``spins_until``: the program never exits; it is killed SPIN_GRACE seconds after this text has
    appeared on its console (or at the timeout), and its status is None.
    """
    assert QEMU is not None
    serial = ["-serial", "stdio"] if machine == "mps2-an386" else ["-serial", "null", "-serial", "stdio"]
    semi = "enable=on,target=native" + "".join(f",arg={a}" for a in (elf_path.name, *args))
    cmd = [QEMU, "-M", machine, "-nographic", "-monitor", "none", *serial, "-semihosting-config", semi,
           "-kernel", str(elf_path)]
    fw = load_elf(elf_path)
    if machine == "mps2-an386" and fw.read_loaded(0, 8) is None:  # bare image: a vector table for the entry
        assert tmp is not None
        vectors = tmp / "vectors.bin"
        vectors.write_bytes(struct.pack("<II", 0x20400000, fw.entry))
        cmd += ["-device", f"loader,file={vectors},addr=0,force-raw=on"]
    if spins_until is not None:
        return _qemu_spinning(cmd, cwd, spins_until.encode())
    done = subprocess.run(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          timeout=QEMU_TIMEOUT, stdin=subprocess.DEVNULL)
    return Outcome(done.stdout.decode("utf-8", "replace"), done.returncode)


def _qemu_spinning(cmd: list[str], cwd: Path | None, until: bytes) -> Outcome:
    """Run a never-ending program: read its console until ``until`` is in it (or the timeout), SPIN_GRACE more, kill."""
    out = bytearray()
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    assert proc.stdout is not None
    reader = threading.Thread(target=lambda: _read_into(proc.stdout, out), daemon=True)
    reader.start()
    deadline = time.monotonic() + QEMU_TIMEOUT
    while until not in out and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    if proc.poll() is None:
        time.sleep(SPIN_GRACE)
    status = proc.poll()
    proc.kill()
    proc.wait()
    reader.join(timeout=5)
    return Outcome(bytes(out).decode("utf-8", "replace"), status)


def _read_into(stream: IO[bytes], out: bytearray) -> None:
    while chunk := os.read(stream.fileno(), 4096):
        out += chunk


def simcore(elf_path: Path, board: str, *extra: str, args: tuple[str, ...] = ()) -> Outcome:
    res = run_cli("run", elf_path, "--board", board, *extra, *(("--", *args) if args else ()))
    return Outcome(res.out, res.status)


CASES = [
    # (board, app, QEMU machine, firmware args)
    ("mps2-an386", "hello", "mps2-an386", ()),
    ("mps2-an386", "exitcode", "mps2-an386", ()),
    ("mps2-an386", "semihost_exit", "mps2-an386", ()),
    ("mps2-an386", "spin_tick", "mps2-an386", ()),
    ("mps2-an386", "mps2_periph", "mps2-an386", ()),  # SCC IDs, CMSDK timer + dual timer IRQs, FPGA I/O
    ("mps2-an386", "rdimon_hello", "mps2-an386", ()),
    ("mps2-an386", "rdimon_hello", "mps2-an386", ("alpha", "beta", "9")),
    ("mps2-an386", "rdimon_layout", "mps2-an386", ()),  # SYS_HEAPINFO, the stack and heap QEMU gives
    # the generic cortex-m4 builds use the same CMSDK UART0 at 0x40004000 and fit the MPS2 code SSRAM
    ("cortex-m4", "hello", "mps2-an386", ()),
    ("cortex-m4", "dsp", "mps2-an386", ()),
    ("cortex-m4", "fpu", "mps2-an386", ()),
    ("cortex-m4", "stackhog", "mps2-an386", ()),
    ("cortex-m4", "spin_tick", "mps2-an386", ()),
    ("stm32f407vg", "hello", "netduinoplus2", ()),
    ("stm32f407vg", "exitcode", "netduinoplus2", ()),
    ("stm32f407vg", "semihost_exit", "netduinoplus2", ()),
    ("stm32f407vg", "dsp", "netduinoplus2", ()),
    ("stm32f407vg", "fpu", "netduinoplus2", ()),
    ("stm32f407vg", "stackhog", "netduinoplus2", ()),
    ("stm32f407vg", "spin_tick", "netduinoplus2", ()),
]


@pytest.mark.parametrize(("board", "app", "machine", "args"), CASES,
                         ids=[f"{b}-{a}{'-args' if x else ''}" for b, a, _m, x in CASES])
def test_same_console_and_status_as_qemu(board: str, app: str, machine: str, args: tuple[str, ...],
                                         tmp_path: Path) -> None:
    path = elf(board, app)
    if not path.exists():
        pytest.skip(f"{path} not built")
    ours = simcore(path, board, args=args)
    theirs = qemu(path, machine, args=args, tmp=tmp_path)
    assert ours.console == theirs.console
    assert ours.status == theirs.status


@pytest.mark.parametrize(("board", "machine"), [("mps2-an386", "mps2-an386"), ("stm32f407vg", "netduinoplus2")])
def test_spinning_firmware_same_output_simcore_stops_at_once(board: str, machine: str, tmp_path: Path) -> None:
    path = elf(board, "spin")
    ours = simcore(path, board)
    theirs = qemu(path, machine, spins_until=ours.console, tmp=tmp_path)
    assert theirs.status is None, "QEMU should still be spinning when killed"
    assert ours.status == SPIN
    assert ours.console == theirs.console
    assert ours.console.endswith("TEST PASSED\n")


def test_masked_idle_loop_is_spinning_on_both(tmp_path: Path) -> None:
    path = elf("mps2-an386", "spin_masked")
    ours = simcore(path, "mps2-an386")
    theirs = qemu(path, "mps2-an386", spins_until=ours.console, tmp=tmp_path)
    assert theirs.status is None and ours.status == SPIN
    assert ours.console == theirs.console == "spin_masked: interrupts masked, idling\n"


def test_rdimon_host_files_with_root_same_as_qemu(tmp_path: Path) -> None:
    path = elf("mps2-an386", "rdimon_files")
    results = []
    for who in ("simcore", "qemu"):
        root = tmp_path / who
        root.mkdir()
        (root / "input.txt").write_text("hello host file\n")
        if who == "simcore":
            results.append(simcore(path, "mps2-an386", "--semihosting-root", str(root)))
        else:
            results.append(qemu(path, "mps2-an386", cwd=root, tmp=tmp_path))
        assert sorted(p.name for p in root.iterdir()) == ["input.txt"]  # out.txt written, then removed
    ours, theirs = results
    assert "input.txt: 16 bytes, read 16: hello host file" in ours.console
    assert "out.txt: HELLO HOST FILE" in ours.console
    assert ours.console == theirs.console
    assert ours.status == theirs.status == 0


def qemu_instructions(elf_path: Path, tmp: Path) -> tuple[Outcome, int]:
    """Run on QEMU with one instruction per translation block and count the blocks executed.

    ``-singlestep`` (QEMU 7.2; later releases call it ``-accel tcg,one-insn-per-tb=on``) makes each
    instruction its own translation block, and ``-d exec,nochain`` logs every block execution, so
    the log has one "Trace" line per executed instruction, IT-block instructions whose condition
    fails included (QEMU translates them as a conditional skip inside their own block).
    """
    assert QEMU is not None
    log = tmp / "exec.log"
    cmd = [QEMU, "-M", "mps2-an386", "-nographic", "-monitor", "none", "-serial", "stdio",
           "-semihosting-config", f"enable=on,target=native,arg={elf_path.name}", "-kernel", str(elf_path),
           "-singlestep", "-d", "exec,nochain", "-D", str(log)]
    done = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=QEMU_TIMEOUT,
                          stdin=subprocess.DEVNULL)
    with log.open("rb") as f:
        count = sum(1 for line in f if line.startswith(b"Trace "))
    return Outcome(done.stdout.decode("utf-8", "replace"), done.returncode), count


@pytest.mark.parametrize(("board", "app"), [("mps2-an386", "it_blocks"), ("cortex-m4", "it_blocks"),
                                            ("mps2-an386", "hello"), ("cortex-m4", "stackhog")])
def test_instruction_count_equals_qemus_with_failing_it_conditions(board: str, app: str, tmp_path: Path) -> None:
    """IT-block instructions whose condition fails execute as NOPs (A7.3.2): both count them."""
    path = elf(board, app)
    theirs, qemu_count = qemu_instructions(path, tmp_path)
    res = run_cli("run", path, "--board", board, "--json", tmp_path / "r.json", "-q")
    ours = json.loads((tmp_path / "r.json").read_text())
    assert res.status == theirs.status == 0
    assert ours["console"] == theirs.console
    assert ours["instructions"] == qemu_count
    skipped_by_code_hook = ours["instructions"] - _code_hook_count(path, board)
    assert skipped_by_code_hook > 0  # the program does have IT instructions whose condition fails


def _code_hook_count(path: Path, board: str) -> int:
    """Instructions a per-instruction UC_HOOK_CODE sees (it is not called for IT instructions that fail)."""
    import unicorn

    from simcore.api import prepare, run_machine

    m = prepare(path, board)
    seen = [0]

    def code(uc: unicorn.Uc, addr: int, size: int, _u: object) -> None:
        seen[0] += 1

    m.uc.hook_add(unicorn.UC_HOOK_CODE, code)
    run_machine(m)
    return seen[0]
