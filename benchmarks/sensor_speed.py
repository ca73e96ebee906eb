"""Emulation speed while sensors stream at their devices' rates, per board, side by side with bare Unicorn.

Usage: python benchmarks/sensor_speed.py [--repeat 3] [--filter TEXT] [--json FILE]

Per case: the ELF on simcore with its sensor fed from a recording at the device's rate (the data
path the board really has: simcore's microphone/IMU blocks, the DFSDM with DMA, I2S with DMA, the
nRF52840 PDM with EasyDMA, an IMU chip over I2C or SPI), then the same ELF on a bare Unicorn,
measured in the same run, alternately (best of --repeat for each; CPU time of the emulating thread,
which the machine's load inflates far less than wall time). Prints guest MIPS for both and their
ratio (issue 12: >= 0.5 while streaming), and how fast the run went against real time.

The bare run has no hooks in the translated code and no timer, interrupt or peripheral models:
memories and the ELF's image, semihosting (exit, command line; console output dropped), system
registers kept as written, and peripheral registers answering with fixed values that let the
firmware's waits through: every peripheral read returns the case's stub (the bits a polling
loop waits for: a DMA half/complete flag, a FIFO watermark, a bus flag, clock-ready bits), else
the corpus' "ready" pattern (benchmarks/corpus.py). Unicorn's ``wfi`` ends ``emu_start``; where
the firmware sleeps until an interrupt handler has run (the B-L475E-IOT01A's DMA interrupt fills
its ring), the bare run calls that handler at each ``wfi`` as a plain function (LR pointing at
a stop address), then resumes: the handler's own instructions run on bare Unicorn too. The same
number of windows, halves or frames is processed (command line or the stub's end-of-data answer),
and the bare run must exit with the same status, else its figure is n/a. Only the time inside
``emu_start`` counts for the bare run. Both MIPS use simcore's instruction count (the bare run has
no counter): the bare run skips the waiting loops' few iterations, but it also computes on constant
data (zeros in the rings, a fixed byte from a bus), so where the firmware's work depends on the data
(a front end's logarithms and normalisations on silence, a step detector on a constant) its path and
instruction count differ from simcore's, in either direction: treat those ratios as estimates (a ratio
above 1 says the bare path ran more instructions). Repeat runs on a loaded machine vary by 10-20%.

The Nano 33 BLE Sense imu_steps_bus case does the same work on both: its bare stand-in for TWIM1 and the
LSM9DS1 (``nano_lsm9ds1_twim``) answers FIFO_SRC with the samples that arrived by each 125 ms tick and drains
the walk recording's samples as the chip gives them, so the step detector sees the same 1,000 frames, and
the run checks that the bare console (taken from UARTE0's EasyDMA) equals simcore's but for the times the
firmware reads from DWT CYCCNT (else the ratio is n/a). What differs is waiting only: simcore's count
(2,819,482) holds the console's EVENTS_ENDTX polls at the UARTE's baud rate (895,082 iterations of a
3-instruction loop, which simcore fast-forwards in C) and one more pass of each wait loop; bare Unicorn
executes 128,861 instructions (the waits end at once; benchmarks/corpus.py's counting run). So the ratio
there is the time to process the same samples, bare over simcore. The B-L475E-IOT01A's (LSM6DSL over I2C2,
``iot_lsm6dsl_i2c2``), the Nano 33 BLE Sense Rev2's (BMI270 behind TWIM1, ``nano_bmi270_walk_twim``) and the STM32F4
Discovery's (LIS3DSH on SPI1, ``discovery_lis3dsh_spi1``) cases do the same: their stand-ins serve the walk
recording as the chip gives it (simcore's chip model on a fake clock, ``chip_walk``, from the first sample the chip
takes on simcore, ``chip_first_sample``), in the batches the firmware's watermark makes, and the bare console must
equal simcore's (tests/integration/test_bench_stubs.py).

What the ratio measures besides the sensors: every register access the firmware makes outside
memory costs simcore a Python call (the model and the machine's bookkeeping: polling detection,
the event countdown), where the bare run's stub answers in one small Python callback. Apps that
print a line per 30 ms window (audio_events: the console USART, two accesses per character) or
read an IMU a byte at a time over a polled bus (imu_steps_bus: about 40 accesses per sample for a
few hundred instructions of work) are dominated by that per-access cost, not by the sensor's
streaming; the microphone paths themselves (DMA blocks per half/complete flag, the DFSDM's Sinc
filter as one matrix product, the PDM modulation) cost a few per cent of a kws_mic run.
"""

from __future__ import annotations

import argparse
import ctypes
import functools
import json
import os
import re
import sys
import time
import wave
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import unicorn
from _bare import READY, bare_unicorn, count_instructions, release  # benchmarks/: run as a script, on sys.path
from unicorn import arm_const as R

from simcore.api import prepare, result_of
from simcore.board import load_board
from simcore.elf import load_elf
from simcore.peripherals import model_for
from simcore.sources.wav import write_wav

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "examples" / "data"
WAV = DATA / "audio_events_16k.wav"
CSV = DATA / "imu_walk_100hz.csv"
STOP_ADDR = 0x60000000  # an unused page: handlers called at wfi return here
KWS_SECONDS = 6  # audio given to kws_mic (24 halves of 250 ms)

Stub = dict[int, Callable[[int], int]]  # address -> value of the n-th read (n from 0)


def bits(type_: str, reg: str, *names: str) -> tuple[int, int]:
    """(offset, mask) of fields of one of simcore's own sensor blocks, from the model's register table."""
    r = next(x for x in model_for(type_).REGISTERS if x.name == reg)
    return r.offset, sum(1 << f.lsb for f in r.fields if f.name in names)


