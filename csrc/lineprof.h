/* lineprof.h: declarations shared by the C files of lineprof._lineprof.
 *
 * The C only measures; Python decides.  This extension owns the event hooks, the clock,
 * per-line accumulation and per-thread timing state.  Which code objects to profile, how source
 * lines group into statements, backend choice, formatting and saving are all Python.
 */
#ifndef LINEPROF_H
#define LINEPROF_H

#include "compat.h"

#include <stdint.h>

/* ---- per-line cells ------------------------------------------------------------------------ */

/* One row of a profiler's table for one code object.
 *
 * `time` is the clock's reading: the wall time from the line's start to the next line of its frame
 * (or the frame's exit), callees included.  `spent` is the part of it that lineprof's own
 * callbacks for profiled frames' events took between their first and last clock read (a
 * profiled callee's lines, say), measured in those callbacks; Python reports time - spent and
 * keeps both.  Nothing is estimated: hooks that fire inside unprofiled code (the legacy hooks'
 * calls and returns) are not timed and not subtracted, since a callee bounded by the clock
 * (a busy-wait, a sleep, a lock with a timeout) takes the same wall time with them. */
typedef struct {
    uint64_t hits;  /* times the row started */
    uint64_t time;  /* wall time charged, in the clock's units (timer.h: ns, or TSC ticks) */
    uint64_t spent; /* of it, measured inside lineprof's callbacks for nested events */
    /* Memory mode only (memhook.c); zero otherwise.  Bytes, callees included like `time`. */
    uint64_t alloc; /* allocated while the row ran */
    int64_t net;    /* allocated minus released while the row ran */
    uint64_t peak;  /* the largest rise of the thread's live bytes above their level at the
                     * row's start, over the row's hits (a maximum, not a sum) */
} LPLineCell;

/* ---- code entries (linestats.c) -------------------------------------------------------------
 *
 * One entry per registered code object, shared by every profiler that registered it, reached
 * from the code object through a code-extra slot (PEP 523), so the per-event lookup is a
 * pointer load: no dict, no hashing.  Rows are dense: row i is line first_line + i.  Python
 * supplies canon[], which sends every line of a multi-line statement to the row of its first
 * line.
 */
#define LP_OFFSET_CACHE_SIZE 8

typedef struct LPCodeEntry {
    PyObject *code;        /* owned */
    int first_line;        /* co_firstlineno */
    int nlines;            /* rows */
    int32_t *canon;        /* owned, nlines: line - first_line -> row, or -1 */
    int start_offset;      /* frames entered at a bytecode offset <= this are starting */
    int armed;             /* events are switched on for this code (sys.monitoring) */
    int nowners;           /* profilers that registered this code */
    int nsinks;            /* of those, the ones enabled: their cells receive events */
    int cap;               /* allocated length of owners[] and sinks[] */
    void **owners;         /* borrowed: the registering profilers (identity only) */
    LPLineCell **sinks;    /* borrowed: each enabled owner's cells for this code */
    uint64_t *sinks_since; /* owned, beside sinks[]: the module's sink_clock when it attached */
    struct {
        int offset;
        int row;
    } offset_cache[LP_OFFSET_CACHE_SIZE]; /* resume offset -> row; offset -1 = empty */
    struct LPCodeEntry *prev, *next;       /* the module's list of live entries */
} LPCodeEntry;

/* ---- per-thread state (threadstate.c) ----------------------------------------------------- */

/* LPFrame.row of a frame whose line events stopped reaching lineprof while it runs on
 * (another tool's trace function took the thread, hook_setprofile.c): no line in progress,
 * and the time until its next line is the program's, not lineprof's own as before a first
 * line. */
#define LP_ROW_UNSEEN (-2)

