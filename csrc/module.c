/* module.c: lineprof._lineprof module initialisation (multi-phase, PEP 489) and module state.
 * No logic lives here. */
#include "lineprof.h"

#include <limits.h>

#define LP_DEFAULT_STACK_LIMIT (1 << 20)

static PyObject *
lp_py_active_backend(PyObject *module, PyObject *Py_UNUSED(unused))
{
    switch (lp_state(module)->backend) {
    case LP_BACKEND_MONITORING:
        return PyUnicode_FromString("monitoring");
    case LP_BACKEND_SETTRACE:
        return PyUnicode_FromString("settrace");
    case LP_BACKEND_SETPROFILE:
        return PyUnicode_FromString("setprofile");
    default:
        Py_RETURN_NONE;
    }
}

static PyObject *
lp_py_tool_id(PyObject *module, PyObject *Py_UNUSED(unused))
{
    int tool_id = lp_state(module)->tool_id;
    if (tool_id < 0) {
        Py_RETURN_NONE;
    }
    return PyLong_FromLong(tool_id);
}

/* How often another tool's profile or trace function stood where lineprof's had to be since
 * the last call (before 3.12; always 0 after): Python says the results are incomplete. */
static PyObject *
lp_py_take_hooks_displaced(PyObject *module, PyObject *Py_UNUSED(unused))
{
    LPModuleState *st = lp_state(module);
    Py_ssize_t count = st->hooks_displaced;
    st->hooks_displaced = 0;
    return PyLong_FromSsize_t(count);
}

/* Tests: lower the per-thread frame limit to reach the event path's error handling. */
static PyObject *
lp_py_set_stack_limit(PyObject *module, PyObject *arg)
{
    long limit = PyLong_AsLong(arg);
    if (limit == -1 && PyErr_Occurred()) {
        return NULL;
    }
    if (limit < 1 || limit > INT_MAX / 2) {
        PyErr_SetString(PyExc_ValueError, "stack limit out of range");
        return NULL;
    }
    LPModuleState *st = lp_state(module);
    if (st->nactive > 0) {
        PyErr_SetString(PyExc_RuntimeError, "cannot change the stack limit while profiling");
        return NULL;
    }
    st->stack_limit = (int)limit;
    /* So this thread's next stack starts small and meets the new limit. */
    lp_threadstate_free_current();
    Py_RETURN_NONE;
}

static PyObject *
lp_py_switching(PyObject *module, PyObject *Py_UNUSED(unused))
{
    return PyBool_FromLong(lp_state(module)->switching);
}

static PyMethodDef lp_module_methods[] = {
    {"now", lp_timer_py_now, METH_NOARGS,
     "now() -> int: the profiler's clock, in its units (ns; ticks for the TSC)."},
    {"set_fake_clock", (PyCFunction)(void (*)(void))lp_timer_py_set_fake_clock, METH_FASTCALL,
     "set_fake_clock(on, start=0): tests; a clock that moves only when advanced."},
    {"advance_fake_clock", lp_timer_py_advance_fake_clock, METH_O,
     "advance_fake_clock(ns): move the fake clock forward."},
    {"clock_is_fake", lp_timer_py_is_fake, METH_NOARGS, "clock_is_fake() -> bool"},
    {"tsc_available", lp_timer_py_tsc_available, METH_NOARGS,
     "tsc_available() -> bool: this build has the TSC clock (x86-64)."},
    {"read_tsc", lp_timer_py_read_tsc, METH_NOARGS, "read_tsc() -> int: the raw TSC."},
    {"use_tsc", lp_timer_py_use_tsc, METH_NOARGS, "use_tsc(): clock = the TSC, in ticks."},
    {"use_monotonic", lp_timer_py_use_monotonic, METH_NOARGS,
     "use_monotonic(): clock = CLOCK_MONOTONIC (the default)."},
    {"clock_name", lp_timer_py_clock_name, METH_NOARGS,
     "clock_name() -> 'tsc' | 'monotonic': the clock now() reads when not fake."},
    {"monotonic_ns", lp_timer_py_monotonic_ns, METH_NOARGS,
     "monotonic_ns() -> int: CLOCK_MONOTONIC, whatever the clock in use."},
    {"active_backend", lp_py_active_backend, METH_NOARGS,
     "active_backend() -> 'monitoring' | 'settrace' | None"},
    {"tool_id", lp_py_tool_id, METH_NOARGS,
     "tool_id() -> the sys.monitoring tool id held, or None"},
    {"switching", lp_py_switching, METH_NOARGS,
     "switching() -> bool: a profiler is being enabled, disabled or given code right now (this "
     "call comes from a signal handler or finalizer run in the middle of it)."},
    {"greenlet_switched", (PyCFunction)(void (*)(void))lp_greenlet_py_switched,
     METH_FASTCALL,
     "greenlet_switched(event, (origin, target)): greenlet's tracing function; tells the "
     "profiler which greenlet's frames run from now on (lineprof/greenlets.py)."},
    {"set_thread_setup", lp_threadstate_py_set_thread_setup, METH_O,
     "set_thread_setup(func or None): func() is called by each thread at its first event of a "
     "session, in that thread (lineprof/greenlets.py)."},
    {"take_hooks_displaced", lp_py_take_hooks_displaced, METH_NOARGS,
     "take_hooks_displaced() -> int: times another tool's hook stood where lineprof's had to "
     "be since the last call (3.10/3.11); resets the count."},
    {"memory_hook_installed", lp_memhook_py_installed, METH_NOARGS,
     "memory_hook_installed() -> (raw, mem, obj): is memory mode's allocator wrapper on top of "
     "each domain (PyMem_GetAllocator)?"},
    {"_memory_hook_state", lp_memhook_py_state, METH_NOARGS,
     "_memory_hook_state() -> dict: tests; the allocator hook's bookkeeping."},
    {"memory_watch_numpy", lp_memhook_py_watch_numpy, METH_O,
     "memory_watch_numpy(api) -> bool: while memory mode records, count NumPy's array data: "
     "lineprof's handler over the current context's (api: NumPy's _ARRAY_API capsule)."},
    {"_numpy_handler_is_ours", lp_memhook_py_numpy_is_ours, METH_NOARGS,
     "_numpy_handler_is_ours() -> bool: tests; is lineprof's NumPy handler the current one?"},
    {"_set_stack_limit", lp_py_set_stack_limit, METH_O,
     "_set_stack_limit(n): tests; profiled frames per thread before profiling stops."},
    {NULL, NULL, 0, NULL},
};

