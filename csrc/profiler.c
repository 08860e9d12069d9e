/* profiler.c: the Tracer type, one per LineProfiler.
 *
 * A Tracer registers code objects, owns a {hits, ns} table per code object, switches profiling
 * on and off, and exports its tables.  Several tracers may be enabled at once and may register
 * the same code: each enabled tracer's table is a sink of the shared code entry, so each sees
 * every event while it is enabled.
 *
 * The first tracer enabled starts a profiling session (installs the hook); the last one
 * disabled ends it.
 */
#include "events.h"

#include <limits.h>
#include <string.h>

typedef struct {
    LPCodeEntry *entry; /* shared; this tracer is one of its owners */
    LPLineCell *cells;  /* owned: entry->nlines cells */
} LPReg;

typedef struct {
    PyObject_HEAD
    LPReg *regs;        /* owned */
    Py_ssize_t nregs;
    Py_ssize_t cap;
    int enabled;
    int memory; /* memory mode: enabling this tracer installs the allocator hook (memhook.c) */
    int wrap_trace; /* before 3.12: keep another tool's trace function called (hook_wrap.c) */
    int hook_on_entry; /* setprofile: its code is entered only through entry wrappers (entry.c),
                        * so threads need the hook only inside them (hook_setprofile.c) */
} TracerObject;

static LPModuleState *
lp_tracer_state(TracerObject *self)
{
    return lp_state(PyType_GetModule(Py_TYPE(self)));
}

static int
lp_arm(LPModuleState *st, LPCodeEntry *entry, int on)
{
    if (st->backend != LP_BACKEND_MONITORING) {
        return 0;
    }
    return lp_monitoring_arm(st, entry, on);
}

/* Start receiving events for one registered code object; `midway`: a session already records,
 * so frames of it may be running. */
static int
lp_reg_listen(LPModuleState *st, LPReg *reg, int midway)
{
    lp_linestats_attach_sink(reg->entry, reg->cells, ++st->sink_clock);
    if (reg->entry->nsinks == 1 && lp_arm(st, reg->entry, 1) < 0) {
        lp_linestats_detach_sink(reg->entry, reg->cells);
        return -1;
    }
    if (reg->entry->nsinks == 1 && midway) {
        lp_settrace_lines_on(st, reg->entry);
    }
    return 0;
}

/* Stop receiving events for one registered code object. */
static void
lp_reg_unlisten(LPModuleState *st, LPReg *reg)
{
    lp_linestats_detach_sink(reg->entry, reg->cells);
    if (reg->entry->nsinks == 0) {
        if (lp_arm(st, reg->entry, 0) < 0) {
            PyErr_WriteUnraisable(reg->entry->code);
        }
        /* Frames of this code on any thread's stack will get no exit event now: they leave the
         * stacks, and the frames that called them keep their lines in progress. */
        st->epoch++;
        st->gone = reg->entry;
        lp_threadstate_catch_up_all(st);
        lp_threadstate_forget_running(st, reg->entry);
    }
}

static int
lp_session_start(LPModuleState *st, int backend, int entry_mode)
{
    int rc;
    st->backend = backend;
    st->session++;
    switch (backend) {
    case LP_BACKEND_MONITORING:
        rc = lp_monitoring_install(st);
        break;
    case LP_BACKEND_SETPROFILE:
        rc = lp_setprofile_install(st, entry_mode);
        break;
    default:
        rc = lp_settrace_install(st);
        break;
    }
    if (rc < 0) {
        st->backend = LP_BACKEND_NONE;
        return -1;
    }
    st->error = LP_ERR_NONE;
    st->reset_epoch = ++st->epoch;
    return 0;
}

static void
lp_session_end(LPModuleState *st)
{
    if (st->backend == LP_BACKEND_MONITORING) {
        lp_monitoring_uninstall(st);
    }
    else if (st->backend == LP_BACKEND_SETTRACE) {
        lp_settrace_uninstall(st);
    }
    else if (st->backend == LP_BACKEND_SETPROFILE) {
        lp_setprofile_uninstall(st);
    }
    st->backend = LP_BACKEND_NONE;
    st->reset_epoch = ++st->epoch;
    lp_threadstate_drop_running(st);
}