/* One profiled frame on this thread's stack. */
typedef struct {
    LPCodeEntry *entry; /* borrowed; valid while the stack's epoch is current */
    const void *key;    /* the PyFrameObject for the settrace hook; NULL for sys.monitoring */
    int row;            /* the line in progress, -1 before the first, or LP_ROW_UNSEEN */
    int saved_depth;    /* setprofile hook: unprofiled_depth to restore when this frame exits */
    int delegating;     /* resumed by no event of its own: a throw() passed through its yield
                         * from or await to the frame above (lp_throw_delegating), and it
                         * leaves the stack with that frame (events.h, lp_event_exit) */
    int64_t t_start;    /* when that line started (clock units) */
    uint64_t spent_at_start; /* the thread's `spent` when it started */
    /* Memory mode only: the thread's memory counters when the line started, valid if mem_gen is
     * the module's (a frame pushed before memory mode began has none). */
    uint64_t mem_gen;
    /* The module's sink_clock when this run of the line started, and when its current piece
     * did: a line's memory interval is cut in pieces where a profiler joins or leaves while it
     * runs (lp_threadstate_mem_split), and a profiler's cells get only pieces that began after
     * it joined.  mem_carried: the net of the run's earlier pieces, so each piece's Peak counts
     * from the run's start. */
    uint64_t run_since;
    uint64_t piece_since;
    int64_t mem_carried;
    uint64_t alloc_at_start;
    uint64_t freed_at_start;
    int64_t live_at_start;
    int64_t mem_peak; /* highest live level seen in this interval so far, the thread's mem_peak
                       * since its last reset aside (events.h folds it in) */
} LPFrame;

/* A generator frame a throw() passed through (lp_throw_delegating): its code's entry, its
 * key as LPFrame's, and the row of its `yield from` or `await` line. */
typedef struct {
    LPCodeEntry *entry;
    const void *key;
    int row;
} LPDelegate;

/* A greenlet's profiled frames while another greenlet runs on the same thread
 * (greenlet.c, lp_greenlet_switch).  The fields are LPThreadState's of the same names. */
typedef struct LPSavedStack {
    const void *greenlet; /* whose stack: compared, never read */
    uint64_t epoch;
    int depth;
    int cap;
    int unprofiled_depth;
    LPFrame *frames; /* owned */
} LPSavedStack;

typedef struct LPThreadState {
    uint64_t epoch; /* the module epoch this stack belongs to; a stale stack is emptied */
    uint64_t spent; /* clock units this thread's callbacks for profiled events took between
                     * their first and last clock read, ever */
    int depth;
    int cap;
    int unprofiled_depth; /* setprofile hook: unprofiled frames running above the top frame */
    /* setprofile hook, hooking on entry (hook_setprofile.c): calls of entry wrappers (entry.c)
     * not yet returned in the session `entry_session`, and whether the outermost put the
     * profile function in (and its return takes it out). */
    uint64_t entry_session;
    int entry_depth;
    int entry_hooked;
    /* setprofile hook: CPython calls the trace function and then the profile function for the
     * same call or return, nothing of the program between (3.10/3.11 ceval: trace_function_entry
     * and _exit).  The trace function's first clock read for a profiled frame's call or return,
     * and the frame: the profile function takes out the time from there to its own first read. */
    const void *pair_frame;
    int64_t pair_t;
    LPFrame *frames; /* owned */
    /* Memory mode: written by this thread's allocator wrappers (memhook.c), possibly without
     * the GIL, read by this thread's events; never by another thread.  live = alloc - freed. */
    uint64_t mem_alloc; /* bytes allocated on this thread while memory mode was on, ever */
    uint64_t mem_freed; /* bytes released on this thread of blocks allocated then */
    int64_t mem_peak;   /* highest live level since the last line start on this thread */
    uint64_t mem_npy_gen; /* the module's npy_gen when this thread last put NumPy's handler in */
    /* Every thread's stack is on one list (threadstate.c), so that profiling stopping on one
     * thread can charge the others' lines in progress up to then.  Guarded by the list's own
     * mutex, never by the GIL: a thread's stack leaves the list when the thread exits. */
    struct LPThreadState *prev, *next;
    uint64_t fork_gen; /* the process's fork count when this thread's stack was made: a stack
                        * of an older one belongs to a thread fork() did not copy */
    const PyThreadState *tstate; /* borrowed, compared only: the thread's, to find its hooks
                                  * (lp_thread_hooks_lost) */
    /* The stacks of greenlets switched out on this thread with profiled frames on them, by
     * greenlet: a table of saved_cap slots (a power of two, or 0), open addressing; the stack
     * above is the running greenlet's.  Changed only by this thread, with the GIL. */
    LPSavedStack **saved; /* owned, and each stack in it */
    int saved_cap;
    int nsaved;
    LPSavedStack *spare; /* owned, with its frames: kept from one switch for the next */
    /* The greenlet the stack above is, as of the last switch seen this session, or NULL:
     * compared, never read.  A switch reported twice (lineprof's tracing function reached
     * twice through another tool's chain) is seen once. */
    const void *greenlet;
    /* Python's setup of this thread (set_thread_setup) is due: its first event of a session
     * runs it, first thing, in lp_thread (events.h). */
    int setup_due;
    /* The levels of delegation a throw() passed through (lp_throw_delegating), kept from one
     * throw to the next: grown as deep as a chain goes. */
    LPDelegate *delegates; /* owned */
    int delegates_cap;
} LPThreadState;

