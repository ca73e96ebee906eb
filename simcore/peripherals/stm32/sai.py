"""STM32L4+ SAI1 with its PDM interface (RM0432 section 46: "PDM interface"): digital microphones on the SAI
data lines, their bit streams turned into bytes that audio block A receives in TDM slots, read by DMA.

What the firmware programs and what this model does with it:

- ``SAI_PDMCR``: ``PDMEN`` (enabled before block A), ``MICNBR`` (2, 4, 6 or 8 microphones: pairs on the
  data lines D1.., the left one of a pair sampled on the rising edge of its clock, the right one on the
  falling edge, as a microphone's L/R pin selects), ``CKEN1``/``CKEN2`` (the microphone clocks). The
  board's microphones on ``sai1`` (``[[device]]``, option ``input`` = the data line 1-4, ``lr`` = the
  clock edge they drive) are clocked from the moment block A starts.
- block A as master receiver (``ACR1.MODE`` 01), free protocol, 8-bit data in 8-bit slots, one slot per
  microphone per frame (``AFRCR.FRL`` + 1 = 8 x microphones bit clocks, ``ASLOTR.NBSLOT`` + 1 =
  microphones): each frame carries the next 8 bits of every microphone, first bit highest, in the order
  D1 left, D1 right, D2 left... (RM0432 "SAI_ADR data format", 8-bit slots). The bit clock is the SAI
  kernel clock divided as RM0432's clock generator gives it (``NODIV`` 1: ker / ``MCKDIV``; ``NODIV`` 0:
  ker x (``FRL`` + 1) / (``MCKDIV`` x (``OSR`` + 1) x 256); ``MCKDIV`` 0 acts as 1); the microphones'
  clock runs at the bit clock / microphones (the SAI shifts one bit of every microphone per microphone
  clock). The kernel clock is ``RCC_CCIPR2.SAI1SEL``: the main PLL's P output (``PLLSAI3CLK``) or HSI16
  (the PLLSAI1/PLLSAI2 outputs and the external clock are not modelled: reported).
- ``ACR1.DMAEN`` with request ``SAI1_A`` (DMAMUX1 input 36, RM0432 Table 54): a DMA channel reading
  ``ADR`` takes the bytes in blocks up to its next half/complete flag (simcore/peripherals/stm32/dma.py
  ``transfer_block``), at the end of the frame that completes the flag's byte. Without DMA the bytes go
  to the 8-word FIFO (``ASR.FLVL``, ``FREQ`` at the ``ACR2.FTH`` threshold, ``OVRUDR`` when a byte finds
  it full), ``AIM`` enables the SAI1 interrupt.

The firmware's own PDM-to-PCM filter runs on the bytes, as with the F4's I2S. Not modelled (reported when
used): block B, transmitter and slave modes, other protocols (I2S/AC'97/SPDIF framing), data sizes
other than 8 bits, the PDM delay lines (``PDMDLY``), companding, mute detection, synchronisation between
blocks.
"""

from __future__ import annotations

from collections import deque
from typing import Any

from simcore.clock import FS_PER_SECOND
from simcore.peripherals import register_model
from simcore.peripherals.base import Host, PeripheralModel, Register
from simcore.peripherals.stm32.signals import DmaRequester

FIFO_WORDS = 8
MAX_BATCH = 16384  # bytes one event delivers at most to a DMA channel
OVRUDR, FREQ = 1 << 0, 1 << 3
SAIEN, DMAEN = 1 << 16, 1 << 17


