"""The peripheral bus (simcore/bus.py) and its register file (simcore/regfile.py, C and Python twin).

Driven through bus reads and writes without a CPU; expected values are the reference manuals'
reset values and the SVD access rules, not the code's.
"""

from __future__ import annotations

import random
from typing import Any

import pytest

from simcore.board import Peripheral
from simcore.bus import PeripheralBus, Poll
from simcore.peripherals import register_model
from simcore.peripherals.base import PeripheralModel
from simcore.peripherals.sensors.testing import FakeHost
from simcore.regfile import FIT, NOTIFY, PY_READ, PY_WRITE, NativeRegFile, PyRegFile, regfile_library
from simcore.reports import Reports
from simcore.runtypes import AccessKind, ReportChannel

NATIVE = [False, True] if regfile_library() is not None else [False]


class FakeMachine(FakeHost):
    """What the bus asks of the machine: report (into real Reports), guard, the MMIO access being served."""

    def __init__(self) -> None:
        super().__init__()
        self._mmio: tuple[int, bool] | None = None
        self.located: list[tuple[int, bool] | None] = []
        self.reports = Reports(self._locate)
        self.stops: list[str] = []

    def _locate(self) -> tuple[int | None, str, int]:
        self.located.append(self._mmio)
        return 0x08000100, "fake+0x0", self.cycles

    def report(self, channel: ReportChannel, where: str, detail: str, access: AccessKind | None = None) -> None:
        super().report(channel, where, detail, access)
        self.reports.note(channel, where, detail, access)

    def guard(self, fn: Any) -> Any:
        return fn()

    def guard_access(self, fn: Any) -> Any:
        return fn()

    def guard_host(self, fn: Any) -> Any:
        return fn()


def make_bus(part: str | None, models: list[Any] = (), native: bool = False) -> tuple[PeripheralBus, FakeMachine]:
    m = FakeMachine()
    built = [cls(Peripheral(name, cls.TYPE, base, part=part), m) for cls, name, base in models]
    bus = PeripheralBus(m, built, part, native=native)
    m.reports.syncers.append(bus.sync_reports)
    return bus, m


def unimplemented(m: FakeMachine) -> dict[str, dict[str, Any]]:
    return {r["where"]: r for r in m.reports.to_dict()["unimplemented"]}


RCC, RCC_CR, RCC_PLLCFGR = 0x40023800, 0x40023800, 0x40023804


@pytest.mark.parametrize("native", NATIVE)
def test_plain_registers_read_reset_values_and_keep_writes_as_the_svd_allows(native: bool) -> None:
    bus, m = make_bus("stm32f407vg", native=native)
    assert bus.rf.native is native
    assert bus.rf.read(RCC_CR, 4) == 0x00000083  # RM0090 7.3.1: HSION, HSIRDY, HSITRIM 16
    assert bus.rf.read(RCC_PLLCFGR, 4) == 0x24003010  # 7.3.2
    assert bus.rf.read(0x40020000, 4) == 0xA8000000  # GPIOA_MODER, 8.4.1
    bus.rf.write(RCC_CR, 4, 0x00010000)  # HSEON; HSION and the read-only HSIRDY written 0
    assert bus.rf.read(RCC_CR, 4) == 0x00010002  # HSION cleared (rw), HSIRDY kept (r), HSEON set
    bus.rf.write(RCC_PLLCFGR + 1, 1, 0x54)  # a byte write: bits 8-15 from 0x30 to 0x54
    assert bus.rf.read(RCC_PLLCFGR, 4) == 0x24005410
    assert bus.rf.read(RCC_PLLCFGR + 2, 2) == 0x2400  # halfword of the upper lanes
    reps = unimplemented(m)
    assert set(reps) == {"RCC.CR", "RCC.PLLCFGR", "GPIOA.MODER"}
    cr = reps["RCC.CR"]
    assert (cr["reads"], cr["writes"]) == (2, 1)
    assert cr["fields"] == ["HSION", "HSITRIM", "HSEON"]  # the fields the write changed (not HSIRDY)
    assert "reset value 0x83" in cr["detail"]
    assert (reps["RCC.PLLCFGR"]["reads"], reps["RCC.PLLCFGR"]["writes"]) == (3, 1)
    assert reps["RCC.PLLCFGR"]["fields"] == ["PLLN4", "PLLN7", "PLLN8"]  # the F407 SVD has PLLN bit by bit
    assert m.located[0] == (RCC_CR, False)  # the report locates the access being served
    assert bus.value("RCC.CR") == 0x00010002


@pytest.mark.parametrize("native", NATIVE)
def test_write_only_and_read_only_registers(native: bool) -> None:
    bus, m = make_bus("stm32f407vg", native=native)
    bsrr, idr = 0x40020018, 0x40020010  # GPIOA BSRR (w), IDR (r)
    bus.rf.write(bsrr, 4, 0x00010001)
    assert bus.rf.read(bsrr, 4) == 0  # write-only: reads 0
    assert bus.value("GPIOA.BSRR") == 0x00010001  # ...but keeps what was written
    bus.rf.write(idr, 4, 0xFFFF)
    assert bus.rf.read(idr, 4) == 0  # read-only: the write changed nothing
    assert unimplemented(m)["GPIOA.IDR"]["detail"].startswith("register not implemented")


@pytest.mark.parametrize("native", NATIVE)
def test_nrf52_set_and_clear_registers_are_views_of_one_value(native: bool) -> None:
    bus, m = make_bus("nrf52840", native=native)
    rtc0 = 0x4000B000
    intenset, intenclr, evten, evtenset, evtenclr = 0x304, 0x308, 0x340, 0x344, 0x348  # PS v1.7 6.22.10
    bus.rf.write(rtc0 + intenset, 4, 0x3)
    bus.rf.write(rtc0 + intenset, 4, 0x10000)
    assert bus.rf.read(rtc0 + intenclr, 4) == 0x10003
    bus.rf.write(rtc0 + intenclr, 4, 0x1)
    assert bus.rf.read(rtc0 + intenset, 4) == 0x10002
    bus.rf.write(rtc0 + evtenset, 4, 0x2)
    assert bus.rf.read(rtc0 + evten, 4) == 0x2 and bus.rf.read(rtc0 + evtenclr, 4) == 0x2
    bus.rf.write(rtc0 + evten, 4, 0x10000)  # EVTEN itself is read-write
    assert bus.rf.read(rtc0 + evtenset, 4) == 0x10000
    # P0 OUTSET/OUTCLR are views of OUT; P0 and P1 share a page
    p0, p1 = 0x50000000, 0x50000300
    bus.rf.write(p0 + 0x508, 4, 0x5)  # OUTSET
    bus.rf.write(p1 + 0x508, 4, 0x8)
    bus.rf.write(p0 + 0x50C, 4, 0x1)  # OUTCLR
    assert bus.rf.read(p0 + 0x504, 4) == 0x4 and bus.rf.read(p1 + 0x504, 4) == 0x8
    assert {"RTC0.INTENSET", "P0.OUTSET", "P1.OUTSET", "P0.OUT"} <= set(unimplemented(m))


