/*
 * tm_host_runner - runs a .tflite model with the tm runtime on the host.
 *
 *   tm_host_runner [--arena BYTES] model.tflite inputs.bin outputs.bin
 *       inputs.bin: raw bytes of all graph inputs for one inference, concatenated
 *       in input order; N such vectors back to back (N = file size / vector size).
 *       outputs.bin: raw bytes of all graph outputs per inference, N vectors.
 *   tm_host_runner [--arena BYTES] --info model.tflite
 *       prints the ops, the graph inputs/outputs and the arena bytes used.
 *   --misalign loads the model one byte past a word boundary (tests the refusal).
 * Exit status: 0 ok, 1 usage / I/O error, 2 model refused (message on stderr).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tm.h"
#include "tm_internal.h"

static tm_interp_t interp;
static unsigned char *model, *arena, *inputs; /* freed at exit (keeps LeakSanitizer quiet) */

static void release(void)
{
    free(model);
    free(arena);
    free(inputs);
}

static unsigned char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) { fprintf(stderr, "cannot open %s\n", path); return NULL; }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = (unsigned char *)malloc(n > 0 ? (size_t)n : 1);
    if (!b || (n > 0 && fread(b, 1, (size_t)n, f) != (size_t)n)) {
        fprintf(stderr, "cannot read %s\n", path);
        fclose(f);
        free(b);
        return NULL;
    }
    fclose(f);
    *len = (size_t)n;
    return b;
}

static void print_tensor(const char *what, int i, const tm_tensor_t *t)
{
    printf("%s %d: %s [", what, i, tm_type_name(t->type));
    for (int d = 0; d < t->ndims; d++) printf(d ? ",%d" : "%d", (int)t->dims[d]);
    printf("] bytes=%u scale=%.9g zero_point=%d\n", (unsigned)t->bytes, (double)t->scale, (int)t->zero_point);
}

int main(int argc, char **argv)
{
    size_t arena_size = 1u << 20;
    int info = 0, misalign = 0, a = 1;
    while (a < argc && argv[a][0] == '-' && argv[a][1] == '-') {
        if (!strcmp(argv[a], "--info")) { info = 1; a++; }
        else if (!strcmp(argv[a], "--misalign")) { misalign = 1; a++; }
        else if (!strcmp(argv[a], "--arena") && a + 1 < argc) { arena_size = (size_t)strtoul(argv[a + 1], NULL, 0); a += 2; }
        else break;
    }
    if ((info && argc - a != 1) || (!info && argc - a != 3)) {
        fprintf(stderr, "usage: %s [--arena BYTES] model.tflite inputs.bin outputs.bin\n"
                        "       %s [--arena BYTES] --info model.tflite\n", argv[0], argv[0]);
        return 1;
    }
    size_t mlen;
    atexit(release);
    model = read_file(argv[a], &mlen);
    if (!model) return 1;
    arena = (unsigned char *)malloc(arena_size ? arena_size : 1);
    if (!arena) return 1;
    const unsigned char *mp = model;
    if (misalign) { /* test aid: the model one byte off a word boundary */
        unsigned char *m2 = (unsigned char *)realloc(model, mlen + 1);
        if (!m2) return 1;
        model = m2;
        memmove(model + 1, model, mlen);
        mp = model + 1;
    }
    tm_status st = tm_init(mp, mlen, arena, arena_size, &interp);
    if (st != TM_OK) {
        fprintf(stderr, "tm_init failed (%d): %s\n", (int)st, tm_error_message(&interp));
        return 2;
    }
    if (info) {
        printf("ops: %d\ntensors: %d\n", (int)interp.n_ops, (int)interp.n_tensors);
        for (int i = 0; i < interp.n_ops; i++) {
            const tm_op_t *op = &interp.ops[i];
            printf("op %d: %s (code %d)%s\n", i, tm_op_name(op->code), (int)op->code,
                   (op->flags & OPF_INT8) ? " int8" : " float32");
        }
        for (int i = 0; i < tm_num_inputs(&interp); i++) print_tensor("input", i, tm_input(&interp, i));
        for (int i = 0; i < tm_num_outputs(&interp); i++) print_tensor("output", i, tm_output(&interp, i));
        /* the plan: one line per arena buffer (tensor or op scratch) with its lifetime */
        for (int i = 0; i < interp.n_tensors; i++) {
            const tm_tensor_t *t = &interp.tensors[i];
            if (!t->is_const && t->offset >= 0)
                printf("plan tensor %d: offset=%d bytes=%u first=%d last=%d\n", i, (int)t->offset,
                       (unsigned)t->bytes, (int)t->first_use, (int)t->last_use);
        }
        for (int i = 0; i < interp.n_ops; i++) {
            const tm_op_t *op = &interp.ops[i];
            if (op->scratch_bytes > 0)
                printf("plan scratch %d: offset=%d bytes=%d first=%d last=%d\n", i, (int)op->scratch_offset,
                       (int)op->scratch_bytes, i, i);
        }
        printf("plan bytes: %u\n", (unsigned)interp.plan_bytes);
        printf("arena bytes: %u\n", (unsigned)tm_arena_used(&interp));
        return 0;
    }
    size_t ilen;
    inputs = read_file(argv[a + 1], &ilen);
    if (!inputs) return 1;
    size_t vin = 0, vout = 0;
    for (int i = 0; i < tm_num_inputs(&interp); i++) vin += tm_input(&interp, i)->bytes;
    for (int i = 0; i < tm_num_outputs(&interp); i++) vout += tm_output(&interp, i)->bytes;
    if (vin == 0 || ilen % vin) {
        fprintf(stderr, "inputs file has %zu bytes, not a multiple of %zu\n", ilen, vin);
        return 1;
    }
    FILE *out = fopen(argv[a + 2], "wb");
    if (!out) { fprintf(stderr, "cannot write %s\n", argv[a + 2]); return 1; }
    for (size_t v = 0; v < ilen / vin; v++) {
        const unsigned char *p = inputs + v * vin;
        for (int i = 0; i < tm_num_inputs(&interp); i++) {
            tm_tensor_t *t = tm_input(&interp, i);
            memcpy(t->data, p, t->bytes);
            p += t->bytes;
        }
        if (tm_invoke(&interp) != TM_OK) {
            fprintf(stderr, "tm_invoke failed: %s\n", tm_error_message(&interp));
            return 2;
        }
        for (int i = 0; i < tm_num_outputs(&interp); i++) {
            tm_tensor_t *t = tm_output(&interp, i);
            if (fwrite(t->data, 1, t->bytes, out) != t->bytes) { fclose(out); return 1; }
        }
    }
    fclose(out);
    return 0;
}