/* Raise the error the event path recorded, if any.  Returns -1 if one was raised. */
static int
lp_raise_recorded_error(LPModuleState *st)
{
    switch (st->error) {
    case LP_ERR_NONE:
        return 0;
    case LP_ERR_NOMEM:
        PyErr_SetString(PyExc_MemoryError,
                        "lineprof ran out of memory while profiling; profiling stopped and the "
                        "results end there");
        break;
    case LP_ERR_STACK_LIMIT:
        PyErr_Format(PyExc_RuntimeError,
                     "lineprof: more than %d nested profiled frames on one thread; profiling "
                     "stopped and the results end there",
                     st->stack_limit);
        break;
    default:
        PyErr_SetString(PyExc_RuntimeError,
                        "lineprof: CPython sent an event lineprof does not understand; profiling "
                        "stopped and the results end there");
        break;
    }
    return -1;
}

static void
lp_tracer_stop(LPModuleState *st, TracerObject *self)
{
    lp_threadstate_flush(st);
    for (Py_ssize_t i = 0; i < self->nregs; i++) {
        lp_reg_unlisten(st, &self->regs[i]);
    }
    self->enabled = 0;
    if (self->memory && --st->nmemory == 0) {
        lp_memhook_stop(st);
    }
    if (self->wrap_trace) {
        st->nwrap_trace--;
    }
    if (--st->nactive == 0) {
        lp_session_end(st);
    }
}

static int
lp_backend_from_name(PyObject *name)
{
    if (!PyUnicode_Check(name)) {
        PyErr_SetString(PyExc_TypeError, "backend must be a str");
        return -1;
    }
    if (PyUnicode_CompareWithASCIIString(name, "monitoring") == 0 && LP_HAVE_SYS_MONITORING) {
        return LP_BACKEND_MONITORING;
    }
    if (PyUnicode_CompareWithASCIIString(name, "setprofile") == 0 && LP_HAVE_CHEAP_TRACE_SWITCH) {
        return LP_BACKEND_SETPROFILE;
    }
    if (PyUnicode_CompareWithASCIIString(name, "settrace") == 0) {
        return LP_BACKEND_SETTRACE;
    }
    PyErr_Format(PyExc_ValueError, "backend %R is not available on this interpreter", name);
    return -1;
}

/* enable(backend): backend is one of BACKENDS; it is used if this starts the session, else
 * the session's backend is kept. */
static PyObject *
lp_tracer_enable(TracerObject *self, PyObject *arg)
{
    LPModuleState *st = lp_tracer_state(self);
    int backend = lp_backend_from_name(arg);
    if (backend < 0) {
        return NULL;
    }
    if (self->enabled) {
        Py_RETURN_NONE;
    }
    int starting = st->nactive == 0;
    if (starting && lp_session_start(st, backend, self->hook_on_entry) < 0) {
        return NULL;
    }
    if (!starting && !self->hook_on_entry && lp_setprofile_hook_every_thread(st) < 0) {
        return NULL;
    }
    if (!starting) {
        /* Lines already in progress (another profiler's session) are charged up to now: this
         * tracer's tables join them from here, and must not be charged what ran before. */
        lp_threadstate_charge_so_far(st);
    }
    st->nactive++;
    self->enabled = 1;
    for (Py_ssize_t i = 0; i < self->nregs; i++) {
        if (lp_reg_listen(st, &self->regs[i], !starting) < 0) {
            for (Py_ssize_t j = 0; j < i; j++) {
                lp_reg_unlisten(st, &self->regs[j]);
            }
            self->enabled = 0;
            if (--st->nactive == 0) {
                lp_session_end(st);
            }
            return NULL;
        }
    }
    /* Before frames already running are adopted (setprofile), so they get a memory baseline. */
    if (self->memory && st->nmemory++ == 0) {
        lp_memhook_start(st);
    }
    if (!starting) {
        lp_threadstate_mem_split(st); /* this tracer's memory figures start here too */
    }
    if (self->wrap_trace) {
        st->nwrap_trace++; /* before adopting: a running profiled frame may need the wrapper */
    }
    if (starting && st->backend == LP_BACKEND_SETPROFILE && lp_setprofile_start(st) < 0) {
        lp_tracer_stop(st, self);
        return NULL;
    }
    if (starting) {
        lp_threadstate_note_running(st); /* after setprofile put trace functions in */
    }
    Py_RETURN_NONE;
}

