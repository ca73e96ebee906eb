"""PDM modulation of recordings: the C modulator and its Python twin give the same bits, the stream does not
depend on how it is requested, and decimating it with reference filters written here in numpy (a windowed-
sinc FIR, and a Hogenauer CIC as the DFSDM's Sinc^5) recovers the recording: SNR >= 65 dB in band at an
over-sampling ratio of 64."""

from __future__ import annotations

import numpy as np
import pytest

from simcore.devices import pdm
from simcore.devices.pdm import PdmStream, sinc_decimate
from simcore.sources.base import ArraySource

RATE = 16000
TONES = ((1000.0, 0.5, 0.0), (2500.0, 0.2, 1.0), (5200.0, 0.1, 2.0))  # (Hz, amplitude, phase)


@pytest.fixture(autouse=True)
def _no_blocks_made_yet(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test starts with no blocks kept for the process, and keeps none unless it sets MADE_BYTES itself: the
    streams compared here make their own bits (and one test's patched stream never serves another)."""
    monkeypatch.setattr(pdm, "MADE", type(pdm.MADE)())
    monkeypatch.setattr(pdm, "_made_size", [0])
    monkeypatch.setattr(pdm, "MADE_BYTES", 0)


def _recording(seconds: float = 1.0) -> ArraySource:
    t = np.arange(round(RATE * seconds)) / RATE
    sig = sum(a * np.sin(2 * np.pi * f * t + p) for f, a, p in TONES)
    pcm = np.rint(sig * 32767).astype(np.int16)[:, None]
    return ArraySource("tones.wav", pcm, channels=("ch0",), units=("FS",), rate_hz=RATE, full_scale=32768.0)


def _tones_at(t: np.ndarray, gain: float = 1.0, response: object = None) -> np.ndarray:
    out = np.zeros_like(t)
    for f, a, p in TONES:
        h = response(f) if callable(response) else 1.0
        out += gain * a * h * np.sin(2 * np.pi * f * t + p)
    return out


def _snr_db(got: np.ndarray, ref: np.ndarray) -> float:
    return float(10 * np.log10(np.sum(ref**2) / np.sum((got - ref) ** 2)))


def _assert_modulators_agree(x: np.ndarray, pos: int, step: int, nbits: int, state: list[int], case: int) -> None:
    """The C modulator and the Python loop from the same input and state: the same bits, end position and state."""
    s_c, s_py = list(state), list(state)
    bits_c, end_c = pdm.modulate(x, pos, step, nbits, s_c, native=True)
    bits_py, end_py = pdm.modulate(x, pos, step, nbits, s_py, native=False)
    assert np.array_equal(bits_c, bits_py), case
    assert (end_c, s_c) == (end_py, s_py), case


def test_native_and_python_modulators_agree() -> None:
    assert pdm._NATIVE is not None, "the C modulator is built by setup.py (python3 setup.py build_ext --inplace)"
    src = _recording(0.2)
    c_stream = PdmStream(src, 0, 1.024e6, native=True)
    py_stream = PdmStream(src, 0, 1.024e6, native=False)
    # the modulators compared on the same up-sampled input (numpy's BLAS may round a boundary value otherwise:
    # test_c_upsampling_is_the_fma_chain_and_numpys_matrix_product)
    py_stream._upsampled = c_stream._upsampled  # type: ignore[method-assign]
    native = c_stream.bits(0, 150_000)
    python = py_stream.bits(0, 150_000)
    assert np.array_equal(native, python)


def test_native_and_python_modulators_agree_at_the_edges() -> None:
    """Short signals, positions before, at and past the last sample (the C loop's by-sample part and its
    bounds-tested tail), steps from a fraction of a sample to several, integrators near and past the clamp
    (overdriven inputs up to 2^31): the same bits, end position and state from C and from the Python loop."""
    assert pdm._NATIVE is not None, "the C modulator is built by setup.py (python3 setup.py build_ext --inplace)"
    rng = np.random.default_rng(11)
    for case in range(300):
        nx = int(rng.integers(1, 60))
        amp = (1 << 23, 1 << 27, (1 << 31) - 1)[case % 3]
        x = rng.integers(-amp, amp, nx).astype(np.int32)
        step = int(rng.integers(1, 1 << 34))
        pos = int(rng.integers(0, (nx + 2) << 32))
        nbits = int(rng.integers(0, 400))
        state = [int(v) for v in rng.integers(-(1 << 30), 1 << 30, 2)]
        _assert_modulators_agree(x, pos, step, nbits, state, case)


def test_c_modulators_two_passes_equal_the_python_loop() -> None:
    """The C modulator's two passes (interpolation four bits at a time, then eight modulator steps without clamp
    tests where the integrators' bound says none can clamp, 1,024 bits a chunk): long signals within and beyond
    full scale, steps of a fraction of a sample, integrator states near the clamp (the bound fails, the clamped
    step runs): the same bits, end position and state as the Python loop."""
    assert pdm._NATIVE is not None, "the C modulator is built by setup.py (python3 setup.py build_ext --inplace)"
    rng = np.random.default_rng(17)
    for case in range(24):
        nx = int(rng.integers(200, 2500))
        amp = (1 << 22, 1 << 23, 1 << 28)[case % 3]
        x = rng.integers(-amp, amp, nx).astype(np.int32)
        step = int(rng.integers(1 << 28, 1 << 32))
        pos = int(rng.integers(0, (nx // 2) << 32))
        nbits = int(rng.integers(2000, 9000))
        state = [int(v) for v in rng.integers(-(1 << 29), 1 << 29, 2)] if case % 4 == 0 else [0, 0]
        _assert_modulators_agree(x, pos, step, nbits, state, case)


def test_packed_modulator_equals_the_bits_packed_eight_to_a_byte() -> None:
    """pdm_modulate_packed (PdmStream's blocks) against pdm_modulate's 0/1 bytes packed by numpy, first bit highest:
    random signals, positions, steps and lengths (whole bytes or not, across its 2048-bit chunks), the same end
    position and integrator state."""
    assert pdm._NATIVE is not None, "the C modulator is built by setup.py (python3 setup.py build_ext --inplace)"
    import ctypes

    rng = np.random.default_rng(5)
    for case in range(200):
        nx = int(rng.integers(2, 400))
        x = rng.integers(-(1 << 23), 1 << 23, nx).astype(np.int32)
        step = int(rng.integers(1 << 26, 1 << 33))
        pos = int(rng.integers(0, nx << 32))
        nbits = int(rng.integers(0, 5000))
        state = [int(v) for v in rng.integers(-(1 << 26), 1 << 26, 2)]
        ref_state = list(state)
        bits, ref_end = pdm.modulate(x, pos, step, nbits, ref_state, native=True)
        out = np.full((nbits + 7) // 8, 0xAA, dtype=np.uint8)
        st = (ctypes.c_int64 * 2)(*state)
        end = pdm._NATIVE.pdm_modulate_packed(x.ctypes.data, nx, pos, step, nbits, ctypes.addressof(st),
                                              out.ctypes.data)
        assert np.array_equal(out, np.packbits(bits)), case
        assert (end, [st[0], st[1]]) == (ref_end, ref_state), case


def _fma_chain(w: np.ndarray, taps: np.ndarray) -> float:
    """sum(w[t] * taps[t]) as the chain acc = fma(w[t], taps[t], acc) from 0, each step rounded once (exact
    rationals rounded to the nearest double: Python's float(Fraction) rounds correctly, ties to even)."""
    from fractions import Fraction

    acc = 0.0
    for a, b in zip(w.tolist(), taps.tolist(), strict=True):
        acc = float(Fraction(a) * Fraction(b) + Fraction(acc))
    return acc


def test_c_upsampling_is_the_fma_chain_and_numpys_matrix_product() -> None:
    """pdm_upsample (the interpolation filter before the modulator) computes each value as a chain of fused
    multiply-adds in tap order: checked against exact rational arithmetic rounded once per step, and against
    numpy's matrix product, the Python fallback. OpenBLAS's x86-64 FMA kernels compute the same chain, so here the
    two are equal; a BLAS that rounds otherwise can move a value that lands on a rounding boundary by one step, so
    the test holds the fallback to one step anywhere and to equality on all but a few values (the C path, which
    every build has, gives the same bits on every machine)."""
    assert pdm._NATIVE is not None, "the C modulator is built by setup.py (python3 setup.py build_ext --inplace)"
    src = _recording(0.2)
    c_stream = PdmStream(src, 0, 1.024e6, native=True)
    py_stream = PdmStream(src, 0, 1.024e6, native=False)
    for m0, m1 in ((0, 40), (1000, 1700), (3150, 3200)):  # the start (zeros before the recording), its end
        got = c_stream._upsampled(m0, m1)
        fallback = py_stream._upsampled(m0, m1)
        off = np.abs(got.astype(np.int64) - fallback.astype(np.int64))
        assert off.max() <= 1 and np.count_nonzero(off) <= len(got) // 1000, "C and numpy's BLAS differ"
        k0 = m0 - pdm.HALF_TAPS + 1
        x = np.zeros(m1 + pdm.HALF_TAPS - k0)
        col = src.take(max(k0, 0), m1 + pdm.HALF_TAPS)[:, 0] / src.full_scale
        x[max(0, -k0): max(0, -k0) + len(col)] = col
        taps = c_stream._taps_t
        for i in range(0, m1 - m0, 7):
            for phase in (0, 5, 15):
                y = _fma_chain(x[i: i + 2 * pdm.HALF_TAPS], taps[:, phase]) * 0.5 * pdm.FS
                want = int(np.clip(np.rint(y), -pdm.FS, pdm.FS - 1))
                assert int(got[i * pdm.UPSAMPLE + phase]) == want, (m0, i, phase)


def test_packed_stream_equals_its_bits() -> None:
    stream = PdmStream(_recording(0.3), 0, 1.024e6)
    whole = stream.bits(0, 250_000)
    rng = np.random.default_rng(8)
    for _ in range(40):
        n0 = int(rng.integers(0, 240_000))
        n1 = n0 + int(rng.integers(1, 10_000))
        data, off = stream.packed(n0, n1)
        assert off == n0 % 8 and len(data) == (n1 - (n0 - off) + 7) // 8
        assert np.array_equal(np.unpackbits(data)[off: off + n1 - n0], whole[n0:n1])


def test_stream_does_not_depend_on_how_it_is_requested() -> None:
    src = _recording(0.5)
    whole = PdmStream(src, 0, 1.024e6).bits(0, 400_000)
    stream = PdmStream(src, 0, 1.024e6)
    rng = np.random.default_rng(3)
    parts, n = [], 0
    while n < 400_000:
        k = int(rng.integers(1, 70_000))
        parts.append(stream.bits(n, n + k))
        n += k
    assert np.array_equal(np.concatenate(parts)[:400_000], whole)
    assert np.array_equal(stream.bits(1000, 5000), whole[1000:5000])  # going back regenerates the same bits


@pytest.mark.parametrize("width", [8, 16, 24, 32])
def test_words_are_bits_first_bit_most_significant(width: int) -> None:
    stream = PdmStream(_recording(0.1), 0, 1.024e6)
    bits = stream.bits(width * 10, width * 200)
    words = stream.words(10, 200, width)
    assert words.dtype == (np.uint32 if width > 16 else np.uint16)
    assert words.tolist() == [int("".join(str(b) for b in bits[width * i: width * i + width]), 2) for i in range(190)]


@pytest.mark.parametrize("clock", [1.024e6, 1.0e6])
def test_fir_decimation_recovers_the_recording(clock: float) -> None:
    seconds = 1.0
    bits = PdmStream(_recording(seconds), 0, clock, depth=0.5).bits(0, round(clock * seconds))
    x = bits.astype(np.float64) * 2 - 1
    taps = 4095  # reference low-pass: windowed sinc at 7 kHz, Blackman
    n = np.arange(taps) - (taps - 1) / 2
    fc = 7000 / clock
    h = 2 * fc * np.sinc(2 * fc * n) * np.blackman(taps)
    h /= h.sum()
    size = len(x) + taps
    y = np.fft.irfft(np.fft.rfft(x, size) * np.fft.rfft(h, size), size)[: len(x)]
    step = 64
    out = y[::step]
    t = (np.arange(len(out)) * step - (taps - 1) / 2 - 2) / clock  # filter delay and the modulator's 2 bits
    inner = slice(100, len(out) - 100)
    ref = _tones_at(t, gain=0.5)  # a full-scale recording reaches half the PDM range (depth 0.5)
    assert _snr_db(out[inner], ref[inner]) >= 65.0


def cic(bits: np.ndarray, order: int, r: int) -> np.ndarray:
    """Hogenauer CIC: ``order`` integrators at the input rate, decimation by ``r``, ``order`` combs (int64 wraps)."""
    v = bits.astype(np.int64) * 2 - 1
    for _ in range(order):
        v = np.cumsum(v)
    v = v[r - 1:: r]
    for _ in range(order):
        v = np.diff(v, prepend=0)
    return v


def test_sinc_filter_equals_a_cic_and_recovers_the_recording() -> None:
    clock, fosr, order = 1.024e6, 64, 5
    bits = PdmStream(_recording(1.0), 0, clock).bits(0, 1_024_000)
    dfsdm = sinc_decimate(bits, order, fosr)
    want = cic(bits, order, fosr)
    assert np.array_equal(dfsdm[order:], want[order:])  # equal once the combs have filled
    out = dfsdm / float(fosr**order)
    k = np.arange(len(out))
    t = ((k + 1) * fosr - 1 - order * (fosr - 1) / 2 - 2) / clock  # the kernel's centre, the modulator's delay

    def droop(f: float) -> float:  # the Sinc^5 response at f (Hz) for this clock and decimation
        return float((np.sinc(f * fosr / clock) / np.sinc(f / clock)) ** order)

    ref = _tones_at(t, gain=0.5, response=droop)
    inner = slice(20, len(out) - 20)
    assert _snr_db(out[inner], ref[inner]) >= 70.0
    assert dfsdm.max() <= fosr**order and dfsdm.min() >= -(fosr**order)


def test_silence_is_half_ones_and_overload_stays_bounded() -> None:
    quiet = ArraySource("q.wav", np.zeros((1600, 1), dtype=np.int16), channels=("ch0",), units=("FS",),
                        rate_hz=RATE, full_scale=32768.0)
    bits = PdmStream(quiet, 0, 1.024e6).bits(0, 100_000)
    assert abs(bits.mean() - 0.5) < 1e-3
    loud = ArraySource("l.wav", np.full((1600, 1), 32767, dtype=np.int16), channels=("ch0",), units=("FS",),
                       rate_hz=RATE, full_scale=32768.0)
    bits = PdmStream(loud, 0, 1.024e6, depth=1.0).bits(0, 100_000)
    assert bits[1000:].mean() > 0.99  # driven to full scale: nearly all ones, the integrators clamped


def _counting_makes(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Blocks filtered and modulated from here on (PdmStream._make calls), by block number."""
    made: list[int] = []
    make = PdmStream._make

    def counted(self: PdmStream) -> np.ndarray:
        made.append(self._next_block)
        return make(self)

    monkeypatch.setattr(PdmStream, "_make", counted)
    return made


def test_blocks_are_made_once_per_process_for_a_recording_and_its_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pdm, "MADE_BYTES", 64 << 20)
    made = _counting_makes(monkeypatch)
    src = _recording(0.6)
    n = 3 * pdm.BLOCK
    first = PdmStream(src, 0, 1.024e6).bits(0, n)
    assert made == [0, 1, 2]
    again = PdmStream(src, 0, 1.024e6)
    assert np.array_equal(again.bits(0, n), first) and made == [0, 1, 2]  # the kept blocks, none made again
    assert again.bits(n, n + 1000).size == 1000 and made == [0, 1, 2, 3]  # past them: made from the kept state
    assert np.array_equal(PdmStream(src, 0, 1.024e6).bits(0, n + 1000)[n:], again.bits(n, n + 1000))
    with pytest.raises(ValueError):  # every run gets the same arrays: nobody may write them
        again.packed(0, 64)[0][0] = 0
    # what the bits depend on makes other blocks: the clock, the depth, the modulator, the samples
    PdmStream(src, 0, 1.0e6).bits(0, 10)
    PdmStream(src, 0, 1.024e6, depth=0.25).bits(0, 10)
    PdmStream(src, 0, 1.024e6, native=False).bits(0, 10)
    other = _recording(0.6)
    other.data[5, 0] += 1
    PdmStream(other, 0, 1.024e6).bits(0, 10)
    assert made == [0, 1, 2, 3, 0, 0, 0, 0]
    assert len(pdm.MADE) == 5


def test_blocks_kept_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pdm, "MADE_BYTES", 2 * pdm.BLOCK // 8)  # two blocks
    made = _counting_makes(monkeypatch)
    src, other = _recording(0.6), _recording(0.3)
    whole = PdmStream(src, 0, 1.024e6).bits(0, 3 * pdm.BLOCK)
    assert made == [0, 1, 2] and pdm._made_size[0] == 2 * pdm.BLOCK // 8  # the third did not fit
    assert np.array_equal(PdmStream(src, 0, 1.024e6).bits(0, 3 * pdm.BLOCK), whole)
    assert made == [0, 1, 2, 2]  # the two kept, the third made again
    PdmStream(other, 0, 1.024e6).bits(0, 10)  # another recording: the least recently used one's blocks go
    assert made[-1] == 0 and len(pdm.MADE) == 1 and pdm._made_size[0] == pdm.BLOCK // 8


@pytest.mark.parametrize(("n", "rate", "clock", "end"), [
    (3, 16000, 1_024_000, 192), (10, 44100, 1_000_000, 227), (48000, 16000, 1_024_000, 3_072_000),
    (7, 48000, 3_072_000, 448)])
def test_end_bit_is_the_first_clock_edge_past_the_recording(n: int, rate: int, clock: int, end: int) -> None:
    """Bits ``k < end_bit`` fall inside the recording: ``k / clock < n / rate`` (exact, hand-computed ceilings)."""
    pcm = np.zeros((n, 1), dtype=np.int16)
    for rule, want in (("stop", end), ("loop", None), ("hold", None)):
        src = ArraySource("x.wav", pcm, channels=("ch0",), units=("FS",), rate_hz=rate, full_scale=32768.0,
                          end_rule=rule)
        assert PdmStream(src, 0, clock).end_bit == want
