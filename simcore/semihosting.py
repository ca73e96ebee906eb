"""ARM semihosting (Arm "Semihosting for AArch32 and AArch64" v3): `bkpt 0xAB`, op in r0, args at r1.

Every operation of the specification is answered, with QEMU's conventions where the
specification leaves room (failures return -1 and leave the host errno for SYS_ERRNO;
SYS_EXIT's ADP_Stopped_ApplicationExit means status 0; SYS_EXIT_EXTENDED carries the status).
Console operations always work: handles 0/1/2 are pre-opened, ``:tt`` opens the console
(mode 0-3 stdin, 4-7 stdout, 8-11 stderr) and ``:semihosting-features`` reads the feature
bytes (``SHFB`` + EXIT_EXTENDED | STDOUT_STDERR). Host file access (OPEN of other names,
REMOVE, RENAME) is refused unless the user gave a root directory (``--semihosting-root``),
and then confined to it (``..`` and symbolic links may not leave it). SYS_SYSTEM is always
refused. CLOCK, TIME, ELAPSED and TICKFREQ come from the virtual clock (ELAPSED counts core
cycles, TICKFREQ is the core clock), so runs are deterministic. GET_CMDLINE returns the
ELF's name and the arguments given after ``--`` on simcore's command line.

Robustness (the firmware may be hostile): every guest pointer and length goes through one
range-checked reader and writer (:class:`_Guest`); a bad pointer, a buffer that runs off its
memory or a write into flash is -1 with errno EFAULT as QEMU gives it (SYS_READ/SYS_WRITE
return the whole length: nothing transferred), never a host exception. Transfers are capped
per call (SYS_READ/SYS_WRITE report the rest as not transferred, which the specification
allows), strings and file names have a maximum length, at most ``MAX_HANDLES`` files are open
and a file in the root grows to at most ``MAX_FILE_BYTES``. Files are unbuffered, so SYS_FLEN
sees every write.
"""

from __future__ import annotations

import os
import struct
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

ADP_STOPPED_APPLICATION_EXIT = 0x20026
FEATURES_MAGIC = b"SHFB"
FEATURE_EXIT_EXTENDED = 1
FEATURE_STDOUT_STDERR = 2

SYS = {
    "OPEN": 0x01, "CLOSE": 0x02, "WRITEC": 0x03, "WRITE0": 0x04, "WRITE": 0x05, "READ": 0x06,
    "READC": 0x07, "ISERROR": 0x08, "ISTTY": 0x09, "SEEK": 0x0A, "FLEN": 0x0C, "TMPNAM": 0x0D,
    "REMOVE": 0x0E, "RENAME": 0x0F, "CLOCK": 0x10, "TIME": 0x11, "SYSTEM": 0x12, "ERRNO": 0x13,
    "GET_CMDLINE": 0x15, "HEAPINFO": 0x16, "EXIT": 0x18, "EXIT_EXTENDED": 0x20, "ELAPSED": 0x30,
    "TICKFREQ": 0x31,
}
_NAMES = {v: k for k, v in SYS.items()}
_OPEN_MODES = ["rb", "rb", "r+b", "r+b", "wb", "wb", "w+b", "w+b", "ab", "ab", "a+b", "a+b"]
# Linux errno values, as QEMU's semihosting reports them
EPERM, ENOENT, E2BIG, EBADF, EACCES, EFAULT, EINVAL, EMFILE, EFBIG, ENAMETOOLONG = 1, 2, 7, 9, 13, 14, 22, 24, 27, 36
MAX_TRANSFER = 1 << 20  # bytes moved by one SYS_READ / SYS_WRITE; the rest is reported as not transferred
MAX_STRING = 1 << 20  # SYS_WRITE0: a string without a NUL in its first MiB is refused
MAX_NAME = 4096  # file names (PATH_MAX)
MAX_HANDLES = 64  # files open at once (handles 0-2 and :tt/:semihosting-features included)
MAX_FILE_BYTES = 256 << 20  # a file written in the semihosting root grows to at most this


class SemihostingHost(Protocol):
    """What the semihosting layer needs from the machine.

    ``readable``/``writable`` say whether [addr, addr+size) lies in one memory the firmware may
    read (flash or RAM) or write (RAM); ``mem_read``/``mem_write`` are only called after them.
    """

    def mem_read(self, addr: int, size: int) -> bytes: ...
    def mem_write(self, addr: int, data: bytes) -> None: ...
    def readable(self, addr: int, size: int) -> int: ...  # bytes to the end of that memory, or 0
    def writable(self, addr: int, size: int) -> bool: ...
    def console_write(self, data: bytes, source: str) -> None: ...
    def now_cycles(self) -> int: ...
    def cycles_per_second(self) -> float: ...
    def report_unmodelled(self, where: str, detail: str) -> None: ...