@register_model
class Stm32L4Sai(DmaRequester, PeripheralModel):
    """SAI1 of the STM32L4R5/L4S5: audio block A receiving the PDM interface's microphone bytes."""

    TYPE = "stm32l4_sai"
    SVD = ("SAI1", "SAI2")
    PARTS = ("stm32l4r5zi",)
    PLAIN = ("ACR2", "AFRCR", "ASLOTR")
    POLL_SAFE = True  # flags change only when written or read, or at frame events (simcore/poll.py)
    REGISTERS = (  # not in the part's SVD file: RM0432 46.6
        Register("GCR", 0x00, implemented=0, doc="global configuration: block synchronisation (not modelled)"),
        Register("PDMCR", 0x44, implemented=1 | 3 << 4 | 0xF << 8, doc="PDMEN, MICNBR, CKEN1-4"),
        Register("PDMDLY", 0x48, implemented=0, doc="per-microphone delay lines (not modelled)"),
    )

    def __init__(self, config: Any, host: Host, registers: Any = None) -> None:
        self.microphones: list[Any] = []
        self._event: Any = None
        super().__init__(config, host, registers)
        self.periph = self.svd_name
        self.kernel_clock = str(config.options.get("kernel_clock", "PLLSAI3CLK"))  # without an RCC model
        self.bytes_received = 0
        self.overruns: list[dict[str, Any]] = []

    def reset(self) -> None:
        if getattr(self, "_event", None) is not None:
            self.host.cancel(self._event)
        self._event = None
        self._run: dict[str, Any] | None = None
        self._next = 0  # the next byte (slot) to complete
        self._batch_end = 0
        self.fifo: deque[int] = deque()
        self.errors = 0
        self._irq_level = False
        super().reset()

    def attach_microphone(self, mic: Any) -> None:
        """A PDM microphone on data line ``input`` (1-4), driving it on its ``lr`` clock edge."""
        line = mic.config.options.get("input", 1)
        if not isinstance(line, int) or not 1 <= line <= 4:
            from simcore.errors import BadInputError

            raise BadInputError(f"device {mic.name} ({mic.TYPE}): input = {line!r}; the SAI's PDM data lines are "
                                "D1-D4 (input = 1..4)")
        self.microphones.append(mic)

    # --- clocks --------------------------------------------------------------------------------
    def kernel_hz(self) -> float:
        """SAI1's kernel clock (RM0432 6.4.30, RCC_CCIPR2.SAI1SEL)."""
        rcc = self.host.peripheral("rcc")
        name = self.kernel_clock
        if rcc is not None and "CCIPR2" in getattr(rcc, "values", {}):
            sel = rcc.values["CCIPR2"] >> (5 if self.periph == "SAI1" else 8) & 7
            name = {2: "PLLSAI3CLK", 4: "HSI"}.get(sel, "")
            if not name:
                what = {0: "the PLLSAI1 P output", 1: "the PLLSAI2 P output", 3: "the external SAI clock"}
                self.unimplemented(f"RCC.CCIPR2.{self.periph}SEL", f"{what.get(sel, f'selection {sel}')} as the "
                                   f"{self.periph} kernel clock is not modelled: no bit clock")
                return 0.0
        try:
            return float(self.host.clock_hz(name))
        except KeyError:
            return 0.0

    def sck_hz(self, cr1: int, frl: int) -> float:
        """Block A's bit clock (RM0432 46.3.8: NODIV, MCKDIV, OSR)."""
        ker = self.kernel_hz()
        mckdiv = max(cr1 >> 20 & 0x3F, 1)
        if cr1 >> 19 & 1:  # NODIV
            return ker / mckdiv
        return ker * (frl + 1) / (mckdiv * (1 + (cr1 >> 26 & 1)) * 256)

    # --- registers -----------------------------------------------------------------------------
    def write_ACR1(self, value: int) -> None:
        old = self.values["ACR1"]
        self.values["ACR1"] = value
        if value & SAIEN and not old & SAIEN:
            self._start()
        elif old & SAIEN and not value & SAIEN:
            self._stop()
        elif self._run is not None and (value ^ old) & DMAEN:
            self._replan()
        self._irqs()

    def read_ACR1(self) -> int:
        return self.values["ACR1"]

    def write_PDMCR(self, value: int) -> None:
        if self._run is not None and (value ^ self.values["PDMCR"]) & 0x31:
            self.guest_error(self.where("PDMCR"), "PDMEN/MICNBR changed while block A runs (RM0432: set the PDM "
                             "interface before enabling SAI_A)")
        self.values["PDMCR"] = value

    def write_AIM(self, value: int) -> None:
        self.values["AIM"] = value
        self._irqs()

    def read_ASR(self) -> int:
        n = len(self.fifo)
        flvl = 0 if n == 0 else 5 if n >= FIFO_WORDS else 1 + (n - 1) * 4 // FIFO_WORDS
        sr = self.errors | (FREQ if self._freq() else 0)
        return sr | flvl << 16

    def write_ACLRFR(self, value: int) -> None:
        self.errors &= ~(value & OVRUDR)
        self._irqs()

    def read_ADR(self) -> int:
        value = self.fifo.popleft() if self.fifo else 0
        self._irqs()
        return value

    def _freq(self) -> bool:
        """Receiver: FREQ at the FIFO threshold (ACR2.FTH: not empty, 1/4, 1/2, 3/4, full)."""
        fth = self.values["ACR2"] & 7
        need = (1, 2, 4, 6, 8)[fth] if fth < 5 else 1
        return len(self.fifo) >= need

    # --- the receiver ----------------------------------------------------------------------------
    def _start(self) -> None:
        cr1, pdmcr = self.values["ACR1"], self.values["PDMCR"]
        where = self.where("ACR1")
        if cr1 & 3 != 1:
            self.unimplemented(where, f"MODE = {cr1 & 3}: only master receive (01) is modelled (the PDM interface)")
            return
        if cr1 >> 2 & 3:
            self.unimplemented(where, f"PRTCFG = {cr1 >> 2 & 3}: only the free protocol is modelled")
            return
        if not pdmcr & 1:
            self.unimplemented(self.where("PDMCR"), "block A enabled without the PDM interface (PDMEN): only PDM "
                               "microphones are modelled")
            return
        if cr1 >> 5 & 7 != 2:
            self.unimplemented(where, f"DS = {cr1 >> 5 & 7}: only 8-bit data (010, one microphone byte per slot) "
                               "is modelled")
            return
        mics = 2 * ((pdmcr >> 4 & 3) + 1)
        frl, nbslot = self.values["AFRCR"] & 0xFF, (self.values["ASLOTR"] >> 8 & 0xF) + 1
        if frl + 1 != 8 * mics or nbslot != mics:
            self.guest_error(self.where("AFRCR"), f"{mics} microphones (MICNBR) need frames of {8 * mics} bit "
                             f"clocks (FRL = {8 * mics - 1}) and {mics} slots (NBSLOT = {mics - 1}); FRL = {frl}, "
                             f"NBSLOT = {nbslot - 1}")
            return
        if not pdmcr >> 8 & 0xF:
            self.guest_error(self.where("PDMCR"), "no microphone clock enabled (CKEN1-4): the microphones are silent")
        sck = self.sck_hz(cr1, frl)
        if sck <= 0:
            self.guest_error(where, "SAIAEN set but the SAI kernel clock is off: no bit clock")
            return
        ck = sck / mics
        streams: list[Any] = []
        for s in range(mics):
            line, edge = s // 2 + 1, "falling" if s & 1 else "rising"
            mic = next((m for m in self.microphones if m.config.options.get("input", 1) == line
                        and m.edge == edge), None)
            streams.append((mic, mic.stream(round(ck)) if mic is not None else None))
        self._run = {"start": self.host.now_fs(), "ck": ck, "mics": mics, "streams": streams,
                     "lsbfirst": bool(cr1 >> 8 & 1)}
        self._next = 0
        self.fifo.clear()
        self._schedule()

    def _stop(self) -> None:
        self.dma_catch_up(f"{self.periph}_A")
        if self._event is not None:
            self.host.cancel(self._event)
        self._event = None
        self._run = None

    def _end_fs(self, k: int) -> int:
        """When byte (slot) ``k`` is complete: the end of its frame (8 microphone clocks per frame)."""
        assert self._run is not None
        frame = k // self._run["mics"]
        return self._run["start"] + (frame + 1) * 8 * FS_PER_SECOND // round(self._run["ck"])

    def _bytes(self, k0: int, k1: int) -> Any:
        """Bytes ``k0 .. k1-1`` in slot order (numpy uint8)."""
        import numpy as np  # only once the receiver runs: not at start-up

        assert self._run is not None
        mics = self._run["mics"]
        f0, f1 = k0 // mics, (k1 - 1) // mics + 1
        out = np.zeros((f1 - f0, mics), dtype=np.uint8)
        weights = (1 << np.arange(8)) if self._run["lsbfirst"] else (1 << np.arange(7, -1, -1))
        for s, (_mic, stream) in enumerate(self._run["streams"]):
            if stream is not None:
                bits = stream.bits(8 * f0, 8 * f1).reshape(-1, 8).astype(np.uint16)
                out[:, s] = (bits * weights).sum(axis=1)
        return out.reshape(-1)[k0 - f0 * mics: k1 - f0 * mics]

    def _dma(self) -> tuple[Any, Any] | None:
        """(DMA controller, channel) reading ADR in blocks, when ACR1.DMAEN and a channel on SAI1_A reads it."""
        if not self.values["ACR1"] & DMAEN:
            return None
        for dma in self.dma_controllers():
            t = dma.channel_for(f"{self.periph}_A") if hasattr(dma, "channel_for") else None
            if t is not None:
                if t.pinc or t.fifo_mode or t.par != self.base + 0x20:
                    return None
                return dma, t
        return None

    def _schedule(self) -> None:
        assert self._run is not None
        found = self._dma()
        if found is not None:
            n = max(1, min(found[0].items_to_flag(found[1]), MAX_BATCH))
        else:
            n = self._run["mics"] - self._next % self._run["mics"]  # the rest of the frame
        self._batch_end = self._next + n
        self._event = self.host.schedule_at_fs(self._end_fs(self._batch_end - 1), self._done,
                                               f"{self.periph} PDM frame")

    def _deliver(self, k1: int) -> None:
        """Bytes ``_next .. k1-1``: to the DMA channel as a block, else into the FIFO (OVRUDR when full)."""
        assert self._run is not None
        k0 = self._next
        data = self._bytes(k0, k1)
        found = self._dma()
        moved = found[0].transfer_block(found[1], data) if found is not None else 0
        for value in data[moved:]:
            if len(self.fifo) >= FIFO_WORDS:
                self.errors |= OVRUDR
                self.overruns.append({"kind": "overruns", "cycle": self.host.now_cycles(),
                                      "time_s": self.host.now_seconds(), "what": f"{self.periph}_A: FIFO full"})
                continue
            self.fifo.append(int(value))
        self._next = k1
        self.bytes_received += k1 - k0
        for mic, _stream in self._run["streams"]:
            if mic is not None and hasattr(mic, "note_delivered"):
                mic.note_delivered((k1 - k0) // self._run["mics"], dma_block=moved > 0)
        self._irqs()

    def _past_recording(self, k: int) -> Any:
        """A microphone whose recording (``end=stop``) ends before byte ``k``'s frame begins, else None."""
        assert self._run is not None
        frame = k // self._run["mics"]
        for mic, stream in self._run["streams"]:
            end = stream.end_bit if stream is not None else None
            if end is not None and 8 * frame >= end:
                return mic
        return None

    def _done(self) -> None:
        self._event = None
        if self._run is None:
            return
        mic = self._past_recording(self._next)
        if mic is not None:
            mic.recording_ended(self.host, f"{self.periph}_A's next "
                                f"{'DMA half' if self._dma() is not None else 'frame'}")
            return
        self._deliver(self._batch_end)
        self._schedule()

    def dma_catch_up(self, request: str) -> None:
        """A DMA count read or a stop between events: the bytes of the frames complete by now are delivered."""
        if self._run is None or self._event is None:
            return
        frames = (self.host.now_fs() - self._run["start"]) * round(self._run["ck"]) // (8 * FS_PER_SECOND)
        k1 = min(frames * self._run["mics"], self._batch_end - 1)
        while k1 > self._next and self._past_recording(k1 - 1) is not None:
            k1 -= 1  # (none past the recording's end: the batch's event ends the run)
        if k1 > self._next:
            self._deliver(k1)

    def dma_changed(self, request: str) -> None:
        """A DMA channel on SAI1_A started or stopped: plan again."""
        self._replan()

    def _replan(self) -> None:
        if self._run is None or self._event is None:
            return
        self.host.cancel(self._event)
        self._event = None
        self._schedule()

    def dma_pending(self, request: str) -> bool:
        return False  # the DMA takes the bytes as blocks when they complete (transfer_block)

    # --- interrupt and reports -------------------------------------------------------------------
    def _irqs(self) -> None:
        im = self.values.get("AIM", 0)
        level = bool(im & OVRUDR and self.errors & OVRUDR or im & FREQ and self._freq())
        if level != self._irq_level and self.irq is not None:
            self._irq_level = level
            self.host.set_irq(self.irq, level)

    def stats(self) -> dict[str, Any]:
        return {"name": self.name, "type": self.TYPE, "bytes": self.bytes_received, "overruns": len(self.overruns),
                "events": self.overruns[:100]}
