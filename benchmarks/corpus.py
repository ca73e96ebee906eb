"""Speed over a corpus: every committed ELF, side by side with bare Unicorn on the same ELF.

Usage: python benchmarks/corpus.py [--repeat 2] [--filter TEXT ...] [--json FILE] [--no-startup]

Per ELF (firmware/bin/<board>/<app>.elf, the board is the directory): time to first
instruction in a fresh interpreter (interpreter start and imports included: the wall time from
spawning ``python`` to the moment the run starts), cold (empty cache directory) and warm (the
same directory again); the wall time of ``python -m simcore run ELF -q`` end to end; guest MIPS
of the run in this process (simcore's instruction count over the emulating thread's CPU time,
which the machine's load inflates far less than wall time); and bare Unicorn's MIPS on the same
ELF, timed the same way (memories, image, MMIO answering "ready", semihosting exit; no hooks),
as the ratio simcore / bare: both to the same end, so the ratio is bare's time over simcore's.
Bare Unicorn does not always execute the same instructions: its MMIO answers "ready" at once (no
waiting on a UART's transmission), it takes no interrupts (an idle wait spins). A second, untimed
bare run counts what it executes (a native per-instruction hook): column "bare insns", and the
note "different work" where it differs by more than 10% from what simcore executes: simcore's count holds
the iterations of the waits it fast-forwards (a UART's EVENTS_ENDTX loop, an NVMC erase: counted, not run),
so a third, untimed simcore run counts what its engine really executes (the same hook), and the note says
"same work" when bare Unicorn's count is within 10% of that (the ratio then compares the same work; bare MIPS
are its own count over its time). On the bus IMUs of the B-L475E-IOT01A (I2C2) and the STM32F4 Discovery (SPI1)
"different work" is waiting only: their stand-ins give the chips' data (the data registers read as often as on
simcore) and end each flag wait at its first poll, where simcore's engine polls a few times before its polling watch
fast-forwards the wait (docs/performance.md, fifteenth round): simcore's cost, not taken out. The children run
with Python's bytecode cache on (in a directory
of this run: PYTHONPYCACHEPREFIX), as an installed simcore does, even where the environment
sets PYTHONDONTWRITEBYTECODE; one warm-up start fills it. Bare Unicorn has no interrupts, no sensors and no
fault handling: where it cannot reach the same end (it does not exit the same way within ten
times simcore's time) the ratio is n/a with the reason. Runs that idle (spinning, sleeping)
fast-forward virtual time, so their MIPS are not comparable either. Sensor apps run on the repository's
example and demo recordings (INPUTS: the ones the tests use), with a command-line bound where the
input does not end the run (kws_mic halves=8, audio_events windows=100, the bus IMUs frames=200,
the OV7670's camera_person frames=2); the ELFs benchmarks/sensor_speed.py also measures get its
register stub and wfi handler on bare Unicorn (same flags and end of data, the handler's
instructions run there too), the others one short bare try with the "ready" pattern. Best of --repeat for
every timed figure; the machine's load moves all figures alike (ratios are side by side).
Issue 16 goals: ratio >= 0.6 on every ELF; start-up <= 0.3 s cold for an ELF under 2 MB and
<= 0.15 s warm.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import unicorn
from _bare import bare_unicorn, count_instructions, release  # benchmarks/: run as a script, this folder is on sys.path
from sensor_speed import CASES as SENSOR_CASES
from sensor_speed import (
    DISCOVERY_LIS3DSH_CONST,
    F4_RCC,
    Case,
    Stub,
    base_of,
    bits,
    const,
    generic_imu_stub,
    generic_mic_stub,
    kws_wav,
    nano_bmi270_twim,
    twim_chip,
)
from sensor_speed import bare_run as stubbed_bare_run

from simcore.api import prepare
from simcore.board import load_board
from simcore.elf import load_elf
from simcore.errors import SimcoreError
from simcore.peripherals import model_for

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "examples" / "data"
TRAINED = ROOT / "models" / "trained"  # the TinyML apps' demo recordings


@dataclass(frozen=True)
class Inputs:
    """What a sensor app is given: recordings by sensor (the CLI's --sensor spec, the API's value) and the
    arguments after its name on the command line, which bound the run where the recording does not (a
    kit board's chip holds its last sample, a microphone's PDM never ends)."""

    sensors: dict[str, tuple[str, object]]
    args: str = ""


def rec(path: Path, **opts: object) -> tuple[str, object]:
    """A recording as ``--sensor NAME=FILE[:key=value,...]`` takes it and as ``prepare(sensors=...)`` does."""
    if not opts:
        return str(path), str(path)
    text = ",".join(f"{k}={str(v).lower() if isinstance(v, bool) else v}" for k, v in opts.items())
    return f"{path}:{text}", (str(path), dict(opts))


WALK, GESTURES_CSV = DATA / "imu_walk_100hz.csv", TRAINED / "gestures_demo.csv"
MIC = {"mic": rec(DATA / "audio_events_16k.wav")}
# Per app (or board/app where a board needs otherwise): the recordings the tests and examples use, and a bound of
# a few seconds' run (kws_mic: 8 halves of 250 ms; audio_events: 100 windows; the bus IMUs: 200 FIFO frames).
INPUTS: dict[str, Inputs] = {
    "adc_monitor": Inputs({"adc": rec(DATA / "adc_trace_1k.csv")}),
    "machine_monitor": Inputs({"adc": rec(TRAINED / "machine_demo.npy", rate_hz=4000)}),
    "audio_events": Inputs(MIC, "windows=100"),
    "mic_compute": Inputs({"mic": rec(DATA / "audio_events_16k.wav", end="loop")}),
    "kws_mic": Inputs({"mic": rec(TRAINED / "kws_demo.wav")}, "halves=8"),
    "imu_steps": Inputs({"imu": rec(WALK)}),
    "imu_steps_bus": Inputs({"imu": rec(WALK, end="hold", resample=True)}, "frames=200"),
    "imu_gestures": Inputs({"imu": rec(GESTURES_CSV, end="hold")}, "frames=200"),
    "cortex-m4/imu_gestures": Inputs({"imu": rec(GESTURES_CSV)}),  # simcore's IMU: the recording's end ends it
    # simcore's microphone build takes no halves= bound: the 6 s cut sensor_speed's stub ends with (24 halves)
    "cortex-m4/kws_mic": Inputs({"mic": rec(kws_wav())}),
    "camera_motion": Inputs({"camera": rec(DATA / "camera_square", fps=10)}),
    "camera_person": Inputs({"camera": rec(TRAINED / "person_demo.npy", fps=4)}, "frames=2"),
    # the OV7670 sends its own frame sizes only: the 96x96 demo frames scaled to what the firmware configures
    "stm32f407-ov7670/camera_person": Inputs({"camera": rec(TRAINED / "person_demo.npy", fps=4, resize=True)},
                                             "frames=2"),
}


def block_stub(name: str, type_: str, ready: tuple[str, ...], times: int, zero: tuple[str, ...] = ()) -> Stub:
    """simcore's own sensor block ``name`` on the cortex-m4 board (docs/peripherals: its STATUS flags): STATUS
    holds the ``ready`` flags for its first ``times`` reads (a DMA half, a FIFO watermark, a frame each), then
    only END (the recording's end); ID reads its reset value and the registers in ``zero`` read 0 (the counters
    an exit status depends on: nothing was dropped)."""
    base = base_of("cortex-m4", name)
    regs = {r.name: r for r in model_for(type_).REGISTERS}
    off, flags = bits(type_, "STATUS", *ready)
    _, end = bits(type_, "STATUS", "END")
    stub: Stub = {base + off: lambda n: flags if n < times else end, base + regs["ID"].offset: const(regs["ID"].reset)}
    stub.update({base + regs[z].offset: const(0) for z in zero})
    return stub


def adc_codes(path: Path, bits: int = 12, vref: float = 3.3) -> list[int]:
    """simcore's ADC block's codes for a recording in volts: round(v / VREF * (2^bits - 1)), clipped (docs/peripherals:
    simcore_adc; adc_monitor sets 12 bits and 3.3 V)."""
    import numpy as np

    from simcore.sources import open_source

    src = open_source(path)
    if tuple(src.units) != ("V",):
        raise ValueError(f"{path}: units {src.units}, not volts")
    top = (1 << bits) - 1
    v = np.asarray(src.data, dtype=np.float64).reshape(-1)
    return [int(c) for c in np.clip(np.rint(v / vref * top), 0, top)]


def adc_dma(codes: list[int], half: int) -> Callable[[bytearray], Any]:
    """A ``Case.writes`` stand-in for simcore's ADC block's circular DMA: when the firmware starts the ADC (CTRL) the
    ring it gave (DMA_ADDR) gets the recording's first two halves of ``half`` codes (16 bits each); each STATUS
    write clearing HT (TC) refills the first (second) half with the next ``half`` codes, which the DMA would have
    written by the time the firmware looks again. So adc_monitor's state machine sees the recording, as on simcore."""
    base = base_of("cortex-m4", "adc")
    regs = {r.name: r.offset for r in model_for("simcore_adc").REGISTERS}
    _, ht = bits("simcore_adc", "STATUS", "HT")
    _, tc = bits("simcore_adc", "STATUS", "TC")
    _, en = bits("simcore_adc", "CTRL", "EN")

    def make(_console: bytearray) -> Any:
        state = {"ring": 0, "next": 0}

        def fill(uc: Any, which: int) -> None:
            k = state["next"]
            state["next"] = k + 1
            chunk = codes[k * half:(k + 1) * half]
            data = b"".join(c.to_bytes(2, "little") for c in chunk).ljust(2 * half, b"\0")
            uc.mem_write(state["ring"] + 2 * half * which, data)

        def write(uc: Any, addr: int, value: int) -> None:
            if addr == base + regs["DMA_ADDR"]:
                state["ring"] = value
            elif addr == base + regs["CTRL"] and value & en and state["ring"]:
                fill(uc, 0)
                fill(uc, 1)
            elif addr == base + regs["STATUS"] and value & (ht | tc):
                fill(uc, 0 if value & ht else 1)
        return write
    return make


