"""Every semihosting operation on a fake host: guest memory is a bytearray, the clock a number.

The expected values come from the Arm semihosting specification (v3) and from QEMU's
behaviour where the specification leaves room, never from simcore's own output.
"""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from simcore.semihosting import SYS, ExitRequest, Semihosting

BLOCK = 0x100  # parameter block
BUF = 0x400  # data buffer
NAME = 0x800  # strings


FLASH = 0xE000  # the fake's last 8 KiB are read-only, like flash


class FakeHost:
    """64 KiB of guest memory (the last 8 KiB read-only), a console and a settable cycle counter."""

    def __init__(self) -> None:
        self.mem = bytearray(0x10000)
        self.console: list[tuple[bytes, str]] = []
        self.cycles = 0
        self.hz = 50_000_000.0
        self.unmodelled: dict[str, str] = {}

    def mem_read(self, addr: int, size: int) -> bytes:
        return bytes(self.mem[addr : addr + size])

    def mem_write(self, addr: int, data: bytes) -> None:
        self.mem[addr : addr + len(data)] = data

    def readable(self, addr: int, size: int) -> int:
        return len(self.mem) - addr if 0 <= addr and addr + size <= len(self.mem) else 0

    def writable(self, addr: int, size: int) -> bool:
        return 0 <= addr and addr + size <= FLASH

    def read_cstring(self, addr: int, limit: int = 4096) -> bytes:
        end = self.mem.index(0, addr)
        return bytes(self.mem[addr : min(end, addr + limit)])

    def console_write(self, data: bytes, source: str) -> None:
        self.console.append((bytes(data), source))

    def now_cycles(self) -> int:
        return self.cycles

    def cycles_per_second(self) -> float:
        return self.hz

    def report_unmodelled(self, where: str, detail: str) -> None:
        self.unmodelled.setdefault(where, detail)

    def text(self) -> bytes:
        return b"".join(d for d, _ in self.console)


def make(root: Path | None = None, **kw: object) -> tuple[Semihosting, FakeHost, list[ExitRequest]]:
    host = FakeHost()
    exits: list[ExitRequest] = []
    sh = Semihosting(host=host, root=root, on_exit=exits.append, **kw)  # type: ignore[arg-type]
    return sh, host, exits


def block(host: FakeHost, *words: int) -> int:
    host.mem_write(BLOCK, struct.pack(f"<{len(words)}I", *words))
    return BLOCK


def put(host: FakeHost, addr: int, data: bytes) -> int:
    host.mem_write(addr, data + b"\0")
    return addr


def call(sh: Semihosting, op: str, arg: int) -> int:
    return sh.call(SYS[op], arg)


def open_(sh: Semihosting, host: FakeHost, name: bytes, mode: int) -> int:
    return call(sh, "OPEN", block(host, put(host, NAME, name), mode, len(name)))


MINUS1 = 0xFFFFFFFF


# --- console ------------------------------------------------------------------------------
def test_writec_write0_and_write_to_preopened_handles() -> None:
    sh, host, _ = make()
    host.mem_write(BUF, b"A")
    assert call(sh, "WRITEC", BUF) == 0
    assert call(sh, "WRITE0", put(host, NAME, b"hello\n")) == 0
    host.mem_write(BUF, b"out!err!")
    assert call(sh, "WRITE", block(host, 1, BUF, 4)) == 0  # returns the bytes NOT written
    assert call(sh, "WRITE", block(host, 2, BUF + 4, 4)) == 0
    assert host.console == [(b"A", "semihosting"), (b"hello\n", "semihosting"), (b"out!", "semihosting"),
                            (b"err!", "semihosting-stderr")]


def test_write_to_a_bad_handle_writes_nothing_and_sets_ebadf() -> None:
    sh, host, _ = make()
    assert call(sh, "WRITE", block(host, 77, BUF, 5)) == 5
    assert call(sh, "ERRNO", 0) == 9
    assert host.console == []