@pytest.mark.parametrize("native", NATIVE)
def test_addresses_without_a_register_or_a_peripheral_are_reported(native: bool) -> None:
    bus, m = make_bus("stm32f407vg", native=native)
    assert bus.rf.read(RCC + 0x3FC, 4) == 0  # inside RCC's window, no register
    bus.rf.write(0x40022400, 4, 1)  # GPIOJ: not on the F407 (an erratum removed it)
    reps = unimplemented(m)
    assert reps["RCC+0x3fc"]["detail"].startswith("read of 4 bytes: no register here")
    assert reps["0x40022400"]["detail"].startswith("write of 0x1: no peripheral modelled here")


@register_model
class ExampleRcc(PeripheralModel):
    """A made-up RCC model using the SVD API as docs/registers.md shows it."""

    TYPE = "test_svd_rcc"
    SVD = "RCC"
    PARTS = ("stm32f407vg",)
    PLAIN = ("AHB1ENR",)
    ON_WRITE = {"CR.HSEON": "_hse_changed"}
    NOT_IMPLEMENTED = ("CR.CSSON",)

    def __init__(self, config: Peripheral, host: Any) -> None:
        self.hse: list[tuple[int, int]] = []
        super().__init__(config, host)

    def _hse_changed(self, old: int, new: int) -> None:
        self.hse.append((old, new))
        if new:
            self.values["CR"] |= 1 << 17  # HSERDY at once (a real model waits for the start-up time)

    def read_CFGR(self) -> int:
        sw = self.values["CFGR"] & 0x3
        return (self.values["CFGR"] & ~0xC) | (sw << 2)  # SWS follows SW


@pytest.mark.parametrize("native", NATIVE)
def test_a_model_takes_its_registers_from_the_svd_and_the_rest_stays_generic(native: bool) -> None:
    bus, m = make_bus("stm32f407vg", [(ExampleRcc, "rcc", RCC)], native=native)
    model = bus.device(RCC)
    assert isinstance(model, ExampleRcc) and model.svd is not None and model.svd.name == "RCC"
    assert model.irq == 5  # from the SVD: the board entry gave none
    assert bus.rf.read(RCC_CR, 4) == 0x83  # the model's CR: reset value from the SVD
    bus.rf.write(RCC_CR, 4, 0x00010083)
    assert model.hse == [(0, 1)] and bus.rf.read(RCC_CR, 4) == 0x00030083
    bus.rf.write(RCC + 0x08, 4, 0x2)  # CFGR.SW = PLL
    assert bus.rf.read(RCC + 0x08, 4) == 0xA
    bus.rf.write(RCC + 0x30, 4, 0x1)  # AHB1ENR: plain storage of the model
    assert model.values["AHB1ENR"] == 0x1
    assert bus.rf.read(RCC_PLLCFGR, 4) == 0x24003010  # not implemented by the model: generic
    bus.rf.write(RCC_CR, 4, 0x00090083)  # CSSON: stored, reported
    reps = unimplemented(m)
    assert set(reps) == {"RCC.PLLCFGR", "RCC.CR.CSSON"}
    assert bus.counts("RCC.CR") == (2, 2)  # a model's register is counted on the bus too


def test_mistakes_in_an_svd_model_are_type_errors_before_it_is_built() -> None:
    class BadHandler(PeripheralModel):
        SVD = "RCC"
        PARTS = ("stm32f407vg",)

        def write_PLLCFG(self, value: int) -> None: ...

    class BadField(PeripheralModel):
        SVD = "RCC"
        PARTS = ("stm32f407vg",)
        ON_WRITE = {"CR.HSEONN": "_x"}

        def _x(self, old: int, new: int) -> None: ...

    class BadPlain(PeripheralModel):
        SVD = "RCC"
        PARTS = ("stm32f407vg",)
        PLAIN = ("AHB9ENR",)

    class BadCallback(PeripheralModel):
        SVD = "RCC"
        PARTS = ("stm32f407vg",)
        ON_WRITE = {"CR.HSEON": "_missing"}

    for cls, message in ((BadHandler, "write_PLLCFG handles no declared register"), (BadField, "has no field HSEONN"),
                         (BadPlain, "RCC has no register AHB9ENR"), (BadCallback, "calls _missing")):
        with pytest.raises(TypeError, match=message):
            cls.check_class()  # what building the first instance does (tests check every model type)
        with pytest.raises(TypeError, match=message):
            cls(Peripheral("rcc", "x", RCC, part="stm32f407vg"), FakeMachine())


@pytest.mark.parametrize("native", NATIVE)
def test_polls_are_seen_for_plain_and_model_registers(native: bool) -> None:
    bus, m = make_bus("stm32f407vg", [(ExampleRcc, "rcc", RCC)], native=native)
    pc = [0x08000200]
    if native:
        import ctypes

        cell = ctypes.c_uint32(pc[0])
        bus.rf.set_poll(0, None, ctypes.addressof(cell))
        bus._pc_source = ctypes.addressof(cell)
    else:
        bus._pc_source = lambda: pc[0]
    polls: list[Poll] = []
    bus.watch_polls(8, polls.append)
    for _ in range(20):
        bus.rf.read(RCC_PLLCFGR, 4)
    assert [(p.name, p.count, p.plain, p.value) for p in polls] == [("RCC.PLLCFGR", 8, True, 0x24003010),
                                                                   ("RCC.PLLCFGR", 16, True, 0x24003010)]
    polls.clear()
    for _ in range(7):
        bus.rf.read(RCC_CR, 4)
    bus.rf.write(RCC_CR, 4, 0x83)  # a write ends the streak
    for _ in range(7):
        bus.rf.read(RCC_CR, 4)
    assert polls == []
    bus.rf.read(RCC_CR, 4)
    assert [(p.name, p.count, p.plain) for p in polls] == [("RCC.CR", 8, False)]
    polls.clear()
    bus.mute_poll(bus.entry("RCC.PLLCFGR").index)  # muted: no calls for the rest of this streak
    for _ in range(40):
        bus.rf.read(RCC_PLLCFGR, 4)
    assert polls == []
    bus.rf.write(RCC_PLLCFGR, 4, 0x24003011)  # a write starts a new streak, watched again
    for _ in range(8):
        bus.rf.read(RCC_PLLCFGR, 4)
    assert [(p.name, p.count, p.value) for p in polls] == [("RCC.PLLCFGR", 8, 0x24003011)]
    polls.clear()
    for _ in range(4):  # the same register from two blocks in turn is no poll
        for block in (0x08000300, 0x08000400):
            if native:
                cell.value = block
            pc[0] = block
            bus.rf.read(RCC_PLLCFGR, 4)
    assert polls == []


