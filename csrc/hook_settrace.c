/* hook_settrace.c: the PyEval_SetTrace hook (CPython <= 3.11, and a fallback on 3.12+).
 *
 * A C trace function sees every frame of every traced thread.  For frames of code nobody
 * profiles, it switches off line events for that frame (f_trace_lines = 0) on the 'call' event,
 * so such frames cost one call event and one return event, never a line event.  Frames of
 * profiled code are identified by their frame object, so the stack needs no code lookup on
 * 'line' and 'return'.
 *
 * Threads: installed in every existing thread at once, and in threads started later through
 * threading.settrace(): the new thread's first trace call lands in lp_thread_hook, which swaps
 * itself for the C trace function.
 */
#include "events.h"

static int
lp_trace(PyObject *module, PyFrameObject *frame, int what, PyObject *Py_UNUSED(arg))
{
    LPModuleState *st = lp_state(module);
    switch (what) {
    case PyTrace_LINE: {
        int64_t t = lp_timer_now(st);
        if (st->error) {
            return 0;
        }
        LPThreadState *ts = lp_threadstate_current;
        LPCodeEntry *entry;
        if (ts != NULL && ts->epoch == st->epoch && ts->depth > 0 &&
            ts->frames[ts->depth - 1].key == frame) {
            entry = ts->frames[ts->depth - 1].entry;
        }
        else {
            entry = lp_linestats_lookup(st, lp_frame_code_borrowed(frame));
            if (entry == NULL || entry->nsinks == 0) {
                if (lp_frame_disable_line_events(frame, st->str_f_trace_lines) < 0) {
                    PyErr_Clear();
                }
                return 0;
            }
        }
        lp_event_line(st, entry, frame, lp_row_for_line(entry, PyFrame_GetLineNumber(frame)), t);
        return 0;
    }
    case PyTrace_CALL: {
        if (st->error) {
            return 0;
        }
        LPCodeEntry *entry = lp_linestats_lookup(st, lp_frame_code_borrowed(frame));
        if (entry == NULL || entry->nsinks == 0) {
            if (lp_frame_disable_line_events(frame, st->str_f_trace_lines) < 0) {
                PyErr_Clear();
            }
            return 0;
        }
        lp_event_enter(st, entry, frame, lp_row_at_entry(entry, lp_frame_lasti(frame)));
        return 0;
    }
    case PyTrace_RETURN: {
        int64_t t = lp_timer_now(st);
        LPThreadState *ts = lp_threadstate_current;
        if (st->error || ts == NULL || ts->epoch != st->epoch || ts->depth == 0 ||
            ts->frames[ts->depth - 1].key != frame) {
            return 0;
        }
        lp_event_exit(st, ts->frames[ts->depth - 1].entry, frame, t);
        return 0;
    }
    default:
        return 0;
    }
}

/* threading.settrace() target: the first trace call in a new thread installs the C tracer. */
static PyObject *
lp_thread_hook(PyObject *module, PyObject *const *Py_UNUSED(args), Py_ssize_t Py_UNUSED(nargs))
{
    LPModuleState *st = lp_state(module);
    if (st->backend == LP_BACKEND_SETTRACE) {
        PyEval_SetTrace(lp_trace, module);
    }
    else {
        PyEval_SetTrace(NULL, NULL);
    }
    Py_RETURN_NONE;
}

static PyMethodDef lp_thread_hook_def = {
    "_thread_hook", (PyCFunction)(void (*)(void))lp_thread_hook, METH_FASTCALL,
    "Installs lineprof's trace function in a new thread (used through threading.settrace)."};

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

int
lp_settrace_install(LPModuleState *st)
{
    PyObject *threading = PyImport_ImportModule("threading");
    if (threading == NULL) {
        return -1;
    }
    PyObject *prev = PyObject_CallMethod(threading, "gettrace", NULL);
    if (prev == NULL) {
        Py_DECREF(threading);
        return -1;
    }
    PyObject *result = PyObject_CallMethod(threading, "settrace", "O", st->thread_hook);
    Py_DECREF(threading);
    if (result == NULL) {
        Py_DECREF(prev);
        return -1;
    }
    Py_DECREF(result);
    Py_XSETREF(st->prev_thread_hook, prev);
    PyEval_SetTraceAllThreads(lp_trace, st->module);
    return 0;
}

/* Keeps any exception already set. */
void
lp_settrace_uninstall(LPModuleState *st)
{
    PyObject *exc_type, *exc_value, *exc_tb;
    PyErr_Fetch(&exc_type, &exc_value, &exc_tb);
    PyEval_SetTraceAllThreads(NULL, NULL);
    PyObject *threading = PyImport_ImportModule("threading");
    if (threading != NULL) {
        PyObject *current = PyObject_CallMethod(threading, "gettrace", NULL);
        /* Put back the previous thread hook unless someone replaced ours meanwhile. */
        if (current == st->thread_hook) {
            PyObject *prev = st->prev_thread_hook ? st->prev_thread_hook : Py_None;
            PyObject *result = PyObject_CallMethod(threading, "settrace", "O", prev);
            Py_XDECREF(result);
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
