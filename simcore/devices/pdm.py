"""Digital microphones: the PDM bit stream a MEMS microphone sends for a recording, and the sinc filter
of a hardware decimator (the STM32 DFSDM's) applied to it.

The audio peripheral models call this: an STM32F4 SPI/I2S receiving the MP45DT02's stream
(the firmware then runs its own PDM-to-PCM filter on the words it reads), an STM32L4 DFSDM
filtering the MP34DT01's stream in hardware (:func:`sinc_decimate` is that filter).

How a recording becomes bits (:class:`PdmStream`):

1. the recording (WAV, any rate) is up-sampled by ``UPSAMPLE`` with a windowed-sinc
   interpolation filter (float64, then quantized to Q23: 1.0 = 2^23), scaled by the
   microphone's ``depth`` (the modulation depth a full-scale recording reaches; 0.5 by
   default, -6 dB, where a second-order modulator is far from overload);
2. at each edge ``n`` of the PDM clock (time ``n / clock_hz``) the up-sampled signal is
   interpolated linearly at position ``n * step`` (32.32 fixed point, exact for any clock);
3. a second-order single-bit sigma-delta modulator (delaying integrators, noise transfer
   (1 - z^-1)^2, integrators clamped at 2^30) decides the bit: 1 = high.

Steps 2-3 run in C (simcore/native/pdm.c) or in the identical Python loop below (integer
arithmetic in both: the same bits). Step 1's filter runs in C as a chain of fused multiply-adds in a fixed
order (the same doubles on any machine) or as numpy's matrix product, whose FMA kernels (OpenBLAS on x86-64
with AVX2) compute that chain: tests/unit/test_pdm.py checks the two equal and the C chain against exact
rational arithmetic. The stream is deterministic: bit ``n`` depends only on the
recording, channel, clock and depth, whatever the order and size of the requests. At an
over-sampling ratio of 64 (1.024 MHz for 16 kHz audio) decimating the stream recovers the
recording with a signal-to-noise ratio of 69 dB in band through a windowed-sinc FIR and 75 dB through the
DFSDM's Sinc^5 (tests/unit/test_pdm.py asserts >= 65 and >= 70 dB).
"""

from __future__ import annotations

import ctypes
import hashlib
import math
from collections import OrderedDict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from simcore.devices import register_device
from simcore.errors import BadInputError
from simcore.paths import native_extension

if TYPE_CHECKING:
    import numpy as np

    from simcore.sources import Source

Q = 23
FS = 1 << Q
LIMIT = 1 << 30
UPSAMPLE = 16  # the interpolation filter's factor before the linear interpolation at the PDM clock
HALF_TAPS = 16  # taps of the interpolation filter per side, in input samples
BLOCK = 1 << 18  # bits produced at a time (blocks start at multiples of BLOCK)

# Blocks made in this process, by what a block's bits depend on (:meth:`PdmStream._key`: the channel's samples and
# end rule, the rates, depth, and which modulator made them, so the C path and the Python twin never share): a
# later run of the same recording and settings (a test suite, a sweep, a benchmark's repeats) takes its blocks
# from here instead of filtering and modulating again. Each entry holds blocks 0, 1, ... in order and the
# modulator's state after each; least recently used first; MADE_BYTES bounds the blocks kept. Read-only arrays.
MADE: OrderedDict[tuple[Any, ...], _Made] = OrderedDict()
MADE_BYTES = 64 << 20
_made_size = [0]


class _Made:
    """A recording's blocks made so far in this process (0 .. n-1) and the modulator state [u1, u2] after each."""

    def __init__(self, key: tuple[Any, ...]) -> None:
        self.key = key
        self.blocks: list[np.ndarray] = []
        self.states: list[tuple[int, int]] = []

    def keep(self, block: np.ndarray, state: list[int]) -> None:
        """Keep the next block (read-only from here on), then drop the least recently used recordings' blocks
        past MADE_BYTES (this one's last: a recording longer than the bound keeps what fits). An entry dropped
        while a stream still makes its blocks keeps no more."""
        if MADE.get(self.key) is not self:
            return
        if _made_size[0] + block.nbytes > MADE_BYTES:
            for key in [k for k, made in MADE.items() if made is not self]:
                if _made_size[0] + block.nbytes <= MADE_BYTES:
                    break
                _made_size[0] -= sum(b.nbytes for b in MADE.pop(key).blocks)
            if _made_size[0] + block.nbytes > MADE_BYTES:
                return
        block.flags.writeable = False
        self.blocks.append(block)
        self.states.append((state[0], state[1]))
        _made_size[0] += block.nbytes