def test_the_c_register_file_and_its_python_twin_agree_on_random_accesses() -> None:
    if regfile_library() is None:
        pytest.skip("the native extension is not built")
    rng = random.Random(15)
    logs: dict[str, list[Any]] = {"py": [], "c": []}
    files = {}
    for key, cls in (("py", PyRegFile), ("c", NativeRegFile)):
        log = logs[key]

        def py(addr: int, size: int, value: int, write: int, log: list[Any] = log) -> int:
            log.append(("py", addr, size, value, write))
            return (addr * 2654435761) & 0xFFFFFFFF & ((1 << (8 * min(size, 4))) - 1)

        def notify(i: int, addr: int, size: int, value: int, write: int, log: list[Any] = log) -> None:
            log.append(("notify", i, addr, size, value, write))

        files[key] = cls(py, notify)
    regs = []
    for f in files.values():
        for i in range(12):
            s = f.add_store(0x1234_0000 + i * 0x1111)
            f.add_reg(s, 0xFFFF00FF, 0x00000F00, 0x0000F000 if i % 2 else 0, 0xFFFFFFF0, NOTIFY)
            f.map(0x40001000 + 4 * i, i)
        f.add_reg(0, 0, 0, 0, 0, PY_READ | PY_WRITE)  # a model's register
        f.map(0x40001100, 12)
        f.add_reg(0, 0xFF, 0, 0, 0xFF, 0)  # a view of store 0
        f.map(0x40001104, 13)
        f.add_reg(1, 0x0000FFFF, 0x00010000, 0x00020000, 0x0003FFFF, FIT)  # a model's register held for it
        f.map(0x40001108, 14)
    for _ in range(3000):
        addr = 0x40001000 + rng.randrange(0, 0x110)
        size = rng.choice((1, 2, 4))
        if rng.random() < 0.5:
            value = rng.getrandbits(8 * size) if rng.random() < 0.7 else rng.getrandbits(min(18, 8 * size))
            for f in files.values():
                f.write(addr, size, value)
            regs.append(("w", addr, size, value))
        else:
            got = {k: f.read(addr, size) for k, f in files.items()}
            assert got["py"] == got["c"], (addr, size)
    for value in (0x1234, 0x30001, 0x12345678):  # two whole words that fit (stored in C), one that does not
        for f in files.values():
            f.write(0x40001108, 4, value)
    assert logs["py"] == logs["c"]
    for i in range(15):
        assert files["py"].reg(i) == files["c"].reg(i)
    fit = [e for e in logs["c"] if e[0] == "py" and e[1] & ~3 == 0x40001108]
    assert fit and all(e[2] != 4 or e[3] & ~0x3FFFF for e in fit if e[4])  # only writes that do not fit reach Python
    assert not [e for e in fit if not e[4]]  # reads never do
    assert files["c"].reg(14)["writes"] > len(fit)  # the fitting ones were served in C
    assert [files["py"].value(i) for i in range(12)] == [files["c"].value(i) for i in range(12)]


@pytest.mark.parametrize("native", NATIVE)
def test_save_and_load_put_values_counters_and_lazily_built_peripherals_back(native: bool) -> None:
    bus, m = make_bus("stm32f407vg", native=native)
    bus.rf.write(RCC_PLLCFGR, 4, 0x1)
    saved = bus.save()
    entries = dict(bus.entries)
    bus.rf.write(RCC_PLLCFGR, 4, 0x2)
    bus.rf.read(RCC_PLLCFGR, 4)
    assert bus.rf.read(0x40006404, 4) == 0x00000C02  # CAN1.MSR: CAN1 built after the save
    assert len(bus.entries) > len(entries)
    bus.load(saved)
    bus.entries.clear()
    bus.entries.update(entries)  # what the snapshot's walk does to the Python side
    assert bus.value("RCC.PLLCFGR") == bus.rf.read(RCC_PLLCFGR, 4) == 0x20000001  # bit 29: reserved, reset 1
    assert bus.counts("RCC.PLLCFGR") == (1, 1)  # the read just made, after the saved write
    assert bus.rf.slot(0x40006404) == 0  # CAN1's words went back to Python ...
    bus._claimed.discard("CAN1")
    bus._looked.discard(0x40006404)
    assert bus.rf.read(0x40006404, 4) == 0x00000C02  # ... and are built again on their next access


def test_queue_entries_agree_between_c_and_the_python_twin() -> None:
    """QUEUE (a model's streaming data register): random fills, deadlines, notify points, reads of every size
    and takes give the same values, Python calls, notifications, counters and takes in both register files."""
    import ctypes

    from simcore.regfile import QUEUE

    assert regfile_library() is not None, "the native extension is not built"
    rng = random.Random(12)
    clock = ctypes.c_uint64(0)
    logs: dict[str, list[Any]] = {"py": [], "c": []}
    files: dict[str, Any] = {}
    queues: dict[str, int] = {}
    for key, cls in (("py", PyRegFile), ("c", NativeRegFile)):
        log = logs[key]

        def py(addr: int, size: int, value: int, write: int, log: list[Any] = log) -> int:
            log.append(("py", addr, size, value, write))
            return 0xA5A5_0000 | (len(log) & 0xFFFF)

        def notify(i: int, addr: int, size: int, value: int, write: int, log: list[Any] = log) -> None:
            log.append(("notify", i, addr, size, value, write))

        f = files[key] = cls(py, notify)
        f.add_store(0)
        f.add_reg(0, 0, 0, 0, 0, PY_READ | PY_WRITE)
        f.map(0x40002000, 0)

        def served(q: int, log: list[Any] = log, key: str = key) -> None:
            log.append(("served", q, files[key].queue_state(q)))

        f.set_queue_source(served, ctypes.addressof(clock) if f.native else (lambda: clock.value))
        queues[key] = f.queue_new(0)
        assert f.reg(0)["flags"] & QUEUE
    for _ in range(3000):
        r = rng.random()
        if r < 0.08:
            words = [rng.getrandbits(32) for _ in range(rng.randrange(0, 20))]
            notify_at = rng.randrange(0, len(words) + 2)
            deadline = clock.value + rng.randrange(0, 50)
            for key, f in files.items():
                f.queue_fill(queues[key], words, notify_at, deadline)
        elif r < 0.12:
            took = {key: f.queue_take(queues[key]) for key, f in files.items()}
            assert took["py"] == took["c"]
        elif r < 0.3:
            clock.value += rng.randrange(0, 8)
        else:
            addr, size = rng.choice(((0x40002000, 4), (0x40002000, 4), (0x40002000, 2), (0x40002001, 1)))
            got = {key: f.read(addr, size) for key, f in files.items()}
            assert got["py"] == got["c"], (addr, size)
    assert logs["py"] == logs["c"]
    assert sum(1 for e in logs["c"] if e[0] == "served") > 10 and sum(1 for e in logs["c"] if e[0] == "py") > 100
    assert files["py"].reg(0) == files["c"].reg(0)
    assert files["py"].queue_state(queues["py"]) == files["c"].queue_state(queues["c"])


