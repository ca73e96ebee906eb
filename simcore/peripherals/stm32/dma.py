"""STM32 DMA controllers: the F4's streams (FIFO, circular, double buffer) and the L4's channels with DMAMUX.

A transfer moves one data item each time the peripheral that a stream or channel serves
asserts its request (simcore/peripherals/stm32/signals.py): a USART transmit request pulls one
byte from memory into ``DR``, an ADC request pushes one conversion from ``DR`` to memory, a
timer update request moves one item. Memory-to-memory transfers run when the stream is
enabled. Transfers use the bus as the core does (``host.mem_read``/``mem_write`` reach RAM and
peripheral registers alike); an address nothing answers at is a transfer error (``TEIF``,
stream disabled). Half-transfer and transfer-complete flags and their interrupts follow the
items moved; ``NDTR``/``CNDTR`` count down and read back.

STM32F4 (RM0090 section 10): eight streams per controller, the request chosen by
``CHSEL`` from RM0090 Tables 42 and 43; direct mode (``PSIZE`` items) or FIFO mode (items of
``PSIZE`` collected in the 16-byte FIFO and written to memory in ``MSIZE`` units when the
``FTH`` threshold is reached, the rest at the end); circular mode; double-buffer mode
(``DBM``: ``CT`` switches between ``M0AR`` and ``M1AR`` at each buffer's end). Disabling a
stream during a transfer ends it with ``TCIF`` (RM0090 10.3.17). Bursts are single transfers.

STM32L47x/L48x (RM0351 section 11): the same channels, the request chosen per channel by ``DMA_CSELR``
(RM0351 Tables 41 and 42), as :class:`Stm32L47Dma`.

STM32L4+ (RM0432 sections 11 and 12): seven channels per controller; each channel takes the
request that its DMAMUX1 channel selects (``DMAREQ_ID``: DMA1 channel n is DMAMUX channel
n-1, DMA2 channel n is DMAMUX channel n+6; request IDs from RM0432 Table 54). Different source
and destination widths are padded or truncated as RM0432 Table 73 gives. The DMAMUX
synchronisation and request generators are not modelled (a write enabling them is reported).
"""

from __future__ import annotations

from typing import Any, ClassVar

from simcore.peripherals import register_model
from simcore.peripherals.base import Host, PeripheralModel, Register
from simcore.peripherals.stm32.signals import owner_name

SIZES = (1, 2, 4, 4)  # PSIZE/MSIZE codes: byte, half-word, word (3 is reserved)

# RM0090 Table 42 (DMA1) and Table 43 (DMA2): [channel][stream] -> requests ("" none). F42x/43x-only
# requests (UART7/8, SAI1, SPI4-6) are left out.
F4_DMA1 = (
    ("SPI3_RX", "", "SPI3_RX", "SPI2_RX", "SPI2_TX", "SPI3_TX", "", "SPI3_TX"),
    ("I2C1_RX", "", "TIM7_UP", "", "TIM7_UP", "I2C1_RX", "I2C1_TX", "I2C1_TX"),
    ("TIM4_CH1", "", "I2S3_EXT_RX", "TIM4_CH2", "I2S2_EXT_TX", "I2S3_EXT_TX", "TIM4_UP", "TIM4_CH3"),
    ("I2S3_EXT_RX", "TIM2_UP/TIM2_CH3", "I2C3_RX", "I2S2_EXT_RX", "I2C3_TX", "TIM2_CH1", "TIM2_CH2/TIM2_CH4",
     "TIM2_UP/TIM2_CH4"),
    ("UART5_RX", "USART3_RX", "UART4_RX", "USART3_TX", "UART4_TX", "USART2_RX", "USART2_TX", "UART5_TX"),
    ("", "", "TIM3_CH4/TIM3_UP", "", "TIM3_CH1/TIM3_TRIG", "TIM3_CH2", "", "TIM3_CH3"),
    ("TIM5_CH3/TIM5_UP", "TIM5_CH4/TIM5_TRIG", "TIM5_CH1", "TIM5_CH4/TIM5_TRIG", "TIM5_CH2", "", "TIM5_UP", ""),
    ("", "TIM6_UP", "I2C2_RX", "I2C2_RX", "USART3_TX", "DAC1", "DAC2", "I2C2_TX"),
)
F4_DMA2 = (
    ("ADC1", "", "TIM8_CH1/TIM8_CH2/TIM8_CH3", "", "ADC1", "", "TIM1_CH1/TIM1_CH2/TIM1_CH3", ""),
    ("", "DCMI", "ADC2", "ADC2", "", "", "", "DCMI"),
    ("ADC3", "ADC3", "", "", "", "CRYP_OUT", "CRYP_IN", "HASH_IN"),
    ("SPI1_RX", "", "SPI1_RX", "SPI1_TX", "", "SPI1_TX", "", ""),
    ("", "", "USART1_RX", "SDIO", "", "USART1_RX", "SDIO", "USART1_TX"),
    ("", "USART6_RX", "USART6_RX", "", "", "", "USART6_TX", "USART6_TX"),
    ("TIM1_TRIG", "TIM1_CH1", "TIM1_CH2", "TIM1_CH1", "TIM1_CH4/TIM1_TRIG/TIM1_COM", "TIM1_UP", "TIM1_CH3", ""),
    ("", "TIM8_UP", "TIM8_CH1", "TIM8_CH2", "TIM8_CH3", "", "", "TIM8_CH4/TIM8_TRIG/TIM8_COM"),
)