@dataclass
class _Handle:
    kind: str  # "stdin" | "stdout" | "stderr" | "file" | "features"
    file: object | None = None
    data: bytes = b""
    pos: int = 0
    name: str = ""


@dataclass
class ExitRequest:
    code: int  # the process exit status (0-255)
    reason: int
    how: str
    value: int = 0  # the status the firmware gave, as a signed 32-bit number


def exit_status(value: int) -> int:
    """The process status for a firmware exit value: its low byte, but never 0 for a nonzero value.

    QEMU passes the value to exit(), so 256 reads as success; simcore gives 1 instead.
    """
    value &= 0xFFFFFFFF
    return 0 if value == 0 else (value & 0xFF) or 1


class _Fault(Exception):
    """A semihosting call that fails in the guest's terms: -1 (or the length) with this errno."""

    def __init__(self, errno: int) -> None:
        self.errno = errno


@dataclass
class _Guest:
    """The one range-checked way semihosting touches guest memory."""

    host: SemihostingHost

    def read(self, addr: int, size: int) -> bytes:
        if size == 0:
            return b""
        if addr < 0 or addr + size > 1 << 32 or not self.host.readable(addr, size):
            raise _Fault(EFAULT)
        return bytes(self.host.mem_read(addr, size))

    def write(self, addr: int, data: bytes) -> None:
        if not data:
            return
        if addr < 0 or addr + len(data) > 1 << 32 or not self.host.writable(addr, len(data)):
            raise _Fault(EFAULT)
        self.host.mem_write(addr, data)

    def words(self, addr: int, n: int) -> tuple[int, ...]:
        return struct.unpack(f"<{n}I", self.read(addr, 4 * n))

    def cstring(self, addr: int, limit: int) -> bytes:
        """The NUL-terminated string at ``addr``: EFAULT if it runs off its memory, ENAMETOOLONG past ``limit``."""
        room = self.host.readable(addr, 1) if 0 <= addr < 1 << 32 else 0
        if not room:
            raise _Fault(EFAULT)
        out = bytearray()
        while len(out) < limit:
            take = min(4096, room - len(out), limit - len(out))
            if take <= 0:
                raise _Fault(EFAULT)  # reached the end of the memory without a NUL
            chunk = self.read(addr + len(out), take)
            nul = chunk.find(b"\0")
            if nul >= 0:
                return bytes(out + chunk[:nul])
            out += chunk
        raise _Fault(ENAMETOOLONG)

    def name(self, addr: int, length: int) -> str:
        """A file name given as pointer and length (without its NUL), as QEMU reads it.

        The byte after it must be the NUL (EINVAL otherwise); the name ends at its first NUL.
        """
        if length >= MAX_NAME:
            raise _Fault(ENAMETOOLONG)
        raw = self.read(addr, length + 1)
        if raw[length] != 0:
            raise _Fault(EINVAL)
        return os.fsdecode(raw[: raw.index(0)])