/* A profiled frame another thread was running when the session started (threadstate.c,
 * lp_threadstate_note_running): its line in progress is timed from then. */
typedef struct {
    PyObject *frame;     /* owned: the frame object, compared by identity */
    LPCodeEntry *entry;  /* borrowed, as LPFrame.entry */
    int row;             /* the line in progress then */
    int64_t t_start;     /* when its time starts (the session's start, or the last charge) */
} LPRunning;

/* ---- module state (module.c) ------------------------------------------------------------- */

/* The timestamp-counter clock (timer.h) exists on x86-64 with GCC or Clang only (__rdtsc);
 * elsewhere the monotonic clock is the only one and tsc_available() says so. */
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define LP_HAVE_TSC 1
#else
#define LP_HAVE_TSC 0
#endif

/* Which clock lp_timer_now reads (when the fake clock is off). */
enum { LP_CLOCK_MONOTONIC = 0, LP_CLOCK_TSC = 1 };

/* How events reach us.
 *   MONITORING  sys.monitoring, events set on registered code only (3.12+)
 *   SETPROFILE  PyEval_SetProfile sees calls and returns; the trace function is switched on
 *               for a thread only while one of its profiled frames runs (<= 3.11)
 *   SETTRACE    PyEval_SetTrace alone, in every thread (any version; the fallback) */
enum {
    LP_BACKEND_NONE = 0,
    LP_BACKEND_MONITORING = 1,
    LP_BACKEND_SETTRACE = 2,
    LP_BACKEND_SETPROFILE = 3
};

/* Internal errors found on the event path.  The event path never raises: it records one of
 * these, stops recording, and the error is raised from disable() or get_stats(). */
enum { LP_ERR_NONE = 0, LP_ERR_NOMEM = 1, LP_ERR_STACK_LIMIT = 2, LP_ERR_BAD_EVENT = 3 };

/* The sys.monitoring events we handle, in the order of the callback table. */
enum {
    LP_EV_PY_START = 0,
    LP_EV_PY_RESUME,
    LP_EV_PY_RETURN,
    LP_EV_PY_YIELD,
    LP_EV_LINE,
    LP_EV_PY_UNWIND,
    LP_EV_PY_THROW,
    LP_NUM_EVENTS
};

