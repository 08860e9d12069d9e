/* threadstate.c: each thread's stack of profiled frames.
 *
 * The event path reaches its stack through a C11 thread-local pointer: no lookup, no lock.  A
 * pthread key with a destructor frees the stack when the thread exits; the stack holds no Python
 * references, so the destructor needs no GIL.
 *
 * Every stack is also on one list, so that the thread that stops profiling can charge the lines
 * in progress on the other threads up to that moment (lp_threadstate_flush).  The list has a
 * mutex of its own, taken when a thread makes its stack (with the GIL), when a thread exits
 * (without it) and by the flush (with it), never on the event path; no holder waits for the
 * GIL.  The flush changes other threads' stacks: it holds the GIL, and lineprof's callbacks run
 * with the GIL and never let it go while a stack is half changed (hook_wrap.c calls the other
 * tool's trace function only once lineprof's own work on the event is done).
 */
#include "events.h"

#include <pthread.h>
#include <string.h>

_Thread_local LPThreadState *lp_threadstate_current LP_TLS_MODEL = NULL;

static pthread_key_t lp_key;
static pthread_once_t lp_key_once = PTHREAD_ONCE_INIT;
static int lp_key_ok = 0;

static LPThreadState *lp_threads = NULL; /* every stack, newest first */
static pthread_mutex_t lp_threads_lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t lp_fork_gen = 0; /* fork()s this process has come out of as the child */

#define LP_INITIAL_FRAMES 64

static void
lp_list_add(LPThreadState *ts)
{
    ts->prev = NULL;
    ts->next = lp_threads;
    if (lp_threads != NULL) {
        lp_threads->prev = ts;
    }
    lp_threads = ts;
}

static void
lp_list_remove(LPThreadState *ts)
{
    if (ts->prev != NULL) {
        ts->prev->next = ts->next;
    }
    else if (lp_threads == ts) {
        lp_threads = ts->next;
    }
    if (ts->next != NULL) {
        ts->next->prev = ts->prev;
    }
    ts->prev = ts->next = NULL;
}

static void
lp_free_stack(LPThreadState *ts)
{
    PyMem_RawFree(ts->frames);
    PyMem_RawFree(ts);
}

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
    pthread_mutex_lock(&lp_threads_lock);
    lp_list_remove(ts);
    pthread_mutex_unlock(&lp_threads_lock);
    lp_free_stack(ts);
}

/* fork(): the mutex is held across it, so the child gets the list whole; there only the forking
 * thread lives on, and the other threads' stacks, of an older generation, are freed by the next
 * flush (their threads will never exit to free them). */
static void
lp_before_fork(void)
{
    pthread_mutex_lock(&lp_threads_lock);
}

static void
lp_after_fork_in_parent(void)
{
    pthread_mutex_unlock(&lp_threads_lock);
}

static void
lp_after_fork_in_child(void)
{
    lp_fork_gen++;
    if (lp_threadstate_current != NULL) {
        lp_threadstate_current->fork_gen = lp_fork_gen;
    }
    pthread_mutex_unlock(&lp_threads_lock);
}

static void
lp_key_create(void)
{
    lp_key_ok = pthread_key_create(&lp_key, lp_threadstate_destroy) == 0;
    (void)pthread_atfork(lp_before_fork, lp_after_fork_in_parent, lp_after_fork_in_child);
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
    pthread_mutex_lock(&lp_threads_lock);
    ts->fork_gen = lp_fork_gen;
    lp_list_add(ts);
    pthread_mutex_unlock(&lp_threads_lock);
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
    if (ts->epoch == st->epoch) {
        return;
    }
    /* A session began or ended since; or, which lp_threadstate_catch_up_all rules out, more
     * than one code object left since this stack last caught up. */
    if (ts->epoch < st->reset_epoch || st->epoch - ts->epoch > 1) {
        ts->depth = 0;
        ts->unprofiled_depth = 0;
        ts->epoch = st->epoch;
        return;
    }
    ts->epoch = st->epoch;
    int kept = 0;
    for (int i = 0; i < ts->depth; i++) {
        LPFrame *frame = &ts->frames[i];
        if (frame->entry != st->gone) {
            ts->frames[kept++] = *frame;
            continue;
        }
        /* The frame runs on as unprofiled code: it, and the unprofiled frames it ran above,
         * now run above the profiled frame next below it, if any (setprofile counts
         * unprofiled frames only above a profiled one). */
        int *above = i + 1 < ts->depth ? &ts->frames[i + 1].saved_depth : &ts->unprofiled_depth;
        *above = kept > 0 ? *above + frame->saved_depth + 1 : 0;
        /* Its memory peak so far belongs to the line that called it, as at its exit. */
        if (st->memory && kept > 0 && frame->mem_gen == st->mem_gen) {
            lp_mem_fold(&ts->frames[kept - 1], frame->mem_peak);
        }
    }
    ts->depth = kept;
}

