/* memhook.c: memory mode's allocator hook (issue 16).
 *
 * With memory mode on, lineprof wraps the RAW, MEM and OBJ allocator domains (PEP 445,
 * PyMem_GetAllocator / PyMem_SetAllocator, the API tracemalloc is built on).  Each wrapper
 * forwards to the allocator it replaced and adds the block's size to counters in the calling
 * thread's LPThreadState (mem_alloc, mem_freed, mem_peak); the event path (events.h) turns the
 * counters into per-line Alloc / Net / Peak at line boundaries, exactly as it does with the
 * clock.  The hook never charges a line itself, so it touches no code entry, no cell, no Python
 * object: only its own thread's counters and the pointer table below.
 *
 * With memory mode off nothing here runs: no wrapper is installed (memory_hook_installed()
 * says so; one left under another tool's wrapper, see lp_memhook_stop, only forwards) and the
 * time-only event path tests one flag per event.
 *
 * Why the state is static and not module state: the allocator is process-wide and our wrapper
 * can outlive the module (another tool may wrap it, see lp_memhook_stop), so the wrapper's
 * context must live as long as the shared library, which CPython never unloads.  It holds no
 * Python object (NumPy's handlers, below, are capsules that own what they wrap).
 *
 * The size of a freed block: a pointer -> size table (open addressing, linear probing,
 * backward-shift deletion), filled by the wrappers while memory mode is on.  A block allocated
 * before that is not in it, and its free is ignored: it was never charged.  The table's storage
 * comes from libc's calloc/free, never through Python's allocators, so growing it cannot re-enter
 * the hook.
 *
 * Threads and the GIL: RAW-domain calls may come without the GIL, from any thread, so the table
 * is guarded by a pthread mutex (threadstate.c already uses pthreads; an uncontended mutex does
 * not allocate and costs two atomic operations; PyThread_type_lock is heavier and is not
 * documented as usable without an initialised thread state).  The mutex is taken only inside the
 * wrappers, never by the time-only path.  The wrapped allocator is called outside the mutex, so
 * no other tool's lock is ever taken under ours.
 *
 * NumPy's array data comes from NumPy's own allocator, not from these domains: a handler of ours
 * is put in front of it through NumPy's C API (below), feeding the same table and counters.
 *
 * Nesting: pymalloc serves a large PyObject_Malloc with PyMem_RawMalloc, so one block would
 * pass our OBJ wrapper and then our RAW wrapper.  A thread-local depth counter makes the inner
 * call forward untouched (tracemalloc does the same, Modules/_tracemalloc.c "reentrant").
 */
#include "events.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    uintptr_t key; /* the block's address; 0 = empty slot */
    size_t size;
} LPMemSlot;

/* One wrapper in a domain's chain: the allocator it forwards to.  A wrapper that another tool
 * may still call (it saved ours as its predecessor) must outlive that call, so wrappers are
 * never freed: one is reused only after we took it off the top of its chain ourselves. */
typedef struct LPMemWrapper {
    PyMemAllocatorDomain domain;
    PyMemAllocatorEx prev;     /* what PyMem_GetAllocator returned when it was installed */
    int spare;                 /* taken off the top by us: free for the next installation */
    struct LPMemWrapper *next; /* every wrapper ever made (owned, libc calloc, never freed) */
} LPMemWrapper;

static const PyMemAllocatorDomain lp_mem_domain_ids[3] = {PYMEM_DOMAIN_RAW, PYMEM_DOMAIN_MEM,
                                                          PYMEM_DOMAIN_OBJ};

/* Every wrapper made; read and written with the GIL held (start, stop, diagnostics). */
static LPMemWrapper *lp_mem_wrappers = NULL;

static struct {
    pthread_mutex_t lock; /* guards slots, cap, used, untracked */
    LPMemSlot *slots;     /* owned, libc calloc; NULL until the first block is tracked */
    size_t cap;           /* power of two */
    size_t used;
    uint64_t untracked; /* blocks the table had no room for (libc calloc failed) */
} lp_mem_table = {PTHREAD_MUTEX_INITIALIZER, NULL, 0, 0, 0};

/* Accounting on: set and cleared with the GIL held, read by wrappers that may not hold it. */
static atomic_int lp_mem_tracking = 0;

