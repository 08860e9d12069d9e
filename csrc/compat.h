/* compat.h: the ONLY file that tests PY_VERSION_HEX.
 *
 * Every other file tests feature macros (LP_HAVE_*) or calls the modern API name; older
 * interpreters get backports here, named like the API they stand in for.  Public C API only:
 * the underscore functions used below are declared in CPython's public cpython/ headers for the
 * versions that use them, never in internal/pycore_*.h.
 */
#ifndef LINEPROF_COMPAT_H
#define LINEPROF_COMPAT_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <frameobject.h>

#if PY_VERSION_HEX < 0x030A0000
#error "lineprof supports CPython 3.10 and newer"
#endif

/* PEP 669 (sys.monitoring) arrived in 3.12. */
#if PY_VERSION_HEX >= 0x030C0000
#define LP_HAVE_SYS_MONITORING 1
#else
#define LP_HAVE_SYS_MONITORING 0
#endif

/* The Py_mod_multiple_interpreters slot arrived in 3.12.  Our per-thread state and code-extra
 * index are process-wide, so we declare that subinterpreters are not supported. */
#if PY_VERSION_HEX >= 0x030C0000
#define LP_HAVE_MOD_MULTIPLE_INTERPRETERS 1
#else
#define LP_HAVE_MOD_MULTIPLE_INTERPRETERS 0
#endif

/* Can a thread's trace function be switched on and off cheaply, many times a second?  Up to
 * 3.11 PyEval_SetTrace only touches the calling thread's state.  From 3.12 it is built on
 * sys.monitoring and every switch re-instruments every code object (PEP 669). */
#if PY_VERSION_HEX < 0x030C0000
#define LP_HAVE_CHEAP_TRACE_SWITCH 1
#else
#define LP_HAVE_CHEAP_TRACE_SWITCH 0
#endif

/* Does nothing of the program run between a frame's start event and its first line event?
 * The interpreter handles pending work (signal handlers, a switch of the GIL to another thread,
 * 3.12's garbage collector) at a frame's first instruction.  3.11 (ceval.c, DO_TRACING on RESUME)
 * does it before the call event, and a thread has one profile and one trace function, both
 * lineprof's (a tool's trace function that wrap_trace passes events on to runs outside this gap:
 * a 10 ms 'call' handler reads 10 ms in the calling line), so between the two callbacks there is
 * only the interpreter getting from one to the next: lineprof's own cost.
 * 3.10 (the eval loop's first pass, after the call event) and 3.12 (INSTRUMENTED_RESUME checks the
 * eval breaker after calling the tools) handle pending work after it.  And from 3.12 other tools
 * share the events: sys.monitoring calls an event's tools from the highest id down, so another
 * tool's PY_START callback on a lower id than lineprof's (a debugger, coverage) and another's
 * LINE callback on a higher id (sys.settrace's, a debugger stopping at the callee's first line)
 * run in that gap; which tools hold events on a code object cannot be read with the public API.
 * So 3.11 only: elsewhere the gap stays in the calling line (a few tens of ns per call), where
 * taking it out could take the program's time out, all of it. */
#if PY_VERSION_HEX >= 0x030B0000 && PY_VERSION_HEX < 0x030C0000
#define LP_HAVE_QUIET_START 1
#else
#define LP_HAVE_QUIET_START 0
#endif

/* Py_IsFinalizing is public since 3.13; before, the same function was _Py_IsFinalizing in
 * cpython/pylifecycle.h. */
#if PY_VERSION_HEX < 0x030D0000
#define Py_IsFinalizing _Py_IsFinalizing
#endif

/* Code-object extra slots: renamed PyUnstable_* in 3.12 (PEP 689); same functions before. */
#if PY_VERSION_HEX < 0x030C0000
#define PyUnstable_Eval_RequestCodeExtraIndex _PyEval_RequestCodeExtraIndex
#define PyUnstable_Code_GetExtra _PyCode_GetExtra
#define PyUnstable_Code_SetExtra _PyCode_SetExtra
#endif

