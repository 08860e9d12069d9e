/* running.c: the profiled frames other threads were running when the session started.
 *
 * A thread blocked in a profiled line when profiling starts (a worker waiting on a queue, a
 * server loop in a read) would otherwise be recorded only from its next line: the line in
 * progress would lose what it ran in the session, all of it if it is still running at the
 * stop.  So the session's start notes every other thread's running profiled frames, with
 * their lines, as of then.  The thread's own first event of the session puts its noted frames
 * on its stack with those lines in progress since the start (lp_running_adopt); a stop, or
 * results read meanwhile, charge the noted frames of threads that have had no event, but only
 * those still on their thread at the same line, which a line left unseen is not
 * (lp_running_charge).  Noted only where the thread's events reach lineprof: a line left with
 * no event would otherwise be timed on. */
#include "events.h"

/* Whether `tstate`'s profiled lines reach lineprof this session. */
static int
lp_thread_reports(const LPModuleState *st, PyThreadState *tstate)
{
    switch (st->backend) {
    case LP_BACKEND_MONITORING:
        return 1; /* events are set on the code, for every thread */
#if LP_HAVE_CHEAP_TRACE_SWITCH
    case LP_BACKEND_SETPROFILE:
        return !st->entry_mode && tstate->c_profilefunc == lp_setprofile_callback &&
               (tstate->c_tracefunc == lp_settrace_callback ||
                tstate->c_tracefunc == lp_wrap_callback);
    case LP_BACKEND_SETTRACE:
        return tstate->c_tracefunc == lp_settrace_callback ||
               tstate->c_tracefunc == lp_wrap_callback;
#else
    case LP_BACKEND_SETTRACE:
        return tstate->c_tracefunc == lp_settrace_callback;
#endif
    default:
        return 0;
    }
}

static void
lp_running_drop_at(LPModuleState *st, Py_ssize_t i)
{
    PyObject *frame = st->running[i].frame;
    st->running[i] = st->running[--st->nrunning];
    Py_DECREF(frame);
}

void
lp_threadstate_drop_running(LPModuleState *st)
{
    while (st->nrunning > 0) {
        lp_running_drop_at(st, st->nrunning - 1);
    }
    PyMem_Free(st->running);
    st->running = NULL;
    st->running_cap = 0;
}

/* A code object lost its last profiler: its noted frames go, as from the stacks. */
void
lp_threadstate_forget_running(LPModuleState *st, const LPCodeEntry *entry)
{
    for (Py_ssize_t i = st->nrunning - 1; i >= 0; i--) {
        if (st->running[i].entry == entry) {
            lp_running_drop_at(st, i);
        }
    }
}

static Py_ssize_t
lp_running_find(const LPModuleState *st, PyFrameObject *frame)
{
    for (Py_ssize_t i = 0; i < st->nrunning; i++) {
        if (st->running[i].frame == (PyObject *)frame) {
            return i;
        }
    }
    return -1;
}

/* Visits a thread's frames, innermost first: 0 to go on, -1 to stop. */
typedef int (*LPFrameVisit)(LPModuleState *st, PyFrameObject *frame, void *arg);

/* `frame` (a new reference, or NULL) and the frames below it. */
static void
lp_visit_chain(LPModuleState *st, PyFrameObject *frame, LPFrameVisit visit, void *arg)
{
    while (frame != NULL) {
        PyFrameObject *back = visit(st, frame, arg) < 0 ? NULL : PyFrame_GetBack(frame);
        Py_DECREF(frame);
        frame = back;
    }
    PyErr_Clear(); /* a frame object that could not be made: the walk ends there */
}

/* Every thread's frames (but this thread's if `others_only`; only threads whose events reach
 * lineprof if `reporting_only`), with the GIL.  A frame object made here must not run a
 * finalizer (the GC), which could let a thread run and exit and free the thread state the walk
 * stands on. */
static void
lp_visit_threads(LPModuleState *st, int others_only, int reporting_only, LPFrameVisit visit,
                 void *arg)
{
    int gc_was_on = PyGC_Disable();
    PyThreadState *self = PyThreadState_Get();
    for (PyThreadState *tstate = PyInterpreterState_ThreadHead(PyThreadState_GetInterpreter(self));
         tstate != NULL; tstate = PyThreadState_Next(tstate)) {
        if ((others_only && tstate == self) || (reporting_only && !lp_thread_reports(st, tstate))) {
            continue;
        }
        lp_visit_chain(st, PyThreadState_GetFrame(tstate), visit, arg);
    }
    if (gc_was_on) {
        PyGC_Enable();
    }
}