static PyObject *
lp_tracer_disable(TracerObject *self)
{
    LPModuleState *st = lp_tracer_state(self);
    if (!self->enabled) {
        Py_RETURN_NONE;
    }
    lp_tracer_stop(st, self);
    if (lp_raise_recorded_error(st) < 0) {
        /* The last tracer out clears it; tracers still enabled report it too. */
        if (st->nactive == 0) {
            st->error = LP_ERR_NONE;
        }
        return NULL;
    }
    Py_RETURN_NONE;
}

static int
lp_as_int(PyObject *obj, int *out)
{
    long value = PyLong_AsLong(obj);
    if (value == -1 && PyErr_Occurred()) {
        return -1;
    }
    if (value < INT_MIN || value > INT_MAX) {
        PyErr_SetString(PyExc_OverflowError, "value does not fit in a C int");
        return -1;
    }
    *out = (int)value;
    return 0;
}

/* add_code(code, first_line, rows, start_offset) -> bool
 *
 * rows[i] is the row that line first_line + i is counted on (Python groups the lines of one
 * statement); frames entered at a bytecode offset <= start_offset are starting, not resuming.
 * Returns False if this tracer had the code already. */
static PyObject *
lp_tracer_add_code(TracerObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    LPModuleState *st = lp_tracer_state(self);
    int32_t *canon = NULL;
    LPLineCell *cells = NULL;
    LPCodeEntry *entry = NULL;
    int created = 0;
    if (nargs != 4) {
        PyErr_SetString(PyExc_TypeError, "add_code(code, first_line, rows, start_offset)");
        return NULL;
    }
    PyObject *code = args[0];
    if (!PyCode_Check(code)) {
        PyErr_Format(PyExc_TypeError, "expected a code object, got %.100s",
                     Py_TYPE(code)->tp_name);
        return NULL;
    }
    int first_line, start_offset;
    if (lp_as_int(args[1], &first_line) < 0 || lp_as_int(args[3], &start_offset) < 0) {
        return NULL;
    }
    entry = lp_linestats_lookup(st, code);
    if (entry != NULL && lp_linestats_has_owner(entry, self)) {
        Py_RETURN_FALSE;
    }
    if (entry == NULL) {
        PyObject *rows = PySequence_Fast(args[2], "rows must be a sequence of ints");
        if (rows == NULL) {
            return NULL;
        }
        Py_ssize_t n = PySequence_Fast_GET_SIZE(rows);
        if (n < 1 || n > INT_MAX / 2) {
            Py_DECREF(rows);
            PyErr_SetString(PyExc_ValueError, "rows must have between 1 and INT_MAX/2 items");
            return NULL;
        }
        canon = PyMem_Malloc(sizeof(int32_t) * (size_t)n);
        if (canon == NULL) {
            Py_DECREF(rows);
            PyErr_NoMemory();
            return NULL;
        }
        for (Py_ssize_t i = 0; i < n; i++) {
            long row = PyLong_AsLong(PySequence_Fast_GET_ITEM(rows, i));
            if (row == -1 && PyErr_Occurred()) {
                Py_DECREF(rows);
                goto error;
            }
            if (row < -1 || row >= n) {
                Py_DECREF(rows);
                PyErr_Format(PyExc_ValueError, "rows[%zd] = %ld is out of range", i, row);
                goto error;
            }
            canon[i] = (int32_t)row;
        }
        Py_DECREF(rows);
        entry = lp_linestats_create(st, code, first_line, canon, (int)n, start_offset);
        PyMem_Free(canon);
        canon = NULL;
        if (entry == NULL) {
            return NULL;
        }
        created = 1;
    }
    if (self->nregs == self->cap) {
        Py_ssize_t cap = self->cap ? self->cap * 2 : 8;
        LPReg *regs = PyMem_Realloc(self->regs, sizeof(LPReg) * (size_t)cap);
        if (regs == NULL) {
            PyErr_NoMemory();
            goto error;
        }
        self->regs = regs;
        self->cap = cap;
    }
    cells = PyMem_Calloc((size_t)entry->nlines, sizeof(LPLineCell));
    if (cells == NULL) {
        PyErr_NoMemory();
        goto error;
    }
    if (lp_linestats_add_owner(entry, self) < 0) {
        goto error;
    }
    LPReg *reg = &self->regs[self->nregs++];
    reg->entry = entry;
    reg->cells = cells;
    if (self->enabled && entry->nsinks > 0) {
        lp_threadstate_charge_so_far(st); /* as in Tracer_enable: its lines run on for others */
    }
    if (self->enabled && lp_reg_listen(st, reg, 1) < 0) {
        self->nregs--;
        lp_linestats_remove_owner(entry, self);
        goto error;
    }
    if (self->enabled && entry->nsinks > 1) {
        lp_threadstate_mem_split(st); /* as in Tracer_enable */
    }
    Py_RETURN_TRUE;

error:
    PyMem_Free(canon);
    PyMem_Free(cells);
    if (created) {
        lp_linestats_free(st, entry);
    }
    return NULL;
}

