/*
 * bench_runtime: one inference of every model in models/ (int8 and float: every op the runtime
 * has) on the tm runtime built with its reference kernels (TM_OPTIMIZED=0). Prints a checksum of
 * each model's outputs; benchmarks/corpus.py times it.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "tm.h"

struct bench_model {
    const uint8_t *model, *model_end, *input, *input_end;
    const char *name;
};
extern const struct bench_model bench_models[];
extern const uint32_t bench_n_models;

static tm_interp_t interp;
static uint8_t arena[256 * 1024] __attribute__((aligned(16)));

int main(void)
{
    int failures = 0;
    for (uint32_t k = 0; k < bench_n_models; k++) {
        const struct bench_model *bm = &bench_models[k];
        tm_status st = tm_init(bm->model, (size_t)(bm->model_end - bm->model), arena, sizeof arena, &interp);
        if (st != TM_OK) {
            printf("%s: init failed (%d %s)\n", bm->name, (int)st, tm_error_message(&interp));
            failures++;
            continue;
        }
        const uint8_t *src = bm->input;
        for (int i = 0; i < tm_num_inputs(&interp); i++) {
            tm_tensor_t *t = tm_input(&interp, i);
            if (src + t->bytes > bm->input_end) break;
            memcpy(t->data, src, t->bytes);
            src += t->bytes;
        }
        st = tm_invoke(&interp);
        uint32_t sum = 2166136261u;
        for (int i = 0; i < tm_num_outputs(&interp); i++) {
            const tm_tensor_t *t = tm_output(&interp, i);
            const uint8_t *p = (const uint8_t *)t->data;
            for (uint32_t b = 0; b < t->bytes; b++) sum = (sum ^ p[b]) * 16777619u;
        }
        printf("%s: %s checksum %08lx\n", bm->name, st == TM_OK ? "ok" : "FAILED", (unsigned long)sum);
        failures += st != TM_OK;
    }
    printf("bench_runtime: %lu models, %d failures\n", (unsigned long)bench_n_models, failures);
    return failures;
}
