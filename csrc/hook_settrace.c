/* hook_settrace.c: the PyEval_SetTrace hook, and the thread hook shared with hook_setprofile.c.
 *
 * As the SETTRACE backend (any version; the fallback), this trace function sees every frame of
 * every thread.  For frames of code nobody profiles it switches off line events on the 'call'
 * event (f_trace_lines = 0), so such frames cost a call and a return event, never a line
 * event.  Profiled frames are identified by their frame object, so 'line' and 'return' need no
 * code lookup.
 *
 * Under the SETPROFILE backend the same function receives only the line events of profiled
 * frames (hook_setprofile.c switches it on and off); calls and returns come through the profile
 * function there.
 *
 * Threads started later get the hook through threading.settrace()/setprofile(): the new
 * thread's first call lands in lp_thread_hook, which swaps itself for the C function.
 */
#include "events.h"

/* A line event of `frame`: recorded if the frame is profiled; otherwise, when may_switch_off,
 * the frame's line events are switched off (no other tool wants them). */
void
lp_settrace_line(PyObject *module, PyFrameObject *frame, int may_switch_off)
{
    LPModuleState *st = lp_state(module);
    int64_t t = lp_timer_now(st);
    if (st->error) {
        return;
    }
    LPThreadState *ts = lp_threadstate_current;
    LPCodeEntry *entry;
    if (ts != NULL) {
        ts->pair_frame = NULL; /* a call or return whose profile callback never came */
    }
    if (ts != NULL && ts->epoch == st->epoch && ts->depth > 0 &&
        ts->frames[ts->depth - 1].key == frame) {
        entry = ts->frames[ts->depth - 1].entry;
    }
    else {
        entry = lp_linestats_lookup(st, lp_frame_code_borrowed(frame));
        if (entry == NULL || entry->nsinks == 0) {
            if (may_switch_off && lp_frame_set_line_events(frame, st->str_f_trace_lines, 0) < 0) {
                PyErr_Clear();
            }
            return;
        }
    }
    lp_event_line(st, entry, frame, lp_row_for_line(entry, PyFrame_GetLineNumber(frame)), t);
}

/* Under SETPROFILE: whether this thread has lost lineprof's profile function.  The program
 * may have replaced it (cProfile's enable(), another profiler) or removed it (cProfile's
 * disable(), sys.setprofile(None)) from inside a profiled frame, where this trace function is
 * on: it then takes the calls and returns of profiled frames itself, as under SETTRACE, so
 * the frames' lines end where they do instead of timing on to the stop.  Asked only for a
 * call or return, never for a line. */
static inline int
lp_profile_hook_lost(const LPModuleState *st)
{
    return st->backend == LP_BACKEND_SETPROFILE &&
           lp_thread_profile_func() != lp_setprofile_callback;
}

