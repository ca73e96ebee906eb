/*
 * nrf_nvmc: keep data in flash (PS v1.7 section 4.3 NVMC) made of random bytes (6.21 RNG).
 *
 *   RNG       bias correction on (CONFIG.DERCEN), TASKS_START, 8 bytes read at EVENTS_VALRDY, STOP;
 *   erase     CONFIG = Een, ERASEPAGE = the last page (0xFF000), wait for READY (85 ms);
 *   write     CONFIG = Wen, two 32-bit stores of the random bytes, READY after each (41 us);
 *   read      CONFIG = Ren, the words read back as plain memory.
 *
 * Prints the bytes, the words read back and the cycles each step took; the same seed gives the
 * same bytes every run.
 */
#include <stdio.h>

#include "../nrf_clock/nrf52.h"

#define RNG_BASE 0x4000D000u
#define RNG_TASKS_START NRF_REG(RNG_BASE, 0x000u)
#define RNG_TASKS_STOP NRF_REG(RNG_BASE, 0x004u)
#define RNG_EVENTS_VALRDY NRF_REG(RNG_BASE, 0x100u)
#define RNG_CONFIG NRF_REG(RNG_BASE, 0x504u)
#define RNG_VALUE NRF_REG(RNG_BASE, 0x508u)

#define NVMC_BASE 0x4001E000u
#define NVMC_READY NRF_REG(NVMC_BASE, 0x400u)
#define NVMC_CONFIG NRF_REG(NVMC_BASE, 0x504u)
#define NVMC_ERASEPAGE NRF_REG(NVMC_BASE, 0x508u)
#define NVMC_CONFIG_REN 0u
#define NVMC_CONFIG_WEN 1u
#define NVMC_CONFIG_EEN 2u

#define PAGE_ADDR 0x000FF000u

static void nvmc_wait(void)
{
    while (NVMC_READY == 0) {
    }
}

int main(void)
{
    cycles_start();
    uint8_t bytes[8];
    RNG_CONFIG = 1u; /* DERCEN */
    RNG_EVENTS_VALRDY = 0;
    RNG_TASKS_START = 1;
    uint32_t t = DWT_CYCCNT;
    for (unsigned i = 0; i < sizeof bytes; i++) {
        while (RNG_EVENTS_VALRDY == 0) {
        }
        RNG_EVENTS_VALRDY = 0;
        bytes[i] = (uint8_t)RNG_VALUE;
    }
    RNG_TASKS_STOP = 1;
    uint32_t rng_cycles = DWT_CYCCNT - t;
    printf("nrf_nvmc: RNG bytes");
    for (unsigned i = 0; i < sizeof bytes; i++)
        printf(" %02x", bytes[i]);
    printf(" in %lu cycles\n", (unsigned long)rng_cycles);

    volatile uint32_t *page = (volatile uint32_t *)PAGE_ADDR;
    NVMC_CONFIG = NVMC_CONFIG_EEN;
    nvmc_wait();
    t = DWT_CYCCNT;
    NVMC_ERASEPAGE = PAGE_ADDR;
    nvmc_wait();
    uint32_t erase_cycles = DWT_CYCCNT - t;
    NVMC_CONFIG = NVMC_CONFIG_REN;
    printf("erased page %08lx in %lu cycles: %08lx %08lx\n", (unsigned long)PAGE_ADDR, (unsigned long)erase_cycles,
           (unsigned long)page[0], (unsigned long)page[1]);

    uint32_t w0 = (uint32_t)bytes[0] | (uint32_t)bytes[1] << 8 | (uint32_t)bytes[2] << 16 | (uint32_t)bytes[3] << 24;
    uint32_t w1 = (uint32_t)bytes[4] | (uint32_t)bytes[5] << 8 | (uint32_t)bytes[6] << 16 | (uint32_t)bytes[7] << 24;
    NVMC_CONFIG = NVMC_CONFIG_WEN;
    nvmc_wait();
    t = DWT_CYCCNT;
    page[0] = w0;
    nvmc_wait();
    page[1] = w1;
    nvmc_wait();
    uint32_t write_cycles = DWT_CYCCNT - t;
    NVMC_CONFIG = NVMC_CONFIG_REN;
    nvmc_wait();
    printf("wrote 2 words in %lu cycles, read back %08lx %08lx: %s\n", (unsigned long)write_cycles,
           (unsigned long)page[0], (unsigned long)page[1], page[0] == w0 && page[1] == w1 ? "ok" : "MISMATCH");
    return page[0] == w0 && page[1] == w1 ? 0 : 1;
}
