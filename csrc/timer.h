/* timer.h: the clock read on the event path (inline: it is read twice per line event). */
#ifndef LINEPROF_TIMER_H
#define LINEPROF_TIMER_H

#include "lineprof.h"

#include <time.h>

/* Monotonic nanoseconds.  CLOCK_MONOTONIC is served by the vDSO on Linux: no system call.  Tests
 * switch on the fake clock, which moves only when advance_fake_clock() is called, so every
 * per-line time they assert is exact. */
static inline int64_t
lp_timer_now(const LPModuleState *st)
{
    if (st->fake_clock) {
        return st->fake_now;
    }
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + (int64_t)ts.tv_nsec;
}

#endif /* LINEPROF_TIMER_H */
