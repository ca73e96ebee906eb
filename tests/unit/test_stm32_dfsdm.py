"""STM32L4 DFSDM on a fake clock (RM0351 section 24): a PDM microphone's stream through the Sinc filter,
integrator and data unit. Expected results are computed here in numpy from the same bit stream (the Sinc^N
kernel by direct convolution, the data unit as the manual describes it), and the recording comes back from
the PCM the firmware would read at >= 60 dB SNR."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from simcore.board import Device
from simcore.devices.pdm import PdmStream, sinc_decimate
from simcore.peripherals import model_for
from simcore.peripherals.stm32.dfsdm import sinc_outputs
from simcore.peripherals.testing import FakeHost, peripheral
from simcore.sources.base import ArraySource

RATE = 16000
TONES = ((1000.0, 0.5, 0.0), (2500.0, 0.2, 1.0), (5200.0, 0.1, 2.0))
CH0CFGR1, CH2CFGR1, CH2CFGR2 = 0x00, 0x40, 0x44
FLT0 = 0x100
CR1, CR2, ISR, ICR, FCR, RDATAR = 0x00, 0x04, 0x08, 0x0C, 0x14, 0x1C
DFEN, RSWSTART, RCONT, RDMAEN, FAST = 1, 1 << 17, 1 << 18, 1 << 21, 1 << 29
IRQ_FLT0 = 61  # RM0351 Table 58: DFSDM1_FLT0


def _recording(seconds: float = 0.25) -> ArraySource:
    t = np.arange(round(RATE * seconds)) / RATE
    sig = sum(a * np.sin(2 * np.pi * f * t + p) for f, a, p in TONES)
    pcm = np.rint(sig * 32767).astype(np.int16)[:, None]
    return ArraySource("tones.wav", pcm, channels=("ch0",), units=("FS",), rate_hz=RATE, full_scale=32768.0)


class FakeDma:
    """A DMA stream on the DFSDM's request: moves RDATAR to a list while the request is asserted."""

    def __init__(self) -> None:
        self.words: list[int] = []
        self.requests: list[str] = []

    def serve(self, request: str, owner: Any) -> bool:
        self.requests.append(request)
        while owner.dma_pending(request):
            self.words.append(owner.read(FLT0 + RDATAR, 4))
        return True


def _dfsdm(mic_input: int = 2, lr: str = "rising", source: ArraySource | None = None) -> tuple[FakeHost, Any, Any]:
    host = FakeHost(mhz=80)
    host.set_clocks(SYSCLK=80e6, PCLK2=80e6)
    d = model_for("stm32l4_dfsdm")(peripheral("dfsdm1", "stm32l4_dfsdm", 0x40016000, None), host)
    from simcore.devices import device_for

    mic = device_for("mp34dt01")(Device("mic", "mp34dt01", "dfsdm1", options={"input": mic_input, "lr": lr}), host)
    mic.attach(source or _recording())
    d.attach_microphone(mic)
    return host, d, mic


def _start(d: Any, *, fosr: int = 125, iosr: int = 1, ford: int = 4, shift: int = 5, offset: int = 0,
           cr1: int = RCONT | FAST, div: int = 39, cr2: int = 0) -> None:
    d.write(CH2CFGR2, 4, (offset & 0xFFFFFF) << 8 | shift << 3)
    d.write(CH2CFGR1, 4, 1 << 7 | 1 << 2)  # CHEN, SPICKSEL = internal CKOUT, SITP = SPI rising edge
    d.write(FLT0 + FCR, 4, ford << 29 | (fosr - 1) << 16 | (iosr - 1))
    d.write(FLT0 + CR2, 4, cr2)
    d.write(FLT0 + CR1, 4, 2 << 24 | cr1 | DFEN)  # regular channel 2
    d.write(CH0CFGR1, 4, 1 << 31 | div << 16)  # DFSDMEN, CKOUT = 80 MHz / (div + 1)
    d.write(FLT0 + CR1, 4, 2 << 24 | cr1 | DFEN | RSWSTART)


def _data_unit(raw: np.ndarray, shift: int, offset: int = 0) -> np.ndarray:
    """RM0351 24.4.13: right shift rounding to nearest, then the offset subtracted, saturated to 24 bits."""
    v = raw.astype(np.int64)
    if shift:
        v = np.floor((v + 2 ** (shift - 1)) / 2**shift).astype(np.int64)
    return np.clip(v - offset, -(1 << 23), (1 << 23) - 1)


