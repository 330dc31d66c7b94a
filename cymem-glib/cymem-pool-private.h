/* cymem-pool-private.h: CymemPool internals shared by its source files
 *
 * SPDX-License-Identifier: MIT
 */

#pragma once

#include "cymem-pool.h"
#include "cymem-lock-private.h"
#include "cymem-table-private.h"
#include "cymem-chunk-private.h"

G_BEGIN_DECLS

typedef struct
{
  gpointer       data;
  GDestroyNotify destroy;
} CymemCleanup;

/* Pools a pool keeps pinned, and referenced: see cymem_pool_add_debtor_locked(). */
typedef struct
{
  CymemPool **pools;
  guint       len;
  guint       capacity;
} CymemDebtors;

/* What most pools never use, allocated on first need, so that a pool of one
 * block (one per list item, say) stays small: see cymem_pool_extra(). Each
 * field is guarded as it was in the pool itself (see below). */
typedef struct
{
  gsize            reserved;   /* @lock: bytes of blocks being allocated under a limit */
  guint64          limit;      /* 0: none; also read without the lock */
  GArray          *cleanups;   /* @lock: CymemCleanup, run last-in-first-out */
  /* The links between pools, guarded by the process-wide tree lock in
   * cymem-pool-tree.c, not by @lock. None is a reference. */
  CymemPool       *parent;     /* the pool that made or first owned this one */
  GPtrArray       *children;   /* the pools this one is the parent of */
  GPtrArray       *holders;    /* every pool holding this one: owners through
                                * own_object/new_child, and through attach */
  CymemDebtors     debtors;    /* @lock: pools that took blocks from this one while
                                * it had readers: pinned until its readers are gone */
  CymemDebtors     passed_debtors; /* @lock: pools that took blocks from this one
                                * while it owed memory to others: pinned until it
                                * owes none */
  gchar           *name;       /* @lock */
  gboolean         holds_attached; /* a pool was attached to this one (tree lock) */
  CymemMallocFunc  malloc_func; /* NULL for the default allocator; set before */
  CymemFreeFunc    free_func;   /* the pool is shared, never changed after */
} CymemPoolExtra;

struct _CymemPool
{
  GObject          parent_instance;

  CymemLock        lock;       /* guards the fields below, as marked */
  guint16          n_small;    /* small blocks made with malloc() (atomic; it
                                * may wrap once the heap is refused) */
  gint8            finalizing; /* set when finalize starts: never ref the pool again */
  gint8            tree_limited; /* it or an ancestor has a limit; written under @lock
                                  * and the tree lock, read without them too */
  CymemTable       table;      /* @lock: owned blocks: address -> requested size;
                                * table.pins counts walks, copies and clears
                                * in progress (see the protocol in cymem-pool.c),
                                * table.debt_pins those of them held for other
                                * pools; the rest are this pool's readers.
                                * table.heap holds the chunks for small blocks, made
                                * once the pool has made CYMEM_HEAP_START of them
                                * with malloc(): set once under @lock, read without
                                * it (cymem_pool_heap()), freed at finalize */
  gsize            size;       /* @lock: sum of the requested sizes of the live blocks */
  guint64          peak_size;  /* @lock */
  GType            owner_type; /* the type of the first object it was attached to */
  CymemPoolExtra  *extra;      /* cymem_pool_extra(): &cymem_pool_no_extra until
                                * first needed, then set once (atomic) */
};

/* The fields of a pool that has no CymemPoolExtra yet: all zero, read-only
 * (a write through it faults rather than changing every pool). */
extern const CymemPoolExtra cymem_pool_no_extra;

/* The pool's rarely used fields, to read; never NULL. */
G_ALWAYS_INLINE static inline CymemPoolExtra *
cymem_pool_extra (CymemPool *self)
{
  return __atomic_load_n (&self->extra, __ATOMIC_ACQUIRE);
}

/* The same, to write: allocates them on first use (outside any pool lock:
 * call it before taking one). */
CymemPoolExtra *cymem_pool_extra_ensure (CymemPool *self);

/* The pool's heap, or NULL; read without the lock. */
G_ALWAYS_INLINE static inline CymemHeap *
cymem_pool_heap (CymemPool *self)
{
  return __atomic_load_n (&self->table.heap, __ATOMIC_ACQUIRE);
}

typedef enum
{
  CYMEM_POOL_STATUS_OK,
  CYMEM_POOL_STATUS_NOT_OWNED,
  CYMEM_POOL_STATUS_OVERFLOW,
  CYMEM_POOL_STATUS_NO_MEMORY,
  CYMEM_POOL_STATUS_LIMIT_EXCEEDED,
  CYMEM_POOL_STATUS_DIFFERENT_ALLOCATORS,
  CYMEM_POOL_STATUS_BUSY,           /* see cymem_pool_add_debtor_locked() */
} CymemPoolStatus;

/* A quark made on first use, race-free: G_DEFINE_QUARK's lazy plain
 * store is a data race between threads that make it at once. */
static inline GQuark
cymem_quark_once (GQuark      *quark,
                  const gchar *name)
{
  GQuark q = __atomic_load_n (quark, __ATOMIC_ACQUIRE);

  if (G_UNLIKELY (q == 0))
    {
      q = g_quark_from_static_string (name);
      __atomic_store_n (quark, q, __ATOMIC_RELEASE);
    }
  return q;
}

/* Takes a reference for the length of a call that may run user code,
 * unless the pool is being finalized (a reference then would resurrect
 * it). Returns whether it did, for cymem_pool_unhold(). */
static inline gboolean
cymem_pool_hold (CymemPool *self)
{
  if (__atomic_load_n (&self->finalizing, __ATOMIC_RELAXED))
    return FALSE;
  g_object_ref (self);
  return TRUE;
}