/* Depth of our wrappers on this thread: a nested call forwards untouched. */
static _Thread_local int lp_mem_depth LP_TLS_MODEL = 0;

static pthread_once_t lp_mem_atfork_once = PTHREAD_ONCE_INIT;

#define LP_MEM_MIN_CAP 4096

/* ---- the table (callers hold lp_mem_table.lock) ------------------------------------------ */

static inline size_t
lp_mem_hash(uintptr_t key, size_t cap)
{
    /* Fibonacci hashing of the address without its alignment bits. */
    return (size_t)(((uint64_t)(key >> 4) * UINT64_C(0x9E3779B97F4A7C15)) >> 20) & (cap - 1);
}

static int
lp_mem_grow(void)
{
    size_t cap = lp_mem_table.cap ? lp_mem_table.cap * 2 : LP_MEM_MIN_CAP;
    LPMemSlot *slots = calloc(cap, sizeof(LPMemSlot));
    if (slots == NULL) {
        return -1;
    }
    for (size_t i = 0; i < lp_mem_table.cap; i++) {
        LPMemSlot s = lp_mem_table.slots[i];
        if (s.key != 0) {
            size_t j = lp_mem_hash(s.key, cap);
            while (slots[j].key != 0) {
                j = (j + 1) & (cap - 1);
            }
            slots[j] = s;
        }
    }
    free(lp_mem_table.slots);
    lp_mem_table.slots = slots;
    lp_mem_table.cap = cap;
    return 0;
}

static void
lp_mem_insert(uintptr_t key, size_t size)
{
    if ((lp_mem_table.used + 1) * 2 > lp_mem_table.cap && lp_mem_grow() < 0) {
        lp_mem_table.untracked++;
        return;
    }
    size_t mask = lp_mem_table.cap - 1;
    size_t i = lp_mem_hash(key, lp_mem_table.cap);
    while (lp_mem_table.slots[i].key != 0) {
        if (lp_mem_table.slots[i].key == key) {
            /* Freed behind our back (by an allocator we do not wrap) and handed out again. */
            lp_mem_table.slots[i].size = size;
            return;
        }
        i = (i + 1) & mask;
    }
    lp_mem_table.slots[i].key = key;
    lp_mem_table.slots[i].size = size;
    lp_mem_table.used++;
}

/* Remove `key`; its size, or 0 if it was not tracked. */
static size_t
lp_mem_remove(uintptr_t key)
{
    if (lp_mem_table.slots == NULL) {
        return 0;
    }
    size_t mask = lp_mem_table.cap - 1;
    size_t i = lp_mem_hash(key, lp_mem_table.cap);
    while (lp_mem_table.slots[i].key != key) {
        if (lp_mem_table.slots[i].key == 0) {
            return 0;
        }
        i = (i + 1) & mask;
    }
    size_t size = lp_mem_table.slots[i].size;
    /* Backward-shift deletion: move later members of the probe run into the hole, so lookups
     * never need tombstones. */
    size_t hole = i;
    for (size_t j = (i + 1) & mask; lp_mem_table.slots[j].key != 0; j = (j + 1) & mask) {
        size_t home = lp_mem_hash(lp_mem_table.slots[j].key, lp_mem_table.cap);
        /* Can slots[j] move to the hole?  Only if its home is not in (hole, j] cyclically. */
        int between = hole <= j ? (hole < home && home <= j) : (hole < home || home <= j);
        if (!between) {
            lp_mem_table.slots[hole] = lp_mem_table.slots[j];
            hole = j;
        }
    }
    lp_mem_table.slots[hole].key = 0;
    lp_mem_table.slots[hole].size = 0;
    lp_mem_table.used--;
    return size;
}

static void
lp_mem_table_clear(void)
{
    pthread_mutex_lock(&lp_mem_table.lock);
    free(lp_mem_table.slots);
    lp_mem_table.slots = NULL;
    lp_mem_table.cap = 0;
    lp_mem_table.used = 0;
    pthread_mutex_unlock(&lp_mem_table.lock);
}

/* fork() in a thread while another holds the table lock would leave the child's lock taken
 * forever: hold it across fork so it is in a known state on both sides. */