def test_tt_opens_the_console_by_mode_and_istty() -> None:
    sh, host, _ = make()
    h_in, h_out, h_err = (open_(sh, host, b":tt", m) for m in (0, 4, 8))
    assert len({h_in, h_out, h_err}) == 3 and all(h >= 3 for h in (h_in, h_out, h_err))
    host.mem_write(BUF, b"via tt\n")
    assert call(sh, "WRITE", block(host, h_out, BUF, 7)) == 0
    assert call(sh, "WRITE", block(host, h_err, BUF, 3)) == 0
    assert host.console == [(b"via tt\n", "semihosting"), (b"via", "semihosting-stderr")]
    assert call(sh, "ISTTY", block(host, h_out)) == 1
    assert call(sh, "ISTTY", block(host, 1234)) == MINUS1
    assert call(sh, "CLOSE", block(host, h_out)) == 0
    assert call(sh, "CLOSE", block(host, h_out)) == MINUS1  # already closed
    assert call(sh, "ERRNO", 0) == 9


def test_read_and_readc_from_stdin_bytes() -> None:
    sh, host, _ = make(stdin=b"xyz")
    assert call(sh, "READC", 0) == ord("x")
    assert call(sh, "READ", block(host, 0, BUF, 8)) == 6  # 2 read, 6 not read
    assert host.mem[BUF : BUF + 2] == b"yz"
    assert call(sh, "READ", block(host, 0, BUF, 4)) == 4  # end of file: nothing read
    assert call(sh, "READC", 0) == MINUS1


def test_semihosting_features_file() -> None:
    sh, host, _ = make()
    h = open_(sh, host, b":semihosting-features", 0)
    assert call(sh, "FLEN", block(host, h)) == 5
    assert call(sh, "ISTTY", block(host, h)) == 0
    assert call(sh, "READ", block(host, h, BUF, 5)) == 0
    assert host.mem[BUF : BUF + 5] == b"SHFB\x03"  # EXIT_EXTENDED | STDOUT_STDERR
    assert call(sh, "SEEK", block(host, h, 4)) == 0
    assert call(sh, "READ", block(host, h, BUF, 5)) == 4
    assert host.mem[BUF] == 3


# --- host files -----------------------------------------------------------------------------
def test_files_are_refused_without_a_root(tmp_path: Path) -> None:
    (tmp_path / "data.txt").write_text("secret")
    sh, host, _ = make(root=None)
    assert open_(sh, host, str(tmp_path / "data.txt").encode(), 0) == MINUS1
    assert call(sh, "ERRNO", 0) == 1  # EPERM
    assert call(sh, "REMOVE", block(host, put(host, NAME, b"data.txt"), 8)) == MINUS1
    assert (tmp_path / "data.txt").exists()
    assert any("refused" in d for d in host.unmodelled.values())
    assert sh.refused and "no --semihosting-root" in sh.refused[0]


def test_file_round_trip_inside_the_root(tmp_path: Path) -> None:
    (tmp_path / "in.txt").write_bytes(b"0123456789")
    sh, host, _ = make(root=tmp_path)
    h = open_(sh, host, b"in.txt", 0)  # "rb"
    assert h != MINUS1
    assert call(sh, "FLEN", block(host, h)) == 10
    assert call(sh, "ISTTY", block(host, h)) == 0
    assert call(sh, "SEEK", block(host, h, 6)) == 0
    assert call(sh, "READ", block(host, h, BUF, 8)) == 4  # 4 bytes left, 4 not read
    assert host.mem[BUF : BUF + 4] == b"6789"
    assert call(sh, "WRITE", block(host, h, BUF, 2)) == 2  # read-only handle: nothing written
    assert call(sh, "CLOSE", block(host, h)) == 0
    w = open_(sh, host, b"out.txt", 4)  # "wb"
    host.mem_write(BUF, b"written")
    assert call(sh, "WRITE", block(host, w, BUF, 7)) == 0
    assert call(sh, "CLOSE", block(host, w)) == 0
    assert (tmp_path / "out.txt").read_bytes() == b"written"
    a = open_(sh, host, b"out.txt", 8)  # "ab"
    assert call(sh, "WRITE", block(host, a, BUF, 3)) == 0
    call(sh, "CLOSE", block(host, a))
    assert (tmp_path / "out.txt").read_bytes() == b"writtenwri"
    old, new = put(host, NAME, b"out.txt"), put(host, NAME + 0x40, b"moved.txt")
    assert call(sh, "RENAME", block(host, old, 7, new, 9)) == 0
    assert (tmp_path / "moved.txt").exists() and not (tmp_path / "out.txt").exists()
    assert call(sh, "REMOVE", block(host, put(host, NAME, b"moved.txt"), 9)) == 0
    assert not (tmp_path / "moved.txt").exists()


