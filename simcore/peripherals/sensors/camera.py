"""simcore's camera: frame capture into guest RAM by DMA with a frame-done interrupt.

The sensor produces frame ``k`` at virtual time ``(k + 1) / FPS``. CAPTURE takes the next frame
to complete (single shot); CTRL.CONT delivers every frame. A frame that completes while the
previous one is still unacknowledged (STATUS.DONE set) is dropped, counted and time-stamped,
as is a capture whose DMA buffer is too small. Resolution and pixel format (GRAY8, RGB565,
RGB888) come from the registers; frames that do not match them are an error unless the
options ``resize``/``convert`` ask for conversion.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from simcore.board import Peripheral
from simcore.errors import BadInputError
from simcore.peripherals import register_model
from simcore.peripherals.base import Host
from simcore.peripherals.held import HeldRead, HeldStorage
from simcore.peripherals.sensors.common import SampleClock, SensorModel
from simcore.registers import Field, Register

if TYPE_CHECKING:
    import numpy as np

FORMATS = ("GRAY8", "RGB565", "RGB888")


@register_model
class SimcoreCamera(SensorModel):
    """Frame grabber: WIDTH x HEIGHT in FORMAT at FPS, one frame per CAPTURE or continuously."""

    TYPE = "simcore_camera"
    SIZE = 0x100
    ID_VALUE = 0x43414D31  # "CAM1"
    REGISTERS = (
        Register("CTRL", 0x00, implemented=0x3, doc="EN enables the sensor; CONT captures every frame", fields=(
            Field("EN", 0),
            Field("CONT", 1, doc="continuous capture"),
        )),
        Register("CAPTURE", 0x04, access="w", implemented=0x1, doc="write 1: capture the next frame"),
        Register("STATUS", 0x08, implemented=0x1F, doc="DONE, DROP, ERR, END write 1 to clear; BUSY computed", fields=(
            Field("DONE", 0, doc="a frame is in RAM"),
            Field("BUSY", 1, doc="a capture is pending (computed)"),
            Field("DROP", 2, doc="a frame was dropped: DONE still set when the next completed"),
            Field("ERR", 3, doc="DMA_LEN smaller than FRAME_SIZE: frame not written"),
            Field("END", 4, doc="the recording ended (end rule stop)"),
        )),
        Register("INTEN", 0x0C, implemented=0x1D, doc="interrupt enables, same bits as STATUS", fields=(
            Field("DONE", 0),
            Field("DROP", 2),
            Field("ERR", 3),
            Field("END", 4),
        )),
        Register("WIDTH", 0x10, reset=96, implemented=0xFFFF),
        Register("HEIGHT", 0x14, reset=96, implemented=0xFFFF),
        Register("FORMAT", 0x18, implemented=0x3, doc="0: GRAY8, 1: RGB565 (little-endian), 2: RGB888 (R, G, B)",
                 fields=(Field("FMT", 0, 2, doc="0 GRAY8, 1 RGB565, 2 RGB888"),)),
        Register("FPS", 0x1C, reset=10, doc="frames per second (latched at enable)"),
        Register("DMA_ADDR", 0x20),
        Register("DMA_LEN", 0x24, doc="bytes available at DMA_ADDR"),
        Register("FRAME_SIZE", 0x28, access="r", doc="WIDTH * HEIGHT * bytes per pixel"),
        Register("FRAME_COUNT", 0x2C, access="r", doc="frames delivered"),
        Register("DROP_COUNT", 0x30, access="r", doc="frames dropped"),
        Register("FRAME_INDEX", 0x34, access="r", doc="sensor frame number of the last delivered frame"),
        Register("ID", 0x3C, access="r", reset=ID_VALUE, doc="reads 'CAM1'"),
    )
    OPTIONS = {
        "resize": "scale frames to WIDTH x HEIGHT (nearest neighbour) when they differ (default false)",
        "convert": "convert gray <-> colour to FORMAT when they differ (default false)",
        "width": "reset value of WIDTH",
        "height": "reset value of HEIGHT",
        "format": "reset value of FORMAT: GRAY8, RGB565 or RGB888",
        "fps": "reset value of FPS",
    }
    EN, CONT = 1, 2
    DONE, BUSY, DROP, ERR, END = 1, 2, 4, 8, 16
    # read without side effects and changed only at frame events and the firmware's writes: the register file
    # answers their reads from the first read of one of them on (simcore/peripherals/held.py)
    HELD = ("STATUS", "FRAME_INDEX", "FRAME_COUNT", "DROP_COUNT")
    W1C = DONE | DROP | ERR | END  # the STATUS bits a written 1 clears
    CLEARS_IN_C = True  # STATUS flag clears served in C while they lower the line (tests turn it off)

    def __init__(self, config: Peripheral, host: Host) -> None:
        self.clock: SampleClock | None = None
        self._held: dict[str, HeldRead] = {}
        self._clear_slot: int | None = None  # the C slot of STATUS's flag clears (SystemBlock.event_clear_slot)
        super().__init__(config, host)
        self._held = {name: HeldRead(self, self.register(name).offset) for name in self.HELD}
        # DMA_ADDR (double buffering moves it every frame): held from the first write on, read at each delivery
        self._dma_addr = HeldStorage(self, self.register("DMA_ADDR").offset)

    def reset(self) -> None:
        super().reset()
        opts = self.config.options
        self.values["WIDTH"] = int(opts.get("width", 96))
        self.values["HEIGHT"] = int(opts.get("height", 96))
        self.values["FPS"] = int(opts.get("fps", 10))
        fmt = str(opts.get("format", "GRAY8")).upper()
        if fmt not in FORMATS:
            raise BadInputError(f"peripheral {self.config.name}: option format = {fmt!r}; use {', '.join(FORMATS)}")
        self.values["FORMAT"] = FORMATS.index(fmt)
        self.cancel_all_events()
        self._flags = 0
        self._pending = False
        self._frames = 0
        self._drops = 0
        self._done_at: int | None = None
        self._sync_held()
        held = getattr(self, "_dma_addr", None)
        if held is not None:
            held.put(self.values["DMA_ADDR"])  # its reset value

    def _held_values(self) -> tuple[int, ...]:
        """STATUS, FRAME_INDEX, FRAME_COUNT, DROP_COUNT now (HELD's order)."""
        return self._status(), self.values["FRAME_INDEX"], self._frames, self._drops

    def _sync_held(self) -> None:
        """Put the HELD registers' values where the register file serves them (after every change), and arm the C
        slot of STATUS's flag clears while the interrupt line is high: a write clearing every enabled flag that
        holds it (the firmware's DONE acknowledge) is then served in C (hotpath.c hp_ack), the line falling there
        (:meth:`w1c_cleared_in_c`)."""
        for held, value in zip(self._held.values(), self._held_values(), strict=False):
            held.put(value)
        if self._clear_slot is not None:
            need = self._flags & self.values["INTEN"] if self._irq_level else 0
            self.host.system.event_clear_armed(self._clear_slot, bool(need), need)  # type: ignore[attr-defined]

    def _hand_over(self) -> None:
        """At the first read of a HELD register through the model: the register file takes their reads."""
        for held, value in zip(self._held.values(), self._held_values(), strict=True):
            held.start(value)

    def update_irq(self) -> None:
        super().update_irq()
        self._sync_held()  # called after every change of the flags, the counters and the pending frame

    def write(self, offset: int, size: int, value: int) -> None:
        held = getattr(self, "_dma_addr", None)
        if held is None or offset & ~3 != held.offset:
            super().write(offset, size, value)
            return
        self.values["DMA_ADDR"] = held.now(self.values["DMA_ADDR"])  # a part-word write merges with the value now
        super().write(offset, size, value)
        if held.entry is None:
            held.start(self.values["DMA_ADDR"])
        else:
            held.put(self.values["DMA_ADDR"])

    def describe(self) -> dict[str, Any]:
        self.values["DMA_ADDR"] = self._dma_addr.now(self.values["DMA_ADDR"])
        return super().describe()

    def _format(self) -> str:
        return FORMATS[min(self.values["FORMAT"], 2)]

    def read_FRAME_SIZE(self) -> int:
        from simcore.sources.images import PIXEL_FORMATS

        return self.values["WIDTH"] * self.values["HEIGHT"] * PIXEL_FORMATS[self._format()]

    def write_CTRL(self, value: int) -> None:
        was = self.values["CTRL"]
        self.values["CTRL"] = value
        if value & self.EN and not was & self.EN:
            binding = self.require_source()
            fps = self.values["FPS"]
            if fps == 0:
                raise BadInputError(f"peripheral {self.name}: enabled with FPS = 0")
            src = binding.original
            if src.rate_hz is not None and abs(src.rate_hz - fps) > 1e-6 * fps and not binding.resample:
                raise BadInputError(
                    f"peripheral {self.name} ({self.TYPE}): the frames {src.path} are at {src.rate_hz:g} fps but "
                    f"the camera runs at {fps} fps; set FPS to match or option resample = true (each capture "
                    "then shows the frame in effect at its time)"
                )
            self.clock = SampleClock(float(fps), self.host.cycles_per_second())
            binding.use_as_is(float(fps))
            binding.start(self.clock.count_by(self.now()))
        elif was & self.EN and not value & self.EN:
            self._pending = False
            self.cancel_all_events()
        if value & self.EN and value & self.CONT:
            self._arm()
        self.update_irq()

    def write_CAPTURE(self, value: int) -> None:
        if not value & 1:
            return
        if not self.values["CTRL"] & self.EN:
            self.guest_error(f"{self.name}.CAPTURE", "capture while CTRL.EN is clear: ignored")
            return
        self._pending = True
        self._arm()
        self._sync_held()  # BUSY

    def _arm(self) -> None:
        """Schedule the completion of the next sensor frame."""
        if self.clock is None or self.event_pending("frame"):
            return
        k = self.clock.count_by(self.now())
        limit = self.binding.limit() if self.binding else None
        if limit is not None and k >= limit:
            self._end()
            return
        self.at(self.clock.arrival(k), "frame", lambda: self._on_frame(k))

    def _frame(self, k: int) -> np.ndarray:
        import numpy as np

        assert self.binding is not None and self.clock is not None
        binding = self.binding
        src = binding.source
        if src.rate_hz is not None and abs(src.rate_hz - self.clock.rate_hz) <= 1e-6 * self.clock.rate_hz:
            rows = binding.fetch(k, k + 1)
            return rows[0] if len(rows) else np.zeros(src.sample_shape, np.uint8)
        t = (k - binding.k_base + 0.5) / self.clock.rate_hz + src.start_s  # resample: frame in effect mid-exposure
        return src.sample_at(t)[0]

    def _on_frame(self, k: int) -> None:
        now = self.now()
        cont = bool(self.values["CTRL"] & self.CONT)
        if self._pending or cont:
            if self._flags & self.DONE:
                self._drops += 1
                self._flags |= self.DROP
                self.stats_.record("dropped_frames", now, frame=k, why="previous frame not acknowledged (DONE set)")
            else:
                self._deliver(k, now)
            self._pending = False
        if cont:
            self._arm()
        self.update_irq()

    def _deliver(self, k: int, now: int) -> None:
        from simcore.sources.images import frame_to_pixels

        size = self.read_FRAME_SIZE()
        if self.values["DMA_LEN"] < size:
            self._flags |= self.ERR
            self._drops += 1
            self.stats_.record("dropped_frames", now, frame=k, why=f"DMA_LEN {self.values['DMA_LEN']} < {size} bytes")
            return
        pixels = frame_to_pixels(
            self._frame(k),
            self.values["WIDTH"],
            self.values["HEIGHT"],
            self._format(),
            resize=bool(self.option("resize", False)),
            convert=bool(self.option("convert", False)),
            where=f"peripheral {self.name} ({self.TYPE}) with frames from {self._source_path()}",
        )
        self.values["DMA_ADDR"] = self._dma_addr.now(self.values["DMA_ADDR"])
        self.host.mem_write(self.values["DMA_ADDR"], pixels)
        self._frames += 1
        self.values["FRAME_INDEX"] = k - (self.binding.k_base if self.binding else 0)
        self._flags |= self.DONE
        self._done_at = now
        self.stats_.count("frames")

    def _source_path(self) -> str:
        return self.binding.original.path if self.binding else "?"

    def _end(self) -> None:
        if not self._flags & self.END:
            self._flags |= self.END
            self.stats_.record("end_of_data", self.now())
        self.update_irq()

    def _status(self) -> int:
        return self._flags | (self.BUSY if self.event_pending("frame") else 0)

    def read_STATUS(self) -> int:
        if self._held["STATUS"].entry is None:
            self._hand_over()
        return self._status()

    def read_FRAME_INDEX(self) -> int:
        if self._held["FRAME_INDEX"].entry is None:
            self._hand_over()
        return self.values["FRAME_INDEX"]

    def write_STATUS(self, value: int) -> None:
        self._write_status(value, self.now())
        held = self._held["STATUS"]
        if self._clear_slot is None and self.CLEARS_IN_C and held.entry is not None:
            slot = getattr(getattr(self.host, "system", None), "event_clear_slot", None)
            if slot is not None:  # from the first clear through the model on: the next ones in C
                self._clear_slot = slot(self, 0, self.base + held.offset, held.store, self.W1C)
                self._sync_held()

    def _write_status(self, value: int, now: int) -> None:
        """The firmware's STATUS write ``value`` at cycle ``now``: the service latency of an acknowledged frame (from
        its delivery), the flags written 1 cleared, the line."""
        if value & self.DONE & self._flags and self._done_at is not None and self.clock is not None:
            self.stats_.service(self._done_at, now, self._done_at + round(self.clock.cycles_per_sample))
            self._done_at = None
        self._flags &= ~(value & self.W1C)
        self.update_irq()

    def w1c_cleared_in_c(self, _index: int, value: int, cycle: int) -> None:
        """C served the firmware's STATUS write ``value`` at ``cycle`` (SystemBlock.sync_native, hotpath.c hp_ack):
        what the model's own write does then."""
        self._write_status(value, cycle)

    def write_INTEN(self, value: int) -> None:
        self.values["INTEN"] = value
        self.update_irq()

    def read_FRAME_COUNT(self) -> int:
        if self._held["FRAME_COUNT"].entry is None:
            self._hand_over()
        return self._frames

    def read_DROP_COUNT(self) -> int:
        if self._held["DROP_COUNT"].entry is None:
            self._hand_over()
        return self._drops

    def irq_pending(self) -> bool:
        return bool(self._flags & self.values["INTEN"])

    def stats(self) -> dict[str, Any]:
        out = super().stats()
        out["frames_delivered"] = self._frames
        return out