def test_timed_entries_agree_between_c_and_the_python_twin() -> None:
    """TIMED (a status register on a virtual-time schedule): random schedules, clock steps, reads of every size,
    writes, and next_change give the same values, Python calls and counters in both register files; and the
    values follow the rule of a machine event (before while the block-entry clock is short of ``at``, after from
    it, Python from ``end``), checked here against the schedule directly."""
    import ctypes

    from simcore.regfile import NEVER, QUEUE, TIMED

    assert regfile_library() is not None, "the native extension is not built"
    rng = random.Random(7)
    clock = ctypes.c_uint64(0)  # block-entry clock
    cycles = ctypes.c_uint64(0)  # cycle count (queues)
    logs: dict[str, list[Any]] = {"py": [], "c": []}
    files: dict[str, Any] = {}
    timed: dict[str, int] = {}
    queues: dict[str, int] = {}
    for key, cls in (("py", PyRegFile), ("c", NativeRegFile)):
        log = logs[key]

        def py(addr: int, size: int, value: int, write: int, log: list[Any] = log) -> int:
            log.append(("py", addr, size, value, write))
            return 0x5A5A_0000 | (len(log) & 0xFFFF)

        def notify(i: int, addr: int, size: int, value: int, write: int, log: list[Any] = log) -> None:
            log.append(("notify", i, addr, size, value, write))

        f = files[key] = cls(py, notify)
        for k in range(2):
            f.add_store(0)
            f.add_reg(k, 0, 0, 0, 0, PY_READ | PY_WRITE)
            f.map(0x40013008 + 4 * k, k)
        f.set_clock(ctypes.addressof(clock) if f.native else (lambda: clock.value))
        f.set_queue_source(None, ctypes.addressof(cycles) if f.native else (lambda: cycles.value))
        timed[key] = f.timed_new(0)
        assert f.timed_new(0) == timed[key]  # the same schedule again
        queues[key] = f.queue_new(1)
        assert f.reg(0)["flags"] & TIMED and not f.reg(0)["flags"] & QUEUE
    schedule = (0, 0, NEVER, NEVER)
    served_in_c = 0
    for _ in range(4000):
        r = rng.random()
        if r < 0.08:
            at = clock.value + rng.randrange(0, 40)
            end = rng.choice((NEVER, at + rng.randrange(0, 30), clock.value + rng.randrange(0, 10)))
            schedule = (rng.getrandbits(32), rng.getrandbits(32), rng.choice((at, NEVER)), end)
            for key, f in files.items():
                f.timed_set(timed[key], *schedule)
        elif r < 0.11:
            words = [rng.getrandbits(32) for _ in range(rng.randrange(0, 5))]
            cycles.value = clock.value + rng.randrange(0, 4)
            deadline = clock.value + rng.randrange(0, 60)
            for key, f in files.items():
                f.queue_fill(queues[key], words, 0, deadline)
        elif r < 0.35:
            clock.value += rng.randrange(0, 6)
            cycles.value = clock.value + rng.randrange(0, 4)
        elif r < 0.38:
            for f in files.values():
                f.write(0x40013008, 4, 0x40)
        else:
            size = rng.choice((4, 4, 2, 1))
            addr = 0x40013008 + rng.choice((0, 0, 1, 2, 4))
            if (addr & 3) + size > 4:
                size = 4 - (addr & 3)
            n_py = len(logs["c"])
            got = {key: f.read(addr, size) for key, f in files.items()}
            assert got["py"] == got["c"], (addr, size)
            if addr < 0x4001300C and len(logs["c"]) == n_py:  # served from the schedule
                before, after, at, end = schedule
                assert clock.value < end
                want = after if clock.value >= at else before
                shift = 8 * (addr & 3)
                assert got["c"] == (want >> shift) & ((1 << (8 * size)) - 1)
                served_in_c += 1
            elif addr < 0x4001300C:
                assert clock.value >= schedule[3]  # past its end: the model serves it
        changes = {key: (f.next_change(0), f.next_change(1)) for key, f in files.items()}
        assert changes["py"] == changes["c"]
        before, after, at, end = schedule
        assert changes["c"][0] == min([x for x in (at, end) if x > clock.value], default=NEVER)
    assert logs["py"] == logs["c"]
    assert served_in_c > 500 and sum(1 for e in logs["c"] if e[0] == "py" and e[4] == 0) > 100
    assert files["py"].reg(0) == files["c"].reg(0)
    assert files["py"].reg(1) == files["c"].reg(1)
    # snapshots: the schedule is saved and restored; schedules made after the save read 0 for ever
    for key, f in files.items():
        f.timed_set(timed[key], 1, 2, 100, NEVER)
        saved = f.save()
        f.timed_set(timed[key], 3, 4, 5, 6)
        extra = f.timed_new(1)
        f.timed_set(extra, 7, 8, 9, 10)
        f.load(saved)
        assert f.timed_get(timed[key]) == (1, 2, 100, NEVER)
        assert f.timed_get(extra) == (0, 0, NEVER, NEVER)
    assert files["py"].next_change(2) == files["c"].next_change(2) == NEVER  # no such entry


def _twin_files(addrs: tuple[int, ...], clock: Any, cycles: Any = None) -> tuple[dict[str, Any], dict[str, list[Any]]]:
    """A Python and a C register file ("py", "c") with entry k at ``addrs[k]`` (Python-served, store 0), the
    block-entry clock on the ctypes counter ``clock`` (and the queue clock on ``cycles`` when given); the Python
    calls each makes are logged (answered 0xEE), for the stream twin tests to compare."""
    import ctypes

    logs: dict[str, list[Any]] = {"py": [], "c": []}
    files: dict[str, Any] = {}
    for key, cls in (("py", PyRegFile), ("c", NativeRegFile)):
        log = logs[key]

        def py(addr: int, size: int, value: int, write: int, log: list[Any] = log) -> int:
            log.append(("py", addr, size, value, write))
            return 0xEE

        f = files[key] = cls(py, lambda *a: None)
        for k, addr in enumerate(addrs):
            f.add_store(0)
            f.add_reg(k, 0, 0, 0, 0, PY_READ | PY_WRITE)
            f.map(addr, k)
        f.set_clock(ctypes.addressof(clock) if f.native else (lambda: clock.value))
        if cycles is not None:
            f.set_queue_source(None, ctypes.addressof(cycles) if f.native else (lambda: cycles.value))
    return files, logs


