/* events.h: the per-event state machine shared by both hooks.
 *
 * This is the hot path, so it is inline: no allocation (except the rare stack growth), no
 * hashing, no Python call, no lock.  Each hook translates its events into these four:
 *
 *   lp_event_enter   a profiled frame starts or resumes            (PY_START/PY_RESUME/'call')
 *   lp_event_line    a frame moves to a line                       (LINE/'line')
 *   lp_event_exit    a frame returns, yields or unwinds            (PY_RETURN/.../'return')
 *
 * Semantics: a line's time runs from its start to the start of the next line in the same frame
 * or to the frame's exit, so it includes its callees.  A frame suspended by yield/await is off
 * the stack and accrues nothing.  A line event for the row already in progress (the other lines
 * of a multi-line statement, a loop that jumps back to its own line) is not a new hit.
 */
#ifndef LINEPROF_EVENTS_H
#define LINEPROF_EVENTS_H

#include "lineprof.h"
#include "timer.h"

/* Charge the interval that `frame`'s current row has been running, which ends at `t_end`, with
 * what the thread's callbacks measured of their own time inside it. */
static inline void
lp_charge(const LPThreadState *ts, const LPFrame *frame, int64_t t_end)
{
    int64_t elapsed = t_end - frame->t_start;
    uint64_t elapsed_units = elapsed > 0 ? (uint64_t)elapsed : 0;
    uint64_t spent = ts->spent - frame->spent_at_start;
    const LPCodeEntry *entry = frame->entry;
    for (int i = 0; i < entry->nsinks; i++) {
        LPLineCell *cell = &entry->sinks[i][frame->row];
        cell->time += elapsed_units;
        cell->spent += spent;
    }
}

/* A callback for a profiled event read the clock first at `t_in` and last at `t_out`: that time
 * is lineprof's own, and any interval still running around it is not charged for it. */
static inline void
lp_spend(LPThreadState *ts, int64_t t_in, int64_t t_out)
{
    ts->spent += t_out > t_in ? (uint64_t)(t_out - t_in) : 0;
}

/* `frame`'s current row starts (or resumes) timing at `t`, the callback's last clock read. */
static inline void
lp_start_interval(const LPThreadState *ts, LPFrame *frame, int64_t t)
{
    frame->t_start = t;
    frame->spent_at_start = ts->spent;
}

static inline void
lp_hit(const LPCodeEntry *entry, int row)
{
    for (int i = 0; i < entry->nsinks; i++) {
        entry->sinks[i][row].hits++;
    }
}

static inline int
lp_row_for_line(const LPCodeEntry *entry, long line)
{
    long i = line - entry->first_line;
    if (i < 0 || i >= entry->nlines) {
        return -1;
    }
    return entry->canon[i];
}

/* Where a frame entering at bytecode `offset` stands: -1 when it is starting (no line yet), else
 * the row it resumes on.  Python sets start_offset at or past the offset where frames start. */
static inline int
lp_row_at_entry(LPCodeEntry *entry, int offset)
{
    if (offset <= entry->start_offset) {
        return -1;
    }
    return lp_linestats_row_for_offset(entry, offset);
}

/* ---- memory mode ------------------------------------------------------------------------------
 *
 * memhook.c's wrappers keep three counters per thread (bytes allocated, bytes released, highest
 * live level since the last reset); these functions turn them into each row's Alloc / Net / Peak
 * at the same boundaries where time is charged, so memory is inclusive of callees like time.
 * Called only when st->memory is set: the time-only path pays one test of a flag it has in
 * cache.
 *
 * Peak nests: the thread's mem_peak restarts at every line start on any frame, so before it
 * restarts it is folded into the top frame's interval, and a frame's interval, when it ends,
 * is folded into the frame below it (whose line is still running).  A row's Peak is the largest
 * such rise over its hits. */

static inline int64_t
lp_mem_live(const LPThreadState *ts)
{
    return (int64_t)(ts->mem_alloc - ts->mem_freed);
}

static inline void
lp_mem_fold(LPFrame *frame, int64_t peak)
{
    if (peak > frame->mem_peak) {
        frame->mem_peak = peak;
    }
}

