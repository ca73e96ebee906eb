"""Microphones: simcore's own PDM/I2S-style block and the nRF52840 PDM with EasyDMA.

Audio arrives at the configured rate on the virtual clock but Python never runs per sample:
with DMA on, one event per half-buffer writes the samples that arrived meanwhile into guest
RAM (taken from the recording in one numpy slice) and raises the half/full-transfer flag;
with DMA off, a FIFO is filled lazily and an event is scheduled only for the watermark or the
moment it would overflow.

Ownership rule used for overrun detection (``simcore_mic``): the firmware owns a half of the
ring from its HT/TC flag until it clears that flag (write 1 to STATUS). When the DMA starts
refilling a half whose flag is still set, that is an overrun: counted, time-stamped, STATUS.OVR.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from simcore.board import Peripheral
from simcore.errors import BadInputError
from simcore.peripherals import register_model
from simcore.peripherals.base import Host
from simcore.peripherals.sensors.common import (
    RingDma,
    SampleClock,
    SensorModel,
    StreamFifo,
    WatermarkService,
    to_pcm,
)
from simcore.registers import Field, Register

if TYPE_CHECKING:
    import numpy as np


@register_model
class SimcoreMic(SensorModel):
    """simcore's microphone: sample FIFO, or circular DMA into a double buffer with HT/TC interrupts."""

    TYPE = "simcore_mic"
    SIZE = 0x100
    ID_VALUE = 0x4D494331  # "MIC1"
    REGISTERS = (
        Register("CTRL", 0x00, implemented=0x3, doc="EN starts sampling; DMA selects ring DMA over the FIFO", fields=(
            Field("EN", 0, doc="enable"),
            Field("DMA", 1, doc="ring DMA instead of FIFO"),
        )),
        Register("STATUS", 0x04, implemented=0x3F, doc="HT, TC, OVR, END: write 1 to clear; WM, NE computed", fields=(
            Field("HT", 0, doc="first half of the ring filled"),
            Field("TC", 1, doc="second half of the ring filled"),
            Field("OVR", 2, doc="overrun: FIFO full or a half refilled before its flag was cleared"),
            Field("WM", 3, doc="FIFO level at or above FIFO_WM (computed)"),
            Field("NE", 4, doc="FIFO not empty (computed)"),
            Field("END", 5, doc="the recording ended (end rule stop)"),
        )),
        Register("INTEN", 0x08, implemented=0x2F, doc="interrupt enables, same bit positions as STATUS", fields=(
            Field("HT", 0),
            Field("TC", 1),
            Field("OVR", 2),
            Field("WM", 3),
            Field("END", 5),
        )),
        Register("RATE", 0x0C, reset=16000, doc="sample rate in Hz (latched at enable)"),
        Register("DMA_ADDR", 0x10, doc="ring buffer address in guest RAM (latched at enable)"),
        Register("DMA_LEN", 0x14, reset=0, doc="ring length in samples, even: two halves of DMA_LEN/2"),
        Register("DMA_POS", 0x18, access="r", doc="samples the DMA has reached in the ring, from the clock"),
        Register("FIFO_DATA", 0x1C, access="r", doc="pops the oldest sample, sign-extended"),
        Register("FIFO_LEVEL", 0x20, access="r", doc="samples in the FIFO"),
        Register("FIFO_WM", 0x24, reset=8, doc="watermark: STATUS.WM when FIFO_LEVEL >= FIFO_WM"),
        Register("OVERRUN_COUNT", 0x28, access="r", doc="overruns since reset"),
        Register("SAMPLE_COUNT", 0x2C, access="r", doc="samples delivered since enable (RAM or FIFO)"),
        Register("FORMAT", 0x30, implemented=0x1, doc="WIDTH: 0 = 16-bit samples, 1 = 32-bit", fields=(
            Field("WIDTH", 0, doc="0: 16-bit, 1: 32-bit samples"),
        )),
        Register("FIFO_DEPTH", 0x34, access="r", doc="FIFO capacity in samples"),
        Register("ID", 0x3C, access="r", reset=ID_VALUE, doc="reads 'MIC1'"),
    )
    OPTIONS = {
        "fifo_depth": "FIFO capacity in samples (default 64)",
        "channel": "channel of the recording to use (name or index, default 0)",
    }
    EN, DMA = 1, 2
    HT, TC, OVR, WM, NE, END = 1, 2, 4, 8, 16, 32

    def __init__(self, config: Peripheral, host: Host) -> None:
        self.fifo = StreamFifo(int(config.options.get("fifo_depth", 64)))
        self.wm_service = WatermarkService()
        self.clock: SampleClock | None = None
        self._bytes = 2
        self.ring = RingDma(self, self._channel_values, "<i2")
        super().__init__(config, host)

    def reset(self) -> None:
        super().reset()
        self.values["FIFO_DEPTH"] = self.fifo.depth
        self.cancel_all_events()
        self.ring.running = False
        self.ring.flags = 0
        self._flags = 0
        self._running = False
        self._dma = False
        self._delivered_fifo = 0
        self._overruns = 0
        self.fifo.restart(0, None)

    # --- configuration -------------------------------------------------------------------
    def _channel_values(self, values: np.ndarray) -> np.ndarray:
        assert self.binding is not None
        ch: Any = self.option("channel", 0)
        idx = ch if isinstance(ch, int) else self.binding.source.channel_index(str(ch))
        if not 0 <= idx < values.shape[1]:
            raise BadInputError(f"peripheral {self.name}: channel {ch} does not exist in {self.binding.source.path}")
        return to_pcm(values[:, idx], self.binding.source, 8 * self._bytes)

    def write_CTRL(self, value: int) -> None:
        was = self.values["CTRL"]
        self.values["CTRL"] = value
        if value & self.EN and not was & self.EN:
            self._start(bool(value & self.DMA))
        elif was & self.EN and not value & self.EN:
            self._stop()
        elif value & self.EN and (value ^ was) & self.DMA:
            self.guest_error(f"{self.name}.CTRL", "DMA bit changed while enabled: ignored until re-enable")

    def _start(self, dma: bool) -> None:
        import numpy as np

        binding = self.require_source()
        rate = self.values["RATE"]
        if rate == 0:
            raise BadInputError(f"peripheral {self.name}: enabled with RATE = 0 Hz")
        binding.prepare(float(rate))
        self.clock = SampleClock(float(rate), self.host.cycles_per_second())
        self._bytes = 4 if self.values["FORMAT"] & 1 else 2
        self.ring.dtype = np.dtype("<i4" if self._bytes == 4 else "<i2")
        first = self.clock.count_by(self.now())
        binding.start(first)
        self._running = True
        self._dma = dma
        if dma:
            length = self.values["DMA_LEN"]
            if length < 2 or length % 2:
                raise BadInputError(
                    f"peripheral {self.name}: DMA enabled with DMA_LEN = {length}; it must be an even number "
                    "of samples >= 2 (two halves)"
                )
            self.ring.start(self.clock, binding, self.values["DMA_ADDR"], length, first)
        else:
            self.fifo.restart(first, binding.limit())
            self._plan_fifo()
        self.update_irq()

    def _stop(self) -> None:
        self._fifo_catch_up()
        self._running = False
        self.ring.stop()
        self.cancel_all_events()
        self.update_irq()

    def ring_overrun(self, cycle: int, ring_half: int) -> None:
        self._overrun(cycle, "DMA half refilled before its flag was cleared", ring_half=ring_half)

    def ring_end(self) -> None:
        self._mark_end()

    def _mark_end(self) -> None:
        if not self._flags & self.END:
            self._flags |= self.END
            self.stats_.record("end_of_data", self.now())
        self.update_irq()

    def _overrun(self, cycle: int, what: str, **detail: Any) -> None:
        self._overruns += 1
        self._flags |= self.OVR
        self.stats_.record("overruns", cycle, what=what, **detail)

    def read_DMA_POS(self) -> int:
        return self.ring.position()

    # --- FIFO ----------------------------------------------------------------------------
    def _fifo_catch_up(self) -> None:
        if self.clock is None or not self._running or self._dma:
            return
        dropped, first, episode = self.fifo.catch_up(self.clock, self.now())
        self.stats_.count("samples_lost", dropped)
        if episode:
            self._overrun(first, "fifo full")
        if self.fifo.limit is not None and self.fifo.next_k >= self.fifo.limit:
            self._mark_end()

    def _plan_fifo(self) -> None:
        """One event at the earliest of: watermark reached, FIFO overflow, end of the recording."""
        if self.clock is None or not self._running or self._dma:
            return
        wm = max(1, self.values["FIFO_WM"])
        times = [
            t
            for t in (
                self.fifo.cycle_when_level(self.clock, wm) if self.values["INTEN"] & self.WM else None,
                self.fifo.cycle_of_overflow(self.clock),
            )
            if t is not None
        ]
        if self.fifo.limit is not None and not self._flags & self.END:
            times.append(self.clock.arrival(max(self.fifo.limit - 1, 0)))
        if times:
            self.at(min(times), "fifo", self._on_fifo)
        else:
            self.cancel_event("fifo")

    def _wm_check(self) -> None:
        self.wm_service.check(self.stats_, self.fifo, self.clock, max(1, self.values["FIFO_WM"]), self.now())

    def _on_fifo(self) -> None:
        self._fifo_catch_up()
        self._wm_check()
        self._plan_fifo()
        self.update_irq()

    def read_FIFO_DATA(self) -> int:
        self._fifo_catch_up()
        ks = self.fifo.pop(1)
        if not ks:
            self.stats_.count("fifo_underflow_reads")
            return 0
        assert self.binding is not None
        value = int(self._channel_values(self.binding.fetch(ks[0], ks[0] + 1))[0])
        self._delivered_fifo += 1
        self._wm_check()
        self._plan_fifo()
        self.update_irq()
        return value & 0xFFFFFFFF

    def read_FIFO_LEVEL(self) -> int:
        self._fifo_catch_up()
        return self.fifo.level

    # --- status and interrupts -----------------------------------------------------------
    def _status(self) -> int:
        self._fifo_catch_up()
        s = self._flags | self.ring.flags
        if self._running and not self._dma:
            if self.fifo.level >= max(1, self.values["FIFO_WM"]):
                s |= self.WM
            if self.fifo.level:
                s |= self.NE
        return s

    def read_STATUS(self) -> int:
        return self._status()

    def write_STATUS(self, value: int) -> None:
        self.ring.clear(value & (self.HT | self.TC))
        self._flags &= ~(value & (self.OVR | self.END))
        self.update_irq()

    def write_INTEN(self, value: int) -> None:
        self.values["INTEN"] = value
        self._plan_fifo()
        self.update_irq()

    def write_FIFO_WM(self, value: int) -> None:
        self.values["FIFO_WM"] = value
        self._plan_fifo()
        self.update_irq()

    def _locked(self, name: str, value: int) -> None:
        if self.values["CTRL"] & self.EN:
            self.guest_error(f"{self.name}.{name}", "written while enabled: takes effect at the next enable")
        self.values[name] = value

    def write_RATE(self, value: int) -> None:
        self._locked("RATE", value)

    def write_DMA_ADDR(self, value: int) -> None:
        self._locked("DMA_ADDR", value)

    def write_DMA_LEN(self, value: int) -> None:
        self._locked("DMA_LEN", value)

    def write_FORMAT(self, value: int) -> None:
        self._locked("FORMAT", value)

    def read_OVERRUN_COUNT(self) -> int:
        self._fifo_catch_up()
        return self._overruns & 0xFFFFFFFF

    def read_SAMPLE_COUNT(self) -> int:
        return (self.ring.delivered + self._delivered_fifo) & 0xFFFFFFFF

    def irq_pending(self) -> bool:
        return bool(self._status() & self.values["INTEN"])

    def stats(self) -> dict[str, Any]:
        out = super().stats()
        out["samples_delivered"] = self.ring.delivered + self._delivered_fifo
        return out


