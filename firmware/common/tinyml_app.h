/*
 * What the streaming TinyML apps (kws_mic, imu_gestures, machine_monitor, camera_person) share:
 * setting up the model that common/model_blob.S put in flash, running it (timed, between ITM
 * markers), the semihosting command line, the top class of a score vector, and the copy of the
 * newest rows of a ring buffer into the model's input. Header-only: each app is one translation unit (include after tm.h's include path is set).
 */
#ifndef SIMCORE_TINYML_APP_H
#define SIMCORE_TINYML_APP_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "semihosting.h"
#include "tm.h"

extern const uint8_t model_data[], model_data_end[];

static inline uint32_t app_model_bytes(void)
{
    return (uint32_t)(model_data_end - model_data);
}

/* tm_init on the model in flash; 1 if it worked and its input and output have the sizes the app
 * feeds and reads, else 0 after printing why. */
static inline int app_model_init(tm_interp_t *interp, uint8_t *arena, uint32_t arena_bytes, uint32_t in_bytes,
                                 uint32_t out_bytes, const char *app)
{
    const tm_status st = tm_init(model_data, app_model_bytes(), arena, arena_bytes, interp);
    if (st != TM_OK) {
        printf("%s: tm_init failed (%d): %s\n", app, (int)st, tm_error_message(interp));
        return 0;
    }
    if (tm_input(interp, 0)->bytes != in_bytes || tm_output(interp, 0)->bytes != out_bytes) {
        printf("%s: unexpected model I/O (%lu and %lu bytes, want %lu and %lu)\n", app,
               (unsigned long)tm_input(interp, 0)->bytes, (unsigned long)tm_output(interp, 0)->bytes,
               (unsigned long)in_bytes, (unsigned long)out_bytes);
        return 0;
    }
    return 1;
}

/* tm_invoke; 1 if it worked, else 0 after printing why. */
static inline int app_invoke(tm_interp_t *interp, const char *app)
{
    if (tm_invoke(interp) == TM_OK)
        return 1;
    printf("%s: tm_invoke failed: %s\n", app, tm_error_message(interp));
    return 0;
}

#define APP_ITM_STIM(n) (*(volatile uint32_t *)(0xE0000000u + 4u * (n)))
#define APP_DWT_CYCCNT (*(volatile uint32_t *)0xE0001004u)

/* app_invoke between ITM stimulus port 3 and port 4 writes of `index` (the markers simcore's
 * tests time the inference with) and timed with DWT CYCCNT, which the app has started, into
 * *cycles. */
static inline int app_timed_invoke(tm_interp_t *interp, const char *app, uint32_t index, uint32_t *cycles)
{
    APP_ITM_STIM(3) = index;
    const uint32_t t0 = APP_DWT_CYCCNT;
    const tm_status st = tm_invoke(interp);
    *cycles = APP_DWT_CYCCNT - t0;
    APP_ITM_STIM(4) = index;
    if (st == TM_OK)
        return 1;
    printf("%s: tm_invoke failed: %s\n", app, tm_error_message(interp));
    return 0;
}

/* Whether `word` appears in the semihosting command line (SYS_GET_CMDLINE, 0x15). */
static inline int app_cmdline_has(const char *word)
{
    static char cmd[64];
    struct { char *buf; int len; } arg = {cmd, sizeof cmd - 1};
    if (sh_call(0x15 /* SYS_GET_CMDLINE */, &arg) != 0 || arg.len <= 0 || arg.len >= (int)sizeof cmd)
        return 0;
    cmd[arg.len] = 0;
    return strstr(cmd, word) != NULL;
}

/* N from "name=N" in the semihosting command line, else dflt. */
static inline uint32_t app_cmdline_value(const char *name, uint32_t dflt)
{
    static char cmd[64];
    struct { char *buf; int len; } arg = {cmd, sizeof cmd - 1};
    if (sh_call(0x15 /* SYS_GET_CMDLINE */, &arg) != 0 || arg.len <= 0 || arg.len >= (int)sizeof cmd)
        return dflt;
    cmd[arg.len] = 0;
    const char *w = strstr(cmd, name);
    return w ? (uint32_t)strtoul(w + strlen(name), NULL, 10) : dflt;
}

/* Index of the largest score (the lowest index on ties). */
static inline uint32_t app_top(const int8_t *scores, uint32_t n)
{
    uint32_t top = 0;
    for (uint32_t i = 1; i < n; i++)
        if (scores[i] > scores[top])
            top = i;
    return top;
}

/* The newest `rows` of the `count` rows written so far into a ring of `ring_rows` rows (row k in
 * ring row k % ring_rows), oldest first, to dst. */
static inline void app_copy_newest(int8_t *dst, const int8_t *ring, uint32_t ring_rows, uint32_t row_bytes,
                                   uint32_t rows, uint32_t count)
{
    for (uint32_t r = 0; r < rows; r++)
        memcpy(&dst[r * row_bytes], &ring[((count - rows + r) % ring_rows) * row_bytes], row_bytes);
}

#endif