# RM0432 Table 54 (STM32L4Rxxx/L4Sxxx): DMAMUX1 request inputs 1..89 in order (0: none / memory to memory)
L4_DMAMUX_REQUESTS = (
    "GENERATOR0", "GENERATOR1", "GENERATOR2", "GENERATOR3", "ADC1", "DAC1_CH1", "DAC1_CH2", "TIM6_UP", "TIM7_UP",
    "SPI1_RX", "SPI1_TX", "SPI2_RX", "SPI2_TX", "SPI3_RX", "SPI3_TX", "I2C1_RX", "I2C1_TX", "I2C2_RX", "I2C2_TX",
    "I2C3_RX", "I2C3_TX", "I2C4_RX", "I2C4_TX", "USART1_RX", "USART1_TX", "USART2_RX", "USART2_TX", "USART3_RX",
    "USART3_TX", "UART4_RX", "UART4_TX", "UART5_RX", "UART5_TX", "LPUART1_RX", "LPUART1_TX", "SAI1_A", "SAI1_B",
    "SAI2_A", "SAI2_B", "OCTOSPI1", "OCTOSPI2", "TIM1_CH1", "TIM1_CH2", "TIM1_CH3", "TIM1_CH4", "TIM1_UP",
    "TIM1_TRIG", "TIM1_COM", "TIM8_CH1", "TIM8_CH2", "TIM8_CH3", "TIM8_CH4", "TIM8_UP", "TIM8_TRIG", "TIM8_COM",
    "TIM2_CH1", "TIM2_CH2", "TIM2_CH3", "TIM2_CH4", "TIM2_UP", "TIM3_CH1", "TIM3_CH2", "TIM3_CH3", "TIM3_CH4",
    "TIM3_UP", "TIM3_TRIG", "TIM4_CH1", "TIM4_CH2", "TIM4_CH3", "TIM4_CH4", "TIM4_UP", "TIM5_CH1", "TIM5_CH2",
    "TIM5_CH3", "TIM5_CH4", "TIM5_UP", "TIM5_TRIG", "TIM15_CH1", "TIM15_UP", "TIM15_TRIG", "TIM15_COM", "TIM16_CH1",
    "TIM16_UP", "TIM17_CH1", "TIM17_UP", "DFSDM1_FLT0", "DFSDM1_FLT1", "DFSDM1_FLT2", "DFSDM1_FLT3",
)


# RM0351 (STM32L47x/L48x/L49x/L4Ax) Table 41 (DMA1) and Table 42 (DMA2): [CxS][channel 1..7] -> requests ("" none),
# cross-checked against ST's BSP (DFSDM1 filters 0/1 on DMA1 channels 4/5, request 0) and the channel tables of
# two RTOS ports (ChibiOS STM32L4xx registry, NuttX stm32l4x5xx_dma.h). The AES requests of the L486 (DMA2
# CxS 6) and requests the tables leave blank are "".
L47_DMA1 = (
    ("ADC1", "ADC2", "ADC3", "DFSDM1_FLT0", "DFSDM1_FLT1", "DFSDM1_FLT2", "DFSDM1_FLT3"),
    ("", "SPI1_RX", "SPI1_TX", "SPI2_RX", "SPI2_TX", "SAI2_A", "SAI2_B"),
    ("", "USART3_TX", "USART3_RX", "USART1_TX", "USART1_RX", "USART2_RX", "USART2_TX"),
    ("", "I2C3_TX", "I2C3_RX", "I2C2_TX", "I2C2_RX", "I2C1_TX", "I2C1_RX"),
    ("TIM2_CH3", "TIM2_UP", "TIM16_CH1/TIM16_UP", "", "TIM2_CH1", "TIM16_CH1/TIM16_UP", "TIM2_CH2/TIM2_CH4"),
    ("TIM17_CH1/TIM17_UP", "TIM3_CH3", "TIM3_CH4/TIM3_UP", "TIM7_UP/DAC_CH2", "QUADSPI", "TIM3_CH1/TIM3_TRIG",
     "TIM17_CH1/TIM17_UP"),
    ("TIM4_CH1", "", "TIM6_UP/DAC_CH1", "TIM4_CH2", "TIM4_CH3", "", "TIM4_UP"),
    ("", "TIM1_CH1", "TIM1_CH2", "TIM1_CH4/TIM1_TRIG/TIM1_COM", "TIM15_CH1/TIM15_UP/TIM15_TRIG/TIM15_COM", "TIM1_UP",
     "TIM1_CH3"),
)
L47_DMA2 = (
    ("", "", "ADC1", "ADC2", "ADC3", "", ""),
    ("SAI1_A", "SAI1_B", "SAI2_A", "SAI2_B", "", "SAI1_A", "SAI1_B"),
    ("UART5_TX", "UART5_RX", "UART4_TX", "", "UART4_RX", "USART1_TX", "USART1_RX"),
    ("SPI3_RX", "SPI3_TX", "", "TIM6_UP/DAC_CH1", "TIM7_UP/DAC_CH2", "", "QUADSPI"),
    ("SWPMI1_RX", "SWPMI1_TX", "SPI1_RX", "SPI1_TX", "", "LPUART1_TX", "LPUART1_RX"),
    ("TIM5_CH4/TIM5_TRIG/TIM5_COM", "TIM5_CH3/TIM5_UP", "", "TIM5_CH2", "TIM5_CH1", "I2C1_RX", "I2C1_TX"),
    ("", "", "", "", "", "", ""),
    ("TIM8_CH3/TIM8_UP", "TIM8_CH4/TIM8_TRIG/TIM8_COM", "", "SDMMC1", "SDMMC1", "TIM8_CH1", "TIM8_CH2"),
)