def app_constant(app: str, name: str) -> int:
    """A TinyML app's constant (models/tinyml/apps.py, which generates the firmware's app_config.h)."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from models.tinyml import apps

    return int(getattr(apps, app)[name])


def rows_of(path: Path) -> int:
    """Samples of a CSV (lines after the header) or NPY recording."""
    if path.suffix == ".npy":
        import numpy as np

        return len(np.load(path, mmap_mode="r"))
    return len(path.read_text().strip().splitlines()) - 1


def nrf_twim_nack() -> tuple[Callable[[], Stub], Callable[[bytearray], Any]]:
    """nrf52840 nrf_twim's bare stand-in (a ``Case``'s ``stub`` and ``writes``, sharing one state): the plain nRF52840
    board has no chip on TWIM1, so as on simcore every transfer's address is not acknowledged (PS v1.7 6.31.5:
    EVENTS_ERROR with ERRORSRC.ANACK, no STOPPED until the firmware's TASKS_STOP) and the firmware takes its
    error path (the ERROR clear, TASKS_STOP, ERRORSRC read and clear, " NACK" printed); SPIM2 receives 0xFF
    (MISO idle high: no chip) into RXD.PTR at TASKS_START (6.25.2). Without this the "ready" pattern ends every
    wait at once with STOPPED, and bare Unicorn runs a shorter program than simcore (0.68x its instructions).
    The NACK comes when the address byte has gone, 10 bit periods after TASKS_STARTTX (simcore's TWIM model):
    at FREQUENCY K400 (0x06400000 x 16 MHz / 2^32 = 390.625 kHz) 25.6 us, 1,638 cycles at 64 MHz. Bare Unicorn
    has no clock, so ERROR reads 0 for the polls the firmware's wait makes in that time: its loop (twim_wait:
    LDR STOPPED, CMP, BEQ, LDR ERROR, CBNZ) takes 9 cycles an iteration (Cortex-M4 TRM 3.3: LDR 2, CMP 1,
    taken branch 1 + 2 refill, LDR 2, CBNZ 1), so 182 polls."""
    state = {"stopped": 0, "error": 0, "polls": 0}
    twim, spim = 0x40004000, 0x40023000  # TWIM1, SPIM2 (PS v1.7 table 4.2)
    nack_polls = round(10 * 64e6 / (0x06400000 * 16e6 / 2**32) / 9)  # 1,638 cycles / 9 a poll

    def error(_n: int) -> int:
        state["polls"] += 1
        return state["error"] if state["polls"] > nack_polls else 0

    def stub() -> Stub:
        state.update(stopped=0, error=0, polls=0)
        return {twim + 0x104: lambda _n: state["stopped"], twim + 0x124: error,
                twim + 0x4C4: const(2)}  # EVENTS_STOPPED, EVENTS_ERROR, ERRORSRC: ANACK

    def make(_console: bytearray) -> Any:
        spim_regs: dict[int, int] = {}

        def write(uc: unicorn.Uc, addr: int, value: int) -> None:
            off = addr - twim
            if off == 0x008:  # TASKS_STARTTX: the address goes out and nobody acknowledges it
                state.update(stopped=0, error=1, polls=0)
            elif off == 0x014:  # TASKS_STOP
                state["stopped"] = 1
            elif off in (0x104, 0x124) and value == 0:  # an event cleared
                state["stopped" if off == 0x104 else "error"] = 0
            elif spim <= addr < spim + 0x1000:
                spim_regs[addr - spim] = value
                if addr - spim == 0x010 and spim_regs.get(0x538):  # TASKS_START: RXD.MAXCNT bytes of 0xFF
                    uc.mem_write(spim_regs[0x534], b"\xff" * spim_regs[0x538])
        return write
    return stub, make


NRF_TWIM_STUB, NRF_TWIM_WRITES = nrf_twim_nack()
CYCCNT = 0xE0001004  # DWT CYCCNT (ARMv7-M ARM C1.8.8)
OV7670_SCCB = {0x40005814: const(0xC7),  # I2C2_SR1: SB ADDR BTF RXNE TXE, no AF (RM0090 27.6.6)
               0x40005810: lambda n: (0x76, 0x73)[min(n, 1)],  # I2C2_DR: the OV7670's PID 76h, VER 73h
               0x50050010: const(1)}  # DCMI_MIS: FRAME (RM0090 15.8.5), read by the DCMI handler at each wfi
# The sensor apps benchmarks/sensor_speed.py does not measure: the same kind of stub, each bounded as corpus INPUTS
# bounds the simcore run (its command line, or the recording's length: halves, batches, frames).
CORPUS_STUBS = [
    Case("adc_monitor", "cortex-m4", "cortex-m4/adc_monitor", {}, "simcore ADC, DMA halves of 50",
         stub=lambda: block_stub("adc", "simcore_adc", ("HT", "TC"), rows_of(DATA / "adc_trace_1k.csv") // 50,
                                 ("OVERRUN_COUNT",)),
         writes=adc_dma(adc_codes(DATA / "adc_trace_1k.csv"), 50)),  # the recording's codes in the ring
    Case("machine_monitor", "cortex-m4", "cortex-m4/machine_monitor", {}, "simcore ADC, DMA halves",
         stub=lambda: block_stub("adc", "simcore_adc", ("HT", "TC"), rows_of(TRAINED / "machine_demo.npy")
                                                                        // app_constant("MACHINE", "HALF"))),
    Case("audio_events", "cortex-m4", "cortex-m4/audio_events", {}, "simcore mic (windows=100)",
         stub=lambda: generic_mic_stub(100)),
    Case("imu_gestures", "cortex-m4", "cortex-m4/imu_gestures", {}, "simcore IMU FIFO",
         stub=lambda: generic_imu_stub(rows_of(GESTURES_CSV) // app_constant("GESTURES", "WATERMARK"),
                                      app_constant("GESTURES", "WATERMARK"))),
    Case("camera_motion", "cortex-m4", "cortex-m4/camera_motion", {}, "simcore camera, a frame per flag",
         stub=lambda: block_stub("camera", "simcore_camera", ("DONE",), len(list((DATA / "camera_square")
                                                                                .glob("*.png"))), ("DROP_COUNT",))),
    Case("camera_person", "cortex-m4", "cortex-m4/camera_person", {}, "simcore camera, a frame per flag",
         stub=lambda: block_stub("camera", "simcore_camera", ("DONE",), 32, ("DROP_COUNT",))),  # person_demo.npy
    Case("discovery imu_gestures", "stm32f4-discovery", "stm32f4-discovery/imu_gestures", {}, "LIS3DSH > SPI1",
         stub=lambda: dict(DISCOVERY_LIS3DSH_CONST)),
    Case("nano imu_gestures", "arduino-nano-33-ble-sense", "arduino-nano-33-ble-sense/imu_gestures", {},
         "LSM9DS1 > TWIM1, RTC1 tick",  # WHO_AM_I 68h, FIFO_SRC 15 samples (a 125 ms tick's at 119 Hz), zero data
         writes=twim_chip({0x0F: b"\x68", 0x2F: bytes([15])})),
    Case("nano rev2 imu_gestures", "arduino-nano-33-ble-sense-rev2", "arduino-nano-33-ble-sense-rev2/imu_gestures",
         {}, "BMI270 > TWIM1, GPIOTE",
         writes=lambda console: nano_bmi270_twim(12 * app_constant("GESTURES", "WATERMARK"))(console)),
    Case("nrf52840 nrf_twim", "nrf52840", "nrf52840/nrf_twim", {}, "TWIM1 address NACKs, SPIM2 0xFF",
         stub=NRF_TWIM_STUB, writes=NRF_TWIM_WRITES),
    Case("ov7670 camera_person", "stm32f407-ov7670", "stm32f407-ov7670/camera_person", {}, "OV7670 > DCMI > DMA2",
         stub=lambda: {**F4_RCC, **OV7670_SCCB}, handler="IRQ78_Handler",
         system=lambda: {CYCCNT: lambda n: n * 168_000}),  # 1 ms at 168 MHz per read: SCCB's delay_ms ends
]
# The bare run of a sensor app: its register stub (the flags a wait loop wants, the end of data) and the handler
# called at each wfi, so bare Unicorn reaches the same exit (sensor_speed's cases and the ones above).
STUBBED = {case.elf: case for case in [*SENSOR_CASES, *CORPUS_STUBS]}


def inputs_of(elf: Path) -> Inputs | None:
    return INPUTS.get(f"{elf.parent.name}/{elf.stem}", INPUTS.get(elf.stem))


def cmdline_of(elf: Path) -> str:
    """The firmware's command line: its name, then the app's arguments (the run bound)."""
    inp = inputs_of(elf)
    return f"{elf.name} {inp.args}" if inp is not None and inp.args else elf.name


PROBE = """
import sys, time
import simcore.api as sc
elf, board = sys.argv[1], sys.argv[2]
m = sc.prepare(elf, board, max_instructions=1)
print(time.monotonic(), flush=True)
"""


@dataclass
class Row:
    elf: str
    size: int
    startup_cold: float | None = None
    startup_warm: float | None = None
    cpu_cold: float | None = None
    cpu_warm: float | None = None
    wall: float | None = None
    instructions: int = 0
    stop: str = ""
    mips: float | None = None
    bare_mips: float | None = None
    bare_instructions: int | None = None
    executed: int | None = None  # what simcore's engine executed (its count less fast-forwarded iterations)
    ratio: float | None = None
    note: str = ""


PYC = Path(tempfile.mkdtemp(prefix="simcore-pyc-"))  # the children's bytecode cache (see the docstring)


def child_env(cache: Path) -> dict[str, str]:
    env = dict(os.environ, SIMCORE_CACHE_DIR=str(cache), PYTHONPYCACHEPREFIX=str(PYC))
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def startup(elf: Path, board: str, cache: Path) -> tuple[float, float]:
    """Seconds from spawning the interpreter to the first instruction (the run about to start), and the
    CPU seconds the child used in all (a figure the machine's load does not inflate)."""
    env = child_env(cache)
    ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    out = subprocess.run([sys.executable, "-c", PROBE, str(elf), board], capture_output=True, text=True, env=env,
                         cwd=ROOT, check=True).stdout
    ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime)
    return float(out.split()[-1]) - t0, cpu