int
lp_settrace_callback(PyObject *module, PyFrameObject *frame, int what, PyObject *Py_UNUSED(arg))
{
    LPModuleState *st = lp_state(module);
    switch (what) {
    case PyTrace_LINE:
        lp_settrace_line(module, frame, 1);
        return 0;
    case PyTrace_CALL: {
        if (st->error) {
            return 0;
        }
        LPCodeEntry *entry = lp_linestats_lookup(st, lp_frame_code_borrowed(frame));
        int profiled = entry != NULL && entry->nsinks > 0;
        if (st->backend != LP_BACKEND_SETTRACE && !lp_profile_hook_lost(st)) {
            /* Under SETPROFILE the profile function handles calls, and CPython calls it right
             * after this function: for a profiled frame, from here on the time is lineprof's
             * (the profile function takes it out: lineprof.h, pair_frame). */
            LPThreadState *ts = lp_threadstate_current;
            if (profiled && ts != NULL) {
                /* Read once the frame is known to be ours: unprofiled calls are not timed. */
                ts->pair_frame = frame;
                ts->pair_t = lp_timer_now(st);
            }
            return 0;
        }
        if (!profiled) {
            if (lp_frame_set_line_events(frame, st->str_f_trace_lines, 0) < 0) {
                PyErr_Clear();
            }
            return 0;
        }
        int64_t t = lp_timer_now(st);
        LPThreadState *ts = lp_thread(st);
        if (ts == NULL) {
            return 0; /* `entry` may be gone (lp_thread) */
        }
        /* Entered through a throw() that passed through generator frames (throw.c) */
        int n = lp_throw_delegating(st, ts, entry, frame, 1);
        lp_push_delegating(st, ts, ts->delegates, n, t);
        lp_event_enter(st, entry, frame, lp_row_at_entry(entry, lp_frame_lasti(frame)), t);
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
        if (ts->depth == 0 || ts->frames[ts->depth - 1].key != frame) {
            return 0;
        }
        if (st->backend != LP_BACKEND_SETTRACE && !lp_profile_hook_lost(st)) {
            /* Under SETPROFILE the profile function ends the frame right after this call: the
             * time from here on is lineprof's (taken out there, as for calls). */
            ts->pair_frame = frame;
            ts->pair_t = lp_timer_now(st);
            return 0;
        }
        /* The clock is read once the frame is known to be ours: the returns of unprofiled
         * frames are not timed (lineprof.h, LPLineCell). */
        int64_t t = lp_timer_now(st);
        lp_event_exit(st, ts->frames[ts->depth - 1].entry, frame, t);
        return 0;
    }
    default:
        return 0;
    }
}

/* Whether the thread of `tstate`, which has profiled frames on its stack, has lost the hook
 * that would report their lines and exits: the program set or cleared the hook lineprof needs
 * there (sys.settrace(None), pdb under SETTRACE; cProfile's enable() and disable() in an
 * unprofiled function under SETPROFILE, where lineprof's trace function is off).  Nothing of
 * that thread reaches lineprof since, so its lines in progress say nothing true about when
 * they ended (lp_charge_every_thread).  Under SETPROFILE lineprof's trace function alone is
 * enough (it takes calls and returns over: lp_profile_hook_lost); lineprof's trace function
 * wrapping another tool's is not (it passes lines only). */
int
lp_thread_hooks_lost(const LPModuleState *st, const PyThreadState *tstate)
{
    if (st->backend != LP_BACKEND_SETPROFILE && st->backend != LP_BACKEND_SETTRACE) {
        return 0; /* sys.monitoring: events are set on the code, and no program takes them */
    }
    Py_tracefunc profile, trace;
    if (!lp_thread_hooks_of(tstate, &profile, &trace)) {
        return 0; /* the thread is ending: its stack goes with it */
    }
    if (trace == lp_settrace_callback) {
        return 0;
    }
    return st->backend == LP_BACKEND_SETTRACE || profile != lp_setprofile_callback;
}

/* Code becomes profiled while a session records (a second profiler enabled, add_function):
 * its frames already running, in any thread, may have had their line events switched off as
 * unprofiled code (lp_settrace_line): they go back on, so those frames are recorded from their
 * next line (lp_event_line adopts them), as under sys.monitoring.  The garbage collector is off
 * meanwhile, as in hook_setprofile.c's walk of the threads. */
void
lp_settrace_lines_on(LPModuleState *st, const LPCodeEntry *entry)
{
    if (st->backend != LP_BACKEND_SETTRACE) {
        return;
    }
    int gc_was_on = PyGC_Disable();
    PyInterpreterState *interp = PyThreadState_GetInterpreter(PyThreadState_Get());
    for (PyThreadState *tstate = PyInterpreterState_ThreadHead(interp); tstate != NULL;
         tstate = PyThreadState_Next(tstate)) {
        PyFrameObject *frame = PyThreadState_GetFrame(tstate);
        while (frame != NULL) {
            if (lp_frame_code_borrowed(frame) == entry->code &&
                lp_frame_set_line_events(frame, st->str_f_trace_lines, 1) < 0) {
                PyErr_Clear();
            }
            PyFrameObject *back = PyFrame_GetBack(frame);
            Py_DECREF(frame);
            frame = back;
        }
    }
    if (gc_was_on) {
        PyGC_Enable();
    }
}