def test_missing_files_fail_with_the_host_errno(tmp_path: Path) -> None:
    sh, host, _ = make(root=tmp_path)
    assert open_(sh, host, b"nope.txt", 0) == MINUS1
    assert call(sh, "ERRNO", 0) == 2  # ENOENT
    assert call(sh, "REMOVE", block(host, put(host, NAME, b"nope.txt"), 8)) == MINUS1
    assert call(sh, "ERRNO", 0) == 2
    old, new = put(host, NAME, b"nope.txt"), put(host, NAME + 0x40, b"x.txt")
    assert call(sh, "RENAME", block(host, old, 8, new, 5)) == MINUS1
    assert open_(sh, host, b"bad-mode", 12) == MINUS1
    assert call(sh, "ERRNO", 0) == 22


@pytest.mark.parametrize("name", [b"../escape.txt", b"/etc/hostname", b"sub/../../escape.txt"])
def test_paths_may_not_leave_the_root(tmp_path: Path, name: bytes) -> None:
    root = tmp_path / "root"
    root.mkdir()
    (tmp_path / "escape.txt").write_text("outside")
    sh, host, _ = make(root=root)
    assert open_(sh, host, name, 0) == MINUS1
    assert call(sh, "ERRNO", 0) == 1
    assert "outside" in sh.refused[-1]


def test_symlink_out_of_the_root_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    (tmp_path / "secret.txt").write_text("s")
    (root / "link.txt").symlink_to(tmp_path / "secret.txt")
    sh, host, _ = make(root=root)
    assert open_(sh, host, b"link.txt", 0) == MINUS1


def test_tmpnam_gives_distinct_names_and_checks_the_buffer() -> None:
    sh, host, _ = make()
    assert call(sh, "TMPNAM", block(host, BUF, 1, 64)) == 0
    first = host.read_cstring(BUF)
    assert call(sh, "TMPNAM", block(host, BUF, 2, 64)) == 0
    assert host.read_cstring(BUF) != first and first
    assert call(sh, "TMPNAM", block(host, BUF, 3, 4)) == MINUS1  # buffer too small


def test_system_is_always_refused(tmp_path: Path) -> None:
    sh, host, _ = make(root=tmp_path)
    cmd = put(host, NAME, b"touch pwned")
    assert call(sh, "SYSTEM", block(host, cmd, 11)) == MINUS1
    assert not (tmp_path / "pwned").exists()
    assert "SYS_SYSTEM" in sh.refused[-1]


# --- time, command line, heap, exit ------------------------------------------------------------
def test_clock_time_elapsed_tickfreq_follow_the_virtual_clock() -> None:
    sh, host, _ = make()
    host.cycles = 125_000_000  # 2.5 s at 50 MHz
    assert call(sh, "CLOCK", 0) == 250  # centiseconds
    assert call(sh, "TIME", 0) == sh.epoch + 2
    assert call(sh, "ELAPSED", BUF) == 0
    assert struct.unpack_from("<Q", host.mem, BUF)[0] == 125_000_000
    assert call(sh, "TICKFREQ", 0) == 50_000_000


