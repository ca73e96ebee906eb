"""GDB remote serial protocol server for simcore (``simcore run ELF --gdb :3333``).

``rsp`` frames packets, ``tdesc`` describes the Cortex-M4(F) registers to gdb (M-profile,
so gdb unwinds through exception frames), ``server`` serves one gdb session on top of
:class:`simcore.debug.Debugger`. Design and the choice against ``udbserver``: docs/debugging.md.
"""

from simcore.gdb.server import GdbServer, parse_address

__all__ = ["GdbServer", "parse_address"]
