/*
 * Event detector on a classifier's int8 scores, for the streaming TinyML apps (kws_mic,
 * imu_gestures). Header-only: each app is one translation unit. models/tinyml/twins.py
 * (detections()) is the same rule in Python; the tests compare the two.
 *
 * Classes 0 .. nevents-1 are events (keywords, gestures); the others (silence, unknown, idle)
 * never are. Per inference: the mean of (score + 128) of each class over the last `avg`
 * inferences; its top class (lowest index on ties) is the candidate when it is an event and
 * its mean reaches `threshold` (of 255). A candidate is detected unless it is the class
 * detected last and held as the candidate ever since, or fewer than `refractory` inferences
 * passed since the last detection.
 */
#ifndef SIMCORE_DETECTOR_H
#define SIMCORE_DETECTOR_H

#include <stdint.h>

#define DETECTOR_MAX_AVG 8u
#define DETECTOR_MAX_CLASSES 16u

typedef struct {
    uint8_t hist[DETECTOR_MAX_AVG][DETECTOR_MAX_CLASSES]; /* score + 128 of the last inferences */
    uint32_t avg, threshold, refractory, nclasses, nevents;
    uint32_t seen;  /* inferences since the last reset */
    uint32_t last;  /* inference index of the last detection */
    uint32_t count; /* detections so far */
    int held;       /* class detected last, while it stays the candidate; -1 if none */
} detector_t;

static void detector_reset(detector_t *d)
{
    d->seen = 0;
    d->held = -1;
}

static void detector_init(detector_t *d, uint32_t avg, uint32_t threshold, uint32_t refractory, uint32_t nclasses,
                          uint32_t nevents)
{
    d->avg = avg < 1u ? 1u : avg > DETECTOR_MAX_AVG ? DETECTOR_MAX_AVG : avg;
    d->threshold = threshold;
    d->refractory = refractory;
    d->nclasses = nclasses > DETECTOR_MAX_CLASSES ? DETECTOR_MAX_CLASSES : nclasses;
    d->nevents = nevents;
    d->count = 0;
    d->last = 0;
    detector_reset(d);
}

/* Inference `index` gave `scores`: returns the detected class (its mean score in *mean) or -1. */
static int detector_step(detector_t *d, uint32_t index, const int8_t *scores, uint32_t *mean)
{
    for (uint32_t c = 0; c < d->nclasses; c++)
        d->hist[d->seen % d->avg][c] = (uint8_t)(scores[c] + 128);
    if (++d->seen < d->avg)
        return -1;
    uint32_t acc[DETECTOR_MAX_CLASSES], top = 0;
    for (uint32_t c = 0; c < d->nclasses; c++) {
        acc[c] = 0;
        for (uint32_t j = 0; j < d->avg; j++)
            acc[c] += d->hist[j][c];
        if (acc[c] > acc[top])
            top = c;
    }
    if (top >= d->nevents || acc[top] < d->avg * d->threshold) {
        d->held = -1;
        return -1;
    }
    if ((int)top == d->held || (d->count && index - d->last < d->refractory))
        return -1;
    d->held = (int)top;
    d->last = index;
    d->count++;
    *mean = acc[top] / d->avg;
    return (int)top;
}

#endif