def _load_native() -> ctypes.CDLL | None:
    path = native_extension("_pdm")
    if path is None:
        return None
    lib = ctypes.CDLL(str(path))
    lib.pdm_abi_version.restype = ctypes.c_int64
    if lib.pdm_abi_version() != 3:
        raise RuntimeError(f"{path}: PDM modulator ABI {lib.pdm_abi_version()}, expected 3: rebuild it "
                           "(pip install -e .)")
    i64, u64, ptr = ctypes.c_int64, ctypes.c_uint64, ctypes.c_void_p
    for name in ("pdm_modulate", "pdm_modulate_packed"):
        getattr(lib, name).restype = u64
        getattr(lib, name).argtypes = [ptr, i64, u64, u64, i64, ptr, ptr]
    lib.pdm_upsample.restype = None
    lib.pdm_upsample.argtypes = [ptr, i64, i64, i64, ptr, ctypes.c_double, ptr]
    lib.pdm_sinc.restype = None  # the DFSDM's Sinc filter (simcore/peripherals/stm32/dfsdm.py)
    lib.pdm_sinc.argtypes = [ptr, i64, i64, i64, i64, i64, i64, ptr]
    lib.pdm_dfsdm_words.restype = None
    lib.pdm_dfsdm_words.argtypes = [ptr, i64, i64, i64, i64, i64, i64, ptr]
    return lib


_NATIVE = _load_native()


def modulate(x: np.ndarray, pos: int, step: int, nbits: int, state: list[int], native: bool | None = None) -> tuple[
        np.ndarray, int]:
    """``nbits`` bits from the Q23 signal ``x`` starting at position ``pos`` (32.32), updating ``state`` [u1, u2].

    Returns the bits (uint8 0/1) and the position after the last one. ``native`` None: C when built.
    """
    import numpy as np

    x = np.ascontiguousarray(x, dtype=np.int32)
    out = np.empty(nbits, dtype=np.uint8)
    lib = _NATIVE if native in (None, True) else None
    if native is True and lib is None:
        raise RuntimeError("the native PDM modulator is not built")
    if lib is not None:
        st = (ctypes.c_int64 * 2)(*state)
        pos = int(lib.pdm_modulate(x.ctypes.data, len(x), pos, step, nbits, ctypes.addressof(st), out.ctypes.data))
        state[0], state[1] = st[0], st[1]
        return out, pos
    u1, u2 = state
    nx = len(x)
    xs = x.tolist()
    for n in range(nbits):
        i = pos >> 32
        frac = (pos >> 16) & 0xFFFF
        a = xs[i] if i < nx else 0
        b = xs[i + 1] if i + 1 < nx else a
        xi = a + (((b - a) * frac) >> 16)
        y = FS if u2 >= 0 else -FS
        out[n] = y > 0
        u2 = max(-LIMIT, min(LIMIT, u2 + u1 - 2 * y))
        u1 = max(-LIMIT, min(LIMIT, u1 + xi - y))
        pos = (pos + step) & 0xFFFFFFFFFFFFFFFF
    state[0], state[1] = u1, u2
    return out, pos


def interpolation_taps(factor: int = UPSAMPLE, half: int = HALF_TAPS) -> np.ndarray:
    """Polyphase taps (factor, 2 * half) of a Blackman-windowed sinc interpolator (cut-off at the input Nyquist)."""
    import numpy as np

    t = np.arange(-half * factor, half * factor) / factor  # in input samples
    window = 0.42 + 0.5 * np.cos(np.pi * t / half) + 0.08 * np.cos(2 * np.pi * t / half)  # Blackman over |t| < half
    h = np.sinc(t) * window
    phases = np.stack([h[p::factor] for p in range(factor)])  # phase p: output at input position j + p / factor
    return phases[:, ::-1].copy()


