/* cymem-pool.c: a GObject that owns C memory
 *
 * SPDX-License-Identifier: MIT
 */

/**
 * CymemPool:
 *
 * A pool of zeroed memory blocks whose lifetime is tied to a GObject.
 *
 * A `CymemPool` hands out zeroed blocks with [method@Cymem.Pool.alloc],
 * records each one in its table of owned addresses, and frees every block it
 * still owns when it is cleared ([method@Cymem.Pool.clear]) or finalized.
 * Nested C structures built from pool memory therefore need no deallocator:
 * drop the pool and everything goes with it.
 *
 * A block can be released early with [method@Cymem.Pool.free] or resized
 * with [method@Cymem.Pool.realloc]. The pool rejects any pointer it does not
 * own (another pool's block, an interior pointer, a block already freed) with
 * a critical warning, and frees nothing in that case.
 *
 * Besides memory, a pool can keep arbitrary data ([method@Cymem.Pool.own])
 * and object references ([method@Cymem.Pool.own_object]). Their cleanups run
 * last-in-first-out, and always before any block is freed, so a cleanup may
 * still read pool memory.
 *
 * A pool can be attached to any GObject ([method@Cymem.Pool.attach]); the
 * owner then holds a reference to the pool, and the pool's memory stays valid
 * until after the owner's own `finalize` has run.
 *
 * Every function may be called on the same pool from several threads at once.
 *
 * Since: 1.0
 */

#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "cymem-pool-private.h"

/* The concurrency and lifetime protocol (docs/threads.md says what it
 * promises users):
 *
 * 1. The lock guards the table, the sizes, the limit and the cleanups, and
 *    nothing else. It is never held across a user callback (cleanups,
 *    foreach functions), an allocator call or a copy of block contents, so
 *    no call made from any of those can deadlock on it, and holders are
 *    always short (the one exception is growing the table's arrays).
 * 2. A block becomes visible to other threads only when it enters the
 *    table, after it was allocated, zeroed and (for the copies) filled.
 * 3. Pins: a walk (foreach), a copy in or out of a block (read, write,
 *    realloc) and a clear or finalize while its cleanups run each hold a pin
 *    on the table. While any pin is held, no block's memory is released: a
 *    free removes the block from the index at once (nobody finds it, size
 *    and count drop) but keeps its entry, flagged dead, and the last pin to
 *    go releases the dead blocks outside the lock. So a block handed to a
 *    foreach callback or read by a cleanup stays readable until they
 *    return, whatever other threads do, and entries do not move while
 *    pinned, which lets a walk go by index and drop the lock between
 *    entries.
 * 4. Clear and finalize pop the cleanups one at a time, newest first,
 *    leaving the rest in the pool (so disown_object() still finds them),
 *    and run each with the lock dropped. A clear runs as many cleanups as
 *    the pool had when it started plus those its own cleanups add, then
 *    takes the blocks the table holds at that moment: it is bounded even
 *    while other threads keep allocating. If another pin is still held
 *    (a second clear's cleanup, a walk) the blocks are killed, not freed.
 * 5. Anything that can run user code holds a reference on the pool for its
 *    length (cymem_pool_hold()), except on a pool being finalized, which is
 *    used as it is: a reference then would resurrect it.
 */

/* Below this size malloc()+memset() is cheaper than calloc(), which skips
 * glibc's per-thread cache; above it calloc() can hand out fresh pages
 * without touching them. */
#define CYMEM_CALLOC_THRESHOLD (64 * 1024)

G_DEFINE_FINAL_TYPE (CymemPool, cymem_pool, G_TYPE_OBJECT)

/* GObject's finalize, taken once in class_init (atomic: see there). */
static void (*parent_finalize) (GObject *object);

