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

/* Under sys.monitoring frames are known by their code only: `back` is the frame on top of this
 * thread's stack if it has its code and stands on its line.  A level the throw passed through
 * may have the code of the frame that threw (a generator throwing into another instance of its
 * own function), but it stands on its `yield from` or `await` line, not on the throw(). */
static int
lp_is_top_frame(const LPFrame *top, PyFrameObject *back)
{
    return top->entry->code == lp_frame_code_borrowed(back) &&
           top->row == lp_row_for_line(top->entry, PyFrame_GetLineNumber(back));
}

/* Room for one more level in ts->delegates; 0 if memory ran out (the walk ends there, the
 * outermost levels unseen, as before any were seen). */
static int
lp_delegates_room(LPThreadState *ts, int n)
{
    if (n < ts->delegates_cap) {
        return 1;
    }
    int cap = ts->delegates_cap > 0 ? 2 * ts->delegates_cap : 16;
    /* libc, not PyMem: lineprof's own memory is not the program's (memory mode counts PyMem) */
    LPDelegate *grown = realloc(ts->delegates, (size_t)cap * sizeof(LPDelegate));
    if (grown == NULL) {
        return 0;
    }
    ts->delegates = grown;
    ts->delegates_cap = cap;
    return 1;
}

/* The frames calling `frame`, a frame of profiled code `entry` being entered, that a throw()
 * passed through: profiled generator frames (unprofiled ones are passed over), innermost first,
 * up to the frame on top of this thread's stack, which called it.  `keyed`: frames are known by
 * their frame object (the legacy hooks), else by their code (sys.monitoring), on `ts`'s stack.
 * Fills ts->delegates and returns how many; never fails (what cannot be read ends the walk). */
int
lp_throw_delegating(LPModuleState *st, LPThreadState *ts, const LPCodeEntry *entry,
                    PyFrameObject *frame, int keyed)
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
    while (back != NULL) {
        PyObject *code = lp_frame_code_borrowed(back);
        if (!lp_is_generator_code(code)) {
            break; /* the caller of the outermost level, or of a plain resumption */
        }
        if (top != NULL && (keyed ? top->key == (const void *)back : lp_is_top_frame(top, back))) {
            break; /* the frame that called it runs it, as next() or send() does */
        }
        LPCodeEntry *level = lp_linestats_lookup(st, code);
        if (level != NULL && level->nsinks > 0) {
            if (!lp_delegates_room(ts, n)) {
                break;
            }
            LPDelegate *out = &ts->delegates[n++];
            out->entry = level;
            out->key = keyed ? (const void *)back : NULL;
            out->row = lp_row_for_line(level, PyFrame_GetLineNumber(back));
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
