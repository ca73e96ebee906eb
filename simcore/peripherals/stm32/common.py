"""What the STM32 models share: report names as the reference manual writes them (``RCC.CR.HSEON``)."""

from __future__ import annotations

from typing import Any, ClassVar

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


class StreamedTransfers:
    """Mixin of a bus controller whose byte transfers the register file can carry in C (RF_XFER, regfile.c).

    While a stream is in flight (``_stream``), any model access first settles it (``_settle``: the bytes C
    served are replayed into the model and the chip), so Python always sees the state the bytes left.
    ``STREAM_REGS`` names the data and status registers the register file serves during a stream.
    """

    STREAM_REGS: ClassVar[tuple[str, str]]
    _stream: tuple[Any, ...] | None
    _xi: int | None
    _xi_tried: bool
    host: Any  # the model's (annotations only: PeripheralModel provides them)
    base: int
    register: Any

    def read(self, offset: int, size: int) -> int:
        if self._stream is not None:
            self._settle()
        return super().read(offset, size)  # type: ignore[misc]

    def write(self, offset: int, size: int, value: int) -> None:
        if self._stream is not None:
            self._settle()
        super().write(offset, size, value)  # type: ignore[misc]

    def _stream_index(self) -> int | None:
        """The register file's transfer slot for this controller, made at the first stream; None without C."""
        if self._xi is None and not self._xi_tried:
            host = self.host
            bus = getattr(host, "bus", None)
            if bus is None or getattr(bus, "_pc_source", None) is None:
                return None
            self._xi_tried = True
            data, status = (self.register(name).offset for name in self.STREAM_REGS)
            self._xi = bus.xfer_in_c(self.base + data, self.base + status)
            if self._xi is not None:
                self._stream_attached()
                host.on_clock_change(self._settle)
        return self._xi

    def _stream_attached(self) -> None:
        """Called once the register file has a slot for this controller (SPI: settle at chip-select edges)."""

    def _settle(self) -> None:
        raise NotImplementedError
