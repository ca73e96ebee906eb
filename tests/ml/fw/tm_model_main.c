/*
 * Test firmware for tests/ml/test_tm_firmware.py: runs the tm runtime on an emulated
 * part. The model and the raw input vectors are linked in with .incbin (model.S,
 * written by the test); each output is printed as one hex line on the console so the
 * test can compare it byte for byte with the TFLM host interpreter.
 */
#include <stdio.h>
#include <string.h>

#include "tm.h"

#ifndef ARENA_BYTES
#define ARENA_BYTES (160 * 1024)
#endif

extern const unsigned char tm_model[], tm_model_end[], tm_inputs[], tm_inputs_end[];

static tm_interp_t interp;
static unsigned char arena[ARENA_BYTES] __attribute__((aligned(16)));

int main(void)
{
    tm_status st = tm_init(tm_model, (size_t)(tm_model_end - tm_model), arena, sizeof arena, &interp);
    if (st != TM_OK) {
        printf("TM_ERROR %d %s\n", (int)st, tm_error_message(&interp));
        return 2;
    }
    printf("TM_ARENA %u\n", (unsigned)tm_arena_used(&interp));
    tm_tensor_t *in = tm_input(&interp, 0), *out = tm_output(&interp, 0);
    size_t n = (size_t)(tm_inputs_end - tm_inputs) / in->bytes;
    for (size_t v = 0; v < n; v++) {
        memcpy(in->data, tm_inputs + v * in->bytes, in->bytes);
        tm_invoke(&interp);
        printf("TM_OUT ");
        for (unsigned i = 0; i < out->bytes; i++) printf("%02x", ((const unsigned char *)out->data)[i]);
        printf("\n");
    }
    printf("TM_DONE\n");
    return 0;
}