/* threading.settrace()/setprofile() target: a new thread's first call installs our C hook. */
static PyObject *
lp_thread_hook(PyObject *module, PyObject *const *Py_UNUSED(args), Py_ssize_t Py_UNUSED(nargs))
{
    LPModuleState *st = lp_state(module);
    PyThreadState *tstate = PyThreadState_Get();
    switch (st->backend) {
    case LP_BACKEND_SETTRACE:
        PyEval_SetTrace(lp_settrace_callback, module);
        if (lp_threadstate_current == NULL) {
            (void)lp_threadstate_create(st); /* watches the thread's end (threadstate.c) */
        }
        break;
    case LP_BACKEND_SETPROFILE:
        PyEval_SetProfile(lp_setprofile_callback, module);
        if (lp_threadstate_current == NULL) {
            (void)lp_threadstate_create(st);
        }
        break;
    default:
        /* The session ended before this thread started: take ourselves out. */
        if (tstate->c_traceobj == st->thread_hook) {
            PyEval_SetTrace(NULL, NULL);
        }
        if (tstate->c_profileobj == st->thread_hook) {
            PyEval_SetProfile(NULL, NULL);
        }
        break;
    }
    Py_RETURN_NONE;
}

static PyMethodDef lp_thread_hook_def = {
    "_thread_hook", (PyCFunction)(void (*)(void))lp_thread_hook, METH_FASTCALL,
    "Installs lineprof's hook in a new thread (through threading.settrace/setprofile)."};

int
lp_settrace_init(LPModuleState *st, PyObject *module)
{
    st->thread_hook = PyCFunction_NewEx(&lp_thread_hook_def, module, NULL);
    if (st->thread_hook == NULL) {
        return -1;
    }
    st->str_f_trace_lines = PyUnicode_InternFromString("f_trace_lines");
    if (st->str_f_trace_lines == NULL) {
        return -1;
    }
    return 0;
}

/* The hook threading gives the threads it starts (new reference), and setting it.  threading's
 * gettrace()/settrace() (getprofile/setprofile) read and write a module global, _trace_hook
 * (_profile_hook), 3.10 to 3.13: read and written here directly, no Python code runs, so no
 * signal handler can run (and raise, or switch profilers) in the middle.  Without the global,
 * the functions are called.  setter: "settrace" or "setprofile". */
static PyObject *
lp_threading_hook(PyObject *threading, const char *setter)
{
    const char *global = setter[3] == 't' ? "_trace_hook" : "_profile_hook";
    if (PyObject_HasAttrString(threading, global)) {
        return PyObject_GetAttrString(threading, global);
    }
    return PyObject_CallMethod(threading, setter[3] == 't' ? "gettrace" : "getprofile", NULL);
}

static int
lp_set_threading_hook(PyObject *threading, const char *setter, PyObject *hook)
{
    const char *global = setter[3] == 't' ? "_trace_hook" : "_profile_hook";
    if (PyObject_HasAttrString(threading, global)) {
        return PyObject_SetAttrString(threading, global, hook);
    }
    PyObject *result = PyObject_CallMethod(threading, setter, "O", hook);
    Py_XDECREF(result);
    return result == NULL ? -1 : 0;
}

/* threading's hook for new threads becomes ours, remembering the one it replaces. */
int
lp_thread_hook_install(LPModuleState *st, const char *setter)
{
    PyObject *threading = PyImport_ImportModule("threading");
    if (threading == NULL) {
        return -1;
    }
    PyObject *prev = lp_threading_hook(threading, setter);
    if (prev == NULL || lp_set_threading_hook(threading, setter, st->thread_hook) < 0) {
        Py_XDECREF(prev);
        Py_DECREF(threading);
        return -1;
    }
    Py_DECREF(threading);
    Py_XSETREF(st->prev_thread_hook, prev);
    return 0;
}

