"""STM32L4 DFSDM (digital filter for sigma-delta modulators, RM0351 section 24, RM0432 section 29): a PDM
microphone's bit stream through the hardware Sinc filter, integrator and data unit to 24-bit PCM.

What the firmware programs and what this model does with it:

- channel 0's ``CHCFGR1`` holds the block's enable ``DFSDMEN`` and the output clock: ``CKOUT`` =
  DFSDM kernel clock / (``CKOUTDIV`` + 1) (``CKOUTDIV`` 0: no clock). The kernel clock is PCLK2,
  or SYSCLK when ``RCC_CCIPR.DFSDM1SEL`` is set (RM0351 6.4.28). A microphone on the board
  (``[[device]]`` on ``dfsdm1``, option ``input`` = its DATINy pin) is clocked by CKOUT from
  the moment it starts and sends the recording as a PDM stream (simcore/devices/pdm.py).
- channel y (``CHEN``) reads serial data (``DATMPX`` 0) from its own pins or channel y+1's
  (``CHINSEL``) on the rising (``SITP`` 0) or falling (1) edge of the internal clock
  (``SPICKSEL`` 1): the microphone on that pin driving that edge (its ``lr`` option).
- filter x (``DFEN``) converts its regular channel ``RCH``: a Sinc^``FORD`` filter decimating by
  ``FOSR``+1, an integrator summing ``IOSR``+1 filter outputs, then the channel's data unit:
  right shift by ``DTRBS`` rounding to nearest, minus ``OFFSET``, saturated to 24 bits
  (RM0351 24.4.13). Conversion times are the manual's (24.4.8): the first conversion (and every
  one with ``FAST`` = 0) ends ``FOSR*(IOSR-1+FORD)+FORD`` input clocks after its start, each
  further one with ``FAST`` = 1 ``FOSR*IOSR`` later; with ``FAST`` = 0 the filter restarts for
  each conversion, one clock after the previous ended.
- results go to ``RDATAR`` (``REOCF``, cleared by reading it; a result completing while
  ``REOCF`` is set is lost and sets ``ROVRF``), interrupt ``DFSDM1_FLTx`` on ``REOCIE`` /
  ``ROVRIE``, and DMA request ``DFSDM1_FLTx`` while ``RDMAEN`` and ``REOCF`` (the DMA's read of
  ``RDATAR`` clears it; simcore/peripherals/stm32/signals.py describes the request lines).
- when a DMA channel reads every result (``RDMAEN``, ``REOCIE`` clear, continuous conversions, a
  channel on the request reading ``RDATAR``: on the STM32L475 DMA1 channel 4 with ``C4S`` = 0 for
  filter 0, RM0351 Table 41), the conversions up to the channel's next half-transfer or
  transfer-complete flag complete in one event, computed at once and written to memory as the
  channel would write them one by one, the flag raised at the virtual time of the conversion
  that raises it. A read of ``CNDTR`` or a stop in between delivers what is due by then.

Values are exact integers: the Sinc filter runs on blocks of conversions, in C as the part's
integrators and combs, or in numpy as one matrix product of the bits with the Sinc^N kernel (float64,
exact below 2^53): :func:`sinc_outputs`. Not modelled (reported when used):
injected conversions, the analog and short-circuit watchdogs, the extremes detector,
synchronous starts (``RSYNC``), the FastSinc filter (``FORD`` 0, run as Sinc^2 with the FastSinc
timing), Manchester coding, external clock inputs, parallel data inputs, the audio clock as
CKOUT source.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from simcore.clock import FS_PER_SECOND
from simcore.peripherals import register_model
from simcore.peripherals.base import Field, Host, Register
from simcore.peripherals.stm32.common import Stm32Model

NCHANNELS = 8
NFILTERS = 4
BLOCK = 256  # conversions computed at a time
MAX_BATCH = 16384  # conversions one event delivers at most when the DMA reads them
ISR_RESET = 0x00FF0000  # CKABF set until a clock is seen
REOCF, ROVRF, RCIP = 1 << 1, 1 << 3, 1 << 14
IRQ_NAMES = ("DFSDM1_FLT0", "DFSDM1_FLT1", "DFSDM1_FLT2", "DFSDM1_FLT3")

if TYPE_CHECKING:
    import numpy as np


def _sinc_blocks(order: int, fosr: int) -> np.ndarray:
    """The Sinc^order kernel (``order`` box filters of ``fosr`` taps convolved, RM0351 24.4.8) laid out for
    :func:`sinc_outputs`: column j weighs the j-th of the ``order`` blocks of ``fosr`` bits that end at an
    output (oldest first), float64 (exact: every weight and sum stays below 2^53)."""
    import numpy as np  # only once a conversion runs: not at start-up

    key = (order, fosr)
    if key not in _SINC_CACHE:
        h = np.ones(1, dtype=np.int64)
        for _ in range(order):
            h = np.convolve(h, np.ones(fosr, dtype=np.int64))
        w = np.zeros(order * fosr, dtype=np.float64)
        w[order * fosr - len(h):] = h[::-1]  # w[t]: the weight of bit t of the window (oldest first)
        _SINC_CACHE[key] = np.ascontiguousarray(w.reshape(order, fosr).T)
    return _SINC_CACHE[key]


_SINC_CACHE: dict[tuple[int, int], Any] = {}


def sinc_outputs(bits: Any, order: int, fosr: int, k0: int, k1: int, native: bool | None = None) -> np.ndarray:
    """Outputs ``k0 .. k1-1`` of a Sinc^order filter decimating by ``fosr`` that started with zero state at bit 0.

    ``bits(a, b)`` gives input bits ``a .. b-1`` (1 = +1, 0 = -1); when it also has ``packed(a, b)`` (bytes, the
    first bit highest, and bit ``a``'s offset in the first byte: :meth:`simcore.devices.pdm.PdmStream.packed`)
    the C filter reads those. Output k ends at bit
    ``(k + 1) * fosr - 1`` and weighs the ``order * fosr`` bits before it (zero before bit 0) with the
    Sinc^order kernel. In C (simcore/native/pdm.c ``pdm_sinc``: ``order`` integrators at the bit rate,
    ``order`` combs at the output rate, as the part's filter) when built, else (``native`` False, or no
    extension) in numpy: the bits as a matrix of ``fosr``-bit blocks times the kernel's ``order`` block
    columns (one matrix product), then each output sums its ``order`` blocks. Both exact and equal: the
    values are integers below 2^53 (the filter's gain ``fosr ** order`` is at most 2^31, RM0351 24.4.13).
    ``fosr`` 1 bypasses the filter (the outputs are the inputs).
    """
    import numpy as np  # only once a conversion runs: not at start-up

    if fosr == 1:
        return bits(k0, k1).astype(np.int64) * 2 - 1
    n = k1 - k0
    if n <= 0:
        return np.zeros(0, dtype=np.int64)
    from simcore.devices.pdm import _NATIVE

    if native is True and _NATIVE is None:
        raise RuntimeError("the native Sinc filter is not built")
    if _NATIVE is not None and native is not False and 1 <= order <= 5:
        s = max(0, (k0 + 1 - order) * fosr)  # the first bit any output k0.. weighs
        packed = getattr(bits, "packed", None)
        if packed is not None:
            data, off = packed(s, k1 * fosr)
        else:
            data, off = np.packbits(bits(s, k1 * fosr)), 0
        data = np.ascontiguousarray(data, dtype=np.uint8)
        out = np.empty(n + order, dtype=np.int64)
        _NATIVE.pdm_sinc(data.ctypes.data, off, k1 * fosr - s, order, fosr, (k0 + 1 - order) * fosr - 1 - s, n,
                         out.ctypes.data)
        return out[order:]
    first = k0 + 1 - order  # the block (of fosr bits) the first output's window starts with
    x = np.zeros((n + order - 1) * fosr, dtype=np.float64)
    lead = max(0, -first) * fosr  # blocks before bit 0: zero state
    x[lead:] = bits(max(first, 0) * fosr, k1 * fosr).astype(np.float64) * 2 - 1
    p = x.reshape(n + order - 1, fosr) @ _sinc_blocks(order, fosr)  # p[b, j]: block b weighed as window block j
    y = p[0:n, 0].copy()
    for j in range(1, order):
        y += p[j: j + n, j]
    return np.rint(y).astype(np.int64)


class _Input:
    """What a DFSDM channel samples from clock edge ``start`` on: a microphone's stream (None: no microphone, the
    line reads 0), as ``bits(a, b)`` and ``packed(a, b)`` for :func:`sinc_outputs`."""

    def __init__(self, stream: Any, start: int) -> None:
        self.stream, self.start = stream, start

    def __call__(self, a: int, b: int) -> np.ndarray:
        import numpy as np

        if self.stream is None:
            return np.zeros(max(b - a, 0), dtype=np.uint8)
        return self.stream.bits(self.start + a, self.start + b)

    def packed(self, a: int, b: int) -> tuple[np.ndarray, int]:
        import numpy as np

        if self.stream is None:
            return np.zeros((max(b - a, 0) + 7) // 8, dtype=np.uint8), 0
        return self.stream.packed(self.start + a, self.start + b)


class _Regular:
    """A filter's regular conversions as started: configuration latched, progress and a block of results."""

    def __init__(self, channel: int, n0: int, fosr: int, iosr: int, ford: int, fast: bool, cont: bool) -> None:
        import numpy as np  # only once a conversion runs: not at start-up

        self.channel = channel
        self.n0 = n0  # the clock edge (bit index on CKOUT) the first conversion starts at
        self.fosr, self.iosr, self.ford = fosr, iosr, ford
        self.fast, self.cont = fast, cont
        order = 2 if ford == 0 else ford  # FastSinc is timed as the manual gives, filtered as Sinc^2
        self.order = 0 if fosr == 1 else order
        if fosr == 1:
            self.first = iosr
        elif ford == 0:
            self.first = fosr * (iosr - 1 + 4) + 2
        else:
            self.first = fosr * (iosr - 1 + ford) + ford
        self.period = fosr * iosr if fast else self.first + 1
        self.index = 0  # the next conversion
        self.batch_end = 1  # the conversion after the last one the pending event completes
        self.event: Any = None
        self.block_start = -1
        self.block: np.ndarray = np.zeros(0, dtype=np.int64)

    def end_bit(self, j: int) -> int:
        """Clock edges from the start to the end of conversion ``j``."""
        if self.fast:
            return self.n0 + self.first + j * self.period
        return self.n0 + j * self.period + self.first


@register_model
class Stm32L4Dfsdm(Stm32Model):
    """DFSDM1 of the STM32L47x/L48x and L4R/L4S: 8 serial channels, 4 filters (regular conversions)."""

    TYPE = "stm32l4_dfsdm"
    PART = "stm32l475vg"
    SIZE = 0x500
    POLL_SAFE = True
    _CH = {"stride": 0x20, "count": NCHANNELS}
    _FLT = {"stride": 0x80, "count": NFILTERS}
    REGISTERS = (
        Register("CHCFGR1", 0x00, fields=(
            Field("SITP", 0, 2), Field("SPICKSEL", 2, 2), Field("SCDEN", 5, implemented=False),
            Field("CKABEN", 6, implemented=False), Field("CHEN", 7), Field("CHINSEL", 8), Field("DATMPX", 12, 2),
            Field("DATPACK", 14, 2), Field("CKOUTDIV", 16, 8), Field("CKOUTSRC", 30), Field("DFSDMEN", 31)),
            **_CH),
        Register("CHCFGR2", 0x04, fields=(Field("DTRBS", 3, 5), Field("OFFSET", 8, 24)), **_CH),
        Register("CHAWSCDR", 0x08, implemented=0, **_CH),
        Register("CHWDATR", 0x0C, implemented=0, **_CH),
        Register("CHDATINR", 0x10, implemented=0, **_CH),
        Register("CHDLYR", 0x14, implemented=0, **_CH),
        Register("FLTCR1", 0x100, fields=(
            Field("DFEN", 0), Field("JSWSTART", 1, implemented=False), Field("JSYNC", 3, implemented=False),
            Field("JSCAN", 4, implemented=False), Field("JDMAEN", 5, implemented=False),
            Field("JEXTSEL", 8, 3, implemented=False), Field("JEXTEN", 13, 2, implemented=False),
            Field("RSWSTART", 17), Field("RCONT", 18), Field("RSYNC", 19, implemented=False), Field("RDMAEN", 21),
            Field("RCH", 24, 3), Field("FAST", 29), Field("AWFSEL", 30, implemented=False)), **_FLT),
        Register("FLTCR2", 0x104, fields=(
            Field("JEOCIE", 0, implemented=False), Field("REOCIE", 1), Field("JOVRIE", 2, implemented=False),
            Field("ROVRIE", 3), Field("AWDIE", 4, implemented=False), Field("SCDIE", 5, implemented=False),
            Field("CKABIE", 6, implemented=False), Field("EXCH", 8, 8, implemented=False),
            Field("AWDCH", 16, 8, implemented=False)), **_FLT),
        Register("FLTISR", 0x108, access="r", reset=ISR_RESET, **_FLT),
        Register("FLTICR", 0x10C, fields=(Field("CLRJOVRF", 2), Field("CLRROVRF", 3), Field("CLRCKABF", 16, 8),
                                           Field("CLRSCDF", 24, 8)), **_FLT),
        Register("FLTJCHGR", 0x110, reset=1, implemented=0, **_FLT),
        Register("FLTFCR", 0x114, fields=(Field("IOSR", 0, 8), Field("FOSR", 16, 10), Field("FORD", 29, 3)), **_FLT),
        Register("FLTJDATAR", 0x118, access="r", modelled=False, **_FLT),
        Register("FLTRDATAR", 0x11C, access="r", **_FLT),
        Register("FLTAWHTR", 0x120, implemented=0, **_FLT),
        Register("FLTAWLTR", 0x124, implemented=0, **_FLT),
        Register("FLTAWSR", 0x128, access="r", modelled=False, **_FLT),
        Register("FLTAWCFR", 0x12C, implemented=0, **_FLT),
        Register("FLTEXMAX", 0x130, access="r", reset=0x80000000, modelled=False, **_FLT),
        Register("FLTEXMIN", 0x134, access="r", reset=0x7FFFFF00, modelled=False, **_FLT),
        Register("FLTCNVTIMR", 0x138, access="r", modelled=False, **_FLT),
    )

    def __init__(self, config: Any, host: Host, registers: Any = None) -> None:
        self.microphones: list[Any] = []
        self.regular: list[_Regular | None] = [None] * NFILTERS
        self.clock_start_fs: int | None = None
        self.ckout_hz = 0.0
        self.conversions = [0] * NFILTERS
        self.dma_conversions = [0] * NFILTERS  # of those, delivered to a DMA channel in blocks
        self.overruns: list[dict[str, Any]] = []
        self._irq_levels = [False] * NFILTERS
        super().__init__(config, host, registers)
        self.filter_irqs = self._filter_irqs(config)

    def _filter_irqs(self, config: Any) -> list[int | None]:
        """Interrupt numbers of the four filters, from the part's register table (RM0351 Table 58)."""
        from simcore.peripherals.svd import load_table

        try:
            periph = load_table(getattr(config, "part", None) or self.PART).peripheral("DFSDM1")
        except (KeyError, Exception):  # noqa: BLE001 - a part without the table: the board's irq for filter 0
            return [self.irq, None, None, None]
        by_name = dict(periph.interrupts)
        return [by_name.get(n) for n in IRQ_NAMES]

    def reset(self) -> None:
        for r in getattr(self, "regular", []):
            if r is not None and r.event is not None:
                self.host.cancel(r.event)
        self.regular = [None] * NFILTERS
        self.clock_start_fs = None
        self.ckout_hz = 0.0
        super().reset()
        if hasattr(self, "filter_irqs"):
            self._irqs()

    # --- names in reports: DFSDM1.CH2CFGR1, DFSDM1.FLT0CR1 (RM0351's DFSDM_CHyCFGR1, DFSDM_FLTxCR1) -----
    def reg_name(self, reg: Register, index: int = 0) -> str:
        if reg.name.startswith("CH"):
            return f"{self.periph_name}.CH{index}{reg.name[2:]}"
        if reg.name.startswith("FLT"):
            return f"{self.periph_name}.FLT{index}{reg.name[3:]}"
        return super().reg_name(reg, index)

    # --- the board's microphones ---------------------------------------------------------------------
    def attach_microphone(self, mic: Any) -> None:
        """A PDM microphone whose data pin is DATINy (its ``input`` option, default 0), clocked by CKOUT."""
        pin = mic.config.options.get("input", 0)
        if not isinstance(pin, int) or not 0 <= pin < NCHANNELS:
            from simcore.errors import BadInputError

            raise BadInputError(f"device {mic.name} ({mic.TYPE}): input = {pin!r}; the DFSDM's data inputs are "
                                f"DATIN0-{NCHANNELS - 1} (input = 0..{NCHANNELS - 1})")
        self.microphones.append(mic)

    def _mic_on(self, ch: int) -> Any:
        """The microphone channel ``ch`` samples (its pins, the edge SITP selects), or None."""
        cfg = self.get("CHCFGR1", ch)
        pin = (ch + (cfg >> 8 & 1)) % NCHANNELS
        edge = "falling" if cfg & 3 == 1 else "rising"
        for mic in self.microphones:
            if mic.config.options.get("input", 0) == pin and mic.edge == edge:
                return mic
        return None

    # --- the output clock ----------------------------------------------------------------------------
    def _kernel_hz(self) -> float:
        rcc = self.host.peripheral("rcc")
        ccipr = getattr(rcc, "values", {}).get("CCIPR", 0) if rcc is not None else 0
        return self.host.clock_hz("SYSCLK" if ccipr >> 31 & 1 else "PCLK2")

    def _clock_changed(self) -> None:
        cfg = self.get("CHCFGR1", 0)
        div = cfg >> 16 & 0xFF
        running = bool(cfg >> 31 & 1) and div > 0
        if running and cfg >> 30 & 1:
            self.unimplemented(f"{self.periph_name}.CH0CFGR1.CKOUTSRC", "the audio clock as CKOUT source is not "
                               "modelled: CKOUT stays off")
            running = False
        if running and self.clock_start_fs is None:
            self.ckout_hz = self._kernel_hz() / (div + 1)
            self.clock_start_fs = self.host.now_fs()
        elif not running and self.clock_start_fs is not None:
            self.clock_start_fs = None
            self.ckout_hz = 0.0
            for x in range(NFILTERS):
                self._stop(x)

    def _edge_fs(self, n: int) -> int:
        """Virtual time of CKOUT edge ``n`` (0: when the clock started)."""
        assert self.clock_start_fs is not None
        return self.clock_start_fs + n * FS_PER_SECOND // round(self.ckout_hz)

    def _edges_at(self, fs: int) -> int:
        """The first CKOUT edge at or after ``fs``."""
        assert self.clock_start_fs is not None
        period = FS_PER_SECOND / round(self.ckout_hz)
        n = int(-(-(fs - self.clock_start_fs) * round(self.ckout_hz) // FS_PER_SECOND))
        return max(n, 0) if period > 0 else 0

    # --- registers -----------------------------------------------------------------------------------
    def write_CHCFGR1(self, i: int, value: int) -> None:
        for name in IRQ_NAMES:  # what the DMA read before this write (it may stop the clock or a channel)
            self.dma_catch_up(name)
        old = self.get("CHCFGR1", i)
        if i != 0:
            value &= 0x0000F3EF  # CKOUTDIV, CKOUTSRC and DFSDMEN exist in channel 0 only
        if old & 0x80 and value & 0x80 and (value ^ old) & 0x0000F36F:
            self.guest_error(f"{self.periph_name}.CH{i}CFGR1", "configuration changed while CHEN = 1: RM0351 "
                             "allows it only with the channel disabled")
        if i == 0 and old >> 31 & 1 and value >> 31 & 1 and (value ^ old) & 0x40FF0000:
            self.guest_error(f"{self.periph_name}.CH0CFGR1.CKOUTDIV", "output clock changed while DFSDMEN = 1: "
                             "RM0351 allows it only with the DFSDM disabled")
        self.set("CHCFGR1", value, i)
        if value & 0x80 and not old & 0x80:
            sitp, spick, datmpx = value & 3, value >> 2 & 3, value >> 12 & 3
            if datmpx != 0:
                self.unimplemented(f"{self.periph_name}.CH{i}CFGR1.DATMPX", "parallel data inputs are not modelled")
            elif sitp > 1:
                self.unimplemented(f"{self.periph_name}.CH{i}CFGR1.SITP", "Manchester coding is not modelled")
            elif spick != 1:
                self.unimplemented(f"{self.periph_name}.CH{i}CFGR1.SPICKSEL", "only the internal CKOUT clock "
                                   "(SPICKSEL = 1) is modelled: the board wires the microphones' clock to CKOUT")
        if i == 0:
            self._clock_changed()
        if not value & 0x80:
            for x in range(NFILTERS):
                r = self.regular[x]
                if r is not None and r.channel == i:
                    self._stop(x)

    def write_CHCFGR2(self, i: int, value: int) -> None:
        if self.get("CHCFGR1", i) & 0x80 and (value ^ self.get("CHCFGR2", i)) & 0xF8:
            self.guest_error(f"{self.periph_name}.CH{i}CFGR2.DTRBS", "changed while CHEN = 1 (ignored)")
            value = (value & ~0xF8) | (self.get("CHCFGR2", i) & 0xF8)
        self.set("CHCFGR2", value & 0xFFFFFFF8, i)

    def write_FLTCR1(self, x: int, value: int) -> None:
        self.dma_catch_up(IRQ_NAMES[x])  # what the DMA read before this write
        old = self.get("FLTCR1", x)
        if old & 1 and value & 1 and (value ^ old) & 0x07000000:
            self.guest_error(f"{self.periph_name}.FLT{x}CR1.RCH", "changed while DFEN = 1 (RM0351: only with the "
                             "filter disabled); ignored")
            value = (value & ~0x07000000) | (old & 0x07000000)
        self.set("FLTCR1", value & ~(1 << 17 | 1 << 1), x)  # RSWSTART/JSWSTART read 0
        if value & 1 << 1:
            self.unimplemented(f"{self.periph_name}.FLT{x}CR1.JSWSTART", "injected conversions are not modelled")
        if not value & 1:
            if old & 1:
                self._stop(x)
                self.set("FLTISR", ISR_RESET, x)  # RM0351: DFEN = 0 puts the status in its reset state
                self._irqs()
            return
        if value & 1 << 17:
            self._start(x)

    def write_FLTCR2(self, x: int, value: int) -> None:
        self.dma_catch_up(IRQ_NAMES[x])  # REOCIE decides whether the DMA's reads come as blocks
        self.set("FLTCR2", value, x)
        self._irqs()
        self._replan(x)

    def write_FLTICR(self, x: int, value: int) -> None:
        isr = self.get("FLTISR", x)
        isr &= ~(value & (1 << 2 | 1 << 3))
        clkab = value >> 16 & 0xFF
        for ch in range(NCHANNELS):  # CKABF clears only where a clock is present (CKOUT for the channel)
            if clkab >> ch & 1 and self.clock_start_fs is not None:
                isr &= ~(1 << (16 + ch))
        isr &= ~(value & 0xFF000000)
        self.set("FLTISR", isr, x)
        self._irqs()

    def write_FLTFCR(self, x: int, value: int) -> None:
        if self.get("FLTCR1", x) & 1:
            self.guest_error(f"{self.periph_name}.FLT{x}FCR", "written while DFEN = 1 (RM0351: only with the filter "
                             "disabled); ignored")
            return
        self.set("FLTFCR", value & 0xE3FF00FF, x)

    def read_FLTISR(self, x: int) -> int:
        return self.get("FLTISR", x)

    def read_FLTRDATAR(self, x: int) -> int:
        isr = self.get("FLTISR", x)
        if isr & REOCF:
            self.set("FLTISR", isr & ~REOCF, x)
            self._irqs()
        return self.get("FLTRDATAR", x)

    # --- regular conversions -------------------------------------------------------------------------
    def _start(self, x: int) -> None:
        if self.regular[x] is not None:
            return  # RSWSTART while a regular conversion is in progress: ignored
        cr1 = self.get("FLTCR1", x)
        if cr1 & 1 << 19:
            self.unimplemented(f"{self.periph_name}.FLT{x}CR1.RSYNC", "starts synchronous with filter 0 are not "
                               "modelled: started now")
        ch = cr1 >> 24 & 7
        fcr = self.get("FLTFCR", x)
        fosr, iosr, ford = (fcr >> 16 & 0x3FF) + 1, (fcr & 0xFF) + 1, fcr >> 29 & 7
        where = f"{self.periph_name}.FLT{x}FCR"
        if ford > 5:
            self.guest_error(f"{where}.FORD", f"FORD = {ford} is reserved (0 FastSinc, 1-5 Sinc1-Sinc5)")
            ford = 5
        if ford == 0 and fosr > 1:
            self.unimplemented(f"{where}.FORD", "the FastSinc filter is run as Sinc^2 (conversion times as FastSinc)")
        limit = 2 * fosr**2 * iosr if ford == 0 else fosr ** max(ford, 1) * iosr
        if fosr > 1 and limit > 1 << 31:
            self.guest_error(where, f"FOSR^FORD * IOSR = {limit} exceeds 2^31: the 32-bit data path overflows "
                             "(RM0351 24.4.13)")
        self.set("FLTISR", self.get("FLTISR", x) | RCIP, x)
        if self.clock_start_fs is None or not self.get("CHCFGR1", ch) & 0x80:
            what = "the output clock is off (CH0CFGR1: DFSDMEN, CKOUTDIV)" if self.clock_start_fs is None else \
                f"channel {ch} is disabled (CH{ch}CFGR1.CHEN)"
            self.guest_error(f"{self.periph_name}.FLT{x}CR1.RSWSTART", f"regular conversion started on channel {ch} "
                             f"but {what}: it waits for data that never comes")
            return
        if self._mic_on(ch) is None:
            self.guest_error(f"{self.periph_name}.CH{ch}CFGR1", f"channel {ch} samples a data input no microphone "
                             "drives on that clock edge (the board's [[device]] input/lr): it reads -1 (all zeros)")
        r = _Regular(ch, self._edges_at(self.host.now_fs()), fosr, iosr, ford,
                     bool(cr1 >> 29 & 1), bool(cr1 >> 18 & 1))
        self.regular[x] = r
        self._schedule(x)

    def _schedule(self, x: int) -> None:
        r = self.regular[x]
        assert r is not None
        r.batch_end = r.index + self._batch(x, r)
        r.event = self.host.schedule_at_fs(self._edge_fs(r.end_bit(r.batch_end - 1)), lambda: self._complete(x),
                                           f"{self.periph_name} FLT{x} conversion")

    # --- conversions read by DMA, delivered in blocks ------------------------------------------------
    def _dma_channel(self, x: int) -> tuple[Any, Any, int] | None:
        """(DMA controller, transfer, bit shift) when the DMA reads every conversion of filter ``x`` from
        ``RDATAR`` and nothing else sees them one by one: ``RDMAEN`` set, no end-of-conversion interrupt,
        an enabled peripheral-to-memory channel on the request whose fixed peripheral address lies in
        ``RDATAR``; None otherwise (conversions then complete one event each)."""
        if not self.get("FLTCR1", x) & 1 << 21 or self.get("FLTCR2", x) & 2:
            return None
        request = IRQ_NAMES[x]
        rdatar = self.base + 0x11C + 0x80 * x
        for dma in self.dma_controllers():
            channel_for = getattr(dma, "channel_for", None)
            t = channel_for(request) if channel_for is not None else None
            if t is None:
                continue
            if t.pinc or t.fifo_mode or not rdatar <= t.par <= rdatar + 4 - t.psize:
                return None
            return dma, t, 8 * (t.par - rdatar)
        return None

    def _batch(self, x: int, r: _Regular) -> int:
        """Conversions the next event completes: up to the DMA channel's next half/complete flag when the
        DMA reads them (one event per flag instead of one per conversion), else one."""
        if not r.cont:
            return 1
        found = self._dma_channel(x)
        if found is None:
            return 1
        dma, t, _shift = found
        return max(1, min(dma.items_to_flag(t), MAX_BATCH))

    def _deliver_block(self, x: int, r: _Regular, j1: int) -> bool:
        """Conversions ``r.index .. j1-1`` read by the DMA as a block; False (nothing done) if it does not read them."""
        found = self._dma_channel(x)
        if found is None:
            return False
        import numpy as np  # only once a conversion runs: not at start-up

        dma, t, shift = found
        j0 = r.index
        words = self._words(r, j0, j1)
        moved = dma.transfer_block(t, words >> np.uint32(shift) if shift else words)
        if moved == 0:
            return False
        self.conversions[x] += j1 - j0
        self.dma_conversions[x] += j1 - j0
        r.index = j1
        self.set("FLTRDATAR", int(words[-1]), x)  # the last result; the DMA's reads cleared REOCF
        mic = self._mic_on(r.channel)
        if mic is not None and hasattr(mic, "note_delivered"):
            mic.note_delivered(j1 - j0, dma_block=True)
        return True

    def dma_changed(self, request: str) -> None:
        """A DMA channel on the request started or stopped: plan the pending conversions again."""
        x = IRQ_NAMES.index(request) if request in IRQ_NAMES else -1
        if x >= 0:
            self._replan(x)

    def _replan(self, x: int) -> None:
        r = self.regular[x]
        if r is None or r.event is None:
            return
        self.host.cancel(r.event)
        r.event = None
        self._schedule(x)

    def dma_catch_up(self, request: str) -> None:
        """The DMA's count is read (or its channel stops) between two events: the conversions completed by
        now are delivered, so ``CNDTR`` and memory are what the part shows (simcore/peripherals/stm32/dma.py)."""
        x = IRQ_NAMES.index(request) if request in IRQ_NAMES else -1
        r = self.regular[x] if x >= 0 else None
        if r is None or r.event is None or r.batch_end - r.index <= 1 or self.clock_start_fs is None:
            return
        edges = (self.host.now_fs() - self.clock_start_fs) * round(self.ckout_hz) // FS_PER_SECOND
        period = r.period
        done = (edges - r.end_bit(0)) // period + 1 if edges >= r.end_bit(0) else 0
        j1 = min(max(done, r.index), r.batch_end - 1)  # the event delivers the batch's last conversion
        while j1 > r.index and self._past_recording(r, j1 - 1) is not None:
            j1 -= 1  # (none past the recording's end: the batch's event ends the run)
        if j1 > r.index:
            self._deliver_block(x, r, j1)

    def _stop(self, x: int) -> None:
        r = self.regular[x]
        if r is None:
            return
        self.dma_catch_up(IRQ_NAMES[x])  # what the DMA read before the stop
        if r.event is not None:
            self.host.cancel(r.event)
        self.regular[x] = None
        self.set("FLTISR", self.get("FLTISR", x) & ~RCIP, x)

    def _past_recording(self, r: _Regular, j: int) -> Any:
        """The microphone of channel ``r.channel`` if conversion ``j``'s own bits (its last ``period``) all lie past
        its recording's end (``end=stop``), else None: a conversion holding some of the recording is delivered."""
        mic = self._mic_on(r.channel)
        end = mic.stream(round(self.ckout_hz)).end_bit if mic is not None and mic.source is not None else None
        return mic if end is not None and r.end_bit(j) - r.period >= end else None

    def _complete(self, x: int) -> None:
        r = self.regular[x]
        assert r is not None
        r.event = None
        mic = self._past_recording(r, r.index)
        if mic is not None:
            mic.recording_ended(self.host, f"{self.periph_name} FLT{x}'s "
                                f"{'next DMA half' if r.batch_end - r.index > 1 else 'next conversion'}")
            return
        if r.batch_end - r.index > 1 and self._deliver_block(x, r, r.batch_end):
            if r.cont:
                self._schedule(x)
            return
        while r.index < r.batch_end - 1:  # the DMA stopped reading during the batch: one by one
            self._one(x, r)
        self._one(x, r)
        if r.cont and self.regular[x] is r:
            self._schedule(x)

    def _one(self, x: int, r: _Regular) -> None:
        """Conversion ``r.index`` completes: RDATAR and REOCF (ROVRF if the previous was not read), the
        interrupt, the DMA request."""
        value = self._result(r, r.index)
        self.conversions[x] += 1
        isr = self.get("FLTISR", x)
        mic = self._mic_on(r.channel)
        if isr & REOCF:
            isr |= ROVRF
            self.overruns.append({"kind": "overruns", "cycle": self.host.now_cycles(),
                                  "time_s": self.host.now_seconds(), "what": f"FLT{x}: RDATAR not read"})
            if mic is not None and hasattr(mic, "note_overrun"):
                mic.note_overrun(self.host, f"{self.periph_name} FLT{x}: a conversion completed before RDATAR was "
                                 "read (ROVRF)")
        else:
            isr |= REOCF
            self.set("FLTRDATAR", (value & 0xFFFFFF) << 8 | r.channel, x)
            if mic is not None and hasattr(mic, "note_delivered"):
                mic.note_delivered(1)
        r.index += 1
        if not r.cont:
            self.regular[x] = None
            isr &= ~RCIP
        self.set("FLTISR", isr, x)
        self._irqs()
        if isr & REOCF and self.get("FLTCR1", x) & 1 << 21:
            self.dma_request(IRQ_NAMES[x])

    def _bits_for(self, ch: int, start: int) -> _Input:
        mic = self._mic_on(ch)
        return _Input(None if mic is None else mic.stream(round(self.ckout_hz)), start)

    def _result(self, r: _Regular, j: int) -> int:
        """Conversion ``j``'s 24-bit result (computed a block at a time)."""
        if not (r.block_start <= j < r.block_start + len(r.block)):
            r.block_start = j
            r.block = self._raw_block(r, j, j + BLOCK)
        raw = int(r.block[j - r.block_start])
        raw = (raw + (1 << 31)) % (1 << 32) - (1 << 31)  # the 32-bit data path
        cfg2 = self.get("CHCFGR2", r.channel)
        shift = cfg2 >> 3 & 0x1F
        if shift:
            raw = (raw + (1 << (shift - 1))) >> shift  # rounding to nearest, sign kept
        offset = cfg2 >> 8
        offset -= (offset & 0x800000) << 1
        return max(-(1 << 23), min((1 << 23) - 1, raw - offset))

    def _words(self, r: _Regular, j0: int, j1: int, native: bool | None = None) -> np.ndarray:
        """RDATAR's words for conversions ``j0 .. j1-1`` (result << 8 | channel, uint32): the integrator and the
        data unit in C (pdm.c ``pdm_dfsdm_words``) when built and ``native`` is not False, else :meth:`_results`
        in numpy (the same words: tests/unit/test_stm32_dfsdm.py)."""
        import numpy as np  # only once a conversion runs: not at start-up

        from simcore.devices.pdm import _NATIVE

        if _NATIVE is None or native is False:
            return ((self._results(r, j0, j1) & 0xFFFFFF) << 8 | r.channel).astype(np.uint32)
        sinc, group = self._sinc_groups(r, j0, j1)
        cfg2 = self.get("CHCFGR2", r.channel)
        offset = cfg2 >> 8
        offset -= (offset & 0x800000) << 1
        out = np.empty(j1 - j0, dtype=np.uint32)
        _NATIVE.pdm_dfsdm_words(np.ascontiguousarray(sinc, dtype=np.int64).ctypes.data, j1 - j0, group,
                                cfg2 >> 3 & 0x1F, offset, r.channel, 0, out.ctypes.data)
        return out

    def _results(self, r: _Regular, j0: int, j1: int) -> np.ndarray:
        """Conversions ``j0 .. j1-1``'s 24-bit results at once (int64): :meth:`_result` over numpy arrays."""
        import numpy as np  # only once a conversion runs: not at start-up

        raw = self._raw_block(r, j0, j1)
        raw = (raw + (1 << 31)) % (1 << 32) - (1 << 31)  # the 32-bit data path
        cfg2 = self.get("CHCFGR2", r.channel)
        shift = cfg2 >> 3 & 0x1F
        if shift:
            raw = (raw + (1 << (shift - 1))) >> shift  # rounding to nearest, sign kept (arithmetic shift)
        offset = cfg2 >> 8
        offset -= (offset & 0x800000) << 1
        return np.clip(raw - offset, -(1 << 23), (1 << 23) - 1)

    def _raw_block(self, r: _Regular, j0: int, j1: int) -> np.ndarray:
        """Integrator outputs of conversions ``j0 .. j1-1`` before the data unit."""
        sinc, group = self._sinc_groups(r, j0, j1)
        return sinc.reshape(-1, group).sum(axis=1) if group > 1 else sinc

    def _sinc_groups(self, r: _Regular, j0: int, j1: int) -> tuple[np.ndarray, int]:
        """The filter outputs conversions ``j0 .. j1-1`` sum, ``group`` consecutive ones each (int64, group):
        ``IOSR`` outputs of one running filter with ``FAST`` = 1 or single conversions, else (``FAST`` = 0:
        a fresh filter for every conversion) each conversion's sum, group 1."""
        import numpy as np  # only once a conversion runs: not at start-up

        order, fosr, iosr = r.order, r.fosr, r.iosr
        first_k = max(order - 1, 0)
        if r.fast or not r.cont:
            bits = self._bits_for(r.channel, r.n0)
            k0, k1 = first_k + j0 * iosr, first_k + j1 * iosr
            return sinc_outputs(bits, order, fosr, k0, k1), iosr
        out = np.empty(j1 - j0, dtype=np.int64)
        for j in range(j0, j1):
            bits = self._bits_for(r.channel, r.n0 + j * r.period)
            out[j - j0] = sinc_outputs(bits, order, fosr, first_k, first_k + iosr).sum()
        return out, 1

    # --- DMA requests (simcore/peripherals/stm32/signals.py) -----------------------------------------
    def dma_pending(self, request: str) -> bool:
        x = IRQ_NAMES.index(request) if request in IRQ_NAMES else -1
        return x >= 0 and bool(self.get("FLTISR", x) & REOCF) and bool(self.get("FLTCR1", x) & 1 << 21)

    def dma_ack(self, request: str) -> None:
        """The DMA read RDATAR (which cleared REOCF)."""

    def dma_controllers(self) -> list[Any]:
        """The board's DMA controllers (looked up each time: a test may add one after the block was built)."""
        found = (self.host.peripheral(name) for name in ("dma1", "dma2"))
        return [dma for dma in found if dma is not None and hasattr(dma, "serve")]

    def dma_request(self, request: str) -> bool:
        return any(dma.serve(request, self) for dma in self.dma_controllers())

    # --- interrupts and reports ----------------------------------------------------------------------
    def _irqs(self) -> None:
        for x, irq in enumerate(self.filter_irqs):
            if irq is None:
                continue
            isr, cr2 = self.get("FLTISR", x), self.get("FLTCR2", x)
            level = bool(isr & REOCF and cr2 & 2 or isr & ROVRF and cr2 & 8)
            if level != self._irq_levels[x]:
                self._irq_levels[x] = level
                self.host.set_irq(irq, level)

    def stats(self) -> dict[str, Any]:
        return {"name": self.name, "type": self.TYPE, "conversions": list(self.conversions),
                "dma_conversions": list(self.dma_conversions), "overruns": len(self.overruns),
                "ckout_hz": self.ckout_hz, "events": self.overruns[:100]}