static int
lp_note_frame(LPModuleState *st, PyFrameObject *frame, void *arg)
{
    LPCodeEntry *entry = lp_linestats_lookup(st, lp_frame_code_borrowed(frame));
    if (entry == NULL || entry->nsinks == 0) {
        return 0;
    }
    int row = lp_row_for_line(entry, PyFrame_GetLineNumber(frame));
    if (row < 0) {
        return 0;
    }
    if (st->nrunning == st->running_cap) {
        Py_ssize_t cap = st->running_cap > 0 ? st->running_cap * 2 : 16;
        LPRunning *bigger = PyMem_Realloc(st->running, sizeof(LPRunning) * (size_t)cap);
        if (bigger == NULL) {
            return -1; /* not noted: recorded from their next line, as before */
        }
        st->running = bigger;
        st->running_cap = cap;
    }
    st->running[st->nrunning++] = (LPRunning){Py_NewRef(frame), entry, row, *(int64_t *)arg};
    return 0;
}

/* The session starts (GIL held, hooks in place, code listened to). */
void
lp_threadstate_note_running(LPModuleState *st)
{
    lp_threadstate_drop_running(st);
    st->running_fork_gen = lp_threadstate_fork_gen();
    int64_t now = lp_timer_now(st);
    lp_visit_threads(st, 1, 1, lp_note_frame, &now);
}

typedef struct {
    Py_ssize_t *found; /* indices into st->running, innermost frame first */
    Py_ssize_t nfound;
} LPAdoption;

static int
lp_find_noted(LPModuleState *st, PyFrameObject *frame, void *arg)
{
    LPAdoption *adoption = arg;
    Py_ssize_t i = lp_running_find(st, frame);
    if (i >= 0) {
        adoption->found[adoption->nfound++] = i;
    }
    return 0;
}

/* This thread's first event of the session: its noted frames go on its stack, outermost first,
 * their lines in progress since they were noted.  No hit: the line started before (Python
 * reports a line with time and no hit as one hit, profiler.py). */
void
lp_running_adopt(LPModuleState *st, LPThreadState *ts)
{
    if (st->running_fork_gen != lp_threadstate_fork_gen()) {
        lp_threadstate_drop_running(st); /* noted in the parent, on threads this child lacks */
        return;
    }
    LPAdoption adoption = {PyMem_Malloc(sizeof(Py_ssize_t) * (size_t)st->nrunning), 0};
    if (adoption.found == NULL) {
        return; /* recorded from their next line */
    }
    int gc_was_on = PyGC_Disable();
    lp_visit_chain(st, (PyFrameObject *)Py_XNewRef(PyEval_GetFrame()), lp_find_noted, &adoption);
    if (gc_was_on) {
        PyGC_Enable();
    }
    Py_ssize_t *found = adoption.found;
    Py_ssize_t nfound = adoption.nfound;
    for (Py_ssize_t k = nfound - 1; k >= 0; k--) {
        LPRunning *noted = &st->running[found[k]];
        const void *key = st->backend == LP_BACKEND_MONITORING ? NULL : (const void *)noted->frame;
        if (lp_push(st, ts, noted->entry, key, noted->row, noted->t_start) == NULL) {
            break; /* the error is recorded: profiling stops */
        }
    }
    /* Taken, highest index first so the ones still to drop keep theirs. */
    for (Py_ssize_t k = 0; k < nfound; k++) {
        Py_ssize_t high = k;
        for (Py_ssize_t j = k + 1; j < nfound; j++) {
            if (found[j] > found[high]) {
                high = j;
            }
        }
        Py_ssize_t i = found[high];
        found[high] = found[k];
        lp_running_drop_at(st, i);
    }
    PyMem_Free(found);
}

static int
lp_mark_still_running(LPModuleState *st, PyFrameObject *frame, void *arg)
{
    char *still = arg;
    Py_ssize_t i = lp_running_find(st, frame);
    if (i >= 0 &&
        lp_row_for_line(st->running[i].entry, PyFrame_GetLineNumber(frame)) == st->running[i].row) {
        still[i] = 1;
    }
    return 0;
}

/* At a stop, or when results are read: the noted frames of threads that have had no event
 * since the start are charged up to `now`, those still on their thread at the noted line; the
 * others left it unseen (a thread whose events lineprof lost), and are let go uncharged. */
void
lp_running_charge(LPModuleState *st, int64_t now)
{
    if (st->nrunning == 0) {
        return;
    }
    if (st->running_fork_gen != lp_threadstate_fork_gen()) {
        lp_threadstate_drop_running(st);
        return;
    }
    char *still = PyMem_Calloc((size_t)st->nrunning, 1);
    if (still == NULL) {
        return;
    }
    lp_visit_threads(st, 0, 0, lp_mark_still_running, still);
    for (Py_ssize_t i = st->nrunning - 1; i >= 0; i--) {
        LPRunning *noted = &st->running[i];
        if (!still[i]) {
            lp_running_drop_at(st, i);
            continue;
        }
        uint64_t elapsed = now > noted->t_start ? (uint64_t)(now - noted->t_start) : 0;
        const LPCodeEntry *entry = noted->entry;
        for (int k = 0; k < entry->nsinks; k++) {
            entry->sinks[k][noted->row].time += elapsed;
        }
        noted->t_start = now;
    }
    PyMem_Free(still);
}