/* Put back the previous thread hook unless someone replaced ours meanwhile.  Keeps any
 * exception already set. */
void
lp_thread_hook_uninstall(LPModuleState *st, const char *setter)
{
    PyObject *exc_type, *exc_value, *exc_tb;
    PyErr_Fetch(&exc_type, &exc_value, &exc_tb);
    /* Not imported anew: a profiler left enabled at exit ends its session while the interpreter
     * finalizes, when sys.modules has been emptied and an import fails.  threading gone from it
     * means its hook goes with it: nothing to put back. */
    PyObject *name = PyUnicode_FromString("threading");
    PyObject *threading = name != NULL ? PyImport_GetModule(name) : NULL;
    Py_XDECREF(name);
    if (threading == NULL && PyErr_Occurred() && Py_IsFinalizing()) {
        PyErr_Clear(); /* sys.modules itself is gone */
    }
    if (threading != NULL) {
        PyObject *current = lp_threading_hook(threading, setter);
        if (current == st->thread_hook) {
            PyObject *prev = st->prev_thread_hook ? st->prev_thread_hook : Py_None;
            (void)lp_set_threading_hook(threading, setter, prev);
        }
        else if (current != NULL) {
            /* The program replaced lineprof's hook for new threads during the session: the
             * threads started since were not profiled. */
            st->hooks_displaced++;
        }
        Py_XDECREF(current);
        Py_DECREF(threading);
    }
    if (PyErr_Occurred()) {
        PyErr_WriteUnraisable(st->thread_hook);
    }
    Py_CLEAR(st->prev_thread_hook);
    PyErr_Restore(exc_type, exc_value, exc_tb);
}

/* Another tool's trace (profile) function in the thread starting the session is replaced while
 * profiling; remember it to put it back when the session ends.  Python warns the user. */
void
lp_displaced_hook_save(LPModuleState *st, int profile, Py_tracefunc ours)
{
    Py_tracefunc func;
    PyObject *obj;
    lp_thread_hook_get(profile, &func, &obj);
    Py_CLEAR(st->displaced_obj);
    st->displaced_func = NULL;
    if (func != NULL && func != ours) {
        st->displaced_func = func;
        st->displaced_obj = Py_XNewRef(obj);
    }
}

/* Put the displaced hook back in the calling thread, unless something else is there now. */
void
lp_displaced_hook_restore(LPModuleState *st, int profile)
{
    Py_tracefunc func;
    PyObject *obj;
    lp_thread_hook_get(profile, &func, &obj);
    if (st->displaced_func != NULL && func == NULL) {
        if (profile) {
            PyEval_SetProfile(st->displaced_func, st->displaced_obj);
        }
        else {
            PyEval_SetTrace(st->displaced_func, st->displaced_obj);
        }
    }
    st->displaced_func = NULL;
    Py_CLEAR(st->displaced_obj);
}

int
lp_settrace_install(LPModuleState *st)
{
    if (lp_thread_hook_install(st, "settrace") < 0) {
        return -1;
    }
    lp_displaced_hook_save(st, 0, lp_settrace_callback);
    st->hooks_displaced = 0;
    PyEval_SetTraceAllThreads(lp_settrace_callback, st->module);
    return 0;
}

void
lp_settrace_uninstall(LPModuleState *st)
{
    st->hooks_displaced += lp_threadstate_count_unhooked(st);
#if LP_HAVE_CHEAP_TRACE_SWITCH /* lp_untrace_all_threads: a per-thread setter (compat.h) */
    /* Only ours: a trace function another tool set since (coverage, pdb) stays, and its
     * thread was not profiled by lineprof from then on. */
    st->hooks_displaced += lp_untrace_all_threads(lp_settrace_callback);
#else
    /* No per-thread setter in 3.13's public API: every thread's trace function goes. */
    PyEval_SetTraceAllThreads(NULL, NULL);
#endif
    lp_displaced_hook_restore(st, 0);
    lp_thread_hook_uninstall(st, "settrace");
}