class Transfer:
    """One stream or channel: its configuration as latched at enable, and its progress."""

    def __init__(self, index: int) -> None:
        self.index = index
        self.active = False
        self.total = 0  # items per buffer (NDTR at enable)
        self.left = 0  # items still to move in this buffer
        self.par = 0
        self.mar = 0
        self.pinc = self.minc = False
        self.psize = self.msize = 1
        self.circ = False
        self.to_periph = False  # memory -> peripheral
        self.mem2mem = False
        self.half_done = False
        self.fifo = bytearray()  # F4 FIFO mode: bytes read from the peripheral, not yet written to memory
        self.fifo_mode = False
        self.threshold = 4
        self.mem_written = 0  # bytes written to memory in this buffer (FIFO mode)
        self.moved = 0  # items moved since the run started (reports)
        self.buffers = 0  # buffers completed


class Stm32Dma(PeripheralModel):
    """What the F4 and L4 DMA controllers share: moving items, flags, interrupts, serving requests.

    The interrupt status registers (``STATUS``: the F4's ``LISR``/``HISR``, the L4's ``ISR``) are read-only
    images of the flags, read by every DMA interrupt handler: after their first read through Python the
    register file serves their reads (``bus.serve_in_c``, writes still reach the model), and the model gives
    it their value whenever a flag changes (:meth:`_irqs`)."""

    NSTREAMS: ClassVar[int] = 8
    STATUS: ClassVar[tuple[str, ...]] = ()
    CLEARS_IN_C: ClassVar[bool] = True  # flag clears served in C where they can be (_clear_slot; tests: off)

    def __init__(self, config: Any, host: Host, registers: Any = None) -> None:
        self.streams = [Transfer(i) for i in range(self.NSTREAMS)]
        self._irq_levels: dict[int, bool] = {}
        self._serving = False
        self._held_status: dict[str, int] = {}  # status register -> its value's index in the register file
        self._clear_slots: dict[int, int] = {}  # flag clear register group (F4: 0 LIFCR, 1 HIFCR) -> its C slot
        super().__init__(config, host, registers)
        ints = self.svd.interrupts if self.svd is not None else ()
        self.stream_irqs = [irq for _name, irq in ints[: self.NSTREAMS]]
        self.errors = 0

    def reset(self) -> None:
        super().reset()
        self.streams = [Transfer(i) for i in range(self.NSTREAMS)]
        self.flags = [0] * self.NSTREAMS  # per stream: bit 0 TC, 1 HT, 2 TE, 3 FE, 4 DME (normalised)
        if hasattr(self, "stream_irqs"):
            self._irqs()

    # --- what subclasses define ---------------------------------------------------------------
    def requests_of(self, i: int) -> tuple[str, ...]:
        """The requests stream/channel ``i`` serves as configured now."""
        raise NotImplementedError

    def enables(self, i: int) -> int:
        """Interrupt enables of stream ``i`` in the normalised flag bits."""
        raise NotImplementedError

    def stopped(self, i: int) -> None:
        """The transfer ended (EN to be cleared in the stream's control register)."""
        raise NotImplementedError

    def buffer_done(self, t: Transfer) -> None:
        """End of a buffer in circular or double-buffer mode: reload (override for DBM)."""
        t.left = t.total
        t.half_done = False
        t.mem_written = 0

    # --- moving data --------------------------------------------------------------------------
    def serve(self, request: str, owner: Any) -> bool:
        """The peripheral ``owner`` asserts ``request``: transfer while an enabled stream selects it."""
        if self._serving:
            return False  # a transfer's own access re-asserted the request: the loop below sees it
        for t in self.streams:
            if t.active and not t.mem2mem and request in self.requests_of(t.index):
                self._run(t, request, owner)
                return True
        return False

    def _run(self, t: Transfer, request: str, owner: Any) -> None:
        self._serving = True
        try:
            guard = 0
            while t.active and owner.dma_pending(request) and guard < 1 << 16:
                guard += 1
                self._move_one(t)
                owner.dma_ack(request)
        finally:
            self._serving = False

    def kick(self, t: Transfer) -> None:
        """A stream was just enabled: memory-to-memory runs now; otherwise serve a request already asserted."""
        if t.mem2mem:
            while t.active:
                self._move_one(t)
            return
        for request in self.requests_of(t.index):
            owner = self.host.peripheral(owner_name(request))
            if owner is not None and hasattr(owner, "dma_pending") and owner.dma_pending(request):
                self._run(t, request, owner)
                return

    def _read(self, addr: int, size: int) -> int | None:
        try:
            return int.from_bytes(self.host.mem_read(addr, size), "little")
        except Exception:  # noqa: BLE001 - an address nothing answers at: a transfer error (TEIF)
            return None

    def _write(self, addr: int, size: int, value: int) -> bool:
        try:
            self.host.mem_write(addr, (value & ((1 << (8 * size)) - 1)).to_bytes(size, "little"))
            return True
        except Exception:  # noqa: BLE001
            return False

    def _move_one(self, t: Transfer) -> None:
        """Move one data item (source width), then count it."""
        done = t.total - t.left
        if t.to_periph or t.mem2mem:
            src = t.mar + (done * t.msize if t.minc else 0) if not t.mem2mem else t.par + (done * t.psize
                                                                                             if t.pinc else 0)
            dst = t.par + (done * t.psize if t.pinc else 0) if not t.mem2mem else t.mar + (done * t.msize
                                                                                             if t.minc else 0)
            src_size, dst_size = (t.msize, t.psize) if not t.mem2mem else (t.psize, t.msize)
            value = self._read(src, src_size)
            if value is None or not self._write(dst, dst_size, self.convert(value, src_size, dst_size)):
                self._error(t, src if value is None else dst)
                return
        else:
            value = self._read(t.par + (done * t.psize if t.pinc else 0), t.psize)
            if value is None:
                self._error(t, t.par)
                return
            if t.fifo_mode:
                t.fifo += value.to_bytes(t.psize, "little")
                if len(t.fifo) >= t.threshold:
                    if not self._drain(t, t.threshold):
                        return
            elif not self._write(t.mar + (done * t.msize if t.minc else 0), t.msize,
                                 self.convert(value, t.psize, t.msize)):
                self._error(t, t.mar)
                return
        t.left -= 1
        t.moved += 1
        self._progress(t)

    def _drain(self, t: Transfer, nbytes: int) -> bool:
        """F4 FIFO mode: write ``nbytes`` from the FIFO to memory in MSIZE units."""
        nbytes -= nbytes % t.msize
        while nbytes > 0 and len(t.fifo) >= t.msize:
            chunk = bytes(t.fifo[: t.msize])
            del t.fifo[: t.msize]
            addr = t.mar + (t.mem_written if t.minc else 0)
            if not self._write(addr, t.msize, int.from_bytes(chunk, "little")):
                self._error(t, addr)
                return False
            t.mem_written += t.msize
            nbytes -= t.msize
        return True

    # --- blocks: a peripheral whose items arrive at known times delivers many at once ---------------
    def channel_for(self, request: str) -> Transfer | None:
        """The enabled peripheral-to-memory stream/channel that serves ``request`` now, or None."""
        for t in self.streams:
            if t.active and not t.mem2mem and not t.to_periph and request in self.requests_of(t.index):
                return t
        return None

    @staticmethod
    def items_to_flag(t: Transfer) -> int:
        """Items ``t`` moves before it raises its next flag: half transfer (at half of the count, rounded
        up, as :meth:`_progress` raises it) or transfer complete."""
        moved = t.total - t.left
        half = (t.total + 1) // 2
        return half - moved if not t.half_done and moved < half else t.left

    def transfer_block(self, t: Transfer, items: Any) -> int:
        """Move ``items`` (numpy unsigned integers: what the peripheral's data register gives at each request,
        PSIZE bytes each) as ``t`` moves them one request at a time, with one memory write per stretch
        between flags instead of one per item; flags, interrupts and circular reloads as the items cross
        them. Returns the items moved (fewer after a transfer error; 0 where items cannot move as a block:
        F4 FIFO mode, a peripheral address that increments; the caller then serves them one by one)."""
        if t.fifo_mode or t.pinc or not t.active:
            return 0
        import numpy as np  # only for peripherals that deliver blocks: not at start-up

        dtype = {1: "<u1", 2: "<u2", 4: "<u4"}[t.msize]
        mask = (1 << (8 * min(t.psize, t.msize))) - 1  # a wider source is truncated, a narrower padded (convert)
        n, i = len(items), 0
        while i < n and t.active:
            k = min(n - i, self.items_to_flag(t))
            chunk = np.asarray(items[i: i + k]) & mask
            done = t.total - t.left
            addr = t.mar + done * t.msize if t.minc else t.mar
            data = chunk.astype(dtype).tobytes() if t.minc else chunk[-1:].astype(dtype).tobytes()
            try:
                self.host.mem_write(addr, data)
            except Exception:  # noqa: BLE001 - an address nothing answers at: a transfer error (TEIF)
                self._error(t, addr)
                return i
            t.left -= k
            t.moved += k
            i += k
            self._progress(t)
        return i

    def items_moved(self, t: Transfer, n: int) -> None:
        """``n`` items moved by ``t`` whose bytes are in memory already (a peripheral's DMA half delivered in C:
        hp_chain_wake; at most the items to its next flag): the count, then the flags and circular reload."""
        t.left -= n
        t.moved += n
        self._progress(t)

    def changed(self, i: int) -> None:
        """Stream ``i`` was enabled or disabled: a peripheral that plans block deliveries (``dma_changed``)
        plans again (blocks while a stream reads its results, one event per item otherwise)."""
        for request in self.requests_of(i):
            owner = self.host.peripheral(owner_name(request))
            replan = getattr(owner, "dma_changed", None)
            if replan is not None:
                replan(request)

    def catch_up(self, i: int) -> None:
        """Before the count of stream ``i`` is read or the stream stops: a peripheral that delivers blocks
        (``dma_catch_up``) moves the items due by now, so ``NDTR``/``CNDTR`` and memory are as on the part."""
        t = self.streams[i]
        if not t.active or t.mem2mem:
            return
        for request in self.requests_of(i):
            owner = self.host.peripheral(owner_name(request))
            catch = getattr(owner, "dma_catch_up", None)
            if catch is not None:
                catch(request)

    def convert(self, value: int, src: int, dst: int) -> int:
        """The destination item for a source item of another width (RM0432 Table 73: zero-pad or truncate)."""
        return value & ((1 << (8 * dst)) - 1)

    def _progress(self, t: Transfer) -> None:
        i = t.index
        if not t.half_done and (t.total - t.left) * 2 >= t.total:
            t.half_done = True
            self._flag(i, 2)
        if t.left > 0:
            return
        if t.fifo_mode and t.fifo:
            self._drain(t, len(t.fifo))
            t.fifo.clear()
        t.buffers += 1
        if t.circ:
            self.buffer_done(t)
            self._flag(i, 1)
        else:
            t.active = False
            self.stopped(i)
            self._flag(i, 1)

    def _error(self, t: Transfer, addr: int) -> None:
        self.errors += 1
        t.active = False
        self.stopped(t.index)
        self.guest_error(f"{self.svd_name}.{self.stream_label(t.index)}",
                         f"transfer error: nothing answers at {addr:#010x} (TEIF set, stream disabled)")
        self._flag(t.index, 4)

    def stream_label(self, i: int) -> str:
        return f"S{i}"

    def _flag(self, i: int, bit: int) -> None:
        self.flags[i] |= bit
        self._irqs()

    def _irqs(self) -> None:
        flags, levels = self.flags, self._irq_levels
        for i, irq in enumerate(self.stream_irqs):
            level = bool(flags[i]) and bool(flags[i] & self.enables(i))  # enables() only where a flag is set
            if levels.get(irq, False) != level:
                self._irq_levels[irq] = level
                self.host.set_irq(irq, level)
        if self._held_status:
            rf = self.host.bus.rf  # type: ignore[attr-defined]
            for name, store in self._held_status.items():
                rf.set_value(store, self.status(name))
        if self._clear_slots:
            self._arm_clears()

    # --- flag clears served in C (F4 LIFCR/HIFCR: SystemBlock.event_clear_slot, hotpath.c hp_ack) ------------
    def clear_group(self, i: int) -> int:
        """The flag clear register group of stream ``i`` (F4: 0 for LIFCR/LISR, 1 for HIFCR/HISR)."""
        return 0

    def _arm_clears(self) -> None:
        """Arm each flag clear register's C slot while exactly one stream of its group holds its line high: a write
        that clears every flag raising that line (and no bit outside the group's flags) is then served in C, the
        line falls there, and the model applies the clear at the next sync (:meth:`w1c_cleared_in_c`)."""
        system = self.host.system  # type: ignore[attr-defined]
        levels, flags = self._irq_levels, self.flags
        for group, k in self._clear_slots.items():
            high = [i for i, irq in enumerate(self.stream_irqs)
                    if levels.get(irq, False) and self.clear_group(i) == group]
            if len(high) != 1:
                system.event_clear_armed(k, False)
                continue
            i = high[0]
            system.event_clear_armed(k, True, self.flag_bits(i, flags[i] & self.enables(i)), self.stream_irqs[i])

    def flag_bits(self, i: int, norm: int) -> int:
        """Stream ``i``'s normalised flags ``norm`` as bits of its status and clear registers."""
        raise NotImplementedError

    def _clear_slot(self, group: int, addr: int, status: str, w1c: int) -> None:
        """After a write to flag clear register ``addr`` (group ``group``) through Python: give its next writes a C
        slot when the register file holds the group's status register ``status`` (its first read went through
        Python) and the part's hot path can serve them."""
        store = self._held_status.get(status)
        system = getattr(self.host, "system", None)
        slot = getattr(system, "event_clear_slot", None)
        if not self.CLEARS_IN_C or group in self._clear_slots or store is None or slot is None or not self.stream_irqs:
            return
        k = slot(self, group, addr, store, w1c, self.stream_irqs[0])
        if k is not None:
            self._clear_slots[group] = k
            self._arm_clears()

    def w1c_cleared_in_c(self, group: int, value: int, cycle: int) -> None:
        """C served a write of ``value`` to group ``group``'s flag clear register (SystemBlock.sync_native): what the
        model's own write does (the time does not matter to a flag clear)."""
        raise NotImplementedError

    def held_status(self, i: int) -> tuple[int, int] | None:
        """(register-file value index of stream ``i``'s status register, its flag clear register's C slot) while the
        register file holds the one and C serves the other (a peripheral's DMA halves delivered in C: hp_chain_wake),
        else None."""
        group = self.clear_group(i)
        store = self._held_status.get(self.STATUS[group]) if group < len(self.STATUS) else None
        slot = self._clear_slots.get(group)
        return None if store is None or slot is None else (store, slot)

    def status(self, name: str) -> int:
        """The value of status register ``name`` (one of ``STATUS``) from the flags."""
        raise NotImplementedError

    def _read_status(self, name: str) -> int:
        """A read of a status register through Python: its value, and from now on the register file serves its
        reads (with PY_WRITE: a write still reaches the model, which reports it)."""
        value = self.status(name)
        bus = getattr(self.host, "bus", None)
        if name not in self._held_status and hasattr(bus, "serve_in_c"):
            got = bus.serve_in_c(self.base + self.register(name).offset, True, (0, 0, 0, 0xFFFFFFFF))
            if got is not None:
                from simcore.regfile import PY_WRITE

                entry, store = got
                bus.rf.set_flags(entry, bus.rf.flags(entry) | PY_WRITE)
                bus.rf.set_value(store, value)
                self._held_status[name] = store
        return value


