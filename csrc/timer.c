/* timer.c: the clock as Python sees it, and the injectable fake clock for tests. */
#include "timer.h"

PyObject *
lp_timer_py_now(PyObject *module, PyObject *Py_UNUSED(unused))
{
    return PyLong_FromLongLong(lp_timer_now(lp_state(module)));
}

/* set_fake_clock(on, start=0): with on, the clock reads `start` until advanced. */
PyObject *
lp_timer_py_set_fake_clock(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs < 1 || nargs > 2) {
        PyErr_SetString(PyExc_TypeError, "set_fake_clock(on, start=0)");
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
    LPModuleState *st = lp_state(module);
    st->fake_clock = on;
    st->fake_now = start;
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
