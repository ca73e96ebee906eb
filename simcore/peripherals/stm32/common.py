"""What the STM32 models share: report names as the reference manual writes them (``RCC.CR.HSEON``)."""

from __future__ import annotations

from typing import ClassVar

from simcore.peripherals.base import PeripheralModel, Register


class Stm32Model(PeripheralModel):
    """A peripheral of an STM32 part; reports name it by its upper-case board name (``RCC``, ``IWDG``)."""

    POLL_SAFE = True  # registers change only when written or at events (simcore/poll.py)
    PART: ClassVar[str] = ""  # the SVD table the model's field names come from

    @property
    def periph_name(self) -> str:
        return self.name.upper()

    def reg_name(self, reg: Register, index: int = 0) -> str:
        return f"{self.periph_name}.{reg.key(index)}"

    def svd_fields(self, reg: str) -> list[tuple[str, int]]:
        """(field name, mask) of a register as the part's SVD table has them (names in reports)."""
        from simcore.peripherals.svd import load_table

        part = getattr(self, "PART", "")
        if not part:
            return []
        try:
            periph = load_table(part).peripheral(self.periph_name)
            return [(f.name, f.mask) for f in periph.register(reg).fields]
        except KeyError:
            return []

    def where_field(self, reg: str, field: str = "") -> str:
        return f"{self.periph_name}.{reg}" + (f".{field}" if field else "")
