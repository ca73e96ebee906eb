/*
 * stackhog: recursion with a known stack footprint, for simcore's stack high-water report.
 *
 * hog() recurses STACKHOG_DEPTH levels; each level keeps a STACKHOG_FRAME-byte array live
 * on the stack. The program measures its own use two ways and prints both:
 *   - frame: the distance between the stack pointers of two successive levels;
 *   - high-water: the stack is painted with a pattern below the current SP before the
 *     recursion and scanned afterwards for the lowest overwritten word.
 * simcore's stack high-water for a run of this program must cover
 * (__StackTop - deepest SP) as printed here. Exit status 2 if SP went below __StackLimit.
 */
#include <stdint.h>
#include <stdio.h>

#ifndef STACKHOG_DEPTH
#define STACKHOG_DEPTH 32
#endif
#ifndef STACKHOG_FRAME
#define STACKHOG_FRAME 128
#endif
#define PAINT 0xC5C5C5C5u

extern uint32_t __StackTop[], __StackLimit[];

static uintptr_t sp_at[3];
static uintptr_t deepest_sp = UINTPTR_MAX;

static inline uintptr_t current_sp(void)
{
    uintptr_t sp;
    __asm__ volatile("mov %0, sp" : "=r"(sp));
    return sp;
}

__attribute__((noinline)) static uint32_t hog(int depth)
{
    volatile uint8_t frame[STACKHOG_FRAME];
    uintptr_t sp = current_sp();
    if (depth < 3)
        sp_at[depth] = sp;
    if (sp < deepest_sp)
        deepest_sp = sp;
    for (int i = 0; i < STACKHOG_FRAME; i++)
        frame[i] = (uint8_t)(depth + i);
    uint32_t sum = 0;
    if (depth + 1 < STACKHOG_DEPTH)
        sum = hog(depth + 1);
    for (int i = 0; i < STACKHOG_FRAME; i += 16)
        sum += frame[i];
    return sum;
}

/* Paint from __StackLimit up to a margin below the current SP (this function's frame). */
__attribute__((noinline)) static void paint(void)
{
    uint32_t *p = __StackLimit;
    uint32_t *stop = (uint32_t *)(current_sp() - 64);
    while (p < stop)
        *p++ = PAINT;
}

__attribute__((noinline)) static uintptr_t high_water(void)
{
    uint32_t *p = __StackLimit;
    while (p < __StackTop && *p == PAINT)
        p++;
    return (uintptr_t)p;
}

int main(void)
{
    uintptr_t top = (uintptr_t)__StackTop;
    uintptr_t size = top - (uintptr_t)__StackLimit;
    paint();
    uint32_t sum = hog(0);
    uintptr_t mark = high_water();
    printf("stackhog: depth %d, %d-byte array per level, result %lu\n", STACKHOG_DEPTH, STACKHOG_FRAME,
           (unsigned long)sum);
    printf("stackhog: frame %lu bytes per level\n", (unsigned long)(sp_at[0] - sp_at[1]));
    printf("stackhog: deepest SP is %lu bytes below __StackTop (stack size %lu)\n",
           (unsigned long)(top - deepest_sp), (unsigned long)size);
    printf("stackhog: painted high-water %lu bytes\n", (unsigned long)(top - mark));
    if (deepest_sp < (uintptr_t)__StackLimit) {
        printf("stackhog: STACK OVERFLOW: SP went %lu bytes below __StackLimit\n",
               (unsigned long)((uintptr_t)__StackLimit - deepest_sp));
        return 2;
    }
    return 0;
}