/* stats() -> [(code, [(line, hits, time, spent), ...]), ...] in registration order; rows never
 * hit and never charged are left out.  time is the clock's figure, spent the part of it measured
 * in lineprof's own callbacks (see LPLineCell), both in the clock's units (timer.h): Python
 * turns them into ns.  While this tracer is enabled, the lines in progress count up to now. */
static PyObject *
lp_tracer_stats(TracerObject *self)
{
    LPModuleState *st = lp_tracer_state(self);
    if (self->enabled && lp_raise_recorded_error(st) < 0) {
        return NULL;
    }
    if (self->enabled) {
        lp_threadstate_charge_so_far(st);
    }
    PyObject *result = PyList_New(self->nregs);
    if (result == NULL) {
        return NULL;
    }
    for (Py_ssize_t i = 0; i < self->nregs; i++) {
        LPReg *reg = &self->regs[i];
        PyObject *lines = PyList_New(0);
        if (lines == NULL) {
            goto error;
        }
        for (int row = 0; row < reg->entry->nlines; row++) {
            LPLineCell cell = reg->cells[row];
            if (cell.hits == 0 && cell.time == 0) {
                continue;
            }
            PyObject *item = Py_BuildValue("(iKKK)", reg->entry->first_line + row,
                                           (unsigned long long)cell.hits,
                                           (unsigned long long)cell.time,
                                           (unsigned long long)cell.spent);
            if (item == NULL || PyList_Append(lines, item) < 0) {
                Py_XDECREF(item);
                Py_DECREF(lines);
                goto error;
            }
            Py_DECREF(item);
        }
        PyObject *pair = PyTuple_Pack(2, reg->entry->code, lines);
        Py_DECREF(lines);
        if (pair == NULL) {
            goto error;
        }
        PyList_SET_ITEM(result, i, pair);
    }
    return result;

error:
    Py_DECREF(result);
    return NULL;
}

/* memory_stats() -> [(code, [(line, alloc, net, peak), ...]), ...] in registration order, for
 * the rows stats() lists; bytes.  Empty lists unless this tracer is in memory mode. */
