/* linestats.c: per-code line tables.
 *
 * A data structure, no policy: an LPCodeEntry maps a code object's lines to dense rows and lists
 * the {hits, ns} cells that events for this code add to (one array of cells per enabled
 * profiler that registered it).  Which lines share a row is decided by Python (canon[]).
 */
#include "lineprof.h"

#include <string.h>

LPCodeEntry *
lp_linestats_create(LPModuleState *st, PyObject *code, int first_line, const int32_t *canon,
                    int nlines, int start_offset)
{
    LPCodeEntry *entry = PyMem_Calloc(1, sizeof(LPCodeEntry));
    if (entry == NULL) {
        PyErr_NoMemory();
        return NULL;
    }
    entry->canon = PyMem_Malloc(sizeof(int32_t) * (size_t)(nlines > 0 ? nlines : 1));
    if (entry->canon == NULL) {
        PyErr_NoMemory();
        goto error;
    }
    if (nlines > 0) {
        memcpy(entry->canon, canon, sizeof(int32_t) * (size_t)nlines);
    }
    for (int i = 0; i < LP_OFFSET_CACHE_SIZE; i++) {
        entry->offset_cache[i].offset = -1;
    }
    entry->first_line = first_line;
    entry->nlines = nlines;
    entry->start_offset = start_offset;
    if (PyUnstable_Code_SetExtra(code, st->extra_index, entry) < 0) {
        goto error;
    }
    entry->code = Py_NewRef(code);
    entry->next = st->entries;
    if (st->entries != NULL) {
        st->entries->prev = entry;
    }
    st->entries = entry;
    return entry;

error:
    PyMem_Free(entry->canon);
    PyMem_Free(entry);
    return NULL;
}

/* The caller has detached every sink, removed every owner and disarmed the events. */
void
lp_linestats_free(LPModuleState *st, LPCodeEntry *entry)
{
    if (entry->prev != NULL) {
        entry->prev->next = entry->next;
    }
    else {
        st->entries = entry->next;
    }
    if (entry->next != NULL) {
        entry->next->prev = entry->prev;
    }
    /* No epoch bump here: frames are pushed only for entries with sinks, and the entry lost
     * its last sink earlier (lp_reg_unlisten bumped the epoch then), so no frame of the current
     * epoch points at it.  Bumping here dropped the stacks of every thread recording for other
     * profilers whenever an unrelated, disabled profiler was freed (by the cyclic GC, at any
     * allocation): their lines in progress lost their time. */
    if (PyUnstable_Code_SetExtra(entry->code, st->extra_index, NULL) < 0) {
        PyErr_WriteUnraisable(entry->code);
    }
    Py_DECREF(entry->code);
    PyMem_Free(entry->canon);
    PyMem_Free(entry->owners);
    PyMem_Free(entry->sinks);
    PyMem_Free(entry->sinks_since);
    PyMem_Free(entry);
}

int
lp_linestats_has_owner(const LPCodeEntry *entry, const void *owner)
{
    for (int i = 0; i < entry->nowners; i++) {
        if (entry->owners[i] == owner) {
            return 1;
        }
    }
    return 0;
}

int
lp_linestats_add_owner(LPCodeEntry *entry, void *owner)
{
    if (entry->nowners == entry->cap) {
        int cap = entry->cap ? entry->cap * 2 : 2;
        void **owners = PyMem_Realloc(entry->owners, sizeof(void *) * (size_t)cap);
        if (owners == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        entry->owners = owners;
        LPLineCell **sinks = PyMem_Realloc(entry->sinks, sizeof(LPLineCell *) * (size_t)cap);
        if (sinks == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        entry->sinks = sinks;
        uint64_t *since = PyMem_Realloc(entry->sinks_since, sizeof(uint64_t) * (size_t)cap);
        if (since == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        entry->sinks_since = since;
        entry->cap = cap;
    }
    entry->owners[entry->nowners++] = owner;
    return 0;
}

void
lp_linestats_remove_owner(LPCodeEntry *entry, void *owner)
{
    for (int i = 0; i < entry->nowners; i++) {
        if (entry->owners[i] == owner) {
            entry->owners[i] = entry->owners[--entry->nowners];
            return;
        }
    }
}

/* sinks[] never outgrows owners[]: only owners attach, each at most once. */
void
lp_linestats_attach_sink(LPCodeEntry *entry, LPLineCell *cells, uint64_t since)
{
    entry->sinks_since[entry->nsinks] = since;
    entry->sinks[entry->nsinks++] = cells;
}

void
lp_linestats_detach_sink(LPCodeEntry *entry, LPLineCell *cells)
{
    for (int i = 0; i < entry->nsinks; i++) {
        if (entry->sinks[i] == cells) {
            entry->nsinks--;
            entry->sinks[i] = entry->sinks[entry->nsinks];
            entry->sinks_since[i] = entry->sinks_since[entry->nsinks];
            return;
        }
    }
}

/* The row of the line holding bytecode `offset`: where a generator resumes or is thrown into.
 * CPython only tells us the offset there.  PyCode_Addr2Line scans the line table, so the few
 * resume points of a generator are cached. */
int
lp_linestats_row_for_offset(LPCodeEntry *entry, int offset)
{
    if (offset < 0) {
        return -1;
    }
    int slot = (offset / 2) % LP_OFFSET_CACHE_SIZE;
    if (entry->offset_cache[slot].offset == offset) {
        return entry->offset_cache[slot].row;
    }
    int line = PyCode_Addr2Line((PyCodeObject *)entry->code, offset);
    int i = line - entry->first_line;
    int row = (line < 0 || i < 0 || i >= entry->nlines) ? -1 : entry->canon[i];
    entry->offset_cache[slot].offset = offset;
    entry->offset_cache[slot].row = row;
    return row;
}
