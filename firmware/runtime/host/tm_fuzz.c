/*
 * tm_fuzz - mutation fuzzing of the model loader without libFuzzer.
 *
 *   tm_fuzz model.tflite [iterations] [seed]
 * Each iteration copies the valid model, damages it (random byte flips, 32-bit
 * overwrites with boundary values, or truncation), runs tm_init and, when the model
 * is still accepted, tm_invoke on random inputs. Built with ASan/UBSan, any
 * out-of-bounds access or undefined behaviour aborts the process; a clean exit with
 * the summary line means no iteration crashed. Damage includes NaN/inf/huge float patterns
 * and huge dimensions; float inputs are sometimes NaN or infinite; -fsanitize=float-cast-overflow
 * catches a non-finite or out-of-range float converted to an integer.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tm.h"

static tm_interp_t interp;
static unsigned char arena[256 * 1024];

static uint32_t rng_state;
static uint32_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 17;
    rng_state ^= rng_state << 5;
    return rng_state;
}

int main(int argc, char **argv)
{
    if (argc < 2) { fprintf(stderr, "usage: %s model.tflite [iterations] [seed]\n", argv[0]); return 1; }
    long iters = argc > 2 ? strtol(argv[2], NULL, 0) : 2000;
    rng_state = argc > 3 ? (uint32_t)strtoul(argv[3], NULL, 0) : 12345u;
    if (!rng_state) rng_state = 1;
    FILE *f = fopen(argv[1], "rb");
    if (!f) { fprintf(stderr, "cannot open %s\n", argv[1]); return 1; }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *orig = malloc((size_t)n), *buf = malloc((size_t)n);
    if (!orig || !buf || fread(orig, 1, (size_t)n, f) != (size_t)n) return 1;
    fclose(f);
    if (tm_init(orig, (size_t)n, arena, sizeof arena, &interp) != TM_OK) {
        fprintf(stderr, "the unmodified model is refused: %s\n", tm_error_message(&interp));
        return 1;
    }
    long accepted = 0, refused = 0;
    /* boundary integers, huge dimensions, and float bit patterns: NaN, +-inf, FLT_MAX, the smallest
     * denormal, +-1, 2^31 (scales, zero points and options reach float-to-int conversions) */
    static const uint32_t special[] = {0, 1, 0x7f, 0x80, 0xff, 0x7fffffff, 0x80000000u, 0xffffffffu, 0xfffffffcu, 16,
                                       0x10000, 0x0fffffff, 0x10000000, 0x40000000, 0x7fc00000u, 0x7f800000u,
                                       0xff800000u, 0x7f7fffffu, 0x00000001u, 0x3f800000u, 0xbf800000u, 0x4f000000u};
    static const uint32_t float_special[] = {0x7fc00000u, 0x7f800000u, 0xff800000u, 0x7f7fffffu, 0xff7fffffu,
                                             0x00000001u, 0x4f000000u, 0xcf000000u};
    for (long it = 0; it < iters; it++) {
        size_t len = (size_t)n;
        memcpy(buf, orig, len);
        uint32_t kind = rnd() % 4;
        if (kind == 0) {
            len = rnd() % (uint32_t)n;
        } else if (kind == 1) {
            for (uint32_t k = 1 + rnd() % 8; k; k--) buf[rnd() % (uint32_t)n] ^= (unsigned char)(1u << (rnd() % 8));
        } else if (kind == 2) {
            uint32_t v = special[rnd() % (sizeof special / sizeof special[0])];
            size_t at = rnd() % (uint32_t)(n - 4);
            memcpy(buf + at, &v, 4);
        } else {
            for (uint32_t k = 1 + rnd() % 4; k; k--) buf[rnd() % (uint32_t)n] = (unsigned char)rnd();
        }
        if (tm_init(buf, len, arena, sizeof arena, &interp) != TM_OK) {
            if (!tm_error_message(&interp)[0]) { fprintf(stderr, "iteration %ld: refused without a message\n", it); return 1; }
            refused++;
            continue;
        }
        accepted++;
        for (int i = 0; i < tm_num_inputs(&interp); i++) {
            tm_tensor_t *t = tm_input(&interp, i);
            for (uint32_t b = 0; b < t->bytes; b++) ((unsigned char *)t->data)[b] = (unsigned char)rnd();
            if (t->type == TM_FLOAT32) { /* mostly finite and small; one iteration in four NaN, inf, huge */
                const int wild = rnd() % 4 == 0;
                for (uint32_t b = 0; b + 4 <= t->bytes; b += 4) {
                    float v = (float)((int)(rnd() % 2001) - 1000) / 100.0f;
                    if (wild && rnd() % 2) {
                        uint32_t w = float_special[rnd() % (sizeof float_special / sizeof float_special[0])];
                        memcpy(&v, &w, 4);
                    }
                    memcpy((unsigned char *)t->data + b, &v, 4);
                }
            }
        }
        tm_invoke(&interp);
    }
    printf("fuzz: %ld iterations, %ld accepted, %ld refused, 0 crashes\n", iters, accepted, refused);
    free(orig);
    free(buf);
    return 0;
}
