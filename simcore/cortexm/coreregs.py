"""Batched core-register access for exception entry and return.

An exception entry plus return touches ~40 core registers. Through the Python bindings each
access costs a few microseconds, which at a 1 kHz SysTick is a visible share of the run.
Unicorn's C API reads or writes a list of registers in one call (uc_reg_read_batch /
uc_reg_write_batch), so this adapter calls it through the bindings' library handle with
ctypes arrays prepared once per register list. Writes happen in list order (which matters
for CONTROL.SPSEL vs IPSR, see exceptions.py).

This is the second place that touches the bindings' internals (``uc._uch`` and the library
handle), next to simcore/hotpath.py; it falls back to the public per-register API when
those are not there, with the same results.
"""

from __future__ import annotations

import ctypes
from collections.abc import Sequence
from typing import Any

import unicorn


class _Batch:
    """ctypes buffers for one fixed list of registers."""

    def __init__(self, ids: Sequence[int]) -> None:
        n = len(ids)
        self.n = n
        self.ids = (ctypes.c_int * n)(*ids)
        self.vals = (ctypes.c_uint32 * n)()
        base = ctypes.addressof(self.vals)
        self.ptrs = (ctypes.c_void_p * n)(*[base + 4 * i for i in range(n)])


class CoreRegs:
    """Read and write lists of 32-bit core registers in one engine call each."""

    def __init__(self, uc: unicorn.Uc) -> None:
        self.uc = uc
        self._batches: dict[tuple[int, ...], _Batch] = {}
        self._lib: Any = None
        self._handle: Any = None
        try:
            lib = unicorn.unicorn_py3.unicorn.uclib  # type: ignore[attr-defined]
            handle = uc._uch  # noqa: SLF001 - see the module docstring
            lib.uc_reg_read_batch.restype = ctypes.c_int
            lib.uc_reg_write_batch.restype = ctypes.c_int
            self._lib, self._handle = lib, handle
        except AttributeError:
            pass

    def _batch(self, ids: tuple[int, ...]) -> _Batch:
        b = self._batches.get(ids)
        if b is None:
            b = self._batches[ids] = _Batch(ids)
        return b

    def read(self, ids: tuple[int, ...]) -> list[int]:
        if self._lib is None:
            return [self.uc.reg_read(i) & 0xFFFFFFFF for i in ids]
        b = self._batch(ids)
        status = self._lib.uc_reg_read_batch(self._handle, b.ids, b.ptrs, b.n)
        if status != unicorn.UC_ERR_OK:
            raise unicorn.UcError(status)
        return list(b.vals)

    def write(self, ids: tuple[int, ...], values: Sequence[int]) -> None:
        if self._lib is None:
            for i, v in zip(ids, values):
                self.uc.reg_write(i, v & 0xFFFFFFFF)
            return
        b = self._batch(ids)
        for k, v in enumerate(values):
            b.vals[k] = v & 0xFFFFFFFF
        status = self._lib.uc_reg_write_batch(self._handle, b.ids, b.ptrs, b.n)
        if status != unicorn.UC_ERR_OK:
            raise unicorn.UcError(status)
