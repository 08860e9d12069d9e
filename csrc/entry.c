/* entry.c: EntryWrapper, what @profile returns for a plain function before CPython 3.12.
 *
 * Calling it calls the function between lp_setprofile_enter() and lp_setprofile_leave()
 * (hook_setprofile.c): while the session hooks threads on entry, a thread has the profile
 * function only inside such a call, and code outside profiled functions runs untouched.
 *
 * It is C, not a Python closure, so that it adds nothing a user sees or a profile measures: no
 * frame (tracebacks stay the program's own), no profile event (CPython reports C calls only
 * for builtin functions), and a few ns per call to the line that calls it.  To the program it
 * is the function: attribute reads, writes and deletes go to the function (__name__, __doc__,
 * __module__, __dict__, __code__, ...), it binds as a method does (__get__, and
 * Py_TPFLAGS_METHOD_DESCRIPTOR for obj.method() calls), __wrapped__ leads to the function
 * (inspect.signature, inspect.unwrap), repr is the function's, and pickle finds it by its
 * qualified name as it finds a function.  What differs: type(wrapper).
 */
#include "events.h"

#include <stddef.h>
#include <structmember.h> /* T_PYSSIZET, READONLY before 3.12 */

typedef struct {
    PyObject_HEAD
    PyObject *func;        /* owned: the profiled function */
    LPModuleState *st;     /* lives as long as the module, which our type holds */
    PyObject *weakreflist; /* functions take weak references (signal libraries keep them) */
    vectorcallfunc vectorcall;
} EntryObject;

/* Taking the profile function out runs audit hooks: not with the call's exception pending.
 * A function of its own, so that the wrapper's frame, which stays on the C stack while the
 * function runs, has no local whose address is taken: greenlet copies that stack aside at each
 * switch, and AddressSanitizer takes the guard bytes around such a local for an overflow. */
#if defined(__GNUC__) || defined(__clang__)
__attribute__((noinline))
#endif
static void
lp_leave_keeping_error(LPModuleState *st)
{
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    lp_setprofile_leave(st);
    PyErr_Restore(type, value, tb);
}

static PyObject *
Entry_vectorcall(PyObject *op, PyObject *const *args, size_t nargsf, PyObject *kwnames)
{
    EntryObject *self = (EntryObject *)op;
    lp_setprofile_enter(self->st);
    PyObject *result = PyObject_Vectorcall(self->func, args, nargsf, kwnames);
    if (result == NULL) {
        lp_leave_keeping_error(self->st);
    }
    else {
        lp_setprofile_leave(self->st);
    }
    return result;
}

static PyObject *
Entry_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    PyObject *func;
    if ((kwargs != NULL && PyDict_GET_SIZE(kwargs) != 0) ||
        !PyArg_UnpackTuple(args, "EntryWrapper", 1, 1, &func)) {
        if (!PyErr_Occurred()) {
            PyErr_SetString(PyExc_TypeError, "EntryWrapper(func) takes no keyword arguments");
        }
        return NULL;
    }
    if (!PyFunction_Check(func)) {
        PyErr_Format(PyExc_TypeError, "EntryWrapper needs a Python function, not %R", func);
        return NULL;
    }
    EntryObject *self = (EntryObject *)type->tp_alloc(type, 0);
    if (self == NULL) {
        return NULL;
    }
    self->func = Py_NewRef(func);
    self->st = (LPModuleState *)PyType_GetModuleState(type);
    self->vectorcall = Entry_vectorcall;
    return (PyObject *)self;
}

static int
Entry_traverse(EntryObject *self, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(self));
    Py_VISIT(self->func);
    return 0;
}

static int
Entry_clear(EntryObject *self)
{
    Py_CLEAR(self->func);
    return 0;
}

static void
Entry_dealloc(EntryObject *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    PyObject_GC_UnTrack(self);
    if (self->weakreflist != NULL) {
        PyObject_ClearWeakRefs((PyObject *)self);
    }
    Py_CLEAR(self->func);
    tp->tp_free((PyObject *)self);
    Py_DECREF(tp);
}

/* A method when looked up on an instance, as a function is. */
static PyObject *
Entry_descr_get(PyObject *self, PyObject *obj, PyObject *Py_UNUSED(type))
{
    if (obj == NULL || obj == Py_None) {
        return Py_NewRef(self);
    }
    return PyMethod_New(self, obj);
}

/* The type's own names (its methods, __class__, __wrapped__) are ours; every other name is the
 * function's.  __doc__ and __module__ are in every type's dict: they are the function's too. */
static int
lp_is_forwarded(PyObject *name)
{
    return PyUnicode_Check(name) && (PyUnicode_CompareWithASCIIString(name, "__doc__") == 0 ||
                                     PyUnicode_CompareWithASCIIString(name, "__module__") == 0 ||
                                     PyUnicode_CompareWithASCIIString(name, "__dict__") == 0);
}

static PyObject *
Entry_getattro(PyObject *op, PyObject *name)
{
    EntryObject *self = (EntryObject *)op;
    if (!lp_is_forwarded(name)) {
        PyObject *value = PyObject_GenericGetAttr(op, name);
        if (value != NULL || !PyErr_ExceptionMatches(PyExc_AttributeError)) {
            return value;
        }
        PyErr_Clear();
    }
    return PyObject_GetAttr(self->func, name);
}

static int
Entry_setattro(PyObject *op, PyObject *name, PyObject *value)
{
    return PyObject_SetAttr(((EntryObject *)op)->func, name, value);
}

static PyObject *
Entry_repr(EntryObject *self)
{
    return PyObject_Repr(self->func);
}

static PyObject *
Entry_get_wrapped(EntryObject *self, void *Py_UNUSED(closure))
{
    return Py_NewRef(self->func);
}

/* Pickled by reference, as a function is: pickle looks the qualified name up in the module and
 * finds this wrapper there. */
static PyObject *
Entry_reduce(EntryObject *self, PyObject *Py_UNUSED(unused))
{
    return PyObject_GetAttrString(self->func, "__qualname__");
}

static PyMethodDef Entry_methods[] = {
    {"__reduce__", (PyCFunction)Entry_reduce, METH_NOARGS, NULL},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef Entry_getset[] = {
    {"__wrapped__", (getter)Entry_get_wrapped, NULL, "The profiled function.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyMemberDef Entry_members[] = {
    {"__vectorcalloffset__", T_PYSSIZET, offsetof(EntryObject, vectorcall), READONLY, NULL},
    {"__weaklistoffset__", T_PYSSIZET, offsetof(EntryObject, weakreflist), READONLY, NULL},
    {NULL, 0, 0, 0, NULL},
};

static PyType_Slot Entry_slots[] = {
    {Py_tp_new, Entry_new},
    {Py_tp_dealloc, Entry_dealloc},
    {Py_tp_traverse, Entry_traverse},
    {Py_tp_clear, Entry_clear},
    {Py_tp_call, PyVectorcall_Call},
    {Py_tp_descr_get, Entry_descr_get},
    {Py_tp_getattro, Entry_getattro},
    {Py_tp_setattro, Entry_setattro},
    {Py_tp_repr, Entry_repr},
    {Py_tp_methods, Entry_methods},
    {Py_tp_getset, Entry_getset},
    {Py_tp_members, Entry_members},
    {0, NULL},
};

PyType_Spec lp_entry_spec = {
    .name = "lineprof._lineprof.EntryWrapper",
    .basicsize = sizeof(EntryObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_HAVE_VECTORCALL |
             Py_TPFLAGS_METHOD_DESCRIPTOR | Py_TPFLAGS_IMMUTABLETYPE,
    .slots = Entry_slots,
};