# --- STM32F4 -------------------------------------------------------------------------------------
_F4_FLAG_SHIFT = (0, 6, 16, 22)  # RM0090 10.5.1: stream flags within LISR/HISR
_F4_BITS = ((1, 5), (2, 4), (4, 3), (8, 0), (16, 2))  # normalised flag -> bit: TC 5, HT 4, TE 3, FE 0, DME 2
# a stream's normalised flags (0-31) -> its bits in LISR/HISR at stream position k (0-3)
_F4_STATUS = tuple(tuple(sum(1 << (_F4_FLAG_SHIFT[k] + bit) for norm, bit in _F4_BITS if f & norm) for f in range(32))
                   for k in range(4))
_F4_CLEARABLE = _F4_STATUS[0][31] | _F4_STATUS[1][31] | _F4_STATUS[2][31] | _F4_STATUS[3][31]  # LIFCR/HIFCR's bits


def _reader(method: str, i: int) -> Any:
    def read(self: Any) -> int:
        return getattr(self, method)(i)
    return read


def _writer(method: str, i: int, *extra: Any) -> Any:
    def write(self: Any, value: int) -> None:
        getattr(self, method)(i, *extra, value)
    return write


def _stream_registers(cls: type) -> None:
    """Give the F4 class its handlers for every stream register (SxCR, SxNDTR, SxPAR, SxMxAR, SxFCR)."""
    for i in range(8):
        setattr(cls, f"write_S{i}CR", _writer("_write_cr", i))
        setattr(cls, f"read_S{i}NDTR", _reader("_read_ndtr", i))
        setattr(cls, f"write_S{i}NDTR", _writer("_write_locked", i, f"S{i}NDTR"))
        setattr(cls, f"write_S{i}PAR", _writer("_write_locked", i, f"S{i}PAR"))
        setattr(cls, f"write_S{i}M0AR", _writer("_write_mar", i, 0))
        setattr(cls, f"write_S{i}M1AR", _writer("_write_mar", i, 1))
        setattr(cls, f"read_S{i}FCR", _reader("_read_fcr", i))
        setattr(cls, f"write_S{i}FCR", _writer("_write_fcr", i))