# nRF52840 PDM clock settings (PS v1.7 section 6.18.9.6, PDMCLKCTRL): value -> PDM_CLK in Hz (32 MHz / N)
_PDM_CLOCKS = {
    0x08000000: 32e6 / 32,
    0x08400000: 32e6 / 31,
    0x08800000: 32e6 / 30,
    0x09800000: 32e6 / 26,
    0x0A000000: 32e6 / 25,
    0x0A800000: 32e6 / 24,
}


@register_model
class Nrf52Pdm(SensorModel):
    """nRF52840 PDM with EasyDMA (PS v1.7 section 6.18): 16-bit PCM into SAMPLE.PTR, MAXCNT samples.

    TASKS_START latches SAMPLE.PTR/MAXCNT and raises EVENTS_STARTED; the firmware then writes the
    next buffer's PTR (double buffering). When MAXCNT samples have been written EVENTS_END is
    raised and, still running, the DMA latches the PTR then in the register and raises STARTED
    again. A buffer whose PTR was not rewritten since the previous STARTED is being reused before
    the firmware could hand over a new one: counted as an overrun. Sample rate = PDM_CLK / ratio
    (RATIO register: 64 or 80). Stereo puts left in the low and right in the high half-word.
    """

    TYPE = "nrf52_pdm"
    SIZE = 0x1000
    REGISTERS = (
        Register("TASKS_START", 0x000, access="w", implemented=1),
        Register("TASKS_STOP", 0x004, access="w", implemented=1),
        Register("EVENTS_STARTED", 0x100, implemented=1),
        Register("EVENTS_STOPPED", 0x104, implemented=1),
        Register("EVENTS_END", 0x108, implemented=1),
        Register("INTEN", 0x300, implemented=0x7, fields=(Field("STARTED", 0), Field("STOPPED", 1), Field("END", 2))),
        Register("INTENSET", 0x304, implemented=0x7),
        Register("INTENCLR", 0x308, implemented=0x7),
        Register("ENABLE", 0x500, implemented=1),
        Register("PDMCLKCTRL", 0x504, reset=0x08400000),
        Register("MODE", 0x508, implemented=0x3, doc="OPERATION (bit 0: 1 = mono), EDGE (bit 1)", fields=(
            Field("OPERATION", 0, doc="0 stereo, 1 mono"),
            Field("EDGE", 1, doc="0 left falling"),
        )),
        Register("GAINL", 0x518, reset=0x28, implemented=0x7F),
        Register("GAINR", 0x51C, reset=0x28, implemented=0x7F),
        Register("RATIO", 0x520, implemented=0x1, doc="0: ratio 64, 1: ratio 80"),
        Register("PSEL_CLK", 0x540, reset=0xFFFFFFFF),
        Register("PSEL_DIN", 0x544, reset=0xFFFFFFFF),
        Register("SAMPLE_PTR", 0x560),
        Register("SAMPLE_MAXCNT", 0x564, implemented=0x7FFF, doc="buffer length in 16-bit samples"),
    )
    OPTIONS = {"gain": "apply GAINL/GAINR (0.5 dB steps around 0x28 = 0 dB); default false: samples as recorded"}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.microphones: list[Any] = []  # a board's PDM microphones on this interface ([[device]] on "pdm")
        super().__init__(*args, **kwargs)

    def attach_microphone(self, mic: Any) -> None:
        """A board's PDM microphone (docs/bus-devices.md). The PDM decimates in hardware, so the recording bound
        to the microphone (``--sensor mic=FILE``) reaches the firmware as PCM, as one bound to ``pdm`` does."""
        self.microphones.append(mic)

    def require_source(self) -> Any:
        if self.binding is None:
            mic = next((m for m in self.microphones if m.source is not None), None)
            if mic is not None:
                self.attach(mic.source)
        return super().require_source()

    def reset(self) -> None:
        super().reset()
        self.cancel_all_events()
        self._running = False
        self._ptr = 0
        self._count = 0
        self._k0 = 0
        self._ptr_written = True
        self._delivered = 0
        self.clock: SampleClock | None = None

    def _rate(self) -> float:
        clk = _PDM_CLOCKS.get(self.values["PDMCLKCTRL"])
        if clk is None:
            clk = self.values["PDMCLKCTRL"] * 32e6 / (1 << 32)  # generic FREQ formula
        return clk / (80 if self.values["RATIO"] & 1 else 64)

    def _mono(self) -> bool:
        return bool(self.values["MODE"] & 1)

    def write_SAMPLE_PTR(self, value: int) -> None:
        self.values["SAMPLE_PTR"] = value
        self._ptr_written = True

    def write_TASKS_START(self, value: int) -> None:
        if not value & 1 or self._running:
            return
        if self.values["ENABLE"] != 1:
            self.guest_error(f"{self.name}.TASKS_START", "task triggered while ENABLE = 0: ignored")
            return
        binding = self.require_source()
        rate = self._rate()
        binding.prepare(rate)
        self.clock = SampleClock(rate, self.host.cycles_per_second())
        first = self.clock.count_by(self.now())
        binding.start(first)
        self._k0 = first
        self._running = True
        self._latch()

    def _latch(self) -> None:
        """EasyDMA takes PTR/MAXCNT for the next buffer and signals EVENTS_STARTED."""
        assert self.clock is not None and self.binding is not None
        if not self._ptr_written:
            self._overrun_reuse()
        self._ptr = self.values["SAMPLE_PTR"]
        self._count = self.values["SAMPLE_MAXCNT"] & 0x7FFF
        self._ptr_written = False
        self.values["EVENTS_STARTED"] = 1
        frames = self._count if self._mono() else self._count // 2
        if frames == 0:
            raise BadInputError(f"peripheral {self.name}: started with SAMPLE.MAXCNT = {self._count}")
        last = self._k0 + frames - 1
        limit = self.binding.limit()
        if limit is not None and last >= limit:
            self.stats_.record("end_of_data", self.clock.arrival(max(limit - 1, 0)))
        else:
            self.at(self.clock.arrival(last), "end", self._on_end)
        self.update_irq()

    def _overrun_reuse(self) -> None:
        self.stats_.record(
            "overruns", self.now(), what="SAMPLE.PTR not rewritten after EVENTS_STARTED", ptr=self.values["SAMPLE_PTR"]
        )

    def _on_end(self) -> None:
        import numpy as np

        assert self.binding is not None
        frames = self._count if self._mono() else self._count // 2
        values = self.binding.fetch(self._k0, self._k0 + frames)
        src = self.binding.source
        if self._mono():
            pcm = to_pcm(values[:, 0], src, 16)
        else:
            left = to_pcm(values[:, 0], src, 16)
            right = to_pcm(values[:, 1] if values.shape[1] > 1 else values[:, 0], src, 16)
            pcm = np.stack([left, right], axis=1).reshape(-1)
        if self.option("gain", False):
            db = (np.array([self.values["GAINL"]], dtype=np.float64) - 0x28) * 0.5
            pcm = np.clip(np.rint(pcm * 10 ** (db[0] / 20)), -32768, 32767)
        self.host.mem_write(self._ptr, pcm.astype("<i2").tobytes())
        self._delivered += frames
        self._k0 += frames
        self.values["EVENTS_END"] = 1
        self.stats_.count("buffers")
        if self._running:
            self._latch()
        self.update_irq()

    def write_TASKS_STOP(self, value: int) -> None:
        if not value & 1:
            return
        self._running = False
        self.cancel_all_events()
        self.values["EVENTS_STOPPED"] = 1
        self.update_irq()

    def read_INTENSET(self) -> int:
        return self.values["INTEN"]

    read_INTENCLR = read_INTENSET

    def write_INTEN(self, value: int) -> None:
        self.values["INTEN"] = value
        self.update_irq()

    def write_INTENSET(self, value: int) -> None:
        self.values["INTEN"] |= value
        self.update_irq()

    def write_INTENCLR(self, value: int) -> None:
        self.values["INTEN"] &= ~value
        self.update_irq()

    def _event_write(self, name: str, value: int) -> None:
        self.values[name] = value & 1
        self.update_irq()

    def write_EVENTS_STARTED(self, value: int) -> None:
        self._event_write("EVENTS_STARTED", value)

    def write_EVENTS_STOPPED(self, value: int) -> None:
        self._event_write("EVENTS_STOPPED", value)

    def write_EVENTS_END(self, value: int) -> None:
        self._event_write("EVENTS_END", value)

    def irq_pending(self) -> bool:
        inten = self.values["INTEN"]
        return bool(
            (inten & 1 and self.values["EVENTS_STARTED"])
            or (inten & 2 and self.values["EVENTS_STOPPED"])
            or (inten & 4 and self.values["EVENTS_END"])
        )

    def stats(self) -> dict[str, Any]:
        out = super().stats()
        out["samples_delivered"] = self._delivered
        out["sample_rate_hz"] = self._rate()
        return out
