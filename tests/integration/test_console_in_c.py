"""Console UARTs' bytes are taken by the register file in C (RF_CONSOLE), as the model would print them.

While a console UART transmits at once (CMSDK UART with TXEN; an unpaced STM32 USART/LPUART
with no interrupt or DMA on TXE/TC) and nothing needs each byte as it is written (no pass/fail
marker, no console listener), data writes append to a buffer in regfile.c (or its Python twin)
and status reads are served there; the machine puts the bytes on the console at its next look. The run must
equal the model's own path byte for byte and count for count.
"""

from __future__ import annotations

import io
from typing import Any

import pytest

from simcore.api import prepare, run_machine
from simcore.machine import Machine
from tests.conftest import elf


def _run(board: str, app: str, **kw: Any) -> tuple[tuple[object, ...], Any]:
    m = prepare(elf(board, app), board, **kw)
    r = run_machine(m)
    return (r.text, r.instructions, r.cycles, r.stop.kind, r.exit_status, m.console_bytes), m


@pytest.mark.parametrize(("board", "app"), [("cortex-m4", "nested"), ("cortex-m4", "fpu"), ("mps2-an386", "hello"),
                                           ("stm32f407vg", "nested"), ("stm32l4r5zi", "fpu")])
def test_console_in_c_equals_the_model_path(monkeypatch: pytest.MonkeyPatch, board: str, app: str) -> None:
    calls = {"n": 0}
    original = Machine.console_write

    def counted(self: Machine, data: bytes, source: str) -> None:
        calls["n"] += len(data) if not source.startswith(("semihosting", "itm")) else 0
        original(self, data, source)

    monkeypatch.setattr(Machine, "console_write", counted)  # the model's path (CmsdkUart, Stm32Usart)
    fast, m = _run(board, app)
    assert m._c_console is not None and fast[5] > 40
    assert calls["n"] == 0  # every byte went through the register file
    data = m.bus.rf.slot(m._c_console.base + m._c_console.CONSOLE_DATA) - 1
    assert m.bus.rf.reg(data)["writes"] == fast[5]  # counted per write as before
    # a marker that never matches needs each byte in Python: the model's own path
    slow, m2 = _run(board, app, pass_marker="no such marker")
    assert m2._c_console is None and calls["n"] == fast[5]
    assert slow == fast
    twin, m3 = _run(board, app, native=False)  # the Python register file (PyRegFile) takes them too
    assert m3._c_console is not None and twin == fast


def test_the_echo_gets_each_line_as_it_is_printed() -> None:
    class Echo(io.StringIO):
        def __init__(self) -> None:
            super().__init__()
            self.chunks: list[tuple[str, int]] = []
            self.m: Any = None

        def write(self, s: str) -> int:
            self.chunks.append((s, self.m.hot.state.insn_count if self.m else 0))
            return super().write(s)

    echo = Echo()
    m = prepare(elf("cortex-m4", "nested"), "cortex-m4", echo=echo)
    echo.m = m
    r = run_machine(m)
    assert m._c_console is not None
    assert echo.getvalue() == r.text
    lines = r.text.splitlines(keepends=True)
    assert [c for c, _ in echo.chunks] == lines  # one write per line, at its newline
    assert len({n for _, n in echo.chunks}) == len(lines)  # during the run, not all at its end


def test_a_paced_or_interrupt_driven_usart_keeps_the_model_path() -> None:
    m = prepare(elf("stm32f407vg", "hello"), "stm32f407vg")
    run_machine(m)
    uart = m._c_console
    assert uart is not None and uart.stats["tx_bytes"] == m.console_bytes  # counted when taken
    uart.values["CR1"] |= 1 << 6  # TCIE: each byte raises an interrupt the model must drive
    assert not uart.console_ready()
    uart.values["CR1"] &= ~(1 << 6)
    uart.paced = True
    assert not uart.console_ready()
