"""The gdb server: gdb-multiarch in batch mode against ``simcore run --gdb``, and the protocol by hand.

What a gdb session must not change: the counts. Each session's ``--json`` figures equal the
same run without gdb.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import unicorn

from simcore import api
from simcore.gdb import rsp
from simcore.gdb.server import GdbServer
from simcore.target import Target
from tests.conftest import ROOT, elf

GDB = shutil.which("gdb-multiarch")
needs_gdb = pytest.mark.skipif(GDB is None, reason="gdb-multiarch is not installed (apt-get install gdb-multiarch)")


def gdb_session(tmp_path: Path, board: str, app: str, commands: list[str]) -> tuple[str, dict, str]:
    """Run ``simcore run --gdb :0``, drive it with gdb in batch mode; (gdb output, run JSON, simcore stderr)."""
    assert GDB is not None
    out_json = tmp_path / "run.json"
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    sim = subprocess.Popen([sys.executable, "-m", "simcore", "run", str(elf(board, app)), "--board", board,
                            "--gdb", ":0", "-q", "--json", str(out_json)], stderr=subprocess.PIPE, text=True,
                           env=env, cwd=ROOT)
    assert sim.stderr is not None
    first = sim.stderr.readline()
    port = re.search(r"127\.0\.0\.1:(\d+)", first)
    assert port, first
    script = tmp_path / "session.gdb"
    script.write_text("\n".join(["set pagination off", "set confirm off",
                                 f"target remote 127.0.0.1:{port.group(1)}", *commands]) + "\n")
    gdb = subprocess.run([GDB, "-batch", "-nx", "-x", str(script), str(elf(board, app))], capture_output=True,
                         text=True, timeout=120, cwd=ROOT / "firmware")
    rest = sim.stderr.read()
    assert sim.wait(timeout=120) == 0, rest
    return gdb.stdout + gdb.stderr, json.loads(out_json.read_text()), first + rest


@needs_gdb
def test_gdb_session_breakpoint_step_watch_backtrace_detach(tmp_path):
    out, run, _err = gdb_session(tmp_path, "stm32f407vg", "systick", [
        "break SysTick_Handler", "continue",
        "bt", "print ticks", "print/x $xpsr", "info registers pc msp primask",
        "stepi", "print $pc",
        "watch ticks", "continue", "delete",
        "break main.c:58", "continue", "print ticks",
        "monitor cycles", "detach"])
    assert "Breakpoint 1, SysTick_Handler () at apps/systick/main.c:27" in out
    # the exception frame: gdb unwinds from the handler into the interrupted main()
    assert re.search(r"#0\s+SysTick_Handler \(\).*\n#1\s+<signal handler called>\n#2\s+.*main \(\)", out), out
    assert "$1 = 0" in out
    assert re.search(r"\$2 = 0x[0-9a-f]*0f\b", out)  # IPSR = 15: SysTick
    assert re.search(r"pc\s+0x[0-9a-f]+\s+0x[0-9a-f]+ <SysTick_Handler>", out)
    assert re.search(r"\$3 = \(void \(\*\)\(\)\) 0x[0-9a-f]+ <SysTick_Handler\+2>", out)
    assert "Hardware watchpoint 2: ticks" in out and "Old value = 0" in out and "New value = 1" in out
    assert "$4 = 200" in out  # main woke from wfi at tick 200: SysTick kept time while gdb looked
    assert re.search(r"instructions [\d,]+\ncycles +[\d,]+ \(cortex-m4 model\)", out)
    assert "detached" in out
    ref = api.run(elf("stm32f407vg", "systick"), "stm32f407vg")
    assert (run["instructions"], run["cycles"], run["exit_status"]) == (ref.instructions, ref.cycles, 0)
    assert run["console"] == ref.text and run["stack"]["used"] == ref.stack_used


@needs_gdb
def test_gdb_unwinds_an_fp_exception_frame_and_finishes_out_of_the_handler(tmp_path):
    out, run, err = gdb_session(tmp_path, "cortex-m4", "fpu_irq", [
        "break SysTick_Handler", "continue", "continue", "bt", "p/x $lr", "info registers s0 fpscr",
        "finish", "delete", "continue"])
    assert re.search(r"#1\s+<signal handler called>\n#2\s+work \(", out), out
    assert "$1 = 0xffffffe9" in out  # EXC_RETURN: thread mode, MSP, extended (FP) frame
    assert re.search(r"s0\s+[-\d.e+]+\s+\(raw 0x[0-9a-f]{8}\)", out)
    # finish: gdb breaks at the return address in the interrupted work() (through the exception return)
    assert re.search(r"fpscr .*\nwork \(n=n@entry=\d+\) at apps/fpu_irq/main.c:\d+", out), out
    assert "exited normally" in out and "simcore: stopped: firmware exited with code 0" in out
    ref = api.run(elf("cortex-m4", "fpu_irq"), "cortex-m4")
    assert (run["instructions"], run["cycles"]) == (ref.instructions, ref.cycles)


@needs_gdb
def test_gdb_on_the_clock_model_hbreak_monitor_reset_read_and_access_watchpoints(tmp_path):
    """A part with the SVD bus and the clock model (HSE -> PLL 168 MHz): hardware breakpoint,
    ``monitor cycles`` on the clock timeline, ``monitor reset`` (a snapshot restore) and the
    run from there, read and access watchpoints, a peripheral register through its model; the
    session's figures (counts, clock timeline, energy) equal a plain run's."""
    from simcore.api import prepare

    probe = prepare(elf("stm32f407vg", "clock_max"), "stm32f407vg")  # where the 2nd tick is, without gdb
    hits: list[float] = []

    def at_handler(_uc, address, _size, _user) -> None:  # the block is counted whole: take its tail off
        s = probe.hot.state
        _n, tail = probe.hot.info(s.last_addr, s.last_size).tail(address)
        hits.append(probe.clocks.timeline.seconds_at(s.cycle_count - tail))

    handler = probe.fw.symbol("SysTick_Handler").addr
    probe.uc.hook_add(unicorn.UC_HOOK_CODE, at_handler, begin=handler, end=handler)
    probe.run()
    out, run, _err = gdb_session(tmp_path, "stm32f407vg", "clock_max", [
        "hbreak SysTick_Handler", "continue", "continue", "print ticks", "monitor cycles",
        "monitor reset", "maintenance flush register-cache", "print $pc",
        "continue", "print ticks", "delete",
        "rwatch ticks", "continue", "continue", "delete",
        "awatch ticks", "continue", "delete",
        "x/xw 0x40023800", "continue"])
    assert "Hardware assisted breakpoint 1 at" in out and out.count("Breakpoint 1, SysTick_Handler ()") == 3
    assert "$1 = 1" in out  # the second tick's handler, before its increment
    seconds = re.search(r"virtual time ([\d.]+) ms", out)
    assert seconds and abs(float(seconds.group(1)) - hits[1] * 1e3) < 1e-6  # on the clock timeline
    assert "reset: back at the reset vector" in out and "<Reset_Handler>" in out
    assert "$3 = 0" in out  # after the reset: the first tick again
    assert "Hardware read watchpoint 2: ticks" in out and "Value = 0" in out
    assert "Hardware access (read/write) watchpoint 3: ticks" in out
    cr = re.search(r"0x40023800:\s+0x([0-9a-f]+)", out)  # RCC.CR through the RCC model: HSE and PLL ready
    assert cr and int(cr.group(1), 16) & (1 << 17) and int(cr.group(1), 16) & (1 << 25)
    assert "exited normally" in out
    ref = api.run(elf("stm32f407vg", "clock_max"), "stm32f407vg")
    assert (run["instructions"], run["cycles"], run["sleep_cycles"]) == (ref.instructions, ref.cycles, ref.sleep_cycles)
    assert run["clock"] == ref.clock and run["seconds"] == ref.seconds and run["console"] == ref.text


class Client:
    """The remote protocol by hand (ack mode), for what batch gdb cannot do: Ctrl-C."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.parser = rsp.PacketParser()
        self.pending: list[bytes] = []

    def send(self, payload: str) -> None:
        self.sock.sendall(rsp.frame(payload.encode()))

    def reply(self) -> bytes:
        while not self.pending:
            data = self.sock.recv(4096)
            assert data, "connection closed"
            for kind, payload, bad in self.parser.feed(data):
                if kind == "packet":
                    assert not bad
                    self.sock.sendall(b"+")
                    self.pending.append(payload)
        return self.pending.pop(0)

    def ask(self, payload: str) -> bytes:
        self.send(payload)
        return self.reply()


