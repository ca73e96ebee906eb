"""A peripheral's register-file entries made in one call (``add_entries``: regfile.c's rf_add_entries and its
Python twin) are the entries one add_store/add_reg/map call each made; the bus's model entries keep the names
the model gives (cached with its register table across machines); the polling watch's RAM copies reuse
dropped buffers only when nothing else holds them."""

from __future__ import annotations

import random

import pytest

import simcore.api as sc
import simcore.poll as poll
from simcore.regfile import NOTIFY, PY, NativeRegFile, PyRegFile
from tests.conftest import elf


def _files(native: bool) -> tuple[object, object]:
    make = NativeRegFile if native else PyRegFile
    return make(lambda *a: 0, lambda *a: None), make(lambda *a: 0, lambda *a: None)


def _state(rf: object, n: int, addrs: list[int]) -> tuple[list[dict[str, int]], list[int], list[int]]:
    return [rf.reg(i) for i in range(n)], [rf.value(i) for i in range(rf.n_stores())], [rf.slot(a) for a in addrs]


@pytest.mark.parametrize("native", [True, False])
@pytest.mark.parametrize("seed", range(3))
def test_add_entries_makes_what_one_call_per_entry_made(native: bool, seed: int) -> None:
    rng = random.Random(seed)
    batch, single = _files(native)
    for rf in (batch, single):  # something there already: indices continue after it
        rf.map(0x40000000, rf.add_reg(rf.add_store(7), 0xFF, 0, 0, 0xFF, PY))
    values = [rng.getrandbits(32) for _ in range(rng.randrange(1, 40))]
    addrs = rng.sample(range(0x40001000, 0x40003000, 4), rng.randrange(1, 60))
    recs = [(a, rng.randrange(len(values)), rng.getrandbits(32), rng.getrandbits(32), rng.getrandbits(32),
             rng.getrandbits(32), rng.choice((PY, NOTIFY))) for a in addrs]
    first = batch.add_entries(values, recs)
    store0 = single.n_stores()
    stores = [single.add_store(v) for v in values]
    made = [single.add_reg(stores[s], w, c, s1, r, f) for _a, s, w, c, s1, r, f in recs]
    for rec, index in zip(recs, made, strict=True):
        single.map(rec[0], index)
    assert first == made[0] == 1 and stores[0] == store0
    n = single.count()
    assert batch.count() == n and batch.n_stores() == single.n_stores()
    assert _state(batch, n, [0x40000000, *addrs]) == _state(single, n, [0x40000000, *addrs])
    for a in addrs:  # and they serve accesses alike
        batch.write(a, 4, 0x5A5A5A5A)
        single.write(a, 4, 0x5A5A5A5A)
        assert batch.read(a, 4) == single.read(a, 4)


@pytest.mark.parametrize("native", [True, False])
def test_add_entries_refuses_a_store_beyond_the_new_ones(native: bool) -> None:
    rf, _ = _files(native)
    with pytest.raises((ValueError, MemoryError)):
        rf.add_entries([1, 2], [(0x40000000, 2, 0, 0, 0, 0, PY)])
    assert rf.count() == 0 and rf.n_stores() == 0 and rf.slot(0x40000000) == 0


@pytest.mark.parametrize("native", [True, False])
def test_set_values_masks_to_32_bits_in_order_and_refuses_unequal_lengths(native: bool) -> None:
    """set_values (iterated in C by the native file) writes each value's low 32 bits in order, and with fewer values
    than stores writes those it has, then raises (zip's strict check), as the twin's loop does."""
    rf, _ = _files(native)
    stores = [rf.add_store(0) for _ in range(4)]
    rf.set_values([stores[2], stores[0], stores[2]], [1, -1, (1 << 40) | 5])
    assert rf.values(stores) == [0xFFFFFFFF, 0, 5, 0]
    with pytest.raises(ValueError):
        rf.set_values([stores[1], stores[3]], [9])
    assert [rf.value(s) for s in stores] == [0xFFFFFFFF, 9, 5, 0]