/* `frame` (the top) ends its interval; `below` is the frame under it, or NULL. */
static inline void
lp_mem_end(const LPModuleState *st, LPThreadState *ts, LPFrame *frame, LPFrame *below)
{
    if (frame->mem_gen != st->mem_gen) {
        return;
    }
    lp_mem_fold(frame, ts->mem_peak);
    if (below != NULL) {
        lp_mem_fold(below, frame->mem_peak);
    }
    if (frame->row < 0) {
        return;
    }
    uint64_t alloc = ts->mem_alloc - frame->alloc_at_start;
    int64_t net = lp_mem_live(ts) - frame->live_at_start;
    int64_t rise = frame->mem_peak - frame->live_at_start;
    uint64_t peak = rise > 0 ? (uint64_t)rise : 0;
    int64_t run_rise = frame->mem_carried + rise; /* from the run's start (lineprof.h) */
    uint64_t run_peak = run_rise > 0 ? (uint64_t)run_rise : 0;
    const LPCodeEntry *entry = frame->entry;
    for (int i = 0; i < entry->nsinks; i++) {
        uint64_t since = entry->sinks_since[i];
        if (since > frame->piece_since) {
            continue; /* joined during this piece: what came before it is not its own */
        }
        LPLineCell *cell = &entry->sinks[i][frame->row];
        uint64_t piece_peak = since > frame->run_since ? peak : run_peak;
        cell->alloc += alloc;
        cell->net += net;
        if (piece_peak > cell->peak) {
            cell->peak = piece_peak;
        }
    }
}

/* `frame` (the top) starts an interval: the thread's counters now are its baseline. */
static inline void
lp_mem_start(const LPModuleState *st, LPThreadState *ts, LPFrame *frame)
{
    int64_t live = lp_mem_live(ts);
    frame->mem_gen = st->mem_gen;
    frame->run_since = st->sink_clock;
    frame->piece_since = st->sink_clock;
    frame->mem_carried = 0;
    frame->alloc_at_start = ts->mem_alloc;
    frame->freed_at_start = ts->mem_freed;
    frame->live_at_start = live;
    frame->mem_peak = live;
    ts->mem_peak = live;
}

/* This thread's stack, caught up first if a new epoch began since it was last used; NULL out
 * of memory.  Runs no Python code: for the session's own start (hook_setprofile.c). */
static inline LPThreadState *
lp_thread_stack(LPModuleState *st)
{
    LPThreadState *ts = lp_threadstate_current;
    if (ts == NULL) {
        ts = lp_threadstate_create(st);
        if (ts == NULL) {
            return NULL;
        }
    }
    if (ts->epoch != st->epoch) {
        lp_threadstate_catch_up_own(st, ts);
    }
    return ts;
}

/* The same for an event, which first runs the thread's setup if it is due.  NULL drops the
 * event: out of memory, or the setup (Python code) ran and a profiler was switched off
 * meanwhile, so what the caller looked up (a code entry) may be gone. */
static inline LPThreadState *
lp_thread(LPModuleState *st)
{
    LPThreadState *ts = lp_thread_stack(st);
    if (ts == NULL) {
        return NULL;
    }
    if (ts->setup_due) {
        uint64_t epoch = st->epoch;
        lp_threadstate_run_setup(st, ts);
        if (st->epoch != epoch) {
            return NULL;
        }
    }
    if (st->memory && ts->mem_npy_gen != st->npy_gen) {
        lp_memhook_thread_numpy(st, ts);
    }
    return ts;
}

static inline LPFrame *
lp_push(LPModuleState *st, LPThreadState *ts, LPCodeEntry *entry, const void *key, int row,
        int64_t t)
{
    LPFrame *frame;
    if (ts->depth < ts->cap) {
        frame = &ts->frames[ts->depth++];
    }
    else {
        frame = lp_threadstate_grow(st, ts);
        if (frame == NULL) {
            return NULL;
        }
    }
    frame->entry = entry;
    frame->key = key;
    frame->row = row;
    frame->saved_depth = 0;
    frame->delegating = 0;
    frame->t_start = t;
    frame->spent_at_start = ts->spent;
    if (st->memory) {
        /* The interval running below goes on; the thread's peak so far is part of it. */
        if (ts->depth > 1) {
            lp_mem_fold(frame - 1, ts->mem_peak);
        }
        lp_mem_start(st, ts, frame);
    }
    return frame;
}

static inline int
lp_is_top(const LPThreadState *ts, const LPCodeEntry *entry, const void *key)
{
    if (ts->depth == 0) {
        return 0;
    }
    const LPFrame *top = &ts->frames[ts->depth - 1];
    return top->entry == entry && top->key == key;
}

/* The generator frames a throw() passed through to the frame about to be entered, innermost
 * first (lp_throw_delegating), go on the stack outermost first, each running its `yield
 * from` or `await` line since `t`, the callback's first clock read (its own time is taken out
 * of them as of the lines around it).  Returns how many went on. */