enum {
  PROP_0,
  PROP_SIZE,
  PROP_N_ALLOCATIONS,
  PROP_LIMIT,
  PROP_PEAK_SIZE,
  PROP_TOTAL_SIZE,
  PROP_NAME,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

/* CYMEM_IS_POOL() calls cymem_pool_get_type() on every use. The type is
 * final, so on the allocation paths an exact match with the type cached in
 * class_init says the same thing more cheaply; anything else still gets the
 * full check, and its message. */
static GType cymem_pool_type;   /* atomic: see class_init */
/* Keeps the call before it from being made a jump, so that it leaves the
 * caller's frame in the stack. */
#define CYMEM_NO_TAIL_CALL(value) __asm__ volatile ("" : : "r" (value) : "memory")
/* The same with no call, for the fast paths: FALSE for a subtype too. */
#define CYMEM_IS_POOL_QUICK(obj) \
  ((obj) != NULL && ((GTypeInstance *) (obj))->g_class != NULL && \
   ((GTypeInstance *) (obj))->g_class->g_type == __atomic_load_n (&cymem_pool_type, __ATOMIC_RELAXED))
#define CYMEM_IS_POOL_FAST(obj) (CYMEM_IS_POOL_QUICK (obj) || CYMEM_IS_POOL (obj))

/* An owner's qdata is guarded by GLib's bit lock, which ThreadSanitizer
 * cannot see: a pool published there would look unsynchronized to a thread
 * that reads it back. A release read-modify-write before publishing, and an
 * acquire load after reading back, make the order visible (a no-op
 * read-modify-write, so that it never loses a concurrent update). */
static inline void
pool_publish (CymemPool *pool)
{
  __atomic_fetch_add (&pool->n_small, 0, __ATOMIC_RELEASE);
}

/* For g_object_dup_qdata(), which calls it under the qdata lock, while the
 * owner's reference keeps the pool alive: a detach on another thread drops
 * that reference only after taking the pool out, under the same lock. */
static gpointer
pool_consume (gpointer data,
              gpointer user_data)
{
  CymemPool *pool = data;

  if (pool != NULL)
    {
      (void) __atomic_load_n (&pool->n_small, __ATOMIC_ACQUIRE);
      if (user_data != NULL)  /* the caller wants a reference of its own */
        g_object_ref (pool);
    }
  return pool;
}

/* The qdata key under which an owner holds its pool. */
static GQuark
cymem_pool_owner_quark (void)
{
  static GQuark quark;

  return cymem_quark_once (&quark, "cymem-pool-owner");
}

/* The pool attached to @owner, read without touching it outside the qdata
 * lock (another thread may detach and free it right after); with a
 * reference of the caller's own when @ref. */
static CymemPool *
pool_lookup (GObject  *owner,
             gboolean  ref)
{
  return g_object_dup_qdata (owner, cymem_pool_owner_quark (), pool_consume,
                             ref ? GINT_TO_POINTER (1) : NULL);
}

/* Small blocks of a pool with a heap come from its chunks (see
 * cymem-chunk-private.h). Returns a carved block, not zeroed, or NULL when
 * the pool is still small (or CYMEM_DEBUG=malloc, or no chunk could be
 * had): the caller then uses malloc(). Takes the lock, but never across the
 * chunk's allocation. */
static G_GNUC_NO_INLINE gpointer
pool_chunk_carve (CymemPool *self,
                  gsize      n_bytes)
{
  CymemHeap *heap = cymem_pool_heap (self), *new_heap = NULL;
  CymemChunk *chunk;
  guint slot = 0;
  gpointer mem;

  if (heap == NULL)
    {
      if (__atomic_add_fetch (&self->n_small, 1, __ATOMIC_RELAXED) <= CYMEM_HEAP_START ||
          !cymem_heap_enabled ())
        return NULL;
      new_heap = cymem_heap_new (&self->lock);
      if (new_heap == NULL)
        return NULL;
    }
  else
    {
      cymem_lock_acquire (&self->lock);
      mem = cymem_heap_carve (heap, n_bytes, &chunk, &slot);
      if (mem != NULL)
        chunk->entry_of[slot] = G_MAXUINT32;
      cymem_lock_release (&self->lock);
      if (mem != NULL)
        return mem;
    }

  CYMEM_PERTURB ();
  chunk = cymem_chunk_new (n_bytes);
  if (chunk == NULL)
    {
      cymem_heap_destroy (new_heap);
      return NULL;
    }

  cymem_lock_acquire (&self->lock);
  heap = self->table.heap;
  if (heap == NULL)
    {
      heap = new_heap;
      __atomic_store_n (&self->table.heap, heap, __ATOMIC_RELEASE);
      new_heap = NULL;
    }
  cymem_heap_add (heap, chunk);
  mem = cymem_heap_carve (heap, n_bytes, &chunk, &slot);
  /* No entry yet: a lookup of the block before it is recorded finds none. */
  chunk->entry_of[slot] = G_MAXUINT32;
  cymem_lock_release (&self->lock);

  cymem_heap_destroy (new_heap);  /* another thread made the heap first */
  return mem;
}

/* Inlined, like pool_alloc(): they are the allocation fast path. */
G_ALWAYS_INLINE static inline gpointer
pool_block_new (CymemPool *self,
                gsize      n_bytes)
{
  gpointer mem;

  if (cymem_pool_extra (self)->malloc_func == NULL)
    {
      if (n_bytes <= CYMEM_HEAP_MAX)
        {
          mem = pool_chunk_carve (self, n_bytes);
          if (mem != NULL)
            {
              cymem_chunk_zero (mem, n_bytes);
              return mem;
            }
        }
      else if (n_bytes >= CYMEM_CALLOC_THRESHOLD)
        return calloc (1, n_bytes);
      /* malloc (0): a unique block in which memory tools see no byte to
       * write (glibc never returns NULL for it; a libc that may gets 1). */
      mem = malloc (n_bytes);
      if (G_UNLIKELY (mem == NULL && n_bytes == 0))
        mem = malloc (1);
    }
  else
    {
      /* g_malloc (0) returns NULL, which would read as a failure. */
      mem = cymem_pool_extra (self)->malloc_func (MAX (n_bytes, 1));
    }

  if (mem != NULL)
    memset (mem, 0, n_bytes);

  return mem;
}

/* A block carved from a chunk, outside the lock: back to its slot, or to
 * the pool it was borrowed from. */
static G_GNUC_NO_INLINE void
pool_chunk_free (CymemPool *self,
                 gpointer   mem)
{
  CymemHeap *heap = cymem_pool_heap (self);
  CymemChunk *empty;

  if (!cymem_heap_owns_chunk_of (heap, mem))
    {
      cymem_chunk_free_lent (mem);
      return;
    }
  cymem_lock_acquire (&self->lock);
  empty = cymem_heap_free (heap, mem, cymem_chunk_slot_of (cymem_chunk_of (mem), mem));
  cymem_lock_release (&self->lock);
  if (empty != NULL)
    cymem_chunk_release (empty);
}

/* pool_block_free() for a pool with the default allocator. */
G_ALWAYS_INLINE static inline void
pool_block_free_default (gpointer mem,
                         gsize    n_bytes,
                         gpointer user_data)
{
  /* A block past the largest class was never carved (some callers pass 0:
   * those ask the registry). */
  if (n_bytes <= CYMEM_HEAP_MAX && cymem_chunk_contains (mem))
    pool_chunk_free (user_data, mem);
  else
    free (mem);
}

/* Inlined where it is called (its address is a drain's function too). */
G_ALWAYS_INLINE static inline void
pool_block_free (gpointer mem,
                 gsize    n_bytes,
                 gpointer user_data)
{
  CymemPool *self = user_data;
  CymemFreeFunc free_func = cymem_pool_extra (self)->free_func;

  if (free_func != NULL)
    free_func (mem);
  else
    pool_block_free_default (mem, n_bytes, self);
}

/* Finalize's release of a block of the pool's own chunks, under a memory
 * tool: only forgotten, since its chunk goes whole. */
static void
pool_block_forget (gpointer mem,
                   gsize    n_bytes,
                   gpointer user_data)
{
  cymem_heap_forget (mem);
}

void
cymem_pool_warn_status (CymemPool       *self,
                        CymemPoolStatus  status,
                        const char      *func,
                        gconstpointer    mem)
{
  switch (status)
    {
    case CYMEM_POOL_STATUS_NOT_OWNED:
      g_critical ("%s: %p is not a block owned by %s (a foreign, interior or "
                  "already freed pointer); nothing was changed",
                  func, mem, cymem_pool_label (self));
      break;
    case CYMEM_POOL_STATUS_DIFFERENT_ALLOCATORS:
      g_critical ("%s: pools with different allocators cannot exchange blocks; "
                  "nothing was changed", func);
      break;
    default:
      break;
    }
}

void
cymem_pool_note_growth_locked (CymemPool *self)
{
  if (self->size > self->peak_size)
    self->peak_size = self->size;
}

/* The pools this thread is clearing or finalizing, innermost first, so
 * that a cleanup trying to clear its own pool can be refused, and so that
 * a cleanup registered by a cleanup adds to the clear's budget. Several
 * threads may clear one pool at once; each only sees its own frames. */
typedef struct ReleaseFrame ReleaseFrame;
struct ReleaseFrame
{
  CymemPool    *pool;
  ReleaseFrame *outer;
  guint         budget;  /* cleanups this clear may still run */
};
static _Thread_local ReleaseFrame *releasing;

static ReleaseFrame *
pool_release_frame (CymemPool *self)
{
  for (ReleaseFrame *frame = releasing; frame != NULL; frame = frame->outer)
    if (frame->pool == self)
      return frame;
  return NULL;
}

#define REAP_BATCH 64

/* Releases the memory of the blocks freed while the table was pinned, in
 * batches so that no allocation is needed and the lock is held briefly:
 * each batch looks at a bounded stretch of the table, from where the last
 * one stopped. */
static G_GNUC_NO_INLINE void
pool_reap (CymemPool *self)
{
  gpointer dead[REAP_BATCH];
  guint n, cursor = 0, idle = 0;
  gboolean more;

  do
    {
      CYMEM_PERTURB ();
      cymem_lock_acquire (&self->lock);
      n = 0;
      more = FALSE;
      if (self->table.pins == 0)
        {
          n = cymem_table_reap (&self->table, dead, REAP_BATCH, &cursor);
          /* Some dead block is within a lap of the table; the bound on
           * stretches that find none only guards against a miscount. */
          idle = n > 0 ? 0 : idle + 1;
          more = self->table.n_dead > 0 &&
                 idle <= self->table.n_entries / CYMEM_TABLE_REAP_SCAN + 1;
        }
      cymem_lock_release (&self->lock);
      for (guint i = 0; i < n; i++)
        pool_block_free (dead[i], 0, self);
    }
  while (more);
}

static gboolean
debtors_push (CymemDebtors *debtors,
              CymemPool    *debtor)
{
  if (debtors->len == debtors->capacity)
    {
      guint capacity = MAX (4, debtors->capacity * 2);
      CymemPool **pools = g_try_renew (CymemPool *, debtors->pools, capacity);

      if (pools == NULL)
        return FALSE;
      debtors->pools = pools;
      debtors->capacity = capacity;
    }
  debtors->pools[debtors->len++] = g_object_ref (debtor);
  debtor->table.pins++;
  debtor->table.debt_pins++;
  return TRUE;
}

CymemPoolStatus
cymem_pool_add_debtor_locked (CymemPool *self,
                              CymemPool *debtor)
{
  gboolean readers = cymem_pool_has_readers_locked (self);
  gboolean owes = self->table.debt_pins > 0;
  CymemDebtors *debtors;

  if (!readers && !owes)
    return CYMEM_POOL_STATUS_OK;  /* nobody can be reading the block */
  /* A pool being finalized keeps nothing past its finalize. */
  if (__atomic_load_n (&debtor->finalizing, __ATOMIC_RELAXED))
    return CYMEM_POOL_STATUS_BUSY;
  /* While @self owes memory (with or without readers of its own), the
   * block may be read by a walk of a pool @self owes to: @debtor waits
   * until @self has no pin at all. Only an idle pool takes on such a debt
   * (no pin, nobody owing it): a pool that is walked, owes or is owed could
   * close a cycle of debts, which would never be paid, or keep two pools
   * paying each other's debts for as long as a third thread moves blocks
   * between them (a steal back and forth did, in the soundness test). Such
   * a pool only waits for @self's own readers, if any. That leaves one
   * case unprotected (documented): a block passed on twice into a busy
   * pool. A block that comes back to the pool being walked, as a steal
   * back and forth does, is kept by that pool's own pins. */
  if (owes && debtor->table.pins == 0 &&
      cymem_pool_extra (debtor)->debtors.len == 0 &&
      cymem_pool_extra (debtor)->passed_debtors.len == 0)
    debtors = &cymem_pool_extra_ensure (self)->passed_debtors;
  else if (readers)
    debtors = &cymem_pool_extra_ensure (self)->debtors;
  else
    return CYMEM_POOL_STATUS_OK;
  if (!debtors_push (debtors, debtor))
    return CYMEM_POOL_STATUS_NO_MEMORY;
  return CYMEM_POOL_STATUS_OK;
}

/* Called with the lock held: hands over the debtors whose debt is paid,
 * for pool_release_debtors() after the lock is released. Those owed to
 * readers go once the pool has no reader (*@readers_paid); those owed to
 * the pool's own debts once it has no pin at all (*@passed_paid). */
static inline void
pool_take_debtors_locked (CymemPool    *self,
                          CymemDebtors *readers_paid,
                          CymemDebtors *passed_paid)
{
  static const CymemDebtors none = { NULL, 0, 0 };
  CymemPoolExtra *extra = cymem_pool_extra (self);

  *readers_paid = none;
  *passed_paid = none;
  if (G_LIKELY (extra->debtors.len == 0 && extra->passed_debtors.len == 0))
    return;
  if (extra->debtors.len > 0 && !cymem_pool_has_readers_locked (self))
    {
      *readers_paid = extra->debtors;
      extra->debtors = none;
    }
  if (extra->passed_debtors.len > 0 && self->table.pins == 0)
    {
      *passed_paid = extra->passed_debtors;
      extra->passed_debtors = none;
    }
}

static G_GNUC_NO_INLINE void
pool_release_debtors (CymemDebtors *debtors)
{
  for (guint i = 0; i < debtors->len; i++)
    {
      CymemPool *debtor = debtors->pools[i];

      cymem_lock_acquire (&debtor->lock);
      debtor->table.debt_pins--;
      cymem_pool_unpin_unlock (debtor);
      g_object_unref (debtor);
    }
  g_free (debtors->pools);
}

void
cymem_pool_unpin_unlock (CymemPool *self)
{
  gboolean reap;
  CymemDebtors readers_paid, passed_paid;

  self->table.pins--;
  reap = self->table.pins == 0 && self->table.n_dead > 0;
  pool_take_debtors_locked (self, &readers_paid, &passed_paid);
  cymem_lock_release (&self->lock);

  /* The memory first: a passed debtor may be waiting for exactly that. */
  if (G_UNLIKELY (reap))
    pool_reap (self);
  if (G_UNLIKELY (readers_paid.len > 0))
    pool_release_debtors (&readers_paid);
  if (G_UNLIKELY (passed_paid.len > 0))
    pool_release_debtors (&passed_paid);
}

/* Clear and finalize (see rule 4 of the protocol). A finalize runs every
 * cleanup, however many there are: no other thread can add one then. */
static void
pool_release_all (CymemPool *self,
                  gboolean   finalizing)
{
  ReleaseFrame frame = { self, releasing, 0 };
  CymemTable blocks = CYMEM_TABLE_INIT;
  CymemDebtors readers_paid, passed_paid;
  CymemTableFunc free_block;
  GArray *cleanups;

  releasing = &frame;

  cymem_lock_acquire (&self->lock);
  self->table.pins++;
  /* Set once, under the lock: a cleanup may add the array, never drop it. */
  cleanups = cymem_pool_extra (self)->cleanups;
  frame.budget = cleanups != NULL ? cleanups->len : 0;
  while ((cleanups = cymem_pool_extra (self)->cleanups) != NULL && cleanups->len > 0 &&
         (finalizing || frame.budget > 0))
    {
      CymemCleanup cleanup = g_array_index (cleanups, CymemCleanup, cleanups->len - 1);

      g_array_set_size (cleanups, cleanups->len - 1);
      if (frame.budget > 0)
        frame.budget--;
      cymem_lock_release (&self->lock);

      CYMEM_PERTURB ();
      cleanup.destroy (cleanup.data);

      cymem_lock_acquire (&self->lock);
    }

  /* Every cleanup this clear ran has returned. If none of any other clear
   * is still running and nobody walks the pool, its blocks can go now;
   * otherwise they are killed, and the last pin releases them. */
  self->table.pins--;
  if (self->table.pins == 0)
    cymem_table_take (&blocks, &self->table);
  else
    cymem_table_kill_all (&self->table);
  pool_take_debtors_locked (self, &readers_paid, &passed_paid);
  self->size = 0;
  cymem_lock_release (&self->lock);

  CYMEM_PERTURB ();
  /* A finalize releases the pool's chunks whole: their blocks need no
   * call, but to tell a memory tool they are gone. A clear puts each back. */
  free_block = cymem_pool_extra (self)->free_func == NULL ? pool_block_free_default : pool_block_free;
  if (finalizing)
    cymem_table_drain (&blocks, free_block,
                       cymem_chunk_tool_active () ? pool_block_forget : NULL, self);
  else
    cymem_table_drain (&blocks, free_block, free_block, self);
  if (readers_paid.len > 0)
    pool_release_debtors (&readers_paid);
  if (passed_paid.len > 0)
    pool_release_debtors (&passed_paid);

  releasing = frame.outer;
}

const CymemPoolExtra cymem_pool_no_extra = { 0, };

CymemPoolExtra *
cymem_pool_extra_ensure (CymemPool *self)
{
  CymemPoolExtra *extra = cymem_pool_extra (self), *none = (CymemPoolExtra *) &cymem_pool_no_extra;

  if (G_LIKELY (extra != none))
    return extra;
  extra = g_new0 (CymemPoolExtra, 1);
  if (!__atomic_compare_exchange_n (&self->extra, &none, extra, FALSE,
                                    __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
    {
      g_free (extra);  /* another thread set it first: @none is theirs now */
      extra = none;
    }
  return extra;
}

static void
pool_extra_free (CymemPool *self)
{
  CymemPoolExtra *extra = self->extra;

  if (extra == &cymem_pool_no_extra)
    return;
  g_clear_pointer (&extra->cleanups, g_array_unref);
  g_free (extra->debtors.pools);
  g_free (extra->passed_debtors.pools);
  g_free (extra->name);
  g_free (extra);
  self->extra = (CymemPoolExtra *) &cymem_pool_no_extra;
}

static void
cymem_pool_finalize (GObject *object)
{
  CymemPool *self = (CymemPool *)object;
  CymemPool *attached;

  cymem_pool_debug_finalize (self);

  /* From here on the cleanups may call any function on the pool, which
   * then works on it without taking references. */
  __atomic_store_n (&self->finalizing, TRUE, __ATOMIC_RELAXED);
  if (cymem_pool_extra (self) == &cymem_pool_no_extra && self->table.heap == NULL &&
      self->table.pins == 0)
    {
      /* The common small pool: no cleanup, debt, custom allocator or chunk
       * (whose borrowers would take the lock), so no code but free() can
       * run meanwhile, on this thread or another. */
      cymem_table_drain (&self->table, pool_block_free_default, NULL, self);
      self->size = 0;
    }
  else
    pool_release_all (self, TRUE);
  g_warn_if_fail (self->table.pins == 0);
  cymem_heap_destroy (self->table.heap);
  self->table.heap = NULL;

  /* A pool attached to this one is no longer held by it once the qdata
   * goes, after this function. */
  if (cymem_pool_extra (self)->holds_attached &&
      (attached = g_object_get_qdata (object, cymem_pool_owner_quark ())) != NULL)
    cymem_pool_unlink_owner (attached, self);
  cymem_pool_tree_finalize (self);
  pool_extra_free (self);

  __atomic_load_n (&parent_finalize, __ATOMIC_ACQUIRE) (object);
}

static void
cymem_pool_get_property (GObject    *object,
                         guint       prop_id,
                         GValue     *value,
                         GParamSpec *pspec)
{
  CymemPool *self = CYMEM_POOL (object);

  switch (prop_id)
    {
    case PROP_SIZE:
      g_value_set_uint64 (value, cymem_pool_get_size (self));
      break;

    case PROP_N_ALLOCATIONS:
      g_value_set_uint (value, cymem_pool_get_n_allocations (self));
      break;

    case PROP_LIMIT:
      g_value_set_uint64 (value, cymem_pool_get_limit (self));
      break;

    case PROP_PEAK_SIZE:
      g_value_set_uint64 (value, cymem_pool_get_peak_size (self));
      break;

    case PROP_TOTAL_SIZE:
      g_value_set_uint64 (value, cymem_pool_get_total_size (self));
      break;

    case PROP_NAME:
      g_value_take_string (value, cymem_pool_dup_name (self));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
cymem_pool_set_property (GObject      *object,
                         guint         prop_id,
                         const GValue *value,
                         GParamSpec   *pspec)
{
  CymemPool *self = CYMEM_POOL (object);

  switch (prop_id)
    {
    case PROP_LIMIT:
      cymem_pool_set_limit (self, g_value_get_uint64 (value));
      break;

    case PROP_NAME:
      cymem_pool_set_name (self, g_value_get_string (value));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
cymem_pool_class_init (CymemPoolClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = cymem_pool_finalize;
  object_class->get_property = cymem_pool_get_property;
  object_class->set_property = cymem_pool_set_property;
  /* Before the first pool records a block. */
  cymem_table_init_tools ();

  /**
   * CymemPool:size: (getter get_size)
   *
   * The number of bytes the pool's blocks were requested with, summed over
   * the blocks it currently owns (the allocator's own overhead is not
   * counted). It does not emit notifications.
   *
   * Since: 1.0
   */
  properties[PROP_SIZE] =
    g_param_spec_uint64 ("size", NULL, NULL,
                         0, G_MAXUINT64, 0,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * CymemPool:n-allocations: (getter get_n_allocations)
   *
   * The number of blocks the pool currently owns. It does not emit
   * notifications.
   *
   * Since: 1.0
   */
  properties[PROP_N_ALLOCATIONS] =
    g_param_spec_uint ("n-allocations", NULL, NULL,
                       0, G_MAXUINT, 0,
                       G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * CymemPool:limit: (getter get_limit) (setter set_limit)
   *
   * A budget, in bytes, for the pool and all its descendants (its
   * [property@Cymem.Pool:total-size]), as talloc's memlimit is; 0 means
   * none. An allocation in the pool or in any pool below it, or a steal
   * into one, that would take a total over its limit fails (adopting a pool
   * that already holds blocks, with [method@Cymem.Pool.own_object], is not
   * refused: like lowering the limit, it only stops growth): the `try_`
   * functions
   * and the copies return %NULL, [method@Cymem.Pool.alloc] and
   * [method@Cymem.Pool.realloc] abort, and the binding API reports
   * %CYMEM_POOL_ERROR_LIMIT_EXCEEDED. Lowering the limit below the current
   * size frees nothing; it only stops growth. It notifies only when its
   * value changes.
   *
   * Since: 1.0
   */
  properties[PROP_LIMIT] =
    g_param_spec_uint64 ("limit", NULL, NULL,
                         0, G_MAXUINT64, 0,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * CymemPool:peak-size: (getter get_peak_size)
   *
   * The highest [property@Cymem.Pool:size] the pool has reached since it
   * was created or since [method@Cymem.Pool.reset_peak_size]. It does not
   * emit notifications.
   *
   * Since: 1.0
   */
  properties[PROP_PEAK_SIZE] =
    g_param_spec_uint64 ("peak-size", NULL, NULL,
                         0, G_MAXUINT64, 0,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * CymemPool:total-size: (getter get_total_size)
   *
   * The size of the pool and of all its descendants (see
   * [method@Cymem.Pool.get_parent]), in bytes: what
   * [property@Cymem.Pool:limit] bounds. It does not emit notifications.
   *
   * Since: 1.2
   */
  properties[PROP_TOTAL_SIZE] =
    g_param_spec_uint64 ("total-size", NULL, NULL,
                         0, G_MAXUINT64, 0,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * CymemPool:name: (setter set_name) (getter dup_name)
   *
   * A name for the pool, for people: every critical warning about the
   * pool, [method@Cymem.Pool.report], the finalize log
   * (`G_MESSAGES_DEBUG=Cymem`) and the leak report (`CYMEM_DEBUG=leaks`)
   * show it. %NULL by default. It notifies only when its value changes.
   *
   * Since: 1.2
   */
  properties[PROP_NAME] =
    g_param_spec_string ("name", NULL, NULL,
                         NULL,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);
  cymem_pool_debug_init ();

  /* Read by pools on other threads, which GLib's class initialisation
   * orders after this through locks ThreadSanitizer cannot see: atomic. */
  __atomic_store_n (&parent_finalize, G_OBJECT_CLASS (cymem_pool_parent_class)->finalize,
                    __ATOMIC_RELEASE);
  __atomic_store_n (&cymem_pool_type, G_TYPE_FROM_CLASS (klass), __ATOMIC_RELEASE);
}

static void
cymem_pool_init (CymemPool *self)
{
  self->extra = (CymemPoolExtra *) &cymem_pool_no_extra;
  cymem_pool_debug_register (self);
}

/**
 * cymem_pool_new:
 *
 * Creates a pool that allocates with the C library's allocator.
 *
 * Returns: (transfer full): a new, empty pool
 *
 * Since: 1.0
 */
CymemPool *
cymem_pool_new (void)
{
  return g_object_new (CYMEM_TYPE_POOL, NULL);
}

/**
 * cymem_pool_new_with_allocator: (skip)
 * @malloc_func: the function that allocates the pool's blocks
 * @free_func: the function that frees them
 *
 * Creates a pool whose blocks all come from @malloc_func and go back through
 * @free_func, exactly once each; the pool calls them for its blocks and
 * nothing else. `(malloc, free)` and `(g_malloc, g_free)` both work.
 *
 * The pool zeroes every block itself, so @malloc_func may return dirty
 * memory; a 0-byte block asks @malloc_func for 1 byte, since `g_malloc (0)`
 * returns %NULL. A %NULL return from @malloc_func is an allocation failure.
 *
 * Returns: (transfer full): a new, empty pool
 *
 * Since: 1.0
 */
CymemPool *
cymem_pool_new_with_allocator (CymemMallocFunc malloc_func,
                               CymemFreeFunc   free_func)
{
  CymemPool *self;
  CymemPoolExtra *extra;

  g_return_val_if_fail (malloc_func != NULL, NULL);
  g_return_val_if_fail (free_func != NULL, NULL);

  self = cymem_pool_new ();
  extra = cymem_pool_extra_ensure (self);
  extra->malloc_func = malloc_func;
  extra->free_func = free_func;

  return self;
}

/* In a limited tree the bytes are reserved, under the tree lock, before
 * the allocator is called, so that threads allocating at once cannot
 * overshoot a limit together. */
static G_GNUC_NO_INLINE CymemPoolStatus
pool_reserve (CymemPool *self,
              gsize      n_bytes)
{
  CymemPoolStatus status = CYMEM_POOL_STATUS_OK;
  CymemPoolExtra *extra = cymem_pool_extra_ensure (self);

  cymem_pool_tree_lock ();
  if (!cymem_pool_tree_fits (self, n_bytes, 0, NULL))
    status = CYMEM_POOL_STATUS_LIMIT_EXCEEDED;
  else
    {
      cymem_lock_acquire (&self->lock);
      extra->reserved += n_bytes;
      cymem_lock_release (&self->lock);
    }
  cymem_pool_tree_unlock ();

  return status;
}

static G_GNUC_NO_INLINE void
pool_unreserve (CymemPool *self,
                gsize      n_bytes)
{
  cymem_lock_acquire (&self->lock);
  cymem_pool_extra (self)->reserved -= n_bytes;  /* reserved: it exists */
  cymem_lock_release (&self->lock);
}

G_ALWAYS_INLINE static inline CymemPoolStatus
pool_block_new_checked (CymemPool *self,
                        gsize      n_bytes,
                        gpointer  *mem_out,
                        gsize     *reserved)
{
  gpointer mem;

  /* No allocator can provide a quarter of the address space (the table
   * keeps two flags in a size's top bits); failing here keeps such sizes
   * away from it. */
  if (G_UNLIKELY (n_bytes > CYMEM_TABLE_MAX_SIZE))
    return CYMEM_POOL_STATUS_NO_MEMORY;

  *reserved = 0;
  if (G_UNLIKELY (__atomic_load_n (&self->tree_limited, __ATOMIC_RELAXED)))
    {
      if (pool_reserve (self, n_bytes) != CYMEM_POOL_STATUS_OK)
        return CYMEM_POOL_STATUS_LIMIT_EXCEEDED;
      *reserved = n_bytes;
    }

  mem = pool_block_new (self, n_bytes);
  if (G_UNLIKELY (mem == NULL))
    {
      if (*reserved > 0)
        pool_unreserve (self, *reserved);
      return CYMEM_POOL_STATUS_NO_MEMORY;
    }

  *mem_out = mem;
  return CYMEM_POOL_STATUS_OK;
}

/* A block that could not be recorded goes back to the allocator. */
static G_GNUC_NO_INLINE CymemPoolStatus
pool_record_failed (CymemPool       *self,
                    gpointer         mem,
                    CymemPoolStatus  status)
{
  cymem_lock_release (&self->lock);
  pool_block_free (mem, 0, self);
  return status;
}

/* Recording in a limited tree: the limits are checked again, with the
 * tree lock held, since one may have been set or lowered since the block
 * was allocated; the size must never exceed the limit in force when a
 * block is recorded. */
static G_GNUC_NO_INLINE CymemPoolStatus
pool_record_limited (CymemPool *self,
                     gpointer   mem,
                     gsize      n_bytes,
                     gsize      reserved)
{
  CymemPoolStatus status = CYMEM_POOL_STATUS_OK;
  gboolean fits;

  cymem_pool_tree_lock ();
  fits = cymem_pool_tree_fits (self, n_bytes, reserved, NULL);
  cymem_lock_acquire (&self->lock);
  if (reserved > 0)
    cymem_pool_extra (self)->reserved -= reserved;
  if (!fits)
    status = CYMEM_POOL_STATUS_LIMIT_EXCEEDED;
  else if (!cymem_table_insert (&self->table, mem, n_bytes))
    status = CYMEM_POOL_STATUS_NO_MEMORY;
  else
    {
      self->size += n_bytes;
      cymem_pool_note_growth_locked (self);
    }
  cymem_lock_release (&self->lock);
  cymem_pool_tree_unlock ();

  if (status != CYMEM_POOL_STATUS_OK)
    pool_block_free (mem, 0, self);
  return status;
}

G_ALWAYS_INLINE static inline CymemPoolStatus
pool_record_new (CymemPool *self,
                 gpointer   mem,
                 gsize      n_bytes,
                 gsize      reserved,
                 gboolean   uncarved)
{
  CYMEM_PERTURB ();
  cymem_lock_acquire (&self->lock);
  /* Read under the lock: a limit set above this pool meanwhile is seen. */
  if (G_UNLIKELY (__atomic_load_n (&self->tree_limited, __ATOMIC_RELAXED)))
    {
      cymem_lock_release (&self->lock);
      return pool_record_limited (self, mem, n_bytes, reserved);
    }
  if (reserved > 0)
    cymem_pool_extra (self)->reserved -= reserved;
  if (G_UNLIKELY (!(uncarved ? cymem_table_insert_uncarved (&self->table, mem, n_bytes)
                             : cymem_table_insert (&self->table, mem, n_bytes))))
    return pool_record_failed (self, mem, CYMEM_POOL_STATUS_NO_MEMORY);
  self->size += n_bytes;
  cymem_pool_note_growth_locked (self);
  cymem_lock_release (&self->lock);

  return CYMEM_POOL_STATUS_OK;
}

/* Records a block just allocated (which may be carved, if the fast path
 * could not take it). */
G_ALWAYS_INLINE static inline CymemPoolStatus
pool_record (CymemPool *self,
             gpointer   mem,
             gsize      n_bytes,
             gsize      reserved)
{
  return pool_record_new (self, mem, n_bytes, reserved, FALSE);
}

CymemPoolStatus
cymem_pool_block_new (CymemPool *self,
                      gsize      n_bytes,
                      gpointer  *mem,
                      gsize     *reserved)
{
  return pool_block_new_checked (self, n_bytes, mem, reserved);
}

CymemPoolStatus
cymem_pool_record (CymemPool *self,
                   gpointer   mem,
                   gsize      n_bytes,
                   gsize      reserved)
{
  return pool_record (self, mem, n_bytes, reserved);
}

/* With the lock held and room in the table: a block just carved is zeroed,
 * then recorded, so that nobody sees it before it is complete. */
G_ALWAYS_INLINE static inline void
pool_keep_carved_locked (CymemPool  *self,
                         gpointer    mem,
                         gsize       n_bytes,
                         CymemChunk *chunk,
                         guint       slot)
{
  /* Recorded before it is zeroed, both under the lock, so no other thread
   * sees either; this way the table's width, just tested by the quick
   * path, is known here without another load. */
  cymem_table_append_carved (&self->table, mem, n_bytes, chunk, slot);
  cymem_chunk_zero (mem, n_bytes);
  self->size += n_bytes;
  cymem_pool_note_growth_locked (self);
}

G_ALWAYS_INLINE static inline CymemPoolStatus
pool_alloc (CymemPool *self,
            gsize      n_elements,
            gsize      element_size,
            gpointer  *mem_out)
{
  gpointer mem;
  gsize n_bytes, reserved;
  CymemPoolStatus status;

  if (G_UNLIKELY (!g_size_checked_mul (&n_bytes, n_elements, element_size)))
    return CYMEM_POOL_STATUS_OVERFLOW;

  /* A pool with chunks carves, zeroes and records a small block in one
   * locked section: zeroing at most CYMEM_HEAP_MAX bytes is short, and the
   * block is complete before the table shows it. */
  if (n_bytes <= CYMEM_HEAP_MAX && __atomic_load_n (&self->table.heap, __ATOMIC_RELAXED) != NULL)
    {
      CymemChunk *chunk;
      guint slot;

      CYMEM_PERTURB ();
      cymem_lock_acquire (&self->lock);
      if (G_LIKELY (!__atomic_load_n (&self->tree_limited, __ATOMIC_RELAXED)) &&
          (mem = cymem_heap_carve (self->table.heap, n_bytes, &chunk, &slot)) != NULL)
        {
          if ((G_UNLIKELY (!cymem_table_has_room (&self->table)) &&
               !cymem_table_reserve (&self->table, 1)) ||
              !cymem_table_prepare (&self->table, mem, n_bytes))
            return pool_record_failed (self, mem, CYMEM_POOL_STATUS_NO_MEMORY);
          pool_keep_carved_locked (self, mem, n_bytes, chunk, slot);
          cymem_lock_release (&self->lock);
          *mem_out = mem;
          return CYMEM_POOL_STATUS_OK;
        }
      cymem_lock_release (&self->lock);
    }

  status = pool_block_new_checked (self, n_bytes, &mem, &reserved);
  if (G_UNLIKELY (status != CYMEM_POOL_STATUS_OK))
    return status;
  status = pool_record (self, mem, n_bytes, reserved);
  if (G_LIKELY (status == CYMEM_POOL_STATUS_OK))
    *mem_out = mem;
  return status;
}

CymemPoolStatus
cymem_pool_alloc_internal (CymemPool *self,
                           gsize      n_elements,
                           gsize      element_size,
                           gpointer  *mem)
{
  return pool_alloc (self, n_elements, element_size, mem);
}

/* Reports a failed allocation the C API's way: a critical for misuse, an
 * abort when @fatal, like g_malloc0_n(). */
static G_GNUC_NO_INLINE void
pool_alloc_failed (CymemPool       *self,
                   CymemPoolStatus  status,
                   gsize            n_elements,
                   gsize            element_size,
                   gboolean         fatal,
                   const char      *func)
{
  if (!fatal)
    return;
  else if (status == CYMEM_POOL_STATUS_OVERFLOW)
    g_error ("%s: overflow allocating %" G_GSIZE_FORMAT "*%" G_GSIZE_FORMAT " bytes",
             func, n_elements, element_size);
  else if (status == CYMEM_POOL_STATUS_LIMIT_EXCEEDED)
    g_error ("%s: allocating %" G_GSIZE_FORMAT " bytes would take %s over its "
             "limit of %" G_GUINT64_FORMAT " bytes (or a pool above it over its own)",
             func, n_elements * element_size, cymem_pool_label (self), cymem_pool_get_limit (self));
  else
    g_error ("%s: failed to allocate %" G_GSIZE_FORMAT " bytes",
             func, n_elements * element_size);
}

/* How far a fast path got before handing over to the full path. */
typedef enum
{
  POOL_UNCHECKED,  /* not even the pool's type */
  POOL_CHECKED,    /* the pool is a pool */
  POOL_LOCKED,     /* ... and its lock is held, to release first */
} PoolFastExit;

/* cymem_pool_alloc() for every case but the quickest. */
static G_GNUC_NO_INLINE gpointer
pool_alloc_other (CymemPool    *self,
                  gsize         n_elements,
                  gsize         element_size,
                  PoolFastExit  exit)
{
  gpointer mem = NULL;
  CymemPoolStatus status;

  if (exit == POOL_LOCKED)
    cymem_lock_release (&self->lock);
  /* The message names the public function, as g_return_val_if_fail() in
   * it would. */
  else if (exit == POOL_UNCHECKED && G_UNLIKELY (!CYMEM_IS_POOL_FAST (self)))
    {
      g_return_if_fail_warning (G_LOG_DOMAIN, "cymem_pool_alloc", "CYMEM_IS_POOL (pool)");
      return NULL;
    }

  status = pool_alloc (self, n_elements, element_size, &mem);
  if (G_UNLIKELY (status != CYMEM_POOL_STATUS_OK))
    pool_alloc_failed (self, status, n_elements, element_size, TRUE, "cymem_pool_alloc");
  return mem;
}

/* cymem_pool_alloc() of a block past the largest class, which is never
 * carved: one allocator call and one entry, without the small blocks'
 * tests or the registry lookup a block that might be carved needs. */
static G_GNUC_NO_INLINE gpointer
pool_alloc_big (CymemPool *self,
                gsize      n_bytes)
{
  gpointer mem;
  CymemPoolStatus status;

  /* Limits reserve before the allocator call: the full path's business. */
  if (G_UNLIKELY (n_bytes > CYMEM_TABLE_MAX_SIZE) ||
      G_UNLIKELY (__atomic_load_n (&self->tree_limited, __ATOMIC_RELAXED)))
    return pool_alloc_other (self, 1, n_bytes, POOL_CHECKED);

  mem = pool_block_new (self, n_bytes);
  if (G_UNLIKELY (mem == NULL))
    status = CYMEM_POOL_STATUS_NO_MEMORY;
  else
    status = pool_record_new (self, mem, n_bytes, 0, TRUE);
  if (G_UNLIKELY (status != CYMEM_POOL_STATUS_OK))
    pool_alloc_failed (self, status, 1, n_bytes, TRUE, "cymem_pool_alloc");
  return mem;
}

static G_GNUC_NO_INLINE gpointer
pool_wake_and_return (CymemPool *self,
                      gpointer   mem)
{
  cymem_lock_wake (&self->lock);
  return mem;
}

/**
 * cymem_pool_alloc: (skip)
 * @pool: a pool
 * @n_elements: the number of elements
 * @element_size: the size of one element, in bytes
 *
 * Allocates a zeroed block of @n_elements × @element_size bytes, owned by
 * @pool until it is freed, resized, cleared or finalized.
 *
 * A 0-byte request returns a unique, non-%NULL block of size 0. Like
 * g_malloc0_n(), this aborts the program if the size overflows, the
 * allocator fails or the block would take the pool over its
 * [property@Cymem.Pool:limit]; use [method@Cymem.Pool.try_alloc] to handle
 * failure.
 *
 * Returns: (transfer none): the new block
 *
 * Since: 1.0
 */
gpointer
cymem_pool_alloc (CymemPool *pool,
                  gsize      n_elements,
                  gsize      element_size)
{
  CymemTable *table;
  CymemChunk *chunk;
  gpointer mem;
  gsize n_bytes;
  guint slot;
  gboolean single;
  PoolFastExit exit = POOL_UNCHECKED;

  /* The common case, with no call but in tail position, so that it saves
   * no register: a small block carved from the pool's chunks into a table
   * with room, outside any limited tree, the lock free at once. Every other
   * case, and every doubt, goes to pool_alloc_other(), which checks
   * everything but what was checked here again. */
  CYMEM_PERTURB ();
  if (G_UNLIKELY (!CYMEM_IS_POOL_QUICK (pool)))
    goto other;
  exit = POOL_CHECKED;
  table = &pool->table;
  if (G_UNLIKELY (!g_size_checked_mul (&n_bytes, n_elements, element_size)))
    goto other;
  if (n_bytes > CYMEM_HEAP_MAX)
    {
      mem = pool_alloc_big (pool, n_bytes);
      CYMEM_NO_TAIL_CALL (mem);  /* as below */
      return mem;
    }
  single = CYMEM_SINGLE_THREADED ();
  if (__atomic_load_n (&table->heap, __ATOMIC_RELAXED) == NULL ||
      !cymem_lock_try_acquire_as (&pool->lock, single))
    goto other;
  if (G_UNLIKELY (__atomic_load_n (&pool->tree_limited, __ATOMIC_RELAXED)) ||
      G_UNLIKELY (!cymem_table_has_quick_room (table)) ||
      (mem = cymem_heap_carve_quick (table->heap, n_bytes, &chunk, &slot)) == NULL)
    {
      exit = POOL_LOCKED;
      goto other;
    }

  pool_keep_carved_locked (pool, mem, n_bytes, chunk, slot);
  if (G_UNLIKELY (cymem_lock_release_no_wake_as (&pool->lock, single)))
    return pool_wake_and_return (pool, mem);
  return mem;

other:
  mem = pool_alloc_other (pool, n_elements, element_size, exit);
  /* Not a tail call: memory tools then show cymem_pool_alloc() in the
   * stack of the block's allocation. */
  CYMEM_NO_TAIL_CALL (mem);
  return mem;
}

/**
 * cymem_pool_try_alloc: (skip)
 * @pool: a pool
 * @n_elements: the number of elements
 * @element_size: the size of one element, in bytes
 *
 * Like [method@Cymem.Pool.alloc], but returns %NULL, and changes nothing,
 * if the size overflows, the allocator fails or the block would take the
 * pool over its [property@Cymem.Pool:limit].
 *
 * Returns: (transfer none) (nullable): the new block, or %NULL on failure
 *
 * Since: 1.0
 */
gpointer
cymem_pool_try_alloc (CymemPool *pool,
                      gsize      n_elements,
                      gsize      element_size)
{
  gpointer mem = NULL;
  CymemPoolStatus status;

  g_return_val_if_fail (CYMEM_IS_POOL_FAST (pool), NULL);

  status = pool_alloc (pool, n_elements, element_size, &mem);
  if (G_UNLIKELY (status != CYMEM_POOL_STATUS_OK))
    pool_alloc_failed (pool, status, n_elements, element_size, FALSE, G_STRFUNC);
  return mem;
}

/* Resizing follows the protocol: the new block is allocated and the old
 * contents copied with the lock dropped and the table pinned (so the old
 * block cannot be released meanwhile, even if another thread frees it),
 * then the entry is switched to the new block under the lock, if the old
 * one is still owned and the limit still allows it. The old block goes
 * back to the allocator at once, or dead to the table if another pin is
 * held. Both allocators take this path: libc's realloc() would release the
 * old block in place, under a reader's feet. */
CymemPoolStatus
cymem_pool_realloc_internal (CymemPool *self,
                             gpointer   mem,
                             gsize      n_bytes,
                             gpointer  *new_mem_out)
{
  gpointer new_mem, release = NULL;
  gsize old_bytes = 0, grow = 0;
  gssize slot;
  gboolean limited, fits = TRUE;
  CymemPoolStatus status;

  /* In a limited tree the growth is checked, and reserved, under the tree
   * lock (see pool_reserve()), with the block's size looked up first. */
again:
  status = CYMEM_POOL_STATUS_OK;
  limited = __atomic_load_n (&self->tree_limited, __ATOMIC_RELAXED);
  if (limited)
    {
      gsize checked = 0;

      cymem_pool_tree_lock ();
      cymem_lock_acquire (&self->lock);
      cymem_table_lookup (&self->table, mem, &checked);
      cymem_lock_release (&self->lock);
      if (n_bytes > checked)
        fits = cymem_pool_tree_fits (self, n_bytes - checked, 0, NULL);
    }

  cymem_lock_acquire (&self->lock);
  if (!cymem_table_lookup (&self->table, mem, &old_bytes))
    status = CYMEM_POOL_STATUS_NOT_OWNED;
  else if (G_UNLIKELY (n_bytes > CYMEM_TABLE_MAX_SIZE))
    status = CYMEM_POOL_STATUS_NO_MEMORY;
  else if (!limited && self->tree_limited)
    {
      /* A limit above was set meanwhile. */
      cymem_lock_release (&self->lock);
      goto again;
    }
  else if (!fits)
    status = CYMEM_POOL_STATUS_LIMIT_EXCEEDED;
  if (status != CYMEM_POOL_STATUS_OK)
    {
      cymem_lock_release (&self->lock);
      if (limited)
        cymem_pool_tree_unlock ();
      return status;
    }
  /* Reserved only in a limited tree, where it counts. Under the tree lock
   * the block cannot have grown since it was checked. */
  if (limited && n_bytes > old_bytes)
    grow = n_bytes - old_bytes;
  if (grow > 0)
    cymem_pool_extra (self)->reserved += grow;
  self->table.pins++;
  cymem_lock_release (&self->lock);
  if (limited)
    cymem_pool_tree_unlock ();

  CYMEM_PERTURB ();
  new_mem = pool_block_new (self, n_bytes);
  if (new_mem != NULL)
    memcpy (new_mem, mem, MIN (old_bytes, n_bytes));
  CYMEM_PERTURB ();

  /* The limits in force now are checked again before the switch. */
  limited = __atomic_load_n (&self->tree_limited, __ATOMIC_RELAXED);
commit:
  fits = TRUE;
  if (limited)
    {
      cymem_pool_tree_lock ();
      if (n_bytes > old_bytes)
        fits = cymem_pool_tree_fits (self, n_bytes - old_bytes, grow, NULL);
    }
  cymem_lock_acquire (&self->lock);
  if (!limited && self->tree_limited)
    {
      cymem_lock_release (&self->lock);
      limited = TRUE;
      goto commit;
    }
  if (grow > 0)
    cymem_pool_extra (self)->reserved -= grow;
  if (new_mem == NULL)
    status = CYMEM_POOL_STATUS_NO_MEMORY;
  else if ((slot = cymem_table_find (&self->table, mem, NULL)) < 0)
    status = CYMEM_POOL_STATUS_NOT_OWNED;  /* freed, stolen or resized meanwhile */
  else if (!fits)
    status = CYMEM_POOL_STATUS_LIMIT_EXCEEDED;
  else if (!cymem_table_prepare (&self->table, new_mem, n_bytes))
    status = CYMEM_POOL_STATUS_NO_MEMORY;  /* the entry could not be widened */
  else if (self->table.pins > 1)
    {
      /* Someone may be reading the old block: it stays, dead, until the
       * last pin goes. Its entry needs room first. */
      if (!cymem_table_reserve (&self->table, 1))
        status = CYMEM_POOL_STATUS_NO_MEMORY;
      else
        {
          cymem_table_update (&self->table, cymem_table_find (&self->table, mem, NULL),
                              new_mem, n_bytes);
          cymem_table_insert (&self->table, mem, old_bytes);
          cymem_table_kill (&self->table, cymem_table_find (&self->table, mem, NULL));
        }
    }
  else
    {
      cymem_table_update (&self->table, slot, new_mem, n_bytes);
      release = mem;
    }
  if (status == CYMEM_POOL_STATUS_OK)
    {
      self->size = self->size - old_bytes + n_bytes;
      cymem_pool_note_growth_locked (self);
    }
  /* Before the unpin, which may release pools and so take the tree lock. */
  if (limited)
    cymem_pool_tree_unlock ();
  cymem_pool_unpin_unlock (self);

  if (status != CYMEM_POOL_STATUS_OK)
    {
      if (new_mem != NULL)
        pool_block_free (new_mem, n_bytes, self);
      return status;
    }
  if (release != NULL)
    pool_block_free (release, old_bytes, self);

  *new_mem_out = new_mem;
  return CYMEM_POOL_STATUS_OK;
}

static gpointer
pool_realloc (CymemPool   *self,
              gpointer     mem,
              gsize        n_bytes,
              gboolean     fatal,
              const char  *func)
{
  gpointer new_mem = NULL;
  CymemPoolStatus status = cymem_pool_realloc_internal (self, mem, n_bytes, &new_mem);

  switch (status)
    {
    case CYMEM_POOL_STATUS_OK:
      break;
    case CYMEM_POOL_STATUS_NOT_OWNED:
      cymem_pool_warn_status (self, status, func, mem);
      break;
    case CYMEM_POOL_STATUS_LIMIT_EXCEEDED:
      if (fatal)
        g_error ("%s: resizing %p to %" G_GSIZE_FORMAT " bytes would take %s over "
                 "its limit of %" G_GUINT64_FORMAT " bytes (or a pool above it over its own)",
                 func, mem, n_bytes, cymem_pool_label (self), cymem_pool_get_limit (self));
      break;
    case CYMEM_POOL_STATUS_NO_MEMORY:
      if (fatal)
        g_error ("%s: failed to reallocate %p to %" G_GSIZE_FORMAT " bytes",
                 func, mem, n_bytes);
      break;
    default:
      g_assert_not_reached ();
    }

  return new_mem;
}

/**
 * cymem_pool_realloc: (skip)
 * @pool: a pool
 * @mem: (nullable): a block owned by @pool, or %NULL for a new block
 * @n_bytes: the new size, in bytes; 0 is allowed
 *
 * Resizes a block of @pool. The block may move; its contents are kept up to
 * the smaller of the old and new sizes, and a grown tail is zeroed. Shrinking
 * is allowed. The pool's [property@Cymem.Pool:size] follows. A %NULL @mem
 * allocates a new zeroed block of @n_bytes, as `realloc()`, g_realloc() and
 * talloc do (since 1.2; 1.0 refused it).
 *
 * If @mem is not a block of @pool, this emits a critical warning, returns
 * %NULL and changes nothing. If the allocator fails, or growing would take
 * the pool over its [property@Cymem.Pool:limit], the program aborts; use
 * [method@Cymem.Pool.try_realloc] to handle failure.
 *
 * Returns: (transfer none): the resized block
 *
 * Since: 1.0
 */
gpointer
cymem_pool_realloc (CymemPool *pool,
                    gpointer   mem,
                    gsize      n_bytes)
{
  g_return_val_if_fail (CYMEM_IS_POOL_FAST (pool), NULL);

  if (mem == NULL)
    return cymem_pool_alloc (pool, 1, n_bytes);
  return pool_realloc (pool, mem, n_bytes, TRUE, G_STRFUNC);
}

/**
 * cymem_pool_try_realloc: (skip)
 * @pool: a pool
 * @mem: (nullable): a block owned by @pool, or %NULL for a new block
 * @n_bytes: the new size, in bytes; 0 is allowed
 *
 * Like [method@Cymem.Pool.realloc], but returns %NULL if the allocator
 * fails or the limit would be exceeded, leaving @mem owned by @pool and
 * intact.
 *
 * Returns: (transfer none) (nullable): the resized block, or %NULL on failure
 *
 * Since: 1.0
 */
gpointer
cymem_pool_try_realloc (CymemPool *pool,
                        gpointer   mem,
                        gsize      n_bytes)
{
  g_return_val_if_fail (CYMEM_IS_POOL_FAST (pool), NULL);

  if (mem == NULL)
    return cymem_pool_try_alloc (pool, 1, n_bytes);
  return pool_realloc (pool, mem, n_bytes, FALSE, G_STRFUNC);
}

/* The whole freeing path (cymem_pool_free() has a quick one in front),
 * from the lock on, or with it held already when @locked. */
G_ALWAYS_INLINE static inline CymemPoolStatus
pool_free (CymemPool *self,
           gpointer   mem,
           gboolean   locked)
{
  gsize n_bytes = 0;  /* set when owned; some inlinings make GCC doubt it */
  gboolean owned;
  CymemChunk *empty = NULL;

  if (!locked)
    cymem_lock_acquire (&self->lock);
  if (G_LIKELY (self->table.pins == 0))
    {
      gint carved_slot = -1;

      owned = cymem_table_remove (&self->table, mem, &n_bytes, &carved_slot);
      cymem_table_maybe_shrink (&self->table);
      /* A slot of the pool's own chunks goes back under the lock. */
      if (carved_slot >= 0)
        {
          empty = cymem_heap_free (self->table.heap, mem, (guint) carved_slot);
          mem = NULL;
        }
    }
  else
    {
      /* Pinned: the block leaves the index now, its memory later. */
      gssize slot = cymem_table_find (&self->table, mem, &n_bytes);

      owned = slot >= 0;
      if (owned)
        cymem_table_kill (&self->table, slot);
      mem = NULL;
    }
  if (owned)
    self->size -= n_bytes;
  cymem_lock_release (&self->lock);

  if (!owned)
    return CYMEM_POOL_STATUS_NOT_OWNED;

  if (G_UNLIKELY (empty != NULL))
    cymem_chunk_release (empty);
  if (mem != NULL)
    pool_block_free (mem, n_bytes, self);
  return CYMEM_POOL_STATUS_OK;
}

/* cymem_pool_free() for every case but the quickest. */
static G_GNUC_NO_INLINE void
pool_free_other (CymemPool    *self,
                 gpointer      mem,
                 PoolFastExit  exit)
{
  CymemPoolStatus status;

  if (exit == POOL_UNCHECKED && G_UNLIKELY (!CYMEM_IS_POOL_FAST (self)))
    {
      g_return_if_fail_warning (G_LOG_DOMAIN, "cymem_pool_free", "CYMEM_IS_POOL (pool)");
      return;
    }
  if (mem == NULL)
    {
      if (exit == POOL_LOCKED)
        cymem_lock_release (&self->lock);
      return;
    }

  status = pool_free (self, mem, exit == POOL_LOCKED);
  if (G_UNLIKELY (status != CYMEM_POOL_STATUS_OK))
    cymem_pool_warn_status (self, status, "cymem_pool_free", mem);
}

/* cymem_pool_free() of a block outside the pool's chunks (a big one,
 * stolen, or one a custom allocator made), once the registry says so, with
 * the lock held when @locked (pins and the table's width then tested);
 * with no heap when not. Anything else goes the whole way. */
static G_GNUC_NO_INLINE void
pool_free_uncarved (CymemPool *self,
                    gpointer   mem,
                    gboolean   locked)
{
  gsize n_bytes;

  if (G_UNLIKELY (mem == NULL))
    {
      if (locked)
        cymem_lock_release (&self->lock);
      return;
    }
  if (!locked)
    {
      cymem_lock_acquire (&self->lock);
      /* Re-read under the lock: a heap made meanwhile may hold @mem. */
      if (G_UNLIKELY (self->table.heap != NULL) || G_UNLIKELY (self->table.pins != 0))
        {
          pool_free_other (self, mem, POOL_LOCKED);
          return;
        }
    }
  if (G_UNLIKELY (!cymem_table_remove_uncarved (&self->table, mem, &n_bytes)))
    {
      cymem_lock_release (&self->lock);
      cymem_pool_warn_status (self, CYMEM_POOL_STATUS_NOT_OWNED, "cymem_pool_free", mem);
      return;
    }
  self->size -= n_bytes;
  cymem_table_maybe_shrink (&self->table);
  cymem_lock_release (&self->lock);
  pool_block_free (mem, n_bytes, self);
}

/**
 * cymem_pool_free: (skip)
 * @pool: a pool
 * @mem: (nullable): a block owned by @pool, or %NULL
 *
 * Frees a block of @pool before the pool itself is cleared. %NULL is
 * ignored. A pointer @pool does not own (another pool's block, an interior
 * pointer, a stack address, a block already freed) gets a critical warning
 * naming it, and nothing is freed.
 *
 * Since: 1.0
 */
void
cymem_pool_free (CymemPool *pool,
                 gpointer   mem)
{
  CymemTable *table;
  CymemChunk *chunk;
  gssize slot, e;
  gsize n_bytes;

  /* The common case, with no call but in tail position (as in
   * cymem_pool_alloc()): a block carved from the pool's own chunk, nothing
   * pinned, nothing to give back (no chunk emptied or leaving the full
   * ones, no shrinking), no memory tool. The rest, and every refusal, go
   * to pool_free_other(), which checks everything again. */
  if (G_UNLIKELY (!CYMEM_IS_POOL_QUICK (pool)))
    {
      pool_free_other (pool, mem, POOL_UNCHECKED);
      CYMEM_NO_TAIL_CALL (pool);  /* as in cymem_pool_alloc() */
      return;
    }
  table = &pool->table;
  /* A pool with no chunk has no carved block: no need for the lock here. */
  if (__atomic_load_n (&table->heap, __ATOMIC_RELAXED) == NULL)
    {
      pool_free_uncarved (pool, mem, FALSE);
      CYMEM_NO_TAIL_CALL (pool);
      return;
    }
  if (!cymem_lock_try_acquire (&pool->lock))
    {
      pool_free_other (pool, mem, POOL_CHECKED);
      CYMEM_NO_TAIL_CALL (pool);
      return;
    }
  if (G_UNLIKELY (table->pins != 0) || G_UNLIKELY (table->wide))
    {
      pool_free_other (pool, mem, POOL_LOCKED);
      CYMEM_NO_TAIL_CALL (pool);
      return;
    }
  e = cymem_table_newest_carved (table, mem, &n_bytes, &chunk, &slot);
  if (e < 0)
    e = cymem_table_carved_entry_quick (table, mem, &n_bytes, &chunk, &slot);
  if (e == -1)
    {
      /* Not in the pool's chunks, by the registry: a big block, or none. */
      pool_free_uncarved (pool, mem, TRUE);
      CYMEM_NO_TAIL_CALL (pool);
      return;
    }
  if (e < 0 ||
      G_UNLIKELY (chunk->tool) ||
      !cymem_heap_put_is_quick (table->heap, chunk) ||
      cymem_table_too_big (table, 1))
    {
      pool_free_other (pool, mem, POOL_LOCKED);
      CYMEM_NO_TAIL_CALL (pool);
      return;
    }

  pool->size -= n_bytes;
  cymem_table_remove_entry_quick (table, (guint) e);
  cymem_heap_put_quick (chunk, (guint) slot);
  if (G_UNLIKELY (cymem_lock_release_no_wake (&pool->lock)))
    cymem_lock_wake (&pool->lock);
}

CymemPoolStatus
cymem_pool_free_internal (CymemPool *self,
                          gpointer   mem)
{
  return pool_free (self, mem, FALSE);
}

/**
 * cymem_pool_owns: (skip)
 * @pool: a pool
 * @mem: (nullable): any pointer
 *
 * Checks whether @mem is the start of a block @pool currently owns. Interior
 * pointers are not.
 *
 * Returns: %TRUE if @pool owns the block at @mem
 *
 * Since: 1.0
 */
gboolean
cymem_pool_owns (CymemPool     *pool,
                 gconstpointer  mem)
{
  gboolean owned;

  g_return_val_if_fail (CYMEM_IS_POOL_FAST (pool), FALSE);

  cymem_lock_acquire (&pool->lock);
  owned = cymem_table_lookup (&pool->table, mem, NULL);
  cymem_lock_release (&pool->lock);

  return owned;
}

/**
 * cymem_pool_get_block_size: (skip)
 * @pool: a pool
 * @mem: a block owned by @pool
 *
 * Gets the size a block was requested with. A pointer that is not the start
 * of a block of @pool gets a critical warning and 0.
 *
 * Returns: the block's size in bytes
 *
 * Since: 1.0
 */
gsize
cymem_pool_get_block_size (CymemPool     *pool,
                           gconstpointer  mem)
{
  gsize n_bytes = 0;
  gboolean owned;

  g_return_val_if_fail (CYMEM_IS_POOL (pool), 0);

  cymem_lock_acquire (&pool->lock);
  owned = cymem_table_lookup (&pool->table, mem, &n_bytes);
  cymem_lock_release (&pool->lock);

  if (!owned)
    cymem_pool_warn_status (pool, CYMEM_POOL_STATUS_NOT_OWNED, G_STRFUNC, mem);

  return n_bytes;
}

/**
 * cymem_pool_get_size: (get-property size)
 * @pool: a pool
 *
 * Gets the number of bytes requested for the blocks @pool currently owns.
 *
 * Returns: the pool's size in bytes
 *
 * Since: 1.0
 */
gsize
cymem_pool_get_size (CymemPool *pool)
{
  gsize size;

  g_return_val_if_fail (CYMEM_IS_POOL (pool), 0);

  cymem_lock_acquire (&pool->lock);
  size = pool->size;
  cymem_lock_release (&pool->lock);

  return size;
}

/**
 * cymem_pool_get_n_allocations: (get-property n-allocations)
 * @pool: a pool
 *
 * Gets the number of blocks @pool currently owns.
 *
 * Returns: the number of blocks
 *
 * Since: 1.0
 */
guint
cymem_pool_get_n_allocations (CymemPool *pool)
{
  guint count;

  g_return_val_if_fail (CYMEM_IS_POOL (pool), 0);

  cymem_lock_acquire (&pool->lock);
  count = cymem_table_count (&pool->table);
  cymem_lock_release (&pool->lock);

  return count;
}

/**
 * cymem_pool_get_limit: (get-property limit)
 * @pool: a pool
 *
 * Gets the pool's budget in bytes, or 0 if it has none.
 *
 * Returns: the [property@Cymem.Pool:limit]
 *
 * Since: 1.0
 */
guint64
cymem_pool_get_limit (CymemPool *pool)
{
  g_return_val_if_fail (CYMEM_IS_POOL (pool), 0);

  return __atomic_load_n (&cymem_pool_extra (pool)->limit, __ATOMIC_RELAXED);
}

/**
 * cymem_pool_set_limit: (set-property limit)
 * @pool: a pool
 * @limit: the budget in bytes, or 0 for none
 *
 * Sets the [property@Cymem.Pool:limit]. A limit below the current size
 * frees nothing; it only stops growth.
 *
 * Since: 1.0
 */
void
cymem_pool_set_limit (CymemPool *pool,
                      guint64    limit)
{
  guint64 old;

  g_return_if_fail (CYMEM_IS_POOL (pool));

  old = __atomic_load_n (&cymem_pool_extra (pool)->limit, __ATOMIC_RELAXED);
  cymem_pool_tree_set_limit (pool, limit);

  if (old != limit)
    g_object_notify_by_pspec (G_OBJECT (pool), properties[PROP_LIMIT]);
}

/**
 * cymem_pool_get_peak_size: (get-property peak-size)
 * @pool: a pool
 *
 * Gets the highest size the pool has reached, in bytes.
 *
 * Returns: the [property@Cymem.Pool:peak-size]
 *
 * Since: 1.0
 */
guint64
cymem_pool_get_peak_size (CymemPool *pool)
{
  guint64 peak;

  g_return_val_if_fail (CYMEM_IS_POOL (pool), 0);

  cymem_lock_acquire (&pool->lock);
  peak = pool->peak_size;
  cymem_lock_release (&pool->lock);

  return peak;
}

/**
 * cymem_pool_reset_peak_size:
 * @pool: a pool
 *
 * Starts the high-water mark again from the pool's current size.
 *
 * Since: 1.0
 */
void
cymem_pool_reset_peak_size (CymemPool *pool)
{

  g_return_if_fail (CYMEM_IS_POOL (pool));

  cymem_lock_acquire (&pool->lock);
  pool->peak_size = pool->size;
  cymem_lock_release (&pool->lock);
}

/**
 * cymem_pool_foreach: (skip)
 * @pool: a pool
 * @func: (scope call): the function to call for each block
 * @user_data: data to pass to @func
 *
 * Calls @func for each block @pool owns, oldest first. The pool is not
 * locked while @func runs: @func, and other threads, may use this pool and
 * others freely (allocate, free, steal, clear, walk again...). Blocks
 * freed or stolen before the walk reaches them are not visited; blocks
 * added during the walk may or may not be. A block passed to @func stays
 * readable until @func returns, even if it is freed meanwhile by @func or
 * another thread (its memory is released once the walk is over).
 *
 * Since: 1.0
 */
void
cymem_pool_foreach (CymemPool      *pool,
                    CymemBlockFunc  func,
                    gpointer        user_data)
{
  gboolean held;
  guint end;

  g_return_if_fail (CYMEM_IS_POOL (pool));
  g_return_if_fail (func != NULL);

  /* So that @func cannot finalize the pool under the walk. */
  held = cymem_pool_hold (pool);

  cymem_lock_acquire (&pool->lock);
  pool->table.pins++;
  end = pool->table.n_entries;
  cymem_lock_release (&pool->lock);

  /* Entries do not move while the table is pinned: the walk goes by index,
   * and checks each entry is still live just before visiting it. */
  for (guint i = 0; i < end; i++)
    {
      gpointer mem = NULL;
      gsize n_bytes = 0;
      gint state;

      cymem_lock_acquire (&pool->lock);
      state = cymem_table_entry_at (&pool->table, i, &mem, &n_bytes);
      cymem_lock_release (&pool->lock);

      if (state < 0)
        break;
      if (state > 0)
        {
          CYMEM_PERTURB ();
          func (mem, n_bytes, user_data);
        }
    }

  cymem_lock_acquire (&pool->lock);
  cymem_pool_unpin_unlock (pool);

  cymem_pool_unhold (pool, held);
}

/**
 * cymem_pool_clear:
 * @pool: a pool
 *
 * Releases everything @pool owns, as finalizing it would: first the
 * cleanups registered with [method@Cymem.Pool.own] and
 * [method@Cymem.Pool.own_object], last-in-first-out, then every block. The
 * pool is left empty and can be used again. A cleanup may allocate from
 * the pool (what it adds is released too) but not clear it: that is refused
 * with a critical warning. Children made with
 * [method@Cymem.Pool.new_child] are cleanups too: they die before any block
 * of their parent is freed.
 *
 * With other threads, clear is bounded: it runs the cleanups the pool had
 * when it was called plus those its own cleanups add, and frees the blocks
 * the pool holds once they have run; what other threads add meanwhile may
 * stay. While cleanups of the pool run on any thread, or another thread
 * walks it, no block of the pool is released: the pool looks empty at once,
 * and the memory goes when the last of them is done.
 *
 * Since: 1.0
 */
void
cymem_pool_clear (CymemPool *pool)
{
  gboolean held;

  g_return_if_fail (CYMEM_IS_POOL (pool));

  /* From one of the pool's own cleanups: clearing again would run the
   * cleanups still pending out of order. */
  if (pool_release_frame (pool) != NULL)
    {
      g_critical ("%s: %s is already being cleared or finalized on this "
                  "thread (a cleanup cannot clear its own pool); nothing was done",
                  G_STRFUNC, cymem_pool_label (pool));
      return;
    }

  /* A cleanup may drop the pool's last reference. */
  held = cymem_pool_hold (pool);
  pool_release_all (pool, FALSE);
  cymem_pool_unhold (pool, held);
}

/**
 * cymem_pool_own: (skip)
 * @pool: a pool
 * @data: (nullable): data to keep until @pool is cleared or finalized
 * @destroy: the function that releases @data
 *
 * Makes @pool responsible for @data: when the pool is cleared or finalized
 * it calls `destroy (data)`. Cleanups run last-in-first-out and before any
 * block of the pool is freed, so @destroy may still read pool memory.
 *
 * Since: 1.0
 */
void
cymem_pool_own (CymemPool      *pool,
                gpointer        data,
                GDestroyNotify  destroy)
{
  CymemCleanup cleanup = { data, destroy };
  CymemPoolExtra *extra;
  ReleaseFrame *frame;

  g_return_if_fail (CYMEM_IS_POOL (pool));
  g_return_if_fail (destroy != NULL);

  extra = cymem_pool_extra_ensure (pool);
  cymem_lock_acquire (&pool->lock);
  if (extra->cleanups == NULL)
    extra->cleanups = g_array_new (FALSE, FALSE, sizeof (CymemCleanup));
  g_array_append_val (extra->cleanups, cleanup);
  cymem_lock_release (&pool->lock);

  /* Registered by a cleanup of a clear of this pool on this thread: that
   * clear runs it too. */
  frame = pool_release_frame (pool);
  if (frame != NULL)
    frame->budget++;
}

/**
 * cymem_pool_disown: (skip)
 * @pool: a pool
 * @data: data registered with [method@Cymem.Pool.own]
 *
 * Takes back data registered with [method@Cymem.Pool.own], as
 * `apr_pool_cleanup_kill()` does: the cleanup is removed without being
 * run, and the caller owns @data again. If @data was registered several
 * times, the latest registration is removed. It may be called from another
 * cleanup while the pool is being cleared or finalized, for a cleanup that
 * has not run yet. Data the pool does not own (or whose cleanup already
 * ran) gets a critical warning. Objects owned with
 * [method@Cymem.Pool.own_object] are taken back with
 * [method@Cymem.Pool.disown_object], which drops the pool's reference.
 *
 * Since: 1.2
 */
void
cymem_pool_disown (CymemPool *pool,
                   gpointer   data)
{
  gboolean found = FALSE;
  GArray *cleanups;

  g_return_if_fail (CYMEM_IS_POOL (pool));

  /* Cleanups still pending in a clear or finalize are in the array too. */
  cymem_lock_acquire (&pool->lock);
  cleanups = cymem_pool_extra (pool)->cleanups;

  for (guint i = cleanups != NULL ? cleanups->len : 0; i > 0 && !found; i--)
    {
      CymemCleanup *cleanup = &g_array_index (cleanups, CymemCleanup, i - 1);

      if (cleanup->data == data && !cymem_pool_cleanup_is_link (cleanup, data))
        {
          g_array_remove_index (cleanups, i - 1);
          found = TRUE;
        }
    }
  cymem_lock_release (&pool->lock);

  if (!found)
    g_critical ("%s: %s does not own %p (or its cleanup has run)",
                G_STRFUNC, cymem_pool_label (pool), data);
}

/**
 * cymem_pool_own_object:
 * @pool: a pool
 * @object: (type GObject.Object): an object to keep alive
 *
 * Makes @pool hold a reference to @object until the pool is cleared or
 * finalized, with the same ordering as [method@Cymem.Pool.own]. A pool that
 * owns other pools forms a hierarchy. A pool cannot own itself, nor a pool
 * that holds it, directly or through other pools (a cycle nothing could
 * free): both are refused with a critical warning.
 *
 * Since: 1.0
 */
void
cymem_pool_own_object (CymemPool *pool,
                       gpointer   object)
{
  g_return_if_fail (CYMEM_IS_POOL (pool));
  g_return_if_fail (G_IS_OBJECT (object));
  g_return_if_fail (object != (gpointer)pool);

  if (CYMEM_IS_POOL (object))
    {
      g_object_ref (object);
      if (!cymem_pool_link_child (pool, object))
        {
          g_object_unref (object);
          g_critical ("%s: %s holds %s already; owning it back would form a "
                      "cycle that is never freed", G_STRFUNC,
                      cymem_pool_label (object), cymem_pool_label (pool));
        }
      return;
    }

  cymem_pool_own (pool, g_object_ref (object), g_object_unref);
}

/* For reports: the type of the first object the pool was attached to. */
static void
pool_note_owner (CymemPool *pool,
                 GObject   *owner)
{
  GType none = 0;

  __atomic_compare_exchange_n (&pool->owner_type, &none, G_OBJECT_TYPE (owner), FALSE,
                               __ATOMIC_RELAXED, __ATOMIC_RELAXED);
}

/**
 * cymem_pool_attach:
 * @pool: a pool
 * @owner: the object whose lifetime @pool should share
 *
 * Makes @owner hold a reference to @pool, so that the pool, and everything
 * it owns, dies with its last owner. The pool's memory is still valid inside
 * the owner's own `finalize`.
 *
 * One pool can be attached to several owners, but an owner holds at most one
 * pool this way: attaching a different pool to it is refused with a critical
 * warning, and attaching the same pool again changes nothing.
 *
 * Owner and pool must not form a cycle: attaching a pool to itself, or to
 * a pool it holds, directly or through other pools (its children, pools it
 * owns with [method@Cymem.Pool.own_object], pools attached to it), is
 * refused with a critical warning, even when another thread links the
 * pools at the same moment. A cycle through objects that are not pools
 * (the pool owning a plain object that holds the pool) cannot be detected:
 * neither would ever be freed.
 *
 * Since: 1.0
 */
void
cymem_pool_attach (CymemPool *pool,
                   GObject   *owner)
{
  CymemPool *existing;

  g_return_if_fail (CYMEM_IS_POOL (pool));
  g_return_if_fail (G_IS_OBJECT (owner));

  if (__atomic_load_n (&pool->finalizing, __ATOMIC_RELAXED))
    {
      g_critical ("%s: %s is being finalized and cannot be attached",
                  G_STRFUNC, cymem_pool_label (pool));
      return;
    }

  pool_publish (pool);
  /* Again if the pool that took the place is detached before it could be
   * named: the place is free then. */
  do
    {
      if (CYMEM_IS_POOL (owner))
        {
          /* Checked and linked as one step, against every other link. */
          CymemPoolLinkStatus status = cymem_pool_link_owner (pool, CYMEM_POOL (owner),
                                                              cymem_pool_owner_quark ());

          if (status == CYMEM_POOL_LINK_CYCLE)
            {
              g_critical ("%s: %s cannot be attached to %s: it holds it, and the "
                          "cycle would never be freed", G_STRFUNC, cymem_pool_label (pool),
                          (gpointer) owner == (gpointer) pool ? "itself" : "a pool");
              return;
            }
          if (status == CYMEM_POOL_LINK_OK)
            {
              pool_note_owner (pool, owner);
              return;
            }
        }
      else
        {
          g_object_ref (pool);
          if (g_object_replace_qdata (owner, cymem_pool_owner_quark (),
                                      NULL, pool, g_object_unref, NULL))
            {
              pool_note_owner (pool, owner);
              return;
            }
          g_object_unref (pool);
        }

      /* With a reference: another thread may detach and free it. */
      existing = pool_lookup (owner, TRUE);
    }
  while (existing == NULL);

  if (existing != pool)
    g_critical ("%s: %s %p already has %s attached; detach it before "
                "attaching %s",
                G_STRFUNC, G_OBJECT_TYPE_NAME (owner), (gpointer) owner,
                cymem_pool_label (existing), cymem_pool_label (pool));
  g_object_unref (existing);
}

/**
 * cymem_pool_detach:
 * @pool: a pool
 * @owner: an object @pool is attached to
 *
 * Drops the reference @owner holds on @pool, undoing
 * [method@Cymem.Pool.attach]. If that was the last reference, the pool is
 * finalized and frees everything it owns. Detaching from an object the pool
 * is not attached to is a critical warning.
 *
 * Since: 1.0
 */
void
cymem_pool_detach (CymemPool *pool,
                   GObject   *owner)
{
  GDestroyNotify old_destroy = NULL;

  g_return_if_fail (CYMEM_IS_POOL (pool));
  g_return_if_fail (G_IS_OBJECT (owner));

  if (!g_object_replace_qdata (owner, cymem_pool_owner_quark (),
                               pool, NULL, NULL, &old_destroy))
    {
      g_critical ("%s: %s is not attached to %s %p",
                  G_STRFUNC, cymem_pool_label (pool), G_OBJECT_TYPE_NAME (owner),
                  (gpointer) owner);
      return;
    }

  if (CYMEM_IS_POOL (owner))
    cymem_pool_unlink_owner (pool, CYMEM_POOL (owner));
  if (old_destroy != NULL)
    old_destroy (pool);
}

/**
 * cymem_pool_get_for_object:
 * @owner: an object
 *
 * Gets the pool attached to @owner with [method@Cymem.Pool.attach].
 *
 * Returns: (transfer none) (nullable): the attached pool, or %NULL
 *
 * Since: 1.0
 */
CymemPool *
cymem_pool_get_for_object (GObject *owner)
{
  g_return_val_if_fail (G_IS_OBJECT (owner), NULL);

  return pool_lookup (owner, FALSE);
}

/**
 * cymem_pool_ensure_for_object:
 * @owner: an object
 *
 * Gets the pool attached to @owner, creating and attaching a new one on
 * first use.
 *
 * Returns: (transfer none): the pool attached to @owner
 *
 * Since: 1.0
 */
CymemPool *
cymem_pool_ensure_for_object (GObject *owner)
{
  CymemPool *pool;

  g_return_val_if_fail (G_IS_OBJECT (owner), NULL);

  /* Again if another thread attached a pool first and a third detached it
   * before it could be read back. */
  while ((pool = pool_lookup (owner, FALSE)) == NULL)
    {
      /* Noted before it is published: once attached, another thread may
       * detach and free it. */
      CymemPool *made = cymem_pool_new ();

      pool_note_owner (made, owner);
      pool_publish (made);
      if (g_object_replace_qdata (owner, cymem_pool_owner_quark (),
                                  NULL, made, g_object_unref, NULL))
        return made;
      g_object_unref (made);
    }
  return pool;
}

/**
 * cymem_trim:
 *
 * Returns to the system the memory the library keeps for reuse in this
 * process: table arrays released by pools that shrank or died, and the
 * chunks small blocks were carved from, kept (at most 4 MiB of each)
 * because fresh pages cost a page fault each. Call it after tearing down
 * large pools, as one calls `malloc_trim()`.
 *
 * Since: 1.2
 */
void
cymem_trim (void)
{
  cymem_table_trim ();
  cymem_chunk_trim ();
}
