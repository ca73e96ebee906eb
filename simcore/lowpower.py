"""Stop and Standby on the STM32 parts: ``wfi``/``wfe`` with ``SCB.SCR.SLEEPDEEP`` set.

With SLEEPDEEP clear, ``wfi`` is Sleep: the core clock keeps counting and everything runs
(simcore/cortexm/system.py ``on_halt``). With SLEEPDEEP set, the PWR model says which deep-sleep
mode the firmware chose (``deep_sleep_mode()``: F4 ``CR.PDDS``/``LPDS``, L4 ``CR1.LPMS``) and
this module carries it out (RM0090 5.3.4-5.3.5, RM0432 6.3.6-6.3.9):

- **Stop** (F4 "stop", "stop_lp"; L4 "stop0"-"stop2"): the RCC model stops SYSCLK, HCLK, the
  APB clocks and the high-speed oscillators (``enter_stop``). No core cycle passes: SysTick, DWT
  and every peripheral counting on a bus clock stand still; the LSE and LSI go on, and with them
  whatever is scheduled at a virtual time on them (an RTC wake-up, the IWDG). Virtual time jumps
  from event to event, as a gap in the clock timeline (a segment of kind "stop"...). The part wakes
  when an event makes an interrupt pending (an EXTI line: an RTC wake-up, a GPIO edge) and restarts
  on HSI 16 MHz (F4) or on the MSI / HSI16 by ``RCC_CFGR.STOPWUCK`` (L4), the PLLs off
  (``exit_stop``); the firmware goes on after its ``wfi``. A watchdog reset ends it too.
- **Standby** and **Shutdown**: the same gap; the wake-up is a reset of the part (the image boots
  again) with ``SBF`` set, and ``WUF``/``WUFI`` when an event (not a watchdog) woke it.

The board file's ``[power] deep_sleep_ua`` gives each mode's current (energy integrates the gaps).
Not modelled: the wake-up latency (a few us), Standby's loss of SRAM (the firmware's start-up
re-initialises what it uses), wake-up pins.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from simcore.runtypes import Stop, StopKind

if TYPE_CHECKING:
    from simcore.machine import Machine

WAKE_EVENT_LIMIT = 1_000_000  # events run in one deep sleep without a wake-up before it is called a hang
STANDBY_MODES = ("standby", "shutdown")


@dataclass
class LowPowerStats:
    """Deep sleeps of a run: how many per mode, the virtual time in each, the first wake-ups."""

    entries: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    wakeups: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"entries": dict(self.entries), "seconds": dict(self.seconds), "wakeups": self.wakeups[:20]}


class LowPower:
    """The machine's deep sleep (see the module docstring): the part's PWR and RCC models do the registers."""

    def __init__(self, machine: Machine, pwr: Any, rcc: Any) -> None:
        self.m = machine
        self.pwr = pwr
        self.rcc = rcc
        self.stats = LowPowerStats()

    @classmethod
    def find(cls, machine: Machine) -> LowPower | None:
        """The part's PWR (``deep_sleep_mode``) and clock model (``enter_stop``), or None on parts without them."""
        pwr = next((p for p in machine.peripherals if hasattr(p, "deep_sleep_mode")), None)
        rcc = next((p for p in machine.peripherals if hasattr(p, "enter_stop")), None)
        return cls(machine, pwr, rcc) if pwr is not None and rcc is not None else None

    def _next_timed_event(self) -> Any:
        """The earliest live event scheduled at a virtual time (what runs on the LSE/LSI while HCLK is off)."""
        best = None
        for ev in self.m.events.heap:
            if ev.cancelled or ev.at_fs is None:
                continue
            if best is None or ev.at_fs < best.at_fs:
                best = ev
        return best

    def deep_sleep(self, pc: int, wfe: bool) -> None:
        """Sleep in the PWR's deep-sleep mode until an interrupt is pending, a reset comes, or nothing can wake."""
        m = self.m
        system = m.system
        exc = system.exc
        mode = self.pwr.deep_sleep_mode()
        s = m.hot.state
        timeline = m.clocks.timeline
        st = self.stats
        st.entries[mode] = st.entries.get(mode, 0) + 1
        start_fs = m.now_fs()
        self.rcc.enter_stop()
        events = 0
        woke = False
        while m.stop is None and not m.reset_pending:
            if exc.highest_pending() is not None or (wfe and system.event_register):
                woke = True
                break
            ev = self._next_timed_event()
            why = None
            if ev is None:
                why = "nothing is scheduled on a clock that runs in it (an RTC wake-up, an EXTI line, the IWDG)"
            elif events >= WAKE_EVENT_LIMIT:
                why = f"{WAKE_EVENT_LIMIT:,} scheduled events ran and none woke it"
            if why is not None:
                m.request_stop(Stop(StopKind.SLEEPING, f"the part sleeps in {mode} mode ({'wfe' if wfe else 'wfi'} "
                                    f"with SLEEPDEEP) at {m.fw.describe(pc)} and {why}: sleeping forever", pc=pc,
                                    details={"mode": mode}))
                break
            timeline.stop(s.cycle_count, ev.at_fs, system.sleep_cycles, kind=mode)
            m.events.retime(timeline.cycle_at)
            m.run_due_events()
            events += 1
        end_fs = m.now_fs()
        st.seconds[mode] = st.seconds.get(mode, 0.0) + (end_fs - start_fs) / 1e15
        wake = {"mode": mode, "seconds": end_fs / 1e15, "slept_seconds": (end_fs - start_fs) / 1e15,
                "function": m.fw.describe(pc)}
        if mode in STANDBY_MODES:
            if woke or m.reset_pending:
                self.pwr.note_standby_wakeup(by_event=woke)
            if woke:
                m.request_reset("standby", f"wake-up from {mode} after {(end_fs - start_fs) / 1e12:.3f} ms")
            wake["woke_by"] = "event" if woke else "reset" if m.reset_pending else "nothing"
        else:
            wake["clock"] = self.rcc.exit_stop() if not m.reset_pending else "reset"
            wake["woke_by"] = "interrupt" if woke else "reset" if m.reset_pending else "nothing"
        st.wakeups.append(wake)
