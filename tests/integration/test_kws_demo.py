"""kws_demo (firmware/apps/kws_demo): the bundled keyword-spotting job, on every board it is built for.

The committed ELF runs in simcore; its printed int8 scores must equal, byte for byte, those of
the TFLM host interpreter (``models.reference.tflm_reference``) on the same inputs (the
committed test vectors plus the xorshift noise vector the firmware makes itself). The latency
the firmware measures with DWT CYCCNT must equal simcore's own cycle count for the same region,
taken from the ITM markers the firmware writes around it (port 3 before the first CYCCNT read,
port 4 after the second).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pytest

from simcore.api import RunResult, prepare, run, run_machine
from tests.conftest import ROOT, elf, run_cli

BOARDS = {"stm32f407vg": 168, "stm32l4r5zi": 120, "nrf52840": 64, "cortex-m4": 100}
MODEL = ROOT / "models" / "kws_dscnn.tflite"
INPUTS = ROOT / "models" / "kws_dscnn.inputs.npy"
ARENA_BYTES = 24 * 1024
# A CYCCNT read returns the count at the end of the translated block it is in (dwt.py), and
# the ITM stores sit a few instructions outside the two reads: the two figures may differ by
# the cost of those few instructions, never by more.
CYCLE_TOLERANCE = 64

INPUT_RE = re.compile(r'^input (\d+) \((.*?)\): top class (\d+) "(\w+)" score (-?\d+)$')
SCORES_RE = re.compile(r"^  scores:((?: -?\d+){12})$")
LATENCY_RE = re.compile(r"^  latency: (\d+) cycles = (\d+)\.(\d{3}) ms at (\d+) MHz$")


@dataclass
class Inference:
    index: int
    source: str
    top: int
    top_score: int
    scores: list[int] = field(default_factory=list)
    cycles: int = 0
    micros: int = 0
    mhz: int = 0


@dataclass
class DemoRun:
    result: RunResult
    inferences: list[Inference]
    timer: str
    arena_used: int
    arena_size: int
    itm: dict[int, list[tuple[int, int]]]  # port -> [(value, cycle)]


def parse(text: str) -> tuple[list[Inference], str, int, int]:
    infs: list[Inference] = []
    timer, arena = "", (0, 0)
    for line in text.splitlines():
        if m := INPUT_RE.match(line):
            infs.append(Inference(int(m[1]), m[2], int(m[3]), int(m[5])))
        elif m := SCORES_RE.match(line):
            infs[-1].scores = [int(s) for s in m[1].split()]
        elif m := LATENCY_RE.match(line):
            infs[-1].cycles, infs[-1].micros, infs[-1].mhz = int(m[1]), int(m[2]) * 1000 + int(m[3]), int(m[4])
        elif line.startswith("SystemCoreClock "):
            timer = line.split("timer ", 1)[1]
        elif m := re.match(r"^arena: (\d+) bytes used of (\d+)$", line):
            arena = (int(m[1]), int(m[2]))
    return infs, timer, *arena


def noise_vector() -> np.ndarray:
    """The firmware's extra input: xorshift32 from 0x4B575321, top byte of each state as int8."""
    x, out = 0x4B575321, []
    for _ in range(49 * 10):
        x ^= (x << 13) & 0xFFFFFFFF
        x ^= x >> 17
        x ^= (x << 5) & 0xFFFFFFFF
        out.append(x >> 24)
    return np.array(out, dtype=np.uint8).view(np.int8).reshape(49, 10, 1)


@pytest.fixture(scope="module", params=list(BOARDS))
def demo(request: pytest.FixtureRequest) -> DemoRun:
    board = request.param
    path = elf(board, "kws_demo")
    if not path.exists():
        pytest.skip(f"{path.relative_to(ROOT)} not built")
    m = prepare(path, board, mhz=BOARDS[board])
    itm: dict[int, list[tuple[int, int]]] = {3: [], 4: []}
    m.system.itm.on_write(lambda port, value, cycle: itm[port].append((value, cycle)) if port in itm else None)
    res = run_machine(m)
    infs, timer, used, size = parse(res.text)
    return DemoRun(res, infs, timer, used, size, itm)


def test_runs_to_completion_and_reports(demo: DemoRun) -> None:
    res = demo.result
    assert res.exit_status == 0, res.text[-2000:]
    n_vectors = np.load(INPUTS).shape[0]
    assert [i.index for i in demo.inferences] == list(range(n_vectors + 1))
    assert [i.source for i in demo.inferences] == [f"test vector {k}" for k in range(n_vectors)] + ["xorshift noise"]
    assert all(len(i.scores) == 12 and i.scores[i.top] == i.top_score == max(i.scores) for i in demo.inferences)
    assert demo.arena_size == ARENA_BYTES and 0 < demo.arena_used <= ARENA_BYTES
    assert f"kws_dscnn.tflite, {MODEL.stat().st_size} bytes in flash" in res.text
    assert "note: the core runs at" not in res.text  # SystemCoreClock is the board's default clock


