/*
 * mps2_periph: the MPS2 AN386 blocks simcore models, checked the same way on QEMU.
 *
 * SCC identification registers, the CMSDK timer's and dual timer's interrupts (waited
 * for with wfi, PRIMASK set across the check), FPGA I/O LED/switch/prescaler registers and
 * the prescaled counter. Only facts that do not depend on timing are printed, so simcore and QEMU (no -icount) agree.
 */
#include <stdint.h>
#include <stdio.h>

#define REG(addr) (*(volatile uint32_t *)(addr))

#define SCC_CFG4 REG(0x4002F010u)
#define SCC_AID REG(0x4002FFF8u)
#define SCC_ID REG(0x4002FFFCu)

#define T0_CTRL REG(0x40000000u)
#define T0_VALUE REG(0x40000004u)
#define T0_RELOAD REG(0x40000008u)
#define T0_INT REG(0x4000000Cu)

#define DT1_LOAD REG(0x40002000u)
#define DT1_CTRL REG(0x40002008u)
#define DT1_INTCLR REG(0x4000200Cu)
#define DT1_RIS REG(0x40002010u)

#define FPGA_LED0 REG(0x40028000u)
#define FPGA_COUNTER REG(0x40028018u)
#define FPGA_PRESCALE REG(0x4002801Cu)
#define FPGA_PSCNTR REG(0x40028020u)

#define NVIC_ISER0 REG(0xE000E100u)

static volatile unsigned timer0_irqs, dualtimer_irqs;

/* The handlers stop their timer at the wanted count: on QEMU (no -icount) time runs with the
 * host clock, so main could see one more interrupt before it got to stop the timer. */
void IRQ8_Handler(void) {
    T0_INT = 1; /* INTCLEAR: drops the level interrupt */
    if (++timer0_irqs == 3) T0_CTRL = 0;
}

void IRQ10_Handler(void) {
    DT1_INTCLR = 1;
    if (++dualtimer_irqs == 2) DT1_CTRL = 0x20u;
}

/* Sleep until *count reaches n. PRIMASK is set across the check and the wfi: an interrupt that
 * arrives between them stays pending and still wakes the wfi (ARMv7-M B1.5.19: WFI wakes on a
 * pending exception that PRIMASK masks), and is taken at the cpsie. Without it, on QEMU (host
 * time) the last interrupt could land between the check and the wfi; the handler has stopped
 * its timer, so nothing would wake the wfi again. */
static void wait_for(volatile unsigned *count, unsigned n) {
    __asm volatile("cpsid i" ::: "memory");
    while (*count < n) {
        __asm volatile("wfi");
        __asm volatile("cpsie i\n\tisb\n\tcpsid i" ::: "memory");
    }
    __asm volatile("cpsie i" ::: "memory");
}

int main(void) {
    printf("SCC ID %08lx AID %08lx CFG4 %lx\n", (unsigned long)SCC_ID, (unsigned long)SCC_AID,
           (unsigned long)SCC_CFG4);

    NVIC_ISER0 = (1u << 8) | (1u << 10);
    T0_RELOAD = 2500;
    T0_VALUE = 2500;
    T0_CTRL = 1u | 8u; /* enable, interrupt enable */
    wait_for(&timer0_irqs, 3);
    printf("timer0: %u interrupts, reload %lu\n", timer0_irqs, (unsigned long)T0_RELOAD);

    DT1_LOAD = 1000;
    DT1_CTRL = 0x80u | 0x40u | 0x20u | 0x02u; /* enable, periodic, interrupt enable, 32-bit */
    wait_for(&dualtimer_irqs, 2);
    printf("dualtimer: %u interrupts, raw status %lu\n", dualtimer_irqs, (unsigned long)(DT1_RIS & 1u));

    FPGA_LED0 = 3;
    FPGA_PRESCALE = 24; /* COUNTER counts microseconds at 25 MHz */
    FPGA_COUNTER = 0;
    unsigned spins = 0;
    while (FPGA_COUNTER < 3 && spins < 1000000u) spins++;
    printf("fpgaio: LED0 %lu PRESCALE %lu COUNTER advanced %s, PSCNTR <= PRESCALE %s\n",
           (unsigned long)FPGA_LED0, (unsigned long)FPGA_PRESCALE, FPGA_COUNTER >= 3 ? "yes" : "no",
           FPGA_PSCNTR <= 24u ? "yes" : "no");
    return 0;
}