static int
lp_module_exec(PyObject *module)
{
    LPModuleState *st = lp_state(module);
    st->module = module;
    st->tool_id = -1;
    st->clock = LP_CLOCK_MONOTONIC;
    st->stack_limit = LP_DEFAULT_STACK_LIMIT;
    /* No free function: an entry holds a strong reference to its code object, so a code
     * object never dies with our pointer still in its extra slot. */
    st->extra_index = PyUnstable_Eval_RequestCodeExtraIndex(NULL);
    if (st->extra_index < 0) {
        if (!PyErr_Occurred()) {
            PyErr_SetString(PyExc_RuntimeError, "lineprof: no code-object extra slot left");
        }
        return -1;
    }
    st->tracer_type = PyType_FromModuleAndSpec(module, &lp_tracer_spec, NULL);
    if (st->tracer_type == NULL) {
        return -1;
    }
    if (PyModule_AddType(module, (PyTypeObject *)st->tracer_type) < 0) {
        return -1;
    }
    st->entry_type = PyType_FromModuleAndSpec(module, &lp_entry_spec, NULL);
    if (st->entry_type == NULL) {
        return -1;
    }
    if (PyModule_AddType(module, (PyTypeObject *)st->entry_type) < 0) {
        return -1;
    }
    if (lp_monitoring_init(st, module) < 0 || lp_settrace_init(st, module) < 0) {
        return -1;
    }
    if (PyModule_AddIntConstant(module, "HAVE_SYS_MONITORING", LP_HAVE_SYS_MONITORING) < 0) {
        return -1;
    }
    if (PyModule_AddIntConstant(module, "HAVE_QUIET_START", LP_HAVE_QUIET_START) < 0) {
        return -1;
    }
    st->str_dead = PyUnicode_InternFromString("dead");
    if (st->str_dead == NULL) {
        return -1;
    }
    /* The backends this interpreter has, preferred first. */
    PyObject *backends = LP_HAVE_SYS_MONITORING ? Py_BuildValue("(ss)", "monitoring", "settrace")
                         : LP_HAVE_CHEAP_TRACE_SWITCH
                             ? Py_BuildValue("(ss)", "setprofile", "settrace")
                             : Py_BuildValue("(s)", "settrace");
    int rc = PyModule_AddObjectRef(module, "BACKENDS", backends);
    Py_XDECREF(backends);
    if (rc < 0) {
        return -1;
    }
    return 0;
}

static int
lp_module_traverse(PyObject *module, visitproc visit, void *arg)
{
    LPModuleState *st = lp_state(module);
    Py_VISIT(st->tracer_type);
    Py_VISIT(st->monitoring);
    for (int i = 0; i < LP_NUM_EVENTS; i++) {
        Py_VISIT(st->callbacks[i]);
    }
    Py_VISIT(st->thread_hook);
    Py_VISIT(st->prev_thread_hook);
    Py_VISIT(st->displaced_obj);
    Py_VISIT(st->entry_type);
    Py_VISIT(st->thread_setup);
    return 0;
}

static int
lp_module_clear(PyObject *module)
{
    LPModuleState *st = lp_state(module);
    Py_CLEAR(st->tracer_type);
    Py_CLEAR(st->monitoring);
    for (int i = 0; i < LP_NUM_EVENTS; i++) {
        Py_CLEAR(st->callbacks[i]);
    }
    Py_CLEAR(st->thread_hook);
    Py_CLEAR(st->prev_thread_hook);
    Py_CLEAR(st->displaced_obj);
    Py_CLEAR(st->entry_type);
    st->displaced_func = NULL;
    Py_CLEAR(st->str_f_trace_lines);
    Py_CLEAR(st->str_dead);
    Py_CLEAR(st->thread_setup);
    lp_threadstate_drop_running(st);
    return 0;
}

static void
lp_module_free(void *module)
{
    lp_module_clear((PyObject *)module);
    lp_threadstate_free_current();
}

static PyModuleDef_Slot lp_module_slots[] = {
    {Py_mod_exec, lp_module_exec},
#if LP_HAVE_MOD_MULTIPLE_INTERPRETERS
    /* The per-thread stacks and the code-extra index are process-wide. */
    {Py_mod_multiple_interpreters, Py_MOD_MULTIPLE_INTERPRETERS_NOT_SUPPORTED},
#endif
    {0, NULL},
};

static struct PyModuleDef lp_module_def = {
    PyModuleDef_HEAD_INIT,
    .m_name = "lineprof._lineprof",
    .m_doc = "lineprof's C core: event hooks, clock, per-line tables, per-thread stacks.",
    .m_size = sizeof(LPModuleState),
    .m_methods = lp_module_methods,
    .m_slots = lp_module_slots,
    .m_traverse = lp_module_traverse,
    .m_clear = lp_module_clear,
    .m_free = lp_module_free,
};

PyMODINIT_FUNC
PyInit__lineprof(void)
{
    return PyModuleDef_Init(&lp_module_def);
}
