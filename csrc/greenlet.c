/* greenlet.c: a thread's greenlets, each timed on a stack of its own.
 *
 * greenlet switches the C stack under the interpreter: no hook reports a return or a yield,
 * the frames of another greenlet simply carry on.  greenlet's tracing function
 * (greenlet.settrace, installed by lineprof/greenlets.py) reports each switch, and here the
 * thread's stack of profiled frames (threadstate.c) is put aside under the greenlet that
 * leaves and the stack of the greenlet that comes back is brought in: a table of stacks per
 * thread, keyed by greenlet, open addressing.  Runs with the GIL, in the thread that switches.
 */
#include "events.h"

#include <stdlib.h> /* the stacks are libc's, as threadstate.c's */

/* A greenlet's own stack starts small: a gevent server may keep thousands of them aside. */
#define LP_GREENLET_FRAMES 8

static size_t
lp_saved_home(const void *greenlet, int cap)
{
    uint64_t h = (uint64_t)(uintptr_t)greenlet * UINT64_C(0x9E3779B97F4A7C15);
    return (size_t)(h >> 32) & (size_t)(cap - 1);
}

/* The slot of `greenlet`'s stack, or -1. */
static long
lp_saved_find(const LPThreadState *ts, const void *greenlet)
{
    if (ts->nsaved == 0) {
        return -1;
    }
    size_t mask = (size_t)ts->saved_cap - 1;
    for (size_t i = lp_saved_home(greenlet, ts->saved_cap); ts->saved[i] != NULL;
         i = (i + 1) & mask) {
        if (ts->saved[i]->greenlet == greenlet) {
            return (long)i;
        }
    }
    return -1;
}

static void
lp_saved_put(LPThreadState *ts, LPSavedStack *saved)
{
    size_t mask = (size_t)ts->saved_cap - 1;
    size_t i = lp_saved_home(saved->greenlet, ts->saved_cap);
    while (ts->saved[i] != NULL) {
        i = (i + 1) & mask;
    }
    ts->saved[i] = saved;
    ts->nsaved++;
}

/* Room for one more stack, the table at most half full: 0, or -1 out of memory. */
static int
lp_saved_reserve(LPThreadState *ts)
{
    if ((ts->nsaved + 1) * 2 <= ts->saved_cap) {
        return 0;
    }
    int old_cap = ts->saved_cap;
    LPSavedStack **old = ts->saved;
    int cap = old_cap > 0 ? old_cap * 2 : 16;
    LPSavedStack **table = calloc((size_t)cap, sizeof(LPSavedStack *));
    if (table == NULL) {
        return -1;
    }
    ts->saved = table;
    ts->saved_cap = cap;
    ts->nsaved = 0;
    for (int i = 0; i < old_cap; i++) {
        if (old[i] != NULL) {
            lp_saved_put(ts, old[i]);
        }
    }
    free(old);
    return 0;
}

/* Take the stack out of `slot`; the entries after it that probed past it move back, so every
 * entry stays reachable from its home slot (no tombstones). */
static LPSavedStack *
lp_saved_take(LPThreadState *ts, size_t slot)
{
    LPSavedStack *taken = ts->saved[slot];
    size_t mask = (size_t)ts->saved_cap - 1;
    size_t hole = slot;
    for (size_t j = (slot + 1) & mask; ts->saved[j] != NULL; j = (j + 1) & mask) {
        size_t home = lp_saved_home(ts->saved[j]->greenlet, ts->saved_cap);
        if (((j - home) & mask) >= ((j - hole) & mask)) { /* the hole is on its probe path */
            ts->saved[hole] = ts->saved[j];
            hole = j;
        }
    }
    ts->saved[hole] = NULL;
    ts->nsaved--;
    return taken;
}

/* Greenlets (lineprof/greenlets.py): on this thread, greenlet `origin` has just switched to
 * greenlet `target`, with no return or yield event: to the hooks, the target's frames simply
 * carry on where the origin's ran.  Each greenlet has a stack of its own, as a thread has: the
 * origin's is put aside, its lines in progress timing on (a greenlet switched out waits in its
 * line as a blocked thread does: a gevent socket read is charged the wait), and the target's
 * comes back if it had one.  Frames keep their `spent` baselines: what the thread's callbacks
 * take while a greenlet is out is lineprof's, taken out of its waiting line as out of a line
 * whose callee they ran in.  A greenlet that ends has unwound its frames, so its stack is empty
 * at its last switch (`origin_ended`) and nothing of it is kept. */
