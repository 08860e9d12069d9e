/* hook_setprofile.c: the PyEval_SetProfile hook (CPython <= 3.11, the default there).
 *
 * A trace function costs every traced frame a line-number check on each instruction, whether
 * or not it wants line events.  A profile function only sees calls and returns.  So this
 * backend follows calls and returns with a profile function, and switches the thread's trace
 * function (hook_settrace.c) on only while one of its profiled frames is the running frame:
 * unprofiled code, including unprofiled helpers called from profiled lines, runs under the
 * profile function alone.  Measured (benchmarks/quick_overhead.py): a no-op C profile function
 * slows call-heavy code 1.7x (3.10) / 2.7x (3.11); a trace function that drops line events
 * 3.1x / 3.6x.
 *
 * Per thread, unprofiled_depth counts the unprofiled frames running above the top profiled
 * frame; line events are on exactly when the stack is not empty and that count is zero.
 * Switching is cheap before 3.12 only (compat.h: LP_HAVE_CHEAP_TRACE_SWITCH).
 *
 * Even the profile function alone costs code that is not profiled: while one is installed in a
 * thread, CPython 3.11 runs that thread's bytecode unspecialized (a no-op C profile function
 * makes call-heavy code 3.2x slower there, 1.6x on 3.10).  So where every profiled function is
 * entered through the wrapper @profile returns (entry.c; Python decides: entry_mode), no thread
 * has the profile function until it enters one: the wrapper calls lp_setprofile_enter() before
 * the function and lp_setprofile_leave() after it, and the outermost pair puts the profile
 * function in and takes it out.  Code outside profiled functions then runs untouched.  Once any
 * code is profiled that can be entered another way (add_function, a module, a generator), every
 * thread gets the profile function for the rest of the session (lp_setprofile_hook_every_thread).
 */
#include "events.h"

#if LP_HAVE_CHEAP_TRACE_SWITCH

/* Switch this thread's line events on or off.  Never removes another tool's trace function:
 * while one is installed, this thread's profiled lines go unrecorded, unless wrap_trace has
 * lineprof's stand in front of it, passing every event on (hook_wrap.c).  Returns 0 when line
 * events were asked for and another tool's trace function keeps them. */
static int
lp_line_events(LPModuleState *st, int on)
{
    Py_tracefunc current = lp_thread_trace_func();
    if (on) {
        if (current == NULL) {
            PyEval_SetTrace(lp_settrace_callback, st->module);
        }
        else if (current != lp_settrace_callback && current != lp_wrap_callback) {
            if (st->nwrap_trace > 0) {
                lp_wrap_thread_trace(st);
                return lp_thread_trace_func() == lp_wrap_callback;
            }
            /* Another tool traces this thread (pdb, coverage): it keeps its trace function,
             * and this frame's lines go unrecorded. */
            st->hooks_displaced++;
            return 0;
        }
    }
    else if (current == lp_settrace_callback) {
        PyEval_SetTrace(NULL, NULL);
    }
    else if (current == lp_wrap_callback) {
        lp_unwrap_thread_trace();
    }
    return 1;
}

/* The running profiled frame goes on with its line events going to another tool (a breakpoint
 * set, coverage started, from the line that called what just returned): its line in progress
 * ends now, and what the frame runs until its line events come back is charged to no line
 * (LP_ROW_UNSEEN), where it would all have gone to this one. */
static void
lp_lines_unseen(LPModuleState *st, LPThreadState *ts)
{
    if (ts->depth == 0) {
        return;
    }
    int64_t t = lp_timer_now(st);
    LPFrame *frame = &ts->frames[ts->depth - 1];
    if (frame->row >= 0) {
        lp_charge(ts, frame, t);
    }
    if (st->memory) {
        lp_mem_end(st, ts, frame, ts->depth > 1 ? frame - 1 : NULL);
    }
    frame->row = LP_ROW_UNSEEN;
    if (st->memory) {
        lp_mem_start(st, ts, frame);
    }
    lp_start_interval(ts, frame, t);
}

