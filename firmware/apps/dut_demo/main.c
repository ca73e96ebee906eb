/*
 * dut_demo: the firmware behind simcore's test API, pytest plugin, gdb server tests and examples.
 *
 * - Globals of the shapes the API reads and writes through DWARF: integers of each width,
 *   float, double, bool, an enum, arrays (1-D and 2-D), a struct with a nested struct and a
 *   char array, an array of structs, a pointer.
 * - Plain C functions a test calls directly, without main's help (unit tests of C code):
 *   integer, float and double arguments, more than four arguments (on the stack), 64-bit
 *   values, pointers to buffers the test passes in.
 * - SysTick at 1 kHz counts `ticks` in its handler; main sleeps in wfi until 5 ticks, prints
 *   "ready", then by `mode` (a test writes it before the run):
 *     MODE_REPORT (0): prints results of the functions and exits 0;
 *     MODE_SPIN   (1): counts in `spins` forever (for Ctrl-C / budgets);
 *     MODE_ECHO   (2): reads a line from the console input (semihosting SYS_READC, fed by
 *                      dut.write) and prints "echo: <line>", then reports and exits.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "board.h"
#include "semihosting.h"

#define SYST_CSR (*(volatile uint32_t *)0xE000E010u)
#define SYST_RVR (*(volatile uint32_t *)0xE000E014u)
#define SYST_CVR (*(volatile uint32_t *)0xE000E018u)
#define NOINLINE __attribute__((noinline))

typedef enum { MODE_REPORT = 0, MODE_SPIN = 1, MODE_ECHO = 2 } demo_mode;

struct point {
    int16_t x, y;
};

struct config {
    uint8_t id;
    bool enabled;
    float gain;
    struct point origin;
    char name[8];
};

volatile demo_mode mode = MODE_REPORT;
volatile uint32_t ticks;
volatile uint32_t spins;
int32_t counter = -5;
uint8_t bytes8[4] = {1, 2, 3, 4};
int16_t matrix[2][3] = {{1, 2, 3}, {4, 5, 6}};
float fscale = 1.5f;
double dvalue = 2.25;
uint64_t big = 0x123456789ull;
struct config cfg = {7, true, 0.5f, {-3, 4}, "demo"};
struct point path[3] = {{0, 0}, {10, -10}, {20, 5}};
const char *greeting = "hello";
char line[32];

void SysTick_Handler(void)
{
    ticks++;
}

NOINLINE int add(int a, int b)
{
    return a + b;
}

NOINLINE float scale(float x, float k)
{
    return x * k * fscale;
}

NOINLINE double mix(double a, float b, int c)
{
    return a * (double)b + (double)c;
}

NOINLINE int64_t mul64(int64_t a, int32_t b)
{
    return a * b;
}

NOINLINE int sum6(int a, int b, int c, int d, int e, int f)
{
    return a + 2 * b + 3 * c + 4 * d + 5 * e + 6 * f;
}

NOINLINE uint32_t checksum(const uint8_t *p, uint32_t n)
{
    uint32_t sum = 0;
    for (uint32_t i = 0; i < n; i++)
        sum = (sum << 1 | sum >> 31) ^ p[i];
    return sum;
}

NOINLINE void fill(int16_t *dst, int n, int16_t first)
{
    for (int i = 0; i < n; i++)
        dst[i] = (int16_t)(first + i);
}

NOINLINE int config_score(const struct config *c)
{
    return c->id * 100 + c->origin.x * 10 + c->origin.y + (c->enabled ? 1000 : 0);
}

NOINLINE unsigned read_line(char *buf, unsigned size)
{
    unsigned n = 0;
    for (;;) {
        int c = sh_call(0x07 /* SYS_READC */, 0);
        if (c < 0 || c == '\n' || n + 1 >= size)
            break;
        buf[n++] = (char)c;
    }
    buf[n] = 0;
    return n;
}

int main(void)
{
    SYST_RVR = BOARD_DEFAULT_MHZ * 1000u - 1u;
    SYST_CVR = 0;
    SYST_CSR = 7u; /* core clock, TICKINT, ENABLE */
    while (ticks < 5)
        __asm__ volatile("wfi" ::: "memory");
    printf("ready\n");
    if (mode == MODE_SPIN) {
        for (;;)
            spins++;
    }
    if (mode == MODE_ECHO) {
        read_line(line, sizeof line);
        printf("echo: %s\n", line);
    }
    int16_t buf[4];
    fill(buf, 4, (int16_t)counter);
    printf("add %d scale %d mix %d mul64 %ld sum6 %d\n", add(2, 3), (int)scale(2.0f, 3.0f),
           (int)mix(dvalue, 2.0f, 1), (long)(mul64((int64_t)big, -2) >> 8), sum6(1, 2, 3, 4, 5, 6));
    printf("checksum %lu fill %d %d score %d %s %s\n", (unsigned long)checksum(bytes8, sizeof bytes8), buf[0],
           buf[3], config_score(&cfg), greeting, cfg.name);
    printf("matrix %d path %d ticks %lu\n", matrix[1][2], path[2].y, (unsigned long)ticks);
    return 0;
}