typedef struct {
    /* Read on every event. */
    uint64_t epoch;   /* bumped whenever frames on threads' stacks may have gone stale */
    int error;        /* LP_ERR_*, see above */
    int fake_clock;   /* tests: the clock only moves when told to */
    int64_t fake_now; /* the fake clock's reading */
    int64_t fake_step; /* ns the fake clock moves after each read (0: only when advanced) */
    int clock;        /* LP_CLOCK_*; changed only while no profiler is enabled */
    Py_ssize_t extra_index; /* code-extra slot holding LPCodeEntry* */
    int memory;       /* memory mode on: events keep per-line memory figures (memhook.c) */
    uint64_t mem_gen; /* bumped each time memory mode starts; see LPFrame.mem_gen */
    uint64_t sink_clock; /* bumped each time a profiler's cells attach to a code entry */
    uint64_t npy_gen; /* bumped when memory mode starts and when NumPy is first watched: a
                       * thread whose mem_npy_gen differs puts NumPy's handler in (memhook.c) */

    /* Profiling session. */
    int nactive;          /* enabled profilers */
    /* A tracer is being enabled, disabled or given code: those call Python (threading's hooks,
     * sys.monitoring, an import), where a signal handler or a finalizer can run and call them
     * again with the session half changed.  Such a nested call is refused (profiler.c). */
    int switching;
    int backend;          /* LP_BACKEND_*; NONE when nactive == 0 */
    uint64_t session;     /* bumped at each session start */
    /* setprofile: threads get the profile function only while inside a call of an entry
     * wrapper (entry.c) as long as every enabled tracer's code is entered only through one
     * (hook_on_entry); else every thread has it. */
    int entry_mode;
    int tool_id;          /* sys.monitoring tool id held, -1 if none */
    int stack_limit;      /* frames per thread before LP_ERR_STACK_LIMIT; tests lower it */
    LPCodeEntry *entries; /* every live entry (owned through their owners) */
    PyObject *module;     /* borrowed back-pointer to our module */

    /* What each bump of `epoch` asks of the threads' stacks (lp_threadstate_catch_up).  A
     * session's start or end empties every stack, each at its thread's next event:
     * reset_epoch is the epoch it began.  A code object whose last listening profiler stopped
     * gets no more events, so its frames leave every stack, the frames around them staying:
     * `gone` is its entry, and every thread's stack catches up at once, before the next such
     * bump (lp_threadstate_catch_up_all).  The pointer is compared, never read. */
    uint64_t reset_epoch;
    const LPCodeEntry *gone;

    /* Profiled frames other threads were running when the session started, not yet on their
     * stacks: each thread's first event of the session puts its own there (with their lines
     * in progress since the start), and a stop charges those of threads that had none. */
    LPRunning *running;
    Py_ssize_t nrunning;
    Py_ssize_t running_cap;
    uint64_t running_fork_gen;

    /* sys.monitoring (3.12+); unused before. */
    PyObject *monitoring;                 /* owned: the sys.monitoring module */
    PyObject *callbacks[LP_NUM_EVENTS];   /* owned: our C callbacks */
    long event_bits[LP_NUM_EVENTS];       /* sys.monitoring.events.* values */

    /* settrace. */
    PyObject *thread_hook;      /* owned: builtin installed with threading.settrace() */
    PyObject *prev_thread_hook; /* owned: what threading.settrace() held before ours */
    Py_tracefunc displaced_func; /* another tool's hook we replaced in the starting thread */
    PyObject *displaced_obj;     /* owned: its object; both put back when the session ends */
    /* Before 3.12: how often another tool's profile or trace function stood where lineprof's
     * had to be (a debugger, coverage or cProfile started after lineprof): lines that ran
     * then were not recorded.  Python reads it (and resets it) when recording stops, to say
     * the results are incomplete. */
    Py_ssize_t hooks_displaced;
    PyObject *str_f_trace_lines; /* owned, interned */
    PyObject *str_dead;          /* owned, interned: greenlet's attribute (module.c) */
    /* owned, or NULL: what each thread does for itself at its first event of a session, set by
     * Python (set_thread_setup: greenlets.follow, since greenlet's tracing function belongs
     * to a thread and only that thread can set it); see lp_threadstate_run_setup. */
    PyObject *thread_setup;

    PyObject *tracer_type; /* owned: the Tracer heap type */
    PyObject *entry_type;  /* owned: the EntryWrapper heap type (entry.c) */
    int nmemory;           /* enabled tracers in memory mode */
    int nwrap_trace;       /* enabled tracers with wrap_trace (hook_wrap.c) */
} LPModuleState;

