"""ST HTS221 relative humidity and temperature sensor (datasheet DocID026321), on I2C (5Fh) or SPI.

WHO_AM_I BCh; CTRL_REG1 PD, BDU and ODR (one-shot, 1, 7, 12.5 Hz); CTRL_REG2 ONE_SHOT
(cleared when the measurement is done), BOOT; CTRL_REG3 DRDY enable and DRDY_H_L (active
low); STATUS_REG H_DA / T_DA (cleared by reading the high byte of the output); HUMIDITY_OUT
and TEMP_OUT (16-bit two's complement); the calibration registers 30h-3Fh (H0_rH_x2,
H1_rH_x2, T0_degC_x8 and T1_degC_x8 with their two most significant bits in 35h, H0_T0_OUT,
H1_T0_OUT, T0_OUT, T1_OUT). The outputs are what the part's linear calibration gives for the
recorded temperature and humidity:

    T_OUT = T0_OUT + (T - T0) * (T1_OUT - T0_OUT) / (T1 - T0)     (and the same for humidity)

so firmware that interpolates with the calibration registers, as the datasheet's section 8
and ST's application note describe, recovers the recording to within one output step. The
calibration values are a typical part's (options change them). The recording is the
environment (channels ``temperature`` in C and ``humidity`` in %): each measurement takes the
values in effect at its time, so the recording's rate need not match the ODR. A one-shot
measurement is ready ``conversion_ms`` after ONE_SHOT is set (simcore's assumption; the
datasheet gives no figure). The heater and the averaging configuration are stored only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from simcore.devices import register_device
from simcore.devices.base import FS_PER_SECOND, BusDevice, DeviceConfig, DeviceHost, RateClock, reg8
from simcore.errors import BadInputError
from simcore.registers import Field

if TYPE_CHECKING:
    pass

WHO_AM_I = 0xBC
ODR_HZ = (0.0, 1.0, 7.0, 12.5)
# a typical part: 20.0 C / 35.0 C at T0_OUT / T1_OUT, 33.5 %rH / 73.5 %rH at H0_T0_OUT / H1_T0_OUT
CALIBRATION = {"T0_degC": 20.0, "T1_degC": 35.0, "T0_OUT": 306, "T1_OUT": 1244,
               "H0_rH": 33.5, "H1_rH": 73.5, "H0_T0_OUT": -2150, "H1_T0_OUT": 7850}
TEMP_UNITS = ("C", "degC", "°C", "")
HUM_UNITS = ("%", "%rH", "%RH", "")
Measurement = tuple[str, int] | None


@register_device
class Hts221(BusDevice):
    """HTS221: humidity and temperature with the part's calibration registers, DRDY output."""

    TYPE = "hts221"
    LINES: ClassVar[tuple[str, ...]] = ("DRDY",)
    I2C_ADDRESSES: ClassVar[tuple[int, ...]] = (0x5F,)
    SPI_MODES: ClassVar[frozenset[int]] = frozenset({0, 3})
    OPTIONS: ClassVar[dict[str, str]] = {
        "temperature_channel": "recording channel of the temperature in C (default 'temperature')",
        "humidity_channel": "recording channel of the relative humidity in % (default 'humidity')",
        "calibration": "table of T0_degC, T1_degC, T0_OUT, T1_OUT, H0_rH, H1_rH, H0_T0_OUT, H1_T0_OUT",
        "conversion_ms": "time of a one-shot measurement (default 80 ms)",
    }
    REGISTERS = (
        reg8("WHO_AM_I", 0x0F, access="r", reset=WHO_AM_I),
        reg8("AV_CONF", 0x10, reset=0x1B, fields=(Field("AVGH", 0, 3), Field("AVGT", 3, 3))),
        reg8("CTRL_REG1", 0x20, fields=(Field("ODR", 0, 2, on_write="_changed"), Field("BDU", 2),
                                        Field("PD", 7, on_write="_changed"))),
        reg8("CTRL_REG2", 0x21, fields=(Field("ONE_SHOT", 0, on_write="_one_shot"), Field("HEATER", 1),
                                        Field("BOOT", 7, on_write="_boot"))),
        reg8("CTRL_REG3", 0x22, fields=(Field("DRDY", 2, on_write="_routing"), Field("PP_OD", 6),
                                        Field("DRDY_H_L", 7, on_write="_routing"))),
        reg8("STATUS_REG", 0x27, access="r"),
        reg8("HUMIDITY_OUT_L", 0x28, access="r"), reg8("HUMIDITY_OUT_H", 0x29, access="r"),
        reg8("TEMP_OUT_L", 0x2A, access="r"), reg8("TEMP_OUT_H", 0x2B, access="r"),
        reg8("H0_rH_x2", 0x30, access="r"), reg8("H1_rH_x2", 0x31, access="r"),
        reg8("T0_degC_x8", 0x32, access="r"), reg8("T1_degC_x8", 0x33, access="r"),
        reg8("RESERVED_34", 0x34, access="r"),
        reg8("T1_T0_MSB", 0x35, access="r"),
        reg8("H0_T0_OUT_L", 0x36, access="r"), reg8("H0_T0_OUT_H", 0x37, access="r"),
        reg8("RESERVED_38", 0x38, access="r"), reg8("RESERVED_39", 0x39, access="r"),
        reg8("H1_T0_OUT_L", 0x3A, access="r"), reg8("H1_T0_OUT_H", 0x3B, access="r"),
        reg8("T0_OUT_L", 0x3C, access="r"), reg8("T0_OUT_H", 0x3D, access="r"),
        reg8("T1_OUT_L", 0x3E, access="r"), reg8("T1_OUT_H", 0x3F, access="r"),
    )

    def __init__(self, config: DeviceConfig, host: DeviceHost) -> None:
        cal = dict(CALIBRATION)
        cal.update(config.options.get("calibration", {}))
        unknown = set(cal) - set(CALIBRATION)
        if unknown:
            raise BadInputError(f"device {config.name} (hts221): unknown calibration value(s) "
                                f"{', '.join(sorted(unknown))}; known: {', '.join(CALIBRATION)}")
        self.cal = cal
        self._columns: tuple[int, int] | None = None
        super().__init__(config, host)

    def reset(self) -> None:
        super().reset()
        self.stop_events()
        self._load_calibration()
        self.clock: RateClock | None = None
        self._first = 0
        self._one_shot_at: int | None = None
        self._shot: tuple[int, int] | None = None  # (number, time) of the newest one-shot measurement
        self._last_read: dict[str, Measurement] = {"H": None, "T": None}
        self._latched: dict[str, Measurement] = {"H": None, "T": None}

    def _load_calibration(self) -> None:
        c = self.cal
        t0, t1 = round(c["T0_degC"] * 8), round(c["T1_degC"] * 8)
        for name, v in (("H0_rH_x2", round(c["H0_rH"] * 2)), ("H1_rH_x2", round(c["H1_rH"] * 2)),
                        ("T0_degC_x8", t0 & 0xFF), ("T1_degC_x8", t1 & 0xFF),
                        ("T1_T0_MSB", (t0 >> 8) & 3 | ((t1 >> 8) & 3) << 2)):
            self.values[name] = v
        for name, v in (("H0_T0_OUT", c["H0_T0_OUT"]), ("H1_T0_OUT", c["H1_T0_OUT"]), ("T0_OUT", c["T0_OUT"]),
                        ("T1_OUT", c["T1_OUT"])):
            self.values[f"{name}_L"] = int(v) & 0xFF
            self.values[f"{name}_H"] = (int(v) >> 8) & 0xFF

    def check_recording(self) -> None:
        assert self.source is not None
        src = self.source
        lower = [c.lower() for c in src.channels]
        cols = []
        for opt, default, units, what in (("temperature_channel", "temperature", TEMP_UNITS, "temperature in C"),
                                          ("humidity_channel", "humidity", HUM_UNITS, "relative humidity in %")):
            name = str(self.option(opt, default)).lower()
            if name not in lower:
                raise BadInputError(f"{self.where()}: the recording {src.path} has no channel {name!r} for the "
                                    f"{what} (it has {', '.join(src.channels)}); name it with option {opt}")
            idx = lower.index(name)
            if src.units[idx] not in units:
                raise BadInputError(f"{self.where()}: channel {src.channels[idx]!r} of {src.path} is in "
                                    f"{src.units[idx]}, not {what}")
            cols.append(idx)
        self._columns = (cols[0], cols[1])

    # --- measurements ------------------------------------------------------------------------
    def _time_of(self, m: tuple[str, int]) -> int:
        if m[0] == "shot":
            assert self._shot is not None
            return self._shot[1]
        assert self.clock is not None
        return self.clock.arrival(m[1])

    def outputs(self, m: tuple[str, int]) -> tuple[int, int]:
        """(HUMIDITY_OUT, TEMP_OUT) of measurement ``m``: the calibration line at the recorded values."""
        import numpy as np

        src = self.require_source()
        assert self._columns is not None
        row = src.sample_at(self._time_of(m) / FS_PER_SECOND)[0].astype(np.float64)
        temp, hum = float(row[self._columns[0]]), float(row[self._columns[1]])
        c = self.cal
        t_out = c["T0_OUT"] + (temp - c["T0_degC"]) * (c["T1_OUT"] - c["T0_OUT"]) / (c["T1_degC"] - c["T0_degC"])
        h_out = c["H0_T0_OUT"] + (hum - c["H0_rH"]) * (c["H1_T0_OUT"] - c["H0_T0_OUT"]) / (c["H1_rH"] - c["H0_rH"])
        return int(np.clip(np.rint(h_out), -32768, 32767)), int(np.clip(np.rint(t_out), -32768, 32767))

    def latest(self) -> Measurement:
        """The newest completed measurement: ("odr", k) or ("shot", n), or None."""
        self.catch_up()
        if self.clock is not None:
            k = self.clock.count_by(self.now()) - 1
            if k >= self._first:
                return ("odr", k)
        return ("shot", self._shot[0]) if self._shot is not None else None

    def catch_up(self) -> None:
        if self._one_shot_at is not None and self.now() >= self._one_shot_at:
            self._shot = ((self._shot[0] + 1) if self._shot is not None else 0, self._one_shot_at)
            self._one_shot_at = None
            self.values["CTRL_REG2"] &= ~0x01

    # --- register behaviour ------------------------------------------------------------------
    def _changed(self, old: int, new: int) -> None:
        c1 = self.values["CTRL_REG1"]
        odr = ODR_HZ[c1 & 3] if c1 & 0x80 else 0.0
        if odr:
            self.require_source()
            self.clock = RateClock(odr)
            self._first = self.clock.count_by(self.now())
        else:
            self.clock = None
        self.update()

    def _one_shot(self, old: int, new: int) -> None:
        if not new:
            return
        c1 = self.values["CTRL_REG1"]
        if not c1 & 0x80 or c1 & 3:
            self.guest_error(f"{self.name}.CTRL_REG2.ONE_SHOT", "one-shot needs PD = 1 and ODR = 00 (one-shot "
                             "mode): ignored")
            self.values["CTRL_REG2"] &= ~0x01
            return
        self.require_source()
        self._one_shot_at = self.now() + round(float(self.option("conversion_ms", 80.0)) * 1e12)
        self.update()

    def _boot(self, old: int, new: int) -> None:
        self.values["CTRL_REG2"] &= ~0x80
        self._load_calibration()

    def _out(self, which: str, high: bool) -> int:
        m = self.latest()
        if self.values["CTRL_REG1"] & 0x04:  # BDU: the pair is read from one measurement
            if self._latched[which] is None:
                self._latched[which] = m
            m = self._latched[which]
            if high:
                self._latched[which] = None
        if m is None:
            return 0
        if high:
            self._last_read[which] = m
        h, t = self.outputs(m)
        value = h if which == "H" else t
        return (value >> 8) & 0xFF if high else value & 0xFF

    def read_HUMIDITY_OUT_L(self) -> int:
        return self._out("H", False)

    def read_HUMIDITY_OUT_H(self) -> int:
        return self._out("H", True)

    def read_TEMP_OUT_L(self) -> int:
        return self._out("T", False)

    def read_TEMP_OUT_H(self) -> int:
        return self._out("T", True)

    def _ready(self, which: str) -> bool:
        m = self.latest()
        return m is not None and m != self._last_read[which]

    def read_STATUS_REG(self) -> int:
        return int(self._ready("T")) | int(self._ready("H")) << 1

    def sub_address(self, byte: int) -> tuple[int, bool]:
        return byte & 0x7F, bool(byte & 0x80)

    def spi_command(self, byte: int) -> tuple[bool, int, bool]:
        return bool(byte & 0x80), byte & 0x3F, bool(byte & 0x40)

    def line_levels(self) -> dict[str, bool]:
        c3 = self.values["CTRL_REG3"]
        active = bool(c3 & 0x04) and bool(self.read_STATUS_REG())
        return {"DRDY": active != bool(c3 & 0x80)}

    def next_wakeup(self) -> int | None:
        if self._one_shot_at is not None:
            return self._one_shot_at
        if self.clock is not None and self.values["CTRL_REG3"] & 0x04 and not self.read_STATUS_REG():
            return self.clock.arrival(max(self.clock.count_by(self.now()), self._first))
        return None

    def stats(self) -> dict[str, Any]:
        out = super().stats()
        out["odr_hz"] = self.clock.rate_hz if self.clock is not None else 0.0
        return out
