/* threadstate.c: each thread's stack of profiled frames.
 *
 * The event path reaches its stack through a C11 thread-local pointer: no lookup, no lock.  A
 * pthread key with a destructor frees the stack when the thread exits; the stack holds no Python
 * references, so the destructor needs no GIL.
 */
#include "events.h"

#include <pthread.h>
#include <string.h>

_Thread_local LPThreadState *lp_threadstate_current LP_TLS_MODEL = NULL;

static pthread_key_t lp_key;
static pthread_once_t lp_key_once = PTHREAD_ONCE_INIT;
static int lp_key_ok = 0;

#define LP_INITIAL_FRAMES 64

static void
lp_threadstate_destroy(void *ptr)
{
    LPThreadState *ts = ptr;
    if (ts == NULL) {
        return;
    }
    /* Memory mode's allocator wrappers read this pointer on every allocation, this one too. */
    if (lp_threadstate_current == ts) {
        lp_threadstate_current = NULL;
    }
    PyMem_RawFree(ts->frames);
    PyMem_RawFree(ts);
}

static void
lp_key_create(void)
{
    lp_key_ok = pthread_key_create(&lp_key, lp_threadstate_destroy) == 0;
}

/* First event on this thread. */
LPThreadState *
lp_threadstate_create(LPModuleState *st)
{
    pthread_once(&lp_key_once, lp_key_create);
    LPThreadState *ts = PyMem_RawCalloc(1, sizeof(LPThreadState));
    if (ts == NULL) {
        st->error = LP_ERR_NOMEM;
        return NULL;
    }
    /* Zeroed, here and when the stack grows: a frame's mem_gen 0 means "no memory baseline". */
    ts->frames = PyMem_RawCalloc(LP_INITIAL_FRAMES, sizeof(LPFrame));
    if (ts->frames == NULL) {
        PyMem_RawFree(ts);
        st->error = LP_ERR_NOMEM;
        return NULL;
    }
    ts->cap = LP_INITIAL_FRAMES;
    ts->epoch = st->epoch;
    if (lp_key_ok) {
        pthread_setspecific(lp_key, ts);
    }
    lp_threadstate_current = ts;
    return ts;
}

/* The stack is full: double it and return the new top frame (uninitialised), or record the
 * error and return NULL. */
LPFrame *
lp_threadstate_grow(LPModuleState *st, LPThreadState *ts)
{
    if (ts->cap >= st->stack_limit) {
        st->error = LP_ERR_STACK_LIMIT;
        return NULL;
    }
    int cap = ts->cap * 2;
    if (cap > st->stack_limit) {
        cap = st->stack_limit;
    }
    LPFrame *frames = PyMem_RawRealloc(ts->frames, sizeof(LPFrame) * (size_t)cap);
    if (frames == NULL) {
        st->error = LP_ERR_NOMEM;
        return NULL;
    }
    memset(frames + ts->cap, 0, sizeof(LPFrame) * (size_t)(cap - ts->cap));
    ts->frames = frames;
    ts->cap = cap;
    return &ts->frames[ts->depth++];
}

/* The thread's stack, which last saw epoch ts->epoch, as of st->epoch (LPModuleState.gone). */
void
lp_threadstate_catch_up(const LPModuleState *st, LPThreadState *ts)
{
    if (ts->epoch < st->reset_epoch || st->epoch - ts->epoch > LP_GONE_RING) {
        ts->depth = 0;
        ts->unprofiled_depth = 0;
        ts->epoch = st->epoch;
        return;
    }
    while (ts->epoch != st->epoch) {
        const LPCodeEntry *gone = st->gone[++ts->epoch % LP_GONE_RING];
        int kept = 0;
        for (int i = 0; i < ts->depth; i++) {
            LPFrame *frame = &ts->frames[i];
            if (frame->entry != gone) {
                ts->frames[kept++] = *frame;
                continue;
            }
            /* The frame runs on as unprofiled code: it, and the unprofiled frames it ran
             * above, now run above the profiled frame next below it, if any (setprofile counts
             * unprofiled frames only above a profiled one). */
            int *above =
                i + 1 < ts->depth ? &ts->frames[i + 1].saved_depth : &ts->unprofiled_depth;
            *above = kept > 0 ? *above + frame->saved_depth + 1 : 0;
            /* Its memory peak so far belongs to the line that called it, as at its exit. */
            if (st->memory && kept > 0 && frame->mem_gen == st->mem_gen) {
                lp_mem_fold(&ts->frames[kept - 1], frame->mem_peak);
            }
        }
        ts->depth = kept;
    }
}

/* Profiling stops on this thread: charge each frame's line in progress up to now, so the time
 * already spent on them is not lost.  Other threads' lines in progress are dropped. */
void
lp_threadstate_flush(LPModuleState *st)
{
    LPThreadState *ts = lp_threadstate_current;
    if (ts == NULL) {
        return;
    }
    lp_threadstate_catch_up(st, ts);
    int64_t now = lp_timer_now(st);
    for (int i = 0; i < ts->depth; i++) {
        LPFrame *frame = &ts->frames[i];
        if (frame->row >= 0) {
            lp_charge(ts, frame, now);
        }
        lp_start_interval(ts, frame, now);
    }
    if (st->memory) {
        /* Top down, so each frame's peak reaches the frames below before they are charged. */
        for (int i = ts->depth - 1; i >= 0; i--) {
            lp_mem_end(st, ts, &ts->frames[i], i > 0 ? &ts->frames[i - 1] : NULL);
        }
        for (int i = 0; i < ts->depth; i++) {
            lp_mem_start(st, ts, &ts->frames[i]);
        }
    }
}

void
lp_threadstate_free_current(void)
{
    LPThreadState *ts = lp_threadstate_current;
    if (ts == NULL) {
        return;
    }
    lp_threadstate_current = NULL;
    if (lp_key_ok) {
        pthread_setspecific(lp_key, NULL);
    }
    lp_threadstate_destroy(ts);
}
