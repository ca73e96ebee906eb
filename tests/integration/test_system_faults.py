"""Faults on real firmware: status registers seen by the firmware's handler, and simcore's diagnosis."""

from __future__ import annotations

from pathlib import Path

import pytest

from simcore.api import run
from simcore.errors import EXIT_FAULT

ROOT = Path(__file__).resolve().parents[2]
BOARDS = ["cortex-m4", "stm32f407vg"]

# mode -> (CFSR, HFSR, BFAR) the firmware's HardFault handler prints (escalated: FORCED)
EXPECTED = {
    "null_write": (0x00008200, 0x40000000, 0x00000000),  # BusFault PRECISERR + BFARVALID, BFAR 0
    "unmapped_read": (0x00008200, 0x40000000, 0x30000000),
    "undef": (0x00010000, 0x40000000, 0),  # UsageFault UNDEFINSTR
    "div0": (0x02000000, 0x40000000, 0),  # UsageFault DIVBYZERO
    "unaligned_ldm": (0x01000000, 0x40000000, 0),  # UsageFault UNALIGNED
    "svc_masked": (0x00000000, 0x40000000, 0),  # SVC that cannot be taken: HardFault FORCED
    "exec_xn": (0x00000001, 0x40000000, 0),  # MemManage IACCVIOL (peripheral region is execute-never)
    "exec_unmapped": (0x00000100, 0x40000000, 0),  # BusFault IBUSERR
    "bad_excreturn": (0x00040000, 0x40000000, 0),  # UsageFault INVPC
    "unaligned_ldr": (0x01000000, 0x40000000, 0),  # UsageFault UNALIGNED, with CCR.UNALIGN_TRP
}
PRINTS = {"unaligned_ldr": "unaligned word 02000000\n"}  # bytes 00 00 00 02 of {1, 2} from offset 1


SOURCE = ROOT / "firmware" / "apps" / "faults" / "main.c"


def line_of(text: str) -> int:
    """Line number of the first source line of the faults app containing ``text``."""
    return next(i for i, line in enumerate(SOURCE.read_text().splitlines(), 1) if text in line)


def elf(board: str, app: str) -> Path:
    return ROOT / "firmware" / "bin" / board / f"{app}.elf"


def _run(board: str, app: str, *args: str, check_alignment: bool = True):  # type: ignore[no-untyped-def]
    return run(elf(board, app), board, cmdline=" ".join([f"{app}.elf", *args]), max_instructions=50_000_000,
               check_alignment=check_alignment)


def test_unaligned_ldm_runs_when_alignment_checks_are_off() -> None:
    res = _run("cortex-m4", "faults", "unaligned_ldm", check_alignment=False)
    # words {1, 2, 3, 4} from byte offset 2: 0x00020000 + 0x00030000; the firmware then says so
    assert res.text == "mode unaligned_ldm\nsum 327680\nno fault?\n"
    assert res.exit_status == 1


@pytest.mark.parametrize("board", BOARDS)
@pytest.mark.parametrize("mode", sorted(EXPECTED))
def test_firmware_hardfault_handler_reads_the_fault_status(board: str, mode: str) -> None:
    res = _run(board, "faults", mode)
    cfsr, hfsr, bfar = EXPECTED[mode]
    assert res.text == (f"mode {mode}\n{PRINTS.get(mode, '')}"
                        f"HardFault CFSR={cfsr:08x} HFSR={hfsr:08x} BFAR={bfar:08x} MMFAR=00000000\n")
    assert res.exit_status == 3


@pytest.mark.parametrize("board", BOARDS)
def test_enabled_usagefault_handler_recovers(board: str) -> None:
    res = _run(board, "faults", "recover")
    assert res.text == "mode recover\nUsageFault CFSR=02000000 at +0\nrecovered, CFSR now 00000000\n"
    assert res.exit_status == 0


