/* hook_monitoring.c: the sys.monitoring hook (PEP 669, CPython 3.12+).
 *
 * Our callbacks are objects of a small type of ours whose vectorcall is the C function itself
 * (LPCallback below), registered with sys.monitoring.register_callback: CPython calls the
 * function directly, without a builtin function's recursion check and argument checks, and
 * the function finds the module state in the object, without a call to reach it.
 * Events are switched on with set_local_events on registered code objects only, so code that
 * is not profiled runs untouched.  PY_UNWIND and PY_THROW cannot be set locally (they are not
 * tied to an instruction), so they are set for our tool globally while profiling is on; for
 * code we do not know, their callbacks return after a compare with the code of the frame on
 * top of this thread's stack and one code-extra lookup.  We never touch another tool's id,
 * callbacks or events.
 *
 * The tool id and the global events live for a profiling session, not for one enable() of one
 * profiler: changing a tool's global events makes CPython re-instrument every code object.  The
 * session starts when the first tracer is enabled and ends when the last one is disabled (or
 * freed), however many LineProfilers there are: they share the module state (profiler.c,
 * st->nactive).  Which id we take is lp_tool_ids below: never PROFILER_ID while another id is
 * free, so cProfile can run beside us.
 */
#include "events.h"

#include <stddef.h> /* offsetof */

#if LP_HAVE_SYS_MONITORING

static const char *const lp_event_names[LP_NUM_EVENTS] = {
    "PY_START", "PY_RESUME", "PY_RETURN", "PY_YIELD", "LINE", "PY_UNWIND", "PY_THROW",
};

/* A callback: CPython calls `vectorcall` with the event's arguments.  The object holds its type,
 * which holds the module, so `st` lives as long as the object. */
typedef struct {
    PyObject_HEAD
    vectorcallfunc vectorcall;
    LPModuleState *st;
} LPCallback;

static int
LPCallback_traverse(PyObject *self, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(self));
    return 0;
}

static void
LPCallback_dealloc(PyObject *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    PyObject_GC_UnTrack(self);
    tp->tp_free(self);
    Py_DECREF(tp);
}

static PyMemberDef LPCallback_members[] = {
    {"__vectorcalloffset__", Py_T_PYSSIZET, offsetof(LPCallback, vectorcall), Py_READONLY, NULL},
    {NULL, 0, 0, 0, NULL},
};

static PyType_Slot LPCallback_slots[] = {
    {Py_tp_traverse, LPCallback_traverse},
    {Py_tp_dealloc, LPCallback_dealloc},
    {Py_tp_call, PyVectorcall_Call},
    {Py_tp_members, LPCallback_members},
    {0, NULL},
};

static PyType_Spec LPCallback_spec = {
    .name = "lineprof._lineprof.MonitoringCallback",
    .basicsize = sizeof(LPCallback),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_HAVE_VECTORCALL |
             Py_TPFLAGS_IMMUTABLETYPE | Py_TPFLAGS_DISALLOW_INSTANTIATION,
    .slots = LPCallback_slots,
};

/* The entry for `code` if some enabled profiler listens to it. */
static inline LPCodeEntry *
lp_listened_entry(LPModuleState *st, PyObject *code)
{
    if (st->error || !PyCode_Check(code)) {
        return NULL;
    }
    LPCodeEntry *entry = lp_linestats_lookup(st, code);
    if (entry == NULL || entry->nsinks == 0) {
        return NULL;
    }
    return entry;
}

/* The entry of the frame on top of this thread's stack when `code` is its code: almost every
 * line, return or yield event is the running frame's, and this saves the code-extra lookup.  A
 * stack of the current epoch holds no frame of code that lost its last listening profiler
 * (threadstate.c, lp_threadstate_catch_up_all), so the entry is listened to, as
 * lp_listened_entry's. */
static inline LPCodeEntry *
lp_top_entry(const LPModuleState *st, PyObject *code)
{
    const LPThreadState *ts = lp_threadstate_current;
    if (ts == NULL || ts->depth == 0 || ts->epoch != st->epoch || st->error) {
        return NULL;
    }
    LPCodeEntry *entry = ts->frames[ts->depth - 1].entry;
    return entry->code == code ? entry : NULL;
}

