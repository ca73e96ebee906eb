"""The C/Python ABI of the hot path is checked field by field, and the check catches a drift."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from simcore import abi, blocks
from simcore.hotpath import native_library

NATIVE = Path(abi.__file__).parent / "native"
CC = shutil.which("gcc") or shutil.which("cc")


def test_committed_header_is_generated_from_the_mirrors() -> None:
    assert NATIVE.joinpath("abi.h").read_text() == abi.abi_header(), "run python -m simcore.abi"


def test_the_built_library_has_this_abi() -> None:
    lib = native_library()
    assert lib is not None
    assert lib.hp_abi_digest().decode() == abi.abi_digest()


def test_every_field_of_every_mirror_is_checked() -> None:
    header = abi.abi_header()
    for cname, mirror in abi.STRUCTS:
        for fname, _ in mirror._fields_:
            assert f"offsetof({cname}, {fname}) == {getattr(mirror, fname).offset}" in header
    assert blocks.MASK == abi.CONSTANTS["HP_MASK"]


def _compile(src: Path) -> subprocess.CompletedProcess[str]:
    assert CC is not None
    return subprocess.run([CC, "-std=c11", "-fsyntax-only", str(src / "hotpath.c")], capture_output=True, text=True)


def _copy(tmp: Path) -> Path:
    dst = tmp / "native"
    shutil.copytree(NATIVE, dst)
    return dst


def test_the_sources_compile_with_the_check(tmp_path: Path) -> None:
    res = _compile(_copy(tmp_path))
    assert res.returncode == 0, res.stderr


@pytest.mark.parametrize(("first", "second"), [("uint32_t last_addr;", "uint32_t last_size;"),
                                               ("uint64_t tick_cycle;", "uint64_t tick_period;")])
def test_two_same_width_fields_swapped_fail_the_build(tmp_path: Path, first: str, second: str) -> None:
    """The total size is unchanged by such a swap: only a per-field check sees it."""
    src = _copy(tmp_path)
    path = src / "hotpath.c"
    text = path.read_text()
    assert text.count(first) == 1 and text.count(second) == 1
    path.write_text(text.replace(first, "@@").replace(second, first).replace("@@", second))
    res = _compile(src)
    assert res.returncode != 0
    field = first.split()[1].rstrip(";")
    assert f"hp_state.{field}" in res.stderr


def test_a_block_flag_that_differs_fails_the_build(tmp_path: Path) -> None:
    src = _copy(tmp_path)
    path = src / "thumb.h"
    path.write_text(path.read_text().replace("#define HP_MASK 128u", "#define HP_MASK 64u"))
    res = _compile(src)
    assert res.returncode != 0 and "HP_MASK differs" in res.stderr


def _view_indices() -> list[tuple[str, str, int]]:
    """(view, field, index) of every Q_* and W_* constant: the field is the constant's name after the prefix."""
    return [(name[0], name[2:].lower(), value) for name, value in vars(abi).items()
            if name[:2] in ("Q_", "W_") and isinstance(value, int)]


def test_the_view_indices_are_the_fields_words() -> None:
    """A value the ctypes field holds is read at the index through the view, and one written there is the field's
    (the indices come from the mirror, which abi.h checks against hp_state)."""
    indices = _view_indices()
    assert len(indices) > 40
    state = abi.HotState()
    views = dict(zip("QW", abi.hot_views(state)))
    for k, (view, field, index) in enumerate(indices):
        top = (1 << 64) - 1 if view == "Q" else 0xFFFFFFFF
        value = top - k  # a different value per field, all bytes used
        cell = getattr(state, field)
        if isinstance(cell, abi.ctypes.Array):  # (an array's first element)
            cell[0] = value
            assert views[view][index] == value, field
            views[view][index] = k
            assert getattr(state, field)[0] == k, field
        else:
            setattr(state, field, value)
            assert views[view][index] == value, field
            views[view][index] = k
            assert getattr(state, field) == k, field


@pytest.mark.parametrize(("field", "ctype"), [("sp_regid", abi.ctypes.c_uint32),  # int32: signed in a view of its own
                                              ("cycle_count", abi.ctypes.c_uint32),
                                              ("fr_done", abi.ctypes.c_uint64)])
def test_a_field_of_another_type_has_no_view_index(field: str, ctype: type) -> None:
    with pytest.raises(TypeError, match=field):
        abi._word(field, ctype)
