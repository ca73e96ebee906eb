/*
 * STM32F405/407 (RM0090) and STM32L4R5 (RM0432) clock registers for simcore's clock apps:
 * offsets and bits from the reference manuals' register maps, written for simcore (not CMSIS).
 * Shared by the apps as "../clock_max/stm32.h". The family follows from the board's console.
 */
#ifndef SIMCORE_STM32_H
#define SIMCORE_STM32_H

#include <stdint.h>

#include "board.h"

#define REG32(addr) (*(volatile uint32_t *)(addr))

#if defined(BOARD_CONSOLE_KIND_STM32F4_USART)
#define STM32F4 1
/* RM0090 7.3: RCC */
#define RCC_CR REG32(RCC_BASE + 0x00u)
#define RCC_PLLCFGR REG32(RCC_BASE + 0x04u)
#define RCC_CFGR REG32(RCC_BASE + 0x08u)
#define RCC_APB1ENR REG32(RCC_BASE + 0x40u)
#define RCC_BDCR REG32(RCC_BASE + 0x70u)
#define RCC_CSR REG32(RCC_BASE + 0x74u)
#define RCC_CR_HSION (1u << 0)
#define RCC_CR_HSIRDY (1u << 1)
#define RCC_CR_HSEON (1u << 16)
#define RCC_CR_HSERDY (1u << 17)
#define RCC_CR_PLLON (1u << 24)
#define RCC_CR_PLLRDY (1u << 25)
#define RCC_PLLCFGR_SRC_HSE (1u << 22)
#define RCC_CFGR_SW_MASK 3u
#define RCC_CFGR_SW_HSI 0u
#define RCC_CFGR_SW_HSE 1u
#define RCC_CFGR_SW_PLL 2u
#define RCC_CFGR_SWS_PLL (2u << 2)
#define RCC_CFGR_PPRE1_DIV4 (5u << 10)
#define RCC_CFGR_PPRE2_DIV2 (4u << 13)
#define RCC_APB1ENR_WWDGEN (1u << 11)
#define RCC_APB1ENR_PWREN (1u << 28)
#define RCC_CSR_LSION (1u << 0)
#define RCC_CSR_LSIRDY (1u << 1)
#define RCC_CSR_RMVF (1u << 24)
#define RCC_CSR_IWDGRSTF (1u << 29)
#define RCC_CSR_WWDGRSTF (1u << 30)
/* RM0090 5.4: PWR */
#define PWR_CR REG32(PWR_BASE + 0x00u)
#define PWR_CR_DBP (1u << 8)
#define PWR_CR_VOS (1u << 14)
/* RM0090 3.9: FLASH */
#define FLASH_ACR REG32(FLASH_BASE + 0x00u)
#define FLASH_ACR_LATENCY_MASK 7u
#elif defined(BOARD_CONSOLE_KIND_STM32L4_USART)
#define STM32L4 1
/* RM0432 6.4: RCC */
#define RCC_CR REG32(RCC_BASE + 0x00u)
#define RCC_CFGR REG32(RCC_BASE + 0x08u)
#define RCC_PLLCFGR REG32(RCC_BASE + 0x0Cu)
#define RCC_APB1ENR1 REG32(RCC_BASE + 0x58u)
#define RCC_BDCR REG32(RCC_BASE + 0x90u)
#define RCC_CSR REG32(RCC_BASE + 0x94u)
#define RCC_CR_MSION (1u << 0)
#define RCC_CR_MSIRDY (1u << 1)
#define RCC_CR_PLLON (1u << 24)
#define RCC_CR_PLLRDY (1u << 25)
#define RCC_CFGR_SW_MASK 3u
#define RCC_CFGR_SW_MSI 0u
#define RCC_CFGR_SW_PLL 3u
#define RCC_CFGR_SWS_PLL (3u << 2)
#define RCC_CFGR_HPRE_MASK (15u << 4)
#define RCC_CFGR_HPRE_DIV2 (8u << 4)
#define RCC_PLLCFGR_SRC_MSI 1u
#define RCC_PLLCFGR_REN (1u << 24)
#define RCC_APB1ENR1_RTCAPBEN (1u << 10)
#define RCC_APB1ENR1_WWDGEN (1u << 11)
#define RCC_APB1ENR1_PWREN (1u << 28)
#define RCC_CSR_LSION (1u << 0)
#define RCC_CSR_LSIRDY (1u << 1)
#define RCC_CSR_RMVF (1u << 23)
#define RCC_CSR_IWDGRSTF (1u << 29)
#define RCC_CSR_WWDGRSTF (1u << 30)
/* RM0432 6.4: PWR */
#define PWR_CR1 REG32(PWR_BASE + 0x00u)
#define PWR_SR2 REG32(PWR_BASE + 0x14u)
#define PWR_CR5 REG32(PWR_BASE + 0x80u)
#define PWR_CR1_DBP (1u << 8)
#define PWR_SR2_VOSF (1u << 10)
#define PWR_CR5_R1MODE (1u << 8)
/* RM0432 3.7: FLASH */
#define FLASH_ACR REG32(FLASH_BASE + 0x00u)
#define FLASH_ACR_LATENCY_MASK 15u
#else
#error "clock apps: an STM32F4 or STM32L4 board"
#endif

#define RCC_BDCR_LSEON (1u << 0)
#define RCC_BDCR_LSERDY (1u << 1)
#define RCC_BDCR_RTCSEL_LSE (1u << 8)
#define RCC_BDCR_RTCSEL_LSI (2u << 8)
#define RCC_BDCR_RTCEN (1u << 15)
#define FLASH_ACR_PRFTEN (1u << 8)
#define FLASH_ACR_ICEN (1u << 9)
#define FLASH_ACR_DCEN (1u << 10)

#endif