static void
lp_mem_atfork_prepare(void)
{
    pthread_mutex_lock(&lp_mem_table.lock);
}

static void
lp_mem_atfork_release(void)
{
    pthread_mutex_unlock(&lp_mem_table.lock);
}

/* The child carries the session on with empty tables (children.py): blocks allocated before
 * the fork were charged in the parent, so the child forgets them, as it would blocks allocated
 * before its recording began, and their release is not charged a second time. */
static void
lp_mem_atfork_child(void)
{
    if (lp_mem_table.slots != NULL) {
        memset(lp_mem_table.slots, 0, lp_mem_table.cap * sizeof(LPMemSlot));
    }
    lp_mem_table.used = 0;
    pthread_mutex_unlock(&lp_mem_table.lock);
}

static void
lp_mem_atfork_register(void)
{
    pthread_atfork(lp_mem_atfork_prepare, lp_mem_atfork_release, lp_mem_atfork_child);
}

/* ---- accounting --------------------------------------------------------------------------- */

/* Called after the wrapped allocator returned.  `old` is the block a realloc replaced (0 for
 * malloc/calloc), `new` the block now live (0 for free), `size` its size. */
static void
lp_mem_account(uintptr_t old, uintptr_t new, size_t size)
{
    size_t old_size = 0;
    pthread_mutex_lock(&lp_mem_table.lock);
    if (old != 0) {
        old_size = lp_mem_remove(old);
    }
    if (new != 0) {
        lp_mem_insert(new, size);
    }
    pthread_mutex_unlock(&lp_mem_table.lock);
    LPThreadState *ts = lp_threadstate_current;
    if (ts == NULL) {
        /* No profiled line ever ran on this thread: nothing to charge.  The block is in the
         * table, so its free is known if it happens on a thread that is charged. */
        return;
    }
    /* A realloc charges what it changed: growth as allocated, shrinking as released. */
    if (new != 0) {
        if (size >= old_size) {
            ts->mem_alloc += size - old_size;
        }
        else {
            ts->mem_freed += old_size - size;
        }
    }
    else {
        ts->mem_freed += old_size;
    }
    int64_t live = (int64_t)(ts->mem_alloc - ts->mem_freed);
    if (live > ts->mem_peak) {
        ts->mem_peak = live;
    }
}

/* ---- the wrappers -------------------------------------------------------------------------- */

static inline int
lp_mem_enter(void)
{
    return lp_mem_depth++ == 0 && atomic_load_explicit(&lp_mem_tracking, memory_order_relaxed);
}

static void *
lp_mem_malloc(void *ctx, size_t size)
{
    LPMemWrapper *d = ctx;
    int track = lp_mem_enter();
    void *ptr = d->prev.malloc(d->prev.ctx, size);
    lp_mem_depth--;
    if (track && ptr != NULL) {
        lp_mem_account(0, (uintptr_t)ptr, size);
    }
    return ptr;
}

static void *
lp_mem_calloc(void *ctx, size_t nelem, size_t elsize)
{
    LPMemWrapper *d = ctx;
    int track = lp_mem_enter();
    void *ptr = d->prev.calloc(d->prev.ctx, nelem, elsize);
    lp_mem_depth--;
    if (track && ptr != NULL) {
        /* The allocator checked nelem * elsize for overflow before it succeeded. */
        lp_mem_account(0, (uintptr_t)ptr, nelem * elsize);
    }
    return ptr;
}

static void *
lp_mem_realloc(void *ctx, void *ptr, size_t size)
{
    LPMemWrapper *d = ctx;
    int track = lp_mem_enter();
    void *out = d->prev.realloc(d->prev.ctx, ptr, size);
    lp_mem_depth--;
    if (track && out != NULL) {
        /* On failure the old block is untouched and stays where it was in the table. */
        lp_mem_account((uintptr_t)ptr, (uintptr_t)out, size);
    }
    return out;
}

static void
lp_mem_free(void *ctx, void *ptr)
{
    LPMemWrapper *d = ctx;
    int track = lp_mem_enter() && ptr != NULL;
    if (track) {
        /* Before the block goes back: once freed, another thread may get the same address. */
        lp_mem_account((uintptr_t)ptr, 0, 0);
    }
    d->prev.free(d->prev.ctx, ptr);
    lp_mem_depth--;
}

