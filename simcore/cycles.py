"""Cycle models: how many core cycles a block of instructions costs.

``InstructionCount`` charges one cycle per instruction (CPI 1): the honest figure until the
Cortex-M4 timing model prices each instruction class from the TRM tables.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol


class CycleModel(Protocol):
    """Prices a decoded block; the result has one entry per instruction."""

    name: str

    def block_costs(self, insns: Sequence[Any]) -> list[int]: ...


class InstructionCount:
    """One cycle per instruction: latency then means instructions / MHz."""

    name = "instructions"

    def block_costs(self, insns: Sequence[Any]) -> list[int]:
        return [1] * len(insns)
