"""One gdb session over TCP on a :class:`~simcore.machine.Machine` (all-stop mode, one thread).

The protocol thread of gdb's manual (appendix E): ``?``, ``g``/``G``, ``p``/``P``, ``m``/``M``/``X``,
``Z0``-``Z4``/``z0``-``z4`` (software and hardware breakpoints are both code hooks; write, read
and access watchpoints), ``c``/``s``/``vCont``, Ctrl-C (0x03), ``qXfer:features:read``
(the M-profile target description of :mod:`simcore.gdb.tdesc`), ``qRcmd`` (``monitor``
commands), ``D`` (detach: the run goes on without breakpoints) and ``k`` (kill: the run ends).
Execution happens in the calling thread; a reader thread only collects packets and turns
Ctrl-C into a pause request. Virtual time stands still while the target is stopped.
"""

from __future__ import annotations

import queue
import socket
import sys
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, TextIO

import unicorn

from simcore.debug import Debugger, Pause
from simcore.errors import BadInputError
from simcore.gdb import rsp
from simcore.gdb.tdesc import Reg, registers, target_xml
from simcore.runtypes import Stop, StopKind

if TYPE_CHECKING:
    from simcore.machine import Machine

SIGINT, SIGTRAP, SIGSEGV, SIGXCPU = 2, 5, 11, 24  # gdb's signal numbers (gdb/signals.def)
MAX_PACKET = 0x4000


def parse_address(text: str) -> tuple[str, int]:
    """``:3333``, ``3333``, ``localhost:3333``, ``0.0.0.0:3333``, ``[::1]:3333``: loopback unless a host is given."""
    host, sep, port = text.rpartition(":")
    if not sep:
        host, port = "", text
    host = host.strip("[]") or "127.0.0.1"
    try:
        number = int(port)
    except ValueError:
        number = -1
    if not 0 <= number <= 65535:
        raise BadInputError(f"--gdb {text}: expected [HOST]:PORT with a port number 0-65535 (e.g. --gdb :3333; "
                            "the server listens on loopback unless a host is given)")
    return host, number