/* The trace function ran for this same call or return just before (hook_settrace.c): from its
 * first clock read to this callback's, only lineprof ran.  Taken out of the line running then
 * (the caller's for a call, the returning frame's last line for a return). */
static inline void
lp_take_pair(LPThreadState *ts, PyFrameObject *frame, int64_t t)
{
    if (ts->pair_frame == frame) {
        lp_spend(ts, ts->pair_t, t);
    }
    ts->pair_frame = NULL;
}

int
lp_setprofile_callback(PyObject *module, PyFrameObject *frame, int what, PyObject *Py_UNUSED(arg))
{
    LPModuleState *st = lp_state(module);
    switch (what) {
    case PyTrace_CALL: {
        if (st->error) {
            return 0;
        }
        LPThreadState *ts = lp_thread(st);
        if (ts == NULL) {
            return 0;
        }
        LPCodeEntry *entry = lp_linestats_lookup(st, lp_frame_code_borrowed(frame));
        if (entry != NULL && entry->nsinks > 0) {
            int64_t t = lp_timer_now(st);
            lp_take_pair(ts, frame, t);
            int depth = ts->unprofiled_depth;
            /* Entered through a throw() that passed through generator frames (throw.c):
             * they go on first, the lowest keeping what ran above the frame below. */
            int n = lp_throw_delegating(st, ts, entry, frame, 1);
            n = lp_push_delegating(st, ts, ts->delegates, n, t);
            if (n > 0) {
                ts->frames[ts->depth - n].saved_depth = depth;
                depth = 0;
            }
            /* Switched before the frame's time starts, so the switch is measured as ours. */
            int seen = lp_line_events(st, 1);
            LPFrame *top =
                lp_event_enter(st, entry, frame, lp_row_at_entry(entry, lp_frame_lasti(frame)), t);
            if (top != NULL) {
                top->saved_depth = depth;
                ts->unprofiled_depth = 0;
                if (!seen) {
                    top->row = LP_ROW_UNSEEN; /* its lines go to another tool from the start */
                }
            }
        }
        else {
            /* An unprofiled call: not timed, not subtracted (lineprof.h, LPLineCell). */
            if (ts->depth > 0 && ts->unprofiled_depth++ == 0) {
                lp_line_events(st, 0);
            }
        }
        return 0;
    }
    case PyTrace_RETURN: {
        LPThreadState *ts = lp_threadstate_current;
        if (ts == NULL && st->nrunning > 0 && !st->error) {
            ts = lp_thread(st); /* a frame running since before the session may be returning */
        }
        if (st->error || ts == NULL) {
            return 0;
        }
        if (ts->epoch != st->epoch) {
            lp_threadstate_catch_up_own(st, ts);
        }
        if (ts->depth == 0) {
            return 0;
        }
        LPFrame *top = &ts->frames[ts->depth - 1];
        if (top->key == frame) {
            /* Read once the frame is known to be ours: unprofiled returns are not timed. */
            int64_t t = lp_timer_now(st);
            lp_take_pair(ts, frame, t);
            /* The frames a throw() passed through to it leave with it (events.h). */
            int left = 1 + lp_delegating_below(ts);
            int saved = ts->frames[ts->depth - left].saved_depth;
            /* Switched before the exit's last clock read, so the switch is measured as ours. */
            int seen = lp_line_events(st, ts->depth > left && saved == 0);
            lp_event_exit(st, top->entry, frame, t);
            ts->unprofiled_depth = saved;
            if (!seen) {
                lp_lines_unseen(st, ts);
            }
        }
        else {
            if (ts->unprofiled_depth > 0 && --ts->unprofiled_depth == 0 &&
                !lp_line_events(st, 1)) {
                lp_lines_unseen(st, ts);
            }
        }
        return 0;
    }
    default: /* C calls, returns and exceptions: not timed, not subtracted */
        return 0;
    }
}

