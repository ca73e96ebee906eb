"""A persistent cache of block analyses: a second run of the same ELF finds its blocks analysed.

One file per ELF content and analysis settings in ``cache_dir("blocks")`` (simcore/paths.py):
the SHA-256 of the ELF file (``Firmware.sha256``, taken when it was read), and a digest of everything the
analysis depends on besides the bytes (the C decoder's sources, the ABI, the cycle model and flash
settings). Each entry keeps the hash of its block's bytes and is used only where the bytes in memory are still the same,
so code the image does not load, or a run changes, is analysed afresh. Blocks that hook
per-address instructions (divides the block analysis cannot price at the next block entry, trap
watches), mark handlers (profiling) or need the error bar's first-execution probe are never taken
from the cache: they go through the normal miss. Blocks whose divides are all priced at the next
block entry (hp_block.div) are cached like any other.
The divides an earlier run hooked are kept too (per block: its bytes' hash and each divide's
address and operand registers): their hooks are installed before the run, so the first execution
of such a block does not stop emulation to add them (the block itself is still analysed afresh).

Writers are safe against each other: a file is written under a unique temporary name in the
same directory and renamed over the old one (atomic on POSIX); a reader checks the magic, the
key, the sizes and a CRC-32 of the payload, and ignores a file that does not pass. A CRC, not the SHA-256
it replaced: either finds a damaged file and neither a crafted one (whoever writes the file writes its
check), and the SHA-256 of a C++ image's 1.7 MB file was 48 M of a warm start-up's instructions under
valgrind (~0.9 ms natively; the CRC ~0.3 ms).
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import struct
import tempfile
import zlib
from pathlib import Path
from typing import TYPE_CHECKING

from simcore.abi import HotCacheRec, HotModel, abi_digest
from simcore.blocks import DATA, HANDLER
from simcore.cycles import DivSite
from simcore.paths import cache_dir

if TYPE_CHECKING:
    from simcore.elf import Firmware
    from simcore.hotpath import HotPath

MAGIC = b"SCBLOCK4"  # 3: hp_block.div (divides priced at the next block entry); 4: CRC-32 trailer
_HEAD = struct.Struct("<8s32sIII")  # magic, key, records, carried IT states, blocks with hooked divides
_DIVB = struct.Struct("<IIQI")  # block address, size, FNV-1a of its bytes, divides
_DIV = struct.Struct("<IIiiI")  # divide address, size, Unicorn ids of Rn and Rm, signed
_CRC = struct.Struct("<I")  # the file's last 4 bytes: CRC-32 (zlib) of everything before them


def enabled() -> bool:
    """SIMCORE_NO_CACHE=1 turns the cache off."""
    return os.environ.get("SIMCORE_NO_CACHE") != "1"


def _key(hot: HotPath, elf: Firmware) -> bytes | None:
    """SHA-256 of the ELF's bytes (as load_elf read them) and of the analysis settings (once per hot path)."""
    if not hot.native_analysis or hot.lib is None:
        return None
    if hot.cache_key is None:
        lib = hot.lib
        lib.hp_source_digest.restype = ctypes.c_char_p
        model = bytes(hot._model)[:HotModel.n_handlers.offset]  # cycle model and flash settings, no pointers
        h = hashlib.sha256(elf.sha256)
        for part in (lib.hp_source_digest(), abi_digest().encode(), model):
            h.update(part)
        hot.cache_key = h.digest()
    return hot.cache_key


def _skip(hot: HotPath) -> int:
    """Block flags that must go through the miss: per-address hooks, handlers, the flash-data probe.

    The probe happens at a block's first execution when the flash has wait states then; where the firmware
    sets them (FLASH.ACR), whether it happens depends on when the block first runs, so those blocks are
    never cached (a cached one would keep whatever the run that wrote the file saw: the error bar's
    flash-data term then depended on earlier runs with other inputs)."""
    s = hot.state
    probe = DATA if (s.wait_states or hot.flash_ws_variable) and not hot.analyzer.flash.data_hook else 0
    return s.py_flags | HANDLER | probe


