"""nRF52840 CLOCK and POWER (Product Specification v1.7, sections 5.4 and 5.3): one block at 0x40000000.

CLOCK and POWER share peripheral ID 0 (one window, one interrupt, one INTEN), so one model
implements both, with the registers of both SVD peripherals.

Clocks (PS 5.4): the CPU runs at 64 MHz from HFCLK whatever its source; ``TASKS_HFCLKSTART``
starts the 64 MHz crystal oscillator (HFXO), which is running ``HFXODEBOUNCE`` x 16 us later
(reset value 0x10: 256 us), then ``EVENTS_HFCLKSTARTED`` and ``HFCLKSTAT`` = Xtal, running.
``TASKS_LFCLKSTART`` starts the 32.768 kHz clock from the source in ``LFCLKSRC`` (copied to
``LFCLKSRCCOPY``): RC oscillator (LFRC, 600 us), crystal (LFXO, 0.25 s) or synthesized from
HFCLK (LFSYNT, 1 ms); typical start-up times of the PS's electrical specifications. Until then
the LFCLK does not run, and neither do the RTCs. The model is the part's clock model
(docs/clocks.md): ``HCLK`` 64 MHz, ``PCLK16M`` and ``PCLK1M`` (the TIMERs, UARTE baud
generators, SAADC), ``LFCLK`` (the RTCs, WDT) at 32768 Hz or 0 while stopped. The clock
timeline shows the HFCLK source (HFINT, HFXO).

Calibration (PS 5.4.4): ``TASKS_CTSTART`` runs the calibration timer, ``EVENTS_CTTO`` after
``CTIV`` x 0.25 s; ``TASKS_CAL`` (LFRC running) ends with ``EVENTS_DONE`` at once (simcore's
LFRC is exact, there is nothing to calibrate).

POWER (PS 5.3): ``RESETREAS`` (0 after power-on; write 1 to clear a bit), ``GPREGRET`` and
``GPREGRET2`` (retained registers), ``DCDCEN``, ``POFCON`` and the RAM power registers are
storage. A reset of the part that simcore performs (the WDT's) keeps ``RESETREAS`` (with the
cause's bit set: ``DOG``), ``GPREGRET`` and ``GPREGRET2``; the clocks go back to HFINT with the
LFCLK stopped. ``SYSTEMOFF`` = 1 enters System OFF, which ends the run (only a reset wakes the part,
and simcore does not reboot the image). ``TASKS_CONSTLAT``/``TASKS_LOWPWR`` select a sub-power
mode and change nothing simcore models.
"""

from __future__ import annotations

from typing import Any

from simcore.clock import FS_PER_SECOND
from simcore.peripherals import register_model
from simcore.peripherals.nrf52.common import NordicPeripheral
from simcore.runtypes import Stop, StopKind