def test_xfer_streams_agree_between_c_and_the_python_twin() -> None:
    """XFER (an SPI data register whose transfer the register file carries): random streams, DR writes and reads, SR
    reads and clock steps give the same values, Python calls, counters and stream state in both register files;
    each frame's RXNE cycle is the one simcore/clock.py's Timeline gives for the frame's end on the wire (start at
    the write or at the previous end, whichever is later), and RXNE shows by the block-entry clock."""
    import ctypes

    from simcore.clock import Timeline
    from simcore.regfile import NEVER, XFER

    assert regfile_library() is not None, "the native extension is not built"
    rng = random.Random(3)
    clock = ctypes.c_uint64(0)  # block-entry clock
    cycles = ctypes.c_uint64(0)  # cycle count
    line = Timeline(84e6, "PLL")  # exact integer rate: the timeline's own arithmetic is the reference
    line.switch(5000, 168e6, "PLL")
    seg = line.current
    xi: dict[str, int] = {}
    DR, SR = 0x4001300C, 0x40013008
    TXE, RXNE, BSY = 2, 1, 0x80
    files, logs = _twin_files((SR, DR), clock, cycles)
    for key, f in files.items():
        xi[key] = f.xfer_new(1, 0)
        assert f.xfer_new(1, 0) == xi[key] and f.reg(1)["flags"] & XFER
        f.xfer_timeline(xi[key], seg.cycle, seg.fs, seg.rate_num, seg.rate_den)
    clock.value = cycles.value = 6000
    frame_fs = 8 * 10**15 // 5_250_000
    expect: dict[str, Any] = {}  # the reference frame end of the last frame started
    served = 0
    for _ in range(6000):
        r = rng.random()
        st = files["py"].xfer_get(xi["py"])
        if r < 0.03 or not st[0] and r < 0.2:
            miso = bytes(rng.getrandbits(8) for _ in range(rng.randrange(1, 30)))
            wire = line.fs_at(cycles.value) + frame_fs
            at0 = max(line.cycle_at(wire), cycles.value)
            limit = cycles.value + rng.choice((NEVER - cycles.value, rng.randrange(100, 3000)))
            mosi0 = 0x80 | rng.getrandbits(6)
            for key, f in files.items():
                f.xfer_start(xi[key], miso, mosi0, (TXE, TXE | BSY, TXE | RXNE), frame_fs, wire, at0, limit)
            expect = {"wire": wire, "at": at0, "limit": limit}
        elif r < 0.04:
            for key, f in files.items():
                f.xfer_stop(xi[key])
        elif r < 0.4:
            step = rng.randrange(0, 120)
            clock.value = cycles.value + rng.randrange(0, 3)
            cycles.value = clock.value + step
        elif r < 0.6:
            value = rng.getrandbits(8)
            before = files["c"].xfer_get(xi["c"])
            for f in files.values():
                f.write(DR, 4, value)
            after = files["c"].xfer_get(xi["c"])
            if after[2] == before[2] + 1:  # taken by the stream: the reference end of the frame
                wire = max(line.fs_at(cycles.value), expect["wire"]) + frame_fs
                expect["wire"], expect["at"] = wire, max(line.cycle_at(wire), cycles.value)
                assert after[5] == wire and after[6] == expect["at"] < expect["limit"] and after[7][-1] == value
                served += 1
        else:
            addr = rng.choice((SR, DR))
            got = {key: f.read(addr, 4) for key, f in files.items()}
            assert got["py"] == got["c"]
            st = files["c"].xfer_get(xi["c"])
            if addr == SR and st[0] and got["c"] != 0xEE:  # SR from the schedule: RXNE by the block-entry clock
                pending = st[3] + 1 == st[2]
                assert got["c"] == ((TXE | RXNE if clock.value >= st[6] else TXE | BSY) if pending else TXE)
        assert files["py"].xfer_get(xi["py"]) == files["c"].xfer_get(xi["c"])
    assert logs["py"] == logs["c"]
    assert served > 100 and sum(1 for e in logs["c"] if e[4] == 0) > 100
    assert files["py"].reg(0) == files["c"].reg(0) and files["py"].reg(1) == files["c"].reg(1)


def test_i2c_read_streams_agree_between_c_and_the_python_twin() -> None:
    """XFER in I2C mode (read-driven): random streams of bytes with arrival cycles, RXDR and ISR reads at random
    block-entry clocks give the same values, Python calls and state in both register files; a byte is served only
    between its arrival and the next one's (a later read would have stretched the bus: the model's), and ISR shows
    RXNE from a byte's arrival to its read, the last byte's value (STOPF) at the end."""
    import ctypes

    assert regfile_library() is not None, "the native extension is not built"
    rng = random.Random(5)
    clock = ctypes.c_uint64(1000)
    xi: dict[str, int] = {}
    ISR, RXDR = 0x40005818, 0x40005824
    BASE, RXNE, STOPF, BUSY = 0x8001, 4, 32, 0x8000
    files, logs = _twin_files((ISR, RXDR), clock)
    for key, f in files.items():
        xi[key] = f.xfer_new(1, 0)
    served = 0
    miso: bytes = b""
    ats: list[int] = []
    last = (BASE | RXNE | STOPF) & ~BUSY
    pre, pre_at = BUSY, 0  # a stream started at the read's START (xfer_i2c_address): ISR without DIR until pre_at
    for _ in range(12000):
        r = rng.random()
        if r < 0.02:
            n = rng.randrange(1, 40)
            miso = bytes(rng.getrandbits(8) for _ in range(n))
            pre_at = clock.value + rng.randrange(1, 40) if rng.random() < 0.5 else 0
            ats = [clock.value + 50 + 200 * j + rng.randrange(0, 3) for j in range(n)]
            for key, f in files.items():
                f.xfer_start_i2c(xi[key], miso, ats, (BASE, BASE | RXNE, last, last & ~RXNE))
                if pre_at:
                    f.xfer_i2c_address(xi[key], pre, pre_at)
        elif r < 0.4:
            clock.value += rng.choice((rng.randrange(0, 60), rng.randrange(0, 60), rng.randrange(0, 400)))
        else:
            addr = rng.choice((ISR, RXDR, RXDR))
            rd = files["c"].xfer_get(xi["c"])[3]
            got = {key: f.read(addr, 4) for key, f in files.items()}
            assert got["py"] == got["c"]
            active = files["c"].xfer_get(xi["c"])[0]
            if addr == RXDR and active and got["c"] != 0xEE:
                assert ats[rd] <= clock.value and (rd + 1 == len(ats) or clock.value < ats[rd + 1])
                assert got["c"] == miso[rd]
                served += 1
            elif addr == ISR and active:
                if rd == len(ats):
                    assert got["c"] == last & ~RXNE
                elif clock.value >= ats[rd]:
                    assert got["c"] == (last if rd + 1 == len(ats) else BASE | RXNE)
                else:
                    assert got["c"] == (pre if clock.value < pre_at else BASE)
        assert files["py"].xfer_get(xi["py"]) == files["c"].xfer_get(xi["c"])
        assert files["py"].timed_get(0) == files["c"].timed_get(0)
    assert logs["py"] == logs["c"]
    assert served > 150 and sum(1 for e in logs["c"] if e[1] == RXDR) > 100


