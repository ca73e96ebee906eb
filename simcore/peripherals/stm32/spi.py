"""STM32 SPI masters driving the chips on their bus (simcore/devices/bus.py, docs/bus-devices.md).

RM0090 section 28.5 (STM32F4 SPI: 8/16-bit frames, no FIFO) and RM0432 section 52.6 (STM32L4+
SPI: 4-16-bit frames, 32-bit TX and RX FIFOs, byte or half-word data-register accesses). A
frame written to ``DR`` goes to the shift register as soon as it is free (``TXE`` follows) and
takes ``bits / f_SCK`` of virtual time, ``f_SCK = PCLK / 2^(BR+1)``; at its end the byte(s)
clocked in from the selected chip (MISO, 0xFF when no chip is selected: the empty bus) are in
the receive buffer (``RXNE``, ``OVR`` when the previous one was not read). ``BSY`` is set while
frames remain. Chip selects are GPIO outputs the board wires to the chips (``gpio.line(pin)``);
``CPOL``/``CPHA`` give the SPI mode the chips are clocked in, ``LSBFIRST`` reverses the bits.
Interrupts (``TXEIE``, ``RXNEIE``, ``ERRIE``) and the ``SPIx_TX``/``SPIx_RX`` DMA requests
follow the flags. A master with software slave management and ``SSI`` = 0 is a mode fault
(``MODF``: ``MSTR`` and ``SPE`` cleared), as RM0090 28.3.10 describes.
Not modelled (reported when set): slave mode, bidirectional and receive-only modes, CRC, TI
frame format, and (F4) the I2S mode of SPI2/SPI3.

Streaming (F4, docs/peripheral-bus.md): when the firmware starts a read command to a chip that can
preview its answer (``BusDevice.spi_preview``: the bytes its registers give until its next sample
arrives), with the SPI's interrupts and DMA off, the register file takes the transfer (XFER): each DR
write starts a frame whose end it computes on the clock timeline as ``_next`` does (SR: BSY, then
RXNE, by the rule of the frame event), each DR read after the end returns the chip's byte. The model
takes the transfer back (``_settle``) at its next access, at a chip-select change, at a clock change
or before the chip's next change, and replays the frames into itself and the chip in order: the same
bytes, counts and flags as frame events would have given, with no Python per byte.
"""

from __future__ import annotations

from collections import deque
from typing import Any, ClassVar

from simcore.clock import FS_PER_SECOND
from simcore.devices.base import BusDevice
from simcore.devices.bus import SpiBus
from simcore.peripherals import register_model
from simcore.peripherals.base import Host, PeripheralModel
from simcore.peripherals.stm32.common import StreamedTransfers
from simcore.peripherals.stm32.signals import DmaRequester
from simcore.regfile import XFER_MAX

APB2_BASE = 0x40010000
RXNE, TXE, MODF, OVR, BSY = 1, 2, 1 << 5, 1 << 6, 1 << 7


def _reverse(byte: int) -> int:
    return int(f"{byte & 0xFF:08b}"[::-1], 2)