static PyObject *
lp_tracer_memory_stats(TracerObject *self)
{
    LPModuleState *st = lp_tracer_state(self);
    if (self->enabled && lp_raise_recorded_error(st) < 0) {
        return NULL;
    }
    PyObject *result = PyList_New(self->nregs);
    if (result == NULL) {
        return NULL;
    }
    for (Py_ssize_t i = 0; i < self->nregs; i++) {
        LPReg *reg = &self->regs[i];
        PyObject *lines = PyList_New(0);
        if (lines == NULL) {
            goto error;
        }
        for (int row = 0; self->memory && row < reg->entry->nlines; row++) {
            LPLineCell cell = reg->cells[row];
            if (cell.hits == 0 && cell.time == 0) {
                continue;
            }
            PyObject *item = Py_BuildValue("(iKLK)", reg->entry->first_line + row,
                                           (unsigned long long)cell.alloc, (long long)cell.net,
                                           (unsigned long long)cell.peak);
            if (item == NULL || PyList_Append(lines, item) < 0) {
                Py_XDECREF(item);
                Py_DECREF(lines);
                goto error;
            }
            Py_DECREF(item);
        }
        PyObject *pair = PyTuple_Pack(2, reg->entry->code, lines);
        Py_DECREF(lines);
        if (pair == NULL) {
            goto error;
        }
        PyList_SET_ITEM(result, i, pair);
    }
    return result;

error:
    Py_DECREF(result);
    return NULL;
}

static PyObject *
Tracer_clear(TracerObject *self, PyObject *Py_UNUSED(unused))
{
    for (Py_ssize_t i = 0; i < self->nregs; i++) {
        memset(self->regs[i].cells, 0, sizeof(LPLineCell) * (size_t)self->regs[i].entry->nlines);
    }
    Py_RETURN_NONE;
}

static PyObject *
Tracer_get_enabled(TracerObject *self, void *Py_UNUSED(closure))
{
    return PyBool_FromLong(self->enabled);
}

static PyObject *
Tracer_get_memory(TracerObject *self, void *Py_UNUSED(closure))
{
    return PyBool_FromLong(self->memory);
}

static int
Tracer_set_memory(TracerObject *self, PyObject *value, void *Py_UNUSED(closure))
{
    if (value == NULL) {
        PyErr_SetString(PyExc_AttributeError, "cannot delete memory");
        return -1;
    }
    int on = PyObject_IsTrue(value);
    if (on < 0) {
        return -1;
    }
    if (self->enabled) {
        PyErr_SetString(PyExc_RuntimeError, "memory mode cannot change while recording");
        return -1;
    }
    self->memory = on;
    return 0;
}

static PyObject *
Tracer_get_wrap_trace(TracerObject *self, void *Py_UNUSED(closure))
{
    return PyBool_FromLong(self->wrap_trace);
}

static int
Tracer_set_wrap_trace(TracerObject *self, PyObject *value, void *Py_UNUSED(closure))
{
    if (value == NULL) {
        PyErr_SetString(PyExc_AttributeError, "cannot delete wrap_trace");
        return -1;
    }
    int on = PyObject_IsTrue(value);
    if (on < 0) {
        return -1;
    }
    if (self->enabled) {
        PyErr_SetString(PyExc_RuntimeError, "wrap_trace cannot change while recording");
        return -1;
    }
    self->wrap_trace = on;
    return 0;
}

static PyObject *
Tracer_get_hook_on_entry(TracerObject *self, void *Py_UNUSED(closure))
{
    return PyBool_FromLong(self->hook_on_entry);
}

/* May be cleared while recording (code that can be entered another way was registered): the
 * session hooks every thread from then on.  Set only while not recording. */
