"""Find idle loops: branch-to-self instructions (``b .``) in the firmware's code.

Firmware that never exits usually ends in ``while (1) {}`` (after a test prints its verdict,
in ``Default_Handler``, after an assertion). Run to the instruction budget, such a firmware
costs minutes of CI time for nothing. The machine hooks these few instructions (a per-address
UC_HOOK_CODE hook: nothing is added to any other instruction, and the hot path is untouched)
and, when one executes, asks whether an interrupt could ever end the loop.

The scan looks for the two Thumb encodings of a branch to its own address: ``b.n .`` = 0xE7FE
and ``b.w .`` = 0xF7FF 0xBFFE, at halfword positions inside Thumb code (ARM mapping symbols
$t/$d, so literal pools are skipped). A match that is not really an instruction start (the
second half of a 32-bit instruction) is harmless: Unicorn never reaches that address as an
instruction, so its hook never runs. Code copied to RAM at run time is not scanned.
"""

from __future__ import annotations

import bisect

from simcore.elf import Firmware

B_SELF_16 = 0xE7FE
B_SELF_32 = (0xF7FF, 0xBFFE)


def thumb_ranges(fw: Firmware) -> list[tuple[int, int, bytes]]:
    """(start, end, bytes) of the Thumb code of executable sections, cut at $d mapping symbols."""
    keys = [a for a, _ in fw.mapping]
    out: list[tuple[int, int, bytes]] = []
    for sec in fw.sections:
        if not sec.executable or sec.kind != "progbits" or not sec.size:
            continue
        data = fw.read_loaded(sec.lma, sec.size) or fw.read_loaded(sec.vma, sec.size)
        if data is None:
            continue
        start, end = sec.vma, sec.vma + sec.size
        i = bisect.bisect_right(keys, start) - 1
        state = fw.mapping[i][1] if i >= 0 else "t"
        cur, j = start, bisect.bisect_right(keys, start)
        while cur < end:
            nxt = keys[j] if j < len(keys) and keys[j] < end else end
            if state == "t" and nxt > cur:
                out.append((cur, nxt, bytes(data[cur - start : nxt - start])))
            if nxt >= end:
                break
            state = fw.mapping[j][1]
            cur = nxt
            j += 1
    return out


def find_self_loops(fw: Firmware) -> list[tuple[int, int]]:
    """(address, size in bytes) of every branch-to-self instruction in the firmware's Thumb code."""
    found: list[tuple[int, int]] = []
    for start, _end, code in thumb_ranges(fw):
        first = start & 1  # keep halfword alignment relative to the address
        halves = [int.from_bytes(code[k : k + 2], "little") for k in range(first, len(code) - 1, 2)]
        for n, half in enumerate(halves):
            addr = start + first + 2 * n
            if half == B_SELF_16:
                found.append((addr, 2))
            elif half == B_SELF_32[0] and n + 1 < len(halves) and halves[n + 1] == B_SELF_32[1]:
                found.append((addr, 4))
    return found
