/*
 * rdimon_layout: where a plain newlib semihosting program (--specs=rdimon.specs) finds its stack
 * and heap. Its start-up code asks SYS_HEAPINFO and moves SP to the answer's stack base; malloc
 * takes memory from the heap. tests/integration/test_qemu.py compares the addresses with QEMU's
 * (-M mps2-an386: stack at the top of the 16 MiB PSRAM, not in the code SSRAM holding the image).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int main(void) {
    volatile uint32_t local = 0;
    struct {
        uint32_t heap_base, heap_limit, stack_base, stack_limit;
    } info;
    uint32_t *block = (uint32_t *)&info;
    register uint32_t r0 __asm__("r0") = 0x16; /* SYS_HEAPINFO */
    register uint32_t *r1 __asm__("r1") = (uint32_t *)&block;
    __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
    printf("heapinfo heap %08lx-%08lx stack %08lx-%08lx\n", (unsigned long)info.heap_base,
           (unsigned long)info.heap_limit, (unsigned long)info.stack_limit, (unsigned long)info.stack_base);
    printf("stack near %08lx\n", (unsigned long)(uintptr_t)&local & ~0xFFul);
    char *p = malloc(100);
    printf("malloc %s\n", p != NULL ? "ok" : "failed");
    free(p);
    return (int)(local);
}
