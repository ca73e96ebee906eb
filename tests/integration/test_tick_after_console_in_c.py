"""The Nano 33 BLE Sense's console line inside a tick served in C, and the tick's compare still woken in C after it.

Every 4th RTC1 tick the Rev1 imu_steps_bus prints a line (UARTE0: TXD.PTR, TXD.MAXCNT, TASKS_STARTTX and a poll of
EVENTS_ENDTX) between its FIFO drain and the wfi before the next compare. The arming after the tick's FIFO_SRC read
plans C's wake of that compare (after the TWIM flight C wakes, Machine._arm_events), and hp_uarte_start used to
refuse a STARTTX while a wake was planned: the write entered Python, the arming after it planned the transfer's end
(hp_apply) and no wake, so the wfi stopped in Python and the firmware's CC[0] write after that Python wake did too
(three entries, 16 compares a run not woken in C). Now C serves the STARTTX with the wake planned at the next stop
(its end then comes before it) and wakes the compare after the end (fr_done 64 allowed there and at hp_cc_move);
Python's next sync settles the transfer (settle_uarte) before the wake and the compare move, the firmware's order.
The guest must see what it sees with STARTTX through the model and with the Python hot path; a snapshot taken at the
sync that settles such a tick, restored twice, must end as the plain run.
"""

from __future__ import annotations

import pytest

from simcore.peripherals.nrf52.uarte import Nrf52Uarte
from tests.integration.test_twim_read_in_c import _run
from tests.integration.test_wfi_wake_in_c import TICK_S, _machine, pause_after_settled, restored_twice_ends_as

pytestmark = pytest.mark.usefixtures("per_tick_paths")  # each tick through the per-tick paths


def test_console_ticks_keep_their_compare_woken_in_c(monkeypatch: pytest.MonkeyPatch) -> None:
    _run(240)  # (the block cache filled first: a cold one's first executions of divide blocks stop too)
    fast, m, starts = _run(240)
    ticks = int(m.now_seconds() / TICK_S)
    assert "steps in" in fast[0] and ticks >= 15
    # every tick's compare woken and moved in C but the first (no TWIM flight before it)
    assert ticks - 2 <= m.wakes_in_c <= ticks and m.moves_in_c == m.wakes_in_c and m.uarte_starts_in_c >= 5
    monkeypatch.setattr(Nrf52Uarte, "TX_START_IN_C", False)  # STARTTX through the model: its tick enters Python
    slow, m1, slow_starts = _run(240)
    assert m1.uarte_starts_in_c == 0 and slow == fast
    # (the console ticks among them, 2 in 240 frames: each a compare woken and moved in C more, a run-loop stop fewer)
    assert m.wakes_in_c - m1.wakes_in_c >= 2 and slow_starts - starts >= 2
    monkeypatch.undo()
    twin, _, _ = _run(240, native=False)
    assert twin == fast


def test_a_snapshot_at_a_console_ticks_settle_restored_twice_ends_as_the_plain_run() -> None:
    plain, _, _ = _run(240)
    m = _machine(240)
    m = pause_after_settled(m, "settle_uarte", 2, "console tick settled", when=lambda: m.moves_in_c > 0)
    restored_twice_ends_as(m, plain, lambda: m.wakes_in_c)
