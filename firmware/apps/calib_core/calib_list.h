/* Declare and run calibration sequences given as an X-macro list (see calib_harness.h). */
#ifndef CALIB_LIST_H
#define CALIB_LIST_H
#include <stdint.h>
#include <stdio.h>

static uint32_t calib_buf[64] __attribute__((aligned(16)));

static inline unsigned long calib_delta(void)
{
    uint64_t t0 = calib_buf[0] | ((uint64_t)calib_buf[1] << 32);
    uint64_t t1 = calib_buf[2] | ((uint64_t)calib_buf[3] << 32);
    return (unsigned long)(t1 - t0);
}

#define CALIB_DECL_ONE(name) void calib_##name(uint32_t *buf);
#define CALIB_DECLARE(LIST) LIST(CALIB_DECL_ONE)
#define CALIB_RUN_ONE(name) \
    calib_##name(calib_buf); \
    printf("calib %s %lu\n", #name, calib_delta());
#define CALIB_RUN(LIST) LIST(CALIB_RUN_ONE)
#endif