def _signed24(words: list[int]) -> np.ndarray:
    w = np.array(words, dtype=np.int64) >> 8
    return w - ((w & 0x800000) << 1)


@pytest.mark.parametrize("native", [True, False])  # C integrators and combs / numpy matrix product
@pytest.mark.parametrize("order,fosr", [(1, 8), (3, 32), (4, 125), (5, 64), (5, 1024)])
def test_cic_equals_the_sinc_kernel(order: int, fosr: int, native: bool) -> None:
    rng = np.random.default_rng(order)
    bits = rng.integers(0, 2, 40 * fosr).astype(np.uint8)
    ref = sinc_decimate(bits, order, fosr)  # np.convolve with the Sinc^N kernel, zero state before bit 0
    for k0, k1 in ((0, 10), (1, 2), (3, 30), (order + 7, 39)):
        got = sinc_outputs(lambda a, b: bits[a:b], order, fosr, k0, k1, native=native)
        assert np.array_equal(got, ref[k0:k1])


def test_c_sinc_filter_on_random_streams_equals_the_kernel() -> None:
    """The C filter integrates eight bits a step by tables, then bit by bit up to each sample point: random
    orders, ratios (multiples of 8 or not), bit densities (long runs of ones or zeros) and output ranges
    against np.convolve with the Sinc^N kernel."""
    rng = np.random.default_rng(12)
    for case in range(150):
        order, fosr = int(rng.integers(1, 6)), int(rng.integers(2, 160))
        bits = (rng.random(int(rng.integers(12, 40)) * fosr) < rng.random()).astype(np.uint8)
        ref = sinc_decimate(bits, order, fosr)
        k0 = int(rng.integers(0, len(ref) - 1))
        k1 = int(rng.integers(k0 + 1, len(ref) + 1))
        got = sinc_outputs(lambda a, b, x=bits: x[a:b], order, fosr, k0, k1, native=True)
        assert np.array_equal(got, ref[k0:k1]), (case, order, fosr, k0, k1)


class _Packed:
    """Bits as a PdmStream gives them: ``packed(a, b)`` is the bytes from bit ``a - a % 8`` on and ``a % 8``, the
    stream starting at bit ``start`` of ``bits`` (so the filter reads from any offset in a byte)."""

    def __init__(self, bits: np.ndarray, start: int) -> None:
        self.all = np.packbits(bits)
        self.bits, self.start = bits, start

    def __call__(self, a: int, b: int) -> np.ndarray:
        return self.bits[self.start + a: self.start + b]

    def packed(self, a: int, b: int) -> tuple[np.ndarray, int]:
        a, b = self.start + a, self.start + b
        return self.all[a >> 3: (b + 7) >> 3], a & 7


def test_c_sinc_filter_reads_packed_bits_from_any_offset() -> None:
    """The C filter on packed bits (eight to a byte, the first highest) starting anywhere in a byte, as the DFSDM
    gives them from a conversion's first clock edge: equal to np.convolve with the Sinc^N kernel."""
    rng = np.random.default_rng(21)
    for case in range(120):
        order, fosr = int(rng.integers(1, 6)), int(rng.integers(2, 140))
        start = int(rng.integers(0, 64))
        bits = (rng.random(start + int(rng.integers(12, 40)) * fosr) < rng.random()).astype(np.uint8)
        ref = sinc_decimate(bits[start:], order, fosr)
        k0 = int(rng.integers(0, len(ref) - 1))
        k1 = int(rng.integers(k0 + 1, len(ref) + 1))
        got = sinc_outputs(_Packed(bits, start), order, fosr, k0, k1, native=True)
        assert np.array_equal(got, ref[k0:k1]), (case, order, fosr, start, k0, k1)


