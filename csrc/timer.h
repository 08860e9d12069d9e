/* timer.h: the clock read on the event path (inline: it is read twice per line event). */
#ifndef LINEPROF_TIMER_H
#define LINEPROF_TIMER_H

#include "lineprof.h"

#include <time.h>

#if LP_HAVE_TSC
#include <x86intrin.h>
#endif

/* A monotonic reading in the clock's own units, from one of two clocks that Python chooses
 * (lineprof/clock.py):
 *
 *   LP_CLOCK_MONOTONIC  CLOCK_MONOTONIC in ns, served by the vDSO on Linux: no system call, but
 *                       ~25 ns a read (the vDSO fences the TSC read and loops on its seqlock);
 *   LP_CLOCK_TSC        the CPU's timestamp counter, in ticks: one rdtsc.  Python selects it
 *                       only where the kernel itself keeps time with the TSC (invariant and
 *                       synchronised across CPUs), and turns ticks into ns when it reads the
 *                       results, at a rate it measures over the whole session (so no profiled
 *                       program waits for a calibration).  The read is not fenced: an interval
 *                       may start or end a few cycles early; events.h clamps a negative interval
 *                       to 0.
 *
 * Tests switch on the fake clock, which wins over both and moves only when advance_fake_clock()
 * is called, or by a fixed step at each read, so every per-line time they assert is exact. */
static inline int64_t
lp_timer_monotonic(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + (int64_t)ts.tv_nsec;
}

static inline int64_t
lp_timer_now(LPModuleState *st)
{
    if (st->fake_clock) {
        /* Tests of what lineprof measures of itself: each read costs `fake_step` ns. */
        int64_t t = st->fake_now;
        st->fake_now += st->fake_step;
        return t;
    }
#if LP_HAVE_TSC
    if (st->clock == LP_CLOCK_TSC) {
        /* Below 2**63 for a century of uptime at 3 GHz. */
        return (int64_t)__rdtsc();
    }
#endif
    return lp_timer_monotonic();
}

#endif /* LINEPROF_TIMER_H */