def test_other_clock_is_noticed() -> None:
    """At a clock other than SystemCoreClock the firmware says so (SYS_TICKFREQ): ms would be off."""
    res = run(elf("stm32f407vg", "kws_demo"), "stm32f407vg", mhz=84)
    assert res.exit_status == 0
    assert "note: the core runs at 84000000 Hz here (SYS_TICKFREQ), not at SystemCoreClock" in res.text


def test_scores_match_tflm_byte_for_byte(demo: DemoRun) -> None:
    try:
        from models.reference import tflm_reference
    except ImportError as e:  # numpy is there: this is tflite-micro missing
        pytest.skip(f"TFLM host interpreter not available: {e}")
    try:
        import tflite_micro  # noqa: F401
    except ImportError:
        pytest.skip("tflite-micro not installed (pip install -e '.[test]'): no reference outputs")
    x = np.concatenate([np.load(INPUTS).astype(np.int8), noise_vector()[None]])
    [expected] = tflm_reference(MODEL, x)
    got = np.array([i.scores for i in demo.inferences], dtype=np.int8)
    assert got.shape == expected.shape
    assert got.tobytes() == np.ascontiguousarray(expected, dtype=np.int8).tobytes(), (got, expected)


def test_latency_is_simcores_cycle_count(demo: DemoRun) -> None:
    mhz = BOARDS[demo.result.board]
    begins, ends = demo.itm[3], demo.itm[4]
    assert [v for v, _ in begins] == [v for v, _ in ends] == [i.index for i in demo.inferences]
    for inf, (_, c0), (_, c1) in zip(demo.inferences, begins, ends, strict=True):
        assert inf.mhz == mhz
        # the printed ms is the printed cycle count at SystemCoreClock, rounded to the microsecond
        assert inf.micros == (inf.cycles * 1_000_000 + mhz * 500_000) // (mhz * 1_000_000)
        if demo.timer == "DWT CYCCNT":
            assert abs(inf.cycles - (c1 - c0)) <= CYCLE_TOLERANCE, (inf.cycles, c1 - c0)
            assert inf.cycles <= c1 - c0  # the reads sit inside the marked region
        else:  # no DWT in this simcore: the firmware fell back to semihosting SYS_ELAPSED
            assert inf.cycles > 0
    # one inference of the 2.66 M-MAC model takes millions of cycles, and the same for every input
    cycles = [i.cycles for i in demo.inferences]
    assert min(cycles) > 2_656_768 and max(cycles) - min(cycles) < min(cycles) // 1000
    assert sum(cycles) < demo.result.cycles


def test_without_dwt_the_firmware_falls_back_to_semihosting_elapsed() -> None:
    """A CYCCNT that reads 0 (no DWT) makes the firmware time itself with SYS_ELAPSED instead."""
    m = prepare(elf("cortex-m4", "kws_demo"), "cortex-m4")
    m.system.dwt._set_counting = lambda on: None  # type: ignore[method-assign]  # never counts: C and Python read 0
    m.hot.state.sc_on = 0  # (and C does not start it either: DEMCR and DWT_CTRL writes are the model's, hp_sc_write)
    m.system._sc_bits = 0
    marks: list[int] = []
    m.system.itm.on_write(lambda port, value, cycle: marks.append(cycle) if port in (3, 4) else None)
    res = run_machine(m)
    infs, timer, _, _ = parse(res.text)
    assert res.exit_status == 0 and timer.startswith("semihosting SYS_ELAPSED")
    spans = [e - b for b, e in zip(marks[::2], marks[1::2], strict=True)]
    assert len(spans) == len(infs) == 3
    for inf, span in zip(infs, spans, strict=True):
        assert 0 < inf.cycles <= span <= inf.cycles + 4 * CYCLE_TOLERANCE  # + the semihosting calls


def test_readme_command() -> None:
    """The one command the README gives a newcomer."""
    r = run_cli("run", elf("stm32f407vg", "kws_demo"), "--board", "stm32f407vg", "--mhz", "168")
    assert r.status == 0, r.err
    assert "timer DWT CYCCNT" in r.out or "SYS_ELAPSED" in r.out
    assert re.search(r"mean latency: \d+ cycles = \d+\.\d{3} ms per inference at 168 MHz", r.out)
    assert "firmware exited with code 0" in r.err