def wall(elf: Path, board: str, cache: Path) -> float:
    args = [sys.executable, "-m", "simcore", "run", str(elf), "--board", board, "-q"]
    inp = inputs_of(elf)
    if inp is not None:
        args += [f"--sensor={name}={spec}" for name, (spec, _api) in inp.sensors.items()]
        args += ["--", *inp.args.split()]
    env = child_env(cache)
    t0 = time.monotonic()
    subprocess.run(args, capture_output=True, env=env, cwd=ROOT)
    return time.monotonic() - t0


def simcore_run(elf: Path, board: str) -> tuple[float, int, str, int | None]:
    inp = inputs_of(elf)
    sensors = {k: api for k, (_cli, api) in inp.sensors.items()} if inp is not None else None
    with prepare(elf, board, sensors=sensors, cmdline=cmdline_of(elf)) as m:  # closed after (Machine.close)
        t0 = time.thread_time()
        stop = m.run()
        return time.thread_time() - t0, m.instructions, stop.kind.value, stop.exit_code


def simcore_executed(elf: Path, board: str) -> int:
    """Instructions simcore's engine executes on ``elf`` (a native per-instruction counter on its Unicorn: an
    untimed run): its count less the iterations of the waits it fast-forwarded."""
    inp = inputs_of(elf)
    sensors = {k: api for k, (_cli, api) in inp.sensors.items()} if inp is not None else None
    with prepare(elf, board, sensors=sensors, cmdline=cmdline_of(elf)) as m:
        counter = ctypes.c_uint64(0)
        count_instructions(m.uc, counter)
        m.run()
        return counter.value