/* LINE(code, line_number) */
static PyObject *
lp_mon_line(PyObject *callback, PyObject *const *args, size_t nargsf, PyObject *Py_UNUSED(kwnames))
{
    LPModuleState *st = ((LPCallback *)callback)->st;
    Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
    int64_t t = lp_timer_now(st);
    if (nargs < 2) {
        st->error = LP_ERR_BAD_EVENT;
        Py_RETURN_NONE;
    }
    LPCodeEntry *entry = lp_top_entry(st, args[0]);
    if (entry == NULL) {
        entry = lp_listened_entry(st, args[0]);
    }
    if (entry != NULL) {
        lp_event_line(st, entry, NULL, lp_row_for_line(entry, lp_long_value(args[1])), t);
    }
    Py_RETURN_NONE;
}

/* PY_START(code, instruction_offset) */
static PyObject *
lp_mon_start(PyObject *callback, PyObject *const *args, size_t nargsf, PyObject *Py_UNUSED(kwnames))
{
    LPModuleState *st = ((LPCallback *)callback)->st;
    Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
    int64_t t = lp_timer_now(st);
    if (nargs < 2) {
        st->error = LP_ERR_BAD_EVENT;
        Py_RETURN_NONE;
    }
    LPCodeEntry *entry = lp_listened_entry(st, args[0]);
    if (entry != NULL) {
        lp_event_enter(st, entry, NULL, -1, t);
    }
    Py_RETURN_NONE;
}

/* PY_RESUME(code, instruction_offset) and PY_THROW(code, instruction_offset, exception): the
 * frame continues the line it was suspended on.  Thrown into, the generator frames the throw()
 * passed through on its way here run their line meanwhile (throw.c, lp_throw_delegating); a
 * throw is rare, and finding them costs the frame objects. */
static inline PyObject *
lp_mon_resumed(PyObject *callback, PyObject *const *args, size_t nargsf, int thrown)
{
    LPModuleState *st = ((LPCallback *)callback)->st;
    Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
    int64_t t = lp_timer_now(st);
    if (nargs < 2) {
        st->error = LP_ERR_BAD_EVENT;
        Py_RETURN_NONE;
    }
    LPCodeEntry *entry = lp_listened_entry(st, args[0]);
    if (entry == NULL) {
        Py_RETURN_NONE;
    }
    if (thrown) {
        LPThreadState *ts = lp_thread(st);
        if (ts == NULL) {
            Py_RETURN_NONE; /* `entry` may be gone (lp_thread) */
        }
        int gc_was_on = PyGC_Disable(); /* as in lp_throw_delegating: it may make one */
        PyFrameObject *frame = PyEval_GetFrame(); /* borrowed: the frame thrown into */
        if (frame != NULL && lp_frame_code_borrowed(frame) == args[0]) {
            int n = lp_throw_delegating(st, ts, entry, frame, 0);
            lp_push_delegating(st, ts, ts->delegates, n, t);
        }
        if (gc_was_on) {
            PyGC_Enable();
        }
    }
    lp_event_enter(st, entry, NULL, lp_row_at_entry(entry, (int)lp_long_value(args[1])), t);
    Py_RETURN_NONE;
}

static PyObject *
lp_mon_resume(PyObject *callback, PyObject *const *args, size_t nargsf,
              PyObject *Py_UNUSED(kwnames))
{
    return lp_mon_resumed(callback, args, nargsf, 0);
}

static PyObject *
lp_mon_throw(PyObject *callback, PyObject *const *args, size_t nargsf,
             PyObject *Py_UNUSED(kwnames))
{
    return lp_mon_resumed(callback, args, nargsf, 1);
}

/* PY_RETURN, PY_YIELD, PY_UNWIND: (code, instruction_offset, value) */
static PyObject *
lp_mon_exit(PyObject *callback, PyObject *const *args, size_t nargsf, PyObject *Py_UNUSED(kwnames))
{
    LPModuleState *st = ((LPCallback *)callback)->st;
    Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
    int64_t t = lp_timer_now(st);
    if (nargs < 1) {
        st->error = LP_ERR_BAD_EVENT;
        Py_RETURN_NONE;
    }
    LPCodeEntry *entry = lp_top_entry(st, args[0]); /* the frame leaving is the top one */
    if (entry == NULL) {
        entry = lp_listened_entry(st, args[0]);
    }
    if (entry != NULL) {
        lp_event_exit(st, entry, NULL, t);
    }
    Py_RETURN_NONE;
}