@pytest.mark.parametrize(
    ("mode", "decoded", "function", "marker"),
    [
        ("null_write", "BusFault escalated to HardFault (PRECISERR, BFARVALID, FORCED)", "main", "0xDEADBEEFu"),
        ("unmapped_read", "BusFault escalated to HardFault (PRECISERR, BFARVALID, FORCED)", "main",
         "*(volatile uint32_t *)0x30000000u"),
        ("undef", "UsageFault escalated to HardFault (UNDEFINSTR, FORCED)", "main", 'udf #7'),
        ("div0", "UsageFault escalated to HardFault (DIVBYZERO, FORCED)", "divide", "return a / b"),
        ("unaligned_ldm", "UsageFault escalated to HardFault (UNALIGNED, FORCED)", "unaligned_ldm", '"ldm %2'),
        ("exec_xn", "MemManage escalated to HardFault (IACCVIOL, FORCED)", "0x40010000", None),
    ],
)
def test_fault_without_handler_stops_with_a_diagnosis(mode: str, decoded: str, function: str,
                                                      marker: str | None) -> None:
    res = _run("stm32f407vg", "faults_nohandler", mode)
    assert res.text == f"mode {mode}\n"
    assert res.stop.kind == "fault"
    assert res.exit_status == EXIT_FAULT
    d = res.stop.details
    assert res.stop.message.startswith(decoded)
    assert "no HardFault handler" in res.stop.message
    assert d["symbol"].startswith(function)
    if marker is not None:
        assert d["source"] == f"firmware/apps/faults/main.c:{line_of(marker)}"
        assert d["backtrace_method"].startswith("DWARF CFI")
        assert "Reset_Handler" in d["backtrace"][-1]
    assert d["registers"]["pc"] == res.stop.pc
    assert "FORCED" in d["hfsr_bits"]


@pytest.mark.parametrize("board", BOARDS)
def test_reset_request_stops_the_run(board: str) -> None:
    res = _run(board, "faults", "reset")
    assert res.stop.kind == "reset"
    assert res.stop.message.startswith("reset requested by the firmware (AIRCR.SYSRESETREQ) at main+")


def test_bad_exc_return_names_the_handler() -> None:
    res = _run("cortex-m4", "faults_nohandler", "bad_excreturn")
    assert res.stop.message.startswith("UsageFault escalated to HardFault (INVPC, FORCED): bad exception return "
                                       "from SVCall: EXC_RETURN 0xfffffff5 is not a valid value")


def test_backtrace_goes_through_the_exception_frame() -> None:
    res = _run("stm32f407vg", "faults_nohandler", "irq_fault")
    trace = res.stop.details["backtrace"]
    assert res.stop.details["symbol"].startswith("IRQ5_Handler")
    assert res.stop.details["source"] == f"firmware/apps/faults/main.c:{line_of('void IRQ5_Handler')}"
    assert len(trace) == 3
    assert " main+" in trace[1] and trace[1].endswith("[interrupted by the exception]")
    assert "Reset_Handler" in trace[2]


def test_recursion_is_folded_in_the_backtrace() -> None:
    res = run(elf("cortex-m4", "stackoverflow"), "cortex-m4")
    trace = res.stop.details["backtrace"]
    assert trace[0].split()[2] == "hog"
    assert "(x" in trace[1] and trace[1].split()[2].startswith("hog+")


def test_fault_address_is_reported() -> None:
    res = _run("cortex-m4", "faults_nohandler", "unmapped_read")
    assert res.stop.details["address"] == 0x30000000
    assert res.stop.details["bfar"] == 0x30000000
    assert "read of 4 bytes at unmapped address 0x30000000" in res.stop.message


def test_handler_that_spins_after_reporting_is_detected() -> None:
    res = _run("cortex-m4", "faults", "null_write", "spin")
    assert res.text.endswith("HardFault CFSR=00008200 HFSR=40000000 BFAR=00000000 MMFAR=00000000\n")
    assert res.exit_status == EXIT_FAULT
    assert "HardFault handler never returned (spinning at HardFault_Handler" in res.stop.message
    assert res.stop.details["symbol"].startswith("main+")
    # the diagnosis is about the fault, not where the handler spins
    assert res.stop.details["source"] == f"firmware/apps/faults/main.c:{line_of('0xDEADBEEFu')}"


@pytest.mark.parametrize("board", BOARDS)
def test_stack_overflow_is_reported_where_it_happens(board: str) -> None:
    res = run(elf(board, "stackoverflow"), board)
    assert res.stop.kind == "fault"
    assert res.exit_status == EXIT_FAULT
    assert res.stop.message.startswith("stack overflow in hog: SP reached")
    assert res.stop.details["function"] == "hog"
    assert res.stop.details["stack_overflow"] is True
    limit = res.stop.details["stack_limit"]
    assert limit - 8 <= res.stop.details["sp"] < limit  # caught at the first push below the limit
    assert res.stop.details["source"].startswith("firmware/apps/stackhog/main.c:")


def test_stack_within_limits_is_not_an_overflow() -> None:
    res = run(elf("cortex-m4", "stackhog"), "cortex-m4")
    assert res.exit_status == 0
    assert not res.stack_overflow