@dataclass
class Semihosting:
    """State of one run's semihosting: handles, errno, options the user set."""

    host: SemihostingHost
    root: Path | None = None  # host directory files may be opened in; None refuses file access
    cmdline: str = ""
    epoch: int = 1767225600  # SYS_TIME at cycle 0: 2026-01-01T00:00:00Z (fixed for determinism)
    heapinfo: tuple[int, int, int, int] = (0, 0, 0, 0)
    stdin: bytes = b""
    on_exit: Callable[[ExitRequest], None] | None = None
    errno: int = 0
    handles: dict[int, _Handle] = field(default_factory=dict)
    refused: list[str] = field(default_factory=list)
    calls: Counter[str] = field(default_factory=Counter)  # operations made, by name
    _stdin_pos: int = 0

    def __post_init__(self) -> None:
        self.handles = {0: _Handle("stdin"), 1: _Handle("stdout"), 2: _Handle("stderr")}
        self.mem = _Guest(self.host)

    # --- helpers -------------------------------------------------------------------------
    def _new_handle(self, handle: _Handle) -> int:
        if len(self.handles) >= MAX_HANDLES:
            raise _Fault(EMFILE)
        fd = 3
        while fd in self.handles:
            fd += 1
        self.handles[fd] = handle
        return fd

    def _fail(self, errno: int) -> int:
        self.errno = errno
        return 0xFFFFFFFF

    def _host_path(self, name: str) -> Path | None:
        if self.root is None or not name:
            return None
        root = self.root.resolve()
        try:
            path = (root / name).resolve()
        except (OSError, ValueError):  # e.g. a symbolic-link loop
            return None
        if path != root and root not in path.parents:
            return None
        return path

    def _refuse(self, what: str) -> int:
        self.refused.append(what)
        self.host.report_unmodelled("semihosting", f"refused: {what}")
        return self._fail(EPERM)

    # --- dispatch ------------------------------------------------------------------------
    def call(self, op: int, arg: int) -> int:
        """Run one semihosting call; returns the value for r0.

        A guest-caused failure (bad pointer, bad handle, limits) is the call's error value with
        its errno, never an exception: the firmware decides what to do with it.
        """
        name = _NAMES.get(op)
        self.calls[name or f"{op:#x}"] += 1  # for the diagnosis of a run that never ends (SYS_WRITEC loops)
        if name is None:
            self.host.report_unmodelled("semihosting", f"unknown operation {op:#x}")
            return self._fail(EINVAL)
        try:
            return getattr(self, f"sys_{name.lower()}")(arg)
        except _Fault as fault:
            return self._fail(fault.errno)

    def sys_writec(self, arg: int) -> int:
        self.host.console_write(self.mem.read(arg, 1), "semihosting")
        return 0

    def sys_write0(self, arg: int) -> int:
        self.host.console_write(self.mem.cstring(arg, MAX_STRING), "semihosting")
        return 0

    def sys_write(self, arg: int) -> int:
        fd, buf, length = self.mem.words(arg, 3)
        h = self.handles.get(fd)
        if h is None or h.kind not in ("stdout", "stderr", "file"):
            self._fail(EBADF)
            return length
        try:
            data = self.mem.read(buf, min(length, MAX_TRANSFER))  # the first MiB; the rest is "not written"
        except _Fault as fault:
            self._fail(fault.errno)
            return length
        if h.kind in ("stdout", "stderr"):
            self.host.console_write(data, "semihosting" if h.kind == "stdout" else "semihosting-stderr")
            return length - len(data)
        f: Any = h.file
        try:
            room = MAX_FILE_BYTES - f.tell()
            if room < len(data):
                self._fail(EFBIG)
                data = data[: max(room, 0)]
            written = (f.write(data) or 0) if data else 0
        except OSError as exc:  # e.g. opened for reading only: nothing written
            self._fail(exc.errno or EBADF)
            return length
        return length - written

    def sys_read(self, arg: int) -> int:
        fd, buf, length = self.mem.words(arg, 3)
        h = self.handles.get(fd)
        if h is None:
            self._fail(EBADF)
            return length
        want = min(length, MAX_TRANSFER)
        if want and not self.host.writable(buf, want):  # checked before anything is consumed
            self._fail(EFAULT)
            return length
        if h.kind == "stdin":
            data = self.stdin[self._stdin_pos : self._stdin_pos + want]
            self._stdin_pos += len(data)
        elif h.kind == "features":
            data = h.data[h.pos : h.pos + want]
            h.pos += len(data)
        elif h.kind == "file":
            try:
                data = h.file.read(want) or b""  # type: ignore[union-attr]
            except OSError as exc:  # e.g. opened for writing only
                self._fail(exc.errno or EBADF)
                return length
        else:
            self._fail(EBADF)
            return length
        self.mem.write(buf, data)
        return length - len(data)

    def sys_readc(self, arg: int) -> int:
        if self._stdin_pos < len(self.stdin):
            self._stdin_pos += 1
            return self.stdin[self._stdin_pos - 1]
        return 0xFFFFFFFF

    def sys_iserror(self, arg: int) -> int:
        (value,) = self.mem.words(arg, 1)
        return 1 if value & 0x80000000 else 0

    def sys_istty(self, arg: int) -> int:
        (fd,) = self.mem.words(arg, 1)
        h = self.handles.get(fd)
        if h is None:
            return self._fail(EBADF)
        return 1 if h.kind in ("stdin", "stdout", "stderr") else 0

    def sys_open(self, arg: int) -> int:
        name_ptr, mode, length = self.mem.words(arg, 3)
        name = self.mem.name(name_ptr, length)
        if mode >= len(_OPEN_MODES):
            return self._fail(EINVAL)
        if name == ":tt":
            kind = "stdin" if mode < 4 else "stdout" if mode < 8 else "stderr"
            return self._new_handle(_Handle(kind, name=name))
        if name == ":semihosting-features":
            if mode not in (0, 1):  # QEMU: read-only
                return self._fail(EACCES)
            data = FEATURES_MAGIC + bytes([FEATURE_EXIT_EXTENDED | FEATURE_STDOUT_STDERR])
            return self._new_handle(_Handle("features", data=data, name=name))
        path = self._host_path(name)
        if path is None:
            why = "no --semihosting-root given" if self.root is None else f"outside {self.root}"
            return self._refuse(f"open {name!r} ({why})")
        if len(self.handles) >= MAX_HANDLES:
            return self._fail(EMFILE)
        try:
            f = open(path, _OPEN_MODES[mode], buffering=0)  # noqa: SIM115 - closed by SYS_CLOSE or at the end
        except OSError as exc:
            return self._fail(exc.errno or ENOENT)
        return self._new_handle(_Handle("file", file=f, name=name))

    def sys_close(self, arg: int) -> int:
        (fd,) = self.mem.words(arg, 1)
        h = self.handles.pop(fd, None)
        if h is None:
            return self._fail(EBADF)
        if h.kind == "file":
            h.file.close()  # type: ignore[union-attr]
        return 0

    def sys_seek(self, arg: int) -> int:
        fd, pos = self.mem.words(arg, 2)
        h = self.handles.get(fd)
        if h is None:
            return self._fail(EBADF)
        if h.kind == "file":
            try:
                h.file.seek(pos)  # type: ignore[union-attr]
            except (OSError, ValueError):
                return self._fail(EINVAL)
        elif h.kind == "features":
            if pos > len(h.data):
                return self._fail(EINVAL)
            h.pos = pos
        return 0

    def sys_flen(self, arg: int) -> int:
        (fd,) = self.mem.words(arg, 1)
        h = self.handles.get(fd)
        if h is None:
            return self._fail(EBADF)
        if h.kind == "file":
            return os.fstat(h.file.fileno()).st_size & 0xFFFFFFFF  # type: ignore[union-attr]
        if h.kind == "features":
            return len(h.data)
        return 0

    def sys_tmpnam(self, arg: int) -> int:
        buf, ident, length = self.mem.words(arg, 3)
        name = f"simcore-tmp-{ident & 0xFF:03d}".encode() + b"\0"
        if len(name) > length:
            return self._fail(EINVAL)
        self.mem.write(buf, name)
        return 0

    def sys_remove(self, arg: int) -> int:
        name_ptr, length = self.mem.words(arg, 2)
        name = self.mem.name(name_ptr, length)
        path = self._host_path(name)
        if path is None:
            return self._refuse(f"remove {name!r}")
        try:
            path.unlink()
        except OSError as exc:  # QEMU: -1 and the host errno for SYS_ERRNO
            return self._fail(exc.errno or ENOENT)
        return 0

    def sys_rename(self, arg: int) -> int:
        p1, l1, p2, l2 = self.mem.words(arg, 4)
        old, new = self.mem.name(p1, l1), self.mem.name(p2, l2)
        a, b = self._host_path(old), self._host_path(new)
        if a is None or b is None:
            return self._refuse(f"rename {old!r} to {new!r}")
        try:
            a.rename(b)
        except OSError as exc:
            return self._fail(exc.errno or ENOENT)
        return 0

    def _seconds(self) -> float:
        return self.host.now_cycles() / self.host.cycles_per_second()

    def sys_clock(self, arg: int) -> int:
        return int(self._seconds() * 100) & 0xFFFFFFFF  # centiseconds since the run started

    def sys_time(self, arg: int) -> int:
        return (self.epoch + int(self._seconds())) & 0xFFFFFFFF

    def sys_elapsed(self, arg: int) -> int:
        self.mem.write(arg, struct.pack("<Q", self.host.now_cycles()))
        return 0

    def sys_tickfreq(self, arg: int) -> int:
        return int(self.host.cycles_per_second()) & 0xFFFFFFFF

    def sys_system(self, arg: int) -> int:
        return self._refuse("SYS_SYSTEM (host commands are never run)")

    def sys_errno(self, arg: int) -> int:
        return self.errno

    def sys_get_cmdline(self, arg: int) -> int:
        buf, length = self.mem.words(arg, 2)
        data = self.cmdline.encode() + b"\0"
        if len(data) > length:
            return self._fail(E2BIG)
        self.mem.write(arg + 4, struct.pack("<I", len(data) - 1))
        self.mem.write(buf, data)
        return 0

    def sys_heapinfo(self, arg: int) -> int:
        (block,) = self.mem.words(arg, 1)
        self.mem.write(block, struct.pack("<4I", *self.heapinfo))
        return 0

    def sys_exit(self, arg: int) -> int:
        # AArch32: r1 holds the reason itself; ApplicationExit means status 0 (as QEMU does)
        code = 0 if arg == ADP_STOPPED_APPLICATION_EXIT else 1
        if self.on_exit:
            self.on_exit(ExitRequest(code, arg, "SYS_EXIT", code))
        return 0

    def sys_exit_extended(self, arg: int) -> int:
        reason, sub = self.mem.words(arg, 2)
        value = sub if reason == ADP_STOPPED_APPLICATION_EXIT else 1
        if self.on_exit:
            signed = value - (1 << 32) if value & 0x80000000 else value
            self.on_exit(ExitRequest(exit_status(value), reason, "SYS_EXIT_EXTENDED", signed))
        return 0

    def close(self) -> None:
        for h in self.handles.values():
            if h.kind == "file":
                h.file.close()  # type: ignore[union-attr]
