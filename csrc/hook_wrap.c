/* hook_wrap.c: another tool's trace function, kept being called while lineprof's stands in
 * front of it (LineProfiler(wrap_trace=True); CPython <= 3.11, the setprofile backend).
 *
 * Before 3.12 a thread has one trace function.  Under the setprofile backend lineprof's is on
 * only while a profiled frame is the running frame (hook_setprofile.c).  When another tool's
 * trace function (a debugger, coverage.py) holds the slot then, lineprof leaves it there by
 * default and records nothing in that thread (hooks_displaced).  With wrap_trace, lineprof's
 * trace function takes the slot for as long as the profiled frame runs and passes every event
 * on to the tool's, with the tool's own object, as CPython would have called it; the tool's is
 * put back as soon as no profiled frame is running (a call into unprofiled code, a return, a
 * yield, the end of the session).  The tool's function and object travel in a capsule that is
 * lineprof's trace object, so each thread keeps its own.
 *
 * The tool's own work on an event happens after lineprof's clock reads: it is charged to the
 * line starting there, as it is part of what the program pays with that tool on.
 */
#include "events.h"

#if LP_HAVE_CHEAP_TRACE_SWITCH

#define LP_WRAPPED_NAME "lineprof.wrapped_trace"

typedef struct {
    PyObject *module;  /* owned */
    Py_tracefunc func; /* the tool's trace function */
    PyObject *obj;     /* owned: the tool's trace object (may be NULL) */
} LPWrappedTrace;

static void
lp_wrapped_free(PyObject *capsule)
{
    LPWrappedTrace *w = PyCapsule_GetPointer(capsule, LP_WRAPPED_NAME);
    if (w == NULL) {
        PyErr_Clear();
        return;
    }
    Py_XDECREF(w->module);
    Py_XDECREF(w->obj);
    PyMem_Free(w);
}

int
lp_wrap_callback(PyObject *capsule, PyFrameObject *frame, int what, PyObject *arg)
{
    LPWrappedTrace *w = PyCapsule_GetPointer(capsule, LP_WRAPPED_NAME);
    if (w == NULL) {
        PyErr_Clear();
        return 0;
    }
    if (what == PyTrace_LINE) {
        /* Never switches the frame's line events off: the tool wants them. */
        lp_settrace_line(w->module, frame, 0);
    }
    /* The tool may set the thread's trace function from inside (sys.settrace(None) when a
     * debugger continues), which frees the capsule: its object is held across the call. */
    Py_tracefunc func = w->func;
    PyObject *obj = Py_XNewRef(w->obj);
    int result = func(obj, frame, what, arg);
    Py_XDECREF(obj);
    return result;
}

void
lp_wrap_thread_trace(LPModuleState *st)
{
    Py_tracefunc func;
    PyObject *obj;
    lp_thread_hook_get(0, &func, &obj);
    LPWrappedTrace *w = PyMem_Malloc(sizeof(LPWrappedTrace));
    if (w == NULL) {
        st->hooks_displaced++; /* the tool keeps the slot; this frame goes unrecorded */
        return;
    }
    w->module = Py_NewRef(st->module);
    w->func = func;
    w->obj = Py_XNewRef(obj);
    PyObject *capsule = PyCapsule_New(w, LP_WRAPPED_NAME, lp_wrapped_free);
    if (capsule == NULL) {
        PyErr_Clear();
        Py_DECREF(w->module);
        Py_XDECREF(w->obj);
        PyMem_Free(w);
        st->hooks_displaced++;
        return;
    }
    PyEval_SetTrace(lp_wrap_callback, capsule); /* holds its own reference */
    Py_DECREF(capsule);
}

/* Put the wrapped tool's trace function back in `ts` (whose trace object is our capsule). */
static void
lp_unwrap(PyThreadState *ts, PyObject *capsule)
{
    LPWrappedTrace *w = PyCapsule_GetPointer(capsule, LP_WRAPPED_NAME);
    if (w == NULL) {
        PyErr_Clear();
        return;
    }
    Py_tracefunc func = w->func;
    PyObject *obj = Py_XNewRef(w->obj); /* setting the trace frees the capsule, and w */
    lp_thread_set_trace(ts, func, obj);
    Py_XDECREF(obj);
}

void
lp_unwrap_thread_trace(void)
{
    Py_tracefunc func;
    PyObject *obj;
    lp_thread_hook_get(0, &func, &obj);
    if (func == lp_wrap_callback) {
        lp_unwrap(PyThreadState_Get(), obj);
    }
}

void
lp_unwrap_all_threads(void)
{
    lp_for_threads_traced_by(lp_wrap_callback, lp_unwrap);
}

#endif /* LP_HAVE_CHEAP_TRACE_SWITCH */
