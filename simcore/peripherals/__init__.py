"""Peripheral models, one module each, registered by their board-file ``type`` name.

Models are imported only when a board uses them (keeps ``simcore run`` start-up fast):
``_MODULES`` maps each type to the module that registers it.
"""

from __future__ import annotations

import importlib

from simcore.peripherals.base import Host, PeripheralModel, Register

_REGISTRY: dict[str, type[PeripheralModel]] = {}
_MODULES = {
    "stm32f4_usart": "stm32.usart",
    "stm32l4_usart": "stm32.usart",
    "nrf52_uarte": "nrf52.uarte",
    "cmsdk_uart": "uart",
    "cmsdk_timer": "cmsdk",
    "cmsdk_dualtimer": "cmsdk",
    "cmsdk_watchdog": "cmsdk_watchdog",
    "cmsdk_gpio": "cmsdk_gpio",
    "mps2_fpgaio": "cmsdk",
    "mps2_scc": "cmsdk",
    "simcore_mic": "sensors.mic",
    "nrf52_pdm": "sensors.mic",
    "simcore_imu": "sensors.imu",
    "simcore_camera": "sensors.camera",
    "simcore_adc": "sensors.adc",
    "simcore_gpio": "sensors.gpio",
    "nrf52_ficr": "nrf52_info",
    "nrf52_uicr": "nrf52_info",
    "nrf52_clock": "nrf52.clock",
    "nrf52_timer": "nrf52.timer",
    "nrf52_rtc": "nrf52.rtc",
    "nrf52_ppi": "nrf52.ppi",
    "nrf52_gpio": "nrf52.gpio",
    "nrf52_gpiote": "nrf52.gpio",
    "nrf52_twim": "nrf52.serial",
    "nrf52_spim": "nrf52.serial",
    "nrf52_saadc": "nrf52.saadc",
    "nrf52_rng": "nrf52.rng",
    "nrf52_nvmc": "nrf52.nvmc",
    "nrf52_wdt": "nrf52.wdt",
    "nrf52_temp": "nrf52.temp",
    "stm32f4_rcc": "stm32.rcc",
    "stm32l4_rcc": "stm32.rcc",
    "stm32f4_pwr": "stm32.pwr",
    "stm32l4_pwr": "stm32.pwr",
    "stm32f4_flash": "stm32.flash",
    "stm32l4_flash": "stm32.flash",
    "stm32f4_iwdg": "stm32.wdg",
    "stm32l4_iwdg": "stm32.wdg",
    "stm32f4_wwdg": "stm32.wdg",
    "stm32l4_wwdg": "stm32.wdg",
    "stm32l4_dfsdm": "stm32.dfsdm",
    "stm32f4_rtc": "stm32.rtc",
    "stm32l4_rtc": "stm32.rtc",
    "stm32f4_crc": "stm32.crc",
    "stm32l4_crc": "stm32.crc",
    "stm32f4_rng": "stm32.rng",
    "stm32l4_rng": "stm32.rng",
    "stm32f4_gpio": "stm32.gpio",
    "stm32l4_gpio": "stm32.gpio",
    "stm32f4_syscfg": "stm32.exti",
    "stm32l4_syscfg": "stm32.exti",
    "stm32f4_exti": "stm32.exti",
    "stm32l4_exti": "stm32.exti",
    "stm32_basic_timer": "stm32.tim",
    "stm32_timer": "stm32.tim",
    "stm32_advanced_timer": "stm32.tim",
    "stm32f4_dma": "stm32.dma",
    "stm32l4_dma": "stm32.dma",
    "stm32l47_dma": "stm32.dma",
    "stm32l4_dmamux": "stm32.dma",
    "stm32l4_sai": "stm32.sai",
    "stm32f4_i2c": "stm32.i2c",
    "stm32l4_i2c": "stm32.i2c",
    "stm32f4_spi": "stm32.spi",
    "stm32f4_spi_i2s": "stm32.i2s",
    "stm32l4_spi": "stm32.spi",
    "stm32f4_adc": "stm32.adc",
    "stm32f4_dcmi": "stm32.dcmi",
    "stm32l4_adc": "stm32.adc",
    "stm32f4_adc_common": "stm32.adc",
    "stm32l4_adc_common": "stm32.adc",
}


def register_model(cls: type[PeripheralModel]) -> type[PeripheralModel]:
    """Class decorator: make a model available to board files under ``cls.TYPE``."""
    _REGISTRY[cls.TYPE] = cls
    return cls


def known_types() -> set[str]:
    return set(_MODULES) | set(_REGISTRY)


def model_for(type_name: str) -> type[PeripheralModel]:
    if type_name not in _REGISTRY:
        importlib.import_module(f"simcore.peripherals.{_MODULES[type_name]}")
    return _REGISTRY[type_name]


__all__ = ["Host", "PeripheralModel", "Register", "register_model", "known_types", "model_for"]