def test_protocol_registers_memory_interrupt_monitor_and_kill():
    t = Target(elf("cortex-m4", "dut_demo"), board="cortex-m4")
    t.run_until("main")
    t.set("mode", 1)  # after "ready": spins forever, so only Ctrl-C stops it
    server = GdbServer(t.machine, "127.0.0.1", 0)
    outcome: list[str] = []
    thread = threading.Thread(target=lambda: outcome.append(server.serve()))
    thread.start()
    c = Client(server.address[1])
    assert b"qXfer:features:read+" in c.ask("qSupported:swbreak+;hwbreak+")
    xml = c.ask("qXfer:features:read:target.xml:0,3fff")
    assert xml.startswith(b"l") and b"org.gnu.gdb.arm.m-profile" in xml
    assert c.ask("?").startswith(b"T05")
    regs = bytes.fromhex(c.ask("g").decode())
    assert int.from_bytes(regs[15 * 4:16 * 4], "little") == t.address_of("main")
    assert int.from_bytes(bytes.fromhex(c.ask("p10").decode()), "little") >> 24 & 1  # xpsr (16): the T bit
    cpuid = bytes.fromhex(c.ask("me000ed00,4").decode())  # through the SCB model
    assert int.from_bytes(cpuid, "little") == 0x410FC241
    assert c.ask("m10000000,4") == b"E01"  # nothing mapped there on this board
    counter = t.var("counter").address
    assert c.ask(f"M{counter:x},4:2a000000") == b"OK" and t.get("counter") == 42
    c.send("vCont;c")
    for _ in range(50):  # let it spin, then Ctrl-C
        threading.Event().wait(0.02)
    c.sock.sendall(b"\x03")
    assert c.reply().startswith(b"T02")
    spins = t.get("spins")
    assert spins > 0 and "ready" in t.console
    monitor = c.ask("qRcmd," + b"cycles".hex())
    text = b""
    while monitor.startswith(b"O") and monitor != b"OK":
        text += bytes.fromhex(monitor[1:].decode())
        monitor = c.reply()
    assert monitor == b"OK" and f"instructions {t.instructions:,}".encode() in text
    c.send("k")
    thread.join(timeout=30)
    assert outcome == ["kill"]
