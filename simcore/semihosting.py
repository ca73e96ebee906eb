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
"""

from __future__ import annotations

import os
import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

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
EPERM, ENOENT, EBADF, EINVAL = 1, 2, 9, 22


class SemihostingHost(Protocol):
    """What the semihosting layer needs from the machine."""

    def mem_read(self, addr: int, size: int) -> bytes: ...
    def mem_write(self, addr: int, data: bytes) -> None: ...
    def read_cstring(self, addr: int, limit: int = 4096) -> bytes: ...
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
    code: int
    reason: int
    how: str


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
    _stdin_pos: int = 0

    def __post_init__(self) -> None:
        self.handles = {0: _Handle("stdin"), 1: _Handle("stdout"), 2: _Handle("stderr")}

    # --- helpers -------------------------------------------------------------------------
    def _words(self, addr: int, n: int) -> tuple[int, ...]:
        return struct.unpack(f"<{n}I", self.host.mem_read(addr, 4 * n))

    def _new_handle(self, handle: _Handle) -> int:
        fd = 3
        while fd in self.handles:
            fd += 1
        self.handles[fd] = handle
        return fd

    def _fail(self, errno: int) -> int:
        self.errno = errno
        return 0xFFFFFFFF

    def _host_path(self, name: str) -> Path | None:
        if self.root is None:
            return None
        root = self.root.resolve()
        path = (root / name).resolve()
        if path != root and root not in path.parents:
            return None
        return path

    def _refuse(self, what: str) -> int:
        self.refused.append(what)
        self.host.report_unmodelled("semihosting", f"refused: {what}")
        return self._fail(EPERM)

    # --- dispatch ------------------------------------------------------------------------
    def call(self, op: int, arg: int) -> int:
        """Run one semihosting call; returns the value for r0."""
        name = _NAMES.get(op)
        if name is None:
            self.host.report_unmodelled("semihosting", f"unknown operation {op:#x}")
            return self._fail(EINVAL)
        return getattr(self, f"sys_{name.lower()}")(arg)

    def sys_writec(self, arg: int) -> int:
        self.host.console_write(self.host.mem_read(arg, 1), "semihosting")
        return 0

    def sys_write0(self, arg: int) -> int:
        self.host.console_write(self.host.read_cstring(arg, 1 << 20), "semihosting")
        return 0

    def sys_write(self, arg: int) -> int:
        fd, buf, length = self._words(arg, 3)
        h = self.handles.get(fd)
        if h is None:
            self._fail(EBADF)
            return length
        data = self.host.mem_read(buf, length) if length else b""
        if h.kind in ("stdout", "stderr"):
            self.host.console_write(data, "semihosting" if h.kind == "stdout" else "semihosting-stderr")
            return 0
        if h.kind == "file":
            try:
                h.file.write(data)  # type: ignore[union-attr]
            except OSError as exc:  # e.g. opened for reading only: nothing written
                self._fail(exc.errno or EBADF)
                return length
            return 0
        self._fail(EBADF)
        return length

    def sys_read(self, arg: int) -> int:
        fd, buf, length = self._words(arg, 3)
        h = self.handles.get(fd)
        if h is None:
            self._fail(EBADF)
            return length
        if h.kind == "stdin":
            data = self.stdin[self._stdin_pos : self._stdin_pos + length]
            self._stdin_pos += len(data)
        elif h.kind == "features":
            data = h.data[h.pos : h.pos + length]
            h.pos += len(data)
        elif h.kind == "file":
            try:
                data = h.file.read(length)  # type: ignore[union-attr]
            except OSError as exc:  # e.g. opened for writing only
                self._fail(exc.errno or EBADF)
                return length
        else:
            self._fail(EBADF)
            return length
        if data:
            self.host.mem_write(buf, data)
        return length - len(data)

    def sys_readc(self, arg: int) -> int:
        if self._stdin_pos < len(self.stdin):
            self._stdin_pos += 1
            return self.stdin[self._stdin_pos - 1]
        return 0xFFFFFFFF

    def sys_iserror(self, arg: int) -> int:
        (value,) = self._words(arg, 1)
        return 1 if value & 0x80000000 else 0

    def sys_istty(self, arg: int) -> int:
        (fd,) = self._words(arg, 1)
        h = self.handles.get(fd)
        if h is None:
            return self._fail(EBADF)
        return 1 if h.kind in ("stdin", "stdout", "stderr") else 0

    def sys_open(self, arg: int) -> int:
        name_ptr, mode, length = self._words(arg, 3)
        name = self.host.mem_read(name_ptr, length).decode("utf-8", "replace")
        if name == ":tt":
            kind = "stdin" if mode < 4 else "stdout" if mode < 8 else "stderr"
            return self._new_handle(_Handle(kind, name=name))
        if name == ":semihosting-features":
            data = FEATURES_MAGIC + bytes([FEATURE_EXIT_EXTENDED | FEATURE_STDOUT_STDERR])
            return self._new_handle(_Handle("features", data=data, name=name))
        if mode >= len(_OPEN_MODES):
            return self._fail(EINVAL)
        path = self._host_path(name)
        if path is None:
            why = "no --semihosting-root given" if self.root is None else f"outside {self.root}"
            return self._refuse(f"open {name!r} ({why})")
        try:
            f = open(path, _OPEN_MODES[mode])  # noqa: SIM115 - closed by SYS_CLOSE or at the end
        except OSError as exc:
            return self._fail(exc.errno or ENOENT)
        return self._new_handle(_Handle("file", file=f, name=name))

    def sys_close(self, arg: int) -> int:
        (fd,) = self._words(arg, 1)
        h = self.handles.pop(fd, None)
        if h is None:
            return self._fail(EBADF)
        if h.kind == "file":
            h.file.close()  # type: ignore[union-attr]
        return 0

    def sys_seek(self, arg: int) -> int:
        fd, pos = self._words(arg, 2)
        h = self.handles.get(fd)
        if h is None:
            return self._fail(EBADF)
        if h.kind == "file":
            try:
                h.file.seek(pos)  # type: ignore[union-attr]
            except (OSError, ValueError):
                return self._fail(EINVAL)
        elif h.kind == "features":
            h.pos = pos
        return 0

    def sys_flen(self, arg: int) -> int:
        (fd,) = self._words(arg, 1)
        h = self.handles.get(fd)
        if h is None:
            return self._fail(EBADF)
        if h.kind == "file":
            return os.fstat(h.file.fileno()).st_size  # type: ignore[union-attr]
        if h.kind == "features":
            return len(h.data)
        return 0

    def sys_tmpnam(self, arg: int) -> int:
        buf, ident, length = self._words(arg, 3)
        name = f"simcore-tmp-{ident & 0xFF:03d}".encode() + b"\0"
        if len(name) > length:
            return self._fail(EINVAL)
        self.host.mem_write(buf, name)
        return 0

    def sys_remove(self, arg: int) -> int:
        name_ptr, length = self._words(arg, 2)
        name = self.host.mem_read(name_ptr, length).decode("utf-8", "replace")
        path = self._host_path(name)
        if path is None:
            return self._refuse(f"remove {name!r}")
        try:
            path.unlink()
        except OSError as exc:  # QEMU: -1 and the host errno for SYS_ERRNO
            return self._fail(exc.errno or ENOENT)
        return 0

    def sys_rename(self, arg: int) -> int:
        p1, l1, p2, l2 = self._words(arg, 4)
        old = self.host.mem_read(p1, l1).decode("utf-8", "replace")
        new = self.host.mem_read(p2, l2).decode("utf-8", "replace")
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
        self.host.mem_write(arg, struct.pack("<Q", self.host.now_cycles()))
        return 0

    def sys_tickfreq(self, arg: int) -> int:
        return int(self.host.cycles_per_second()) & 0xFFFFFFFF

    def sys_system(self, arg: int) -> int:
        return self._refuse("SYS_SYSTEM (host commands are never run)")

    def sys_errno(self, arg: int) -> int:
        return self.errno

    def sys_get_cmdline(self, arg: int) -> int:
        buf, length = self._words(arg, 2)
        data = self.cmdline.encode() + b"\0"
        if len(data) > length:
            return self._fail(EINVAL)
        self.host.mem_write(buf, data)
        self.host.mem_write(arg + 4, struct.pack("<I", len(data) - 1))
        return 0

    def sys_heapinfo(self, arg: int) -> int:
        (block,) = self._words(arg, 1)
        self.host.mem_write(block, struct.pack("<4I", *self.heapinfo))
        return 0

    def sys_exit(self, arg: int) -> int:
        # AArch32: r1 holds the reason itself; ApplicationExit means status 0 (as QEMU does)
        code = 0 if arg == ADP_STOPPED_APPLICATION_EXIT else 1
        if self.on_exit:
            self.on_exit(ExitRequest(code, arg, "SYS_EXIT"))
        return 0

    def sys_exit_extended(self, arg: int) -> int:
        reason, sub = self._words(arg, 2)
        code = sub if reason == ADP_STOPPED_APPLICATION_EXIT else 1
        if self.on_exit:
            self.on_exit(ExitRequest(code & 0xFF if code >= 0 else 1, reason, "SYS_EXIT_EXTENDED"))
        return 0

    def close(self) -> None:
        for h in self.handles.values():
            if h.kind == "file":
                h.file.close()  # type: ignore[union-attr]
