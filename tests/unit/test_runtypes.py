"""Stop kinds map to exit statuses with no default; the one event queue orders and cancels events."""

from __future__ import annotations

import heapq
import random

import pytest

from simcore import errors
from simcore.runtypes import EXIT_STATUS, AccessKind, EventQueue, Stop, StopKind


@pytest.mark.parametrize("kind", list(StopKind))
def test_every_stop_kind_has_an_exit_status(kind: StopKind) -> None:
    assert kind in EXIT_STATUS  # a new kind without a row fails here (and at import)
    status = Stop(kind, "why", exit_code=7).exit_status
    assert 0 <= status <= 255
    if kind is StopKind.EXIT:
        assert status == 7  # the firmware's own code
    else:
        assert status == EXIT_STATUS[kind]


def test_exit_status_table_matches_the_documented_codes() -> None:
    want = {
        StopKind.PASS_MARKER: 0, StopKind.FAIL_MARKER: 1, StopKind.GUEST_ERROR: 122, StopKind.UNMODELLED: 123,
        StopKind.BUDGET: 124, StopKind.TIMEOUT: 124, StopKind.SPINNING: 125, StopKind.SLEEPING: 125,
        StopKind.WAITING: 125, StopKind.FAULT: 126, StopKind.LOCKUP: 126, StopKind.RESET: 126,
        StopKind.BREAKPOINT: 126, StopKind.INTERNAL_ERROR: 127, StopKind.INTERRUPTED: 130, StopKind.END_OF_DATA: 0,
    }
    assert {k: v for k, v in EXIT_STATUS.items() if v is not None} == want
    assert errors.EXIT_BAD_INPUT not in EXIT_STATUS.values()


def test_stop_kinds_are_strings_in_json_and_comparisons() -> None:
    stop = Stop("fault", "x")  # type: ignore[arg-type]
    assert stop.kind is StopKind.FAULT and stop.kind == "fault"
    with pytest.raises(ValueError):
        Stop("no such kind", "x")  # type: ignore[arg-type]


def test_access_kinds() -> None:
    assert AccessKind.FETCH_PROT.is_fetch and not AccessKind.READ.is_fetch
    assert AccessKind.WRITE_PROT.is_write and AccessKind("write-protected") is AccessKind.WRITE_PROT


def test_event_queue_orders_by_cycle_then_schedule_order_and_skips_cancelled() -> None:
    q = EventQueue()
    fired: list[str] = []
    a = q.schedule(20, lambda: fired.append("a"), "a")
    q.schedule(10, lambda: fired.append("b"), "b")
    q.schedule(20, lambda: fired.append("c"), "c")
    q.schedule(5, lambda: fired.append("d"), "d")
    assert q.next_cycle() == 5 and len(q) == 4
    q.cancel(a)
    assert len(q) == 3 and [e.tag for e in q.live()] == ["d", "b", "c"]
    while (ev := q.pop_due(15)) is not None:
        ev.callback()
    assert fired == ["d", "b"] and q.next_cycle() == 20
    assert q.pop_due(19) is None
    assert q.after_top_cycle(99) == 99  # only one live event left (the cancelled one was dropped)
    q.pop_due(20).callback()  # type: ignore[union-attr]
    assert fired == ["d", "b", "c"] and q.top() is None and q.next_cycle() is None


def test_after_top_cycle_is_a_lower_bound_of_the_second_event() -> None:
    q = EventQueue()
    for c in (30, 10, 50, 20, 40):
        q.schedule(c, lambda: None)
    assert q.top().at_cycle == 10  # type: ignore[union-attr]
    assert q.after_top_cycle(1 << 62) == 20


def test_retimed_events_keep_cycle_then_schedule_order() -> None:
    """EventQueue.retime (a core-clock change) gives events at a virtual time new cycles; the queue's order (its heap
    of (cycle, seq, event) tuples) follows them, ties in schedule order; ``heap``, ``earliest`` and ``live`` show the
    events themselves."""
    q = EventQueue()
    evs = []
    for i, fs in enumerate((400, 100, 300, 200)):
        ev = q.schedule(fs, lambda: None, f"t{i}")
        ev.at_fs = fs
        evs.append(ev)
    fixed = q.schedule(150, lambda: None, "fixed")  # no virtual time: keeps its cycle
    assert q.retime(lambda fs: fs // 100) == 4  # 400 -> 4, 100 -> 1, 300 -> 3, 200 -> 2
    assert q.next_cycle() == 1 and q.pop_due(0) is None  # the retimed cycle, read from the heap's tuples
    assert [e.tag for e in q.live()] == ["t1", "t3", "t2", "t0", "fixed"]
    assert [e.tag for e in q.earliest(2)] == ["t1", "t3"]
    assert sorted(e.tag for e in q.heap) == ["fixed", "t0", "t1", "t2", "t3"]
    assert q.retime(lambda fs: 2) == 3  # all four at cycle 2 now (t3 was): schedule order breaks the tie
    assert [q.pop_due(2).tag for _ in range(4)] == ["t0", "t1", "t2", "t3"]  # type: ignore[union-attr]
    assert q.top() is fixed and q.after_top_cycle(7) == 7


def test_next_cycle_and_pop_due_drop_cancelled_events_at_the_front() -> None:
    """next_cycle and pop_due skip cancelled events at the heap's front as top() does (they do it in line): the
    first live event's cycle, and nothing popped before it is due."""
    q = EventQueue()
    first = [q.schedule(c, lambda: None, f"x{c}") for c in (3, 4, 5)]
    later = q.schedule(9, lambda: None, "later")
    for ev in first:
        q.cancel(ev)
    assert q.next_cycle() == 9 and q.top() is later
    assert q.pop_due(8) is None and q.pop_due(9) is later
    assert q.next_cycle() is None and q.pop_due(1 << 40) is None


@pytest.mark.parametrize("seed", range(3))
def test_earliest_is_the_first_live_events_in_due_order(seed: int) -> None:
    """earliest(k) (the entries sorted in C) gives what heapq.nsmallest over the live events gives: the first ``k``
    live events in (cycle, schedule order), fewer when fewer are live, ties in schedule order."""
    rng = random.Random(seed)
    q = EventQueue()
    evs = [q.schedule(rng.randrange(0, 40), lambda: None, str(i)) for i in range(rng.randrange(1, 30))]
    for ev in rng.sample(evs, len(evs) // 3):
        q.cancel(ev)
    while q.top() is not None and rng.random() < 0.3:
        q.pop_due(1 << 40)
    for k in range(1, len(evs) + 2):
        want = [e[2] for e in heapq.nsmallest(k, (e for e in q._heap if not e[2].cancelled))]
        assert q.earliest(k) == want and all(a is b for a, b in zip(q.earliest(k), want, strict=True))


def test_schedule_at_makes_the_event_with_its_virtual_time() -> None:
    """schedule_at (Machine.schedule_at_fs's) is schedule with the event's virtual time given: one queue, one order."""
    q = EventQueue()
    a = q.schedule(7, lambda: None, "a")
    b = q.schedule_at(5, 123, lambda: None, "b")
    c = q.schedule_at(7, 456, lambda: None, "c")
    assert (b.at_cycle, b.at_fs, b.tag, b.cancelled, b.raises, b.wake, b.apply, b.chain, b.move) == (
        5, 123, "b", False, None, None, None, None, None)
    assert a.at_fs is None and c.at_fs == 456 and [e.tag for e in q.live()] == ["b", "a", "c"]
    assert q.retime(lambda fs: fs // 100) == 2 and [e.tag for e in q.live()] == ["b", "c", "a"]  # 1, 4, then 7