def test_i2c_evenly_spaced_read_streams_arrive_at_the_timeline_cycles() -> None:
    """rf_xfer_start_i2c_even (a read's arrival cycles computed in C from the wire times) in C and in the Python twin:
    on random clock segments (start cycle and time, rate num / den Hz) and random evenly spaced wire ends, byte j is
    not served one cycle before the first cycle whose time has reached its wire end (the ceiling of
    Timeline.cycle_at, computed here with Fractions) and is served from it, byte 0 at the model's cycle when given;
    both register files keep the same schedule and make the same Python calls."""
    import ctypes
    import math
    from fractions import Fraction

    assert regfile_library() is not None, "the native extension is not built"
    rng = random.Random(12)
    clock = ctypes.c_uint64(0)
    xi: dict[str, int] = {}
    ISR, RXDR = 0x40005818, 0x40005824
    BASE, RXNE, STOPF = 0x8001, 4, 32
    files, logs = _twin_files((ISR, RXDR), clock)
    for key, f in files.items():
        xi[key] = f.xfer_new(1, 0)
    served = 0
    for _ in range(60):
        seg_cycle, seg_fs = rng.randrange(0, 1 << 34), rng.randrange(0, 1 << 52)
        den = rng.choice((1, 1, 3, 7, 1000))
        num = rng.randrange(8_000_000 * den, 400_000_000 * den)  # a core clock of 8-400 MHz
        n = rng.randrange(2, 200)
        wire0 = seg_fs + rng.randrange(1, 10**12)
        step = rng.randrange(10**9, 5 * 10**10)  # 1-50 us: 9 SCL periods at 180 kHz-9 MHz
        miso = bytes(rng.getrandbits(8) for _ in range(n))
        want = [seg_cycle + math.ceil(Fraction(wire0 + j * step - seg_fs) * num / (den * 10**15)) for j in range(n)]
        at0 = want[0] - rng.randrange(0, 3) if rng.random() < 0.5 else 0
        if at0:
            want[0] = at0
        last = (BASE | RXNE | STOPF) & ~0x8000
        for key, f in files.items():
            f.xfer_timeline(xi[key], seg_cycle, seg_fs, num, den)
            f.xfer_start_i2c_even(xi[key], miso, wire0, step, at0, (BASE, BASE | RXNE, last, last & ~RXNE))
        for j in range(n):
            for t, served_here in ((want[j] - 1, False), (want[j], True)):
                clock.value = t
                got = {key: f.read(RXDR, 4) for key, f in files.items()}
                assert got["py"] == got["c"] == (miso[j] if served_here else 0xEE), (j, t, want[j])
                assert files["py"].timed_get(0) == files["c"].timed_get(0)
            served += 1
        assert files["py"].xfer_get(xi["py"]) == files["c"].xfer_get(xi["c"])
        for key, f in files.items():
            f.xfer_stop(xi[key])
    assert logs["py"] == logs["c"] and served > 3000
    for key, f in files.items():  # a wire end before the segment's start: refused in both
        f.xfer_timeline(xi[key], 100, 10**12, 80_000_000, 1)
        with pytest.raises(ValueError):
            f.xfer_start_i2c_even(xi[key], b"ab", 10**12 - 1, 10**10, 0, (BASE, BASE | RXNE, last, last & ~RXNE))


def test_i2c_read_stream_stopf_clears_agree_between_c_and_the_python_twin() -> None:
    """XICR: an I2C read stream armed with its interrupt clear register (rf_xfer_i2c_icr) serves the ICR write of
    exactly STOPF once every byte was read, and only then (not before the last byte was read, not another value, size
    or a second time, not when unarmed or stopped); ISR then reads the final value without STOPF. Random streams,
    reads, ICR writes and clock steps give the same values, Python calls and state in C and in the Python twin."""
    import ctypes

    from simcore.regfile import XICR

    assert regfile_library() is not None, "the native extension is not built"
    rng = random.Random(7)
    clock = ctypes.c_uint64(1000)
    xi: dict[str, int] = {}
    ISR, ICR, RXDR = 0x40005818, 0x4000581C, 0x40005824
    BASE, RXNE, STOPF = 0x8001, 4, 32
    last = (BASE | RXNE | STOPF) & ~0x8000
    files, logs = _twin_files((ISR, RXDR, ICR), clock)
    for key, f in files.items():
        xi[key] = f.xfer_new(1, 0)
    served = refused = 0
    armed = False
    n = 0
    for _ in range(15000):
        r = rng.random()
        if r < 0.03:
            n = rng.randrange(1, 12)
            ats = [clock.value + 30 + 100 * j for j in range(n)]
            autoend = rng.random() < 0.8
            fin = last if autoend else (BASE | RXNE | 64)  # AUTOEND: STOPF; else TC
            armed = rng.random() < 0.8
            miso = bytes(rng.getrandbits(8) for _ in range(n))
            for key, f in files.items():
                f.xfer_start_i2c(xi[key], miso, ats, (BASE, BASE | RXNE, fin, fin & ~RXNE))
                if armed:
                    f.xfer_i2c_icr(xi[key], 2, STOPF)
                    assert f.reg(2)["flags"] & XICR
        elif r < 0.04:
            for key, f in files.items():
                f.xfer_stop(xi[key])
        elif r < 0.4:
            clock.value += rng.randrange(0, 150)
        elif r < 0.6:
            value = rng.choice((STOPF, STOPF, STOPF, STOPF | 16, 16, 0))
            size = rng.choice((4, 4, 4, 1))
            st = files["c"].xfer_get(xi["c"])
            done = files["c"].xfer_icr_done(xi["c"])
            isr_final = files["c"].timed_get(0)
            rule = (st[0] and armed and not done and st[3] == st[1] and value == STOPF and size == 4
                    and isr_final[1] & STOPF)
            calls = len(logs["c"])
            for f in files.values():
                f.write(ICR, size, value)
            taken = len(logs["c"]) == calls
            assert taken == bool(rule)
            if taken:
                served += 1
                assert files["c"].xfer_icr_done(xi["c"]) and files["c"].read(ISR, 4) == files["py"].read(ISR, 4) == (
                    last & ~RXNE & ~STOPF)
            elif st[0] and st[3] == st[1]:
                refused += 1
        else:
            addr = rng.choice((ISR, RXDR, RXDR))
            got = {key: f.read(addr, 4) for key, f in files.items()}
            assert got["py"] == got["c"]
        assert files["py"].xfer_get(xi["py"]) == files["c"].xfer_get(xi["c"])
        assert files["py"].xfer_icr_done(xi["py"]) == files["c"].xfer_icr_done(xi["c"])
        assert files["py"].timed_get(0) == files["c"].timed_get(0)
    assert logs["py"] == logs["c"]
    assert served > 15 and refused > 50, (served, refused)


