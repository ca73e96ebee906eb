"""What every chip on a board's bus shares: a register file, the bus framing, output lines, time, recordings.

A device model subclasses :class:`BusDevice` and declares its 8-bit registers in the register
DSL (docs/registers.md) with the datasheet's names and addresses; the I2C and SPI framing
(sub-address byte, read/write bit, auto-increment) is done here once, with hooks where
parts differ (``sub_address``, ``spi_command``, ``next_address``). Output pins (INT1,
DRDY...) are :class:`~simcore.devices.bus.Line` objects the board wires to GPIO inputs.

Time is virtual time in femtoseconds (``now_fs``), so that an output data rate keeps its
period whatever the core clock does. Events are scheduled at a virtual time; one event at a
time per device (``wake``) at the next moment an output line may change, computed by the
model (``next_wakeup``), never one per sample unless a per-sample interrupt is routed.

:class:`FifoDevice` is what the motion chips add to that: sensors at output data rates feeding a
sample FIFO (rate changes, losses and overruns, the report).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from simcore.board import Device as DeviceConfig  # the board file's [[device]] entry
from simcore.devices.bus import FLOATING, Line
from simcore.errors import BadInputError
from simcore.registers import Register, RegisterBlock
from simcore.runtypes import AccessKind, ReportChannel

if TYPE_CHECKING:  # recordings (and numpy) load only when a board file names one: not at start-up
    from simcore.sources import Source

FS_PER_SECOND = 10**15
MAX_RECORDED_EVENTS = 1000


class DeviceHost(Protocol):
    """What a device needs of the machine: reports, the clock and events (a FakeHost in unit tests)."""

    def report(self, channel: ReportChannel, where: str, detail: str, access: AccessKind | None = None) -> None: ...
    def now_cycles(self) -> int: ...
    def cycles_per_second(self) -> float: ...
    def schedule(self, at_cycle: int, callback: Any, tag: str) -> Any: ...
    def cancel(self, handle: Any) -> None: ...


def now_fs(host: DeviceHost) -> int:
    """Virtual time now in femtoseconds: the host's time base, or cycles at the core clock where there is none."""
    fn = getattr(host, "now_fs", None)
    if fn is not None:
        return int(fn())
    return host.now_cycles() * FS_PER_SECOND // round(host.cycles_per_second())


