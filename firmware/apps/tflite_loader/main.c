/*
 * tflite_loader: a .tflite model read at run time through semihosting (file "model.tflite" in
 * simcore's --semihosting-root), loaded by the tm runtime and invoked once on inputs of bytes
 * 0x11. It prints the status of each step and exits 0 when the model ran, 2 when the runtime
 * refused it, 3 when the file could not be read. The fuzzer's ".tflite models" target: any
 * model bytes must end in one of these statuses, never in a fault or a hang (issue 11).
 *
 *   simcore run tflite_loader.elf --semihosting-root DIR      (DIR/model.tflite)
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "semihosting.h"
#include "tm.h"

#define SYS_FLEN 0x0C

static tm_interp_t interp;
static uint8_t model[160 * 1024] __attribute__((aligned(16)));
static uint8_t arena[192 * 1024] __attribute__((aligned(16)));

static int read_model(uint32_t *len)
{
    static const char name[] = "model.tflite";
    const uint32_t open_block[3] = {(uint32_t)(uintptr_t)name, 1 /* "rb" */, sizeof name - 1};
    int fd = sh_call(SYS_OPEN, open_block);
    if (fd < 0)
        return -1;
    const uint32_t fd_block[1] = {(uint32_t)fd};
    int n = sh_call(SYS_FLEN, fd_block);
    if (n <= 0 || (uint32_t)n > sizeof model)
        return -2;
    const uint32_t read_block[3] = {(uint32_t)fd, (uint32_t)(uintptr_t)model, (uint32_t)n};
    if (sh_call(SYS_READ, read_block) != 0)
        return -3;
    sh_call(SYS_CLOSE, fd_block);
    *len = (uint32_t)n;
    return 0;
}

int main(void)
{
    uint32_t len = 0;
    int r = read_model(&len);
    if (r != 0) {
        printf("LOADER read failed %d\n", r);
        return 3;
    }
    tm_status st = tm_init(model, len, arena, sizeof arena, &interp);
    printf("LOADER init %d %s\n", (int)st, st == TM_OK ? "" : tm_error_message(&interp));
    if (st != TM_OK)
        return 2;
    for (int i = 0; i < tm_num_inputs(&interp); i++) {
        tm_tensor_t *t = tm_input(&interp, i);
        memset(t->data, 0x11, t->bytes);
    }
    st = tm_invoke(&interp);
    printf("LOADER invoke %d %s\n", (int)st, st == TM_OK ? "" : tm_error_message(&interp));
    return st == TM_OK ? 0 : 2;
}