/* Frames already running on this thread when the session starts: push the profiled ones and
 * count the unprofiled ones above them, so returns balance.  Their lines in progress are not
 * timed (LP_ROW_UNSEEN): in the thread that starts profiling a function is recorded from its
 * next line on, as under the other backends, and the line that started the session would
 * otherwise be charged lineprof's own start. */
static int
lp_adopt_running_frames(LPModuleState *st)
{
    LPThreadState *ts = lp_thread_stack(st);
    if (ts == NULL) {
        return 0;
    }
    Py_ssize_t n = 0, cap = 32;
    PyFrameObject **frames = PyMem_Malloc(sizeof(PyFrameObject *) * (size_t)cap);
    if (frames == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    PyFrameObject *frame = PyEval_GetFrame();
    Py_XINCREF(frame);
    while (frame != NULL) {
        if (n == cap) {
            cap *= 2;
            PyFrameObject **bigger = PyMem_Realloc(frames, sizeof(PyFrameObject *) * (size_t)cap);
            if (bigger == NULL) {
                Py_DECREF(frame);
                for (Py_ssize_t i = 0; i < n; i++) {
                    Py_DECREF(frames[i]);
                }
                PyMem_Free(frames);
                PyErr_NoMemory();
                return -1;
            }
            frames = bigger;
        }
        frames[n++] = frame;
        frame = PyFrame_GetBack(frame);
    }
    int unprofiled = 0;
    int64_t now = lp_timer_now(st);
    for (Py_ssize_t i = n - 1; i >= 0; i--) {
        LPCodeEntry *entry = lp_linestats_lookup(st, lp_frame_code_borrowed(frames[i]));
        if (entry != NULL && entry->nsinks > 0) {
            LPFrame *top = lp_push(st, ts, entry, frames[i], LP_ROW_UNSEEN, now);
            if (top != NULL) {
                top->saved_depth = unprofiled;
            }
            unprofiled = 0;
        }
        else {
            unprofiled++;
        }
    }
    ts->unprofiled_depth = unprofiled;
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_DECREF(frames[i]);
    }
    PyMem_Free(frames);
    lp_line_events(st, ts->depth > 0 && unprofiled == 0);
    return 0;
}

/* The other threads already inside a profiled frame when every thread gets the profile
 * function (a worker looping in a profiled function when `with lp:` starts): their trace
 * function goes on now, and their next line event in that frame puts it on their stack
 * (lp_settrace_line), as under the settrace backend.  Otherwise they would record nothing until
 * the function is called again, which a loop that runs all session long never is.  The garbage
 * collector is off meanwhile: a finalizer run by an allocation here (a frame object) could let
 * another thread run and exit, and free the thread state this loop stands on. */
static void
lp_trace_threads_inside_profiled_frames(LPModuleState *st)
{
    int gc_was_on = PyGC_Disable();
    PyThreadState *self = PyThreadState_Get();
    PyInterpreterState *interp = PyThreadState_GetInterpreter(self);
    for (PyThreadState *ts = PyInterpreterState_ThreadHead(interp); ts != NULL;
         ts = PyThreadState_Next(ts)) {
        if (ts == self) {
            continue;
        }
        int inside = 0;
        PyFrameObject *frame = PyThreadState_GetFrame(ts);
        while (frame != NULL && !inside) {
            LPCodeEntry *entry = lp_linestats_lookup(st, lp_frame_code_borrowed(frame));
            inside = entry != NULL && entry->nsinks > 0;
            PyFrameObject *back = PyFrame_GetBack(frame);
            Py_DECREF(frame);
            frame = back;
        }
        Py_XDECREF(frame);
        if (!inside) {
            continue;
        }
        if (ts->c_tracefunc == NULL) {
            lp_thread_set_trace(ts, lp_settrace_callback, st->module);
        }
        else if (ts->c_tracefunc != lp_settrace_callback && ts->c_tracefunc != lp_wrap_callback) {
            st->hooks_displaced++; /* another tool traces it: as in lp_line_events */
        }
    }
    if (gc_was_on) {
        PyGC_Enable();
    }
}