static const vectorcallfunc lp_callback_funcs[LP_NUM_EVENTS] = {
    [LP_EV_PY_START] = lp_mon_start,   [LP_EV_PY_RESUME] = lp_mon_resume,
    [LP_EV_PY_RETURN] = lp_mon_exit,   [LP_EV_PY_YIELD] = lp_mon_exit,
    [LP_EV_LINE] = lp_mon_line,        [LP_EV_PY_UNWIND] = lp_mon_exit,
    [LP_EV_PY_THROW] = lp_mon_throw,
};

/* The tool ids lineprof may take, in the order it tries them.  The ids CPython names are a
 * convention for cooperating tools (Doc/library/sys.monitoring.rst, "Tool identifiers"):
 * DEBUGGER_ID 0, COVERAGE_ID 1, PROFILER_ID 2, OPTIMIZER_ID 5.  cProfile (3.12+) insists on
 * PROFILER_ID and fails with "Another profiling tool is already active" when it is held, and
 * debuggers and coverage.py ask for 0 and 1 by number, so lineprof first takes the ids no tool
 * claims (4, then 3), then OPTIMIZER_ID (no tool in CPython uses it), and PROFILER_ID only when
 * all three are held.  It never takes 0 or 1: the Python layer falls back to the settrace
 * backend instead, which costs speed, not another tool's ability to start. */
static const int lp_tool_ids[] = {4, 3, 5, 2};
#define LP_NUM_TOOL_IDS ((int)(sizeof(lp_tool_ids) / sizeof(lp_tool_ids[0])))

static PyObject *
lp_monitoring_tool_ids(void)
{
    PyObject *ids = PyTuple_New(LP_NUM_TOOL_IDS);
    if (ids == NULL) {
        return NULL;
    }
    for (int i = 0; i < LP_NUM_TOOL_IDS; i++) {
        PyObject *id = PyLong_FromLong(lp_tool_ids[i]);
        if (id == NULL) {
            Py_DECREF(ids);
            return NULL;
        }
        PyTuple_SET_ITEM(ids, i, id);
    }
    return ids;
}

int
lp_monitoring_init(LPModuleState *st, PyObject *module)
{
    PyObject *events = NULL;
    PyTypeObject *callback_type = NULL;
    st->monitoring = PyImport_ImportModule("sys.monitoring");
    if (st->monitoring == NULL) {
        /* sys.monitoring is an attribute of sys, not an importable submodule. */
        PyErr_Clear();
        PyObject *sys = PyImport_ImportModule("sys");
        if (sys == NULL) {
            return -1;
        }
        st->monitoring = PyObject_GetAttrString(sys, "monitoring");
        Py_DECREF(sys);
        if (st->monitoring == NULL) {
            return -1;
        }
    }
    events = PyObject_GetAttrString(st->monitoring, "events");
    if (events == NULL) {
        return -1;
    }
    callback_type = (PyTypeObject *)PyType_FromModuleAndSpec(module, &LPCallback_spec, NULL);
    if (callback_type == NULL) {
        goto error;
    }
    for (int i = 0; i < LP_NUM_EVENTS; i++) {
        PyObject *bit = PyObject_GetAttrString(events, lp_event_names[i]);
        if (bit == NULL) {
            goto error;
        }
        st->event_bits[i] = PyLong_AsLong(bit);
        Py_DECREF(bit);
        if (st->event_bits[i] == -1 && PyErr_Occurred()) {
            goto error;
        }
        LPCallback *callback = PyObject_GC_New(LPCallback, callback_type);
        if (callback == NULL) {
            goto error;
        }
        Py_INCREF(callback_type); /* each object holds its heap type */
        callback->vectorcall = lp_callback_funcs[i];
        callback->st = st;
        PyObject_GC_Track(callback);
        st->callbacks[i] = (PyObject *)callback;
    }
    Py_CLEAR(callback_type);
    Py_CLEAR(events);
    /* TOOL_IDS: the ids lineprof tries, in order; tool_id() says which one it holds. */
    PyObject *ids = lp_monitoring_tool_ids();
    if (ids == NULL || PyModule_AddObjectRef(module, "TOOL_IDS", ids) < 0) {
        Py_XDECREF(ids);
        return -1;
    }
    Py_DECREF(ids);
    return 0;

error:
    Py_XDECREF(callback_type);
    Py_XDECREF(events);
    return -1;
}

static long
lp_local_events(const LPModuleState *st)
{
    return st->event_bits[LP_EV_PY_START] | st->event_bits[LP_EV_PY_RESUME] |
           st->event_bits[LP_EV_PY_RETURN] | st->event_bits[LP_EV_PY_YIELD] |
           st->event_bits[LP_EV_LINE];
}