static int
Tracer_set_hook_on_entry(TracerObject *self, PyObject *value, void *Py_UNUSED(closure))
{
    if (value == NULL) {
        PyErr_SetString(PyExc_AttributeError, "cannot delete hook_on_entry");
        return -1;
    }
    int on = PyObject_IsTrue(value);
    if (on < 0) {
        return -1;
    }
    if (self->enabled && on && !self->hook_on_entry) {
        PyErr_SetString(PyExc_RuntimeError, "hook_on_entry cannot be set while recording");
        return -1;
    }
    self->hook_on_entry = on;
    if (self->enabled && !on && lp_setprofile_hook_every_thread(lp_tracer_state(self)) < 0) {
        return -1;
    }
    return 0;
}

static PyObject *
Tracer_get_codes(TracerObject *self, void *Py_UNUSED(closure))
{
    PyObject *codes = PyTuple_New(self->nregs);
    if (codes == NULL) {
        return NULL;
    }
    for (Py_ssize_t i = 0; i < self->nregs; i++) {
        PyTuple_SET_ITEM(codes, i, Py_NewRef(self->regs[i].entry->code));
    }
    return codes;
}

static void
Tracer_dealloc(TracerObject *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    LPModuleState *st = lp_tracer_state(self);
    PyObject *exc_type, *exc_value, *exc_tb;
    PyErr_Fetch(&exc_type, &exc_value, &exc_tb);
    if (self->enabled) {
        lp_tracer_stop(st, self);
        if (st->nactive == 0) {
            st->error = LP_ERR_NONE;
        }
    }
    for (Py_ssize_t i = 0; i < self->nregs; i++) {
        LPCodeEntry *entry = self->regs[i].entry;
        lp_linestats_remove_owner(entry, self);
        if (entry->nowners == 0) {
            lp_linestats_free(st, entry);
        }
        PyMem_Free(self->regs[i].cells);
    }
    PyMem_Free(self->regs);
    PyErr_Restore(exc_type, exc_value, exc_tb);
    tp->tp_free((PyObject *)self);
    Py_DECREF(tp);
}

static PyObject *
Tracer_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    if (PyTuple_GET_SIZE(args) != 0 || (kwargs != NULL && PyDict_GET_SIZE(kwargs) != 0)) {
        PyErr_SetString(PyExc_TypeError, "Tracer() takes no arguments");
        return NULL;
    }
    return type->tp_alloc(type, 0);
}

/* enable(), disable() and add_code() change the session one at a time (LPModuleState.switching):
 * one called again from a signal handler or a finalizer while another runs raises instead.
 * Python's wrappers (LineProfiler.enable_by_count) look first and run the call unprofiled. */
static int
lp_switch_begin(LPModuleState *st)
{
    if (st->switching) {
        PyErr_SetString(PyExc_RuntimeError,
                        "lineprof: a profiler is being switched on or off on this interpreter "
                        "(this call came from a signal handler or finalizer run in the middle of "
                        "it); call it again later");
        return -1;
    }
    st->switching = 1;
    return 0;
}

static PyObject *
Tracer_enable(TracerObject *self, PyObject *arg)
{
    LPModuleState *st = lp_tracer_state(self);
    /* threading, which the legacy hooks need for new threads (lp_thread_hook_install), is
     * imported before the switch: an import runs the module's code, and -p's import hook
     * registers code there when threading is a target (a directory holding the stdlib). */
    int backend = st->nactive > 0 ? st->backend : lp_backend_from_name(arg);
    if (backend < 0) {
        PyErr_Clear(); /* lp_tracer_enable says what is wrong with it */
    }
    else if (!self->enabled && !st->switching &&
             (backend == LP_BACKEND_SETTRACE ||
              (backend == LP_BACKEND_SETPROFILE && !self->hook_on_entry))) {
        PyObject *threading = PyImport_ImportModule("threading");
        if (threading == NULL) {
            return NULL;
        }
        Py_DECREF(threading);
    }
    if (lp_switch_begin(st) < 0) {
        return NULL;
    }
    PyObject *result = lp_tracer_enable(self, arg);
    st->switching = 0;
    return result;
}