def test_get_cmdline_and_a_too_small_buffer() -> None:
    sh, host, _ = make(cmdline="app.elf 1 two")
    assert call(sh, "GET_CMDLINE", block(host, BUF, 64)) == 0
    assert host.read_cstring(BUF) == b"app.elf 1 two"
    assert struct.unpack_from("<I", host.mem, BLOCK + 4)[0] == 13
    assert call(sh, "GET_CMDLINE", block(host, BUF, 5)) == MINUS1


def test_heapinfo_writes_four_words_at_the_pointer() -> None:
    sh, host, _ = make(heapinfo=(0x20001000, 0x20010000, 0x20020000, 0x20010000))
    assert call(sh, "HEAPINFO", block(host, BUF)) == 0
    assert struct.unpack_from("<4I", host.mem, BUF) == (0x20001000, 0x20010000, 0x20020000, 0x20010000)


def test_iserror() -> None:
    sh, host, _ = make()
    assert call(sh, "ISERROR", block(host, MINUS1)) == 1
    assert call(sh, "ISERROR", block(host, 5)) == 0


@pytest.mark.parametrize(("reason", "code"), [(0x20026, 0), (0x20023, 1)])
def test_exit_reason_gives_status_as_qemu(reason: int, code: int) -> None:
    sh, _host, exits = make()
    call(sh, "EXIT", reason)
    assert exits[0].code == code and exits[0].how == "SYS_EXIT"


@pytest.mark.parametrize(("reason", "sub", "code"), [(0x20026, 42, 42), (0x20026, 0, 0), (0x20023, 7, 1),
                                                   (0x20026, 256, 1), (0x20026, 512, 1), (0x20026, 257, 1),
                                                   (0x20026, MINUS1, 255)])
def test_exit_extended_carries_the_status(reason: int, sub: int, code: int) -> None:
    """A nonzero value never reads as success (QEMU's exit(256) would); -1 is 255 as in a shell."""
    sh, host, exits = make()
    call(sh, "EXIT_EXTENDED", block(host, reason, sub))
    assert exits[0].code == code
    assert exits[0].value == (sub - (1 << 32) if sub & 0x80000000 else sub) or reason != 0x20026


def test_unknown_operation_is_reported_not_fatal() -> None:
    sh, host, _ = make()
    assert sh.call(0x99, 0) == MINUS1
    assert "unknown operation 0x99" in host.unmodelled["semihosting"]


def test_every_specified_operation_has_a_handler() -> None:
    sh, _host, _ = make()
    for name in SYS:
        assert callable(getattr(sh, f"sys_{name.lower()}"))


# --- hostile arguments: -1 (or the length) with QEMU's errno, never an exception -------------------
EFAULT, EINVAL, EMFILE, EFBIG, EACCES, E2BIG = 14, 22, 24, 27, 13, 7
OUTSIDE = 0x20000  # beyond the fake's 64 KiB


@pytest.mark.parametrize("op", ["OPEN", "WRITE", "READ", "CLOSE", "SEEK", "FLEN", "ISTTY", "HEAPINFO",
                                "GET_CMDLINE", "TMPNAM", "REMOVE", "RENAME", "EXIT_EXTENDED", "ISERROR"])
def test_parameter_block_outside_memory(op: str) -> None:
    sh, host, exits = make()
    assert call(sh, op, OUTSIDE) == MINUS1
    assert call(sh, "ERRNO", 0) == EFAULT
    assert not exits


@pytest.mark.parametrize("arg", [OUTSIDE, 0xFFFFFFFF, 0x10000 - 3])
def test_parameter_block_running_off_memory(arg: int) -> None:
    sh, _host, _ = make()
    assert call(sh, "WRITE", arg) == MINUS1 and call(sh, "ERRNO", 0) == EFAULT