int
lp_setprofile_install(LPModuleState *st, int entry_mode)
{
    st->hooks_displaced = 0;
    st->entry_mode = entry_mode;
    if (entry_mode) {
        return 0; /* threads are hooked as they enter profiled functions */
    }
    if (lp_thread_hook_install(st, "setprofile") < 0) {
        return -1;
    }
    lp_displaced_hook_save(st, 1, lp_setprofile_callback);
    PyEval_SetProfileAllThreads(lp_setprofile_callback, st->module);
    return 0;
}

/* Hooking on entry, the session may start inside profiled functions of this thread, entered
 * through their wrappers while no session hooked on entry (`profile.enable()` after
 * `profile.disable()` in a function under @profile): their wrappers' calls were not counted, so
 * which of them returns last is not known.  The thread is hooked now, for the rest of the
 * session (no wrapper's return takes the hook out), and its running profiled frames adopted,
 * their lines in progress timed from now. */
static int
lp_entry_hook_inside(LPModuleState *st)
{
    LPThreadState *ts = lp_thread_stack(st);
    PyThreadState *tstate = PyThreadState_Get();
    if (ts == NULL || (tstate->c_profilefunc != NULL &&
                       tstate->c_profilefunc != lp_setprofile_callback)) {
        return 0; /* another tool's profile function: this thread is not lineprof's to hook */
    }
    int had = tstate->c_profilefunc == lp_setprofile_callback;
    if (!had) {
        PyEval_SetProfile(lp_setprofile_callback, st->module);
    }
    if (lp_adopt_running_frames(st) < 0) {
        return -1;
    }
    if (ts->depth == 0) {
        if (!had) {
            PyEval_SetProfile(NULL, NULL); /* not inside one: hooked on entry as usual */
        }
        return 0;
    }
    ts->entry_session = st->session;
    ts->entry_depth = INT_MAX / 2;
    ts->entry_hooked = 0;
    return 0;
}

/* Called once the session's code is listened to. */
int
lp_setprofile_start(LPModuleState *st)
{
    if (st->entry_mode) {
        return lp_entry_hook_inside(st);
    }
    lp_trace_threads_inside_profiled_frames(st);
    return lp_adopt_running_frames(st);
}

/* Leave entry mode: from now on every thread, and every thread started later, has the profile
 * function.  This thread's running profiled frames are adopted unless it is inside a profiled
 * function entered through its wrapper (those are followed already). */
int
lp_setprofile_hook_every_thread(LPModuleState *st)
{
    if (st->backend != LP_BACKEND_SETPROFILE || !st->entry_mode) {
        return 0;
    }
    if (lp_thread_hook_install(st, "setprofile") < 0) {
        return -1;
    }
    st->entry_mode = 0;
    LPThreadState *ts = lp_threadstate_current;
    int inside = ts != NULL && ts->entry_session == st->session && ts->entry_depth > 0;
    /* As lp_setprofile_install: another tool's profile function here goes back at the end. */
    lp_displaced_hook_save(st, 1, lp_setprofile_callback);
    PyEval_SetProfileAllThreads(lp_setprofile_callback, st->module);
    lp_trace_threads_inside_profiled_frames(st);
    return inside ? 0 : lp_adopt_running_frames(st);
}

/* A profiled function's wrapper, before calling it. */
void
lp_setprofile_enter(LPModuleState *st)
{
    if (st->backend != LP_BACKEND_SETPROFILE || !st->entry_mode || st->error) {
        return;
    }
    LPThreadState *ts = lp_thread(st);
    if (ts == NULL) {
        return;
    }
    if (ts->entry_session != st->session) {
        ts->entry_session = st->session;
        ts->entry_depth = 0;
        ts->entry_hooked = 0;
    }
    if (ts->entry_depth++ > 0) {
        return;
    }
    PyThreadState *tstate = PyThreadState_Get();
    if (tstate->c_profilefunc == NULL) {
        PyEval_SetProfile(lp_setprofile_callback, st->module);
        ts->entry_hooked = 1;
    }
    else if (tstate->c_profilefunc != lp_setprofile_callback) {
        /* Another tool's profile function (cProfile started after lineprof): it stays, and
         * this call's lines go unrecorded. */
        st->hooks_displaced++;
    }
}