/* Tracing every thread at once: PyEval_SetTraceAllThreads is public since 3.12.  Before, the
 * per-thread-state setter it is built on was declared in cpython/ceval.h. */
#if PY_VERSION_HEX < 0x030C0000
static inline void
PyEval_SetTraceAllThreads(Py_tracefunc func, PyObject *arg)
{
    PyInterpreterState *interp = PyThreadState_GetInterpreter(PyThreadState_Get());
    for (PyThreadState *ts = PyInterpreterState_ThreadHead(interp); ts != NULL;
         ts = PyThreadState_Next(ts)) {
        if (_PyEval_SetTrace(ts, func, arg) < 0) {
            PyErr_WriteUnraisable(NULL);
        }
    }
}
#endif

/* Profiling every thread at once: PyEval_SetProfileAllThreads is public since 3.12. */
#if PY_VERSION_HEX < 0x030C0000
static inline void
PyEval_SetProfileAllThreads(Py_tracefunc func, PyObject *arg)
{
    PyInterpreterState *interp = PyThreadState_GetInterpreter(PyThreadState_Get());
    for (PyThreadState *ts = PyInterpreterState_ThreadHead(interp); ts != NULL;
         ts = PyThreadState_Next(ts)) {
        if (_PyEval_SetProfile(ts, func, arg) < 0) {
            PyErr_WriteUnraisable(NULL);
        }
    }
}
#endif

/* Remove `func` as profile function from every thread that has it, leaving other tools'
 * profile functions in place (cProfile started after lineprof keeps working); returns how
 * many threads had another tool's instead. */
#if PY_VERSION_HEX < 0x030C0000
static inline Py_ssize_t
lp_unprofile_all_threads(Py_tracefunc func)
{
    Py_ssize_t others = 0;
    PyInterpreterState *interp = PyThreadState_GetInterpreter(PyThreadState_Get());
    for (PyThreadState *ts = PyInterpreterState_ThreadHead(interp); ts != NULL;
         ts = PyThreadState_Next(ts)) {
        if (ts->c_profilefunc == func) {
            if (_PyEval_SetProfile(ts, NULL, NULL) < 0) {
                PyErr_WriteUnraisable(NULL);
            }
        }
        else if (ts->c_profilefunc != NULL) {
            others++;
        }
    }
    return others;
}
#endif

/* Remove `func` as trace function from every thread that has it, leaving other tools' trace
 * functions in place; returns how many threads had another tool's.  Only needed where trace
 * switching is cheap (before 3.12), where the per-thread-state setter is declared in
 * cpython/ceval.h. */
#if PY_VERSION_HEX < 0x030C0000
static inline Py_ssize_t
lp_untrace_all_threads(Py_tracefunc func)
{
    Py_ssize_t others = 0;
    PyInterpreterState *interp = PyThreadState_GetInterpreter(PyThreadState_Get());
    for (PyThreadState *ts = PyInterpreterState_ThreadHead(interp); ts != NULL;
         ts = PyThreadState_Next(ts)) {
        if (ts->c_tracefunc == func) {
            if (_PyEval_SetTrace(ts, NULL, NULL) < 0) {
                PyErr_WriteUnraisable(NULL);
            }
        }
        else if (ts->c_tracefunc != NULL) {
            others++;
        }
    }
    return others;
}
#endif

/* Set `ts`'s trace function (the per-thread-state setter of cpython/ceval.h, before 3.12). */
#if PY_VERSION_HEX < 0x030C0000
static inline void
lp_thread_set_trace(PyThreadState *ts, Py_tracefunc func, PyObject *obj)
{
    if (_PyEval_SetTrace(ts, func, obj) < 0) {
        PyErr_WriteUnraisable(NULL);
    }
}

/* Call `visit(ts, obj)` for every thread whose trace function is `func` (obj: its trace
 * object, borrowed); `visit` may set that thread's trace function. */
