/* throw.c: the generator frames a throw() passes through.
 *
 * gen.throw() on a generator suspended in `yield from` (a coroutine in `await`) does not resume
 * it: CPython hands the exception straight to the generator it delegates to, through every level
 * of delegation, linking each level's frame as the caller of the next, and only the innermost
 * is resumed, with an event (Objects/genobject.c, _gen_throw; asyncio delivers an exception to
 * a task this way).  The outer levels run their `yield from` line all the while, as they would
 * had next() or send() resumed them, but no event says so.  So when a profiled generator frame
 * is entered, the generator frames calling it that are not the top of this thread's stack are
 * those levels.  (close() does not link them: their lines miss what it runs in the frames they
 * delegate to.  3.10 links the next level out only.) */
#include "events.h"

static int
lp_is_generator_code(PyObject *code)
{
    return (((PyCodeObject *)code)->co_flags &
            (CO_GENERATOR | CO_COROUTINE | CO_ASYNC_GENERATOR | CO_ITERABLE_COROUTINE)) != 0;
}

/* The frames calling `frame`, a frame of profiled code `entry` being entered, that a throw()
 * passed through: profiled generator frames (unprofiled ones are passed over), innermost first,
 * up to the frame on top of this thread's stack, which called it.  `keyed`: frames are known by
 * their frame object (the legacy hooks), else by their code (sys.monitoring), on `ts`'s stack.
 * Fills `out` (LP_MAX_DELEGATING) and returns how many; never fails (what cannot be read ends
 * the walk). */
int
lp_throw_delegating(LPModuleState *st, const LPThreadState *ts, const LPCodeEntry *entry,
                    PyFrameObject *frame, int keyed, LPDelegate *out)
{
    if (!lp_is_generator_code(entry->code)) {
        return 0; /* a throw enters generator frames only */
    }
    const LPFrame *top = ts->depth > 0 ? &ts->frames[ts->depth - 1] : NULL;
    int n = 0;
    /* Reading a frame's caller may make its frame object (3.11+): no collection, whose
     * finalizers (the program's code) would run inside this callback's own time. */
    int gc_was_on = PyGC_Disable();
    PyFrameObject *back = PyFrame_GetBack(frame);
    while (back != NULL && n < LP_MAX_DELEGATING) {
        PyObject *code = lp_frame_code_borrowed(back);
        if (!lp_is_generator_code(code)) {
            break; /* the caller of the outermost level, or of a plain resumption */
        }
        if (top != NULL && (keyed ? top->key == (const void *)back : top->entry->code == code)) {
            break; /* the frame that called it runs it, as next() or send() does */
        }
        LPCodeEntry *level = lp_linestats_lookup(st, code);
        if (level != NULL && level->nsinks > 0) {
            out[n].entry = level;
            out[n].key = keyed ? (const void *)back : NULL;
            out[n].row = lp_row_for_line(level, PyFrame_GetLineNumber(back));
            n++;
        }
        PyFrameObject *next = PyFrame_GetBack(back);
        Py_DECREF(back);
        back = next;
    }
    Py_XDECREF(back);
    if (gc_was_on) {
        PyGC_Enable();
    }
    return n;
}