static void
lp_greenlet_switch(LPModuleState *st, const void *origin, int origin_ended, const void *target)
{
    LPThreadState *ts = lp_threadstate_current;
    if (ts == NULL || origin == target) {
        return; /* no profiled event on this thread yet: no stack to put aside */
    }
    lp_threadstate_catch_up_own(st, ts);
    if (ts->greenlet == target) {
        return; /* this switch, reported again */
    }
    if (origin_ended) {
        /* Frames whose exit no hook reported: they will not run again, and nothing says when
         * their lines ended, so they are let go uncharged rather than timed on for ever. */
        ts->depth = 0;
    }
    long slot = lp_saved_find(ts, target);
    if (slot < 0 && ts->depth > 0 && lp_saved_reserve(ts) < 0) {
        st->error = LP_ERR_NOMEM;
        return;
    }
    LPSavedStack *back = slot >= 0 ? lp_saved_take(ts, (size_t)slot) : NULL;
    LPSavedStack out = {origin, ts->epoch, ts->depth, ts->cap, ts->unprofiled_depth, ts->frames};
    LPSavedStack in = {target, st->epoch, 0, LP_GREENLET_FRAMES, 0, NULL};
    if (back != NULL) {
        in = *back;
    }
    else if (ts->depth > 0) {
        /* The origin keeps its frames; the target starts a stack of its own. */
        if (ts->spare != NULL) {
            in.frames = ts->spare->frames;
            in.cap = ts->spare->cap;
        }
        else {
            in.frames = calloc(LP_GREENLET_FRAMES, sizeof(LPFrame));
            if (in.frames == NULL) {
                st->error = LP_ERR_NOMEM;
                return;
            }
        }
    }
    else {
        in.frames = ts->frames; /* neither has frames: the array stays */
        in.cap = ts->cap;
    }
    if (ts->depth > 0) {
        LPSavedStack *aside = back;
        if (aside == NULL && ts->spare != NULL) {
            aside = ts->spare; /* its array went to the target above */
            ts->spare = NULL;
        }
        else if (aside == NULL) {
            aside = malloc(sizeof(LPSavedStack));
        }
        if (aside == NULL) {
            if (back == NULL) {
                free(in.frames);
            }
            st->error = LP_ERR_NOMEM;
            return;
        }
        if (st->memory) {
            lp_mem_fold(&ts->frames[ts->depth - 1], ts->mem_peak);
        }
        *aside = out;
        lp_saved_put(ts, aside); /* room reserved, or made by the target's leaving */
    }
    else if (back != NULL && ts->spare == NULL) {
        /* The origin's empty array and the target's record, kept for the next switch: in a
         * ping-pong between a greenlet in profiled code and one outside it, nothing is
         * allocated after the first. */
        back->frames = ts->frames;
        back->cap = ts->cap;
        ts->spare = back;
    }
    else if (back != NULL) {
        free(ts->frames);
        free(back);
    }
    ts->epoch = in.epoch;
    ts->depth = in.depth;
    ts->cap = in.cap;
    ts->unprofiled_depth = in.unprofiled_depth;
    ts->frames = in.frames;
    ts->greenlet = target;
    ts->pair_frame = NULL;
    lp_threadstate_catch_up(st, ts);
    if (st->memory) {
        ts->mem_peak = lp_mem_live(ts); /* the target's line in progress goes on from here */
    }
}

/* greenlet_switched(event, (origin, target)): the greenlet tracing function
 * (greenlet.settrace) lineprof/greenlets.py installs.  Never raises: it runs inside the
 * program's switch. */
PyObject *
lp_greenlet_py_switched(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    LPModuleState *st = lp_state(module);
    if (nargs != 2 || st->nactive == 0 || st->error || !PyTuple_Check(args[1]) ||
        PyTuple_GET_SIZE(args[1]) != 2) {
        Py_RETURN_NONE;
    }
    int64_t t_in = lp_timer_now(st);
    PyObject *origin = PyTuple_GET_ITEM(args[1], 0);
    LPThreadState *ts = lp_threadstate_current;
    int origin_ended = 0;
    if (ts != NULL && ts->depth > 0) {
        /* greenlet's own attribute (a C getter): true once the greenlet has finished.  Read
         * with any exception of the switch ('throw') set aside, and no error of ours left. */
        PyObject *type, *value, *tb;
        PyErr_Fetch(&type, &value, &tb);
        PyObject *dead = PyObject_GetAttr(origin, st->str_dead);
        origin_ended = dead != NULL && PyObject_IsTrue(dead) == 1;
        Py_XDECREF(dead);
        PyErr_Clear();
        PyErr_Restore(type, value, tb);
    }
    lp_greenlet_switch(st, origin, origin_ended, PyTuple_GET_ITEM(args[1], 1));
    lp_setprofile_switched(st);
    if (ts != NULL) {
        /* lineprof's own time, taken out of the lines running around it like a callback's */
        lp_spend(ts, t_in, lp_timer_now(st));
    }
    Py_RETURN_NONE;
}