@pytest.mark.parametrize("native", [True, False])
def test_values_read_and_set_by_index_are_the_files_values(native: bool) -> None:
    """``_stores_p`` (the native file's values array, the twin's list under that name: NordicPeripheral.storage, fire
    and _set_event index it without a call) reads and sets what value() and set_value() do, also after more values
    were added (the native array then moves: the file's attribute follows it)."""
    rf, _ = _files(native)
    stores = [rf.add_store(v) for v in (1, 2, 3)]
    rf._stores_p[stores[1]] = 7
    assert [rf._stores_p[s] for s in stores] == [rf.value(s) for s in stores] == [1, 7, 3]
    more = [rf.add_store(v) for v in range(100, 400)]
    rf.set_value(stores[2], 9)
    rf._stores_p[more[-1]] = 11
    assert [rf._stores_p[s] for s in stores + more] == [rf.value(s) for s in stores + more] == [1, 7, 9] + list(
        range(100, 399)) + [11]


def test_model_entries_have_the_models_names_on_every_machine() -> None:
    """Every nRF52840 model's entries: one per aligned 32-bit register slot, named as the model names it; a second
    machine (the names come from the table's cache) gets what its own models say."""
    for _ in range(2):
        m = sc.prepare(elf("nrf52840", "hello"), "nrf52840")
        m.bus.build_all()
        for model in m.peripherals:
            table = getattr(model, "_table", None)
            if table is None:
                continue
            slots = [s for s in table.slots if s.nbytes == 4 and s.start % 4 == 0]
            made = {e.addr: e for e in m.bus.entries.values() if e.model is model}
            assert sorted(made) == sorted(model.base + s.start for s in slots), model.name
            for s in slots:
                e = made[model.base + s.start]
                assert e.name == model.reg_name(s.reg, s.index)
                assert m.bus.rf.slot(e.addr) == e.index + 1 and m.bus.rf.reg(e.index)["store"] == e.store


def test_ram_copies_reuse_a_dropped_buffer_unless_something_holds_it() -> None:
    src = (bytes(range(256)) * 64)[:12345]
    ram = (__import__("ctypes").c_ubyte * len(src)).from_buffer_copy(src)
    poll._SPARE_COPIES.pop(len(src), None)
    first = poll._copy_of(ram)
    assert first == src
    poll._SPARE_COPIES.setdefault(len(src), []).append(first)
    kept = id(first)
    del first
    ram[0] = 0xEE
    again = poll._copy_of(ram)
    assert id(again) == kept and again[0] == 0xEE and again[1:] == src[1:]  # reused, copied in place
    held = [again]  # as a machine snapshot's record would hold it
    poll._SPARE_COPIES[len(src)].append(again)
    del again
    ram[1] = 0x77
    other = poll._copy_of(ram)
    assert other is not held[0] and other[1] == 0x77 and held[0][1] == 1  # the held copy kept what it had
    assert not poll._SPARE_COPIES[len(src)]  # the held one left the spares without being written


def test_plain_registers_are_the_same_from_the_cache_and_follow_the_taken_words() -> None:
    from simcore.peripherals import generic
    from simcore.peripherals.svd import load_table

    group = [p for p in load_table("nrf52840").peripherals if p.name in ("UARTE0", "UART0")]
    words = [p.base + r.offset for p in group for r in p.registers]
    for taken in (set(), set(words[::3])):
        first = generic.plain_registers(group, taken.__contains__)
        again = generic.plain_registers(group, taken.__contains__)
        assert first == again == generic._plain_registers(tuple(group), taken.__contains__)
        assert first is not again  # a list of its own each time
        assert not {r.addr for r in first} & taken
    assert len(generic.plain_registers(group, set(words[::3]).__contains__)) < len(generic.plain_registers(group))


def test_register_blocks_reset_to_their_own_copy_of_the_reset_values() -> None:
    m = sc.prepare(elf("nrf52840", "hello"), "nrf52840")
    nvic = m.system.nvic
    table = nvic._table
    expected = {slot.key: slot.reg.reset for slot in table.slots}
    nvic.reset()
    assert nvic.values == expected and table.resets == expected
    nvic.values[next(iter(expected))] = 0x5A
    other = sc.prepare(elf("nrf52840", "hello"), "nrf52840").system.nvic
    other.reset()
    assert other.values == expected and table.resets == expected  # a write to one block reached neither