/* The wrapper behind `alloc` if it is one of ours, else NULL. */
static LPMemWrapper *
lp_mem_ours(const PyMemAllocatorEx *alloc)
{
    return alloc->malloc == lp_mem_malloc ? alloc->ctx : NULL;
}

/* ---- NumPy's array data (NEP 49) ----------------------------------------------------------
 *
 * NumPy takes an array's data buffer from its own allocator, a "mem_handler" capsule held in a
 * context variable, and its default handler calls the C library's malloc/calloc directly: the
 * three domains above never see an np.zeros((1000, 1000)).  NumPy's documented way in is
 * PyDataMem_SetHandler (numpy.org/doc/stable/reference/c-api/data_memory.html): Python hands us
 * NumPy's C API table (its _ARRAY_API capsule) once NumPy is imported, and while memory mode
 * records, a handler of ours stands in the current context over the one found there, forwarding
 * to it and accounting like the domain wrappers (the same pointer table, the same depth counter,
 * so a handler that itself calls PyMem_RawMalloc is not counted twice).
 *
 * Each array keeps the capsule that allocated it and frees through it (NumPy's rule), so our
 * capsule, and through it the handler it wraps, lives as long as the last array made under it:
 * taking ours out again at stop is always safe.  NumPy's handler is per context: a thread
 * begins in an empty context, where NumPy's default handler stands, so each thread gets ours at
 * its first profiled event (lp_memhook_thread_numpy).
 *
 * The structs below are NumPy's ABI, version 1 (numpy/ndarraytypes.h), copied so that lineprof
 * builds without NumPy; the API indices are numpy/__multiarray_api.h's. */

typedef struct {
    void *ctx;
    void *(*malloc)(void *ctx, size_t size);
    void *(*calloc)(void *ctx, size_t nelem, size_t elsize);
    void *(*realloc)(void *ctx, void *ptr, size_t new_size);
    void (*free)(void *ctx, void *ptr, size_t size);
} LPNpyAllocator;

typedef struct {
    char name[127];
    uint8_t version;
    LPNpyAllocator allocator;
} LPNpyHandler;

#define LP_NPY_CAPSULE "mem_handler"
#define LP_NPY_API_FEATURE_VERSION 211 /* unsigned int PyArray_GetNDArrayCFeatureVersion(void) */
#define LP_NPY_API_SET_HANDLER 304     /* PyObject *PyDataMem_SetHandler(PyObject *) */
#define LP_NPY_API_GET_HANDLER 305     /* PyObject *PyDataMem_GetHandler(void) */
#define LP_NPY_1_22_FEATURE 0x0F       /* NPY_1_22_API_VERSION: the handler API */

typedef struct {
    LPNpyHandler handler; /* ours; the capsule points here */
    LPNpyAllocator prev;  /* the wrapped handler's allocator, copied */
    PyObject *prev_capsule; /* owned: keeps the wrapped handler alive as long as ours */
} LPNpyWrap;

/* NumPy's C API table: borrowed from NumPy's capsule (NumPy is never unloaded); NULL until
 * Python hands it over.  Set and read with the GIL held. */
static void **lp_npy_api = NULL;

static void *
lp_npy_malloc(void *ctx, size_t size)
{
    LPNpyWrap *w = ctx;
    int track = lp_mem_enter();
    void *ptr = w->prev.malloc(w->prev.ctx, size);
    lp_mem_depth--;
    if (track && ptr != NULL) {
        lp_mem_account(0, (uintptr_t)ptr, size);
    }
    return ptr;
}

static void *
lp_npy_calloc(void *ctx, size_t nelem, size_t elsize)
{
    LPNpyWrap *w = ctx;
    int track = lp_mem_enter();
    void *ptr = w->prev.calloc(w->prev.ctx, nelem, elsize);
    lp_mem_depth--;
    if (track && ptr != NULL) {
        lp_mem_account(0, (uintptr_t)ptr, nelem * elsize);
    }
    return ptr;
}