def bare_run(elf: Path, board_name: str, timeout_s: float, count: bool = False) -> tuple[float, int | None]:
    """Seconds and semihosting exit code (None: did not exit) of the ELF on a hookless Unicorn.

    ``count``: instead of the seconds, the instructions it executed (a native UC_HOOK_CODE counter:
    a run that is not timed). An ELF benchmarks/sensor_speed.py measures runs with that benchmark's
    register stub and wfi handler (only the time inside emu_start counts, as there)."""
    counter = ctypes.c_uint64(0)
    case = STUBBED.get(f"{board_name}/{elf.stem}")
    if case is not None:
        spent, code, _wakes = stubbed_bare_run(replace(case, cmdline=cmdline_of(elf)), timeout_s,
                                               counter if count else None)
        return (counter.value if count else spent), code
    bare = bare_unicorn(load_board(board_name), load_elf(elf), cmdline=cmdline_of(elf).encode())
    uc, code = bare.uc, bare.exit_code
    try:
        if count:
            count_instructions(uc, counter)
        if bare.pc is None:
            return 0.0, None
        pc = bare.pc
        t0 = time.thread_time()
        try:
            uc.emu_start(pc | 1, 0xFFFFFFFE, timeout=int(timeout_s * 1e6))
        except unicorn.UcError:
            return (counter.value if count else time.thread_time() - t0), None
        return (counter.value if count else time.thread_time() - t0), code[0]
    finally:
        release(uc)


