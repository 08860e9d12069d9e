/* timer.c: the clock as Python sees it, and the injectable fake clock for tests. */
#include "timer.h"

PyObject *
lp_timer_py_now(PyObject *module, PyObject *Py_UNUSED(unused))
{
    return PyLong_FromLongLong(lp_timer_now(lp_state(module)));
}

/* set_fake_clock(on, start=0, step=0): with on, the clock reads `start` until advanced, and
 * moves `step` ns after each read. */
PyObject *
lp_timer_py_set_fake_clock(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs < 1 || nargs > 3) {
        PyErr_SetString(PyExc_TypeError, "set_fake_clock(on, start=0, step=0)");
        return NULL;
    }
    int on = PyObject_IsTrue(args[0]);
    if (on < 0) {
        return NULL;
    }
    long long start = 0;
    if (nargs == 2) {
        start = PyLong_AsLongLong(args[1]);
        if (start == -1 && PyErr_Occurred()) {
            return NULL;
        }
    }
    long long step = 0;
    if (nargs == 3) {
        step = PyLong_AsLongLong(args[2]);
        if (step == -1 && PyErr_Occurred()) {
            return NULL;
        }
        if (step < 0) {
            PyErr_SetString(PyExc_ValueError, "the clock only moves forward");
            return NULL;
        }
    }
    LPModuleState *st = lp_state(module);
    st->fake_clock = on;
    st->fake_now = start;
    st->fake_step = step;
    Py_RETURN_NONE;
}

/* advance_fake_clock(ns): a builtin, so calling it from profiled code creates no frame and no
 * events of its own; the line that calls it is charged exactly ns. */
PyObject *
lp_timer_py_advance_fake_clock(PyObject *module, PyObject *arg)
{
    long long ns = PyLong_AsLongLong(arg);
    if (ns == -1 && PyErr_Occurred()) {
        return NULL;
    }
    if (ns < 0) {
        PyErr_SetString(PyExc_ValueError, "the clock only moves forward");
        return NULL;
    }
    LPModuleState *st = lp_state(module);
    if (!st->fake_clock) {
        PyErr_SetString(PyExc_RuntimeError, "the fake clock is off");
        return NULL;
    }
    st->fake_now += ns;
    Py_RETURN_NONE;
}

PyObject *
lp_timer_py_is_fake(PyObject *module, PyObject *Py_UNUSED(unused))
{
    return PyBool_FromLong(lp_state(module)->fake_clock);
}

/* ---- choosing the clock --------------------------------------------------------------------
 * Python decides (lineprof/clock.py): whether the TSC is trustworthy here and how many ns a
 * tick is.  C only reads the counter. */

/* A table must not mix clocks: an interval started on one clock and ended on the other would
 * be nonsense, so the clock changes only while nothing is being recorded. */
static int
lp_timer_check_idle(LPModuleState *st)
{
    if (st->nactive > 0) {
        PyErr_SetString(PyExc_RuntimeError, "cannot change the clock while profiling");
        return -1;
    }
    return 0;
}

PyObject *
lp_timer_py_tsc_available(PyObject *Py_UNUSED(module), PyObject *Py_UNUSED(unused))
{
    return PyBool_FromLong(LP_HAVE_TSC);
}

#if !LP_HAVE_TSC
static PyObject *
lp_timer_no_tsc(void)
{
    PyErr_SetString(PyExc_RuntimeError, "no TSC clock in this build (x86-64 GCC/Clang only)");
    return NULL;
}
#endif

/* read_tsc() -> int: the raw counter, for Python to calibrate against the monotonic clock. */
PyObject *
lp_timer_py_read_tsc(PyObject *Py_UNUSED(module), PyObject *Py_UNUSED(unused))
{
#if LP_HAVE_TSC
    return PyLong_FromUnsignedLongLong((unsigned long long)__rdtsc());
#else
    return lp_timer_no_tsc();
#endif
}

/* use_tsc(): from now on the clock reads the counter, in ticks. */
PyObject *
lp_timer_py_use_tsc(PyObject *module, PyObject *Py_UNUSED(unused))
{
#if LP_HAVE_TSC
    LPModuleState *st = lp_state(module);
    if (lp_timer_check_idle(st) < 0) {
        return NULL;
    }
    st->clock = LP_CLOCK_TSC;
    Py_RETURN_NONE;
#else
    (void)module;
    return lp_timer_no_tsc();
#endif
}

PyObject *
lp_timer_py_use_monotonic(PyObject *module, PyObject *Py_UNUSED(unused))
{
    LPModuleState *st = lp_state(module);
    if (lp_timer_check_idle(st) < 0) {
        return NULL;
    }
    st->clock = LP_CLOCK_MONOTONIC;
    Py_RETURN_NONE;
}

/* clock_name() -> 'tsc' | 'monotonic': the real clock in use (the fake one is clock_is_fake). */
PyObject *
lp_timer_py_clock_name(PyObject *module, PyObject *Py_UNUSED(unused))
{
    return PyUnicode_FromString(lp_state(module)->clock == LP_CLOCK_TSC ? "tsc" : "monotonic");
}

/* monotonic_ns() -> int: CLOCK_MONOTONIC whatever the selected clock, as the event path reads
 * it (the TSC's reference). */
PyObject *
lp_timer_py_monotonic_ns(PyObject *Py_UNUSED(module), PyObject *Py_UNUSED(unused))
{
    return PyLong_FromLongLong(lp_timer_monotonic());
}
