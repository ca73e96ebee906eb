"""STM32F4 SPI2/SPI3 in I2S mode receiving a PDM microphone (RM0090 section 28.4), as the STM32F4
Discovery wires its MP45DT02: I2S2_CK (PB10) clocks the microphone, its data line goes to I2S2_SD (PC3).

``I2SCFGR.I2SMOD`` selects I2S; ``I2SCFG`` = 3 (master receive) with ``I2SE`` starts the bit
clock CK = I2SxCLK / (2 * ``I2SDIV`` + ``ODD``) (with ``MCKOE``: the master clock I2SxCLK /
(2 * I2SDIV + ODD) is 256 Fs and CK is MCK / 8 for 16-bit channels, MCK / 4 for 32-bit ones;
RM0090 28.4.4). I2SxCLK is the PLLI2S R output (``RCC_PLLI2SCFGR``, ``PLLI2SON``) unless
``RCC_CFGR.I2SSRC`` selects the external I2S_CKIN, which the board does not have. The microphone
answers on the edge it drives (its ``lr`` option); the receiver samples on the rising edge with
``CKPOL`` = 0 and the falling one with ``CKPOL`` = 1. Whatever the I2S standard, a PDM stream
fills every data bit of a channel slot: with 16-bit data (``DATLEN`` 0) each ``DR`` word is the
next 16 bits of the stream (``CHLEN`` 1: the first 16 bits of each 32-bit slot, the other 16 are
not data); with 32-bit data (``DATLEN`` 2) two words, high half first. ``SR.CHSIDE`` says which
channel the word in ``DR`` came from, ``RXNE``/``OVR`` as in SPI mode (a word arriving before the
previous was read is lost).

The firmware's own PDM-to-PCM filter then runs on the words. With ``RXDMAEN`` (request
``SPI2_RX``/``SPI3_RX`` on the DMA model) words are delivered in batches that end exactly where
the DMA stream's next half-transfer or transfer-complete flag is due, so a firmware that waits for
those flags sees them at the virtual time the hardware raises them, without an event per word; a
stream in direct mode reading ``DR`` takes each batch as one block (numpy words, one memory write:
``transfer_block`` in simcore/peripherals/stm32/dma.py), and a read of ``NDTR`` in between
delivers the words complete by then. A firmware that sleeps in wfi until the stream's half is complete (the
Discovery's audio_events) has its halves delivered in C at those wfis, up to CH_MAX per Python entry
(:meth:`Stm32F4SpiI2s.dma_chain`, hotpath.c ``hp_chain_wake``), the model settled at Python's next entry.
Not modelled (reported): transmit and slave modes, 24-bit data, the I2Sxext full-duplex blocks.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any

from simcore.clock import FS_PER_SECOND
from simcore.peripherals import register_model
from simcore.peripherals.base import Host
from simcore.peripherals.stm32.spi import OVR, RXNE, TXE, Stm32F4Spi

if TYPE_CHECKING:
    from simcore.runtypes import ChainPlan

CHSIDE = 1 << 2
MAX_BATCH = 8192  # words delivered at most per event when the DMA reads them


@register_model
class Stm32F4SpiI2s(Stm32F4Spi):
    """STM32F4 SPI2/SPI3 with the I2S mode: master receive from the board's PDM microphone."""

    TYPE = "stm32f4_spi_i2s"
    PLAIN = ("CRCPR", "I2SPR")
    POLL_SAFE = True  # flags change only when written or at word/frame events (simcore/poll.py)

    def __init__(self, config: Any, host: Host, registers: Any = None) -> None:
        self.microphones: list[Any] = []
        self.words_received = 0
        self.overruns: list[dict[str, Any]] = []
        self._i2s_event: Any = None
        self._chain_cache: tuple[tuple[Any, ...], ChainPlan | None] | None = None  # dma_chain's last (key, plan)
        self._chain_words: tuple[Any, int, Any, bytes] | None = None  # (run, first word, words, their bytes) ahead
        super().__init__(config, host, registers)

    def reset(self) -> None:
        if getattr(self, "_i2s_event", None) is not None:
            self.host.cancel(self._i2s_event)
        self._i2s_event = None
        self._run: dict[str, Any] | None = None  # the running receiver: start, word period, stream...
        self._word: int | None = None  # the word in DR, unread
        self._side = 0
        self._next = 0  # the next word index to complete
        self._i2s_errors = 0
        super().reset()

    def attach_microphone(self, mic: Any) -> None:
        """A PDM microphone whose clock is this block's CK and whose data line is its SD pin."""
        self.microphones.append(mic)

    def i2s_mode(self) -> bool:
        return bool(self.values.get("I2SCFGR", 0) >> 11 & 1)

    # --- configuration -----------------------------------------------------------------------
    def i2sxclk_hz(self) -> float:
        rcc = self.host.peripheral("rcc")
        if rcc is not None and getattr(rcc, "values", {}).get("CFGR", 0) >> 23 & 1:
            self.unimplemented(self.where("I2SCFGR"), "I2SSRC selects the external I2S_CKIN clock, which the board "
                               "does not have: no bit clock")
            return 0.0
        try:
            return float(self.host.clock_hz("PLLI2SCLK"))
        except KeyError:
            return 0.0

    def ck_hz(self) -> float:
        pr = self.values.get("I2SPR", 2)
        div, odd, mckoe = pr & 0xFF, pr >> 8 & 1, pr >> 9 & 1
        if div < 2:
            self.guest_error(self.where("I2SPR"), f"I2SDIV = {div}: 0 and 1 are forbidden (RM0090 28.5.9)")
            return 0.0
        base = self.i2sxclk_hz() / (2 * div + odd)
        if mckoe:
            return base / (8 if not self.values["I2SCFGR"] & 1 else 4)
        return base

    def write_I2SCFGR(self, value: int) -> None:
        old = self.values.get("I2SCFGR", 0)
        self.values["I2SCFGR"] = value & 0x0FBF
        starting = value >> 10 & 1 and not old >> 10 & 1
        stopping = old >> 10 & 1 and not value >> 10 & 1
        if value >> 11 & 1 and starting:
            self._start()
        elif stopping:
            self._stop()
        self._update()

    def _start(self) -> None:
        cfg = self.values["I2SCFGR"]
        if cfg >> 8 & 3 != 3:
            self.unimplemented(self.where("I2SCFGR"), f"I2SCFG = {cfg >> 8 & 3}: only master receive (3) is "
                               "modelled (a PDM microphone)")
            return
        datlen = cfg >> 1 & 3
        if datlen not in (0, 2):
            self.unimplemented(self.where("I2SCFGR"), f"DATLEN = {datlen}: 24-bit data is not modelled")
            return
        if datlen == 2 and not cfg & 1:
            self.guest_error(self.where("I2SCFGR"), "32-bit data in a 16-bit channel (CHLEN = 0) is not allowed")
            return
        hz = self.ck_hz()
        if hz <= 0:
            self.guest_error(self.where("I2SCFGR"), "I2SE set but I2SxCLK is not running (PLLI2S off): no bit clock")
            return
        edge = "falling" if cfg >> 3 & 1 else "rising"
        mic = next((m for m in self.microphones if m.edge == edge), None)
        if mic is None:
            self.guest_error(self.where("I2SCFGR"), f"receiving on the {edge} clock edge (CKPOL), but no microphone "
                             "drives the data line on it: the words read 0")
        slot = 32 if cfg & 1 else 16  # bits per channel slot
        self._run = {"start": self.host.now_fs(), "hz": hz, "slot": slot, "datlen32": datlen == 2, "mic": mic,
                     "stream": mic.stream(round(hz)) if mic is not None else None,
                     "fs_per_bit": FS_PER_SECOND / hz}
        self._next = 0
        self._word = None
        self._schedule()

    def _stop(self) -> None:
        if self._i2s_event is not None:
            self.host.cancel(self._i2s_event)
        self._i2s_event = None
        self._run = None

    # --- words --------------------------------------------------------------------------------
    def _end_bit(self, k: int) -> int:
        """The clock period (from the start) at whose end word ``k`` is complete."""
        assert self._run is not None
        if self._run["slot"] == 32 and not self._run["datlen32"]:
            return 32 * k + 16
        return 16 * (k + 1)

    def _end_fs(self, k: int) -> int:
        assert self._run is not None
        return self._run["start"] + int(self._end_bit(k) * FS_PER_SECOND // round(self._run["hz"]))

    def _word_limit(self) -> int | None:
        """Words holding some of the recording (``end=stop``: word ``k`` does iff ``k`` < this; the last one may end
        in silence), else None."""
        run = self._run
        end = run["stream"].end_bit if run is not None and run["stream"] is not None else None
        if end is None:
            return None
        bits = 32 if run["slot"] == 32 and not run["datlen32"] else 16  # (16 data bits of each 32-bit slot)
        return -(-end // bits)

    def _values(self, k0: int, k1: int) -> tuple[list[int], list[int]]:
        """Words ``k0 .. k1-1`` and the channel side each belongs to."""
        assert self._run is not None
        run = self._run
        ks = range(k0, k1)
        if run["slot"] == 32 and not run["datlen32"]:
            sides = [k & 1 for k in ks]
        else:
            sides = [(k >> 1) & 1 if run["slot"] == 32 else k & 1 for k in ks]
        if run["stream"] is None:
            return [0] * (k1 - k0), sides
        if run["slot"] == 32 and not run["datlen32"]:
            words = run["stream"].words(2 * k0, 2 * k1)[::2]  # the first 16 bits of each 32-bit slot
        else:
            words = run["stream"].words(k0, k1)
        return [int(w) for w in words], sides

    def _dma_stream(self) -> tuple[Any, Any] | None:
        """(DMA controller, stream) when a DMA stream reads every word from ``DR`` (``RXDMAEN``, a
        peripheral-to-memory stream on the RX request, fixed peripheral address at ``DR``, direct mode), so
        words can be delivered as blocks (simcore/peripherals/stm32/dma.py ``transfer_block``); else None."""
        if not self.cr2() & 1:
            return None
        request = f"{self.periph}_RX"
        for dma in self.dma_controllers():
            channel_for = getattr(dma, "channel_for", None)
            t = channel_for(request) if channel_for is not None else None
            if t is None:
                continue
            if t.pinc or t.fifo_mode or t.par != self.base + 0x0C or t.psize != 2:
                return None
            return dma, t
        return None

    def _dma_batch(self) -> int:
        """Words until the DMA stream serving this block's RX request raises its next flag (1: no such stream).
        Words a stream cannot take as a block (FIFO mode) are then delivered one by one at the batch's end."""
        if not self.cr2() & 1:
            return 1
        request = f"{self.periph}_RX"
        for dma in self.dma_controllers():
            channel_for = getattr(dma, "channel_for", None)
            t = channel_for(request) if channel_for is not None else None
            if t is not None:
                return max(1, min(dma.items_to_flag(t), MAX_BATCH))
        return 1

    def _schedule(self) -> None:
        n = self._dma_batch()
        self._batch_end = self._next + n
        ev = self._i2s_event = self.host.schedule_at_fs(self._end_fs(self._batch_end - 1), self._words_done,
                                                        f"{self.periph} I2S words")
        if n > 1 and hasattr(ev, "chain"):  # (a machine's Event; a test host's handle may be other)
            ev.chain = self.dma_chain

    def _block_words(self, k0: int, k1: int) -> Any:
        """Words ``k0 .. k1-1`` as the DMA reads them from ``DR`` (numpy), the stream running."""
        assert self._run is not None
        run = self._run
        if run["slot"] == 32 and not run["datlen32"]:
            return run["stream"].words(2 * k0, 2 * k1)[::2]  # the first 16 bits of each 32-bit slot
        return run["stream"].words(k0, k1)

    # --- DMA halves delivered in C (hotpath.c hp_chain_wake) ----------------------------------
    def dma_chain(self) -> ChainPlan | None:
        """The next halves of the DMA ring as C delivers them at the firmware's wfis (Machine._plan_chain, the
        Discovery's audio_events): while a circular stream in direct mode reads ``DR`` into a ring of two equal
        halves with HTIE and TCIE (each half raises the stream's line), and the register file holds the stream's
        status register (``LISR``/``HISR``) with its flag clear slot (``LIFCR``/``HIFCR``; the firmware read and
        cleared it once through Python). Each half sets its HTIFx or TCIFx alone (C checks the status register all
        clear at the wfi: the firmware has cleared the other half's flag). The words come from the PDM stream's kept
        blocks, made once for up to CH_MAX halves ahead; the plan holds while nothing it depends on changed."""
        run = self._run
        found = self._dma_stream() if run is not None and self._word is None and run["stream"] is not None else None
        if found is None:
            return None
        dma, t = found
        clocks = getattr(self.host, "clocks", None)
        key = (id(run), self._next, self._batch_end, id(self._i2s_event), t.index, t.left, t.total, t.half_done,
               t.active, t.circ, t.minc, t.msize, t.mar, dma.values.get(dma.stream_label(t.index)),
               dma.held_status(t.index), clocks.timeline.current if clocks is not None else None)
        cache = self._chain_cache
        if cache is not None and cache[0] == key:
            return cache[1]
        plan = self._plan_halves(dma, t)
        self._chain_cache = (key, plan)
        return plan

    def _plan_halves(self, dma: Any, t: Any) -> ChainPlan | None:
        """dma_chain's plan (None when the stream or the firmware's state does not allow one)."""
        from simcore.abi import CH_MAX
        from simcore.runtypes import ChainPlan

        i = t.index
        half = t.total // 2
        cr = dma.values.get(dma.stream_label(i), 0)
        if (not t.circ or not t.minc or t.msize != 2 or t.total % 2 or half < 2 or cr >> 18 & 1  # DBM: M1AR
                or dma.enables(i) & 3 != 3 or self._batch_end - self._next != half
                or t.left != (half if t.half_done else t.total) or i >= len(dma.stream_irqs)):
            return None
        held = dma.held_status(i)
        if held is None:
            return None
        store, slot = held
        k0 = self._next
        got = self._chain_words
        if got is None or got[0] is not self._run or not got[1] <= k0 or (k0 - got[1]) % half \
                or got[1] + len(got[2]) < k0 + 2 * half:  # (at least two halves ahead, else made again from k0)
            import numpy as np

            words = np.ascontiguousarray(self._block_words(k0, k0 + CH_MAX * half), dtype="<u2")
            if len(words) != CH_MAX * half:
                return None
            got = self._chain_words = (self._run, k0, words, words.tobytes())
        n = min(CH_MAX, (got[1] + len(got[2]) - k0) // half)
        limit = self._word_limit()
        if limit is not None:
            n = min(n, -(-(limit - k0) // half))  # no half wholly past the recording: _words_done stops there
            if n <= 0:
                return None
        off = 2 * (k0 - got[1])
        cycles = tuple(self.host.cycle_at_fs(self._end_fs(k0 + (j + 1) * half - 1)) for j in range(n + 1))
        first = 1 if t.half_done else 0  # 0: the next half is the ring's first (HTIFx), 1: its second (TCIFx)
        which = [(first + j) % 2 for j in range(n)]
        return ChainPlan(store, dma.stream_irqs[i], slot, cycles, tuple(dma.flag_bits(i, 1 if w else 2) for w in which),
                         tuple(t.mar + w * 2 * half for w in which), got[3][off: off + n * 2 * half],
                         partial(self._settle_chain, got[1], got[2]))

    def _settle_chain(self, k_first: int, words: Any, halves: list[int], clears: list[tuple[int, int]]) -> None:
        """What the halves C delivered and the flag clears it served did to this block and the DMA (ChainPlan.settle),
        in cycle order (a half before a clear of the same cycle): each half as _words_done's block delivery leaves
        them, its words (``words``, from word ``k_first`` on: the plan's) already in guest RAM; then the next batch
        scheduled as after the last half."""
        found = self._dma_stream()
        assert found is not None and self._run is not None
        dma, t = found
        run = self._run
        mic = run["mic"]
        datlen16_in_32 = run["slot"] == 32 and not run["datlen32"]
        group = dma.clear_group(t.index)
        for cycle, kind, value in sorted([(c, 0, 0) for c in halves] + [(c, 1, v) for c, v in clears]):
            if kind:
                dma.w1c_cleared_in_c(group, value, cycle)
                continue
            k0 = self._next
            k1 = self._batch_end = k0 + t.total // 2
            n = k1 - k0
            dma.items_moved(t, n)  # HTIFx / TCIFx, the line, the status register, the clear slot's arming
            self._next = k1
            self.words_received += n
            self.values["DR"] = int(words[k1 - 1 - k_first])
            last = k1 - 1
            self._side = last & 1 if datlen16_in_32 else ((last >> 1) & 1 if run["slot"] == 32 else last & 1)
            if mic is not None and hasattr(mic, "note_delivered"):
                mic.note_delivered(n, dma_block=True)
        if halves:
            if self._i2s_event is not None:
                self.host.cancel(self._i2s_event)  # (the event of the first half: C did it)
            self._schedule()
        self._update()

    def _deliver_block(self, k1: int) -> bool:
        """Words ``_next .. k1-1`` read by the DMA as one block; False (nothing done) if no stream reads them so."""
        found = self._dma_stream()
        if found is None or self._run is None or self._word is not None:
            return False
        dma, t = found
        run = self._run
        k0 = self._next
        if run["stream"] is None:
            import numpy as np  # only when words are delivered: not at start-up

            words = np.zeros(k1 - k0, dtype=np.uint16)
        elif run["slot"] == 32 and not run["datlen32"]:
            words = run["stream"].words(2 * k0, 2 * k1)[::2]  # the first 16 bits of each 32-bit slot
        else:
            words = run["stream"].words(k0, k1)
        moved = dma.transfer_block(t, words)
        if moved == 0:
            return False
        self._next = k1
        self.words_received += k1 - k0
        self.values["DR"] = int(words[-1])  # the last word; the DMA's reads cleared RXNE
        last = k1 - 1
        self._side = last & 1 if run["slot"] == 32 and not run["datlen32"] else \
            ((last >> 1) & 1 if run["slot"] == 32 else last & 1)
        mic = run["mic"]
        if mic is not None and hasattr(mic, "note_delivered"):
            mic.note_delivered(k1 - k0, dma_block=True)
        return True

    def _words_done(self) -> None:
        self._i2s_event = None
        if self._run is None:
            return
        limit = self._word_limit()
        if limit is not None and self._next >= limit and self._run["mic"] is not None:
            what = "DMA half" if self._batch_end - self._next > 1 else "word"
            self._run["mic"].recording_ended(self.host, f"{self.periph} (I2S)'s next {what}")
            return
        if self._batch_end - self._next > 1 and self._deliver_block(self._batch_end):
            self._schedule()
            self._update()
            return
        words, sides = self._values(self._next, self._batch_end)
        mic = self._run["mic"]
        for word, side in zip(words, sides, strict=True):
            self._next += 1
            self.words_received += 1
            if self._word is not None:
                self._i2s_errors |= OVR  # the previous word was not read: this one is lost
                self.overruns.append({"kind": "overruns", "cycle": self.host.now_cycles(),
                                      "time_s": self.host.now_seconds(), "what": f"{self.periph}: DR not read"})
                if mic is not None and hasattr(mic, "note_overrun"):
                    mic.note_overrun(self.host, f"{self.periph} (I2S): a word arrived before DR was read (OVR)")
                continue
            self._word, self._side = word, side
            if mic is not None and hasattr(mic, "note_delivered"):
                mic.note_delivered(1)
            if self.cr2() & 1:
                self.dma_request(f"{self.periph}_RX")  # the DMA reads DR now (clears RXNE)
        self._schedule()
        self._update()

    def dma_catch_up(self, request: str) -> None:
        """The DMA's count is read (or its stream stops) between two events: the words complete by now are
        delivered, so ``NDTR`` and memory are what the part shows."""
        if self._run is None or self._i2s_event is None or self._batch_end - self._next <= 1:
            return
        elapsed = (self.host.now_fs() - self._run["start"]) * round(self._run["hz"]) // FS_PER_SECOND
        if self._run["slot"] == 32 and not self._run["datlen32"]:
            done = (elapsed - 16) // 32 + 1 if elapsed >= 16 else 0
        else:
            done = elapsed // 16
        k1 = min(done, self._batch_end - 1)  # the event delivers the batch's last word
        limit = self._word_limit()
        if limit is not None:
            k1 = min(k1, max(limit, self._next))  # (no word wholly past the recording: the batch's event ends the run)
        if k1 > self._next:
            self._deliver_block(k1)

    def dma_changed(self, request: str) -> None:
        """A DMA stream on the request started or stopped: plan the next words again."""
        if self._run is None or self._i2s_event is None:
            return
        self.host.cancel(self._i2s_event)
        self._i2s_event = None
        self._schedule()

    # --- registers in I2S mode ------------------------------------------------------------------
    def status(self) -> int:
        if not self.i2s_mode():
            return super().status()
        sr = TXE | self._i2s_errors
        if self._word is not None:
            sr |= RXNE | (CHSIDE if self._side else 0)
        return sr

    def rx_ready(self) -> bool:
        if self.i2s_mode():
            return self._word is not None
        return super().rx_ready()

    def read_DR(self) -> int:
        if not self.i2s_mode():
            return super().read_DR()
        value = self._word if self._word is not None else self.values.get("DR", 0)
        self._word = None
        self.values["DR"] = value
        self._after_dr = True
        self._update()
        return value

    def read_SR(self) -> int:
        if not self.i2s_mode():
            return super().read_SR()
        sr = self.status()
        if self._after_dr and sr & OVR:
            self._i2s_errors &= ~OVR  # RM0090 28.4.8: a DR read followed by an SR read clears OVR
        self._after_dr = False
        return sr

    def dma_pending(self, request: str) -> bool:
        if self.i2s_mode() and request.endswith("_RX"):
            return bool(self.cr2() & 1 and self._word is not None)
        return super().dma_pending(request)

    def stats(self) -> dict[str, Any]:
        return {"name": self.name, "type": self.TYPE, "words": self.words_received, "overruns": len(self.overruns),
                "events": self.overruns[:100]}
