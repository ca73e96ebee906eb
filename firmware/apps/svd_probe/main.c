/*
 * svd_probe: driver start-up sequences for peripherals simcore does not model, on a real part.
 *
 * Every register of the part's SVD exists in simcore: one that no model implements reads its
 * reset value and keeps what is written, and is reported ("not implemented by simcore") with
 * the PC and function of its first access, read/write counts and the fields writes changed.
 * The sequences follow the reference manuals; register addresses and bits are the manuals'.
 *
 * STM32F407 (RM0090): bxCAN initialisation (32.4.1: request init mode with MCR.INRQ, wait for
 *   MSR.INAK with a bounded loop as drivers do, set the bit timing in BTR), SDIO power-on
 *   (31.9.1-2: POWER.PWRCTRL, CLKCR.CLKDIV/CLKEN), DAC channel 1 set-up (14.5.1: CR), an SRAM bank
 *   on the FSMC (36.5.6: BCR1, outside the peripheral region at 0xA0000000) and DBGMCU (38.16:
 *   IDCODE read, CR.DBG_SLEEP set; in the external PPB at 0xE0042000).
 * nRF52840 (PS v1.7): QDEC set-up (6.19: SAMPLEPER, PSEL.A/B, INTENSET, ENABLE, TASKS_START)
 *   and COMP (6.6: PSEL, REFSEL, ENABLE).
 * tests/integration/test_svd_reports.py checks the names, functions, counts and --strict.
 */
#include <stdint.h>
#include <stdio.h>

#include "board.h"

#define REG(addr) (*(volatile uint32_t *)(addr))

#if defined(BOARD_SVD_STM32F407VG)
#define CAN1 0x40006400u
#define CAN_MCR REG(CAN1 + 0x000u)
#define CAN_MSR REG(CAN1 + 0x004u)
#define CAN_BTR REG(CAN1 + 0x01Cu)
#define MCR_INRQ (1u << 0)
#define MCR_SLEEP (1u << 1)
#define MSR_INAK (1u << 0)
#define SDIO 0x40012C00u
#define SDIO_POWER REG(SDIO + 0x00u)
#define SDIO_CLKCR REG(SDIO + 0x04u)
#define DAC_CR REG(0x40007400u)
#define FSMC_BCR1 REG(0xA0000000u)
#define DBGMCU_IDCODE REG(0xE0042000u)
#define DBGMCU_CR REG(0xE0042004u)

__attribute__((noinline)) static int can_init(void)
{
    CAN_MCR = (CAN_MCR & ~MCR_SLEEP) | MCR_INRQ; /* leave sleep, request initialisation */
    int tries = 0;
    while (!(CAN_MSR & MSR_INAK) && ++tries < 1000) {
    }
    /* 500 kbit/s from a 42 MHz APB1 clock: BRP 6, TS1 10, TS2 2, SJW 1 (RM0090 32.7.7) */
    CAN_BTR = (0u << 24) | (1u << 20) | (9u << 16) | (5u << 0);
    return tries;
}

__attribute__((noinline)) static void sdio_power_on(void)
{
    SDIO_POWER = 0x3u;                  /* PWRCTRL: power on */
    SDIO_CLKCR = (1u << 8) | 118u;      /* CLKEN, CLKDIV for 400 kHz from 48 MHz */
}

__attribute__((noinline)) static void dac_setup(void)
{
    DAC_CR = (1u << 2) | (1u << 1);     /* TEN1 (trigger enable), BOFF1 (output buffer off) */
    DAC_CR |= 1u << 0;                  /* EN1 */
}

__attribute__((noinline)) static uint32_t debug_and_memory_setup(void)
{
    DBGMCU_CR |= 1u << 0;                      /* DBG_SLEEP: keep the debug clock in Sleep */
    FSMC_BCR1 = (FSMC_BCR1 & ~0xCu) | (1u << 4) | 1u; /* SRAM, 16-bit bus, MBKEN */
    return DBGMCU_IDCODE;
}

int main(void)
{
    int tries = can_init();
    printf("svd_probe: CAN1 MSR %08lx after %d polls (INAK %s)\n", (unsigned long)CAN_MSR, tries,
           (CAN_MSR & MSR_INAK) ? "set" : "never set");
    sdio_power_on();
    dac_setup();
    printf("svd_probe: SDIO POWER %08lx CLKCR %08lx, DAC CR %08lx\n", (unsigned long)SDIO_POWER,
           (unsigned long)SDIO_CLKCR, (unsigned long)DAC_CR);
    uint32_t idcode = debug_and_memory_setup();
    printf("svd_probe: DBGMCU IDCODE %08lx CR %08lx, FSMC BCR1 %08lx\n", (unsigned long)idcode,
           (unsigned long)DBGMCU_CR, (unsigned long)FSMC_BCR1);
    return 0;
}

#elif defined(BOARD_SVD_NRF52840)
#define QDEC 0x40012000u
#define QDEC_TASKS_START REG(QDEC + 0x000u)
#define QDEC_INTENSET REG(QDEC + 0x304u)
#define QDEC_INTENCLR REG(QDEC + 0x308u)
#define QDEC_ENABLE REG(QDEC + 0x500u)
#define QDEC_SAMPLEPER REG(QDEC + 0x508u)
#define QDEC_PSEL_A REG(QDEC + 0x520u)
#define QDEC_PSEL_B REG(QDEC + 0x524u)
#define COMP 0x40013000u
#define COMP_ENABLE REG(COMP + 0x500u)
#define COMP_PSEL REG(COMP + 0x504u)
#define COMP_REFSEL REG(COMP + 0x508u)

__attribute__((noinline)) static void qdec_setup(void)
{
    QDEC_SAMPLEPER = 7u;               /* 16384 us */
    QDEC_PSEL_A = 3u;                  /* P0.03, connected */
    QDEC_PSEL_B = 4u;
    QDEC_INTENSET = (1u << 1) | (1u << 0); /* REPORTRDY, SAMPLERDY */
    QDEC_INTENCLR = 1u << 0;
    QDEC_ENABLE = 1u;
    QDEC_TASKS_START = 1u;
}

__attribute__((noinline)) static void comp_setup(void)
{
    COMP_PSEL = 2u;                    /* AIN2 */
    COMP_REFSEL = 4u;                  /* VDD */
    COMP_ENABLE = 2u;
}

int main(void)
{
    qdec_setup();
    comp_setup();
    printf("svd_probe: QDEC INTEN %08lx PSEL.A %08lx, COMP ENABLE %08lx\n", (unsigned long)QDEC_INTENSET,
           (unsigned long)QDEC_PSEL_A, (unsigned long)COMP_ENABLE);
    return 0;
}
#endif