HCLK_HZ = 64_000_000.0
LFCLK_HZ = 32768.0
US = FS_PER_SECOND // 1_000_000
LF_START_FS = {0: 600 * US, 1: FS_PER_SECOND // 4, 2: 1000 * US}  # LFRC, LFXO, LFSYNT (PS typical)
LF_SOURCES = {0: "LFRC", 1: "LFXO", 2: "LFSYNT"}
# event indices (offset - 0x100) / 4
EV_HFCLKSTARTED, EV_LFCLKSTARTED, EV_DONE, EV_CTTO = 0, 1, 3, 4
EV_CTSTARTED, EV_CTSTOPPED = 10, 11


@register_model
class Nrf52Clock(NordicPeripheral):
    """CLOCK and POWER of the nRF52840 (see the module docstring); the part's clock model."""

    TYPE = "nrf52_clock"
    SVD = "CLOCK"
    SVD_ALSO = ("POWER",)
    PLAIN = ("LFCLKSRC", "HFXODEBOUNCE", "CTIV", "TRACECONFIG", "LFRCMODE",
             "GPREGRET", "GPREGRET2", "DCDCEN", "DCDCEN0", "POFCON")
    OPTIONS = {"resetreas": "RESETREAS at the start of the run (default 0: power-on reset)"}

    def __init__(self, config: Any, host: Any, registers: Any = None) -> None:
        self.hfxo = False  # the 64 MHz crystal oscillator runs
        self.lf_running = False
        self.lf_source = 0
        self._hf_event: Any = None
        self._lf_event: Any = None
        self._ct_event: Any = None
        self.constant_latency = False  # POWER sub-power mode (TASKS_CONSTLAT / TASKS_LOWPWR)
        self.system_off = False
        super().__init__(config, host, registers)
        self.values["RESETREAS"] = int(config.options.get("resetreas", 0))

    RESET_CAUSES = {"wdt": 1 << 1, "software": 1 << 2, "lockup": 1 << 3}  # RESETREAS bits (PS 5.3.7.1)
    RETAINED = ("RESETREAS", "GPREGRET", "GPREGRET2")  # kept through every reset but power-on

    def reset(self) -> None:
        """Power-on reset of CLOCK and POWER (the run's start)."""
        for attr in ("_hf_event", "_lf_event", "_ct_event"):
            ev = getattr(self, attr, None)
            if ev is not None:
                self.host.cancel(ev)
            setattr(self, attr, None)
        super().reset()
        was = self.hfxo or self.lf_running
        self.hfxo = False
        self.lf_running = False
        self.lf_source = 0
        if was:
            self._changed()

    def system_reset(self) -> None:
        """A reset of the part other than power-on: the retained registers survive (PS 5.3.6 "Reset behavior")."""
        keep = {name: self.values[name] for name in self.RETAINED}
        self.reset()
        self.values.update(keep)

    def note_reset(self, cause: str) -> None:
        """The machine reset the part for ``cause``: set its RESETREAS bit (cumulative until written 1)."""
        self.values["RESETREAS"] |= self.RESET_CAUSES.get(cause, 0)

    # --- the clock model (docs/clocks.md) --------------------------------------------------------
    def clock_tree(self) -> dict[str, float]:
        lf = LFCLK_HZ if self.lf_running else 0.0
        return {"HCLK": HCLK_HZ, "SYSCLK": HCLK_HZ, "FCLK": HCLK_HZ, "HFCLK": HCLK_HZ, "PCLK16M": 16e6,
                "PCLK1M": 1e6, "PCLK32KI": lf, "LFCLK": lf}

    def core_source(self) -> str:
        return "HFXO" if self.hfxo else "HFINT"

    def _changed(self) -> None:
        changed = getattr(self.host, "clock_tree_changed", None)
        if changed is not None:
            changed(self)

    def _after(self, fs: int, fn: Any, tag: str) -> Any:
        return self.host.schedule_at_fs(self.host.now_fs() + fs, fn, f"{self.svd_name} {tag}")

    # --- HFCLK -----------------------------------------------------------------------------------
    def task_HFCLKSTART(self) -> None:
        self.values["HFCLKRUN"] = 1
        if self.hfxo:
            self.fire(EV_HFCLKSTARTED)
            return
        if self._hf_event is None:
            debounce = (self.values["HFXODEBOUNCE"] & 0xFF) or 0x10
            self._hf_event = self._after(debounce * 16 * US, self._hfxo_started, "HFXO started")

    def _hfxo_started(self) -> None:
        self._hf_event = None
        self.hfxo = True
        self._changed()
        self.fire(EV_HFCLKSTARTED)

    def task_HFCLKSTOP(self) -> None:
        self.values["HFCLKRUN"] = 0
        if self._hf_event is not None:
            self.host.cancel(self._hf_event)
            self._hf_event = None
        if self.hfxo:
            self.hfxo = False
            self._changed()

    def read_HFCLKRUN(self) -> int:
        return self.values["HFCLKRUN"]

    def read_HFCLKSTAT(self) -> int:
        return (1 << 16) | int(self.hfxo)  # STATE: HFCLK runs (the CPU needs it); SRC: 1 = Xtal

    # --- LFCLK -----------------------------------------------------------------------------------
    def task_LFCLKSTART(self) -> None:
        src = self.values["LFCLKSRC"]
        self.values["LFCLKRUN"] = 1
        self.values["LFCLKSRCCOPY"] = src
        if self.lf_running and self.lf_source == src & 3:
            self.fire(EV_LFCLKSTARTED)
            return
        if self._lf_event is not None:
            self.host.cancel(self._lf_event)
        if src & 3 == 3:
            self.guest_error(self.where("LFCLKSRC"), "SRC = 3 is reserved; the LFCLK does not start")
            self._lf_event = None
            return
        self._lf_event = self._after(LF_START_FS[src & 3], lambda: self._lf_started(src & 3),
                                     f"{LF_SOURCES[src & 3]} started")

    def _lf_started(self, source: int) -> None:
        self._lf_event = None
        self.lf_source = source
        if not self.lf_running:
            self.lf_running = True
            self._changed()
        self.fire(EV_LFCLKSTARTED)

    def task_LFCLKSTOP(self) -> None:
        self.values["LFCLKRUN"] = 0
        if self._lf_event is not None:
            self.host.cancel(self._lf_event)
            self._lf_event = None
        if self.lf_running:
            self.lf_running = False
            self._changed()

    def read_LFCLKRUN(self) -> int:
        return self.values["LFCLKRUN"]

    def read_LFCLKSTAT(self) -> int:
        return (int(self.lf_running) << 16 | self.lf_source) if self.lf_running else 0

    def read_LFCLKSRCCOPY(self) -> int:
        return self.values["LFCLKSRCCOPY"]

    # --- calibration -------------------------------------------------------------------------------
    def task_CAL(self) -> None:
        if not (self.lf_running and self.lf_source == 0):
            self.guest_error(self.where("TASKS", 4), "calibration needs the LFCLK running from the LFRC")
            return
        self.fire(EV_DONE)

    def task_CTSTART(self) -> None:
        if self._ct_event is not None:
            self.host.cancel(self._ct_event)
        interval = (self.values["CTIV"] & 0x7F) * FS_PER_SECOND // 4
        self.fire(EV_CTSTARTED)
        if interval:
            self._ct_event = self._after(interval, self._ct_timeout, "calibration timer")

    def _ct_timeout(self) -> None:
        self._ct_event = None
        self.fire(EV_CTTO)

    def task_CTSTOP(self) -> None:
        if self._ct_event is not None:
            self.host.cancel(self._ct_event)
            self._ct_event = None
        self.fire(EV_CTSTOPPED)

    # --- POWER -----------------------------------------------------------------------------------
    def task_CONSTLAT(self) -> None:
        self.constant_latency = True

    def task_LOWPWR(self) -> None:
        self.constant_latency = False

    def write_RESETREAS(self, value: int) -> None:
        self.values["RESETREAS"] &= ~value  # write 1 to clear (PS 5.3.7.1)

    def read_USBREGSTATUS(self) -> int:
        return 0  # no VBUS

    def read_MAINREGSTATUS(self) -> int:
        return 0  # normal voltage mode (VDDH not used)

    def write_SYSTEMOFF(self, value: int) -> None:
        if not value & 1:
            return
        stop = getattr(self.host, "request_stop", None)
        pc = self.host.pc() if hasattr(self.host, "pc") else None
        message = ("the part entered System OFF (POWER.SYSTEMOFF = 1): only a reset wakes it, and simcore does not "
                   "reboot the image")
        self.system_off = True
        if stop is not None:
            stop(Stop(StopKind.SLEEPING, message, pc=pc, details={"system_off": True}))