def base_of(board: str, name: str) -> int:
    return next(p.base for p in load_board(board).peripherals if p.name == name)


def const(value: int) -> Callable[[int], int]:
    return lambda _n: value


def kws_wav() -> Path:
    """The first KWS_SECONDS of the keyword spotter's demo recording (what the IoT node's test uses)."""
    out = Path(os.environ.get("TMPDIR", "/tmp")) / f"simcore_kws_{KWS_SECONDS}s.wav"
    if not out.exists():
        with wave.open(str(ROOT / "models" / "trained" / "kws_demo.wav")) as w:
            x = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
        write_wav(out, x[: KWS_SECONDS * 16000], 16000)
    return out


def generic_mic_stub(halves: int) -> Stub:
    """simcore's microphone block: each STATUS read says both halves are full, END after ``halves`` reads."""
    base = base_of("cortex-m4", "mic")
    off, ht_tc = bits("simcore_mic", "STATUS", "HT", "TC")
    _, end = bits("simcore_mic", "STATUS", "END")
    id_off = next(x for x in model_for("simcore_mic").REGISTERS if x.name == "ID")
    return {base + off: lambda n: ht_tc if n < halves else end, base + id_off.offset: const(id_off.reset)}


def imu_words(path: Path, accel_g: float, gyro_dps: float) -> list[int]:
    """The FIFO_DATA words of simcore's IMU block for a recording in g and dps, frame by frame (AX AY AZ GX GY GZ),
    at full-scale ranges of ``accel_g`` and ``gyro_dps``: int16 counts = round(value / range * 32768), clipped
    (docs/peripherals.md, simcore_imu), sign-extended to 32 bits as the register reads."""
    from simcore.sources import open_source

    src = open_source(path)
    if tuple(src.units) != ("g",) * 3 + ("dps",) * 3:
        raise ValueError(f"{path}: units {src.units}, not g and dps")
    x = np.asarray(src.data, dtype=np.float64) / np.array([accel_g] * 3 + [gyro_dps] * 3)
    counts = np.clip(np.rint(x * 32768.0), -32768, 32767).astype(np.int64)
    return [int(v) & 0xFFFFFFFF for v in counts.reshape(-1)]


def generic_imu_stub(batches: int, watermark: int, words: list[int] | None = None) -> Stub:
    """simcore's IMU block: STATUS says watermark ``batches`` times, then END; FIFO_LEVEL the watermark; FIFO_DATA
    pops ``words`` (``imu_words``: the recording's frames, so the firmware's detector runs on the same data as on
    simcore), zeros without them; OVERRUN_COUNT 0."""
    base = base_of("cortex-m4", "imu")
    regs = {x.name: x for x in model_for("simcore_imu").REGISTERS}
    off, wm = bits("simcore_imu", "STATUS", "WM")
    _, end = bits("simcore_imu", "STATUS", "END")
    data = words or []
    return {base + off: lambda n: wm if n < batches else end, base + regs["ID"].offset: const(regs["ID"].reset),
            base + regs["FIFO_LEVEL"].offset: lambda n: watermark if n < batches else 0,
            base + regs["FIFO_DATA"].offset: lambda n: data[n] if n < len(data) else 0,
            base + regs["OVERRUN_COUNT"].offset: const(0)}  # nothing was dropped (the firmware prints it)


F4_RCC = {0x40023800: const(1 << 17 | 1 << 25 | 1 << 27),  # RCC_CR: HSERDY, PLLRDY, PLLI2SRDY (RM0090 7.3.1)
          0x40023808: const(2 << 2)}  # RCC_CFGR: SWS = PLL (RM0090 7.3.3)


TWIM1 = 0x40004000  # nRF52840 TWIM1 (PS v1.7 6.31)
UARTE0 = 0x40002000  # nRF52840 UARTE0, the Nano's console (PS v1.7 6.34)
LSM9DS1_WHO_AM_I, LSM9DS1_FIFO_SRC, LSM9DS1_OUT_X_L_XL = 0x0F, 0x2F, 0x28  # registers (datasheet 7)
LSM9DS1_ID, LSM9DS1_ODR = 0x68, 119  # WHO_AM_I's value; the firmware's ODR_XL in Hz
NANO_TICK = 4096  # the firmware's RTC1 tick, in periods of the 32768 Hz LFCLK (125 ms)


def lsm9ds1_walk() -> bytes:
    """The walk recording as the LSM9DS1 gives it at ODR_XL 119 Hz, FS_XL +-4 g (X, Y, Z little-endian per sample):
    simcore's own model of the chip on a fake clock, so the bytes are those the simcore run reads (same resampling
    from 100 Hz, same scaling). Computed before any timing."""
    from simcore.devices.base import DeviceConfig
    from simcore.devices.lsm9ds1 import Lsm9ds1
    from simcore.peripherals.sensors.testing import FakeHost
    from simcore.sources import open_source

    chip = Lsm9ds1(DeviceConfig("imu", "lsm9ds1", address=0x6B, options={"resample": True}), FakeHost(mhz=64.0))
    chip.attach(open_source(CSV, end="hold"))
    chip.write(0x20, 1, 3 << 5 | 2 << 3)  # CTRL_REG6_XL: ODR_XL 119 Hz, FS_XL +-4 g
    return chip._xl_counts(chip.accel.values(0, 1000)).astype("<i2").tobytes()