class Stm32Spi(StreamedTransfers, DmaRequester, PeripheralModel):
    """Master transfers, flags, interrupts and DMA requests shared by the F4 and L4 SPIs."""

    SVD = ("SPI1", "SPI2", "SPI3")
    PARTS: ClassVar[tuple[str, ...]] = ("stm32f407vg",)  # the L4 class is checked against its own part
    POLL_SAFE = True  # flags change only when written or read, or at frame events: polling loops fast-forward
    FIFO_BYTES: ClassVar[int] = 0  # 0: one frame of buffer each way (F4); 4: the L4's 32-bit FIFOs

    def __init__(self, config: Any, host: Host, registers: Any = None) -> None:
        self._irq_level = False
        self._event: Any = None
        super().__init__(config, host, registers)
        self.periph = self.svd_name
        self.bus = SpiBus(self.periph, report=lambda where, what: self.guest_error(where, what))
        self.clock_name = str(config.options.get("clock", "PCLK2" if self.base >= APB2_BASE else "PCLK1"))
        self.frames = 0
        # (stream index, chip, mode, MISO bytes, limit event, script: (frames per transfer, GPIO port, pin) or None)
        self._stream: tuple[Any, ...] | None = None
        self._scripts: dict[int, tuple[Any, int, int, int, int] | None] = {}  # id(chip) -> _script_for's answer
        self._xi: int | None = None
        self._xi_tried = False
        self._frame_fs = 0
        self._lengths: dict[int, int] = {}  # frames of the last stream of each command byte: the next preview's length

    def reset(self) -> None:
        if getattr(self, "_stream", None) is not None:
            self._drop_stream()
        if getattr(self, "_event", None) is not None:
            self.host.cancel(self._event)
            self._event = None
        super().reset()
        self.tx: deque[tuple[int, int]] = deque()  # frames waiting: (value, bits)
        self.rx: deque[int] = deque()  # bytes received (L4 FIFO) or frames (F4)
        self.shifting: tuple[int, int] | None = None
        self._wire_fs = 0  # when the last frame on the wire ends
        self.errors = 0  # OVR | MODF
        self._after_dr = False  # a DR read since the last SR read (OVR clearing sequence)
        self._sr_seen = False  # SR read since the last CR1 write (MODF clearing sequence)
        if hasattr(self, "periph"):
            self._update()

    # --- configuration (subclasses) ----------------------------------------------------------
    def cr1(self) -> int:
        return self.values["CR1"]

    def cr2(self) -> int:
        return self.values["CR2"]

    def frame_bits(self) -> int:
        raise NotImplementedError

    def rx_ready(self) -> bool:
        raise NotImplementedError

    def tx_room(self) -> bool:
        raise NotImplementedError

    def sck_hz(self) -> float:
        return self.host.clock_hz(self.clock_name) / (2 << (self.cr1() >> 3 & 7))

    def mode(self) -> int:
        return self.cr1() & 3  # CPOL << 1 | CPHA

    def enabled(self) -> bool:
        return bool(self.cr1() & 1 << 6)

    # --- transfers -----------------------------------------------------------------------------
    def write_frame(self, value: int, nbytes: int) -> None:
        if not self.enabled():
            self.guest_error(self.where("DR"), "write while the SPI is disabled (SPE = 0): dropped")
            return
        if not self.cr1() & 1 << 2:
            self.unimplemented(self.where("CR1"), "slave mode is not modelled: the frame is dropped")
            return
        if not self.tx_room():
            self.guest_error(self.where("DR"), "write while TXE = 0: the frame is lost")
            return
        bits = self.frame_bits()
        if self.FIFO_BYTES and bits <= 8 and nbytes == 2:  # L4 data packing: two frames in one access
            self.tx.append((value & 0xFF, bits))
            self.tx.append((value >> 8 & 0xFF, bits))
        else:
            self.tx.append((value, bits))
        if self.shifting is None:
            self._next()
        self._update()

    def _next(self, chained: bool = False) -> None:
        if not self.tx or not self.enabled():
            self.shifting = None
            return
        self.shifting = self.tx.popleft()
        hz = self.sck_hz()
        bits = self.shifting[1]
        fs = int(round(bits * FS_PER_SECOND / hz)) if hz > 0 else 1
        start = self._wire_fs if chained else max(self.host.now_fs(), self._wire_fs)  # back to back: the last end
        self._frame_fs = max(fs, 1)
        self._wire_fs = start + self._frame_fs
        self._event = self.host.schedule_at_fs(self._wire_fs, self._frame_done, f"{self.periph} frame")

    def _frame_done(self) -> None:
        self._event = None
        assert self.shifting is not None
        value, bits = self.shifting
        lsb = bool(self.cr1() & 1 << 7)
        nbytes = (bits + 7) // 8
        miso = 0
        for k in reversed(range(nbytes)):  # high byte first (docs/bus-devices.md)
            byte = value >> (8 * k) & 0xFF
            out = self.bus.transfer(_reverse(byte) if lsb else byte, self.mode())
            miso = miso << 8 | (_reverse(out) if lsb else out)
        miso &= (1 << bits) - 1
        self.frames += 1
        self.receive(miso, bits)
        self._next(chained=True)
        self._update()

    def receive(self, value: int, bits: int) -> None:
        raise NotImplementedError

    # --- flags ----------------------------------------------------------------------------------
    def status(self) -> int:
        sr = 0
        if self.rx_ready():
            sr |= RXNE
        if self.tx_room():
            sr |= TXE
        if self.shifting is not None or self.tx:
            sr |= BSY
        return sr | self.errors

    def _update(self) -> None:
        sr = self.status()
        cr2 = self.cr2()
        level = bool((sr & TXE and cr2 & 1 << 7) or (sr & RXNE and cr2 & 1 << 6)
                     or (sr & (OVR | MODF) and cr2 & 1 << 5))
        if self.irq is not None and level != self._irq_level:
            self._irq_level = level
            self.host.set_irq(self.irq, level)
        if cr2 & 2 and sr & TXE and self.enabled():
            self.dma_request(f"{self.periph}_TX")
        if cr2 & 1 and sr & RXNE:
            self.dma_request(f"{self.periph}_RX")

    def dma_pending(self, request: str) -> bool:
        sr = self.status()
        if request.endswith("_TX"):
            return bool(self.cr2() & 2 and sr & TXE and self.enabled())
        return bool(self.cr2() & 1 and sr & RXNE)

    def _check_mode(self) -> None:
        cr1 = self.cr1()
        if cr1 & 1 << 2 and cr1 & 1 << 9 and not cr1 & 1 << 8 and cr1 & 1 << 6:
            self.errors |= MODF  # NSS low on a master: mode fault, MSTR and SPE cleared (RM0090 28.3.10)
            self.values["CR1"] = cr1 & ~(1 << 2 | 1 << 6)
            self.guest_error(self.where("CR1"), "master with software NSS management and SSI = 0: mode fault (MODF)")
        if cr1 & (1 << 10 | 1 << 15 | 1 << 13):
            self.unimplemented(self.where("CR1"), "receive-only, bidirectional and CRC modes are not modelled")

    def write_CR1(self, value: int) -> None:
        if self._sr_seen:
            self.errors &= ~MODF  # RM0090 28.4.8: SR read while MODF is set, then a CR1 write
        self._sr_seen = False
        self.values["CR1"] = value & 0xFFFF
        self._check_mode()
        if not self.enabled():
            self.tx.clear()
        elif self.shifting is None and self.tx:
            self._next()
        self._update()

    def read_SR(self) -> int:
        sr = self.status()
        if self._after_dr and sr & OVR:
            self.errors &= ~OVR  # RM0090 28.4.8: a DR read followed by an SR read clears OVR
        self._after_dr = False
        self._sr_seen = bool(sr & MODF)
        return sr

    def write_SR(self, value: int) -> None:
        pass  # the flags are cleared by access sequences (RM0090 28.4.8), not by writes

    # --- streaming (see the module docstring) ---------------------------------------------------
    STREAM_MARGIN: ClassVar[int] = 4096  # cycles: a stream's frames end this long before the chip's next change
    STREAM_REGS = ("DR", "SR")

    def _stream_attached(self) -> None:
        self.bus.before_select = self._settle

    def _try_stream(self, mosi: int) -> None:
        """The frame just written started on the wire: hand it and the chip's previewed answers to the register file."""
        cr1 = self.cr1()
        if (self._event is None or self.tx or self.rx or self.errors or self.cr2() & 0xE3 or cr1 & (1 << 7 | 1 << 11)
                or len(self.bus.selected) != 1 or self.shifting is None or self.shifting[1] != 8):
            return
        target = self.bus.selected[0]
        if not isinstance(target, BusDevice) or self._stream_index() is None:
            return
        if self._settle not in target.before_stats:  # a run that stops inside a stream reports what it carried
            target.before_stats.append(self._settle)
        host: Any = self.host
        seg = host.clocks.timeline.current
        if seg.kind != "run" or not seg.hz or seg.rate_num >= 1 << 64 or seg.rate_den >= 1 << 64:
            return
        quiet = target.quiet_until()
        if quiet is None:
            return
        at0 = self._event.at_cycle
        limit = host.cycle_at_fs(quiet) - self.STREAM_MARGIN
        if at0 >= limit:
            return
        cmd = mosi & 0xFF
        m = self._lengths.get(cmd, 0)
        cs = self._script_for(target) if m >= 2 else None
        miso = target.spi_preview_repeat(cmd, self.mode(), m, XFER_MAX // m) if cs is not None else []
        script = None
        if miso:
            script = (m, cs[0], cs[1])
        else:
            miso = target.spi_preview(cmd, self.mode(), m or 8)
        if len(miso) < 2:
            return
        rf = host.bus.rf
        xi = self._xi
        assert xi is not None
        self.host.cancel(self._event)
        self._event = None
        rf.xfer_timeline(xi, seg.cycle, seg.fs, seg.rate_num, seg.rate_den)
        rf.xfer_start(xi, bytes(miso), mosi & 0xFF, (TXE, TXE | BSY, TXE | RXNE), self._frame_fs, self._wire_fs, at0,
                      limit)
        if script is not None:
            assert cs is not None
            rf.xfer_script(xi, m, cs[2], cs[3], cs[4])
        ev = self.host.schedule(limit, self._settle, f"{self.periph} stream limit") if quiet < 1 << 62 else None
        self._stream = (xi, target, self.mode(), miso, ev, script)

    def _script_for(self, target: Any) -> tuple[Any, int, int, int, int] | None:
        """Whether transfers to ``target`` may run as a script (several at once, the chip select toggled by BSRR writes
        the register file serves): (GPIO port, pin, BSRR entry, select word, deselect word), or None. The chip select
        must be a push-pull output pin of an STM32 GPIO port whose line only the bus follows and whose edges no EXTI
        line and no port listener watches; and since the chip's output lines change only when the script is settled
        (they can only fall meanwhile: BusDevice.spi_preview_repeat), no EXTI line may watch falling edges (FTSR)."""
        key = id(target)
        if key not in self._scripts:
            line = self.bus.chip_selects.get(key)
            src = getattr(line, "source", None)
            found = None
            if line is not None and src is not None and line.listeners == 1 and hasattr(src[0], "replay_output_edges"):
                port, pin = src
                entry = self.host.bus.xcs_in_c(port.base + port.register("BSRR").offset)
                if entry is not None:
                    found = (port, pin, entry, 1 << (pin + 16), 1 << pin)
                    port.settle_hooks.append(self._settle)
            self._scripts[key] = found
        found = self._scripts[key]
        if found is None:
            return None
        port, pin = found[0], found[1]
        values = port.values
        if port.listeners or values["MODER"] >> (2 * pin) & 3 != 1 or values["OTYPER"] >> pin & 1:
            return None
        exti, syscfg = self.host.peripheral("exti"), self.host.peripheral("syscfg")
        if exti is not None:
            if not hasattr(exti, "gpio_edge"):
                return None  # an EXTI simcore does not know: it may watch anything
            ftsr, rtsr = exti.values[exti._reg("FTSR")], exti.values[exti._reg("RTSR")]
            line_port = syscfg.port_of_line(pin) if syscfg is not None and hasattr(syscfg, "port_of_line") else 0
            if ftsr & 0xFFFF or ((rtsr | ftsr) >> pin & 1 and line_port == port.port_index):
                return None
        return found

    def _drop_stream(self) -> None:
        xi, _target, _mode, _miso, ev, _script = self._stream  # type: ignore[misc]
        self._stream = None
        self.host.bus.rf.xfer_stop(xi)  # type: ignore[attr-defined]
        if ev is not None:
            self.host.cancel(ev)

    def _settle(self) -> None:
        """Take the transfer back from the register file: replay its frames into the model and the chip (those whose
        end a frame event would have seen by now, by the block-entry clock), the last one back on the wire."""
        if self._stream is None:
            return
        xi, target, mode, miso, ev, script = self._stream
        host: Any = self.host
        rf = host.bus.rf
        _active, _n, k, rd, after_dr, wire_fs, at_last, mosi = rf.xfer_get(xi)
        edges, selected, ats = rf.xfer_script_get(xi) if script is not None else (0, True, [])
        self._drop_stream()
        first = 0  # frames of the script's transfers the chip select ended (committed at once)
        if edges:
            m, port, pin = script
            done = (edges + 1) // 2
            first = done * m
            fs_at = host.clocks.timeline.fs_at
            port.replay_output_edges(pin, [(fs_at(c), 1 - (i & 1)) for i, c in enumerate(ats)])
            target.spi_commit_repeat(mosi[0], mode, m, done)
            self.bus.frames += edges // 2
            if selected:
                target.spi_select(True)
            else:
                self.bus.selected.remove(target)
            self._lengths[mosi[0]] = m
        else:
            self._lengths[mosi[0]] = max(k, 2)
        ended = k if rd == k or host.hot.state.block_cycle >= at_last else k - 1
        if ended > first or not edges:
            answers = target.spi_replay(mosi[first:ended], mode)
            if answers != miso[first:ended]:
                raise RuntimeError(f"{self.periph} stream: the chip answered {bytes(answers).hex()}, previewed "
                                   f"{bytes(miso[first:ended]).hex()}")
        self.frames += ended
        if rd:
            self.values["DR"] = miso[rd - 1]
        self.rx.extend(miso[rd:ended])
        self._after_dr = after_dr
        self._wire_fs = wire_fs
        if ended < k:
            self.shifting = (mosi[k - 1], 8)
            self._event = host.schedule(at_last, self._frame_done, f"{self.periph} frame")
            self._event.at_fs = wire_fs
        else:
            self.shifting = None
        self._update()


@register_model
class Stm32F4Spi(Stm32Spi):
    """STM32F4 SPI1-3 (RM0090 section 28.5): one frame of 8 or 16 bits (DFF) each way."""

    TYPE = "stm32f4_spi"
    SVD = ("SPI1", "SPI2", "SPI3")
    PARTS = ("stm32f407vg",)
    PLAIN = ("CRCPR",)

    def frame_bits(self) -> int:
        return 16 if self.cr1() & 1 << 11 else 8

    def tx_room(self) -> bool:
        return not self.tx

    def rx_ready(self) -> bool:
        return bool(self.rx)

    def receive(self, value: int, bits: int) -> None:
        if self.rx:
            self.errors |= OVR  # the previous frame was not read: the new one is lost
            return
        self.rx.append(value)

    def read_DR(self) -> int:
        value = self.rx.popleft() if self.rx else self.values.get("DR", 0)
        self.values["DR"] = value
        self._after_dr = True
        self._update()
        return value

    def write_DR(self, value: int, mask: int) -> None:
        started = self.shifting is None
        self.write_frame(value & 0xFFFF, 2 if mask & 0xFF00 else 1)
        if started and self.shifting is not None:
            self._try_stream(value)

    def write_CR2(self, value: int) -> None:
        self.values["CR2"] = value
        if value & 1 << 4:
            self.unimplemented(self.where("CR2"), "the TI frame format (FRF) is not modelled")
        self._update()

    def write_I2SCFGR(self, value: int) -> None:
        self.values["I2SCFGR"] = value
        if value & 1 << 11:
            self.unimplemented(self.where("I2SCFGR"), "I2S mode (I2SMOD) is not modelled")


@register_model
class Stm32L4Spi(Stm32Spi):
    """STM32L4+ SPI1-3 (RM0432 section 52.6): 4-16-bit frames (DS), 32-bit FIFOs, FRXTH."""

    TYPE = "stm32l4_spi"
    SVD = ("SPI1", "SPI2", "SPI3")
    PARTS = ("stm32l4r5zi",)
    PLAIN = ("CRCPR",)
    FIFO_BYTES = 4

    def frame_bits(self) -> int:
        ds = self.cr2() >> 8 & 0xF
        return max(ds + 1, 4) if ds >= 3 else 8

    def _frame_bytes(self) -> int:
        return 2 if self.frame_bits() > 8 else 1

    def tx_room(self) -> bool:
        used = sum(2 if bits > 8 else 1 for _v, bits in self.tx)
        return used <= self.FIFO_BYTES // 2  # TXE: the TX FIFO is at most half full (RM0432 52.4.9)

    def rx_ready(self) -> bool:
        need = 1 if self.cr2() & 1 << 12 else 2  # FRXTH: 8-bit or 16-bit threshold
        return len(self.rx) >= need

    def receive(self, value: int, bits: int) -> None:
        nbytes = 2 if bits > 8 else 1
        if len(self.rx) + nbytes > self.FIFO_BYTES:
            self.errors |= OVR
            return
        for k in range(nbytes):
            self.rx.append(value >> (8 * k) & 0xFF)

    def status(self) -> int:
        sr = super().status()
        rx, tx = len(self.rx), sum(2 if bits > 8 else 1 for _v, bits in self.tx)
        return sr | min(rx, 3) << 9 | min(tx, 3) << 11  # FRLVL, FTLVL

    def write_CR2(self, value: int) -> None:
        self.values["CR2"] = value
        if value & 1 << 4:
            self.unimplemented(self.where("CR2"), "the TI frame format (FRF) is not modelled")
        self._update()

    def read(self, offset: int, size: int) -> int:
        if offset == 0x0C:  # DR: a byte access takes one byte from the RX FIFO, a wider one two
            n = 1 if size == 1 else 2
            value = 0
            for k in range(n):
                value |= (self.rx.popleft() if self.rx else 0) << (8 * k)
            self._after_dr = True
            self._update()
            return value
        return super().read(offset, size)

    def write_DR(self, value: int, mask: int) -> None:
        self.write_frame(value & 0xFFFF, 2 if mask & 0xFF00 else 1)