def measure(elf: Path, repeat: int, do_startup: bool) -> Row:
    board = elf.parent.name
    row = Row(f"{board}/{elf.stem}", elf.stat().st_size)
    if do_startup:
        with tempfile.TemporaryDirectory() as tmp:
            cold = []
            for _ in range(repeat):  # each cold probe gets an empty cache directory
                with tempfile.TemporaryDirectory() as fresh:
                    cold.append(startup(elf, board, Path(fresh)))
            row.startup_cold, row.cpu_cold = min(cold)
            wall(elf, board, Path(tmp))  # a whole run fills the cache
            row.startup_warm, row.cpu_warm = min(startup(elf, board, Path(tmp)) for _ in range(repeat))
            row.wall = min(wall(elf, board, Path(tmp)) for _ in range(repeat))
    runs = []
    for _ in range(repeat):
        runs.append(simcore_run(elf, board))
    t, row.instructions, row.stop, exit_code = min(runs)
    if row.stop in ("spinning", "sleeping"):
        row.note = f"{row.stop}: idle time is fast-forwarded"
    elif t > 0:
        row.mips = row.instructions / t / 1e6
    if row.mips is not None and not row.note:
        # a sensor app with no stub: bare Unicorn's "ready" answers rarely end its waits (one short try)
        no_stub = inputs_of(elf) is not None and f"{board}/{elf.stem}" not in STUBBED
        tries, limit = (1, 2.0) if no_stub else (repeat, max(10 * t, 2.0))
        bare = [bare_run(elf, board, limit) for _ in range(tries)]
        bt, bcode = min(bare, key=lambda x: x[0])
        if bcode is not None and bcode == exit_code and row.stop == "exit":
            n, _ = bare_run(elf, board, max(100 * t, 20.0), count=True)
            row.bare_instructions = int(n)
            row.bare_mips = n / bt / 1e6
            row.ratio = bt / t
            if abs(n - row.instructions) > 0.1 * row.instructions:
                row.executed = executed = simcore_executed(elf, board)
                if abs(n - executed) <= 0.1 * executed:
                    row.note = (f"same work: simcore executes {executed:,} of the {row.instructions:,} it counts "
                                "(waits fast-forwarded)")
                else:
                    row.note = (f"different work: bare Unicorn executes {n / executed:.2f}x what simcore executes "
                                f"({executed:,} of the {row.instructions:,} it counts)")
        elif no_stub:
            row.note = "bare Unicorn does not reach the same end (no sensor: its waits are not answered)"
        else:
            row.note = "bare Unicorn does not reach the same end (no interrupts, faults or peripherals)"
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--filter", action="append", default=[],
                    help="only ELFs whose board/app contains this text (repeatable: any of them)")
    ap.add_argument("--json", type=Path, help="write every figure here")
    ap.add_argument("--no-startup", action="store_true", help="skip the fresh-interpreter figures (faster)")
    args = ap.parse_args()
    elfs = [p for p in sorted((ROOT / "firmware" / "bin").glob("*/*.elf"))
            if not args.filter or any(f in f"{p.parent.name}/{p.stem}" for f in args.filter)]
    if elfs and not args.no_startup:  # fill the children's bytecode cache
        with tempfile.TemporaryDirectory() as tmp:
            startup(elfs[0], elfs[0].parent.name, Path(tmp))
    rows = []
    head = f"{'ELF':34s} {'KiB':>6s} {'cold s':>7s} {'(cpu)':>6s} {'warm s':>7s} {'(cpu)':>6s} {'wall s':>7s} " \
           f"{'instructions':>13s} {'MIPS':>7s} {'bare insns':>13s} {'bare':>7s} {'ratio':>6s}  note"
    print(head)

    def f(v: float | None, fmt: str) -> str:
        return format(v, fmt) if v is not None else "-"

    for elf in elfs:
        try:
            r = measure(elf, args.repeat, not args.no_startup)
        except SimcoreError as exc:  # an app whose inputs INPUTS does not give: say so, measure the others
            r = Row(f"{elf.parent.name}/{elf.stem}", elf.stat().st_size, note=f"not measured: {exc}"[:160])
        rows.append(r)
        print(f"{r.elf:34s} {r.size / 1024:6.0f} {f(r.startup_cold, '7.3f')} {f(r.cpu_cold, '6.3f')} "
              f"{f(r.startup_warm, '7.3f')} {f(r.cpu_warm, '6.3f')} {f(r.wall, '7.2f')} {r.instructions:13,d} "
              f"{f(r.mips, '7.1f')} {f(r.bare_instructions, '13,d')} {f(r.bare_mips, '7.1f')} {f(r.ratio, '6.3f')}  "
              f"{r.note}", flush=True)
    ratios = [r.ratio for r in rows if r.ratio is not None]
    small = [r for r in rows if r.size < 2 << 20 and r.startup_cold is not None]
    print()
    if ratios:
        print(f"ratio to bare Unicorn: min {min(ratios):.3f}, median {sorted(ratios)[len(ratios) // 2]:.3f} over "
              f"{len(ratios)} ELFs ({sum(1 for x in ratios if x >= 0.6)} at >= 0.6)")
    if small:
        cold, warm = max(r.startup_cold or 0 for r in small), max(r.startup_warm or 0 for r in small)
        print(f"start-up (ELFs under 2 MB): cold max {cold:.3f} s ({max(r.cpu_cold or 0 for r in small):.3f} s CPU), "
              f"warm max {warm:.3f} s ({max(r.cpu_warm or 0 for r in small):.3f} s CPU)")
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in rows], indent=1))


if __name__ == "__main__":
    main()