static inline void
lp_for_threads_traced_by(Py_tracefunc func, void (*visit)(PyThreadState *, PyObject *))
{
    PyInterpreterState *interp = PyThreadState_GetInterpreter(PyThreadState_Get());
    for (PyThreadState *ts = PyInterpreterState_ThreadHead(interp); ts != NULL;
         ts = PyThreadState_Next(ts)) {
        if (ts->c_tracefunc == func) {
            visit(ts, ts->c_traceobj);
        }
    }
}
#endif

/* The calling thread's C trace and profile functions and their objects (public PyThreadState
 * fields in every version we support).  Borrowed. */
static inline Py_tracefunc
lp_thread_trace_func(void)
{
    return PyThreadState_Get()->c_tracefunc;
}

static inline Py_tracefunc
lp_thread_profile_func(void)
{
    return PyThreadState_Get()->c_profilefunc;
}

/* The profile and trace functions of `target`, a thread state of this interpreter that may
 * have been deleted since it was recorded (so it is looked for, never read unless found).
 * Returns 0 if it is gone. */
static inline int
lp_thread_hooks_of(const PyThreadState *target, Py_tracefunc *profile, Py_tracefunc *trace)
{
    PyInterpreterState *interp = PyThreadState_GetInterpreter(PyThreadState_Get());
    for (PyThreadState *ts = PyInterpreterState_ThreadHead(interp); ts != NULL;
         ts = PyThreadState_Next(ts)) {
        if (ts == target) {
            *profile = ts->c_profilefunc;
            *trace = ts->c_tracefunc;
            return 1;
        }
    }
    return 0;
}

static inline void
lp_thread_hook_get(int profile, Py_tracefunc *func, PyObject **obj)
{
    PyThreadState *ts = PyThreadState_Get();
    *func = profile ? ts->c_profilefunc : ts->c_tracefunc;
    *obj = profile ? ts->c_profileobj : ts->c_traceobj;
}

/* A small int's value without a function call: sys.monitoring passes line numbers and offsets
 * as ints, and PyLong_AsLong costs a call and an error check on every event.  The compact-int
 * accessors are public (unstable) API from 3.12, the only versions that pass such ints. */
static inline long
lp_long_value(PyObject *obj)
{
#if PY_VERSION_HEX >= 0x030C0000
    if (PyLong_CheckExact(obj) && PyUnstable_Long_IsCompact((PyLongObject *)obj)) {
        return (long)PyUnstable_Long_CompactValue((PyLongObject *)obj);
    }
#endif
    long value = PyLong_AsLong(obj);
    if (value == -1 && PyErr_Occurred()) {
        PyErr_Clear();
    }
    return value;
}

/* Frames, as seen from a C trace function. */
#if PY_VERSION_HEX < 0x030B0000
/* 3.10: PyFrameObject is a public struct; f_lasti counts code units, not bytes. */
static inline PyObject *
lp_frame_code_borrowed(PyFrameObject *frame)
{
    return (PyObject *)frame->f_code;
}

static inline int
lp_frame_lasti(PyFrameObject *frame)
{
    return frame->f_lasti < 0 ? -1 : frame->f_lasti * (int)sizeof(_Py_CODEUNIT);
}

static inline int
lp_frame_set_line_events(PyFrameObject *frame, PyObject *attr_name, int on)
{
    (void)attr_name;
    frame->f_trace_lines = (char)on;
    return 0;
}
#else
/* 3.11+: PyFrameObject is opaque. */
static inline PyObject *
lp_frame_code_borrowed(PyFrameObject *frame)
{
    PyCodeObject *code = PyFrame_GetCode(frame);
    /* The frame holds its code object for as long as the frame lives. */
    Py_DECREF(code);
    return (PyObject *)code;
}

static inline int
lp_frame_lasti(PyFrameObject *frame)
{
    return PyFrame_GetLasti(frame);
}

static inline int
lp_frame_set_line_events(PyFrameObject *frame, PyObject *attr_name, int on)
{
    return PyObject_SetAttr((PyObject *)frame, attr_name, on ? Py_True : Py_False);
}
#endif

#endif /* LINEPROF_COMPAT_H */