static PyObject *
Tracer_disable(TracerObject *self, PyObject *Py_UNUSED(unused))
{
    LPModuleState *st = lp_tracer_state(self);
    if (lp_switch_begin(st) < 0) {
        return NULL;
    }
    PyObject *result = lp_tracer_disable(self);
    st->switching = 0;
    return result;
}

static PyObject *
Tracer_add_code(TracerObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    LPModuleState *st = lp_tracer_state(self);
    if (lp_switch_begin(st) < 0) {
        return NULL;
    }
    PyObject *result = lp_tracer_add_code(self, args, nargs);
    st->switching = 0;
    return result;
}

/* The two readers above walk this tracer's registrations while they make Python objects.  A
 * collection those allocations start could run finalizers, which could register code here
 * (regs reallocated, nregs grown) or drop the tracer: off meanwhile. */
static PyObject *
Tracer_stats(TracerObject *self, PyObject *Py_UNUSED(unused))
{
    int gc_was_on = PyGC_Disable();
    PyObject *result = lp_tracer_stats(self);
    if (gc_was_on) {
        PyGC_Enable();
    }
    return result;
}

static PyObject *
Tracer_memory_stats(TracerObject *self, PyObject *Py_UNUSED(unused))
{
    int gc_was_on = PyGC_Disable();
    PyObject *result = lp_tracer_memory_stats(self);
    if (gc_was_on) {
        PyGC_Enable();
    }
    return result;
}

static PyMethodDef Tracer_methods[] = {
    {"enable", (PyCFunction)Tracer_enable, METH_O,
     "enable(backend): start recording; backend (one of BACKENDS) is used if this starts the "
     "profiling session."},
    {"disable", (PyCFunction)Tracer_disable, METH_NOARGS,
     "Stop recording; raises any internal error met while recording."},
    {"add_code", (PyCFunction)(void (*)(void))Tracer_add_code, METH_FASTCALL,
     "add_code(code, first_line, rows, start_offset) -> bool: register a code object."},
    {"stats", (PyCFunction)Tracer_stats, METH_NOARGS,
     "stats() -> [(code, [(line, hits, time, spent), ...]), ...] in clock units"},
    {"memory_stats", (PyCFunction)Tracer_memory_stats, METH_NOARGS,
     "memory_stats() -> [(code, [(line, alloc, net, peak), ...]), ...]: bytes; memory mode."},
    {"clear", (PyCFunction)Tracer_clear, METH_NOARGS, "Zero every table."},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef Tracer_getset[] = {
    {"enabled", (getter)Tracer_get_enabled, NULL, "Is this tracer recording?", NULL},
    {"memory", (getter)Tracer_get_memory, (setter)Tracer_set_memory,
     "Memory mode: allocations are charged to lines (set while not recording).", NULL},
    {"wrap_trace", (getter)Tracer_get_wrap_trace, (setter)Tracer_set_wrap_trace,
     "Before 3.12, setprofile backend: another tool's trace function keeps being called while "
     "lineprof's runs (set while not recording).",
     NULL},
    {"hook_on_entry", (getter)Tracer_get_hook_on_entry, (setter)Tracer_set_hook_on_entry,
     "Before 3.12, setprofile backend: this tracer's code is entered only through EntryWrapper "
     "objects, so threads need the profile function only inside their calls while every "
     "enabled tracer says so (cleared while recording: every thread gets it from then on).",
     NULL},
    {"codes", (getter)Tracer_get_codes, NULL, "The registered code objects, in order.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyType_Slot Tracer_slots[] = {
    {Py_tp_new, Tracer_new},
    {Py_tp_dealloc, Tracer_dealloc},
    {Py_tp_methods, Tracer_methods},
    {Py_tp_getset, Tracer_getset},
    {Py_tp_doc, "Per-line hit and time tables for a set of code objects."},
    {0, NULL},
};

PyType_Spec lp_tracer_spec = {
    .name = "lineprof._lineprof.Tracer",
    .basicsize = sizeof(TracerObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_IMMUTABLETYPE,
    .slots = Tracer_slots,
};