static inline LPModuleState *
lp_state(PyObject *module)
{
    return (LPModuleState *)PyModule_GetState(module);
}

/* ---- functions shared between files ------------------------------------------------------ */

/* linestats.c */
LPCodeEntry *lp_linestats_create(LPModuleState *st, PyObject *code, int first_line,
                                 const int32_t *canon, int nlines, int start_offset);
void lp_linestats_free(LPModuleState *st, LPCodeEntry *entry);
int lp_linestats_add_owner(LPCodeEntry *entry, void *owner);
void lp_linestats_remove_owner(LPCodeEntry *entry, void *owner);
int lp_linestats_has_owner(const LPCodeEntry *entry, const void *owner);
void lp_linestats_attach_sink(LPCodeEntry *entry, LPLineCell *cells, uint64_t since);
void lp_linestats_detach_sink(LPCodeEntry *entry, LPLineCell *cells);
int lp_linestats_row_for_offset(LPCodeEntry *entry, int offset);

static inline LPCodeEntry *
lp_linestats_lookup(const LPModuleState *st, PyObject *code)
{
    void *extra = NULL;
    if (PyUnstable_Code_GetExtra(code, st->extra_index, &extra) < 0) {
        PyErr_Clear();
        return NULL;
    }
    return (LPCodeEntry *)extra;
}

/* threadstate.c */
LPThreadState *lp_threadstate_create(LPModuleState *st);
void lp_threadstate_run_setup(LPModuleState *st, LPThreadState *ts);
LPFrame *lp_threadstate_grow(LPModuleState *st, LPThreadState *ts);
void lp_threadstate_flush(LPModuleState *st);
void lp_threadstate_charge_so_far(LPModuleState *st);
void lp_threadstate_mem_split(LPModuleState *st);
void lp_threadstate_catch_up(const LPModuleState *st, LPThreadState *ts);
void lp_threadstate_catch_up_own(LPModuleState *st, LPThreadState *ts);
void lp_threadstate_catch_up_all(const LPModuleState *st);
void lp_threadstate_drop_frames(LPModuleState *st, LPThreadState *ts);
void lp_threadstate_free_current(void);
uint64_t lp_threadstate_fork_gen(void);
PyObject *lp_threadstate_py_set_thread_setup(PyObject *module, PyObject *setup);
/* Initial-exec TLS: the event path reads this pointer with one instruction instead of a call to
 * __tls_get_addr (measured: ~100 instructions per line event).  One pointer fits the static TLS
 * space glibc keeps for modules loaded later. */
#if defined(__GNUC__) || defined(__clang__)
#define LP_TLS_MODEL __attribute__((tls_model("initial-exec")))
#else
#define LP_TLS_MODEL
#endif
extern _Thread_local LPThreadState *lp_threadstate_current LP_TLS_MODEL;

/* running.c */
void lp_threadstate_note_running(LPModuleState *st);
void lp_threadstate_drop_running(LPModuleState *st);
void lp_threadstate_forget_running(LPModuleState *st, const LPCodeEntry *entry);
void lp_running_adopt(LPModuleState *st, LPThreadState *ts);
void lp_running_charge(LPModuleState *st, int64_t now);

/* throw.c */
int lp_throw_delegating(LPModuleState *st, LPThreadState *ts, const LPCodeEntry *entry,
                        PyFrameObject *frame, int keyed);

/* greenlet.c */
PyObject *lp_greenlet_py_switched(PyObject *module, PyObject *const *args, Py_ssize_t nargs);

