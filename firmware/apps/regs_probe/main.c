/*
 * regs_probe: accesses simcore reports instead of emulating, one of each kind, then exit 0.
 *
 * The firmware's mistakes ("guest errors"), first:
 *   - a write to SCB CPUID (read-only)                            -> SCB.CPUID
 * then places simcore does not implement ("unimplemented"):
 *   - DWT CTRL.PCSAMPLENA (bit 12): a DWT feature not modelled     -> DWT.CTRL
 *   - the Flash Patch and Breakpoint unit's FP_CTRL 0xE0002000 (no
 *     FPB modelled), read twice and written once                   -> 0xe0002000
 *   - an address in the peripheral region with no model there,
 *     written once and read three times                            -> 0x40020000
 * tests/integration/test_reports.py checks the places, the first PC of each (inside
 * probe_* below), the read/write counts, and that --strict stops at the first one.
 */
#include <stdint.h>
#include <stdio.h>

#define REG(addr) (*(volatile uint32_t *)(addr))
#define SCB_CPUID REG(0xE000ED00u)
#define DWT_CTRL REG(0xE0001000u)
#define DEMCR REG(0xE000EDFCu)
#define FP_CTRL REG(0xE0002000u)
#define NOWHERE REG(0x40020000u)

static volatile uint32_t sink;

__attribute__((noinline)) static void probe_guest_error(void)
{
    SCB_CPUID = 0x12345678u;
}

__attribute__((noinline)) static void probe_unimplemented(void)
{
    DEMCR |= 1u << 24; /* TRCENA: modelled */
    DWT_CTRL |= (1u << 12) | 1u; /* PCSAMPLENA: not modelled; CYCCNTENA: modelled */
    sink = FP_CTRL;
    FP_CTRL = 0;
    sink = FP_CTRL;
    NOWHERE = 1u;
    for (int i = 0; i < 3; i++) {
        sink += NOWHERE;
    }
}

int main(void)
{
    probe_guest_error();
    probe_unimplemented();
    printf("regs_probe: done, CPUID still %08lx\n", (unsigned long)SCB_CPUID);
    return 0;
}
