/* cymem-pool-private.h: CymemPool internals shared by its source files
 *
 * SPDX-License-Identifier: MIT
 */

#pragma once

#include "cymem-pool.h"
#include "cymem-lock-private.h"
#include "cymem-table-private.h"

G_BEGIN_DECLS

typedef struct
{
  gpointer       data;
  GDestroyNotify destroy;
} CymemCleanup;

struct _CymemPool
{
  GObject          parent_instance;

  CymemLock        lock;       /* guards every field below but the allocator */
  CymemTable       table;      /* owned blocks: address -> requested size */
  gsize            size;       /* sum of the requested sizes in @table */
  gsize            reserved;   /* bytes of blocks being allocated under a limit */
  guint64          peak_size;
  guint64          limit;      /* 0: none; also read without the lock */
  GArray          *cleanups;   /* CymemCleanup, run last-in-first-out; lazily created */
  GThread         *foreach_thread; /* the thread inside foreach, holding the lock */

  CymemMallocFunc  malloc_func; /* NULL for the default allocator */
  CymemFreeFunc    free_func;
};

typedef enum
{
  CYMEM_POOL_STATUS_OK,
  CYMEM_POOL_STATUS_NOT_OWNED,
  CYMEM_POOL_STATUS_OVERFLOW,
  CYMEM_POOL_STATUS_NO_MEMORY,
  CYMEM_POOL_STATUS_LIMIT_EXCEEDED,
  CYMEM_POOL_STATUS_IN_FOREACH,
  CYMEM_POOL_STATUS_DIFFERENT_ALLOCATORS,
} CymemPoolStatus;

/* TRUE when the calling thread is inside this pool's foreach, and so
 * already holds its lock. */
static inline gboolean
cymem_pool_in_own_foreach (CymemPool *self)
{
  GThread *thread = __atomic_load_n (&self->foreach_thread, __ATOMIC_RELAXED);

  return G_UNLIKELY (thread != NULL) && thread == g_thread_self ();
}

/* For functions that only read the pool or a block's contents: takes the
 * lock unless this thread holds it already in foreach. Returns whether it
 * did, for cymem_pool_unlock_for_read(). */
static inline gboolean
cymem_pool_lock_for_read (CymemPool *self)
{
  if (cymem_pool_in_own_foreach (self))
    return FALSE;
  cymem_lock_acquire (&self->lock);
  return TRUE;
}

static inline void
cymem_pool_unlock_for_read (CymemPool *self,
                            gboolean   locked)
{
  if (locked)
    cymem_lock_release (&self->lock);
}

/* The pool's operations without argument checks or messages, for the C API
 * and the binding API to report failures their own way. */
CymemPoolStatus cymem_pool_alloc_internal   (CymemPool   *self,
                                             gsize        n_elements,
                                             gsize        element_size,
                                             gpointer    *mem);
CymemPoolStatus cymem_pool_realloc_internal (CymemPool   *self,
                                             gpointer     mem,
                                             gsize        n_bytes,
                                             gpointer    *new_mem);
CymemPoolStatus cymem_pool_free_internal    (CymemPool   *self,
                                             gpointer     mem);
/* Copies @n_copy bytes of @src into a new zeroed block of @n_alloc bytes. */
CymemPoolStatus cymem_pool_copy_internal    (CymemPool     *self,
                                             gconstpointer  src,
                                             gsize          n_copy,
                                             gsize          n_alloc,
                                             gpointer      *mem);
CymemPoolStatus cymem_pool_steal_internal   (CymemPool   *self,
                                             CymemPool   *from,
                                             gpointer     mem);
/* Critical for a status that is a misuse: not owned, inside foreach,
 * different allocators. */
void            cymem_pool_warn_status      (CymemPool       *self,
                                             CymemPoolStatus  status,
                                             const char      *func,
                                             gconstpointer    mem);
/* Bytes the pool may still grow by under its limit; G_MAXSIZE if none.
 * Call with the lock held. */
gsize           cymem_pool_headroom_locked  (CymemPool   *self);
/* Records that the pool grew; call with the lock held. */
void            cymem_pool_note_growth_locked (CymemPool *self);

G_END_DECLS