static inline int
lp_push_delegating(LPModuleState *st, LPThreadState *ts, const LPDelegate *chain, int n,
                   int64_t t)
{
    for (int i = n - 1; i >= 0; i--) {
        LPFrame *frame = lp_push(st, ts, chain[i].entry, chain[i].key, chain[i].row, t);
        if (frame == NULL) {
            return n - 1 - i;
        }
        frame->delegating = 1;
    }
    return n;
}

/* How many frames right below the top one went on the stack with it (lp_push_delegating). */
static inline int
lp_delegating_below(const LPThreadState *ts)
{
    int n = 0;
    while (n + 1 < ts->depth && ts->frames[ts->depth - 2 - n].delegating) {
        n++;
    }
    return n;
}

/* A frame starts (row -1: no line yet) or resumes at `row` (no new hit: the line began before
 * the frame was suspended).  `t_in` was read first thing in the callback; the frame's time starts
 * at the clock read last thing.  Returns the new top frame, or NULL after recording an error. */
static inline LPFrame *
lp_event_enter(LPModuleState *st, LPCodeEntry *entry, const void *key, int row, int64_t t_in)
{
    LPThreadState *ts = lp_thread(st);
    if (ts == NULL) {
        return NULL;
    }
    LPFrame *frame = lp_push(st, ts, entry, key, row, t_in);
    if (frame == NULL) {
        return NULL;
    }
    int64_t t_out = lp_timer_now(st);
    lp_spend(ts, t_in, t_out);
    lp_start_interval(ts, frame, t_out);
    return frame;
}

/* `t_end` was read first thing in the callback so the hook's own cost stays off the line that
 * ends; the next line's start is read last thing, for the same reason. */
static inline void
lp_event_line(LPModuleState *st, LPCodeEntry *entry, const void *key, int row, int64_t t_end)
{
    LPThreadState *ts = lp_thread(st);
    if (ts == NULL) {
        return;
    }
    LPFrame *frame;
    if (lp_is_top(ts, entry, key)) {
        frame = &ts->frames[ts->depth - 1];
        if (frame->row == row) {
            /* Another line of the statement in progress: no new hit, the row runs on; this
             * callback's time is still ours, not the row's. */
            lp_spend(ts, t_end, lp_timer_now(st));
            return;
        }
        if (frame->row >= 0) {
            lp_charge(ts, frame, t_end);
        }
        else if (frame->row == -1 && LP_HAVE_QUIET_START) {
            /* The frame's first line.  Since its start callback's last clock read nothing of
             * the program has run, only the interpreter getting from that callback to this
             * one: lineprof's own cost, measured by its two clock reads, taken out of the lines
             * running around it like the callbacks' own time.  Where the interpreter may run
             * the program there (compat.h), the gap stays in the calling line. */
            lp_spend(ts, frame->t_start, t_end);
        }
        if (st->memory) {
            lp_mem_end(st, ts, frame, ts->depth > 1 ? frame - 1 : NULL);
        }
    }
    else {
        /* A frame we did not see start: it was running when profiling began. */
        frame = lp_push(st, ts, entry, key, -1, t_end);
        if (frame == NULL) {
            return;
        }
    }
    frame->row = row;
    if (st->memory) {
        lp_mem_start(st, ts, frame);
    }
    if (row >= 0) {
        lp_hit(entry, row);
    }
    int64_t t_start = lp_timer_now(st);
    lp_spend(ts, t_end, t_start);
    lp_start_interval(ts, frame, t_start);
}

static inline void
lp_event_exit(LPModuleState *st, LPCodeEntry *entry, const void *key, int64_t t_end)
{
    LPThreadState *ts = lp_thread(st);
    if (ts == NULL) {
        return;
    }
    if (!lp_is_top(ts, entry, key)) {
        /* Not a frame we are tracking (it started before profiling and ran no line since). */
        return;
    }
    /* With it go the frames a throw() passed through to it: if it yields, the value goes
     * straight out through them; if it ends, CPython resumes the next one out, which an event
     * of its own reports. */
    int n = 1 + lp_delegating_below(ts);
    for (int i = 0; i < n; i++) {
        LPFrame *frame = &ts->frames[--ts->depth];
        if (frame->row >= 0) {
            lp_charge(ts, frame, t_end);
        }
        if (st->memory) {
            lp_mem_end(st, ts, frame, ts->depth > 0 ? frame - 1 : NULL);
        }
    }
    lp_spend(ts, t_end, lp_timer_now(st));
}

#endif /* LINEPROF_EVENTS_H */