def _fnv(data: bytes) -> int:
    """FNV-1a (64-bit), as hp_bytes_hash in hotpath.c."""
    h = 0xCBF29CE484222325
    for b in data:
        h = ((h ^ b) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


def _divides(hot: HotPath) -> tuple[bytes, int]:
    """The divide section: the blocks whose divides this run hooked, and how many.

    A run whose deferral was turned off (a debugger, the DIV_0_TRP watch: HotPath.disable_defer) hooked every
    divide; only those deferral would also hook are kept, or every later run of the ELF would hook them all."""
    out = []
    blocks = 0
    for (addr, size), hooked in sorted(hot.div_blocks.items()):
        sites = hooked if hot.defer else hot.undeferred(addr, size, hooked)
        if not sites:
            continue
        try:
            code = bytes(hot.uc.mem_read(addr, size))
        except Exception:  # noqa: BLE001 - code no longer mapped: not kept
            continue
        out.append(_DIVB.pack(addr, size, _fnv(code), len(sites)))
        out.extend(_DIV.pack(d.addr, d.size, d.rn, d.rm, int(d.signed)) for d in sites)
        blocks += 1
    return b"".join(out), blocks


def _preinstall(hot: HotPath, data: bytes, n: int) -> None:
    """Hook the cached blocks' divides whose bytes are still those hashed (HotPath.preinstall_divides)."""
    off = 0
    for _ in range(n):
        addr, size, h, k = _DIVB.unpack_from(data, off)
        off += _DIVB.size
        sites = tuple(DivSite(a, sz, rn, rm, bool(sg)) for a, sz, rn, rm, sg in
                      (_DIV.unpack_from(data, off + i * _DIV.size) for i in range(k)))
        off += k * _DIV.size
        try:
            same = _fnv(bytes(hot.uc.mem_read(addr, size))) == h
        except Exception:  # noqa: BLE001 - not mapped in this run
            same = False
        if same:
            hot.preinstall_divides(addr, size, sites)


def _div_bytes(data: bytes, n: int) -> int | None:
    """Length of the divide section of ``n`` blocks at the start of ``data`` (None: cut short)."""
    off = 0
    for _ in range(n):
        if off + _DIVB.size > len(data):
            return None
        off += _DIVB.size + _DIVB.unpack_from(data, off)[3] * _DIV.size
    return off if off <= len(data) else None


def _path(key: bytes) -> Path:
    return cache_dir("blocks") / f"{key.hex()[:40]}.blocks"


def load(hot: HotPath, elf: Firmware) -> int:
    """Put the cached analyses of ``elf`` into the hot path's table (before the run); returns how many."""
    key = _key(hot, elf) if enabled() else None
    if key is None:
        return 0
    try:
        data = _path(key).read_bytes()
    except OSError:
        return 0
    size = ctypes.sizeof(HotCacheRec)
    if len(data) < _HEAD.size + _CRC.size:
        return 0
    magic, file_key, n, n_carry, n_div = _HEAD.unpack_from(data)
    body = data[: -_CRC.size]
    start = _HEAD.size + n * size + 8 * n_carry
    if magic != MAGIC or file_key != key or len(body) < start \
            or _CRC.unpack_from(data, len(body))[0] != zlib.crc32(body) \
            or _div_bytes(body[start:], n_div) != len(body) - start:
        return 0
    recs = (HotCacheRec * n).from_buffer_copy(body, _HEAD.size)
    assert hot.lib is not None
    s = ctypes.byref(hot.state)
    carry = body[_HEAD.size + n * size:start]
    for addr, left in struct.iter_unpack("<II", carry):
        hot.lib.hp_carry_put(s, addr, left)
    hot.lib.hp_cache_import.restype = ctypes.c_uint32
    got = hot.lib.hp_cache_import(s, hot.uc._uch, recs, n, _skip(hot))
    hot.cache_loaded = int(got)
    _preinstall(hot, body[start:], n_div)
    return int(got)


def save(hot: HotPath, elf: Firmware) -> bool:
    """Write the hot path's analyses of ``elf`` when the run analysed blocks the cache did not hold.

    ``cache_new`` counts analyses of blocks the file would hold (hp_miss_slow leaves out those with
    :func:`_skip`'s flags): a run whose only analyses were of blocks never cached (handlers, divides)
    writes nothing; it rewrote the file at the end of every run (0.6-0.7 ms of a 4-10 ms short run).
    Nor does a run whose export is what the file holds: blocks of code the firmware copies to RAM and runs
    there are exported, but the next load cannot take them (RAM is empty before the run), so they are
    analysed afresh and counted as new at every run (calib_flash's save was ~0.75 ms of a 3-5 ms run, the
    export and the comparison with the file now ~0.45 ms).
    """
    key = _key(hot, elf) if enabled() and not hot.state.profiling else None
    if key is None or not (hot.state.cache_new or hot.div_blocks.keys() - hot.div_preinstalled):
        return False
    assert hot.lib is not None
    cap = hot.state.used
    recs = (HotCacheRec * max(cap, 1))()
    hot.lib.hp_cache_export.restype = ctypes.c_uint32
    n = int(hot.lib.hp_cache_export(ctypes.byref(hot.state), hot.uc._uch, recs, cap, _skip(hot)))
    if n <= hot.cache_loaded and not hot.div_blocks.keys() - hot.div_preinstalled:
        return False  # cache_new counted blocks _skip leaves out (flash-data probes at 0 wait states): nothing new
    carry = hot.state.carry.items()
    divides, n_div = _divides(hot)
    body = _HEAD.pack(MAGIC, key, n, len(carry), n_div) + \
        bytes(recs)[:n * ctypes.sizeof(HotCacheRec)] + \
        b"".join(struct.pack("<II", a, v) for a, v in sorted(carry.items())) + divides
    path = _path(key)
    blob = body + _CRC.pack(zlib.crc32(body))
    try:
        if path.read_bytes() == blob:
            return False  # the file holds this export already: blocks run from RAM, which no load can take
    except OSError:
        pass
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        with os.fdopen(fd, "wb") as f:
            f.write(blob)
        os.replace(tmp, path)
    except OSError:
        return False
    return True
