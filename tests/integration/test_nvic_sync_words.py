"""SystemBlock._sync_nvic reads C's NVIC change words through one uint32 view of the hot state, and keeps the bits of
the ICPR words it has seen (fifteenth round, issues 12 and 16).

The view must be the hot state's fields (a wrong offset would read or zero another field), the kept bits must be
those of the word and of its NVIC word (a key without the word number would apply word 0's interrupts to word 1),
and an ICPR of a level-sensitive line still high must pend it again (ExceptionModel.unpend), as the Python path does.
"""

from __future__ import annotations

from simcore.abi import EV_SLOTS, NV_WORDS, HotState
from simcore.cortexm import system as system_block
from simcore.cortexm.exceptions import IRQ0
from tests.conftest import started

ICPR = 0xE000E280
CHANGE_WORDS = ("nv_en_set", "nv_en_clr", "nv_prio_set", "nv_pended", "nv_listed", "nv_unpended")


def test_the_view_reads_and_zeroes_the_hot_state_fields() -> None:
    m = started("nrf52840", "nested", True)
    s = m.hot.state
    words = m.system._nv_words()
    for w in range(NV_WORDS):
        for i, name in enumerate(CHANGE_WORDS):
            getattr(s, name)[w] = 0x1000 * (i + 1) + w
        assert system_block._NV_GET[w](words) == tuple(0x1000 * (i + 1) + w for i in range(len(CHANGE_WORDS)))
    for w in range(NV_WORDS):  # the part's interrupts only (nRF52840: 48, words 0 and 1)
        for i, name in enumerate(CHANGE_WORDS):
            getattr(s, name)[w] = (i + 1) << 4 if w < 2 else 0
    s.nv_dirty = 3
    m.system._sync_nvic()
    for name in CHANGE_WORDS:  # every kind of every dirty word consumed, through the view
        assert list(getattr(s, name)) == [0] * NV_WORDS, name
    e = m.system.exc
    # on: bit 4, off: bit 5, pended: bit 6, listed: bits 4 and 6, unpended: bits 5 and 6 (ICPR last)
    assert s.nv_dirty == 0 and e.enabled[IRQ0 + 4] == e.enabled[IRQ0 + 36] == 1
    assert e.enabled[IRQ0 + 5] == e.enabled[IRQ0 + 37] == 0
    assert not {IRQ0 + 6, IRQ0 + 38} & e.pending
    assert {IRQ0 + 4, IRQ0 + 6, IRQ0 + 36, IRQ0 + 38} <= set(m.system._pend_armed)


def test_the_clear_slots_views_are_the_hot_state_ev_armed_and_ev_cleared() -> None:
    m = started("nrf52840", "nested", True)
    s = m.hot.state
    sys_ = m.system
    words = sys_._nv_words()
    a, c = HotState.ev_armed.offset // 4, HotState.ev_cleared.offset // 4
    armed, cleared = words[a:a + EV_SLOTS], words[c:c + EV_SLOTS]
    for k in range(EV_SLOTS):
        armed[k] = k + 1
        cleared[k] = 10 * k + 1
    assert list(s.ev_armed) == [k + 1 for k in range(EV_SLOTS)]
    assert list(s.ev_cleared) == [10 * k + 1 for k in range(EV_SLOTS)]


def test_icpr_bits_kept_per_nvic_word_and_a_line_held_high_pends_again() -> None:
    m = started("nrf52840", "nested", True)
    s = m.hot.state
    e = m.system.exc
    e.set_line(IRQ0 + 3, True)  # a level-sensitive line held high: an ICPR of it pends it again
    for irq in (4, 35, 36):
        e.pend(IRQ0 + irq)
    s.nv_unpended[0] = 1 << 3 | 1 << 4
    s.nv_dirty = 1
    m.system._sync_nvic()
    assert IRQ0 + 3 in e.pending and IRQ0 + 4 not in e.pending and {IRQ0 + 35, IRQ0 + 36} <= e.pending
    s.nv_unpended[1] = 1 << 3 | 1 << 4  # the same word value in NVIC word 1: interrupts 35 and 36
    s.nv_dirty = 2
    m.system._sync_nvic()
    assert IRQ0 + 3 in e.pending and not {IRQ0 + 35, IRQ0 + 36} & e.pending
    e.set_line(IRQ0 + 3, False)
    e.pend(IRQ0 + 4)
    s.nv_unpended[0] = 1 << 3 | 1 << 4  # the kept bits again, no line high now: both unpended
    s.nv_dirty = 1
    m.system._sync_nvic()
    assert not {IRQ0 + 3, IRQ0 + 4} & e.pending
    assert s.nv_unpended[0] == s.nv_unpended[1] == 0


def test_icpr_writes_end_as_on_the_python_path() -> None:
    """ICPR stores served in C and synced end with the pending set the Python twin's model path gives."""
    out = []
    for native in (True, False):
        m = started("nrf52840", "nested", native)
        e = m.system.exc
        m.guard(lambda m=m: m.system.set_irq(2, True))  # held high: pends again after its ICPR
        for irq in (5, 9, 40):
            m.guard(lambda m=m, irq=irq: m.system.pend_irq(irq))
        for addr, value in ((ICPR, 1 << 2 | 1 << 5), (ICPR + 4, 1 << 8), (ICPR, 1 << 9)):
            m.uc.mem_write(addr, value.to_bytes(4, "little"))
        if m.hot.native and m.hot.state.fr_done:
            m.system.sync_native()
        out.append(sorted(e.pending))
    assert out[0] == out[1] == [IRQ0 + 2]
