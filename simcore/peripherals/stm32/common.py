"""What the STM32 models share: report names as the reference manual writes them (``RCC.CR.HSEON``)."""

from __future__ import annotations

from simcore.peripherals.base import PeripheralModel, Register


class Stm32Model(PeripheralModel):
    """A peripheral of an STM32 part; reports name it by its upper-case board name (``RCC``, ``IWDG``)."""

    @property
    def periph_name(self) -> str:
        return self.name.upper()

    def reg_name(self, reg: Register, index: int = 0) -> str:
        return f"{self.periph_name}.{reg.key(index)}"

    def where_field(self, reg: str, field: str = "") -> str:
        return f"{self.periph_name}.{reg}" + (f".{field}" if field else "")
