/*
 * The pedometer of imu_steps and imu_steps_bus: a step is a run of frames whose squared acceleration
 * magnitude m = ax^2 + ay^2 + az^2 (counts^2) is above a threshold; it is timed at the frame with the
 * largest m in the run; a run starting less than `refractory` frames after the previous step's frame
 * is not a new step. Steps are printed with their time from the frame index and the virtual time at
 * which the firmware found them (DWT CYCCNT, vclock.h). Header-only: each app is one translation unit.
 */
#ifndef SIMCORE_STEP_DETECTOR_H
#define SIMCORE_STEP_DETECTOR_H

#include <stdint.h>
#include <stdio.h>

#include "vclock.h"

struct detector {
    int64_t threshold_m2; /* (threshold in counts)^2 */
    uint32_t refractory;  /* frames */
    uint32_t frame_us;    /* frame period */
    uint32_t k;           /* frames seen */
    int in_run;
    int64_t best_m;
    uint32_t best_k;
    int counting;       /* the current run counts as a step (not in the refractory period) */
    uint32_t last_step; /* frame of the last step */
    uint32_t steps;
};

static void end_run(struct detector *d)
{
    if (d->in_run && d->counting) {
        d->steps++;
        d->last_step = d->best_k;
        printf("step %lu at %lu ms (frame %lu), detected at %lu ms\n", (unsigned long)d->steps,
               (unsigned long)((uint64_t)d->best_k * d->frame_us / 1000u), (unsigned long)d->best_k,
               (unsigned long)vclock_ms());
    }
    d->in_run = 0;
}

static void frame(struct detector *d, int32_t ax, int32_t ay, int32_t az)
{
    int64_t m = (int64_t)ax * ax + (int64_t)ay * ay + (int64_t)az * az;
    if (m > d->threshold_m2) {
        if (!d->in_run) {
            d->in_run = 1;
            d->best_m = m;
            d->best_k = d->k;
            d->counting = d->steps == 0 || d->k - d->last_step >= d->refractory;
        } else if (m > d->best_m) {
            d->best_m = m;
            d->best_k = d->k;
        }
    } else {
        end_run(d);
    }
    d->k++;
}

#endif