def nano_lsm9ds1_twim(console: bytearray) -> Any:
    """Bare stand-in for TWIM1's EasyDMA and the LSM9DS1 (datasheet DocID025715) of the Nano 33 BLE Sense, doing
    what the chip does for this firmware: at TASKS_STARTTX the receive buffer gets WHO_AM_I (0Fh) 68h; FIFO_SRC
    (2Fh) the samples that arrived by the n-th 125 ms tick (n = FIFO_SRC reads so far: 4096 ticks of 32768 Hz at
    119 Hz, 14 or 15 a tick) less those read; a drain from OUT_X_L_XL the next samples of the walk recording as
    the chip gives them (``lsm9ds1_walk``). So the firmware reads the same 1,000 frames in nearly the same batches,
    and its step detector runs on the same data as on simcore (it prints the same steps and FNV-1a). EVENTS_STOPPED
    and the RTC's EVENTS_COMPARE read the ready pattern: the waits end at once (simcore sleeps through them). UARTE0's
    TASKS_STARTTX copies its TXD buffer into ``console`` (20 lines a run), which measure() compares with simcore's."""
    walk = lsm9ds1_walk()
    state = {"ticks": 0, "read": 0}

    def answer(reg: int, n: int) -> bytes:
        if reg == LSM9DS1_FIFO_SRC:
            state["ticks"] += 1
            arrived = state["ticks"] * NANO_TICK * LSM9DS1_ODR // 32768
            return bytes([min(arrived, len(walk) // 6) - state["read"]])
        if reg == LSM9DS1_OUT_X_L_XL:
            at = 6 * state["read"]
            state["read"] += n // 6
            return walk[at: at + n]
        return bytes([LSM9DS1_ID if reg == LSM9DS1_WHO_AM_I else 0])
    return twim1_writes(answer, console)


@functools.cache
def chip_first_sample(board: str, elf: str) -> int:
    """The recording's index of the first sample simcore's IMU chip ("imu") takes into its FIFO on ``elf``: its
    accelerometer stream's first sample (the samples counted by the cycle at which the firmware started it), from a
    short simcore run (``frames=1``) made before any timing. Bare Unicorn has no clock to say when the firmware got
    there (on the Rev2, after the BMI270's 8 KiB configuration upload over TWIM1 and its delays: 210 ms, sample 21)."""
    from simcore.devices.wiring import devices_of

    m = prepare(ROOT / "firmware/bin" / f"{elf}.elf", board, cmdline=f"{Path(elf).name}.elf frames=1",
                sensors={"imu": (str(CSV), {"end": "hold", "resample": True})})
    m.run()
    chip = next(d for d in devices_of(m.peripherals) if d.name in ("imu", "accel"))  # (the Discovery's: "accel")
    return int(chip.accel.first)


def chip_walk(type_: str, address: int, setup: dict[int, int], first: int, n: int) -> bytes:
    """``n`` accelerometer samples of the walk recording from index ``first`` as the IMU chip ``type_`` (simcore's own
    model on a fake clock, configured by the register writes ``setup``: rate and range) gives them, X, Y, Z as int16
    little-endian: the same resampling and scaling as the simcore run. Computed before any timing."""
    from simcore.devices import device_for
    from simcore.devices.base import DeviceConfig
    from simcore.peripherals.sensors.testing import FakeHost
    from simcore.sources import open_source

    chip = device_for(type_)(DeviceConfig("imu", type_, address=address, options={"resample": True}),
                             FakeHost(mhz=64.0))
    chip.attach(open_source(CSV, end="hold"))
    for reg, value in setup.items():
        chip.write(reg, 1, value)
    counts = getattr(chip, "_xl_counts", None) or getattr(chip, "_acc_counts", None) or chip.counts
    return counts(chip.accel.values(first, first + n)).astype("<i2").tobytes()


def nano_uarte_console(uc: unicorn.Uc, console: bytearray, regs: dict[int, int], addr: int, value: int) -> None:
    """UARTE0's EasyDMA (the Nano's console, PS v1.7 6.34): TASKS_STARTTX copies TXD.PTR's TXD.MAXCNT bytes into
    ``console``; the other UARTE0 registers are kept in ``regs`` (at 1000h + their offset)."""
    if addr == UARTE0 + 0x008:  # TASKS_STARTTX: TXD.PTR, TXD.MAXCNT
        if regs.get(0x1548):
            console.extend(uc.mem_read(regs.get(0x1544, 0), regs[0x1548]))
    elif UARTE0 <= addr < UARTE0 + 0x1000:
        regs[0x1000 + addr - UARTE0] = value


BMI270_CHIP_ID, BMI270_INT_STATUS_1, BMI270_INTERNAL_STATUS = 0x00, 0x1D, 0x21  # registers (datasheet 5.2)
BMI270_FIFO_LENGTH_0, BMI270_FIFO_DATA = 0x24, 0x26
BMI270_WATERMARK = 6 * 25  # the firmware's FIFO_WTM: 25 accelerometer frames of 6 bytes


@functools.lru_cache(maxsize=1)
def bmi270_walk() -> bytes:
    """The Rev2's imu_steps_bus frames (1,000: the firmware's default run) as its BMI270 gives them: ACC_CONF acc_odr
    100 Hz (filter_perf, bwp normal), ACC_RANGE +-4 g, from the first sample the simcore run's chip takes."""
    first = chip_first_sample("arduino-nano-33-ble-sense-rev2", "arduino-nano-33-ble-sense-rev2/imu_steps_bus")
    return chip_walk("bmi270", 0x68, {0x40: 1 << 7 | 2 << 4 | 8, 0x41: 1, 0x7D: 1 << 2}, first, 1000)


def nano_bmi270_walk_twim(console: bytearray) -> Any:
    """Bare stand-in for TWIM1's EasyDMA and the BMI270 (datasheet BST-BMI270-DS000) of the Nano 33 BLE Sense Rev2,
    doing what the chip does for imu_steps_bus: at TASKS_STARTTX the receive buffer gets CHIP_ID (00h) 24h,
    INTERNAL_STATUS (21h) init_ok, FIFO_LENGTH (24h) the watermark's 150 bytes (INT1 rises at the watermark and the
    firmware reads the length at once: simcore's chip has 25 frames then, every time), FIFO_DATA (26h) the next
    frames of the walk recording as the chip gives them at ACC_CONF 100 Hz, ACC_RANGE +-4 g from the first sample
    it takes on simcore (``chip_first_sample``, ``chip_walk``), INT_STATUS_1 (1Dh) fwm_int and acc_drdy_int (the
    read that releases INT1). So the firmware reads the same frames in the same batches, and its step detector
    runs on the same data as on simcore. GPIOTE's EVENTS_IN[0] (INT1's edge) and TIMER1's EVENTS_COMPARE (its
    delays) read the ready pattern: the waits end at once (simcore sleeps through them). UARTE0's TASKS_STARTTX
    copies its TXD buffer into ``console``, which measure() compares with simcore's."""
    walk = bmi270_walk()
    state = {"read": 0}
    fixed = {BMI270_CHIP_ID: b"\x24", BMI270_INTERNAL_STATUS: b"\x01",
             BMI270_FIFO_LENGTH_0: BMI270_WATERMARK.to_bytes(2, "little"), BMI270_INT_STATUS_1: b"\x82"}

    def answer(reg: int, n: int) -> bytes:
        if reg == BMI270_FIFO_DATA:  # the address does not advance: n bytes of frames
            state["read"] += n
            return walk[state["read"] - n: state["read"]]
        return fixed.get(reg, b"")
    return twim1_writes(answer, console)


def twim1_writes(answer: Callable[[int, int], bytes], console: bytearray | None) -> Any:
    """A ``Case.writes`` stand-in for TWIM1's EasyDMA and a chip behind it: at TASKS_STARTTX with RXD.MAXCNT bytes to
    receive, the receive buffer (RXD.PTR) gets ``answer(register, n)`` (the register the first transmitted byte
    names), cut or filled with zeros to n bytes. Writes outside TWIM1 go to UARTE0's console stand-in
    (``nano_uarte_console``) when ``console`` is given."""
    regs: dict[int, int] = {}

    def write(uc: unicorn.Uc, addr: int, value: int) -> None:
        if TWIM1 <= addr < TWIM1 + 0x1000:
            regs[addr - TWIM1] = value
            if addr - TWIM1 == 0x008 and regs.get(0x538):  # TASKS_STARTTX with RXD.MAXCNT bytes to receive
                reg = uc.mem_read(regs[0x544], 1)[0] & 0x7F  # TXD.PTR: the register address
                n = regs[0x538]
                uc.mem_write(regs[0x534], (answer(reg, n) + bytes(n))[:n])  # RXD.PTR
        elif console is not None:
            nano_uarte_console(uc, console, regs, addr, value)
    return write


def twim_chip(answers: dict[int, bytes]) -> Callable[[bytearray], Any]:
    """A ``Case.writes`` stand-in for TWIM1's EasyDMA and a chip behind it answering fixed bytes: the register's
    answer (then zeros), zeros for any other register (the console is not looked at). EVENTS_STOPPED (and the RTC's
    or GPIOTE's events) read the ready pattern."""
    return lambda _console: twim1_writes(lambda reg, _n: answers.get(reg, b""), None)


def nano_bmi270_twim(fifo_bytes: int) -> Callable[[bytearray], Any]:
    """The BMI270 (datasheet BST-BMI270-DS000 5.2) of the Nano 33 BLE Sense Rev2 on TWIM1: CHIP_ID (00h) 24h,
    INTERNAL_STATUS (21h) init_ok, FIFO_LENGTH_0/1 (24h) ``fifo_bytes`` (the firmware's watermark), zeros for
    the data."""
    return twim_chip({0x00: b"\x24", 0x21: b"\x01", 0x24: fifo_bytes.to_bytes(2, "little")})


I2C2 = 0x40005800  # STM32L475 I2C2 (RM0351 2.2.2, registers 39.7)
USART1_TDR = 0x40013828  # the B-L475E-IOT01A's console: USART1 TDR (RM0351 40.8.10)
LSM6DSL_WHO_AM_I, LSM6DSL_FIFO_STATUS1, LSM6DSL_FIFO_DATA_OUT_L = 0x0F, 0x3A, 0x3E  # registers (datasheet 9)
LSM6DSL_FTH_WORDS = 3 * 25  # the firmware's FIFO threshold: 25 accelerometer samples of 3 words


@functools.lru_cache(maxsize=1)
def lsm6dsl_walk() -> bytes:
    """The IoT node's imu_steps_bus samples (1,000: the firmware's default run) as its LSM6DSL gives them: CTRL1_XL
    ODR_XL 104 Hz, FS_XL +-4 g (resampled from the recording's 100 Hz as on simcore), from the first sample the
    simcore run's chip takes."""
    first = chip_first_sample("b-l475e-iot01a", "b-l475e-iot01a/imu_steps_bus")
    return chip_walk("lsm6dsl", 0x6A, {0x10: 4 << 4 | 2 << 2}, first, 1000)


def iot_lsm6dsl_i2c2() -> tuple[Callable[[], Stub], Callable[[bytearray], Any]]:
    """Bare stand-in (a ``Case``'s ``stub`` and ``writes``, sharing one state) for I2C2 and the LSM6DSL (datasheet
    DocID028475) of the B-L475E-IOT01A, doing what the chip does for imu_steps_bus: the register address is the first
    byte written to TXDR after a CR2 START with RD_WRN clear (RM0351 39.4.8); RXDR then reads WHO_AM_I (0Fh) 6Ah,
    FIFO_STATUS1/2 (3Ah) the threshold's 75 words (INT1 rises at the threshold and the firmware reads the level at
    once: simcore's chip has 25 samples then, every time), FIFO_DATA_OUT (3Eh) the next bytes of the walk recording
    as the chip gives them (``lsm6dsl_walk``), 0 elsewhere. So the firmware reads the same samples in the same
    batches and its step detector runs on the same data as on simcore. ISR answers TXIS, RXNE, STOPF and TC and
    EXTI_PR1 PIF11 at once (simcore's transfers and sleeps take their time). USART1's TDR writes go to
    ``console``, which measure() compares with simcore's."""
    walk = b""
    state = {"reg": -1, "addr_next": False, "read": 0, "at": 0}

    def rxdr(_n: int) -> int:
        reg = state["reg"]
        if reg == LSM6DSL_FIFO_DATA_OUT_L:  # the FIFO's output: its address rolls back, the samples follow
            at = state["read"]
            state["read"] = at + 1
            return walk[at] if at < len(walk) else 0
        state["reg"] = reg + 1  # IF_INC (CTRL3_C's reset value): the address advances
        if reg == LSM6DSL_WHO_AM_I:
            return 0x6A
        return LSM6DSL_FTH_WORDS.to_bytes(2, "little")[reg - LSM6DSL_FIFO_STATUS1] \
            if reg in (LSM6DSL_FIFO_STATUS1, LSM6DSL_FIFO_STATUS1 + 1) else 0

    def stub() -> Stub:
        nonlocal walk
        walk = lsm6dsl_walk()
        state.update(reg=-1, addr_next=False, read=0)
        return {I2C2 + 0x18: const(1 << 1 | 1 << 2 | 1 << 5 | 1 << 6),  # I2C2_ISR: TXIS RXNE STOPF TC
                I2C2 + 0x24: rxdr,  # I2C2_RXDR
                0x40010414: const(1 << 11)}  # EXTI_PR1: PIF11

    def make(console: bytearray) -> Any:
        def write(_uc: unicorn.Uc, addr: int, value: int) -> None:
            if addr == I2C2 + 0x04:  # CR2: START with RD_WRN clear: the next TXDR byte is the register address
                state["addr_next"] = bool(value & 1 << 13) and not value & 1 << 10
            elif addr == I2C2 + 0x28 and state["addr_next"]:  # TXDR
                state.update(reg=value & 0xFF, addr_next=False)
            elif addr == USART1_TDR:
                console.append(value & 0xFF)
        return write
    return stub, make


IOT_IMU_STUB, IOT_IMU_WRITES = iot_lsm6dsl_i2c2()

SPI1, GPIOE_BSRR, USART2_DR = 0x40013000, 0x40021018, 0x40004404  # STM32F407 (RM0090 2.3, 8.4.7, 30.6.2)
SPI1_DR = SPI1 + 0x0C
LIS3DSH_WHO_AM_I, LIS3DSH_OUT_X_L, LIS3DSH_FIFO_SRC = 0x0F, 0x28, 0x2F  # registers (datasheet DocID022405 8)
LIS3DSH_ID, LIS3DSH_AT_WTM = 0x3F, 0x80 | 25  # WHO_AM_I; FIFO_SRC WTM with FSS = the firmware's watermark of 25


def lis3dsh_walk() -> bytes:
    """The Discovery's imu_steps_bus samples (1,000: the firmware's default run) as its LIS3DSH gives them:
    CTRL_REG4 ODR 100 Hz (X, Y, Z on), CTRL_REG5 FSCALE +-4 g, from the first sample the simcore run's chip takes."""
    first = chip_first_sample("stm32f4-discovery", "stm32f4-discovery/imu_steps_bus")
    return chip_walk("lis3dsh", 0x1E, {0x24: 1 << 3, 0x20: 6 << 4 | 7}, first, 1000)


def discovery_lis3dsh_spi1() -> tuple[Callable[[], Stub], Callable[[bytearray], Any]]:
    """Bare stand-in (a ``Case``'s ``stub`` and ``writes``, sharing one state) for SPI1 and the LIS3DSH of the
    STM32F4 Discovery, doing what the chip does for imu_steps_bus: PE3 low (GPIOE_BSRR BR3) selects it, the first
    byte written to SPI1_DR is the command (bit 7 read, the register address in bits 6:0; datasheet 6.2), each later
    byte's answer is the register's, the address stepping (ADD_INC). WHO_AM_I (0Fh) reads 3Fh, FIFO_SRC (2Fh) 99h
    (WTM with 25 samples: INT1 rises at the watermark and the firmware reads the level at once: simcore's chip has 25
    then, every time), OUT_X_L..OUT_Z_H (28h..2Dh) the next sample of the walk recording as the chip gives it
    (``lis3dsh_walk``), 0 elsewhere. So the firmware reads the same samples in the same batches and its step
    detector runs on the same data as on simcore. SPI1_SR answers TXE and RXNE and EXTI_PR PR0 at once (simcore's
    transfers and sleeps take their time). USART2_DR writes (the console) go to ``console``, which measure() compares
    with simcore's. Before this stand-in SPI1_DR read 3Fh always: the firmware took 31 samples a batch of 3Fh bytes,
    and bare Unicorn ran another program (0.63x the instructions simcore's engine executes)."""
    walk = b""
    # [chip selected, next register (-1: none), the answer SPI1_DR reads, samples read]: one list, few operations a
    # write (each of the firmware's ~2,000 peripheral writes a run is a Python call on bare Unicorn)
    st = [False, -1, 0, 0]

    def stub() -> Stub:
        nonlocal walk
        walk = lis3dsh_walk()
        st[:] = [False, -1, 0, 0]
        return {**F4_RCC, SPI1 + 0x08: const(3),  # SPI1_SR: TXE, RXNE (RM0090 28.5.3)
                SPI1 + 0x0C: lambda _n: st[2],  # SPI1_DR: the chip's answer to the last byte sent
                0x40013C14: const(1)}  # EXTI_PR: PR0

    def answer(reg: int) -> int:
        if LIS3DSH_OUT_X_L <= reg < LIS3DSH_OUT_X_L + 6:  # a sample's bytes: the FIFO's oldest
            at = 6 * st[3] + reg - LIS3DSH_OUT_X_L
            if reg == LIS3DSH_OUT_X_L + 5:
                st[3] += 1  # its last byte read: the sample leaves the FIFO
            return walk[at] if at < len(walk) else 0
        return LIS3DSH_ID if reg == LIS3DSH_WHO_AM_I else LIS3DSH_AT_WTM if reg == LIS3DSH_FIFO_SRC else 0

    def make(console: bytearray) -> Any:
        def write(_uc: unicorn.Uc, addr: int, value: int) -> None:
            if addr == SPI1_DR:  # a byte goes out, the chip's answer comes back
                if st[0]:  # the command: bit 7 read, the address
                    st[0], st[1], st[2] = False, value & 0x7F if value & 0x80 else -1, 0
                elif st[1] >= 0:
                    st[2] = answer(st[1])
                    st[1] += 1
                else:
                    st[2] = 0  # a write's data byte: the chip answers nothing
            elif addr == GPIOE_BSRR:
                if value & 1 << (3 + 16):  # BR3: chip select low, a command comes
                    st[0] = True
            elif addr == USART2_DR:
                console.append(value & 0xFF)
        return write
    return stub, make


DISCOVERY_IMU_STUB, DISCOVERY_IMU_WRITES = discovery_lis3dsh_spi1()
# The LIS3DSH's earlier constant stand-in (SPI1_DR 3Fh: WHO_AM_I, then FIFO_SRC level 31 and 3Fh data), kept for the
# corpus' Discovery imu_gestures (benchmarks/corpus.py), whose bare run it ends
DISCOVERY_LIS3DSH_CONST = {**F4_RCC, 0x40013008: const(3),  # SPI1_SR: TXE, RXNE
                           0x4001300C: const(0x3F),  # SPI1_DR: WHO_AM_I, then FIFO_SRC level 31
                           0x40013C14: const(1)}  # EXTI_PR: PR0


@dataclass
class Case:
    label: str
    board: str
    elf: str  # firmware/bin/<dir>/<app>.elf
    sensors: dict[str, Any]
    path: str  # what carries the data
    cmdline: str | None = None
    stub: Callable[[], Stub] = dict
    handler: str | None = None  # bare run: the interrupt handler called at each wfi
    # bare run: a stand-in for a DMA peripheral's writes to memory, made with a buffer where it may put what the
    # firmware transmits on its console (then measure() requires it to equal simcore's console)
    writes: Callable[[bytearray], Any] | None = None
    clock_text: str = ""  # a regular expression for what the console shows of the virtual clock (bare has none)
    system: Callable[[], Stub] = dict  # bare run: system registers (PPB) answered by read count


CASES = [
    Case("cortex-m4 compute", "cortex-m4", "cortex-m4/compute", {}, "no sensor (reference)"),
    Case("cortex-m4 mic_compute", "cortex-m4", "cortex-m4/mic_compute", {"mic": (str(WAV), {"end": "loop"})},
         "simcore mic, DMA halves of 256", stub=lambda: {base_of("cortex-m4", "mic") + bits(
             "simcore_mic", "STATUS", "HT")[0]: const(0)}),  # the same matmul; its flag checks find nothing
    Case("cortex-m4 kws_mic", "cortex-m4", "cortex-m4/kws_mic", {"mic": "KWS"}, "simcore mic, circular DMA 2x4000",
         stub=lambda: generic_mic_stub(4 * KWS_SECONDS)),
    Case("cortex-m4 imu_steps", "cortex-m4", "cortex-m4/imu_steps", {"imu": str(CSV)}, "simcore IMU FIFO, wm 25",
         stub=lambda: generic_imu_stub(40, 25, imu_words(CSV, 4.0, 500.0))),  # the firmware's +-4 g, +-500 dps
    Case("b-l475e-iot01a kws_mic", "b-l475e-iot01a", "b-l475e-iot01a/kws_mic", {"mic": "KWS"},
         "MP34DT01 > DFSDM > DMA1 ch4", cmdline=f"kws_mic.elf halves={4 * KWS_SECONDS}",
         stub=lambda: {0x40020000: const(1 << 13 | 1 << 14)},  # DMA1_ISR: TCIF4, HTIF4 (RM0351 11.6.1)
         handler="IRQ14_Handler"),  # DMA1_CH4: scales each DMA half into the ring (common/dfsdm_mic.h)
    Case("b-l475e-iot01a audio_events", "b-l475e-iot01a", "b-l475e-iot01a/audio_events", {"mic": str(WAV)},
         "MP34DT01 > DFSDM > DMA1 ch4", cmdline="audio_events.elf windows=100",
         stub=lambda: {0x40020000: const(1 << 13 | 1 << 14)}, handler="IRQ14_Handler"),
    Case("stm32f4-discovery audio_events", "stm32f4-discovery", "stm32f4-discovery/audio_events", {"mic": str(WAV)},
         "MP45DT02 > I2S2 > DMA1 S3", cmdline="audio_events.elf windows=100",
         stub=lambda: {**F4_RCC, 0x40026000: const(1 << 26 | 1 << 27),  # DMA1_LISR: HTIF3, TCIF3 (RM0090 10.5.1)
                       0x40003808: const(1 << 1)}),  # SPI2_SR: TXE, no OVR
    Case("nrf52840 audio_events", "nrf52840", "nrf52840/audio_events", {"mic": str(WAV)}, "PDM + EasyDMA",
         cmdline="audio_events.elf windows=100"),  # EVENTS_* read non-zero: the ready pattern
    Case("arduino-nano-33-ble-sense kws_mic", "arduino-nano-33-ble-sense", "arduino-nano-33-ble-sense/kws_mic",
         {"mic": "KWS"}, "MP34DT05 > PDM + EasyDMA", cmdline=f"kws_mic.elf halves={4 * KWS_SECONDS}"),
    Case("stm32f4-discovery kws_mic", "stm32f4-discovery", "stm32f4-discovery/kws_mic", {"mic": "KWS"},
         "MP45DT02 > I2S2 > DMA1 S3, CIC in IRQ", cmdline=f"kws_mic.elf halves={4 * KWS_SECONDS}",
         stub=lambda: {**F4_RCC, 0x40026000: const(1 << 26 | 1 << 27), 0x40003808: const(1 << 1)},
         handler="IRQ14_Handler"),  # DMA1_Stream3: filters each DMA half into the ring (common/i2s_pdm_mic.h)
    Case("b-l475e-iot01a imu_steps_bus", "b-l475e-iot01a", "b-l475e-iot01a/imu_steps_bus",
         {"imu": (str(CSV), {"end": "hold", "resample": True})}, "LSM6DSL > I2C2, EXTI11",
         stub=IOT_IMU_STUB, writes=IOT_IMU_WRITES, clock_text=r"detected at \d+ ms"),
    Case("stm32f4-discovery imu_steps_bus", "stm32f4-discovery", "stm32f4-discovery/imu_steps_bus",
         {"accel": (str(CSV), {"end": "hold"})}, "LIS3DSH > SPI1, EXTI0",
         stub=DISCOVERY_IMU_STUB, writes=DISCOVERY_IMU_WRITES, clock_text=r"detected at \d+ ms"),
    Case("arduino-nano-33-ble-sense imu_steps_bus", "arduino-nano-33-ble-sense",
         "arduino-nano-33-ble-sense/imu_steps_bus", {"imu": (str(CSV), {"end": "hold", "resample": True})},
         "LSM9DS1 > TWIM1 EasyDMA, RTC1 tick", writes=nano_lsm9ds1_twim,
         clock_text=r"detected at \d+ ms"),  # step_detector.h: when the firmware saw the step (DWT CYCCNT)
    Case("arduino-nano-33-ble-sense-rev2 imu_steps_bus", "arduino-nano-33-ble-sense-rev2",
         "arduino-nano-33-ble-sense-rev2/imu_steps_bus", {"imu": (str(CSV), {"end": "hold", "resample": True})},
         "BMI270 > TWIM1 EasyDMA, GPIOTE", writes=nano_bmi270_walk_twim, clock_text=r"detected at \d+ ms"),
]


def sensors_of(case: Case) -> dict[str, Any]:
    return {k: (kws_wav() if v == "KWS" else v) for k, v in case.sensors.items()}


@dataclass
class Row:
    label: str
    path: str
    instructions: int = 0
    simcore_s: float = 0.0
    bare_s: float | None = None
    virtual_s: float = 0.0
    samples: int = 0
    dma_blocks: int = 0
    wakes: int = 0
    note: str = ""
    mips: float = 0.0
    bare_mips: float | None = None
    ratio: float | None = None
    realtime: float = 0.0
    stop: str = ""
    exit_code: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def simcore_run(case: Case) -> tuple[float, int, float, int | None, str, dict[str, Any], bytes]:
    """CPU seconds of the run loop, guest instructions, virtual seconds, exit code, stop kind, sensor figures,
    console."""
    extra = {"cmdline": case.cmdline} if case.cmdline else {}
    with prepare(ROOT / "firmware/bin" / f"{case.elf}.elf", case.board, sensors=sensors_of(case), **extra) as m:
        t0 = time.thread_time()  # (closed after: Machine.close)
        w0 = time.perf_counter()
        stop = m.run()
        dt = time.thread_time() - t0
        res = result_of(m, stop, w0)
    return dt, m.instructions, res.seconds, stop.exit_code, stop.kind.value, res.sensors, res.console


def bare_run(case: Case, timeout_s: float, counter: ctypes.c_uint64 | None = None,
             console: bytearray | None = None) -> tuple[float, int | None, int]:
    """CPU seconds inside emu_start, semihosting exit code (None: did not exit), wfi wake-ups.

    ``counter``: count the instructions executed into it (benchmarks/corpus.py's untimed counting run).
    ``console``: what the case's ``writes`` stand-in saw the firmware transmit on its console."""
    board = load_board(case.board)
    fw = load_elf(ROOT / "firmware/bin" / f"{case.elf}.elf")
    stub = case.stub()
    reads: dict[int, int] = {}

    def mmio_read(addr: int) -> int:
        answer = stub.get(addr)
        if answer is None:
            return READY
        n = reads.get(addr, 0)
        reads[addr] = n + 1
        return answer(n)

    system = case.system()
    ppb_reads: dict[int, int] = {}

    def ppb_read(addr: int) -> int | None:
        answer = system.get(addr)
        if answer is None:
            return None
        n = ppb_reads.get(addr, 0)
        ppb_reads[addr] = n + 1
        return answer(n)

    bare = bare_unicorn(board, fw, mmio_read, (case.cmdline or "").encode(),
                        case.writes(bytearray() if console is None else console) if case.writes is not None else None,
                        ppb_read if system else None)
    try:
        if bare.pc is None:
            return 0.0, None, 0
        uc, pc, code = bare.uc, bare.pc, bare.exit_code
        if counter is not None:
            count_instructions(uc, counter)
        uc.mem_map(STOP_ADDR, 0x1000)
        uc.mem_write(STOP_ADDR, b"\xfe\xe7" * 0x800)  # b .
        handler = fw.symbol(case.handler).addr if case.handler else None
        spent, wakes = 0.0, 0
        saved = (R.UC_ARM_REG_R0, R.UC_ARM_REG_R1, R.UC_ARM_REG_R2, R.UC_ARM_REG_R3, R.UC_ARM_REG_R12,
                 R.UC_ARM_REG_LR, R.UC_ARM_REG_XPSR)
        while code[0] is None and spent < timeout_s:
            t0 = time.thread_time()
            try:
                uc.emu_start(pc | 1, 0xFFFFFFFE, timeout=int(max(timeout_s - spent, 0.01) * 1e6))
            except unicorn.UcError:
                return spent + time.thread_time() - t0, None, wakes
            spent += time.thread_time() - t0
            if code[0] is not None:
                break
            pc = uc.reg_read(R.UC_ARM_REG_PC)
            if bytes(uc.mem_read(pc - 2, 2)) != b"\x30\xbf":  # not stopped by a wfi: timeout or a stop
                return spent, None, wakes
            wakes += 1
            if handler is not None:  # the interrupt the wfi waited for: its handler, called as a function
                keep = [uc.reg_read(r) for r in saved]
                uc.reg_write(R.UC_ARM_REG_LR, STOP_ADDR | 1)
                t0 = time.thread_time()
                uc.emu_start(handler | 1, STOP_ADDR)
                spent += time.thread_time() - t0
                for r, v in zip(saved, keep, strict=True):
                    uc.reg_write(r, v)
        return spent, code[0], wakes
    finally:
        release(bare.uc)  # no engine left alive for the next run (_bare.release)


def measure(case: Case, repeat: int) -> Row:
    row = Row(case.label, case.path)
    sim, bare = [], []
    consoles = set()
    for _ in range(repeat):
        dt, row.instructions, row.virtual_s, row.exit_code, row.stop, sensors, console = simcore_run(case)
        sim.append(dt)
        seen = bytearray()
        bare.append(bare_run(case, max(10 * dt, 5.0), console=seen))
        consoles.add(bytes(seen))
    row.simcore_s = min(sim)
    for s in sensors.values():  # what the sensor delivered: PCM samples (microphones) or samples read (IMUs)
        row.samples += int(s.get("samples_delivered", 0) or s.get("accel_samples_read", 0) or 0)
        row.dma_blocks += int(s.get("dma_blocks", 0))
    row.mips = row.instructions / row.simcore_s / 1e6
    row.realtime = row.virtual_s / row.simcore_s
    bt, bcode, row.wakes = min(bare, key=lambda x: x[0])
    if row.stop != "exit":
        row.note = f"simcore stopped: {row.stop}"
    elif bcode is None or bcode != row.exit_code:
        row.note = f"bare run did not reach the same exit (status {bcode}, simcore {row.exit_code})"
    elif case.writes is not None and {re.sub(case.clock_text, "", c.decode()) for c in consoles} != {
            re.sub(case.clock_text, "", console.decode())}:  # the stand-in saw the console: it must be simcore's
        row.note = "bare run's console differs from simcore's (not the same work)"
    else:
        row.bare_s = bt
        row.bare_mips = row.instructions / bt / 1e6
        row.ratio = row.mips / row.bare_mips
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--filter", default="", help="only cases whose label contains this text")
    ap.add_argument("--json", type=Path, help="write every figure here")
    args = ap.parse_args()
    cases = [c for c in CASES if args.filter in c.label]
    print(f"{'case':32s} {'data path':30s} {'instructions':>13s} {'simcore':>8s} {'bare':>8s} {'ratio':>6s} "
          f"{'x real':>7s}  note")
    print(f"{'':32s} {'':30s} {'':>13s} {'MIPS':>8s} {'MIPS':>8s} {'':>6s} {'time':>7s}")
    rows = []
    for case in cases:
        r = measure(case, args.repeat)
        rows.append(r)
        bare = f"{r.bare_mips:8.1f}" if r.bare_mips is not None else f"{'n/a':>8s}"
        ratio = f"{r.ratio:6.3f}" if r.ratio is not None else f"{'n/a':>6s}"
        extra = (f"{r.samples:,} samples" if r.samples else "") + (f" in {r.dma_blocks} DMA blocks" if r.dma_blocks
                                                                     else "")
        print(f"{r.label:32s} {r.path:30s} {r.instructions:13,d} {r.mips:8.1f} {bare} {ratio} {r.realtime:7.1f}  "
              f"{extra + '; ' if extra else ''}{r.virtual_s:.2f} s virtual{'; ' + r.note if r.note else ''}",
              flush=True)
    ratios = [r.ratio for r in rows if r.ratio is not None]
    if ratios:
        print(f"\nratio to bare Unicorn: min {min(ratios):.3f} ({sum(1 for x in ratios if x >= 0.5)} of "
              f"{len(ratios)} cases at >= 0.5; target >= 0.5); best of {args.repeat}, CPU time of the emulating thread")
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in rows], indent=1))


if __name__ == "__main__":
    sys.exit(main())
