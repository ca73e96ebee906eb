/*
 * model_runner: any .tflite model, given at build time, on an emulated part.
 *
 *   make -C firmware model_runner MODEL=path/to/model.tflite INPUTS=path/to/inputs.npy BOARD=stm32f407vg
 *
 * The model and the raw input bytes (INPUTS converted by npy2bin.py: every graph input of
 * one inference back to back, inferences concatenated) are linked into flash by model.S
 * (.incbin). For each inference it prints the output bytes in hex and the cycles of every
 * op (DWT CYCCNT, runtime built with -DTM_OP_CYCLES=1); then the arena use. Lines (parsed
 * by simcore/ml.py):
 *
 *   MR_MODEL <model bytes> <ops> <inputs> <outputs> <optimized 0|1>
 *   MR_ARENA <bytes used> <arena bytes>
 *   MR_IO <in|out> <index> <TFLite type> <bytes> <dim 0> <dim 1> ...
 *   MR_OP <op index> <builtin code> <name>                  (once, execution order)
 *   MR_OUT <inference> <output index> <hex bytes>
 *   MR_CYC <inference> <invoke cycles> <op 0 cycles> <op 1 cycles> ...
 *   MR_DONE <inferences>
 *   MR_ERROR <status> <message>                              (tm_init failed; exit 2)
 *
 * ITM port 3 gets the inference index before tm_invoke and port 4 after it (the runtime
 * marks every op on ports 1 and 2).
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "tm.h"

#ifndef MR_ARENA_BYTES
#define MR_ARENA_BYTES (64 * 1024)
#endif
#ifndef TM_OPTIMIZED
#define TM_OPTIMIZED 0
#endif

#define DEMCR (*(volatile uint32_t *)0xE000EDFCu)
#define DWT_CTRL (*(volatile uint32_t *)0xE0001000u)
#define DWT_CYCCNT (*(volatile uint32_t *)0xE0001004u)
#define ITM_STIM(n) (*(volatile uint32_t *)(0xE0000000u + 4u * (n)))

extern const uint8_t mr_model[], mr_model_end[], mr_inputs[], mr_inputs_end[];

static tm_interp_t interp;
static uint8_t arena[MR_ARENA_BYTES] __attribute__((aligned(16)));

static void print_hex(const uint8_t *p, uint32_t n)
{
    static const char digits[] = "0123456789abcdef";
    char buf[65];
    uint32_t k = 0;
    for (uint32_t i = 0; i < n; i++) {
        buf[k++] = digits[p[i] >> 4];
        buf[k++] = digits[p[i] & 15];
        if (k == 64) {
            buf[k] = 0;
            fputs(buf, stdout);
            k = 0;
        }
    }
    buf[k] = 0;
    fputs(buf, stdout);
}

int main(void)
{
    const uint32_t model_len = (uint32_t)(mr_model_end - mr_model);
    tm_status st = tm_init(mr_model, model_len, arena, sizeof arena, &interp);
    if (st != TM_OK) {
        printf("MR_ERROR %d %s\n", (int)st, tm_error_message(&interp));
        return 2;
    }
    const int n_in = tm_num_inputs(&interp), n_out = tm_num_outputs(&interp);
    printf("MR_MODEL %lu %d %d %d %d\n", (unsigned long)model_len, (int)interp.n_ops, n_in, n_out, (int)TM_OPTIMIZED);
    printf("MR_ARENA %lu %lu\n", (unsigned long)tm_arena_used(&interp), (unsigned long)sizeof arena);
    for (int io = 0; io < 2; io++)
        for (int i = 0; i < (io ? n_out : n_in); i++) {
            const tm_tensor_t *t = io ? tm_output(&interp, i) : tm_input(&interp, i);
            printf("MR_IO %s %d %d %lu", io ? "out" : "in", i, (int)t->type, (unsigned long)t->bytes);
            for (int d = 0; d < t->ndims; d++)
                printf(" %ld", (long)t->dims[d]);
            fputs("\n", stdout);
        }
    for (int i = 0; i < interp.n_ops; i++)
        printf("MR_OP %d %d %s\n", i, (int)interp.ops[i].code, tm_op_name(interp.ops[i].code));

    uint32_t per = 0;
    for (int i = 0; i < n_in; i++)
        per += tm_input(&interp, i)->bytes;
    const uint32_t total = (uint32_t)(mr_inputs_end - mr_inputs);
    if (per == 0 || total % per != 0) {
        printf("MR_ERROR %d inputs hold %lu bytes, not a multiple of the %lu input bytes of one inference\n",
               (int)TM_ERR_ARG, (unsigned long)total, (unsigned long)per);
        return 2;
    }
    const uint32_t n = total / per;

    DEMCR |= 1u << 24;
    DWT_CYCCNT = 0;
    DWT_CTRL |= 1u;

    for (uint32_t v = 0; v < n; v++) {
        const uint8_t *src = mr_inputs + (size_t)v * per;
        for (int i = 0; i < n_in; i++) {
            tm_tensor_t *t = tm_input(&interp, i);
            memcpy(t->data, src, t->bytes);
            src += t->bytes;
        }
        ITM_STIM(3) = v;
        const uint32_t t0 = DWT_CYCCNT;
        st = tm_invoke(&interp);
        const uint32_t t1 = DWT_CYCCNT;
        ITM_STIM(4) = v;
        if (st != TM_OK) {
            printf("MR_ERROR %d %s\n", (int)st, tm_error_message(&interp));
            return 2;
        }
        for (int i = 0; i < n_out; i++) {
            const tm_tensor_t *t = tm_output(&interp, i);
            printf("MR_OUT %lu %d ", (unsigned long)v, i);
            print_hex((const uint8_t *)t->data, t->bytes);
            fputs("\n", stdout);
        }
        printf("MR_CYC %lu %lu", (unsigned long)v, (unsigned long)(t1 - t0));
        for (int i = 0; i < interp.n_ops; i++)
            printf(" %lu", (unsigned long)tm_op_cycles[i]);
        fputs("\n", stdout);
    }
    printf("MR_DONE %lu\n", (unsigned long)n);
    return 0;
}
