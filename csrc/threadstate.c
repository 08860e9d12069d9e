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
 *
 * The stacks (and greenlet.c's) are libc's malloc, not PyMem_Raw*: memory mode (memhook.c)
 * counts every block of Python's allocators to the program's line running, and these are
 * lineprof's own (a deep recursion growing the stack read 700 KB on its calling line).
 */
#include "events.h"

#include <pthread.h>
#include <stdlib.h>
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
    for (int i = 0; i < ts->saved_cap; i++) {
        if (ts->saved[i] != NULL) {
            free(ts->saved[i]->frames);
            free(ts->saved[i]);
        }
    }
    free(ts->saved);
    if (ts->spare != NULL) {
        free(ts->spare->frames);
        free(ts->spare);
    }
    free(ts->delegates);
    free(ts->frames);
    free(ts);
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

/* The forking thread goes on in the child inside the frames it was running, and their lines in
 * progress are the parent's, which times them.  In the child they end at the fork: lines that
 * start there are its own, and a worker that never returns to those frames (multiprocessing's
 * fork start method, os._exit at the end) no longer charges its whole life to the line that
 * started it. */
static void
lp_end_lines_at_fork(LPFrame *frames, int depth)
{
    for (int i = 0; i < depth; i++) {
        if (frames[i].row >= 0) {
            frames[i].row = LP_ROW_UNSEEN;
        }
    }
}

static void
lp_after_fork_in_child(void)
{
    lp_fork_gen++;
    LPThreadState *ts = lp_threadstate_current;
    if (ts != NULL) {
        ts->fork_gen = lp_fork_gen;
        lp_end_lines_at_fork(ts->frames, ts->depth);
        for (int i = 0; i < ts->saved_cap; i++) {
            if (ts->saved[i] != NULL) {
                lp_end_lines_at_fork(ts->saved[i]->frames, ts->saved[i]->depth);
            }
        }
    }
    pthread_mutex_unlock(&lp_threads_lock);
}

static void
lp_key_create(void)
{
    lp_key_ok = pthread_key_create(&lp_key, lp_threadstate_destroy) == 0;
    (void)pthread_atfork(lp_before_fork, lp_after_fork_in_parent, lp_after_fork_in_child);
}

/* The thread ends (its thread state's dict is cleared, in the thread, with the GIL, before its
 * profile and trace functions go): if a legacy-hook session records and the thread had events in
 * it, but lineprof's hook is no longer there (the program set its own profile or trace function
 * in the thread outside profiled code, and maybe cleared it since), what the thread ran since
 * went unrecorded: say so (LPModuleState.hooks_displaced).  Threads still alive when profiling
 * stops are counted there (lp_threadstate_count_unhooked). */
static void
lp_thread_end_capsule(PyObject *capsule)
{
    LPModuleState *st = PyCapsule_GetContext(capsule);
    LPThreadState *ts = PyCapsule_GetPointer(capsule, "lineprof.thread_end");
    if (st == NULL || ts == NULL || lp_threadstate_current != ts) {
        PyErr_Clear();
        return; /* cleared from another thread (finalization): nothing to say */
    }
    if (!(st->backend == LP_BACKEND_SETTRACE ||
          (st->backend == LP_BACKEND_SETPROFILE && !st->entry_mode))) {
        return;
    }
    if (ts->fork_gen != lp_fork_gen || ts->epoch < st->reset_epoch) {
        return;
    }
    Py_tracefunc profile, trace;
    PyObject *unused;
    lp_thread_hook_get(1, &profile, &unused);
    lp_thread_hook_get(0, &trace, &unused);
    /* None of lineprof's (a tool's trace function wrapped by wrap_trace is lineprof's) */
    int ours_traces = trace == lp_settrace_callback;
#if LP_HAVE_CHEAP_TRACE_SWITCH /* hook_wrap.c: before 3.12 */
    ours_traces = ours_traces || trace == lp_wrap_callback;
#endif
    int lost = st->backend == LP_BACKEND_SETTRACE
                   ? !ours_traces
                   : (profile != lp_setprofile_callback && !ours_traces);
    if (lost) {
        st->hooks_displaced++;
    }
}

static void
lp_watch_thread_end(LPModuleState *st, LPThreadState *ts)
{
    PyObject *dict = PyThreadState_GetDict();
    if (dict == NULL) {
        return;
    }
    PyObject *capsule = PyCapsule_New(ts, "lineprof.thread_end", lp_thread_end_capsule);
    if (capsule == NULL || PyCapsule_SetContext(capsule, st) < 0 ||
        PyDict_SetItemString(dict, "lineprof.thread_end", capsule) < 0) {
        PyErr_Clear();
    }
    Py_XDECREF(capsule);
}

/* fork()s this process has come out of as the child (running.c compares a session's). */
uint64_t
lp_threadstate_fork_gen(void)
{
    return lp_fork_gen;
}

/* First event on this thread. */
LPThreadState *
lp_threadstate_create(LPModuleState *st)
{
    pthread_once(&lp_key_once, lp_key_create);
    LPThreadState *ts = calloc(1, sizeof(LPThreadState));
    if (ts == NULL) {
        st->error = LP_ERR_NOMEM;
        return NULL;
    }
    /* Zeroed, here and when the stack grows: a frame's mem_gen 0 means "no memory baseline". */
    ts->frames = calloc(LP_INITIAL_FRAMES, sizeof(LPFrame));
    if (ts->frames == NULL) {
        free(ts);
        st->error = LP_ERR_NOMEM;
        return NULL;
    }
    ts->cap = LP_INITIAL_FRAMES;
    ts->epoch = st->epoch;
    ts->tstate = PyThreadState_Get();
    pthread_mutex_lock(&lp_threads_lock);
    ts->fork_gen = lp_fork_gen;
    lp_list_add(ts);
    pthread_mutex_unlock(&lp_threads_lock);
    if (lp_key_ok) {
        pthread_setspecific(lp_key, ts);
    }
    lp_threadstate_current = ts;
    if (st->nrunning > 0) {
        lp_running_adopt(st, ts);
    }
    ts->setup_due = 1;
    lp_watch_thread_end(st, ts);
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
    LPFrame *frames = realloc(ts->frames, sizeof(LPFrame) * (size_t)cap);
    if (frames == NULL) {
        st->error = LP_ERR_NOMEM;
        return NULL;
    }
    memset(frames + ts->cap, 0, sizeof(LPFrame) * (size_t)(cap - ts->cap));
    ts->frames = frames;
    ts->cap = cap;
    return &ts->frames[ts->depth++];
}

/* A stack (a thread's, or a greenlet's put aside) which last saw `*epoch`, as of st->epoch
 * (LPModuleState.gone). */
static void
lp_stack_catch_up(const LPModuleState *st, uint64_t *epoch, LPFrame *frames, int *depth,
                  int *unprofiled_depth)
{
    if (*epoch == st->epoch) {
        return;
    }
    /* A session began or ended since; or, which lp_threadstate_catch_up_all rules out, more
     * than one code object left since this stack last caught up. */
    if (*epoch < st->reset_epoch || st->epoch - *epoch > 1) {
        *depth = 0;
        *unprofiled_depth = 0;
        *epoch = st->epoch;
        return;
    }
    *epoch = st->epoch;
    int kept = 0;
    for (int i = 0; i < *depth; i++) {
        LPFrame *frame = &frames[i];
        if (frame->entry != st->gone) {
            frames[kept++] = *frame;
            continue;
        }
        /* The frame runs on as unprofiled code: it, and the unprofiled frames it ran above,
         * now run above the profiled frame next below it, if any (setprofile counts
         * unprofiled frames only above a profiled one). */
        int *above = i + 1 < *depth ? &frames[i + 1].saved_depth : unprofiled_depth;
        *above = kept > 0 ? *above + frame->saved_depth + !frame->delegating : 0;
        /* Its memory peak so far belongs to the line that called it, as at its exit. */
        if (st->memory && kept > 0 && frame->mem_gen == st->mem_gen) {
            lp_mem_fold(&frames[kept - 1], frame->mem_peak);
        }
    }
    *depth = kept;
}

void
lp_threadstate_catch_up(const LPModuleState *st, LPThreadState *ts)
{
    lp_stack_catch_up(st, &ts->epoch, ts->frames, &ts->depth, &ts->unprofiled_depth);
}

/* The same, by the thread that owns the stack: at its first event of a session it also takes
 * the frames it was running when the session started (lp_threadstate_note_running). */
void
lp_threadstate_catch_up_own(LPModuleState *st, LPThreadState *ts)
{
    int new_session = ts->epoch < st->reset_epoch;
    lp_threadstate_catch_up(st, ts);
    if (new_session && st->nrunning > 0) {
        lp_running_adopt(st, ts);
    }
    if (new_session) {
        ts->greenlet = NULL; /* switches went unseen between sessions */
        ts->tstate = PyThreadState_Get(); /* a thread C code attaches anew each time */
        ts->setup_due = 1;
    }
}

/* This thread's first event of a session: what Python asked each thread to do for itself
 * (set_thread_setup), now, in it.  Its stack has caught up, so the events the call raises, if
 * any reach lineprof, find it so and do not call again.  An exception in flight (an unwind
 * event) is set aside meanwhile; a failure is reported as unraisable, never raised into the
 * program.  The call is Python code: it may let other threads run, run signal handlers and
 * finalizers, and so switch profilers off and free them (lp_thread, the only caller, drops
 * its event then). */
void
lp_threadstate_run_setup(LPModuleState *st, LPThreadState *ts)
{
    ts->setup_due = 0;
    if (st->thread_setup == NULL || st->nactive == 0) {
        return;
    }
    PyObject *setup = Py_NewRef(st->thread_setup); /* the call may replace it */
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    PyObject *result = PyObject_CallNoArgs(setup);
    if (result == NULL) {
        PyErr_WriteUnraisable(setup);
    }
    Py_XDECREF(result);
    Py_DECREF(setup);
    PyErr_Restore(type, value, tb);
}

PyObject *
lp_threadstate_py_set_thread_setup(PyObject *module, PyObject *setup)
{
    LPModuleState *st = lp_state(module);
    if (setup != Py_None && !PyCallable_Check(setup)) {
        PyErr_SetString(PyExc_TypeError, "set_thread_setup() takes a callable or None");
        return NULL;
    }
    Py_XSETREF(st->thread_setup, setup == Py_None ? NULL : Py_NewRef(setup));
    Py_RETURN_NONE;
}

static void
lp_saved_catch_up(const LPModuleState *st, LPSavedStack *saved)
{
    lp_stack_catch_up(st, &saved->epoch, saved->frames, &saved->depth, &saved->unprofiled_depth);
}

/* A code object has just lost its last profiler (LPModuleState.gone): every thread's stack lets
 * its frames go now, with the GIL held, so none is left to catch up on more than one. */
void
lp_threadstate_catch_up_all(const LPModuleState *st)
{
    pthread_mutex_lock(&lp_threads_lock);
    for (LPThreadState *ts = lp_threads; ts != NULL; ts = ts->next) {
        /* Not a thread fork() left behind, nor a stack of an earlier session: that one is
         * emptied by its own thread, which then takes its running frames (catch_up_own). */
        if (ts->fork_gen == lp_fork_gen && ts->epoch >= st->reset_epoch) {
            lp_threadstate_catch_up(st, ts);
            for (int i = 0; i < ts->saved_cap; i++) {
                if (ts->saved[i] != NULL) {
                    lp_saved_catch_up(st, ts->saved[i]);
                }
            }
        }
    }
    pthread_mutex_unlock(&lp_threads_lock);
}

/* Charge each frame's line in progress up to `now`, and time them on from there. */
static void
lp_charge_frames(const LPThreadState *ts, LPFrame *frames, int depth, int64_t now)
{
    for (int i = 0; i < depth; i++) {
        LPFrame *frame = &frames[i];
        if (frame->row >= 0) {
            lp_charge(ts, frame, now);
        }
        lp_start_interval(ts, frame, now);
    }
}

/* The same for `ts`'s stack and for its greenlets' put aside: a greenlet switched out waits in
 * its line as a blocked thread does (greenlet.c, lp_greenlet_switch). */
static void
lp_charge_in_progress(const LPModuleState *st, LPThreadState *ts, int64_t now)
{
    lp_threadstate_catch_up(st, ts);
    lp_charge_frames(ts, ts->frames, ts->depth, now);
    for (int i = 0; i < ts->saved_cap; i++) {
        LPSavedStack *saved = ts->saved[i];
        if (saved != NULL) {
            lp_saved_catch_up(st, saved);
            lp_charge_frames(ts, saved->frames, saved->depth, now);
        }
    }
}

/* Whether `ts` has profiled frames, running or put aside with its greenlets. */
static int
lp_has_frames(const LPThreadState *ts)
{
    if (ts->depth > 0) {
        return 1;
    }
    for (int i = 0; i < ts->saved_cap; i++) {
        if (ts->saved[i] != NULL && ts->saved[i]->depth > 0) {
            return 1;
        }
    }
    return 0;
}

/* A thread whose hook the program took away (lp_thread_hooks_lost): its frames are let go
 * uncharged.  Their lines in progress ended at some moment nothing reported, and charging them
 * up to now would give them everything the thread ran since, the rest of the session (a
 * `return` line read 55 ms where it took none).  Counted as a displaced hook, so Python says
 * the results are incomplete. */
void
lp_threadstate_drop_frames(LPModuleState *st, LPThreadState *ts)
{
    ts->depth = 0;
    ts->unprofiled_depth = 0;
    ts->pair_frame = NULL;
    for (int i = 0; i < ts->saved_cap; i++) {
        if (ts->saved[i] != NULL) {
            ts->saved[i]->depth = 0;
            ts->saved[i]->unprofiled_depth = 0;
        }
    }
    st->hooks_displaced++;
}

/* Profiling stops under a legacy hook: threads that had events this session, hold no profiled
 * frame now, and have lost lineprof's hook altogether (another tool set its own profile or trace
 * function there outside profiled code and then cleared it: cProfile's runcall, a debugger, a
 * coverage tool run per thread).  What those threads ran since went unrecorded and nothing else
 * says so (lp_unprofile_all_threads counts only hooks another tool still holds). */
Py_ssize_t
lp_threadstate_count_unhooked(const LPModuleState *st)
{
    Py_ssize_t n = 0;
    if (st->backend == LP_BACKEND_SETPROFILE && st->entry_mode) {
        return 0; /* the profile function is on only inside @profile's wrapper */
    }
    pthread_mutex_lock(&lp_threads_lock);
    for (LPThreadState *ts = lp_threads; ts != NULL; ts = ts->next) {
        if (ts->fork_gen != lp_fork_gen || ts->epoch < st->reset_epoch || lp_has_frames(ts)) {
            continue;
        }
        Py_tracefunc profile, trace;
        if (!lp_thread_hooks_of(ts->tstate, &profile, &trace)) {
            continue;
        }
        if (st->backend == LP_BACKEND_SETTRACE ? trace == NULL
                                                : (profile == NULL && trace == NULL)) {
            n++;
        }
    }
    pthread_mutex_unlock(&lp_threads_lock);
    return n;
}

/* Every thread's lines in progress charged up to `now` and timed on from there.  Splitting an
 * interval in two changes no total, so this may run at any time, under the GIL. */
static void
lp_charge_every_thread(LPModuleState *st, int64_t now)
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
        if (ts->epoch < st->reset_epoch) {
            continue; /* no event this session: nothing to charge; its own thread empties it */
        }
        lp_threadstate_catch_up(st, ts);
        if (lp_has_frames(ts) && lp_thread_hooks_lost(st, ts->tstate)) {
            lp_threadstate_drop_frames(st, ts);
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
    int64_t now = lp_timer_now(st);
    lp_charge_every_thread(st, now);
    lp_running_charge(st, now);
    lp_threadstate_mem_split(st);
}

/* A profiler leaves (lp_threadstate_flush) or joins (profiler.c) while this thread's lines
 * run: in memory mode, their memory intervals end a piece here, charged to the profilers
 * attached before it began, and go on in a new piece, from which a profiler joining now is
 * charged.  A run's Peak still counts from the run's start (LPFrame.mem_carried).  Other
 * threads' lines are not cut (their counters are written without the GIL): a profiler that
 * joins gets no memory figures from their pieces in progress. */
void
lp_threadstate_mem_split(LPModuleState *st)
{
    LPThreadState *ts = lp_threadstate_current;
    if (ts == NULL || !st->memory) {
        return;
    }
    lp_threadstate_catch_up_own(st, ts); /* a stack of an earlier session has nothing here */
    int64_t live = lp_mem_live(ts);
    /* Top down, so each frame's peak reaches the frames below before they are charged. */
    for (int i = ts->depth - 1; i >= 0; i--) {
        lp_mem_end(st, ts, &ts->frames[i], i > 0 ? &ts->frames[i - 1] : NULL);
    }
    for (int i = 0; i < ts->depth; i++) {
        LPFrame *frame = &ts->frames[i];
        int same_run = frame->mem_gen == st->mem_gen; /* else memory mode has just started */
        uint64_t run_since = frame->run_since;
        int64_t carried = frame->mem_carried + (live - frame->live_at_start);
        lp_mem_start(st, ts, frame);
        if (same_run) {
            frame->run_since = run_since;
            frame->mem_carried = carried;
        }
    }
}

/* Results are read while profiling goes on (get_stats(), lineprof -i): the time of the lines in
 * progress so far is in them, so a line a long call keeps running (a server loop, a blocking
 * read) does not read 0.  Memory figures are not split: they come when the line ends. */
void
lp_threadstate_charge_so_far(LPModuleState *st)
{
    int64_t now = lp_timer_now(st);
    lp_charge_every_thread(st, now);
    lp_running_charge(st, now);
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