def test_continuous_fast_conversions_by_dma_equal_the_filter_and_the_recording() -> None:
    host, d, mic = _dfsdm()
    dma = FakeDma()
    host.peripherals["dma1"] = dma
    _start(d, cr1=RCONT | FAST | RDMAEN)
    assert d.ckout_hz == 2e6
    seconds = 0.2
    host.advance_seconds(seconds)
    got = _signed24(dma.words)
    n = len(got)
    first = 125 * (1 - 1 + 4) + 4  # RM0351 24.4.8: FOSR*(IOSR-1+FORD)+FORD clocks for the first conversion
    assert n == (round(2e6 * seconds) - first) // 125 + 1  # then one every FOSR*IOSR clocks: 16 kHz
    assert set(dma.requests) == {"DFSDM1_FLT0"} and all(w & 0xFF == 2 for w in dma.words)  # RDATACH = 2
    bits = PdmStream(mic.source, 0, 2e6).bits(0, 2_000_000)  # the clock started with the conversion here
    raw = sinc_decimate(bits, 4, 125)[3: 3 + n]  # outputs from the first settled one (FORD - 1)
    assert np.array_equal(got, _data_unit(raw, 5))
    # the recording comes back: Sinc^4 droop and delay, the PDM depth of 0.5, the gain 125^4 / 2^5
    k = np.arange(n) + 3
    t = ((k + 1) * 125 - 1 - 4 * 124 / 2 - 2) / 2e6
    ref = np.zeros(n)
    for f, a, p in TONES:
        droop = (np.sinc(f * 125 / 2e6) / np.sinc(f / 2e6)) ** 4
        ref += 0.5 * a * droop * np.sin(2 * np.pi * f * t + p)
    out = got * 2**5 / 125**4
    inner = slice(20, n - 20)
    snr = 10 * np.log10(np.sum(ref[inner] ** 2) / np.sum((out[inner] - ref[inner]) ** 2))
    assert snr >= 60.0
    assert mic.stats()["samples_delivered"] == n and mic.stats()["overruns"] == 0


@pytest.mark.parametrize("fast", [True, False])
def test_c_data_unit_words_equal_numpys(fast: bool) -> None:
    """RDATAR's words for a block of conversions (what the DMA reads) from the C integrator and data unit equal
    the numpy twin's, and the numpy data unit as RM0351 24.4.13 describes it (written here), over shifts,
    offsets (both signs, saturating), oversampling ratios and integrator lengths; FAST = 0 restarts the filter
    for each conversion."""
    rng = np.random.default_rng(31 + fast)
    for case in range(12):
        fosr, iosr, ford = int(rng.integers(4, 80)), int(rng.integers(1, 6)), int(rng.integers(1, 6))
        shift, offset = int(rng.integers(0, 20)), int(rng.integers(-(1 << 23), 1 << 23))
        if case % 4 == 0:
            shift, offset = 0, -(1 << 23)  # saturates high for most results
        _host, d, mic = _dfsdm()
        _start(d, fosr=fosr, iosr=iosr, ford=ford, shift=shift, offset=offset,
               cr1=RCONT | (FAST if fast else 0), div=int(rng.integers(20, 60)))
        r = d.regular[0]
        j0 = int(rng.integers(0, 50))
        j1 = j0 + int(rng.integers(1, 300))
        c_words = d._words(r, j0, j1, native=True)
        py_words = d._words(r, j0, j1, native=False)
        assert c_words.dtype == np.uint32 and np.array_equal(c_words, py_words), case
        raw = d._raw_block(r, j0, j1)
        want = (_data_unit((raw + (1 << 31)) % (1 << 32) - (1 << 31), shift, offset) & 0xFFFFFF) << 8 | 2
        assert np.array_equal(c_words.astype(np.int64), want), case


def test_end_of_conversion_interrupts_at_the_manuals_times() -> None:
    host, d, _mic = _dfsdm()
    _start(d, cr2=1 << 1)  # REOCIE
    host.advance_to(20160 + 100)
    rises = host.irq_rises(IRQ_FLT0)
    assert rises == [504 * 40]  # 504 CKOUT clocks of 40 cycles (2 MHz at 80 MHz)
    d.read(FLT0 + RDATAR, 4)  # clears REOCF: the line falls
    assert host.irq_levels[IRQ_FLT0] is False
    host.advance_to(20160 + 125 * 40)
    assert host.irq_rises(IRQ_FLT0)[1] == 20160 + 125 * 40  # the next one FOSR * IOSR clocks later
    assert d.read(FLT0 + ISR, 4) & (1 << 1 | 1 << 14) == (1 << 1 | 1 << 14)  # REOCF, RCIP


def test_overrun_keeps_the_unread_result_and_interrupts() -> None:
    host, d, mic = _dfsdm()
    _start(d, cr2=1 << 3)  # ROVRIE only
    host.advance_to(20160)
    first = d.get("FLTRDATAR", 0)
    assert host.irq_rises(IRQ_FLT0) == []
    host.advance_to(20160 + 5000 * 3)
    isr = d.read(FLT0 + ISR, 4)
    assert isr & 1 << 3 and host.irq_rises(IRQ_FLT0) == [20160 + 5000]
    assert d.read(FLT0 + RDATAR, 4) == first  # RDATAR is not affected by overruns
    assert mic.stats()["overruns"] == 3 and mic.stats()["events"][0]["cycle"] == 20160 + 5000
    d.write(FLT0 + ICR, 4, 1 << 3)  # CLRROVRF
    assert not d.read(FLT0 + ISR, 4) & 1 << 3 and host.irq_levels[IRQ_FLT0] is False


