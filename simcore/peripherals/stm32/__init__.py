"""Behavioural models of STM32F4 and STM32L4+ peripherals, written from the reference manuals
(RM0090 for the STM32F405/407, RM0432 for the STM32L4R5): one module per block."""