static void *
lp_npy_realloc(void *ctx, void *ptr, size_t size)
{
    LPNpyWrap *w = ctx;
    int track = lp_mem_enter();
    void *out = w->prev.realloc(w->prev.ctx, ptr, size);
    lp_mem_depth--;
    if (track && out != NULL) {
        lp_mem_account((uintptr_t)ptr, (uintptr_t)out, size);
    }
    return out;
}

/* NumPy passes the size, but a block from before recording must be ignored, not subtracted:
 * the table says which blocks were counted. */
static void
lp_npy_free(void *ctx, void *ptr, size_t size)
{
    LPNpyWrap *w = ctx;
    int track = lp_mem_enter() && ptr != NULL;
    if (track) {
        lp_mem_account((uintptr_t)ptr, 0, 0);
    }
    w->prev.free(w->prev.ctx, ptr, size);
    lp_mem_depth--;
}

static void
lp_npy_capsule_destructor(PyObject *capsule)
{
    LPNpyWrap *w = PyCapsule_GetContext(capsule);
    if (w != NULL) {
        Py_XDECREF(w->prev_capsule);
        free(w);
    }
}

/* The wrap behind a handler capsule if it is one of ours, else NULL (no exception). */
static LPNpyWrap *
lp_npy_ours(PyObject *capsule)
{
    if (!PyCapsule_IsValid(capsule, LP_NPY_CAPSULE)) {
        return NULL;
    }
    LPNpyHandler *h = PyCapsule_GetPointer(capsule, LP_NPY_CAPSULE);
    if (h == NULL || h->allocator.malloc != lp_npy_malloc) {
        return NULL;
    }
    return h->allocator.ctx;
}

/* Our handler over `prev` (a new reference to it is taken); NULL with an exception set. */
static PyObject *
lp_npy_wrap(PyObject *prev)
{
    LPNpyHandler *ph = PyCapsule_GetPointer(prev, LP_NPY_CAPSULE);
    if (ph == NULL) {
        return NULL;
    }
    /* libc, not PyMem: the wrap is freed by a capsule destructor that may run at any time. */
    LPNpyWrap *w = calloc(1, sizeof(LPNpyWrap));
    if (w == NULL) {
        PyErr_NoMemory();
        return NULL;
    }
    strcpy(w->handler.name, "lineprof");
    w->handler.version = 1;
    w->handler.allocator = (LPNpyAllocator){w, lp_npy_malloc, lp_npy_calloc, lp_npy_realloc,
                                            lp_npy_free};
    w->prev = ph->allocator;
    PyObject *capsule = PyCapsule_New(&w->handler, LP_NPY_CAPSULE, lp_npy_capsule_destructor);
    if (capsule == NULL || PyCapsule_SetContext(capsule, w) < 0) {
        Py_XDECREF(capsule);
        free(w);
        return NULL;
    }
    w->prev_capsule = Py_NewRef(prev);
    return capsule;
}

/* Stand our handler over the current context's, unless it is ours already: 0, or -1 with an
 * exception set.  lp_npy_api is set. */
static int
lp_npy_install(void)
{
    PyObject *(*get_handler)(void) = (PyObject * (*)(void)) lp_npy_api[LP_NPY_API_GET_HANDLER];
    PyObject *(*set_handler)(PyObject *) =
        (PyObject * (*)(PyObject *)) lp_npy_api[LP_NPY_API_SET_HANDLER];
    PyObject *ours = NULL, *old = NULL;
    PyObject *cur = get_handler();
    if (cur == NULL) {
        goto error;
    }
    if (lp_npy_ours(cur) != NULL) {
        Py_DECREF(cur);
        return 0;
    }
    ours = lp_npy_wrap(cur);
    if (ours == NULL) {
        goto error;
    }
    old = set_handler(ours);
    if (old == NULL) {
        goto error;
    }
    Py_DECREF(old);
    Py_DECREF(ours);
    Py_DECREF(cur);
    return 0;
error:
    Py_XDECREF(ours);
    Py_XDECREF(cur);
    return -1;
}

/* memory_watch_numpy(api) -> bool: while memory mode records, stand our handler in the current
 * context over NumPy's (idempotent), and in each other thread's at its first profiled event
 * (lp_memhook_thread_numpy).  `api` is NumPy's _ARRAY_API capsule.  False when memory mode is
 * not recording or this NumPy has no handler API (before 1.22). */