def test_standard_mode_restarts_the_filter_for_each_conversion() -> None:
    host, d, mic = _dfsdm()
    dma = FakeDma()
    host.peripherals["dma1"] = dma
    _start(d, fosr=32, iosr=2, ford=3, shift=0, cr1=RCONT | RDMAEN)  # FAST = 0
    period = 32 * (2 - 1 + 3) + 3 + 1
    host.advance_to(round((10 * period) * 40 + 1))  # 10 conversions (40 cycles per CKOUT clock)
    got = _signed24(dma.words)
    assert len(got) == 10
    bits = PdmStream(mic.source, 0, 2e6).bits(0, 20 * period)
    want = [sinc_decimate(bits[j * period:], 3, 32)[2:4].sum() for j in range(10)]
    assert got.tolist() == want


def test_single_conversion_bypass_filter_offset_and_rounding() -> None:
    host, d, mic = _dfsdm()
    _start(d, fosr=1, iosr=200, ford=0, shift=3, offset=-5, cr1=0)  # integrator only, one conversion
    host.advance_to(200 * 40 + 1)
    isr = d.read(FLT0 + ISR, 4)
    assert isr & 1 << 1 and not isr & 1 << 14  # REOCF, no longer RCIP
    raw = int(PdmStream(mic.source, 0, 2e6).bits(0, 200).astype(np.int64).sum() * 2 - 200)
    got = _signed24([d.read(FLT0 + RDATAR, 4)])[0]
    assert got == _data_unit(np.array([raw]), 3, -5)[0]
    host.advance_to(200 * 40 * 4)
    assert d.conversions[0] == 1


def test_falling_edge_microphone_and_channel_input_from_the_next_pins() -> None:
    host, d, mic = _dfsdm(mic_input=2, lr="falling")
    d.write(0x20, 4, 1 << 7 | 1 << 8 | 1 << 2 | 1)  # channel 1: CHEN, CHINSEL (channel 2's pins), falling edge
    d.write(FLT0 + FCR, 4, 3 << 29 | 63 << 16)
    d.write(FLT0 + CR2, 4, 2)
    d.write(FLT0 + CR1, 4, 1 << 24 | RCONT | FAST | DFEN)
    d.write(CH0CFGR1, 4, 1 << 31 | 39 << 16)
    d.write(FLT0 + CR1, 4, 1 << 24 | RCONT | FAST | DFEN | RSWSTART)
    host.advance_seconds(0.002)
    assert host.unmodelled == {}
    assert d.get("FLTRDATAR", 0) & 7 == 1 and d.conversions[0] > 0
    bits = PdmStream(mic.source, 0, 2e6).bits(0, 64 * 5)
    want = sinc_decimate(bits, 3, 64)[2]
    assert _signed24([d.read(FLT0 + RDATAR, 4)])[0] == want  # the first result, never read before
    assert mic.stats()["samples_delivered"] == 1  # the rest overran
    host2, d2, _ = _dfsdm(mic_input=2, lr="falling")
    _start(d2)  # channel 2 samples the rising edge: nobody drives it
    assert any("no microphone" in v for v in host2.unmodelled.values())


def test_bad_programming_is_reported() -> None:
    host, d, _mic = _dfsdm()
    d.write(FLT0 + CR1, 4, DFEN)
    d.write(FLT0 + FCR, 4, 5 << 29 | 200 << 16)
    assert "DFSDM1.FLT0FCR" in host.unmodelled  # written while DFEN = 1
    host2, d2, _ = _dfsdm()
    _start(d2, fosr=201, ford=5, cr1=0)  # Sinc5, FOSR 201: 201^5 > 2^31
    assert "exceeds 2^31" in host2.unmodelled["DFSDM1.FLT0FCR"]
    host3, d3, _ = _dfsdm()
    d3.write(FLT0 + CR1, 4, 2 << 24 | DFEN | RSWSTART)  # no clock, channel off
    assert any("never comes" in v for v in host3.unmodelled.values())
    d3.write(0x20 * 3, 4, 1 << 7 | 2)  # Manchester
    assert "DFSDM1.CH3CFGR1.SITP" in host3.unmodelled