def test_pointers_outside_memory(tmp_path: Path) -> None:
    sh, host, _ = make(root=tmp_path)
    assert call(sh, "WRITEC", OUTSIDE) == MINUS1
    assert call(sh, "WRITE0", OUTSIDE) == MINUS1
    assert call(sh, "WRITE", block(host, 1, OUTSIDE, 16)) == 16  # nothing written
    assert call(sh, "ERRNO", 0) == EFAULT
    assert call(sh, "READ", block(host, 0, OUTSIDE, 16)) == 16
    assert call(sh, "OPEN", block(host, OUTSIDE, 0, 4)) == MINUS1
    assert call(sh, "HEAPINFO", block(host, OUTSIDE)) == MINUS1
    assert call(sh, "ELAPSED", OUTSIDE) == MINUS1
    assert call(sh, "TMPNAM", block(host, OUTSIDE, 1, 64)) == MINUS1
    assert call(sh, "GET_CMDLINE", block(host, OUTSIDE, 64)) == MINUS1
    assert call(sh, "ERRNO", 0) == EFAULT
    assert host.console == []


@pytest.mark.parametrize("length", [0xFFFFFFFF, 0x80000000, 0x10001])
def test_huge_lengths_are_refused_without_allocating(length: int) -> None:
    sh, host, _ = make()
    assert call(sh, "WRITE", block(host, 1, BUF, length)) == length
    assert call(sh, "ERRNO", 0) == EFAULT
    assert call(sh, "READ", block(host, 0, BUF, length)) == length
    assert call(sh, "OPEN", block(host, NAME, 0, length)) == MINUS1  # ENAMETOOLONG or EFAULT
    assert call(sh, "ERRNO", 0) in (EFAULT, 36)
    assert host.console == []


def test_transfers_are_capped_per_call(monkeypatch: pytest.MonkeyPatch) -> None:
    import simcore.semihosting as semi

    monkeypatch.setattr(semi, "MAX_TRANSFER", 4)
    sh, host, _ = make(stdin=b"0123456789")
    host.mem_write(BUF, b"abcdefgh")
    assert call(sh, "WRITE", block(host, 1, BUF, 8)) == 4  # 4 written, 4 reported not written
    assert host.text() == b"abcd"
    assert call(sh, "READ", block(host, 0, BUF, 8)) == 4 and host.mem[BUF : BUF + 4] == b"0123"


def test_read_into_flash_is_refused_and_consumes_nothing(tmp_path: Path) -> None:
    (tmp_path / "in.bin").write_bytes(b"payload")
    sh, host, _ = make(root=tmp_path, stdin=b"xyz")
    before = bytes(host.mem[FLASH:])
    h = open_(sh, host, b"in.bin", 0)
    assert call(sh, "READ", block(host, h, FLASH, 7)) == 7
    assert call(sh, "ERRNO", 0) == EFAULT
    assert call(sh, "READ", block(host, 0, FLASH - 2, 3)) == 3  # straddles into flash
    assert bytes(host.mem[FLASH:]) == before
    assert call(sh, "READ", block(host, h, BUF, 7)) == 0 and host.mem[BUF : BUF + 7] == b"payload"
    assert call(sh, "READC", 0) == ord("x")  # stdin untouched by the refused read
    assert call(sh, "HEAPINFO", block(host, FLASH)) == MINUS1
    assert call(sh, "ELAPSED", FLASH) == MINUS1


def test_write0_up_to_the_end_of_memory() -> None:
    sh, host, _ = make()
    end = len(host.mem)
    host.mem[end - 6 :] = b"tail!\0"  # NUL in the very last byte
    assert call(sh, "WRITE0", end - 6) == 0
    host.mem[end - 6 :] = b"nonul!"  # no NUL before the end of memory
    assert call(sh, "WRITE0", end - 6) == MINUS1
    assert call(sh, "ERRNO", 0) == EFAULT
    assert host.text() == b"tail!"


