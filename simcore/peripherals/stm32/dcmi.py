"""STM32F4 digital camera interface (RM0090 section 15): a parallel camera's frames packed into 32-bit words
for the DMA (request ``DCMI``: DMA2 stream 1 or 7, channel 1, RM0090 Table 43).

The board wires a camera chip's parallel port to the DCMI (``[[device]]`` option ``port = "dcmi"``,
docs/bus-devices.md); the camera (``simcore/devices/ov7670.py``) says when each frame and line starts
and which bytes it sends. Everything happens on the camera's virtual-time schedule:

- the camera's frame timing starts when the firmware first sets ``ENABLE`` (the model has no XCLK start
  to go by): frame 0 begins then. ``CAPTURE`` with ``ENABLE`` captures from the next frame whose VSYNC
  falls after it (RM0090 15.5.3: "synchronized with the deactivation of VSYNC"); snapshot mode
  (``CM`` = 1) captures one frame and clears ``CAPTURE``; continuous mode captures every frame, every
  other one or one in four (``FCRC``) until ``CAPTURE`` is cleared, which takes effect at the frame's end.
- bytes are sampled one per pixel clock (8-bit mode) or one 16-bit item per pixel clock (``EDM`` 10-14
  bits: the board wires the camera's eight data lines to D[7:0], the others read 0), and packed into
  words, the first byte in bits 7:0 (RM0090 15.5.3, Figure 64). With ``CROP`` only the window
  ``CWSTRT``/``CWSIZE`` is captured: lines ``VST`` .. ``VST + VLINE`` of the frame, pixel clocks
  ``HOFFCNT`` .. ``HOFFCNT + CAPCNT`` of each (RM0090 15.8.9/15.8.10). In ``JPEG`` mode every byte of
  the frame is captured (no crop) and a last incomplete word is padded with zeros.
- a word is complete when its last byte's pixel clock has passed; the words go to the 8-word FIFO and
  raise the DMA request, which the DMA model serves at once (``simcore/peripherals/stm32/signals.py``);
  the CPU may read ``DR`` instead (``SR.FNE``). More than 8 words waiting (no DMA stream enabled, or the
  stream stopped) is an overrun: ``OVR_RIS``, the FIFO is flushed and the rest of the frame is lost
  (capture resumes at the next frame; the frame gets no ``FRAME_RIS``), counted with its time in the
  camera's figures of the run summary.
- ``FRAME_RIS`` when a frame has been captured (at VSYNC's rise, or at the end of the crop window's
  last line), ``VSYNC_RIS`` at each VSYNC rise, ``LINE_RIS`` at each line end (HSYNC becoming active)
  of captured frames and, while ``LINE_IE`` is set, of every frame; ``MIS`` = ``RIS`` & ``IER``
  drives the DCMI interrupt (IRQ 78, from the part's SVD); ``ICR`` clears flags.
- hardware synchronisation checks the polarities against the camera's signals: ``VSPOL``/``HSPOL`` name
  the level at which the data are *not* valid, ``PCKPOL`` = 1 samples on the rising edge (an OV7670 at
  reset wants VSPOL 1, HSPOL 0, PCKPOL 1). A mismatch is a guest error; with VSPOL or HSPOL wrong nothing
  is captured. Embedded synchronisation (``ESS``) needs a camera that sends BT.656 codes (OV7670
  COM1.CCIR656); the codes are classified with ``ESCR``/``ESUR`` as RM0090 15.5.3 gives (``FSC``/``FEC`` =
  FFh: the first line start after a frame end / every unused code); when the codes cannot be told apart
  or the line codes do not match, ``ERR_RIS`` is set once per frame and nothing is captured.

Not modelled: the camera's data lines beyond D[7:0], byte/line select (F7/H7 only), the timing of the
DMA's bus accesses (words move at once).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from simcore.clock import FS_PER_SECOND
from simcore.peripherals import register_model
from simcore.peripherals.base import Host, PeripheralModel
from simcore.peripherals.stm32.signals import DmaRequester

if TYPE_CHECKING:
    import numpy as np  # imported where a frame is captured: a run without a camera does not load numpy

FRAME, OVR, ERR, VSYNC, LINE = 1, 2, 4, 8, 16  # RIS/IER/MIS/ICR bits (RM0090 15.8.3)
CAPTURE, CM, CROP, JPEG, ESS, PCKPOL, HSPOL, VSPOL, ENABLE = 1, 2, 4, 8, 16, 32, 64, 128, 1 << 14
FIFO_WORDS = 8  # RM0090 15.5.2: the data FIFO
REQUEST = "DCMI"
DR = 0x28  # the data register's offset (RM0090 15.8.11)


class ParallelCamera(Protocol):
    """What the DCMI needs of a camera chip (simcore.devices.ov7670.Ov7670 has it)."""

    name: str
    stream_start: int

    def geometry(self) -> tuple[int, int, str]: ...
    def bytes_per_pixel(self) -> int: ...
    def frame_period_fs(self) -> int: ...
    def frame_start_fs(self, k: int) -> int: ...
    def vsync_end_fs(self, k: int) -> int: ...
    def line_start_fs(self, k: int, j: int) -> int: ...
    def byte_period_fs(self) -> int: ...
    def frame_bytes(self, k: int) -> bytes: ...
    def polarities(self) -> dict[str, bool]: ...
    def ccir656(self) -> bool: ...


class Capture:
    """One frame being captured: its words and the virtual time at which each is complete."""

    def __init__(self, k: int, words: np.ndarray, done_fs: np.ndarray, batch_fs: np.ndarray, frame_at: int) -> None:
        self.k = k
        self.words = words  # uint32, in order
        self.done_fs = done_fs  # int64, non-decreasing: when each word is complete
        self.batch_fs = batch_fs  # int64: the end of the line in which each word completes (one event per line)
        self.frame_at = frame_at  # FRAME_RIS time: the window's last line end, or the frame's end
        self.pushed = 0  # words already handed to the FIFO


@register_model
class Stm32F4Dcmi(DmaRequester, PeripheralModel):
    """STM32F4 DCMI (RM0090 section 15): frames from the board's parallel camera into words for DMA2."""

    TYPE = "stm32f4_dcmi"
    SVD = "DCMI"
    PARTS = ("stm32f407vg",)
    PLAIN = ("ESCR", "ESUR", "CWSTRT", "CWSIZE")  # latched at each frame's start

    def __init__(self, config: Any, host: Host, registers: Any = None) -> None:
        self.camera: ParallelCamera | None = None
        self.frames_captured = 0
        self.words_captured = 0
        self.overruns: list[dict[str, Any]] = []
        self._event: Any = None
        super().__init__(config, host, registers)

    def reset(self) -> None:
        if getattr(self, "_event", None) is not None:
            self.host.cancel(self._event)
        self._event = None
        self.flags = 0
        self.fifo: list[int] = []
        self._irq_level = False
        self._streaming = False  # the camera's frame timing has started
        self._k = 0  # the next frame whose start (VSYNC fall) is still to come
        self._vsync_k = 0  # the next frame whose VSYNC rise is still to flag
        self._cap: Capture | None = None  # the frame being captured
        self._capturing = False  # CAPTURE as the hardware sees it (cleared at a snapshot's end)
        self._stop_after_frame = False  # continuous mode: CAPTURE cleared by software during a frame
        self._since_start = 0  # frames started since capture was enabled (FCRC)
        self._lines: list[int] = []  # line ends of the current frame still to flag (LINE_RIS)
        self._in_catch_up = False
        self._codes_ok = False  # embedded synchronisation: the codes were found in order in the last frame
        self._reported: set[str] = set()
        super().reset()

    def attach_camera(self, camera: ParallelCamera) -> None:
        """The camera whose parallel port (data, PIXCLK, HSYNC/HREF, VSYNC) is wired to this interface."""
        self.camera = camera

    # --- registers ---------------------------------------------------------------------------
    def read_CR(self) -> int:
        self._catch_up()
        return (self.values["CR"] & ~CAPTURE) | (CAPTURE if self._capturing else 0)

    def write_CR(self, value: int) -> None:
        self._catch_up()
        old = self.values["CR"]
        value &= 0x4FFF
        self.values["CR"] = value
        if value & ENABLE and not old & ENABLE:
            self._start_stream()
        if not value & ENABLE:
            if old & ENABLE:  # disabled: capture stops at once, the FIFO is flushed
                self._cap = None
                self.fifo.clear()
            self._capturing = self._stop_after_frame = False
        elif value & CAPTURE and not self._capturing:
            self._capturing = True
            self._stop_after_frame = False
            self._since_start = 0
        elif not value & CAPTURE and self._capturing:
            if self._cap is not None and not value & CM:
                self._stop_after_frame = True  # RM0090 15.8.1: effective at the end of the current frame
            else:
                self._capturing = False
                self._cap = None
        self._plan()

    def read_SR(self) -> int:
        self._catch_up()
        return self._sync_levels() | (4 if self.fifo else 0)

    def read_RIS(self) -> int:
        self._catch_up()
        return self.flags

    def write_IER(self, value: int) -> None:
        self._catch_up()
        self.values["IER"] = value & 0x1F
        self._irq()
        self._plan()

    def read_MIS(self) -> int:
        self._catch_up()
        return self.flags & self.values["IER"]

    def write_ICR(self, value: int) -> None:
        self._catch_up()
        self.flags &= ~(value & 0x1F)
        self._irq()

    def read_DR(self) -> int:
        self._catch_up()
        return self.fifo.pop(0) if self.fifo else 0

    def dma_pending(self, request: str) -> bool:
        return request == REQUEST and bool(self.fifo)

    # --- the camera's schedule -------------------------------------------------------------
    def _start_stream(self) -> None:
        cam = self.camera
        if cam is None:  # a board without a camera: nothing arrives (not an error of the firmware's)
            return
        now = self.host.now_fs()
        if not self._streaming:
            cam.stream_start = now
            self._streaming = True
            self._k = self._vsync_k = 0
        else:  # enabled again: the next frame that starts from now on
            k = -(-(now - cam.stream_start) // cam.frame_period_fs())
            self._k = max(self._k, k)
            self._vsync_k = max(self._vsync_k, k)

    def _sync_levels(self) -> int:
        """SR.HSYNC (bit 0) / SR.VSYNC (bit 1): 1 while the camera is between lines / between frames."""
        cam = self.camera
        if cam is None or not self._streaming:
            return 0
        import numpy as np
        now = self.host.now_fs()
        k = (now - cam.stream_start) // cam.frame_period_fs()
        w, h, _ = cam.geometry()
        line_fs = w * cam.bytes_per_pixel() * cam.byte_period_fs()
        starts = [cam.line_start_fs(k, j) for j in range(h)]
        if not starts[0] <= now < starts[-1] + line_fs:
            return 3  # vertical blanking
        j = int(np.searchsorted(np.array(starts, dtype=np.int64), now, side="right")) - 1
        return 0 if now < starts[j] + line_fs else 1

    def _plan(self) -> None:
        """One event at the next moment something happens: a VSYNC edge, the next words, a line end, FRAME."""
        if self._event is not None:
            self.host.cancel(self._event)
            self._event = None
        cam = self.camera
        if cam is None or not self._streaming or not self.values["CR"] & ENABLE:
            return
        times = [cam.vsync_end_fs(self._k), cam.frame_start_fs(self._vsync_k)]
        cap = self._cap
        if cap is not None:
            if cap.pushed < len(cap.done_fs):
                times.append(int(cap.batch_fs[cap.pushed]))  # the next line's words, at its end
                room = FIFO_WORDS - len(self.fifo)
                if not self._dma_ready() and cap.pushed + room < len(cap.done_fs):  # nobody drains the FIFO
                    times.append(int(cap.done_fs[cap.pushed + room]))
            times.append(cap.frame_at)
        if self._lines:
            times.append(self._lines[0])
        now = self.host.now_fs()
        self._event = self.host.schedule_at_fs(max(min(times), now), self._on_event, "DCMI")

    def _dma_ready(self) -> bool:
        """Is a DMA stream enabled that serves the DCMI request now?"""
        for dma in self.dma_controllers():
            for t in getattr(dma, "streams", ()):
                if t.active and REQUEST in dma.requests_of(t.index):
                    return True
        return False

    def _on_event(self) -> None:
        self._event = None
        self._catch_up()
        self._plan()

    def _catch_up(self) -> None:
        """Bring frames, lines, words and flags up to now, in time order."""
        if self._in_catch_up or self.camera is None or not self._streaming or not self.values["CR"] & ENABLE:
            return
        self._in_catch_up = True
        try:
            cam = self.camera
            now = self.host.now_fs()
            while True:
                nxt = min(cam.vsync_end_fs(self._k), now)  # nothing of the next frame before its VSYNC falls
                cap = self._cap
                if cap is not None:
                    self._push_words(cap, nxt)
                    if self._cap is cap and cap.frame_at <= nxt and cap.pushed == len(cap.words):
                        self._end_capture(captured=True)
                while self._lines and self._lines[0] <= nxt:
                    self._lines.pop(0)
                    if self._sync_flags():
                        self.flags |= LINE
                rise = cam.frame_start_fs(self._vsync_k)
                if rise <= nxt:
                    self._vsync_k += 1
                    if self._sync_flags():
                        self.flags |= VSYNC
                    if self._cap is not None:  # a window reaching past the frame's last line ends with it
                        self._end_capture(captured=True)
                if cam.vsync_end_fs(self._k) > now:
                    break
                self._frame_start(self._k)
                self._k += 1
        finally:
            self._in_catch_up = False
        self._irq()

    def _sync_flags(self) -> bool:
        """LINE/VSYNC flags: always with hardware sync; with embedded codes only while capturing (RM0090 15.8.3)
        and when the codes were found."""
        return not self.values["CR"] & ESS or self._capturing and self._codes_ok

    def _end_capture(self, captured: bool) -> None:
        """The frame in capture is done (FRAME_RIS) or lost (overrun); a snapshot, or a stop request, ends here."""
        self._cap = None
        if captured:
            self.flags |= FRAME
            self.frames_captured += 1
            stats = getattr(self.camera, "stats_", None)
            if stats is not None:
                stats.count("frames_delivered")  # the camera's line of the run summary
        if self.values["CR"] & CM or self._stop_after_frame:
            self._capturing = self._stop_after_frame = False

    # --- one frame -------------------------------------------------------------------------
    def _frame_start(self, k: int) -> None:
        """VSYNC of frame ``k`` falls: latch the configuration and decide whether the frame is captured."""
        import numpy as np
        cam = self.camera
        assert cam is not None
        cr = self.values["CR"]
        w, h, _fmt = cam.geometry()
        line_bytes = w * cam.bytes_per_pixel()
        ends = [cam.line_start_fs(k, j) + line_bytes * cam.byte_period_fs() for j in range(h)]
        capture = self._capturing and not self._stop_after_frame and self._cap is None
        if capture:
            rate = (1, 2, 4, 4)[cr >> 8 & 3] if not cr & CM else 1
            capture = self._since_start % rate == 0
            self._since_start += 1
        synced = self._synchronised(cr, capture)
        self._lines = ends if (capture and synced) or self.values["IER"] & LINE else []
        if not (capture and synced):
            return
        data = np.frombuffer(cam.frame_bytes(k), dtype=np.uint8).reshape(h, line_bytes)
        t = np.array([cam.line_start_fs(k, j) for j in range(h)], dtype=np.int64)[:, None] + \
            (np.arange(1, line_bytes + 1, dtype=np.int64) * cam.byte_period_fs())[None, :]
        frame_at = cam.frame_start_fs(k + 1)
        if cr & CROP and not cr & JPEG:
            start, size = self.values["CWSTRT"], self.values["CWSIZE"]
            hoff, vst = start & 0x3FFF, start >> 16 & 0x1FFF
            capcnt, vline = size & 0x3FFF, size >> 16 & 0x3FFF
            items = 1 if not cr >> 10 & 3 else 2  # bytes per pixel clock in the packed words
            if (capcnt + 1) * items % 4:
                self._once("CWSIZE", "guest", f"CAPCNT + 1 = {capcnt + 1} pixel clocks is not a whole number of "
                           "words (RM0090 15.8.10): the last word of each line spills into the next")
            rows, cols = slice(vst, vst + vline + 1), slice(hoff, hoff + capcnt + 1)
            data, t = data[rows, cols], t[rows, cols]
            if data.shape[0] and data.shape[0] == vline + 1:
                frame_at = int(ends[vst + vline])
        elif cr & CROP:
            self._once("CR", "guest", "CROP with JPEG: the crop window does not apply to JPEG data (RM0090 15.5.4); "
                       "the whole frame is captured")
        flat, times = data.reshape(-1), t.reshape(-1)
        rows = np.repeat(t[:, -1] if t.shape[1] else np.zeros(t.shape[0], np.int64), t.shape[1])
        if cr >> 10 & 3:  # 10/12/14-bit: one 16-bit item per pixel clock, D[7:0] wired
            flat = np.stack([flat, np.zeros_like(flat)], axis=1).reshape(-1)
            times, rows = np.repeat(times, 2), np.repeat(rows, 2)
        pad = -len(flat) % 4
        if pad:
            flat = np.concatenate([flat, np.zeros(pad, np.uint8)])
            times = np.concatenate([times, np.full(pad, times[-1] if len(times) else frame_at, np.int64)])
            rows = np.concatenate([rows, np.full(pad, rows[-1] if len(rows) else frame_at, np.int64)])
        words = np.ascontiguousarray(flat).view("<u4") if len(flat) else np.zeros(0, np.uint32)
        self._cap = Capture(k, words.astype(np.uint32), times[3::4].astype(np.int64), rows[3::4].astype(np.int64),
                            frame_at)

    def _synchronised(self, cr: int, capture: bool) -> bool:
        """Can the DCMI find frames and lines in the camera's signals as configured? (reports when not)"""
        cam = self.camera
        assert cam is not None
        if cr & ESS:
            self._codes_ok = self._embedded_codes_ok(cr, capture)
            return self._codes_ok
        pol = cam.polarities()
        ok = True
        if bool(cr & VSPOL) != pol["vsync_high"]:
            self._once("CR.VSPOL", "guest", f"VSPOL = {int(bool(cr & VSPOL))}, but the camera's VSYNC is "
                       f"{'high' if pol['vsync_high'] else 'low'} between frames: the DCMI finds no frame data, "
                       "nothing is captured")
            ok = False
        if bool(cr & HSPOL) == pol["href_high"]:
            self._once("CR.HSPOL", "guest", f"HSPOL = {int(bool(cr & HSPOL))}, but the camera's HREF is "
                       f"{'high' if pol['href_high'] else 'low'} on valid data (HSPOL names the level when data are "
                       "not valid): only blanking would be sampled, nothing is captured")
            ok = False
        if bool(cr & PCKPOL) != pol["pclk_rising"] and capture:
            self._once("CR.PCKPOL", "guest", f"PCKPOL = {int(bool(cr & PCKPOL))} samples on the edge where the "
                       "camera changes its data (the data are captured as sent; a real part may sample garbage)")
        return ok

    def _embedded_codes_ok(self, cr: int, capture: bool) -> bool:
        """Embedded synchronisation: the camera's BT.656 codes classified with ESCR and ESUR (RM0090 15.5.3)."""
        from simcore.devices.ov7670 import CCIR656_CODES as C

        cam = self.camera
        assert cam is not None
        if cr >> 10 & 3:
            self._once("CR.ESS", "guest", "embedded synchronisation with EDM != 0: RM0090 15.5.3 allows it in 8-bit "
                       "mode only (unpredictable results); nothing is captured")
            return False
        if not cam.ccir656():
            self._once("CR.ESS", "guest", f"ESS = 1 but the camera ({cam.name}) sends no embedded codes (OV7670 "
                       "COM1.CCIR656 = 0): no frame is found")
            return False
        escr, esur = self.values["ESCR"], self.values["ESUR"]
        fsc, lsc, lec, fec = (escr >> s & 0xFF for s in (0, 8, 16, 24))
        fsu, lsu, leu, feu = (esur >> s & 0xFF for s in (0, 8, 16, 24))

        def hits(code: int) -> set[str]:
            out = {name for name, c, u in (("FS", fsc, fsu), ("LS", lsc, lsu), ("LE", lec, leu), ("FE", fec, feu))
                   if (code & u) == (c & u) and not (name in ("FS", "FE") and c == 0xFF)}
            return out

        got = {k: hits(v) for k, v in C.items()}
        if fec == 0xFF:  # every code that is none of the others ends a frame
            for v in got.values():
                if not v:
                    v.add("FE")
        ok = got["sav_active"] == {"LS"} and got["eav_active"] == {"LE"} and \
            not {"LS", "LE"} & (got["sav_blank"] | got["eav_blank"]) and \
            (fsc == 0xFF or any("FS" in v for k, v in got.items() if k.endswith("blank")))
        if not ok:
            self.flags |= ERR
            self._once("ESCR", "guest", "the embedded codes as ESCR/ESUR select them do not come in the order of a "
                       f"frame (camera codes {', '.join(f'{k} {v:02X}h' for k, v in C.items())} read as "
                       f"{', '.join(f'{k}: {sorted(v) or None}' for k, v in got.items())}): ERR, nothing is "
                       "captured")
        return ok

    def _push_words(self, cap: Capture, until: int) -> None:
        """Hand the words complete by ``until`` to the DMA (one block when a direct-mode stream reads ``DR``,
        simcore/peripherals/stm32/dma.py ``transfer_block``) or the FIFO; more than 8 waiting is an overrun."""
        import numpy as np
        n = int(np.searchsorted(cap.done_fs, until, side="right"))
        if n <= cap.pushed:
            return
        first = cap.pushed
        cap.pushed = n
        self.words_captured += n - first
        words = cap.words[first: n]
        block = self._dma_block() if not self.fifo else None
        if block is not None:
            words = words[block[0].transfer_block(block[1], words):]
        if len(words):
            self.fifo.extend(words.tolist())
            self.dma_request(REQUEST)  # a stream that selects the request drains the FIFO while it runs
        if len(self.fifo) > FIFO_WORDS:  # the word that found the FIFO full, as far as the DMA got
            self._overrun(cap, int(cap.done_fs[max(first, n - (len(self.fifo) - FIFO_WORDS))]))

    def _dma_block(self) -> tuple[Any, Any] | None:
        """(DMA controller, stream) when a direct-mode stream reads every word from ``DR``, else None."""
        for dma in self.dma_controllers():
            channel_for = getattr(dma, "channel_for", None)
            t = channel_for(REQUEST) if channel_for is not None else None
            if t is None:
                continue
            if t.pinc or t.fifo_mode or t.par != self.base + DR or t.psize != 4:
                return None
            return dma, t
        return None

    def dma_catch_up(self, request: str) -> None:
        """The DMA's count is read or its stream stops: deliver the words complete by now first."""
        self._catch_up()

    def dma_changed(self, request: str) -> None:
        """A DMA stream was enabled or disabled: plan again (the FIFO may overflow without one)."""
        self._plan()

    def _overrun(self, cap: Capture, at: int) -> None:
        self.fifo.clear()
        self.flags |= OVR
        what = f"DCMI: frame {cap.k} lost, more than 8 words waiting (no DMA stream serving the DCMI request, or it " \
            "stopped)"
        self.overruns.append({"kind": "overruns", "cycle": self.host.now_cycles(), "time_s": at / FS_PER_SECOND,
                              "what": what, "frame": cap.k})
        stats = getattr(self.camera, "stats_", None)
        if stats is not None:
            stats.record("overruns", at, what=what)
        self._end_capture(captured=False)  # the rest of the frame is lost; capture resumes at the next frame

    # --- interrupt and reports ---------------------------------------------------------------
    def _irq(self) -> None:
        level = bool(self.flags & self.values["IER"])
        if self.irq is not None and level != self._irq_level:
            self._irq_level = level
            self.host.set_irq(self.irq, level)

    def _once(self, reg: str, channel: str, detail: str) -> None:
        if reg in self._reported:
            return
        self._reported.add(reg)
        base = reg.split(".")[0]
        where = self.where(base) + reg[len(base):]
        if channel == "guest":
            self.guest_error(where, detail)
        else:
            self.unimplemented(where, detail)

    def stats(self) -> dict[str, Any]:
        return {"name": self.name, "type": self.TYPE, "frames": self.frames_captured, "words": self.words_captured,
                "overruns": len(self.overruns), "events": self.overruns[:100]}
