"""The Cortex-M4 system block: what Unicorn lacks of an M-profile core (ARMv7-M ARM, chapters B1, B3, C1).

One module per architectural block, each a register table (simcore/registers.py): NVIC
(nvic.py), SCB with the fault status registers (scb.py), SysTick (systick.py), DWT (dwt.py),
CoreDebug (coredebug.py), FPU (fpu.py) and ITM (itm.py); the exception logic (exceptions.py),
fault raising and handler watching (faults.py), stack overflow detection (stack.py), what the
optional traps watch in a block (codescan.py, instructions Unicorn does not trap), QEMU's exception
numbers (excp.py), and the system block that wires them to the machine (system.py, the
counterpart of QEMU's hw/arm/armv7m.c) through the narrow interface of host.py.

This package imports nothing itself, so importing one block never drags in the others.
"""