static long
lp_global_events(const LPModuleState *st)
{
    return st->event_bits[LP_EV_PY_UNWIND] | st->event_bits[LP_EV_PY_THROW];
}

/* Is `tool_id` free?  1 yes, 0 no, -1 error. */
static int
lp_tool_is_free(LPModuleState *st, int tool_id)
{
    PyObject *name = PyObject_CallMethod(st->monitoring, "get_tool", "i", tool_id);
    if (name == NULL) {
        return -1;
    }
    int free_ = name == Py_None;
    Py_DECREF(name);
    return free_;
}

/* Do we (still) hold `tool_id`?  Someone could have freed it under us. */
static int
lp_tool_is_ours(LPModuleState *st, int tool_id)
{
    PyObject *name = PyObject_CallMethod(st->monitoring, "get_tool", "i", tool_id);
    if (name == NULL) {
        PyErr_Clear();
        return 0;
    }
    int ours = PyUnicode_Check(name) && PyUnicode_CompareWithASCIIString(name, "lineprof") == 0;
    Py_DECREF(name);
    return ours;
}

/* The program freed lineprof's tool id (sys.monitoring.free_tool_id) and no tool took it since:
 * take it back, so that what lineprof set on it can be cleared (free_tool_id leaves a tool's
 * events and callbacks in place before 3.14, and the next tool to take the id would get them).
 * Returns 1 if the id is lineprof's again. */
static int
lp_tool_reclaim(LPModuleState *st)
{
    PyObject *name = PyObject_CallMethod(st->monitoring, "get_tool", "i", st->tool_id);
    if (name == NULL) {
        PyErr_Clear();
        return 0;
    }
    int free = name == Py_None;
    Py_DECREF(name);
    if (!free) {
        return 0; /* another tool's now: what is on it is its business */
    }
    PyObject *result = PyObject_CallMethod(st->monitoring, "use_tool_id", "is", st->tool_id,
                                           "lineprof");
    if (result == NULL) {
        PyErr_Clear();
        return 0;
    }
    Py_DECREF(result);
    return 1;
}

static int
lp_register_callbacks(LPModuleState *st, int clear)
{
    for (int i = 0; i < LP_NUM_EVENTS; i++) {
        PyObject *prev = PyObject_CallMethod(st->monitoring, "register_callback", "ilO",
                                             st->tool_id, st->event_bits[i],
                                             clear ? Py_None : st->callbacks[i]);
        if (prev == NULL) {
            return -1;
        }
        Py_DECREF(prev);
    }
    return 0;
}

/* Raise the error that says every id in lp_tool_ids is held, naming the holders (a user who
 * meets it wants to know which tool to stop). */
static void
lp_raise_all_held(LPModuleState *st)
{
    PyObject *names = PyList_New(0);
    if (names == NULL) {
        return;
    }
    for (int i = 0; i < LP_NUM_TOOL_IDS; i++) {
        PyObject *name = PyObject_CallMethod(st->monitoring, "get_tool", "i", lp_tool_ids[i]);
        PyObject *item = name == NULL ? NULL : PyUnicode_FromFormat("%d: %R", lp_tool_ids[i], name);
        Py_XDECREF(name);
        if (item == NULL || PyList_Append(names, item) < 0) {
            Py_XDECREF(item);
            Py_DECREF(names);
            return;
        }
        Py_DECREF(item);
    }
    PyObject *sep = PyUnicode_FromString(", ");
    PyObject *joined = sep == NULL ? NULL : PyUnicode_Join(sep, names);
    Py_XDECREF(sep);
    Py_DECREF(names);
    if (joined == NULL) {
        return;
    }
    PyErr_Format(PyExc_RuntimeError,
                 "lineprof: sys.monitoring tool ids 2-5 are all held by other tools (%U); "
                 "lineprof leaves 0 and 1 to debuggers and coverage",
                 joined);
    Py_DECREF(joined);
}

int
lp_monitoring_install(LPModuleState *st)
{
    PyObject *result = NULL;
    st->tool_id = -1;
    for (int i = 0; i < LP_NUM_TOOL_IDS; i++) {
        int free_ = lp_tool_is_free(st, lp_tool_ids[i]);
        if (free_ < 0) {
            return -1;
        }
        if (free_) {
            result = PyObject_CallMethod(st->monitoring, "use_tool_id", "is", lp_tool_ids[i],
                                         "lineprof");
            if (result == NULL) {
                return -1;
            }
            Py_DECREF(result);
            st->tool_id = lp_tool_ids[i];
            break;
        }
    }
    if (st->tool_id < 0) {
        lp_raise_all_held(st);
        return -1;
    }
    if (lp_register_callbacks(st, 0) < 0) {
        goto error;
    }
    result = PyObject_CallMethod(st->monitoring, "set_events", "il", st->tool_id,
                                 lp_global_events(st));
    if (result == NULL) {
        goto error;
    }
    Py_DECREF(result);
    return 0;

error:
    lp_monitoring_uninstall(st);
    return -1;
}

