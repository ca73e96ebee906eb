/*
 * camera_person's decision rule and report, shared by main.c (simcore's camera block) and main_dcmi.c
 * (an OV7670 on the DCMI): a frame shows a person when its person score + 128 reaches
 * CAM_PERSON_THRESHOLD; every change of that decision is an event with the frame's time and the
 * virtual time at which the firmware reports it. The Python twin: models/tinyml/twins.py.
 */
#ifndef CAMERA_PERSON_H
#define CAMERA_PERSON_H

#include <stdint.h>
#include <stdio.h>

#include "app_config.h"
#include "vclock.h"

typedef struct {
    uint32_t frames, persons, events;
    int state; /* decision of the previous frame */
    uint64_t cycles;
} person_stats_t;

/* Frame `index`, classified in `cycles` with scores `sc` (nobody, person): its line ("frame K at T ms:
 * scores A B: label, C cycles" and `extra`), an event line when the decision changes, the counts. */
static void person_report(person_stats_t *st, const int8_t *sc, uint32_t index, uint32_t cycles, const char *extra)
{
    const int person = (uint32_t)(sc[1] + 128) >= CAM_PERSON_THRESHOLD;
    const uint32_t ms = index * 1000u / CAM_FPS;
    printf("frame %lu at %lu ms: scores %d %d: %s, %lu cycles%s\n", (unsigned long)index, (unsigned long)ms, sc[0],
           sc[1], cam_labels[person], (unsigned long)cycles, extra);
    if (person != st->state) {
        printf("%s at %lu ms (frame %lu), reported at %lu ms\n", person ? "PERSON" : "nobody", (unsigned long)ms,
               (unsigned long)index, (unsigned long)vclock_ms());
        st->events++;
        st->state = person;
    }
    st->persons += (uint32_t)person;
    st->frames++;
    st->cycles += cycles;
}

/* The last lines: counts, frames not classified (`missed`, called `what`), the mean inference time. */
static void person_done(const person_stats_t *st, uint32_t missed, const char *what)
{
    printf("done: %lu frames, %lu with a person, %lu events, %lu %s\n", (unsigned long)st->frames,
           (unsigned long)st->persons, (unsigned long)st->events, (unsigned long)missed, what);
    if (st->frames)
        printf("mean inference: %lu cycles\n", (unsigned long)(st->cycles / st->frames));
}

#endif