static inline void
cymem_pool_unhold (CymemPool *self,
                   gboolean   held)
{
  if (held)
    g_object_unref (self);
}

/* Drops a pin taken under the lock, then releases the lock; the last pin
 * releases the memory of the blocks freed while it was held, and the pins
 * it holds on its debtors. */
void            cymem_pool_unpin_unlock     (CymemPool   *self);
/* TRUE while a walk, copy or cleanup of @self is in progress. Call with
 * the lock held. */
static inline gboolean
cymem_pool_has_readers_locked (CymemPool *self)
{
  return self->table.pins > self->table.debt_pins;
}

/* With both pools locked, as a steal does: a block moves from @self to
 * @debtor while a reader of @self, or of a pool @self owes memory to, may
 * be reading it. @debtor then keeps the memory it frees until they are
 * done: while @self has readers, it is a debtor of @self; while @self only
 * owes (it took the block from a pool with readers), it becomes a debtor of
 * @self's debt, released when @self owes nothing. So that debts cannot form
 * a cycle, a pool that others owe to takes on no passed debt (the block is
 * then unprotected: see the function). A pool being finalized could keep
 * nothing: the steal is refused (CYMEM_POOL_STATUS_BUSY). Returns the
 * status. */
CymemPoolStatus cymem_pool_add_debtor_locked (CymemPool  *self,
                                              CymemPool  *debtor);

/* Allocation in two steps, so that a copy is written into a block before
 * any other thread can see it: cymem_pool_block_new() allocates outside
 * the lock (reserving the bytes under a limit), cymem_pool_record() puts
 * the block in the table, re-checking the limit, or frees it on failure. */
CymemPoolStatus cymem_pool_block_new        (CymemPool   *self,
                                             gsize        n_bytes,
                                             gpointer    *mem,
                                             gsize       *reserved);
CymemPoolStatus cymem_pool_record           (CymemPool   *self,
                                             gpointer     mem,
                                             gsize        n_bytes,
                                             gsize        reserved);

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
/* On failure *@n_bytes is the block's size if it was known, or 0. */
CymemPoolStatus cymem_pool_steal_internal   (CymemPool   *self,
                                             CymemPool   *from,
                                             gpointer     mem,
                                             gsize       *n_bytes);
/* Critical for a status that is a misuse: not owned, different
 * allocators. */
void            cymem_pool_warn_status      (CymemPool       *self,
                                             CymemPoolStatus  status,
                                             const char      *func,
                                             gconstpointer    mem);
/* Makes @holder own @child, taking over a reference to it, and become its
 * parent if it has none; FALSE, changing nothing, if @child holds @holder
 * already, directly or through other pools (a cycle). */
gboolean        cymem_pool_link_child       (CymemPool   *holder,
                                             CymemPool   *child);
/* Attaches @pool to @owner when @owner is a pool; see cymem_pool_attach(). */
typedef enum
{
  CYMEM_POOL_LINK_OK,
  CYMEM_POOL_LINK_CYCLE,
  CYMEM_POOL_LINK_TAKEN,   /* @owner holds another pool (or this one) already */
} CymemPoolLinkStatus;
CymemPoolLinkStatus cymem_pool_link_owner   (CymemPool   *pool,
                                             CymemPool   *owner,
                                             GQuark       quark);
/* Forgets that @owner holds @pool through attach. */
void            cymem_pool_unlink_owner     (CymemPool   *pool,
                                             CymemPool   *owner);
/* TRUE for the cleanup through which a pool owns another, with its child. */
gboolean        cymem_pool_cleanup_is_link  (const CymemCleanup *cleanup,
                                             gpointer            object);
/* Frees the link arrays of a finalized pool. */
void            cymem_pool_tree_finalize    (CymemPool   *pool);
/* "pool 0x... 'name'", for messages: in one of two buffers of the calling
 * thread, so that a message may name two pools (cymem-pool-report.c). */
const gchar    *cymem_pool_label            (gpointer     pool);
/* Called by finalize: the debug log, and the registry of live pools kept
 * for CYMEM_DEBUG=leaks (cymem-pool-report.c). */
void            cymem_pool_debug_init       (void);
void            cymem_pool_debug_register   (CymemPool   *pool);
void            cymem_pool_debug_finalize   (CymemPool   *pool);
/* With the tree lock held: appends @pool's subtree report to @out. */
void            cymem_pool_report_locked    (CymemPool   *pool,
                                             GString     *out,
                                             guint        depth);

/* Budgets across trees (cymem-pool-tree.c). A pool in a limited tree (it
 * or an ancestor has a limit) grows only with the process-wide tree lock
 * held, so that the totals of a limited tree can only shrink while a growth
 * is checked against them. cymem_pool_tree_fits() is called with the tree
 * lock and no pool lock held: whether @pool may grow by @n_bytes under every
 * limit bounding it, @reserved of them being its own reservation (already
 * counted), with @from's subtree not counted twice (a steal within a tree). */
void            cymem_pool_tree_lock        (void);
void            cymem_pool_tree_unlock      (void);
gboolean        cymem_pool_tree_fits        (CymemPool   *pool,
                                             gsize        n_bytes,
                                             gsize        reserved,
                                             CymemPool   *from);
/* The size of @pool and its descendants, with the tree lock held. */
guint64         cymem_pool_total_size_locked (CymemPool  *pool);
/* Sets the limit and which pools of the subtree are limited. */
void            cymem_pool_tree_set_limit   (CymemPool   *pool,
                                             guint64      limit);
/* Records that the pool grew; call with the lock held. */
void            cymem_pool_note_growth_locked (CymemPool *self);

G_END_DECLS