/* A code object has just lost its last profiler (LPModuleState.gone): every thread's stack lets
 * its frames go now, with the GIL held, so none is left to catch up on more than one. */
void
lp_threadstate_catch_up_all(const LPModuleState *st)
{
    pthread_mutex_lock(&lp_threads_lock);
    for (LPThreadState *ts = lp_threads; ts != NULL; ts = ts->next) {
        if (ts->fork_gen == lp_fork_gen) { /* not a thread fork() left behind */
            lp_threadstate_catch_up(st, ts);
        }
    }
    pthread_mutex_unlock(&lp_threads_lock);
}

/* Charge each of `ts`'s frames' line in progress up to `now`, and time them on from there. */
static void
lp_charge_in_progress(const LPModuleState *st, LPThreadState *ts, int64_t now)
{
    lp_threadstate_catch_up(st, ts);
    for (int i = 0; i < ts->depth; i++) {
        LPFrame *frame = &ts->frames[i];
        if (frame->row >= 0) {
            lp_charge(ts, frame, now);
        }
        lp_start_interval(ts, frame, now);
    }
}

/* Every thread's lines in progress charged up to `now` and timed on from there.  Splitting an
 * interval in two changes no total, so this may run at any time, under the GIL. */
static void
lp_charge_every_thread(const LPModuleState *st, int64_t now)
{
    pthread_mutex_lock(&lp_threads_lock);
    LPThreadState *next;
    for (LPThreadState *ts = lp_threads; ts != NULL; ts = next) {
        next = ts->next;
        if (ts->fork_gen != lp_fork_gen) { /* a thread fork() did not copy */
            lp_list_remove(ts);
            lp_free_stack(ts);
            continue;
        }
        lp_charge_in_progress(st, ts, now);
    }
    pthread_mutex_unlock(&lp_threads_lock);
}

/* Profiling stops: charge the lines in progress up to now, on this thread and on every other
 * (a worker waiting in a profiled line, a daemon thread still running at exit), so the time
 * already spent on them is not lost.  The memory figures of other threads' lines in progress
 * are not charged: their counters are written by those threads' allocator wrappers, possibly
 * without the GIL. */
void
lp_threadstate_flush(LPModuleState *st)
{
    lp_charge_every_thread(st, lp_timer_now(st));
    LPThreadState *ts = lp_threadstate_current;
    if (ts != NULL && st->memory) {
        /* Top down, so each frame's peak reaches the frames below before they are charged. */
        for (int i = ts->depth - 1; i >= 0; i--) {
            lp_mem_end(st, ts, &ts->frames[i], i > 0 ? &ts->frames[i - 1] : NULL);
        }
        for (int i = 0; i < ts->depth; i++) {
            lp_mem_start(st, ts, &ts->frames[i]);
        }
    }
}

/* Results are read while profiling goes on (get_stats(), lineprof -i): the time of the lines in
 * progress so far is in them, so a line a long call keeps running (a server loop, a blocking
 * read) does not read 0.  Memory figures are not split: they come when the line ends. */
void
lp_threadstate_charge_so_far(LPModuleState *st)
{
    lp_charge_every_thread(st, lp_timer_now(st));
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