def test_write0_without_a_nul_in_its_first_mib(monkeypatch: pytest.MonkeyPatch) -> None:
    import simcore.semihosting as semi

    monkeypatch.setattr(semi, "MAX_STRING", 16)
    sh, host, _ = make()
    host.mem_write(BUF, b"x" * 40 + b"\0")
    assert call(sh, "WRITE0", BUF) == MINUS1
    assert call(sh, "ERRNO", 0) == 36  # ENAMETOOLONG
    assert host.console == []


def test_file_names_follow_qemu(tmp_path: Path) -> None:
    (tmp_path / "a").write_bytes(b"A")
    sh, host, _ = make(root=tmp_path)
    host.mem_write(NAME, b"a\0b\0")  # a NUL inside: the name ends there, as for the host's open()
    h = call(sh, "OPEN", block(host, NAME, 0, 3))
    assert h != MINUS1 and call(sh, "FLEN", block(host, h)) == 1
    host.mem_write(NAME, b"abcd")  # no NUL after the given length (3)
    assert call(sh, "OPEN", block(host, NAME, 0, 3)) == MINUS1 and call(sh, "ERRNO", 0) == EINVAL
    host.mem_write(NAME, b"\xff\xfe\0")  # not UTF-8: still a name, still confined
    assert call(sh, "OPEN", block(host, NAME, 0, 2)) == MINUS1 and call(sh, "ERRNO", 0) == 2
    assert open_(sh, host, b"", 0) == MINUS1  # the root itself is not a file name


def test_features_file_is_read_only() -> None:
    sh, host, _ = make()
    assert open_(sh, host, b":semihosting-features", 4) == MINUS1
    assert call(sh, "ERRNO", 0) == EACCES


def test_flen_reflects_writes(tmp_path: Path) -> None:
    sh, host, _ = make(root=tmp_path)
    h = open_(sh, host, b"log.bin", 6)  # "w+b"
    host.mem_write(BUF, b"0123456789")
    assert call(sh, "WRITE", block(host, h, BUF, 10)) == 0
    assert call(sh, "FLEN", block(host, h)) == 10
    assert call(sh, "WRITE", block(host, h, BUF, 5)) == 0
    assert call(sh, "FLEN", block(host, h)) == 15


def test_open_handles_are_limited(tmp_path: Path) -> None:
    import simcore.semihosting as semi

    (tmp_path / "f").write_bytes(b"")
    sh, host, _ = make(root=tmp_path)
    handles = [open_(sh, host, b"f", 0) for _ in range(semi.MAX_HANDLES + 5)]
    assert handles.count(MINUS1) == 8  # 3 console handles are open from the start
    assert call(sh, "ERRNO", 0) == EMFILE
    assert call(sh, "CLOSE", block(host, handles[0])) == 0
    assert open_(sh, host, b"f", 0) != MINUS1
    sh.close()


def test_file_size_is_limited(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import simcore.semihosting as semi

    monkeypatch.setattr(semi, "MAX_FILE_BYTES", 12)
    sh, host, _ = make(root=tmp_path)
    h = open_(sh, host, b"big.bin", 4)
    host.mem_write(BUF, b"x" * 10)
    assert call(sh, "WRITE", block(host, h, BUF, 10)) == 0
    assert call(sh, "WRITE", block(host, h, BUF, 10)) == 8  # 2 fit, 8 refused
    assert call(sh, "ERRNO", 0) == EFBIG
    assert call(sh, "SEEK", block(host, h, 0x7FFFFFFF)) == 0
    assert call(sh, "WRITE", block(host, h, BUF, 10)) == 10  # no sparse file past the limit
    sh.close()
    assert (tmp_path / "big.bin").stat().st_size == 12


def test_get_cmdline_too_small_is_e2big() -> None:
    sh, host, _ = make(cmdline="app.elf with arguments")
    assert call(sh, "GET_CMDLINE", block(host, BUF, 4)) == MINUS1
    assert call(sh, "ERRNO", 0) == E2BIG