PyObject *
lp_memhook_py_watch_numpy(PyObject *module, PyObject *api_capsule)
{
    void **api = PyCapsule_GetPointer(api_capsule, NULL);
    if (api == NULL) {
        return NULL;
    }
    unsigned int (*feature_version)(void) = (unsigned int (*)(void))api[LP_NPY_API_FEATURE_VERSION];
    if (feature_version() < LP_NPY_1_22_FEATURE) {
        Py_RETURN_FALSE;
    }
    if (lp_npy_api == NULL) {
        lp_npy_api = api;
        /* Threads that had their first event before NumPy was imported get their turn. */
        lp_state(module)->npy_gen++;
    }
    if (!atomic_load(&lp_mem_tracking)) {
        Py_RETURN_FALSE;
    }
    if (lp_npy_install() < 0) {
        return NULL;
    }
    Py_RETURN_TRUE;
}

/* The event path, memory mode on: this thread's first profiled event since memory mode started
 * or NumPy was first watched.
 * A thread starts in an empty context (before 3.14), where NumPy's own handler stands: put ours
 * over it there too.  Our own allocations for it are not counted (the depth counter), and a
 * failure is dropped: the event path never raises.  Ours stays in this thread's context after
 * recording stops (stop runs in another thread), forwarding untouched. */
void
lp_memhook_thread_numpy(LPModuleState *st, LPThreadState *ts)
{
    ts->mem_npy_gen = st->npy_gen;
    if (lp_npy_api == NULL) {
        return;
    }
    PyObject *exc_type, *exc_value, *exc_tb;
    PyErr_Fetch(&exc_type, &exc_value, &exc_tb);
    lp_mem_depth++;
    if (lp_npy_install() < 0) {
        PyErr_Clear();
    }
    lp_mem_depth--;
    PyErr_Restore(exc_type, exc_value, exc_tb);
}

/* Memory mode stops: where our handler stands in the current context, the one it wrapped goes
 * back.  Elsewhere (another context, another thread's) ours stays and forwards untouched.  Never
 * raises: this runs from disable() and from a tracer's deallocation. */
static void
lp_npy_unwatch(void)
{
    if (lp_npy_api == NULL) {
        return;
    }
    PyObject *exc_type, *exc_value, *exc_tb;
    PyErr_Fetch(&exc_type, &exc_value, &exc_tb);
    PyObject *(*get_handler)(void) = (PyObject * (*)(void)) lp_npy_api[LP_NPY_API_GET_HANDLER];
    PyObject *(*set_handler)(PyObject *) =
        (PyObject * (*)(PyObject *)) lp_npy_api[LP_NPY_API_SET_HANDLER];
    PyObject *cur = get_handler();
    LPNpyWrap *w = cur != NULL ? lp_npy_ours(cur) : NULL;
    if (w != NULL) {
        Py_XDECREF(set_handler(w->prev_capsule));
    }
    Py_XDECREF(cur);
    PyErr_Clear();
    PyErr_Restore(exc_type, exc_value, exc_tb);
}

/* numpy_handler_is_ours() -> bool: tests; does our handler stand in the current context? */
PyObject *
lp_memhook_py_numpy_is_ours(PyObject *module, PyObject *Py_UNUSED(unused))
{
    (void)module;
    if (lp_npy_api == NULL) {
        Py_RETURN_FALSE;
    }
    PyObject *cur = ((PyObject * (*)(void)) lp_npy_api[LP_NPY_API_GET_HANDLER])();
    if (cur == NULL) {
        return NULL;
    }
    int ours = lp_npy_ours(cur) != NULL;
    Py_DECREF(cur);
    return PyBool_FromLong(ours);
}

/* ---- switching on and off (GIL held) ------------------------------------------------------ */

/* The first memory-mode tracer is enabled: put a wrapper of ours on top of every domain whose
 * top is not ours already.
 *
 * A wrapper of ours may still sit lower in a chain: left under another tool at the last stop
 * (see lp_memhook_stop).  A new one goes on top anyway, since the one below may have been cut
 * out meanwhile (tracemalloc.stop() puts back what it found at its start, which drops whatever
 * was installed over it since).  If the old one is still called, it is called from inside the
 * new one, where the depth counter makes it forward untouched: a block is never counted twice. */