def test_xfer_scripts_agree_between_c_and_the_python_twin() -> None:
    """XFER with a script (several transfers of one read command; the chip select's BSRR writes taken by the register
    file, XCS): random scripts, chip-select words (right and wrong), DR writes (the command or not) and reads, SR
    reads and clock steps give the same values, Python calls and stream state in both register files; a chip-select
    write is served exactly when the rule says (deselect once the selected transfer's frames were all read, select
    while a whole transfer is left), with the cycle of the write, and a transfer's first frame only for the command."""
    import ctypes

    from simcore.regfile import NEVER, XCS

    assert regfile_library() is not None, "the native extension is not built"
    rng = random.Random(5)
    clock = ctypes.c_uint64(0)
    cycles = ctypes.c_uint64(0)
    xi: dict[str, int] = {}
    DR, SR, BSRR = 0x4001300C, 0x40013008, 0x40021018
    TXE, RXNE, BSY = 2, 1, 0x80
    LOW, HIGH = 1 << 19, 1 << 3
    files, logs = _twin_files((SR, DR, BSRR), clock, cycles)
    for key, f in files.items():
        xi[key] = f.xfer_new(1, 0)
        f.xfer_timeline(xi[key], 0, 0, 168_000_000, 1)
    clock.value = cycles.value = 6000
    frame_fs = 8 * 10**15 // 5_250_000
    served = {"cs": 0, "cmd": 0, "refused": 0}
    m = 2
    for _ in range(20000):
        r = rng.random()
        st = files["py"].xfer_get(xi["py"])
        if r < 0.01 or not st[0] and r < 0.2:
            m, reps = rng.randrange(2, 9), rng.randrange(1, 12)
            miso = bytes(rng.getrandbits(8) for _ in range(m * reps))
            at0 = cycles.value + 10
            for key, f in files.items():
                f.xfer_start(xi[key], miso, 0xA8, (TXE, TXE | BSY, TXE | RXNE), frame_fs, 0, at0, NEVER)
                f.xfer_script(xi[key], m, 2, LOW, HIGH)
                assert f.reg(2)["flags"] & XCS
        elif r < 0.015:
            for key, f in files.items():
                f.xfer_stop(xi[key])
        elif r < 0.35:
            step = rng.randrange(0, 200)
            clock.value = cycles.value + rng.randrange(0, 3)
            cycles.value = clock.value + step
        elif r < 0.55:
            value = rng.choice((LOW, HIGH, LOW, HIGH, HIGH | 1 << 4, 0))
            _a, n, k, rd, *_ = files["c"].xfer_get(xi["c"])
            edges, sel, _ats = files["c"].xfer_script_get(xi["c"])
            rule = st[0] and ((sel and value == HIGH and k == (edges // 2 + 1) * m and rd == k)
                              or (not sel and value == LOW and k + m <= n))
            for f in files.values():
                f.write(BSRR, 4, value)
            after = files["c"].xfer_script_get(xi["c"])
            assert (after[0] == edges + 1) == bool(rule)
            if rule:
                assert after[1] == (value == LOW) and after[2][-1] == cycles.value
                served["cs"] += 1
        elif r < 0.75:
            _a, n, k, rd, *_ = files["c"].xfer_get(xi["c"])
            edges, sel, _ats = files["c"].xfer_script_get(xi["c"])
            value = rng.choice((0xA8, 0xA8, 0xA8, 0xA8, 0x00, 0x8F)) if k % m == 0 else rng.getrandbits(8)
            for f in files.values():
                f.write(DR, 4, value)
            taken = files["c"].xfer_get(xi["c"])[2] == k + 1
            if taken and k % m == 0:
                assert value == 0xA8 and sel
                served["cmd"] += 1
            elif not taken and st[0] and k % m == 0 and value != 0xA8 and sel and rd == k and k < n:
                served["refused"] += 1
        else:
            addr = rng.choice((SR, DR))
            got = {key: f.read(addr, 4) for key, f in files.items()}
            assert got["py"] == got["c"]
        assert files["py"].xfer_get(xi["py"]) == files["c"].xfer_get(xi["c"])
        assert files["py"].xfer_script_get(xi["py"]) == files["c"].xfer_script_get(xi["c"])
    assert logs["py"] == logs["c"]
    assert served["cs"] > 100 and served["cmd"] > 20 and served["refused"] > 5, served


def test_i2c_register_address_writes_agree_between_c_and_the_python_twin() -> None:
    """XFER on an I2C transmit data register (the register-address write before a read, rf_xfer_start_i2c_tx):
    random writes of 1-3 bytes, TXDR writes, ISR and TXDR reads and clock steps give the same values, Python calls
    and state in both register files (the read stream on RXDR shares ISR's schedule). ISR: the waiting value before
    the address's acknowledge, TXIS from it (by the block-entry clock); a TXDR write is taken only once TXIS showed
    and the last byte ended, and its byte ends 9 SCL periods after the write or the last end, whichever is later,
    at the cycle simcore/clock.py's Timeline gives; TC (the done value) from the last byte's end."""
    import ctypes

    from simcore.clock import Timeline
    from simcore.regfile import NEVER, XFER

    assert regfile_library() is not None, "the native extension is not built"
    rng = random.Random(12)
    clock = ctypes.c_uint64(0)  # block-entry clock
    cycles = ctypes.c_uint64(0)  # cycle count
    line = Timeline(4e6, "MSI")
    line.switch(3000, 80e6, "PLL")
    seg = line.current
    txi: dict[str, int] = {}
    ISR, RXDR, TXDR = 0x40005818, 0x40005824, 0x40005828
    TXE, TXIS, TC, BUSY = 1, 2, 64, 0x8000
    files, logs = _twin_files((ISR, RXDR, TXDR), clock, cycles)
    for key, f in files.items():
        assert f.xfer_new(1, 0) == 0  # the read stream's slot first, as the model makes them
        txi[key] = f.xfer_new(2, 0)
        assert txi[key] == 1 and f.reg(2)["flags"] & XFER
        f.xfer_timeline(txi[key], seg.cycle, seg.fs, seg.rate_num, seg.rate_den)
    clock.value = cycles.value = 4000
    byte_fs = 9 * 10**15 // 400_000
    wait, ready = BUSY | TXE, BUSY | TXE | TXIS
    busy, done = ready & ~TXIS, (ready & ~TXIS) | TC
    expect: dict[str, Any] = {}
    served = 0
    for _ in range(12000):
        r = rng.random()
        st = files["c"].xfer_get(txi["c"])
        if r < 0.03 or not st[0] and r < 0.2:
            n = rng.randrange(1, 4)
            wire = line.fs_at(cycles.value) + 10 * byte_fs // 9
            at_ready = max(line.cycle_at(wire), cycles.value)
            limit = rng.choice((NEVER, cycles.value + rng.randrange(1000, 30000)))
            for key, f in files.items():
                f.xfer_start_i2c_tx(txi[key], n, (wait, ready, busy, done), byte_fs, wire, at_ready, limit)
            expect = {"wire": wire, "ready": at_ready, "at": at_ready, "limit": limit, "n": n}
        elif r < 0.04:
            for key, f in files.items():
                f.xfer_stop(txi[key])
        elif r < 0.4:
            step = rng.randrange(0, 400)
            clock.value = cycles.value + rng.randrange(0, 3)
            cycles.value = clock.value + step
        elif r < 0.6:
            value = rng.getrandbits(8)
            before = files["c"].xfer_get(txi["c"])
            for f in files.values():
                f.write(TXDR, 4, value)
            after = files["c"].xfer_get(txi["c"])
            if after[2] == before[2] + 1:  # taken: TXIS had shown, the last byte had ended
                assert clock.value >= expect["ready"] and (before[2] == 0 or clock.value >= expect["at"])
                wire = max(line.fs_at(cycles.value), expect["wire"]) + byte_fs
                expect["wire"], expect["at"] = wire, max(line.cycle_at(wire), cycles.value)
                assert after[5] == wire and after[6] == expect["at"] < expect["limit"] and after[7][-1] == value
                served += 1
        else:
            addr = rng.choice((ISR, ISR, TXDR))
            got = {key: f.read(addr, 4) for key, f in files.items()}
            assert got["py"] == got["c"]
            if addr == TXDR:
                assert got["c"] == 0xEE  # the model's
            elif st[0]:
                if st[2] == 0:
                    assert got["c"] == (ready if clock.value >= expect["ready"] else wait)
                elif clock.value >= st[6]:
                    assert got["c"] == (done if st[2] == expect["n"] else ready)
                else:
                    assert got["c"] == busy
        assert files["py"].xfer_get(txi["py"]) == files["c"].xfer_get(txi["c"])
    assert logs["py"] == logs["c"]
    assert served > 100 and sum(1 for e in logs["c"] if e[4] == 1) > 100
    assert all(files["py"].reg(k) == files["c"].reg(k) for k in range(3))


def test_i2c_armed_address_writes_agree_between_c_and_the_python_twin() -> None:
    """XCR (rf_xfer_i2c_arm, or rf_xfer_i2c_rearm with the last arm's parameters): a write slot armed on the control
    register serves the CR2 write of exactly the armed word, only while armed, and with a linked read stream only once
    that stream read every byte and took its STOPF clear (the read stream then stops, its state kept); the write
    starts there: ISR the waiting value until the address's acknowledge at the cycle simcore/clock.py's Timeline gives
    for max(now, the wire's end) + 10 SCL periods, TXIS from it. Random arms, streams, CR2/ICR/TXDR writes, reads and
    clock steps give the same values, Python calls and state in C and in the Python twin."""
    import ctypes

    from simcore.clock import Timeline
    from simcore.regfile import NEVER, XCR

    assert regfile_library() is not None, "the native extension is not built"
    rng = random.Random(21)
    clock = ctypes.c_uint64(0)
    cycles = ctypes.c_uint64(0)
    line = Timeline(4e6, "MSI")
    line.switch(3000, 80e6, "PLL")
    seg = line.current
    ISR, CR2, ICR, RXDR, TXDR = 0x40005818, 0x40005804, 0x4000581C, 0x40005824, 0x40005828
    TXE, TXIS, RXNE, STOPF, TC, BUSY, DIR = 1, 2, 4, 32, 64, 0x8000, 0x10000
    WORD = 0x6A << 1 | 1 << 16 | 1 << 13
    files, logs = _twin_files((ISR, RXDR, TXDR, CR2, ICR), clock, cycles)
    for f in files.values():
        assert f.xfer_new(1, 0) == 0 and f.xfer_new(2, 0) == 1  # the read stream's slot, then the write's
        f.xfer_timeline(1, seg.cycle, seg.fs, seg.rate_num, seg.rate_den)
    clock.value = cycles.value = 4000
    byte_fs = 9 * 10**15 // 400_000
    addr_fs = 10 * 10**15 // 400_000
    base = BUSY | TXE | DIR
    last = (base | RXNE | STOPF) & ~BUSY
    wait = (last & ~(RXNE | STOPF)) | BUSY
    ready = (wait & ~DIR) | TXIS | TXE
    sr = (wait, ready, ready & ~TXIS, (ready & ~TXIS) | TC)
    served = linked_served = refused = 0
    wire = 0
    armed_once = False
    for _ in range(15000):
        r = rng.random()
        if r < 0.04:  # a read stream (with its STOPF clear), then maybe the write armed behind it, or alone
            n = rng.randrange(1, 6)
            ats = [clock.value + 40 + 90 * j for j in range(n)]
            wire = line.fs_at(ats[-1])
            link = rng.random() < 0.7
            rearm = armed_once and rng.random() < 0.5
            armed_once = True
            for f in files.values():
                f.xfer_stop(1)
                f.xfer_i2c_take(1)
                f.xfer_start_i2c(0, bytes(range(n)), ats, (base, base | RXNE, last, last & ~RXNE))
                f.xfer_i2c_icr(0, 4, STOPF)
                if not link:
                    f.xfer_stop(0)
                if rearm:  # the parameters of the last full arm, another link and wire end
                    f.xfer_i2c_rearm(1, 0 if link else None, wire)
                else:
                    f.xfer_i2c_arm(1, 3, WORD, 0 if link else None, 1, sr, addr_fs, byte_fs, wire, NEVER)
                assert f.reg(3)["flags"] & XCR and f.xfer_i2c_armed(1)[0] == 1
        elif r < 0.45:
            clock.value = cycles.value + rng.randrange(0, 3)
            cycles.value = clock.value + rng.randrange(0, 300)
        elif r < 0.6:
            value = rng.choice((WORD, WORD, WORD, WORD | 1 << 25, WORD ^ 2))
            c = files["c"]
            st_read = c.xfer_get(0)
            armed = c.xfer_i2c_armed(1)[0]
            linked = st_read[0]
            rule = (armed == 1 and value == WORD and not c.xfer_get(1)[0]
                    and (not linked or (st_read[3] == st_read[1] and c.xfer_icr_done(0))))
            calls = len(logs["c"])
            for f in files.values():
                f.write(CR2, 4, value)
            taken = len(logs["c"]) == calls
            assert taken == rule
            if taken:
                served += 1
                linked_served += linked
                end = max(line.fs_at(cycles.value), wire) + addr_fs
                at = max(line.cycle_at(end), cycles.value)
                for f in files.values():
                    assert f.xfer_i2c_armed(1) == (2, end, at)
                    st = f.xfer_get(1)
                    assert st[0] and st[2] == 0 and st[5] == end and not f.xfer_get(0)[0]
                assert c.read(ISR, 4) == (ready if clock.value >= at else wait)
            elif armed == 1 and value == WORD:
                refused += 1
        elif r < 0.7:
            addr, value = rng.choice((ICR, ICR, TXDR)), rng.choice((STOPF, 0x3E))
            for f in files.values():
                f.write(addr, 4, value)
        else:
            addr = rng.choice((ISR, RXDR, RXDR))
            got = {key: f.read(addr, 4) for key, f in files.items()}
            assert got["py"] == got["c"]
        for x in (0, 1):
            assert files["py"].xfer_get(x) == files["c"].xfer_get(x)
        assert files["py"].xfer_i2c_armed(1) == files["c"].xfer_i2c_armed(1)
        assert files["py"].timed_get(0) == files["c"].timed_get(0)
    assert logs["py"] == logs["c"]
    assert served > 50 and linked_served > 10 and refused > 50, (served, linked_served, refused)
