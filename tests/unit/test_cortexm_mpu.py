"""MPU registers and decisions (ARMv7-M B3.5), driven through the registers on a fake host."""

from __future__ import annotations

import unicorn

from simcore.cortexm.mpu import PAGE, Mpu, MpuPages, R, W, Window, X, page_map
from tests.unit.cortexm_fakes import FakeHost

TYPE, CTRL, RNR, RBAR, RASR = 0xE000ED90, 0xE000ED94, 0xE000ED98, 0xE000ED9C, 0xE000EDA0
RBAR_A2, RASR_A2 = 0xE000EDAC, 0xE000EDB0


def rasr(ap: int, log2size: int, xn: int = 0, srd: int = 0) -> int:
    return xn << 28 | ap << 24 | srd << 8 | (log2size - 1) << 1 | 1


def _mpu() -> tuple[FakeHost, Mpu, list[str]]:
    host = FakeHost()
    calls: list[str] = []
    return host, Mpu(host, lambda: calls.append("changed")), calls


def test_type_rbar_valid_and_aliases() -> None:
    host, mpu, calls = _mpu()
    assert mpu.read(TYPE, 4) == 0x800  # DREGION 8
    mpu.write(RBAR, 4, 0x20000000 | 0x10 | 5)  # VALID: region 5, RNR follows
    assert mpu.read(RNR, 4) == 5
    mpu.write(RASR, 4, rasr(3, 12))
    assert mpu.read(RBAR, 4) == 0x20000005 and mpu.read(RASR, 4) == rasr(3, 12)
    mpu.write(RBAR_A2, 4, 0x30000000 | 0x10 | 2)
    mpu.write(RASR_A2, 4, rasr(6, 10, xn=1))
    mpu.write(RNR, 4, 2)
    assert mpu.read(RBAR, 4) == 0x30000002 and mpu.read(RASR, 4) == rasr(6, 10, xn=1)
    assert calls and not host.unmodelled


def test_highest_region_wins_subregions_and_background() -> None:
    _, mpu, _ = _mpu()
    mpu.write(RBAR, 4, 0x20000000 | 0x10 | 0)
    mpu.write(RASR, 4, rasr(3, 16, xn=1))  # 64 KiB RW/RW, XN
    mpu.write(RBAR, 4, 0x20001000 | 0x10 | 1)
    mpu.write(RASR, 4, rasr(1, 11, srd=0x02))  # 2 KiB priv RW / unpriv none, sub-region 1 (256 B) disabled
    mpu.write(CTRL, 4, 1)
    assert mpu.perms_at(0x20000010, privileged=False) == R | W  # region 0, execute-never
    assert mpu.perms_at(0x20001010, privileged=False) == 0  # region 1 wins
    assert mpu.perms_at(0x20001010, privileged=True) == R | W | X
    assert mpu.perms_at(0x20001110, privileged=False) == R | W  # disabled sub-region: region 0
    assert mpu.perms_at(0x30000000, privileged=True) == 0  # no region, PRIVDEFENA clear
    mpu.write(CTRL, 4, 5)
    assert mpu.perms_at(0x30000000, privileged=True) == R | W | X  # background map
    assert mpu.perms_at(0x30000000, privileged=False) == 0
    assert mpu.perms_at(0xE000ED00, privileged=False) == R | W | X  # the PPB is not checked by the MPU
    assert mpu.perms_at(0x20001010, privileged=False, negative_priority=True) == R | W | X  # HFNMIENA clear
    mpu.write(CTRL, 4, 7)
    assert mpu.perms_at(0x20001010, privileged=False, negative_priority=True) == 0


def test_pages_split_by_a_region_trap_and_the_rest_keep_exact_permissions() -> None:
    _, mpu, _ = _mpu()
    mpu.write(RBAR, 4, 0x20000000 | 0x10 | 0)
    mpu.write(RASR, 4, rasr(3, 16))
    mpu.write(RBAR, 4, 0x20002200 | 0x10 | 1)
    mpu.write(RASR, 4, rasr(5, 5))  # 32 bytes priv RO / unpriv none
    mpu.write(CTRL, 4, 1)
    window = [Window(0x20000000, 0x20010000, R | W | X)]
    runs = page_map(mpu, window, privileged=True)
    assert runs[0] == (0x20000000, 0x20002000, R | W | X, False)
    assert (0x20002000, 0x20002000 + PAGE, R | X, True) in runs  # write refused somewhere in the page
    assert runs[-1][1] == 0x20010000 and not runs[-1][3]


def test_page_protections_follow_privilege_in_unicorn() -> None:
    uc = unicorn.Uc(unicorn.UC_ARCH_ARM, unicorn.UC_MODE_THUMB | unicorn.UC_MODE_MCLASS)
    uc.mem_map(0x20000000, 0x10000)
    _, mpu, _ = _mpu()
    mpu.write(RBAR, 4, 0x20004000 | 0x10 | 0)
    mpu.write(RASR, 4, rasr(1, 12, xn=1))  # 4 KiB priv RW / unpriv none
    mpu.write(CTRL, 4, 5)
    pages = MpuPages(uc, [Window(0x20000000, 0x20010000, R | W | X)])
    def perms(addr: int) -> int:
        return next(p for a, b, p in uc.mem_regions() if a <= addr <= b)

    pages.sync(mpu, privileged=False, negative_priority=False)
    assert perms(0x20004000) == 0 and perms(0x20000000) == 0  # unprivileged: no region allows, no background
    pages.sync(mpu, privileged=True, negative_priority=False)
    assert perms(0x20004000) == R | W and perms(0x20000000) == R | W | X  # region (XN) / background map
    calls = pages.protect_calls
    assert not pages.sync(mpu, privileged=True, negative_priority=False)  # nothing changed: no Unicorn call
    assert pages.protect_calls == calls