def schedule_fs(host: DeviceHost, at_fs: int, callback: Callable[[], None], tag: str) -> Any:
    """An event at virtual time ``at_fs`` (the first cycle at which ``now_fs`` has reached it)."""
    fn = getattr(host, "schedule_at_fs", None)
    if fn is not None:
        return fn(at_fs, callback, tag)
    cycle = -(-at_fs * round(host.cycles_per_second()) // FS_PER_SECOND)
    return host.schedule(max(cycle, host.now_cycles()), callback, tag)


def cycle_of_fs(host: DeviceHost, at_fs: int) -> int:
    """The core cycle of a virtual time (for reports, which show both)."""
    fn = getattr(host, "cycle_at_fs", None)
    if fn is not None:
        return int(fn(at_fs))
    return -(-at_fs * round(host.cycles_per_second()) // FS_PER_SECOND)


class RateClock:
    """Sample ``k`` of a stream at ``rate_hz`` is complete at virtual time ``(k + 1) / rate_hz``.

    Times are whole femtoseconds: sample ``k`` counts as complete from ``floor((k + 1) / rate)``,
    the femtosecond in which it completes, so that a cycle whose time rounds down to that
    femtosecond sees it (an exact rational time never lands one cycle late). The same interface
    as the sensor block's SampleClock (``count_by``, ``arrival``), so the FIFOs work with either.
    """

    def __init__(self, rate_hz: float | Fraction) -> None:
        rate = rate_hz if isinstance(rate_hz, Fraction) else Fraction(rate_hz).limit_denominator(1_000_000)
        if rate <= 0:
            raise ValueError("sample rate must be positive")
        self.rate_hz = float(rate)
        self._num, self._den = rate.numerator, rate.denominator  # rate = num / den Hz
        self._den_fs = FS_PER_SECOND * self._den  # (count_by's divisor, made once: asked at every FIFO catch-up)

    def count_by(self, t_fs: int) -> int:
        """Samples complete at time ``t_fs``."""
        if t_fs < 0:
            return 0
        return -(-(t_fs + 1) * self._num // self._den_fs) - 1

    def arrival(self, k: int) -> int:
        """The femtosecond in which sample ``k`` completes."""
        return (k + 1) * self._den_fs // self._num

    @property
    def period_fs(self) -> float:
        return FS_PER_SECOND * self._den / self._num


class DeviceStats:
    """Counters and time-stamped overruns, drops and end of data, as the sensor block reports them."""

    def __init__(self, host: DeviceHost) -> None:
        self._host = host
        self.counts: dict[str, int] = {}
        self.events: list[dict[str, Any]] = []

    def count(self, kind: str, n: int = 1) -> None:
        self.counts[kind] = self.counts.get(kind, 0) + n

    def record(self, kind: str, at_fs: int, n: int = 1, **detail: Any) -> None:
        """Count ``n`` of ``kind`` and keep an entry with its virtual time (the first 1000 entries)."""
        self.count(kind, n)
        if len(self.events) < MAX_RECORDED_EVENTS:
            entry = {"kind": kind, "time_s": at_fs / FS_PER_SECOND, "cycle": cycle_of_fs(self._host, at_fs),
                     "count": n}
            entry.update(detail)
            self.events.append(entry)


class BusDevice(RegisterBlock):
    """A chip on an I2C and/or SPI bus with a file of 8-bit registers (the datasheet's map)."""

    TYPE: ClassVar[str] = ""
    OPTIONS: ClassVar[dict[str, str]] = {}
    COMMON_OPTIONS: ClassVar[dict[str, str]] = {
        "source": "path of the recording that feeds the chip (CSV, NPY, RESD, WAV; frames for cameras)",
        "source_options": "table of options for open_source (end, rate_hz, columns, ...)",
        "resample": "false (default: rates must match), true/'linear' or 'hold' to convert the recording",
    }
    LINES: ClassVar[tuple[str, ...]] = ()  # output pins, e.g. ("INT1", "INT2")
    I2C_ADDRESSES: ClassVar[tuple[int, ...]] = ()  # the addresses its address pin can select
    SPI_MODES: ClassVar[frozenset[int]] = frozenset()  # empty: no SPI interface
    CHAINED: ClassVar[bool] = False  # read_chained may tell a read after a drain (the nRF52 TWIM asks only then)
    ADDRESS_MASK: ClassVar[int] = 0x7F

    def __init__(self, config: DeviceConfig, host: DeviceHost) -> None:
        self.config = config
        self.lines = {pin: Line(f"{config.name}.{pin}") for pin in self.LINES}
        self.stats_ = DeviceStats(host)
        self.source: Source | None = None
        self._wake: Any = None
        self._ptr = 0
        self._inc = True
        self._phase = "idle"  # bus framing: idle, sub (I2C sub-address next), cmd (SPI command next), read, write
        self._spi_mode_reported = False
        self._replaying = False  # spi_replay: one update at the end of the frames
        self.before_stats: list[Callable[[], None]] = []  # a controller streaming to it settles before its figures
        super().__init__(host, config.name)
        self.host: DeviceHost = host
        # now()'s time base: the host's virtual time (an int), else cycles at the core clock (:func:`now_fs`)
        self._now_fs: Callable[[], int] = getattr(host, "now_fs", None) or functools.partial(now_fs, host)
        allowed = set(self.COMMON_OPTIONS) | set(self.OPTIONS)
        unknown = sorted(set(config.options) - allowed)
        if unknown:
            raise BadInputError(f"device {config.name} ({self.TYPE}): unknown option(s) {', '.join(unknown)}; "
                                f"known: {', '.join(sorted(allowed))}")
        if config.address is not None and self.I2C_ADDRESSES and config.address not in self.I2C_ADDRESSES:
            have = ", ".join(f"{a:#04x}" for a in self.I2C_ADDRESSES)
            raise BadInputError(f"device {config.name} ({self.TYPE}) at I2C address {config.address:#04x}; its "
                                f"address pin selects {have}")
        path = config.options.get("source")
        if path is not None:
            from simcore.sources import open_source

            self.attach(open_source(Path(str(path)), **dict(config.options.get("source_options", {}))))
        self.update()  # output pins at their reset levels

    # --- recordings ----------------------------------------------------------------------
    def attach(self, source: Source) -> None:
        """Feed the chip from ``source``; ``check_recording`` refuses what cannot suit it (before the run)."""
        self.source = source
        self.check_recording()

    def check_recording(self) -> None:
        """Raise BadInputError (one paragraph) if the recording cannot feed this chip (override)."""

    def require_source(self) -> Source:
        if self.source is None:
            raise BadInputError(f"device {self.name} ({self.TYPE}) was started by the firmware but has no recording; "
                                f"give it one with --sensor {self.name}=FILE or option source = \"FILE\"")
        return self.source

    def option(self, name: str, default: Any) -> Any:
        return self.config.options.get(name, default)

    def where(self, detail: str = "") -> str:
        return f"device {self.name} ({self.TYPE}){detail}"

    # --- time ------------------------------------------------------------------------------
    def now(self) -> int:
        """Virtual time now, femtoseconds (:func:`now_fs` with the host's time base taken once: asked at every
        access of a streaming chip)."""
        return self._now_fs()

    def next_wakeup(self) -> int | None:
        """The next virtual time at which an output line or flag may change by itself (override)."""
        return None

    def catch_up(self) -> None:
        """Bring lazily computed state (FIFO contents, flags) up to now (override)."""

    def line_levels(self) -> dict[str, bool]:
        """Electrical level of each output pin now, from flags and routing (override)."""
        return {}

    def update(self) -> None:
        """After an access or an event: catch up, drive the output lines, plan the next wake-up."""
        if self._replaying:
            return
        self.catch_up()
        for pin, level in self.line_levels().items():
            self.lines[pin].set(level)
        self.plan_wake(self.next_wakeup(), self.now())

    def plan_wake(self, at: int | None, now: int) -> None:
        """The one wake-up event at ``at`` (``next_wakeup``; None: none), no earlier than ``now``."""
        if at is not None:
            at = max(at, now)
        wake = self._wake
        if wake is not None:
            if at is not None and at == getattr(wake, "at_fs", None) and at > now:
                return  # the wake-up planned is still the next one, at the same time (and so the same cycle): kept
            self.host.cancel(wake)
            self._wake = None
        if at is not None:
            self._wake = schedule_fs(self.host, at, self._on_wake, f"{self.name}.wake")

    def _on_wake(self) -> None:
        self._wake = None
        self.update()

    def stop_events(self) -> None:
        if self._wake is not None:
            self.host.cancel(self._wake)
            self._wake = None

    # --- register callbacks the chips share (bound by name in their register tables) -----------
    def _routing(self, old: int, new: int) -> None:
        """Interrupt routing or polarity written: drive the lines and plan the next wake-up again."""
        self.update()

    def _sw_reset(self, old: int, new: int) -> None:
        """A software-reset bit written 1: every register to its reset value, sampling stopped."""
        if new:
            self.reset()
            self.update()

    _soft_reset = _sw_reset

    # --- register file through the bus ---------------------------------------------------
    def sub_address(self, byte: int) -> tuple[int, bool]:
        """I2C: the register address and whether it increments, from the sub-address byte (override)."""
        return byte & self.ADDRESS_MASK, True

    def spi_command(self, byte: int) -> tuple[bool, int, bool]:
        """SPI: (read, register address, increments) from the first byte of a frame (override)."""
        return bool(byte & 0x80), byte & self.ADDRESS_MASK, True

    def next_address(self, addr: int, reading: bool) -> int:
        """The register after ``addr`` in a multi-byte access (override for FIFO windows that roll back)."""
        return (addr + 1) & self.ADDRESS_MASK if self._inc else addr

    def read_byte(self) -> int:
        value = self.read(self._ptr, 1) & 0xFF
        self._ptr = self.next_address(self._ptr, True)
        self.update()
        return value

    def write_byte(self, value: int) -> None:
        self.write(self._ptr, 1, value & 0xFF)
        self._ptr = self.next_address(self._ptr, False)
        self.update()

    def peek(self, name: str) -> int:
        """A register's stored value without read side effects (tests, reports)."""
        return self.get(name)

    # --- I2C target ----------------------------------------------------------------------
    def i2c_start(self, address: int, read: bool) -> bool:
        self._phase = "read" if read else "sub"
        return True

    def i2c_write(self, byte: int) -> bool:
        if self._phase == "sub":
            self._ptr, self._inc = self.sub_address(byte)
            self._phase = "write"
            return True
        if self._phase != "write":
            return False
        self.write_byte(byte)
        return True

    def i2c_read(self) -> int:
        if self._phase != "read":
            return FLOATING
        return self.read_byte()

    def i2c_write_block(self, data: bytes) -> int:
        """``data`` written at one time (I2CBus.write_block): what ``i2c_write`` for each byte until the first NACK
        does and returns (the bytes acknowledged; override where a chip can take a burst at once, e.g. a
        configuration upload)."""
        for k, byte in enumerate(data):
            if not self.i2c_write(byte):
                return k
        return len(data)

    def i2c_read_block(self, n: int) -> bytes:
        """``n`` bytes read at one time (I2CBus.read_block), exactly what ``n`` calls of ``i2c_read`` return and
        leave (override where a chip can compute a burst at once, e.g. a FIFO drain)."""
        return bytes(self.i2c_read() & 0xFF for _ in range(n))

    def i2c_stop(self) -> None:
        self._phase = "idle"

    # --- SPI target ----------------------------------------------------------------------
    SPI_DUMMY_BYTE: ClassVar[bool] = False  # a read sends one dummy byte before the data (BMI270)
    READS_AHEAD: ClassVar[bool] = False  # read_ahead may answer (set where it is overridden: the TWIM asks no further)

    def spi_select(self, selected: bool) -> None:
        self._phase = "cmd" if selected else "idle"

    def spi_transfer(self, mosi: int, mode: int) -> int:
        if self._phase == "idle":
            return FLOATING
        if mode not in self.SPI_MODES:
            if not self._spi_mode_reported:
                self._spi_mode_reported = True
                modes = ", ".join(str(m) for m in sorted(self.SPI_MODES)) or "none (no SPI interface)"
                self.guest_error(f"{self.name}.SPI", f"clocked in SPI mode {mode} (CPOL={mode >> 1}, CPHA={mode & 1});"
                                 f" the {self.TYPE} works in mode(s) {modes}: byte ignored, MISO reads 0xFF")
            return FLOATING
        if self._phase == "cmd":
            read, self._ptr, self._inc = self.spi_command(mosi)
            self._phase = ("dummy" if self.SPI_DUMMY_BYTE else "read") if read else "write"
            return 0x00
        if self._phase == "dummy":
            self._phase = "read"
            return 0x00
        if self._phase == "read":
            return self.read_byte()
        self.write_byte(mosi)
        return 0x00

    # --- previews: what the next bytes of a read will be, for a controller that streams them ------------------
    def quiet_until(self) -> int | None:
        """Virtual time (fs) before which nothing in the chip changes by itself (no sample arrives, no wake-up),
        so what its registers read now they read until then; None when it cannot say (override)."""
        return None

    def reads_plan_nothing(self) -> bool:
        """Does a read leave the chip's output lines as they are and plan no wake-up (no interrupt source routed)?
        Then a controller may run it later as of its own time, with nothing of the chip in between (the nRF52
        TWIM's read done in C); False when it cannot say (override)."""
        return False

    def read_offer(self) -> tuple[int, bytes, int] | None:
        """The register read a driver makes next, as a controller may do it ahead (the nRF52 TWIM's read done in C):
        (register address byte, the bytes it returns, the unit a shorter read takes whole units of), the same until
        ``quiet_until`` and without side effects; None when the chip cannot tell (override)."""
        return None

    def read_ahead(self, n: int) -> tuple[bytes, tuple[int, bytes, int] | None, int] | None:
        """A read a driver has started (its register byte written, ``n`` bytes to read next) as a controller may
        finish it ahead (the nRF52 TWIM's FIFO_SRC read woken in C): the bytes it returns (valid until
        ``quiet_until``), the ``read_offer`` after it and until when that offer's bytes hold (fs), without side
        effects; None when the chip cannot tell (override)."""
        return None

    def read_chained(self, drain: tuple[int, bytes, int]) -> tuple[int, bytes, int, Any, int] | None:
        """The read a driver makes after the whole drain ``drain`` (read_ahead's offer), told now as the nRF52 TWIM
        may chain it in C: (its register byte, the bytes it returns, until when they hold (fs), the output line its
        read lowers, the chip's next wake-up its read plans (fs)), as read_ahead and read_falls would tell it then;
        None when the chip cannot tell (the default)."""
        return None

    def read_falls(self) -> tuple[Any, int] | None:
        """What the read ``read_ahead`` told last does besides its bytes, when it lowers an output line and plans the
        chip's next wake-up, whose event raises that line again and does nothing else C could not (Event.wake): (the
        line, the wake-up's virtual time in fs); None when the read does neither (the default) or more."""
        return None

    def preview_reads(self, addr: int, inc: bool, limit: int) -> list[int]:
        """The bytes a read from register ``addr`` (incrementing if ``inc``) returns next, as many as can be told
        without side effects (at most ``limit``); nothing changes in the chip. Valid until ``quiet_until``
        (override: the default tells nothing)."""
        return []

    def spi_preview(self, mosi: int, mode: int, limit: int) -> list[int]:
        """MISO of the frame ``mosi`` starts when the chip waits for a command, and of the frames after it if
        that command is a read (``preview_reads``); [] when that is not such a frame."""
        if self._phase != "cmd" or mode not in self.SPI_MODES or self.SPI_DUMMY_BYTE or limit < 1:
            return []
        read, addr, inc = self.spi_command(mosi)
        if not read:
            return []
        return [0x00, *self.preview_reads(addr, inc, limit - 1)]

    def spi_preview_repeat(self, mosi: int, mode: int, m: int, limit: int) -> list[int]:
        """MISO of up to ``limit`` transfers in a row (chip select asserted, ``m`` frames starting with the read
        command ``mosi``, released), all told now without side effects (valid until ``quiet_until``), for a
        controller that streams them at once; [] when the chip cannot tell (the default), or fewer than two. While
        they run, the chip's output lines may only fall (their changes are applied when the controller settles,
        ``spi_commit_repeat``)."""
        return []

    def spi_commit_repeat(self, mosi: int, mode: int, m: int, count: int) -> None:
        """The first ``count`` transfers ``spi_preview_repeat`` told happened (each selected, its frames, released),
        with the lines and wake-up settled once after them. The default replays them."""
        for _ in range(count):
            self.spi_select(True)
            self.spi_replay(bytes([mosi]) + bytes(m - 1), mode)
            self.spi_select(False)

    def spi_replay(self, mosi: bytes, mode: int) -> list[int]:
        """Frames a controller streamed (``spi_transfer`` for each), the lines and wake-up settled once after them:
        nothing arrives in between (``quiet_until``), so the state they leave is the one per-frame updates leave."""
        self.catch_up()  # once: nothing arrives during the frames
        self._replaying = True
        try:
            out = [self.spi_transfer(b, mode) & 0xFF for b in mosi]
        finally:
            self._replaying = False
        self.update()
        return out

    def i2c_replay(self, n: int) -> list[int]:
        """``n`` bytes a controller streamed (``i2c_read`` for each), settled once after them (as ``spi_replay``)."""
        self.catch_up()
        self._replaying = True
        try:
            out = [self.i2c_read() & 0xFF for _ in range(n)]
        finally:
            self._replaying = False
        self.update()
        return out

    # --- reports -------------------------------------------------------------------------
    def stats(self) -> dict[str, Any]:
        for fn in self.before_stats:
            fn()
        out: dict[str, Any] = {"name": self.name, "type": self.TYPE}
        if self.source is not None:
            out["source"] = self.source.path
        out.update(sorted(self.stats_.counts.items()))
        out["events"] = list(self.stats_.events)
        return out


class FifoDevice(BusDevice):
    """A motion chip whose sensors run at output data rates into a sample FIFO (LIS3DH, LIS3DSH, LSM6DSL,
    LSM9DS1, BMI270): starting and stopping a sensor when its rate changes, FIFO losses counted and
    time-stamped as overruns, and the report. Subclasses set ``fifo`` (a :class:`SampleFifo`) and ``_odr``
    (Hz per sensor, or one rate) in ``reset``; ``LOST_COUNTER`` and ``FIFO_ENTRY`` name what a lost entry is
    in the report ("samples_lost" / "sample" unless the datasheet's FIFO holds frames)."""

    LOST_COUNTER: ClassVar[str] = "samples_lost"
    FIFO_ENTRY: ClassVar[str] = "sample"
    fifo: Any  # simcore.devices.fifo.SampleFifo
    _odr: Any  # dict of Hz per sensor, or Hz

    def sensor_streams(self) -> list[Any]:
        """The chip's sensors (:class:`~simcore.devices.motion.Stream`): by default those of its ``latches``."""
        return [latch.stream for latch in getattr(self, "latches", {}).values()]

    def check_recording(self) -> None:
        assert self.source is not None
        for stream in self.sensor_streams():
            stream.bind(self.source)

    def reset_sensors(self, odr: Any) -> None:
        """After a reset: no wake-up planned, every sensor stopped at ``odr`` (zeros), the FIFO in bypass."""
        from simcore.devices.fifo import FifoMode

        self.stop_events()
        self._odr = odr
        self.fifo.reset(FifoMode.BYPASS, None, 0, None)
        for stream in self.sensor_streams():
            stream.stop()

    def apply_odr(self, which: str, odr: float, stream: Any, on_start: Callable[[], None] | None = None) -> bool:
        """Sensor ``which`` (its recording ``stream``) at ``odr`` Hz, 0 = off: when the rate changed, start it at
        the new rate now (the recording must serve it; ``on_start`` restarts what depends on it) or stop it."""
        if odr == self._odr[which]:
            return False
        self._odr[which] = odr
        if odr:
            self.require_source()
            stream.start(odr, self.now())
            if on_start is not None:
                on_start()
        else:
            stream.stop()
        return True

    def data_ready_times(self, now: int, sensors: list[str]) -> list[int]:
        """When the next sample completes, for each of ``sensors`` (keys of ``latches``) whose data-ready flag
        is down: the times at which a routed data-ready line rises."""
        times = []
        for which in sensors:
            latch = self.latches[which]  # type: ignore[attr-defined]
            if not latch.data_ready(now):
                t = latch.next_sample_at(now)
                if t is not None:
                    times.append(t)
        return times

    def catch_up_fifo(self, now: int | None = None) -> None:
        """Let into the FIFO what arrived by now; count what it lost, one overrun per episode of losses."""
        if self._replaying:
            return  # spi_replay caught up before its frames
        fifo = self.fifo
        if now is None:
            now = self._now_fs()  # (now(), without its call)
        if now < fifo.due:
            return  # (SampleFifo.catch_up's own first test, without its call: before the next sample's arrival)
        loss = fifo.catch_up(now)
        if loss is not None:
            from simcore.devices.fifo import FifoMode

            self.stats_.count(self.LOST_COUNTER, loss.count)
            if loss.new_episode:
                self.stats_.record("overruns", loss.first_at, what="FIFO full" if self.fifo.mode is FifoMode.FIFO
                                   else f"FIFO {self.FIFO_ENTRY} overwritten")

    # catching up a FIFO chip is catching up its FIFO (the same function: no call of a call at every register access;
    # a subclass overriding catch_up_fifo must rebind ``catch_up = catch_up_fifo`` as well)
    catch_up = catch_up_fifo

    def _drain_offer(self) -> tuple[int, bytes, int] | None:
        """The FIFO drain a driver reads next, as ``read_offer`` gives it (override: the default tells nothing)."""
        return None

    def _ahead_with_drain(self, answer: bytes) -> tuple[bytes, tuple[int, bytes, int] | None, int] | None:
        """``read_ahead``'s result for a read whose bytes are ``answer`` (a FIFO level register) with the drain after
        it: the drain takes the oldest entries, which later arrivals leave as they are until one overwrites the oldest
        (stream mode, a full FIFO) or the chip's planned wake-up comes, the earlier bounds the offer (fs)."""
        from simcore.devices.fifo import FifoMode

        offer = self._drain_offer()
        if offer is None:
            return answer, None, 0
        fifo = self.fifo
        until = 1 << 62
        if fifo.mode is FifoMode.STREAM and fifo.clock is not None:
            until = fifo.clock.arrival(fifo.next_k + fifo.depth - fifo.level)
        wake = self._wake
        if wake is not None:
            at = getattr(wake, "at_fs", None)
            if at is None:
                return answer, None, 0
            until = min(until, at)
        return answer, offer, until

    def quiet_until(self) -> int | None:
        """The next sample arrival of a running sensor, or the chip's next wake-up, whichever comes first."""
        now = self.now()
        times = [st.clock.arrival(st.clock.count_by(now)) for st in self.sensor_streams() if st.clock is not None]
        if self._wake is not None:
            at = getattr(self._wake, "at_fs", None)
            if at is None:
                return None
            times.append(at)
        return min(times) if times else 1 << 62

    def stats(self) -> dict[str, Any]:
        self.catch_up()
        out = super().stats()
        out.setdefault("overruns", 0)
        out["odr_hz"] = dict(self._odr) if isinstance(self._odr, dict) else self._odr
        return out


def reg8(name: str, offset: int, **kw: Any) -> Register:
    """One of a chip's 8-bit registers, at its datasheet address, in the register DSL (docs/registers.md)."""
    return Register(name, offset, width=8, **kw)


def clamp_int(values: Any, bits: int) -> Any:
    """Round to the nearest integer and saturate to a signed ``bits``-bit range (numpy arrays)."""
    import numpy as np

    lo, hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    return np.clip(np.rint(values), lo, hi).astype(np.int64)


def le16(value: int, high: bool) -> int:
    """The low or high byte of a 16-bit two's-complement value."""
    return (value >> 8) & 0xFF if high else value & 0xFF