class PdmStream:
    """The PDM bits a microphone sends for one channel of a recording, at ``clock_hz``, computed in blocks.

    Blocks of ``BLOCK`` bits are kept packed eight to a byte, the first bit highest (:meth:`packed`), the form a
    SPI/I2S receiver shifts them in and the DFSDM's filter in C reads. With the extension built (``native``
    None or True) a block is made in two C calls, the interpolation filter (``pdm_upsample``) and the
    modulator (``pdm_modulate_packed``); without it (or ``native`` False) numpy's matrix product and the Python
    modulator make the same bits (tests/unit/test_pdm.py).
    """

    def __init__(self, source: Source, channel: int, clock_hz: float, depth: float = 0.5,
                 native: bool | None = None) -> None:
        import numpy as np

        if not (math.isfinite(clock_hz) and clock_hz > 0):
            raise ValueError(f"PDM clock {clock_hz!r} Hz")
        if source.rate_hz is None:
            raise ValueError("a PDM stream needs a recording with a sample rate")
        if native is True and _NATIVE is None:
            raise RuntimeError("the native PDM modulator is not built")
        self.source = source
        self.channel = channel
        self.clock_hz = float(clock_hz)
        self.depth = float(depth)
        self.native = native
        self._lib = _NATIVE if native is not False else None
        self.rate_hz = float(source.rate_hz)
        # input position advance per PDM bit, in up-sampled samples, 32.32 fixed point
        self.step = round(self.rate_hz * UPSAMPLE / self.clock_hz * (1 << 32))
        self._taps_t = np.ascontiguousarray(interpolation_taps().T)  # (taps, phases), C order: a fast matmul
        self._made: _Made | None = None  # this stream's entry in MADE, found at the first block
        # The first bit past the recording when it ends there (end=stop): bits n < end_bit fall inside it
        # (n / clock_hz < len / rate_hz, exact). None when the stream goes on (loop, hold, error). Made once: the
        # audio models ask for it before every block.
        self.end_bit: int | None = None
        if source.end_rule == "stop":
            from fractions import Fraction

            self.end_bit = math.ceil(Fraction(len(source)) * Fraction(self.clock_hz) / Fraction(self.rate_hz))
        self._restart()

    def _key(self) -> tuple[Any, ...]:
        """What every bit depends on: the channel's samples (a digest of their bytes), the recording's length,
        end rule and full scale, the rates, the depth, and the modulator (C or the Python twin)."""
        import numpy as np

        src = self.source
        col = np.ascontiguousarray(src.take(0, len(src))[:, self.channel])
        digest = hashlib.sha256(col.view(np.uint8)).digest()
        return (digest, str(col.dtype), len(src), src.end_rule, float(src.full_scale), self.rate_hz, self.clock_hz,
                self.depth, self._lib is not None)

    @property
    def oversampling(self) -> float:
        return self.clock_hz / self.rate_hz

    def _restart(self) -> None:
        self._next_block = 0  # the next block the modulator produces
        self._state = [0, 0]
        self._blocks: dict[int, np.ndarray] = {}  # packed: BLOCK // 8 bytes each

    def _upsampled(self, m0: int, m1: int) -> np.ndarray:
        """Up-sampled samples for input positions ``m0 .. m1-1`` (UPSAMPLE each, in time order), Q23 int32."""
        import numpy as np

        k0 = m0 - HALF_TAPS + 1
        k1 = m1 + HALF_TAPS
        raw = self.source.take(max(k0, 0), k1)
        x = np.zeros(k1 - k0)
        lead = max(0, -k0)
        if len(raw):
            col = raw[:, self.channel][: k1 - k0 - lead]
            np.divide(col, self.source.full_scale, out=x[lead: lead + len(col)], dtype=np.float64)
        if self._lib is not None:
            out = np.empty((m1 - m0) * UPSAMPLE, dtype=np.int32)
            self._lib.pdm_upsample(x.ctypes.data, m1 - m0, 2 * HALF_TAPS, UPSAMPLE, self._taps_t.ctypes.data,
                                   self.depth, out.ctypes.data)
            return out
        # row i: inputs k0 + i .. k0 + i + 2 * HALF_TAPS - 1 (a strided view of x, copied contiguous for the matmul)
        windows = np.ndarray((m1 - m0, 2 * HALF_TAPS), dtype=np.float64, buffer=x, strides=(8, 8))
        y = (np.ascontiguousarray(windows) @ self._taps_t).reshape(-1) * self.depth  # (m, phase)
        y *= FS  # then rounded and clipped in place: the values of np.clip(np.rint(y * FS), ...), fewer arrays
        np.rint(y, out=y)
        return np.clip(y, -FS, FS - 1, out=y).astype(np.int32)

    def _produce(self) -> np.ndarray:
        """The next block of BLOCK bits, packed: this process's copy when one was made (:data:`MADE`), else made
        and kept. Blocks are computed alike whatever was asked, so the bits never depend on how requests were cut."""
        if self._made is None:
            key = self._key()
            self._made = MADE.get(key)
            if self._made is None:
                self._made = MADE[key] = _Made(key)
            MADE.move_to_end(key)
        b = self._next_block
        if b < len(self._made.blocks):
            self._state = list(self._made.states[b])
            self._next_block += 1
            return self._made.blocks[b]
        out = self._make()
        if b == len(self._made.blocks):
            self._made.keep(out, self._state)
        return out

    def _make(self) -> np.ndarray:
        """Filter and modulate the next block of BLOCK bits, packed (advances the modulator's state)."""
        import numpy as np

        pos = self._next_block * BLOCK * self.step
        end = pos + BLOCK * self.step
        m0 = (pos >> 32) // UPSAMPLE
        m1 = (end >> 32) // UPSAMPLE + 2
        x = self._upsampled(m0, m1)
        pos -= (m0 * UPSAMPLE) << 32
        if self._lib is not None:
            out = np.empty(BLOCK // 8, dtype=np.uint8)
            st = (ctypes.c_int64 * 2)(*self._state)
            self._lib.pdm_modulate_packed(x.ctypes.data, len(x), pos, self.step, BLOCK, ctypes.addressof(st),
                                          out.ctypes.data)
            self._state = [st[0], st[1]]
        else:
            bits, _ = modulate(x, pos, self.step, BLOCK, self._state, native=False)
            out = np.packbits(bits)
        self._next_block += 1
        return out

    def packed(self, n0: int, n1: int) -> tuple[np.ndarray, int]:
        """Bits ``n0 .. n1-1`` packed, the first bit highest, and the offset of bit ``n0`` in the first byte
        (``n0 % 8``); bits of the last byte past ``n1 - 1`` belong to the stream too. Going back before the
        blocks kept regenerates from bit 0."""
        import numpy as np

        if n1 <= n0:
            return np.zeros(0, dtype=np.uint8), 0
        b0, b1 = n0 // BLOCK, (n1 - 1) // BLOCK + 1
        if b0 < self._next_block and b0 not in self._blocks:
            self._restart()
        for b in [b for b in self._blocks if b < b0]:
            del self._blocks[b]
        while self._next_block < b1:
            b = self._next_block
            block = self._produce()
            if b >= b0:
                self._blocks[b] = block
        joined = np.concatenate([self._blocks[b] for b in range(b0, b1)]) if b1 - b0 > 1 else self._blocks[b0]
        first = n0 - b0 * BLOCK
        return joined[first >> 3: (n1 - b0 * BLOCK + 7) >> 3], n0 & 7

    def bits(self, n0: int, n1: int) -> np.ndarray:
        """Bits ``n0 .. n1-1`` of the stream (uint8 0/1). Going back before the blocks kept regenerates from bit 0."""
        import numpy as np

        if n1 <= n0:
            return np.zeros(0, dtype=np.uint8)
        data, off = self.packed(n0, n1)
        return np.unpackbits(data)[off: off + n1 - n0]

    def words(self, w0: int, w1: int, width: int = 16) -> np.ndarray:
        """Words ``w0 .. w1-1`` as a SPI/I2S receiver shifts them in: ``width`` bits each, the first bit highest."""
        import numpy as np

        out = np.uint32 if width > 16 else np.uint16
        if width in (8, 16, 32):  # whole bytes: the packed stream read big-endian
            data, _ = self.packed(w0 * width, w1 * width)
            return data.view(f">u{width // 8}").astype(out)
        bits = self.bits(w0 * width, w1 * width).reshape(-1, width).astype(np.uint64)
        weights = (np.uint64(1) << np.arange(width - 1, -1, -1, dtype=np.uint64))
        return (bits * weights).sum(axis=1).astype(out)


def sinc_decimate(bits: np.ndarray, order: int, fosr: int, phase: int = 0) -> np.ndarray:
    """A Sinc^order decimating filter over a PDM stream (bit 1 = +1, 0 = -1), one output per ``fosr`` bits.

    The STM32 DFSDM's filter (RM0351 "Sincx filter"): output k is the sum over the last
    ``order * (fosr - 1) + 1`` inputs weighted by the Sinc^order kernel, exact in int64; its gain
    is ``fosr ** order``. Output k ends at input ``phase + (k + 1) * fosr - 1``.
    """
    import numpy as np

    if not 1 <= order <= 5 or fosr < 1:
        raise ValueError(f"sinc order {order}, oversampling {fosr}")
    x = bits.astype(np.int64) * 2 - 1
    kernel = np.ones(fosr, dtype=np.int64)
    for _ in range(order - 1):
        kernel = np.convolve(kernel, np.ones(fosr, dtype=np.int64))
    full = np.convolve(x, kernel)[: len(x)]
    return full[phase + fosr - 1:: fosr]


class PdmMicrophone:
    """A PDM MEMS microphone on a board: a recording, and the bit stream it sends at the clock it is given.

    The audio controller it is wired to (an I2S or DFSDM input, a PDM interface) calls
    ``stream(clock_hz)`` when the firmware starts the clock. Its ``lr`` option says on which
    clock edge it drives the data line (``"rising"``, the default, or ``"falling"``; two
    microphones share a line that way). The recording may have any sample rate: the stream is
    the recording's continuous-time signal sampled at the PDM clock.
    """

    TYPE = "pdm_microphone"
    OPTIONS = {"source": "path of the recording (a WAV file)", "source_options": "options for open_source",
               "channel": "channel of the recording (default 0)", "depth": "modulation depth of a full-scale "
               "recording (default 0.5)", "lr": "clock edge it drives the data on: rising (default) or falling",
               "input": "the audio peripheral's data input its data pin is wired to (DFSDM DATINy: y; default 0)"}
    LINES: tuple[str, ...] = ()
    I2C_ADDRESSES: tuple[int, ...] = ()
    SPI_MODES: frozenset[int] = frozenset()

    def __init__(self, config: Any, host: Any) -> None:
        self.config = config
        self.name = config.name
        self.host = host
        self.lines: dict[str, Any] = {}
        self.source: Source | None = None
        self._streams: dict[float, PdmStream] = {}
        self.delivered = 0  # PCM samples the audio peripheral produced from the stream
        self.delivered_by_dma = 0  # of those, read by a DMA channel in blocks
        self.dma_blocks = 0
        self.events: list[dict[str, Any]] = []  # overruns the audio peripheral saw, time-stamped
        self.end_of_data_s: float | None = None  # when the run stopped because the recording ended (end=stop)
        unknown = sorted(set(config.options) - set(self.OPTIONS))
        if unknown:
            raise BadInputError(f"device {self.name} ({self.TYPE}): unknown option(s) {', '.join(unknown)}; known: "
                                f"{', '.join(sorted(self.OPTIONS))}")
        if config.options.get("lr", "rising") not in ("rising", "falling"):
            raise BadInputError(f"device {self.name} ({self.TYPE}): lr = {config.options['lr']!r}; use 'rising' or "
                                "'falling'")
        path = config.options.get("source")
        if path is not None:
            from simcore.sources import open_source

            self.attach(open_source(Path(str(path)), **dict(config.options.get("source_options", {}))))

    @property
    def edge(self) -> str:
        return str(self.config.options.get("lr", "rising"))

    def attach(self, source: Source) -> None:
        """Feed the microphone from ``source`` (refused before the run if it is not audio)."""
        where = f"device {self.name} ({self.TYPE}): the recording {source.path}"
        if len(source.sample_shape) != 1:
            raise BadInputError(f"{where} holds image frames, not audio")
        ch = self.config.options.get("channel", 0)
        idx = ch if isinstance(ch, int) else source.channel_index(str(ch))
        if not 0 <= idx < len(source.channels):
            raise BadInputError(f"{where} has no channel {ch} (it has {', '.join(source.channels)})")
        if source.units[idx] not in ("", "FS"):
            raise BadInputError(f"{where}: channel {source.channels[idx]!r} is in {source.units[idx]}, not audio; a "
                                "microphone plays full-scale samples (a WAV file)")
        if source.rate_hz is None:
            raise BadInputError(f"{where} has irregular timestamps; a microphone needs a sample rate")
        if len(source) == 0:
            raise BadInputError(f"{where} has no samples")
        self.source = source
        self._channel = idx
        self._streams = {}

    def stream(self, clock_hz: float) -> PdmStream:
        """The bit stream at ``clock_hz`` (the same object for the same clock, so it is computed once)."""
        if self.source is None:
            raise BadInputError(f"device {self.name} ({self.TYPE}) was clocked by the firmware but has no recording; "
                                f"give it one with --sensor {self.name}=FILE")
        if clock_hz not in self._streams:
            self._streams[clock_hz] = PdmStream(self.source, self._channel, clock_hz,
                                                float(self.config.options.get("depth", 0.5)))
        return self._streams[clock_hz]

    def stats(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "type": self.TYPE}
        if self.source is not None:
            out["source"] = self.source.path
        out["pdm_clocks_hz"] = sorted(self._streams)
        if self.delivered:
            out["samples_delivered"] = self.delivered
        if self.dma_blocks:
            out["samples_by_dma"] = self.delivered_by_dma  # read by a DMA channel as blocks between its flags
            out["dma_blocks"] = self.dma_blocks
        out["overruns"] = len(self.events)
        out["events"] = self.events[:100]
        if self.end_of_data_s is not None:
            out["end_of_data_s"] = self.end_of_data_s
        return out

    def note_delivered(self, n: int, dma_block: bool = False) -> None:
        """The audio peripheral turned the stream into ``n`` more PCM samples (reports); ``dma_block``: a DMA
        channel read them as one block (the peripheral's DMA path, simcore/peripherals/stm32/dma.py)."""
        self.delivered += n
        if dma_block:
            self.delivered_by_dma += n
            self.dma_blocks += 1

    def recording_ended(self, host: Any, what: str) -> None:
        """The audio peripheral needs bits past this microphone's recording (``end=stop``): the run ends there
        (``StopKind.END_OF_DATA``, exit 0). A microphone cannot tell the firmware its data ended and the part's clock
        runs on, so the firmware would otherwise process silence until the instruction budget."""
        from simcore.runtypes import Stop, StopKind

        src = self.source
        assert src is not None and src.rate_hz
        length = len(src) / float(src.rate_hz)
        self.end_of_data_s = host.now_seconds() if hasattr(host, "now_seconds") else None
        stop = getattr(host, "request_stop", None)
        if stop is None:
            return
        pc = host.pc() if hasattr(host, "pc") else None
        stop(Stop(StopKind.END_OF_DATA, f"the recording for {self.name} ({Path(str(src.path)).name}, {length:.3f} s) "
                  f"ended (end=stop): {what} would begin after it (every sample of it was delivered); end=loop or "
                  "end=hold keeps the microphone streaming", pc=pc,
                  details={"sensor": self.name, "recording_s": length}))

    def note_overrun(self, host: Any, what: str) -> None:
        """The audio peripheral lost a result because the firmware did not read the previous one in time."""
        self.events.append({"kind": "overruns", "cycle": host.now_cycles(), "time_s": host.now_seconds(),
                            "what": what})


def _microphone(type_name: str, doc: str) -> type[PdmMicrophone]:
    cls = type(type_name.capitalize(), (PdmMicrophone,), {"TYPE": type_name, "__doc__": doc})
    return register_device(cls)  # type: ignore[arg-type, return-value]


Mp45dt02 = _microphone("mp45dt02", "ST MP45DT02 (STM32F4 Discovery): PDM output, L/R channel select.")
Mp34dt01 = _microphone("mp34dt01", "ST MP34DT01 (B-L475E-IOT01A): PDM output, L/R channel select.")
Mp34dt05 = _microphone("mp34dt05", "ST MP34DT05 (Arduino Nano 33 BLE Sense): PDM output, L/R channel select.")