void
lp_memhook_start(LPModuleState *st)
{
    pthread_once(&lp_mem_atfork_once, lp_mem_atfork_register);
    for (int i = 0; i < 3; i++) {
        PyMemAllocatorDomain domain = lp_mem_domain_ids[i];
        PyMemAllocatorEx cur;
        PyMem_GetAllocator(domain, &cur);
        LPMemWrapper *top = lp_mem_ours(&cur);
        if (top != NULL) {
            top->spare = 0; /* in use: not to be handed out for another installation */
            continue;
        }
        LPMemWrapper *w = lp_mem_wrappers;
        while (w != NULL && !(w->spare && w->domain == domain)) {
            w = w->next;
        }
        if (w == NULL) {
            w = calloc(1, sizeof(LPMemWrapper));
            if (w == NULL) {
                /* This domain goes uncounted; the others still work.  (No exception: the
                 * tracer is already enabled, and memory mode is best effort here.) */
                continue;
            }
            w->domain = domain;
            w->next = lp_mem_wrappers;
            lp_mem_wrappers = w;
        }
        w->spare = 0;
        w->prev = cur;
        PyMemAllocatorEx ours = {w, lp_mem_malloc, lp_mem_calloc, lp_mem_realloc, lp_mem_free};
        PyMem_SetAllocator(domain, &ours);
    }
    st->mem_gen++;
    st->npy_gen++;
    st->memory = 1;
    atomic_store(&lp_mem_tracking, 1);
}

/* The last memory-mode tracer is disabled.  Where a wrapper of ours is on top, the allocator it
 * replaced goes back.  Where another tool (tracemalloc.start(), say) wrapped ours since, putting
 * ours' predecessor back would cut that tool out, and it would still call into our wrapper
 * through its saved pointer: so ours stays in the chain, forwarding every call untouched (it
 * counts only while memory mode records).  If that tool later puts back what it found, ours is
 * on top again: the next start uses it and the next stop removes it. */
void
lp_memhook_stop(LPModuleState *st)
{
    st->memory = 0;
    atomic_store(&lp_mem_tracking, 0);
    lp_npy_unwatch();
    for (int i = 0; i < 3; i++) {
        PyMemAllocatorEx cur;
        PyMem_GetAllocator(lp_mem_domain_ids[i], &cur);
        LPMemWrapper *w = lp_mem_ours(&cur);
        if (w != NULL) {
            PyMem_SetAllocator(lp_mem_domain_ids[i], &w->prev);
            w->spare = 1;
        }
    }
    /* Blocks freed from now on are not seen; stale entries would be wrong next time. */
    lp_mem_table_clear();
}

/* memory_hook_installed() -> (raw, mem, obj): for each domain, is a wrapper of ours on top? */
PyObject *
lp_memhook_py_installed(PyObject *module, PyObject *Py_UNUSED(unused))
{
    (void)module;
    PyObject *out = PyTuple_New(3);
    if (out == NULL) {
        return NULL;
    }
    for (int i = 0; i < 3; i++) {
        PyMemAllocatorEx cur;
        PyMem_GetAllocator(lp_mem_domain_ids[i], &cur);
        PyTuple_SET_ITEM(out, i, PyBool_FromLong(lp_mem_ours(&cur) != NULL));
    }
    return out;
}

/* memory_hook_state() -> dict: tests and diagnostics. */
PyObject *
lp_memhook_py_state(PyObject *module, PyObject *Py_UNUSED(unused))
{
    (void)module;
    pthread_mutex_lock(&lp_mem_table.lock);
    unsigned long long used = lp_mem_table.used;
    unsigned long long untracked = lp_mem_table.untracked;
    pthread_mutex_unlock(&lp_mem_table.lock);
    /* Wrappers not taken off by us: in some chain under another tool's, or cut out of it. */
    long left = 0;
    for (LPMemWrapper *w = lp_mem_wrappers; w != NULL; w = w->next) {
        left += !w->spare;
    }
    return Py_BuildValue("{s:i,s:K,s:K,s:l}", "tracking", atomic_load(&lp_mem_tracking),
                         "tracked_blocks", used, "untracked_blocks", untracked, "wrappers_left",
                         left);
}