/* Give the tool id back with no events and no callbacks left behind (free_tool_id does not
 * clear them before 3.14, where clear_tool_id arrived: gh-116750), so get_tool(id) is None
 * once the last tracer is disabled.  Keeps any exception already set. */
void
lp_monitoring_uninstall(LPModuleState *st)
{
    if (st->tool_id < 0 || st->monitoring == NULL) {
        st->tool_id = -1;
        return;
    }
    PyObject *exc_type, *exc_value, *exc_tb;
    PyErr_Fetch(&exc_type, &exc_value, &exc_tb);
    int ours = lp_tool_is_ours(st, st->tool_id) || lp_tool_reclaim(st);
    /* Local events first: free_tool_id leaves them set in 3.12 and 3.13, and a code object
     * still armed would be skipped by lp_monitoring_arm in the next session, whatever id that
     * session takes.  Normally the tracers disarmed every entry already. */
    for (LPCodeEntry *entry = st->entries; entry != NULL; entry = entry->next) {
        if (entry->armed && ours) {
            PyObject *result = PyObject_CallMethod(st->monitoring, "set_local_events", "iOi",
                                                   st->tool_id, entry->code, 0);
            if (result == NULL) {
                PyErr_WriteUnraisable(entry->code);
            }
            Py_XDECREF(result);
        }
        entry->armed = 0;
    }
    if (ours) {
        PyObject *result = PyObject_CallMethod(st->monitoring, "set_events", "ii", st->tool_id, 0);
        if (result == NULL) {
            PyErr_WriteUnraisable(st->monitoring);
        }
        Py_XDECREF(result);
        if (lp_register_callbacks(st, 1) < 0) {
            PyErr_WriteUnraisable(st->monitoring);
        }
        result = PyObject_CallMethod(st->monitoring, "free_tool_id", "i", st->tool_id);
        if (result == NULL) {
            PyErr_WriteUnraisable(st->monitoring);
        }
        Py_XDECREF(result);
    }
    st->tool_id = -1;
    PyErr_Restore(exc_type, exc_value, exc_tb);
}

int
lp_monitoring_arm(LPModuleState *st, LPCodeEntry *entry, int on)
{
    if (st->tool_id < 0 || st->monitoring == NULL || entry->armed == on) {
        entry->armed = on && entry->armed;
        return 0;
    }
    if (!on && !lp_tool_is_ours(st, st->tool_id) && !lp_tool_reclaim(st)) {
        /* The program freed lineprof's tool id and another tool holds it now: not ours to
         * switch off. */
        entry->armed = 0;
        return 0;
    }
    PyObject *result = PyObject_CallMethod(st->monitoring, "set_local_events", "iOl",
                                           st->tool_id, entry->code,
                                           on ? lp_local_events(st) : 0L);
    if (result == NULL) {
        return -1;
    }
    Py_DECREF(result);
    entry->armed = on;
    return 0;
}

#else /* !LP_HAVE_SYS_MONITORING */

int
lp_monitoring_init(LPModuleState *st, PyObject *module)
{
    (void)st;
    /* No sys.monitoring: no tool id to take. */
    PyObject *ids = PyTuple_New(0);
    if (ids == NULL || PyModule_AddObjectRef(module, "TOOL_IDS", ids) < 0) {
        Py_XDECREF(ids);
        return -1;
    }
    Py_DECREF(ids);
    return 0;
}

int
lp_monitoring_install(LPModuleState *st)
{
    (void)st;
    PyErr_SetString(PyExc_RuntimeError, "lineprof: sys.monitoring needs CPython 3.12 or newer");
    return -1;
}

void
lp_monitoring_uninstall(LPModuleState *st)
{
    (void)st;
}

int
lp_monitoring_arm(LPModuleState *st, LPCodeEntry *entry, int on)
{
    (void)st;
    (void)entry;
    (void)on;
    return 0;
}

#endif /* LP_HAVE_SYS_MONITORING */
