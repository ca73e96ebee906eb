"""How STM32 peripherals signal each other: DMA request lines and timer trigger outputs.

DMA requests (RM0090 10.3.3, RM0432 11.3 and 12.3) are levels, named as the reference manuals'
request tables name them (``USART2_TX``, ``TIM2_UP``, ``ADC1``, ``SPI1_RX``). A peripheral with
requests mixes in :class:`DmaRequester`: it answers ``dma_pending(request)`` (is the line
asserted now?) and ``dma_ack(request)`` (the DMA served one transfer), and calls
``dma_request(request)`` whenever a line may have become asserted. The DMA controllers on the
board (``dma1``, ``dma2``) serve it if an enabled stream or channel selects that request (the
F4's CHSEL, the L4's DMAMUX); a stream enabled later looks at the line then, as the hardware
does. The peripheral that owns a request is the board peripheral named like its prefix
(``USART2_TX`` -> ``usart2``).

Timer trigger outputs (TRGO, compare events) are published by the timers to subscribers
(``subscribe_trigger``), for the ADC's external triggers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def owner_name(request: str) -> str:
    """The board name of the peripheral that raises ``request`` (``USART2_TX`` -> ``usart2``)."""
    return request.split("_", 1)[0].lower()


class DmaRequester:
    """Mixin for peripherals that raise DMA requests (see the module docstring)."""

    host: Any
    _dma_controllers: list[Any] | None = None

    def dma_pending(self, request: str) -> bool:
        """Is the request line asserted now? (override)"""
        return False

    def dma_ack(self, request: str) -> None:
        """The DMA served one transfer of ``request`` (override where the ack changes state)."""

    def dma_controllers(self) -> list[Any]:
        if self._dma_controllers is None:
            found = []
            for name in ("dma1", "dma2"):
                dma = self.host.peripheral(name)
                if dma is not None and hasattr(dma, "serve"):
                    found.append(dma)
            self._dma_controllers = found
        return self._dma_controllers

    def dma_request(self, request: str) -> bool:
        """The line ``request`` may be asserted: let a DMA stream that selects it transfer. True if one did."""
        for dma in self.dma_controllers():
            if dma.serve(request, self):
                return True
        return False


class TriggerSource:
    """Mixin for timers: subscribers to their trigger outputs (``TRGO``, ``CC1``..``CC4``)."""

    _subscribers: dict[str, list[Callable[[], None]]]

    def subscribe_trigger(self, output: str, callback: Callable[[], None]) -> None:
        self._subscribers.setdefault(output, []).append(callback)
        self.triggers_changed()

    def unsubscribe_trigger(self, output: str, callback: Callable[[], None]) -> None:
        subs = self._subscribers.get(output, [])
        if callback in subs:
            subs.remove(callback)
        self.triggers_changed()

    def has_subscribers(self, output: str) -> bool:
        return bool(self._subscribers.get(output))

    def fire_trigger(self, output: str) -> None:
        for cb in list(self._subscribers.get(output, ())):
            cb()

    def triggers_changed(self) -> None:
        """A subscriber came or went: the timer may need (or no longer need) events (override)."""
