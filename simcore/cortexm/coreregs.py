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
import struct
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

import unicorn
from unicorn import arm_const as R

_PC = R.UC_ARM_REG_PC
_OK = unicorn.UC_ERR_OK


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
        self._pc = ctypes.c_uint32()
        self._pc_ref = ctypes.byref(self._pc)
        try:
            lib = unicorn.unicorn_py3.unicorn.uclib  # type: ignore[attr-defined]
            handle = uc._uch  # noqa: SLF001 - see the module docstring
            lib.uc_reg_read_batch.restype = ctypes.c_int
            lib.uc_reg_read.restype = ctypes.c_int
            lib.uc_reg_write.restype = ctypes.c_int
            lib.uc_reg_write_batch.restype = ctypes.c_int
            self._lib, self._handle = lib, handle
            # the PC read through a prototype taking plain integers: no per-call argument conversion
            # (0.7 instead of 1.1 us; every model register read asks for the PC, simcore/poll.py)
            proto = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p)
            self._read_reg = proto(ctypes.cast(lib.uc_reg_read, ctypes.c_void_p).value)
            self._handle_int = handle.value
            self._pc_addr = ctypes.addressof(self._pc)
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
        b = self._batches.get(ids)  # (_batch's look-up in line: a read at every exception entry and sync)
        if b is None:
            b = self._batch(ids)
        status = self._lib.uc_reg_read_batch(self._handle, b.ids, b.ptrs, b.n)
        if status != _OK:
            raise unicorn.UcError(status)
        return list(b.vals)

    def reader(self, ids: tuple[int, ...]) -> Callable[[], Sequence[int]]:
        """:meth:`read` of one fixed list as a function of no argument: its engine call bound once (the masks' read
        for a priority check, a few per Python entry, was ~36 bytecodes). Each call returns the values it read."""
        if self._lib is None:
            return partial(self.read, ids)
        b = self._batch(ids)
        call = partial(self._lib.uc_reg_read_batch, self._handle, b.ids, b.ptrs, b.n)
        vals = b.vals

        def read() -> Sequence[int]:
            status = call()
            if status != _OK:
                raise unicorn.UcError(status)
            return vals[:]

        return read

    def fingerprint(self, ids: tuple[int, ...]) -> bytes:
        """The registers' values as one bytes object (4 bytes each, little-endian): two fingerprints are equal
        exactly when every value is, and taking one copies the engine's buffer once (no int per register)."""
        if self._lib is None:
            return struct.pack(f"<{len(ids)}I", *self.read(ids))
        b = self._batch(ids)
        status = self._lib.uc_reg_read_batch(self._handle, b.ids, b.ptrs, b.n)
        if status != unicorn.UC_ERR_OK:
            raise unicorn.UcError(status)
        return bytes(b.vals)

    def read_pc(self) -> int:
        """The PC in one engine call (the bindings' reg_read costs several microseconds)."""
        if self._lib is None:
            return self.uc.reg_read(R.UC_ARM_REG_PC)
        status = self._read_reg(self._handle_int, _PC, self._pc_addr)
        if status != unicorn.UC_ERR_OK:
            raise unicorn.UcError(status)
        return self._pc.value

    def write_pc(self, value: int) -> None:
        """Write the PC with uc_reg_write (not the batch call): inside a hook, only that call makes
        Unicorn leave the current translated block and resume at the new PC."""
        if self._lib is None:
            self.uc.reg_write(R.UC_ARM_REG_PC, value)
            return
        self._pc.value = value & 0xFFFFFFFF
        status = self._lib.uc_reg_write(self._handle, R.UC_ARM_REG_PC, self._pc_ref)
        if status != unicorn.UC_ERR_OK:
            raise unicorn.UcError(status)

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


class Memory:
    """Guest memory for stacking: straight into the machine's buffers for RAM and flash, else via Unicorn.

    The machine maps each memory of the part from one ctypes buffer (``mem_map_ptr``), in the
    order of ``board.memories``; exception frames are read and written there directly (no
    engine call), which is what Unicorn itself would touch. Anything else goes through
    ``uc.mem_read`` / ``uc.mem_write``.
    """

    def __init__(self, uc: unicorn.Uc, regions: list[tuple[int, int, bool, Any]]) -> None:
        self.uc = uc
        # (base, end, writable RAM, memoryview of the buffer) per address window, aliases included
        self.regions = [(base, end, ram, memoryview(buf).cast("B")) for base, end, ram, buf in regions]

    def _find(self, addr: int, size: int) -> tuple[int, bool, memoryview] | None:
        for base, end, ram, view in self.regions:
            if base <= addr and addr + size <= end:
                return addr - base, ram, view
        return None

    def is_ram(self, addr: int, size: int) -> bool:
        found = self._find(addr, size)
        return found is not None and found[1]

    def read(self, addr: int, size: int) -> bytes:
        found = self._find(addr, size)
        if found is None:
            return bytes(self.uc.mem_read(addr, size))
        off, _, view = found
        return bytes(view[off : off + size])

    def write(self, addr: int, data: bytes) -> None:
        found = self._find(addr, len(data))
        if found is None:
            self.uc.mem_write(addr, data)
            return
        off, _, view = found
        view[off : off + len(data)] = data