/* A profiled function's wrapper, once it has returned or raised. */
void
lp_setprofile_leave(LPModuleState *st)
{
    LPThreadState *ts = lp_threadstate_current;
    if (ts == NULL || ts->entry_session != st->session || ts->entry_depth == 0) {
        return; /* entered in an earlier session, or before this one hooked on entry */
    }
    if (--ts->entry_depth > 0 || !ts->entry_hooked) {
        return;
    }
    ts->entry_hooked = 0;
    if (ts->epoch != st->epoch) {
        lp_threadstate_catch_up_own(st, ts);
    }
    if (ts->depth > 0 && lp_thread_hooks_lost(st, PyThreadState_Get())) {
        /* The call took lineprof's hooks away (cProfile run inside it): the exits of the
         * frames it entered went unreported, and they would time on under the next call's. */
        lp_threadstate_drop_frames(st, ts);
    }
    /* Every profiled frame this thread entered since has returned, unless the session stopped
     * hooking on entry meanwhile: then the profile function stays. */
    if (st->backend == LP_BACKEND_SETPROFILE && st->entry_mode &&
        PyThreadState_Get()->c_profilefunc == lp_setprofile_callback && ts->depth == 0) {
        lp_line_events(st, 0);
        PyEval_SetProfile(NULL, NULL);
    }
}

/* A greenlet switch has just brought another stack in (greenlet.c): line events are on exactly
 * when its top frame is the running one, as after a call or return. */
void
lp_setprofile_switched(LPModuleState *st)
{
    LPThreadState *ts = lp_threadstate_current;
    if (st->backend != LP_BACKEND_SETPROFILE || ts == NULL) {
        return;
    }
    lp_line_events(st, ts->depth > 0 && ts->unprofiled_depth == 0);
}

void
lp_setprofile_uninstall(LPModuleState *st)
{
    /* Only ours: a profile function another tool set since (cProfile) stays, and its thread
     * was not profiled by lineprof from then on. */
    st->hooks_displaced += lp_threadstate_count_unhooked(st);
    st->hooks_displaced += lp_unprofile_all_threads(lp_setprofile_callback);
    lp_displaced_hook_restore(st, 1);
    /* Our trace function may be on in any thread that was inside a profiled frame; where it
     * stood in front of another tool's, the tool's goes back. */
    (void)lp_untrace_all_threads(lp_settrace_callback); /* others: counted as they met us */
    lp_unwrap_all_threads();
    if (!st->entry_mode) {
        lp_thread_hook_uninstall(st, "setprofile");
    }
    st->entry_mode = 0;
}

#else /* !LP_HAVE_CHEAP_TRACE_SWITCH */

int
lp_setprofile_callback(PyObject *module, PyFrameObject *frame, int what, PyObject *arg)
{
    (void)module;
    (void)frame;
    (void)what;
    (void)arg;
    return 0;
}

int
lp_setprofile_install(LPModuleState *st, int entry_mode)
{
    (void)st;
    (void)entry_mode;
    PyErr_SetString(PyExc_ValueError,
                    "lineprof: the setprofile backend needs CPython 3.11 or older; from 3.12 "
                    "switching a thread's trace function re-instruments all code");
    return -1;
}

int
lp_setprofile_start(LPModuleState *st)
{
    (void)st;
    return 0;
}

int
lp_setprofile_hook_every_thread(LPModuleState *st)
{
    (void)st;
    return 0;
}

void
lp_setprofile_enter(LPModuleState *st)
{
    (void)st;
}

void
lp_setprofile_leave(LPModuleState *st)
{
    (void)st;
}

void
lp_setprofile_uninstall(LPModuleState *st)
{
    (void)st;
}

void
lp_setprofile_switched(LPModuleState *st)
{
    (void)st;
}

#endif /* LP_HAVE_CHEAP_TRACE_SWITCH */
