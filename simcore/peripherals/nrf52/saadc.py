"""nRF52840 SAADC (Product Specification v1.7, section 6.23): successive-approximation ADC with EasyDMA.

Channels 0-7 are enabled by ``CH[n].PSELP`` (AIN0-7 = 1-8, VDD = 9, VDDHDIV5 = 0x0D; 0: off).
``TASKS_START`` readies EasyDMA (``EVENTS_STARTED``) on ``RESULT.PTR``; each ``TASKS_SAMPLE``
converts every enabled channel in channel order, each taking its acquisition time
(``CONFIG.TACQ``: 3, 5, 10, 15, 20 or 40 us) plus 2 us of conversion, times 2^``OVERSAMPLE``
(averaged); it writes one 16-bit result per channel (``EVENTS_RESULTDONE``, ``EVENTS_DONE``) and,
when ``RESULT.MAXCNT`` results are in the buffer, ``EVENTS_END`` (``RESULT.AMOUNT``). Until the next
``TASKS_START`` further SAMPLE tasks are ignored (counted). ``SAMPLERATE.MODE`` = 1 samples on the
SAADC's own timer every ``SAMPLERATE.CC`` / 16 MHz after one SAMPLE task. ``TASKS_STOP`` gives
``EVENTS_STOPPED``; ``TASKS_CALIBRATEOFFSET`` gives ``EVENTS_CALIBRATEDONE`` (simcore's converter has no
offset). ``CH[n].LIMIT`` gives ``EVENTS_CH[n].LIMITH`` / ``LIMITL`` for results above HIGH / below LOW.

The result (PS 6.23.?, "Digital output"): RESULT = (V(P) - V(N)) x GAIN / REFERENCE x
2^(RESOLUTION - m), m = 0 single-ended (V(N) = 0) and 1 differential, rounded and clipped to
the range of the resolution; GAIN from ``CONFIG.GAIN`` (1/6 .. 4), REFERENCE 0.6 V (internal) or
VDD/4. Input voltages come from a recording: ``--sensor saadc=volts.csv`` with a column per
analog input (``AIN0``..``AIN7``, volts), the value in effect at the end of each channel's
acquisition (sample-and-hold); VDD is the option ``vdd`` (default 3.0 V).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from simcore.clock import FS_PER_SECOND
from simcore.errors import BadInputError
from simcore.peripherals import register_model
from simcore.peripherals.nrf52.common import NordicPeripheral
from simcore.peripherals.nrf52.dma import EasyDma
from simcore.registers import Register

US = FS_PER_SECOND // 1_000_000
TACQ_US = (3, 5, 10, 15, 20, 40, 40, 40)
T_CONV_US = 2
GAINS = (1 / 6, 1 / 5, 1 / 4, 1 / 3, 1 / 2, 1.0, 2.0, 4.0)
EV_STARTED, EV_END, EV_DONE, EV_RESULTDONE, EV_CALIBRATEDONE, EV_STOPPED = 0, 1, 2, 3, 4, 5
EV_LIMITH = 6  # EVENTS_CH[n].LIMITH at 6 + 2n, LIMITL at 7 + 2n


class Voltages:
    """Analog inputs AIN0-7 from a recording (volts), zero-order hold on virtual time."""

    def __init__(self, label: str, path: str, options: dict[str, Any]) -> None:
        from simcore.sources import open_source

        self.source = open_source(Path(path), **options)
        self.columns: dict[int, int] = {}
        for col, name in enumerate(self.source.channels):
            m = re.fullmatch(r"(?:AIN|A|CH)?(\d)", name.strip().upper())
            if m is None or int(m.group(1)) > 7:
                raise BadInputError(f"sensor {label}: the recording {path} has a column {name!r}; name the columns of "
                                    "an SAADC recording after the analog inputs, AIN0..AIN7 (volts)")
            unit = self.source.units[col]
            if unit not in ("", "V"):
                raise BadInputError(f"sensor {label}: column {name!r} of {path} is in {unit}, not volts")
            self.columns[int(m.group(1))] = col
        if len(self.source) == 0:
            raise BadInputError(f"sensor {label}: the recording {path} has no samples")
        if len(self.source.sample_shape) != 1:
            raise BadInputError(f"sensor {label}: the recording {path} holds frames, not voltages")

    @property
    def path(self) -> str:
        return str(self.source.path)

    def volts(self, ain: int, seconds: float) -> float:
        col = self.columns.get(ain)
        if col is None:
            return 0.0
        return float(self.source.sample_at(seconds)[0][col])


@register_model
class Nrf52Saadc(NordicPeripheral):
    """SAADC of the nRF52840 (see the module docstring)."""

    TYPE = "nrf52_saadc"
    SVD = "SAADC"
    PLAIN = ("ENABLE", "RESOLUTION", "OVERSAMPLE", "SAMPLERATE", "RESULT_PTR", "RESULT_MAXCNT", "RESULT_AMOUNT")
    REGISTERS = NordicPeripheral.REGISTERS + (
        Register("CH_PSELP", 0x510, count=8, stride=16),
        Register("CH_PSELN", 0x514, count=8, stride=16),
        Register("CH_CONFIG", 0x518, count=8, stride=16, reset=0x00020000),
        Register("CH_LIMIT", 0x51C, count=8, stride=16, reset=0x7FFF8000),
    )
    OPTIONS = {
        "source": "recording of the analog inputs (columns AIN0..AIN7, volts), laid on virtual time",
        "source_options": "table of options for open_source (end, rate_hz, columns, ...)",
        "vdd": "supply voltage in volts (default 3.0): the VDD input and the VDD/4 reference",
    }

    def __init__(self, config: Any, host: Any, registers: Any = None) -> None:
        self.dma = EasyDma(host, self)
        self.vdd = float(config.options.get("vdd", 3.0))
        self.inputs: Voltages | None = None
        if config.options.get("source") is not None:
            self.inputs = Voltages(config.name, str(config.options["source"]),
                                   dict(config.options.get("source_options", {})))
        self.started = False  # EasyDMA ready on a buffer (START done, END not yet)
        self.busy: Any = None  # the conversion under way
        self._timer: Any = None
        self.stats = {"samples": 0, "results": 0, "buffers": 0, "ignored_samples": 0}
        super().__init__(config, host, registers)

    def reg_name(self, reg: Register, index: int = 0) -> str:
        if reg.name.startswith("CH_"):
            return f"{self.svd_name}.CH[{index}].{reg.name[3:]}"
        return super().reg_name(reg, index)

    # --- conversion ----------------------------------------------------------------------------------
    def channels(self) -> list[int]:
        return [n for n in range(8) if self.values[f"CH_PSELP{n}"] & 0x1F]

    def _volts(self, sel: int, seconds: float) -> float:
        sel &= 0x1F
        if 1 <= sel <= 8:
            return self.inputs.volts(sel - 1, seconds) if self.inputs is not None else 0.0
        if sel == 9:
            return self.vdd
        if sel == 0x0D:
            return float(self.config.options.get("vddh", 5.0)) / 5
        return 0.0

    def result(self, n: int, seconds: float) -> int:
        """Channel ``n``'s result for inputs sampled at ``seconds`` (PS 6.23, "Digital output")."""
        cfg = self.values[f"CH_CONFIG{n}"]
        diff = cfg >> 20 & 1
        vp = self._volts(self.values[f"CH_PSELP{n}"], seconds)
        vn = self._volts(self.values[f"CH_PSELN{n}"], seconds) if diff else 0.0
        gain = GAINS[cfg >> 8 & 7]
        ref = self.vdd / 4 if cfg >> 12 & 1 else 0.6
        bits = (8, 10, 12, 14)[self.values["RESOLUTION"] & 3]
        code = round((vp - vn) * gain / ref * (1 << (bits - diff)))
        lo, hi = -(1 << (bits - 1)), (1 << (bits - diff)) - 1  # single-ended results may dip below 0
        return max(lo, min(hi, code))

    def task_START(self) -> None:
        if not self.values["ENABLE"] & 1:
            self.guest_error(f"{self.svd_name}.TASKS_START", "task triggered while ENABLE = 0: ignored")
            return
        self.started = True
        self.values["RESULT_AMOUNT"] = 0
        self._ptr = self.values["RESULT_PTR"]
        self._max = self.values["RESULT_MAXCNT"] & 0x7FFF
        self.fire(EV_STARTED)

    def task_SAMPLE(self) -> None:
        if not self.started or self.busy is not None or not self.values["ENABLE"] & 1:
            self.stats["ignored_samples"] += 1
            return
        chans = self.channels()
        if not chans:
            return
        oversample = 1 << (self.values["OVERSAMPLE"] & 0xF)
        now = self.host.now_fs()
        times = []
        t = now
        for n in chans:
            tacq = TACQ_US[self.values[f"CH_CONFIG{n}"] >> 16 & 7] * US
            times.append(t + tacq)
            t += (tacq + T_CONV_US * US) * oversample
        self.stats["samples"] += 1
        self.busy = self.host.schedule_at_fs(t, lambda: self._converted(chans, times), f"{self.svd_name} conversion")
        if self.values["SAMPLERATE"] >> 12 & 1 and self._timer is None:
            self._tick_timer()

    def _tick_timer(self) -> None:
        cc = self.values["SAMPLERATE"] & 0x7FF
        if cc < 80 or not self.started:
            self._timer = None
            return
        self._timer = self.host.schedule_at_fs(self.host.now_fs() + cc * FS_PER_SECOND // 16_000_000,
                                               self._timer_fired, f"{self.svd_name} sample timer")

    def _timer_fired(self) -> None:
        self._timer = None
        self.task_SAMPLE()
        if self._timer is None:
            self._tick_timer()

    def _converted(self, chans: list[int], times: list[int]) -> None:
        self.busy = None
        for n, at in zip(chans, times, strict=True):
            if not self.started:
                break
            code = self.result(n, at / FS_PER_SECOND)
            k = self.values["RESULT_AMOUNT"]
            self.dma.write(self._ptr + 2 * k, (code & 0xFFFF).to_bytes(2, "little"), "RESULT.PTR")
            self.values["RESULT_AMOUNT"] = k + 1
            self.stats["results"] += 1
            self.fire(EV_DONE)
            self.fire(EV_RESULTDONE)
            limit = self.values[f"CH_LIMIT{n}"]
            high, low = _s16(limit >> 16), _s16(limit)
            if code > high:
                self.fire(EV_LIMITH + 2 * n)
            if code < low:
                self.fire(EV_LIMITH + 2 * n + 1)
            if k + 1 >= self._max:
                self.started = False
                self.stats["buffers"] += 1
                self.fire(EV_END)  # a PPI route END -> START may start the next buffer here
                if not self.started:
                    break

    def task_STOP(self) -> None:
        if self.busy is not None:
            self.host.cancel(self.busy)
            self.busy = None
        if self._timer is not None:
            self.host.cancel(self._timer)
            self._timer = None
        self.started = False
        self.fire(EV_STOPPED)

    def task_CALIBRATEOFFSET(self) -> None:
        self.fire(EV_CALIBRATEDONE)

    def read_STATUS(self) -> int:
        return int(self.busy is not None)

    def sensor_stats(self) -> dict[str, Any] | None:
        if not self.stats["samples"] and self.inputs is None:
            return None
        out: dict[str, Any] = {"name": self.name, "type": self.TYPE, **self.stats}
        if self.inputs is not None:
            out["source"] = self.inputs.path
        return out


def _s16(v: int) -> int:
    v &= 0xFFFF
    return v - 0x10000 if v & 0x8000 else v