@register_model
class Stm32F4Dma(Stm32Dma):
    """STM32F4 DMA1/DMA2 (RM0090 section 10): eight streams with FIFO, circular and double-buffer modes."""

    TYPE = "stm32f4_dma"
    SVD = "DMA"
    PARTS = ("stm32f407vg",)
    NSTREAMS = 8
    STATUS = ("LISR", "HISR")

    def requests_of(self, i: int) -> tuple[str, ...]:
        table = F4_DMA2 if self.svd_name == "DMA2" else F4_DMA1
        chsel = self.values[f"S{i}CR"] >> 25 & 7
        cell = table[chsel][i]
        return tuple(cell.split("/")) if cell else ()

    def enables(self, i: int) -> int:
        cr = self.values[f"S{i}CR"]
        en = 0
        if cr & 1 << 4:
            en |= 1  # TCIE
        if cr & 1 << 3:
            en |= 2  # HTIE
        if cr & 1 << 2:
            en |= 4  # TEIE
        if self.values[f"S{i}FCR"] & 1 << 7:
            en |= 8  # FEIE
        if cr & 1 << 1:
            en |= 16  # DMEIE
        return en

    def stream_label(self, i: int) -> str:
        return f"S{i}CR"

    # status registers
    def _status(self, high: bool) -> int:
        f = self.flags[4:] if high else self.flags
        return _F4_STATUS[0][f[0]] | _F4_STATUS[1][f[1]] | _F4_STATUS[2][f[2]] | _F4_STATUS[3][f[3]]

    def status(self, name: str) -> int:
        return self._status(name == "HISR")

    def read_LISR(self) -> int:
        return self._read_status("LISR")

    def read_HISR(self) -> int:
        return self._read_status("HISR")

    def _clear(self, high: bool, value: int) -> None:
        for k in range(4):
            i = k + 4 * high
            for norm, bit in _F4_BITS:
                if value >> (_F4_FLAG_SHIFT[k] + bit) & 1:
                    self.flags[i] &= ~norm
        self._irqs()

    def write_LIFCR(self, value: int) -> None:
        self._clear(False, value)
        self._clear_slot(0, self.base + self.register("LIFCR").offset, "LISR", _F4_CLEARABLE)

    def write_HIFCR(self, value: int) -> None:
        self._clear(True, value)
        self._clear_slot(1, self.base + self.register("HIFCR").offset, "HISR", _F4_CLEARABLE)

    def clear_group(self, i: int) -> int:
        return i >> 2

    def flag_bits(self, i: int, norm: int) -> int:
        return _F4_STATUS[i & 3][norm]

    def w1c_cleared_in_c(self, group: int, value: int, cycle: int) -> None:
        self._clear(bool(group), value)

    # stream registers
    def _write_locked(self, i: int, reg: str, value: int) -> None:
        if reg.endswith("NDTR"):
            value &= 0xFFFF
        if self.streams[i].active and value != self.values[reg]:
            self.guest_error(self.where(reg), "written while the stream is enabled (EN = 1): ignored, as on the part "
                             "(RM0090 10.5.5)")
            return
        self.values[reg] = value

    def _write_mar(self, i: int, which: int, value: int) -> None:
        """M0AR/M1AR: in double-buffer mode the buffer not in use may be changed while the stream runs."""
        cr = self.values[f"S{i}CR"]
        reg = f"S{i}M{which}AR"
        if self.streams[i].active and cr & 1 << 18 and (cr >> 19 & 1) != which:
            self.values[reg] = value
            return
        self._write_locked(i, reg, value)

    def _write_fcr(self, i: int, value: int) -> None:
        self._write_locked(i, f"S{i}FCR", (value & 0x87) | 0x20)

    def _read_ndtr(self, i: int) -> int:
        self.catch_up(i)
        t = self.streams[i]
        return t.left if t.active else self.values[f"S{i}NDTR"]

    def _read_fcr(self, i: int) -> int:
        t = self.streams[i]
        fcr = self.values[f"S{i}FCR"] & 0x87
        level = len(t.fifo)
        fs = 4 if level == 0 else (5 if level >= 16 else level * 4 // 16)  # RM0090 10.5.10: FS
        return fcr | fs << 3

    def _write_cr(self, i: int, value: int) -> None:
        t = self.streams[i]
        reg = f"S{i}CR"
        if t.active:
            if not value & 1:  # software disable: the stream stops, TCIF set (RM0090 10.3.17)
                self.catch_up(i)
                self.values[reg] = value
                if t.fifo_mode and t.fifo:
                    self._drain(t, len(t.fifo))
                    t.fifo.clear()
                self.values[f"S{i}NDTR"] = t.left
                t.active = False
                self._flag(i, 1)
                self.changed(i)
                return
            keep = self.values[reg]
            changes = (value ^ keep) & ~(1 << 19)
            if changes:
                self.guest_error(self.where(reg), "configuration written while the stream is enabled: ignored "
                                 "(RM0090 10.5.5 allows only EN, and CT in double-buffer mode)")
            self.values[reg] = (keep & ~(1 << 19)) | (value & 1 << 19)
            return
        self.values[reg] = value
        if value & 1:
            self._start(i, value)
            self.changed(i)

    def _start(self, i: int, cr: int) -> None:
        t = self.streams[i]
        fcr = self.values[f"S{i}FCR"]
        direction = cr >> 6 & 3
        if direction == 3:
            self.guest_error(self.where(f"S{i}CR"), "DIR = 11 is reserved: the stream does not start")
            self.values[f"S{i}CR"] &= ~1
            return
        t.total = t.left = self.values[f"S{i}NDTR"]
        if t.total == 0:
            self.guest_error(self.where(f"S{i}NDTR"), "stream enabled with NDTR = 0: nothing to transfer")
            self.values[f"S{i}CR"] &= ~1
            return
        t.mem2mem = direction == 2
        if t.mem2mem and self.svd_name != "DMA2":
            self.guest_error(self.where(f"S{i}CR"), "memory-to-memory transfers are possible on DMA2 only "
                             "(RM0090 10.3.6): the stream does not start")
            self.values[f"S{i}CR"] &= ~1
            return
        t.to_periph = direction == 1
        t.pinc, t.minc = bool(cr & 1 << 9), bool(cr & 1 << 10)
        t.psize = SIZES[cr >> 11 & 3]
        t.fifo_mode = bool(fcr & 1 << 2) or t.mem2mem
        t.msize = SIZES[cr >> 13 & 3] if t.fifo_mode else t.psize  # direct mode: MSIZE is PSIZE
        t.threshold = ((fcr & 3) + 1) * 4
        dbm = bool(cr & 1 << 18)
        t.circ = bool(cr & 1 << 8) or dbm
        t.par = self.values[f"S{i}PAR"]
        t.mar = self.values[f"S{i}M1AR"] if dbm and cr & 1 << 19 else self.values[f"S{i}M0AR"]
        t.half_done = False
        t.fifo = bytearray()
        t.mem_written = 0
        t.active = True
        if cr & 3 << 21 or cr & 3 << 23:
            self.unimplemented(self.where(f"S{i}CR"), "bursts (PBURST/MBURST) are done as single transfers")
        self.kick(t)

    def buffer_done(self, t: Transfer) -> None:
        super().buffer_done(t)
        cr = self.values[f"S{t.index}CR"]
        if cr & 1 << 18:  # double buffer: switch to the other memory (RM0090 10.3.10)
            cr ^= 1 << 19
            self.values[f"S{t.index}CR"] = cr
            t.mar = self.values[f"S{t.index}M1AR"] if cr & 1 << 19 else self.values[f"S{t.index}M0AR"]

    def stopped(self, i: int) -> None:
        self.values[f"S{i}CR"] &= ~1
        self.values[f"S{i}NDTR"] = self.streams[i].left


_stream_registers(Stm32F4Dma)


# --- STM32L4+ ------------------------------------------------------------------------------------
def _channel_registers(cls: type) -> None:
    """Give the L4 class its handlers for every channel register (CCRn, CNDTRn, CPARn, CMARn)."""
    for n in range(1, 8):
        setattr(cls, f"write_CCR{n}", _writer("_write_ccr", n - 1))
        setattr(cls, f"read_CNDTR{n}", _reader("_read_cndtr", n - 1))
        setattr(cls, f"write_CNDTR{n}", _writer("_write_locked", n - 1, f"CNDTR{n}"))
        setattr(cls, f"write_CPAR{n}", _writer("_write_locked", n - 1, f"CPAR{n}"))
        setattr(cls, f"write_CMAR{n}", _writer("_write_locked", n - 1, f"CMAR{n}"))


@register_model
class Stm32L4Dma(Stm32Dma):
    """STM32L4+ DMA1/DMA2 (RM0432 section 11): seven channels, requests routed by DMAMUX1."""

    TYPE = "stm32l4_dma"
    SVD = "DMA"
    PARTS = ("stm32l4r5zi",)
    NSTREAMS = 7
    STATUS = ("ISR",)

    def __init__(self, config: Any, host: Host, registers: Any = None) -> None:
        super().__init__(config, host, registers)
        self.mux_offset = 7 if self.svd_name == "DMA2" else 0

    def requests_of(self, i: int) -> tuple[str, ...]:
        mux = self.host.peripheral("dmamux1")
        if mux is None or not hasattr(mux, "request_of"):
            return ()
        req = mux.request_of(self.mux_offset + i)
        return (req,) if req else ()

    def enables(self, i: int) -> int:
        ccr = self.values[f"CCR{i + 1}"]
        return (1 if ccr & 2 else 0) | (2 if ccr & 4 else 0) | (4 if ccr & 8 else 0)

    def stream_label(self, i: int) -> str:
        return f"CCR{i + 1}"

    def read_ISR(self) -> int:
        return self._read_status("ISR")

    def status(self, name: str) -> int:
        out = 0
        for i in range(7):
            f = self.flags[i]
            bits = (2 if f & 1 else 0) | (4 if f & 2 else 0) | (8 if f & 4 else 0)
            if bits:
                bits |= 1  # GIF: any of them
            out |= bits << (4 * i)
        return out

    def write_IFCR(self, value: int) -> None:
        for i in range(7):
            v = value >> (4 * i) & 0xF
            if v & 1:
                self.flags[i] = 0
            if v & 2:
                self.flags[i] &= ~1
            if v & 4:
                self.flags[i] &= ~2
            if v & 8:
                self.flags[i] &= ~4
        self._irqs()

    def _write_locked(self, i: int, reg: str, value: int) -> None:
        if reg.startswith("CNDTR"):
            value &= 0xFFFF
        if self.streams[i].active and value != self.values[reg]:
            self.guest_error(self.where(reg), "written while the channel is enabled (EN = 1): ignored (RM0432 "
                             "11.6.4 allows it only with EN = 0)")
            return
        self.values[reg] = value

    def _read_cndtr(self, i: int) -> int:
        self.catch_up(i)
        t = self.streams[i]
        return t.left if t.active else self.values[f"CNDTR{i + 1}"]

    def convert(self, value: int, src: int, dst: int) -> int:
        return value & ((1 << (8 * dst)) - 1)  # RM0432 Table 73: a wider source is truncated, a narrower padded

    def _write_ccr(self, i: int, value: int) -> None:
        t = self.streams[i]
        reg = f"CCR{i + 1}"
        if t.active:
            if not value & 1:  # disabled by software: the channel stops where it is
                self.catch_up(i)
                self.values[reg] = value
                self.values[f"CNDTR{i + 1}"] = t.left
                t.active = False
                self._irqs()
                self.changed(i)
                return
            if (value ^ self.values[reg]) & ~0xF:
                self.guest_error(self.where(reg), "configuration written while the channel is enabled: ignored "
                                 "(RM0432 11.6.3)")
            self.values[reg] = (self.values[reg] & ~0xE) | (value & 0xE)  # the interrupt enables may change
            self._irqs()
            return
        self.values[reg] = value
        self._irqs()
        if value & 1:
            self._start(i, value)
            self.changed(i)

    def _start(self, i: int, ccr: int) -> None:
        t = self.streams[i]
        n = i + 1
        t.total = t.left = self.values[f"CNDTR{n}"]
        if t.total == 0:
            self.guest_error(self.where(f"CNDTR{n}"), "channel enabled with CNDTR = 0: nothing to transfer")
            self.values[f"CCR{n}"] &= ~1
            return
        t.mem2mem = bool(ccr & 1 << 14)
        t.to_periph = bool(ccr & 1 << 4)
        t.circ = bool(ccr & 1 << 5) and not t.mem2mem
        t.pinc, t.minc = bool(ccr & 1 << 6), bool(ccr & 1 << 7)
        t.psize, t.msize = SIZES[ccr >> 8 & 3], SIZES[ccr >> 10 & 3]
        t.par, t.mar = self.values[f"CPAR{n}"], self.values[f"CMAR{n}"]
        if t.mem2mem and t.to_periph:  # MEM2MEM with DIR = 1: CMAR is the source (RM0432 11.4.6)
            t.par, t.mar = t.mar, t.par
            t.psize, t.msize = t.msize, t.psize
            t.pinc, t.minc = t.minc, t.pinc
        t.half_done = False
        t.fifo_mode = False
        t.active = True
        self.kick(t)

    def stopped(self, i: int) -> None:
        self.values[f"CCR{i + 1}"] &= ~1
        self.values[f"CNDTR{i + 1}"] = self.streams[i].left


_channel_registers(Stm32L4Dma)


@register_model
class Stm32L47Dma(Stm32L4Dma):
    """STM32L47x/L48x DMA1/DMA2 (RM0351 section 11): seven channels, each channel's request chosen by its
    4-bit field ``CxS`` in ``DMA_CSELR`` (RM0351 11.6.7) from Table 41 (DMA1) or Table 42 (DMA2); no DMAMUX.
    ``CSELR`` may be written at any time (the selection applies to the requests that follow)."""

    TYPE = "stm32l47_dma"
    PARTS = ("stm32l475vg",)
    PLAIN = ("CSELR",)

    def requests_of(self, i: int) -> tuple[str, ...]:
        table = L47_DMA2 if self.svd_name == "DMA2" else L47_DMA1
        sel = self.values["CSELR"] >> (4 * i) & 0xF
        cell = table[sel][i] if sel < len(table) else ""
        return tuple(cell.split("/")) if cell else ()

    def _start(self, i: int, ccr: int) -> None:
        sel = self.values["CSELR"] >> (4 * i) & 0xF
        if sel >= 8 and not ccr & 1 << 14:
            self.guest_error(self.where("CSELR"), f"C{i + 1}S = {sel}: RM0351 defines request selections 0-7 only; "
                             "the channel serves no request")
        super()._start(i, ccr)


@register_model
class Stm32L4Dmamux(PeripheralModel):
    """DMAMUX1 of the STM32L4+ (RM0432 section 12.6): request line per DMA channel (not in the part's SVD)."""

    TYPE = "stm32l4_dmamux"
    REGISTERS = (
        *(Register(f"C{i}CR", 4 * i, implemented=0x7F | 1 << 8 | 1 << 9) for i in range(14)),
        Register("CSR", 0x80, access="r"),
        Register("CFR", 0x84, access="w"),
        *(Register(f"RG{i}CR", 0x100 + 4 * i, implemented=0x1F | 1 << 8) for i in range(4)),
        Register("RGSR", 0x140, access="r"),
        Register("RGCFR", 0x144, access="w"),
    )

    def request_of(self, channel: int) -> str:
        """The request DMAMUX channel ``channel`` (0-13) routes, "" for none."""
        rid = self.values[f"C{channel}CR"] & 0x7F
        return L4_DMAMUX_REQUESTS[rid - 1] if 0 < rid <= len(L4_DMAMUX_REQUESTS) else ""