class GdbServer:
    """Listen at once (so the port is known), then ``serve()`` one gdb connection.

    ``serve`` returns ``"detach"`` (gdb detached or disconnected: the machine may run on),
    ``"kill"`` (gdb killed the target: the run is over) or ``"exited"`` (the run ended while gdb
    watched and gdb then went away).
    """

    def __init__(self, machine: Machine, host: str = "127.0.0.1", port: int = 3333,
                 log: TextIO | None = None) -> None:
        self.m = machine
        self.dbg: Debugger = machine.debugger if machine.debugger is not None else Debugger(machine)
        self.regs: list[Reg] = registers(machine.board.fpu)
        self.xml = target_xml(self.regs).encode()
        self.log = log
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            self.sock.bind((host, port))
        except OSError as exc:
            self.sock.close()
            raise BadInputError(f"--gdb {host}:{port}: cannot listen there ({exc.strerror or exc})") from exc
        self.sock.listen(1)
        self.address: tuple[str, int] = self.sock.getsockname()[:2]
        self._conn: socket.socket | None = None
        self._packets: queue.Queue[bytes | None] = queue.Queue()
        self._ack = True
        self._running = threading.Event()
        self._interrupted = threading.Event()
        self._last: Stop | Pause | None = None  # the stop gdb was last told about
        self._ended_told = False
        self._bp_refs: dict[int, list[int]] = {}  # address gdb asked for -> addresses used (IT adjustments)
        self._hw_kind: dict[int, str] = {}
        self.monitor_commands: dict[str, tuple[Callable[[list[str]], str], str]] = {
            "help": (self._mon_help, "this list"),
            "cycles": (self._mon_cycles, "instructions, cycles and virtual time so far"),
            "stop": (self._mon_stop, "why the target stopped"),
            "sensors": (self._mon_sensors, "samples/frames delivered, overruns and drops per sensor"),
            "reset": (self._mon_reset, "back to the state before the first instruction (a snapshot)"),
            "counts": (self._mon_cycles, "same as cycles"),
        }
        self._boot = None
        if not machine._started:
            from simcore.snapshot import Snapshot

            machine.start()
            self._boot = Snapshot.take(machine)

    # --- session -----------------------------------------------------------------------------
    def serve(self) -> str:
        conn, _peer = self.sock.accept()
        self.sock.close()
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._conn = conn
        reader = threading.Thread(target=self._reader, name="gdb-reader", daemon=True)
        reader.start()
        try:
            while True:
                packet = self._packets.get()
                if packet is None:
                    return "exited" if self.m.stop is not None else "detach"
                outcome = self._handle(packet)
                if outcome is not None:
                    return outcome
        finally:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            conn.close()

    def _reader(self) -> None:
        parser = rsp.PacketParser()
        assert self._conn is not None
        while True:
            try:
                data = self._conn.recv(4096)
            except OSError:
                data = b""
            if not data:
                self._packets.put(None)
                return
            for kind, payload, bad in parser.feed(data):
                if kind == "interrupt":
                    self._interrupt()
                elif kind == "packet":
                    if self._ack:
                        self._raw(b"-" if bad else b"+")
                    if not bad:
                        self._trace("<-", payload)
                        self._packets.put(payload)

    def _interrupt(self) -> None:
        """Ctrl-C: ask the run loop to pause until it did (a request can race with the loop re-arming)."""
        if not self._running.is_set() or self._interrupted.is_set():
            return
        self._interrupted.set()

        def hammer() -> None:
            while self._running.is_set() and self._interrupted.is_set():
                self.dbg.interrupt("interrupted (Ctrl-C from gdb)")
                time.sleep(0.02)

        threading.Thread(target=hammer, name="gdb-interrupt", daemon=True).start()

    def _raw(self, data: bytes) -> None:
        assert self._conn is not None
        try:
            self._conn.sendall(data)
        except OSError:
            pass

    def _send(self, payload: bytes | str) -> None:
        if isinstance(payload, str):
            payload = payload.encode()
        self._trace("->", payload)
        self._raw(rsp.frame(payload))

    def _trace(self, way: str, payload: bytes) -> None:
        if self.log is not None:
            text = payload[:200].decode("latin-1")
            self.log.write(f"gdb {way} {text}{'...' if len(payload) > 200 else ''}\n")

    # --- packets -------------------------------------------------------------------------------
    def _handle(self, p: bytes) -> str | None:
        head = p[:1]
        try:
            if p.startswith(b"qSupported"):
                self._send(f"PacketSize={MAX_PACKET:x};qXfer:features:read+;swbreak+;hwbreak+;"
                           "vContSupported+;QStartNoAckMode+")
            elif p == b"QStartNoAckMode":
                self._send("OK")
                self._ack = False
            elif p.startswith(b"qXfer:features:read:"):
                self._send(self._xfer(p))
            elif p == b"?":
                self._send(self._stop_reply(self._last))
            elif p == b"qAttached" or p.startswith(b"qAttached:"):
                self._send("1")
            elif p == b"qC":
                self._send("QC1")
            elif p == b"qfThreadInfo":
                self._send("m1")
            elif p == b"qsThreadInfo":
                self._send("l")
            elif p.startswith(b"qThreadExtraInfo"):
                self._send(rsp.hex_encode(f"{self.m.board.name} core".encode()))
            elif head == b"H" or head == b"T":
                self._send("OK")
            elif p.startswith(b"qSymbol"):
                self._send("OK")
            elif p.startswith(b"qRcmd,"):
                self._monitor(rsp.hex_decode(p[6:]).decode("utf-8", "replace"))
            elif head == b"g":
                self._send(b"".join(self._reg_bytes(r) for r in self.regs).hex())
            elif head == b"G":
                self._write_all(rsp.hex_decode(p[1:]))
                self._send("OK")
            elif head == b"p":
                n = int(p[1:], 16)
                self._send(self._reg_bytes(self.regs[n]).hex() if n < len(self.regs) else "E00")
            elif head == b"P":
                num, _, val = p[1:].partition(b"=")
                n = int(num, 16)
                if n >= len(self.regs):
                    self._send("E00")
                else:
                    self._write_reg(self.regs[n], rsp.hex_decode(val))
                    self._send("OK")
            elif head == b"m":
                addr, length = (int(x, 16) for x in p[1:].split(b","))
                self._send(self._read_mem(addr, min(length, MAX_PACKET // 2)))
            elif head in (b"M", b"X"):
                spec, _, data = p[1:].partition(b":")
                addr, length = (int(x, 16) for x in spec.split(b","))
                raw = rsp.hex_decode(data) if head == b"M" else data
                self._send("OK" if self._write_mem(addr, raw[:length]) else "E01")
            elif head in (b"Z", b"z"):
                self._send(self._point(p))
            elif p == b"vCont?":
                self._send("vCont;c;C;s;S;t")
            elif p.startswith(b"vCont;"):
                return self._vcont(p[6:].decode())
            elif head in (b"c", b"C", b"s", b"S"):
                addr = p[1:].split(b";")[-1] if head in (b"C", b"S") and b";" in p else p[1:]
                if addr and head in (b"c", b"s"):
                    self._set_pc(int(addr, 16))
                return self._resume(step=head in (b"s", b"S"))
            elif head == b"D":
                self._send("OK")
                return "detach"
            elif head == b"k":
                return "kill"
            elif p.startswith(b"vKill"):
                self._send("OK")
                return "kill"
            else:
                self._send("")  # not supported: the empty reply (E.1)
        except (ValueError, IndexError):
            self._send("E01")
        return None

    def _xfer(self, p: bytes) -> bytes:
        annex, _, span = p[len(b"qXfer:features:read:"):].rpartition(b":")
        if annex != b"target.xml":
            return b"E00"
        off, length = (int(x, 16) for x in span.split(b","))
        chunk = self.xml[off:off + length]
        return (b"l" if off + length >= len(self.xml) else b"m") + chunk

    # --- registers ---------------------------------------------------------------------------
    def _reg_bytes(self, reg: Reg) -> bytes:
        value = self.m.uc.reg_read(reg.uc_id)
        if reg.name == "pc":
            value = self.m.pc()
        return (value & ((1 << reg.bits) - 1)).to_bytes(reg.bits // 8, "little")

    def _write_reg(self, reg: Reg, data: bytes) -> None:
        value = int.from_bytes(data[: reg.bits // 8], "little")
        if reg.name == "pc":
            self._set_pc(value)
        else:
            self.m.uc.reg_write(reg.uc_id, value)

    def _write_all(self, data: bytes) -> None:
        pos = 0
        for reg in self.regs:
            n = reg.bits // 8
            if pos + n > len(data):
                break
            if self._reg_bytes(reg) != data[pos:pos + n]:
                self._write_reg(reg, data[pos:pos + n])
            pos += n

    def _set_pc(self, value: int) -> None:
        if value & ~1 != self.m.pc():
            self.dbg.settle()
            self.m.uc.reg_write(unicorn.arm_const.UC_ARM_REG_PC, value | 1)

    # --- memory ------------------------------------------------------------------------------
    def _read_mem(self, addr: int, length: int) -> bytes:
        try:
            return rsp.hex_encode(self.m.mem_read(addr, length))
        except unicorn.UcError:
            pass
        out = bytearray()  # partly readable: as much as can be read (gdb accepts a short reply)
        for a in range(addr, addr + length):
            try:
                out += self.m.mem_read(a, 1)
            except unicorn.UcError:
                break
        return rsp.hex_encode(bytes(out)) if out else b"E01"

    def _write_mem(self, addr: int, data: bytes) -> bool:
        if not data:
            return True
        try:
            self.m.mem_write(addr, data)
        except unicorn.UcError:
            return False
        mem = self.m.board.memory_at(self.m.board.resolve_alias(addr), 1)
        if mem is not None and mem.executable:  # code changed: retranslate and re-price it
            self.m.uc.ctl_remove_cache(addr & ~1, addr + len(data) + 4)
            self.m.hot.forget_code()
        return True

    # --- breakpoints and watchpoints ------------------------------------------------------------
    def _point(self, p: bytes) -> str:
        insert = p[:1] == b"Z"
        kind, addr_s, length_s = p[1:].split(b";")[0].split(b",")[:3]
        addr, length = int(addr_s, 16), int(length_s, 16)
        if kind in (b"0", b"1"):
            if insert:
                used = self.dbg.add_breakpoint(addr)
                self._bp_refs.setdefault(addr, []).append(used)
                self._hw_kind[used] = "hwbreak" if kind == b"1" else "swbreak"
            else:
                used_list = self._bp_refs.get(addr)
                if used_list:
                    used = used_list.pop()
                    if not used_list:
                        del self._bp_refs[addr]
                    if not any(used in v for v in self._bp_refs.values()):
                        self.dbg.remove_breakpoint(used)
            return "OK"
        watch = {b"2": "write", b"3": "read", b"4": "access"}.get(kind)
        if watch is None:
            return ""
        if insert:
            self.dbg.add_watchpoint(addr, length, watch)
        else:
            self.dbg.remove_watchpoint(addr, length, watch)
        return "OK"

    # --- running --------------------------------------------------------------------------------
    def _vcont(self, actions: str) -> str | None:
        for action in actions.split(";"):
            verb, _, thread = action.partition(":")
            if thread not in ("", "1", "-1", "p1", "p1.1", "p1.-1"):
                continue
            if verb[:1] in ("s", "S"):
                return self._resume(step=True)
            if verb[:1] in ("c", "C"):
                return self._resume(step=False)
            if verb == "t":
                self._send("OK")
                return None
        self._send("E01")
        return None

    def _resume(self, step: bool) -> str | None:
        m = self.m
        if m.stop is not None:  # the run ended earlier: gdb learns how it ended
            self._send(self._ended(m.stop))
            return None
        self._interrupted.clear()
        self._running.set()
        try:
            stop = self.dbg.step() if step else self.dbg.cont()
        finally:
            self._running.clear()
            self._interrupted.clear()
            if m.pause_pending is not None and m.pause_pending.kind == "interrupt":
                m.pause_pending = None  # a Ctrl-C that arrived as the target stopped anyway
        if m.stop is not None:
            self._console(f"simcore: stopped: {m.stop.message}\n")
        self._send(self._stop_reply(stop))
        return None

    def _console(self, text: str) -> None:
        """An ``O`` packet: text gdb prints while the target runs (before the stop reply)."""
        self._send(b"O" + rsp.hex_encode(text.encode()))

    def _stop_reply(self, stop: Stop | Pause | None) -> str:
        self._last = stop
        if stop is None:
            return f"T{SIGTRAP:02x}thread:1;"
        if self.m.stop is stop:
            if stop.kind == "exit":
                self._ended_told = True
                return f"W{(stop.exit_code or 0) & 0xFF:02x}"
            sig = {StopKind.FAULT: SIGSEGV, StopKind.LOCKUP: SIGSEGV, StopKind.BUDGET: SIGXCPU,
                   StopKind.TIMEOUT: SIGXCPU}.get(stop.kind, SIGTRAP)
            return f"T{sig:02x}thread:1;"
        if stop.kind == "interrupt":
            return f"T{SIGINT:02x}thread:1;"
        if stop.kind == "watchpoint":
            name = {"write": "watch", "read": "rwatch", "access": "awatch"}[stop.details.get("watch", "write")]
            return f"T{SIGTRAP:02x}thread:1;{name}:{stop.details['address']:x};"
        if stop.kind == "breakpoint" and stop.pc is not None:
            return f"T{SIGTRAP:02x}thread:1;{self._hw_kind.get(stop.pc, 'swbreak')}:;"
        return f"T{SIGTRAP:02x}thread:1;"

    def _ended(self, stop: Stop) -> str:
        self._ended_told = True
        return f"W{stop.exit_status & 0xFF:02x}"

    # --- monitor ----------------------------------------------------------------------------------
    def _monitor(self, command: str) -> None:
        words = command.split()
        entry = self.monitor_commands.get(words[0] if words else "help")
        text = entry[0](words[1:]) if entry else f"unknown monitor command {command!r}: try 'monitor help'"
        if not text.endswith("\n"):
            text += "\n"
        self._console(text)
        self._send("OK")

    def _mon_help(self, _args: list[str]) -> str:
        return "simcore monitor commands:\n" + "".join(
            f"  {name:<8} {what}\n" for name, (_fn, what) in self.monitor_commands.items())

    def _mon_cycles(self, _args: list[str]) -> str:
        m = self.m
        seconds = m.now_seconds()  # integrated over the clock timeline: the firmware may have changed the clock
        return (f"instructions {m.instructions:,}\ncycles       {m.cycles:,} ({m.analyzer.cycle_model.name} model), "
                f"{m.system.sleep_cycles:,} asleep\nvirtual time {seconds * 1e3:.6f} ms, core clock now "
                f"{m.mhz:g} MHz\n")

    def _mon_stop(self, _args: list[str]) -> str:
        stop = self.m.stop or self._last
        return f"{stop.kind}: {stop.message}" if stop is not None else "stopped before the first instruction"

    def _mon_sensors(self, _args: list[str]) -> str:
        from simcore.sensorbind import sensor_stats, summary_lines

        lines = summary_lines(sensor_stats(self.m.peripherals))
        return "\n".join(lines) if lines else "no sensor delivered anything"

    def _mon_reset(self, _args: list[str]) -> str:
        if self._boot is None:
            return "reset: not available (the server started after the run began)"
        self._boot.restore(self.m)
        self._last = None
        return "reset: back at the reset vector, counters at zero"


def serve_until_done(machine: Machine, address: str, log: TextIO | None = None,
                     announce: TextIO | None = sys.stderr) -> str:
    """``--gdb ADDRESS`` for ``simcore run``: serve one session; after a detach, breakpoints are gone."""
    host, port = parse_address(address)
    server = GdbServer(machine, host, port, log=log)
    if announce is not None:
        h, p = server.address
        announce.write(f"simcore: gdb server on {h}:{p}: waiting for gdb "
                       f"(gdb-multiarch {machine.fw.path} -ex 'target remote {h}:{p}')\n")
        announce.flush()
    outcome = server.serve()
    server.dbg.clear()
    if outcome == "kill" and machine.stop is None:
        machine.stop = Stop(StopKind.INTERRUPTED, "killed by the debugger", pc=machine.pc())
    return outcome