/* timer.c */
PyObject *lp_timer_py_now(PyObject *module, PyObject *unused);
PyObject *lp_timer_py_set_fake_clock(PyObject *module, PyObject *const *args, Py_ssize_t nargs);
PyObject *lp_timer_py_advance_fake_clock(PyObject *module, PyObject *arg);
PyObject *lp_timer_py_is_fake(PyObject *module, PyObject *unused);
PyObject *lp_timer_py_tsc_available(PyObject *module, PyObject *unused);
PyObject *lp_timer_py_read_tsc(PyObject *module, PyObject *unused);
PyObject *lp_timer_py_use_tsc(PyObject *module, PyObject *unused);
PyObject *lp_timer_py_use_monotonic(PyObject *module, PyObject *unused);
PyObject *lp_timer_py_clock_name(PyObject *module, PyObject *unused);
PyObject *lp_timer_py_monotonic_ns(PyObject *module, PyObject *unused);

/* hook_monitoring.c */
int lp_monitoring_init(LPModuleState *st, PyObject *module);
int lp_monitoring_install(LPModuleState *st);
void lp_monitoring_uninstall(LPModuleState *st);
int lp_monitoring_arm(LPModuleState *st, LPCodeEntry *entry, int on);

/* hook_settrace.c */
void lp_settrace_lines_on(LPModuleState *st, const LPCodeEntry *entry);
int lp_settrace_init(LPModuleState *st, PyObject *module);
int lp_settrace_install(LPModuleState *st);
void lp_settrace_uninstall(LPModuleState *st);
int lp_settrace_callback(PyObject *module, PyFrameObject *frame, int what, PyObject *arg);
void lp_settrace_line(PyObject *module, PyFrameObject *frame, int may_switch_off);
int lp_thread_hooks_lost(const LPModuleState *st, const PyThreadState *tstate);
Py_ssize_t lp_threadstate_count_unhooked(const LPModuleState *st);
int lp_thread_hook_install(LPModuleState *st, const char *setter);
void lp_thread_hook_uninstall(LPModuleState *st, const char *setter);
void lp_displaced_hook_save(LPModuleState *st, int profile, Py_tracefunc ours);
void lp_displaced_hook_restore(LPModuleState *st, int profile);

/* hook_setprofile.c */
int lp_setprofile_install(LPModuleState *st, int entry_mode);
int lp_setprofile_start(LPModuleState *st);
int lp_setprofile_hook_every_thread(LPModuleState *st);
void lp_setprofile_enter(LPModuleState *st);
void lp_setprofile_leave(LPModuleState *st);
void lp_setprofile_uninstall(LPModuleState *st);
void lp_setprofile_switched(LPModuleState *st);
int lp_setprofile_callback(PyObject *module, PyFrameObject *frame, int what, PyObject *arg);

/* hook_wrap.c (before 3.12) */
int lp_wrap_callback(PyObject *capsule, PyFrameObject *frame, int what, PyObject *arg);
void lp_wrap_thread_trace(LPModuleState *st);
void lp_unwrap_thread_trace(void);
void lp_unwrap_all_threads(void);

/* memhook.c */
void lp_memhook_start(LPModuleState *st);
void lp_memhook_stop(LPModuleState *st);
PyObject *lp_memhook_py_installed(PyObject *module, PyObject *unused);
PyObject *lp_memhook_py_state(PyObject *module, PyObject *unused);
PyObject *lp_memhook_py_watch_numpy(PyObject *module, PyObject *api_capsule);
PyObject *lp_memhook_py_numpy_is_ours(PyObject *module, PyObject *unused);
void lp_memhook_thread_numpy(LPModuleState *st, LPThreadState *ts);

/* profiler.c */
extern PyType_Spec lp_tracer_spec;
extern PyType_Spec lp_entry_spec; /* entry.c */

#endif /* LINEPROF_H */
