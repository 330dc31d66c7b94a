/* cymem-pool-tree.c: moving blocks between pools, and pools of pools
 *
 * SPDX-License-Identifier: MIT
 *
 * talloc_steal and talloc's hierarchy, the GLib way: a child pool is an
 * object its parent owns, so it dies in the parent's cleanups, before any of
 * the parent's blocks is freed.
 */

#include "config.h"

#include "cymem-pool-private.h"

/* Guards the links between pools (see "the links between pools" below).
 * The pool's own lock kind: GLib's GMutex is invisible to ThreadSanitizer
 * when GLib itself is not instrumented. */
static CymemLock tree_lock = CYMEM_LOCK_INIT;

CymemPoolStatus
cymem_pool_steal_internal (CymemPool *self,
                           CymemPool *from,
                           gpointer   mem,
                           gsize     *n_bytes_out)
{
  CymemPool *first, *second;
  CymemPoolStatus status = CYMEM_POOL_STATUS_OK;
  gsize n_bytes = 0;

  *n_bytes_out = 0;

  /* A block must go back to the allocator it came from. */
  if (cymem_pool_extra (self)->malloc_func != cymem_pool_extra (from)->malloc_func ||
      cymem_pool_extra (self)->free_func != cymem_pool_extra (from)->free_func)
    return CYMEM_POOL_STATUS_DIFFERENT_ALLOCATORS;

  if (self == from)
    {
      gboolean owned;

      cymem_lock_acquire (&self->lock);
      owned = cymem_table_lookup (&self->table, mem, NULL);
      cymem_lock_release (&self->lock);
      return owned ? CYMEM_POOL_STATUS_OK : CYMEM_POOL_STATUS_NOT_OWNED;
    }

  /* Both locks, always in address order, so that two threads stealing in
   * opposite directions cannot deadlock; no other code holds two pool
   * locks, nor calls out while holding one. Into a limited tree, the tree
   * lock is taken first and the tree's limits checked before. */
  first = (guintptr) self < (guintptr) from ? self : from;
  second = first == self ? from : self;
  for (;;)
    {
      gboolean limited = __atomic_load_n (&self->tree_limited, __ATOMIC_RELAXED);
      gboolean fits = TRUE;
      gsize checked = 0;

      if (limited)
        {
          gboolean owned;

          cymem_lock_acquire (&tree_lock);
          cymem_lock_acquire (&from->lock);
          owned = cymem_table_lookup (&from->table, mem, &checked);
          cymem_lock_release (&from->lock);
          if (!owned)
            {
              cymem_lock_release (&tree_lock);
              return CYMEM_POOL_STATUS_NOT_OWNED;
            }
          fits = cymem_pool_tree_fits (self, checked, 0, from);
        }

      cymem_lock_acquire (&first->lock);
      cymem_lock_acquire (&second->lock);

      if (!cymem_table_lookup (&from->table, mem, &n_bytes))
        status = CYMEM_POOL_STATUS_NOT_OWNED;
      else if ((!limited && self->tree_limited) || (limited && n_bytes != checked))
        {
          /* @pool became limited, or the block was resized, meanwhile:
           * check again. */
          cymem_lock_release (&second->lock);
          cymem_lock_release (&first->lock);
          if (limited)
            cymem_lock_release (&tree_lock);
          continue;
        }
      else if (!fits)
        status = CYMEM_POOL_STATUS_LIMIT_EXCEEDED;
      /* Room first, so that the block is never in neither table: entries
       * wide enough for it, then room (widening out of the table itself
       * makes arrays but no index, which the room includes; the other
       * order lost the block when the index could not be had, found by
       * adversarial review). And a reader of @from may be looking at the
       * block (a walk, a copy, a cleanup): @pool then keeps its memory
       * until they are done. */
      else if (!cymem_table_prepare (&self->table, mem, n_bytes) ||
               !cymem_table_reserve (&self->table, 1))
        status = CYMEM_POOL_STATUS_NO_MEMORY;
      else if ((status = cymem_pool_add_debtor_locked (from, self)) != CYMEM_POOL_STATUS_OK)
        ;  /* see cymem_pool_add_debtor_locked() */
      else
        {
          cymem_table_remove (&from->table, mem, NULL, NULL);
          if (from->table.pins == 0)
            cymem_table_maybe_shrink (&from->table);  /* as a free would */
          from->size -= n_bytes;
          /* The block stays in its chunk, now lent out (or back home). */
          if (cymem_pool_extra (self)->malloc_func == NULL && cymem_chunk_contains (mem))
            cymem_chunk_note_steal (mem, from->table.heap, self->table.heap);
          if (!cymem_table_insert (&self->table, mem, n_bytes))
            g_assert_not_reached ();  /* room was made above */
          self->size += n_bytes;
          cymem_pool_note_growth_locked (self);
        }

      cymem_lock_release (&second->lock);
      cymem_lock_release (&first->lock);
      if (limited)
        cymem_lock_release (&tree_lock);
      break;
    }

  *n_bytes_out = n_bytes;
  return status;
}

/**
 * cymem_pool_steal: (skip)
 * @pool: the pool to move the block to
 * @from: the pool that owns it now
 * @mem: a block of @from
 *
 * Moves a block from @from to @pool without copying it, like
 * `talloc_steal()`; [property@Cymem.Pool:size] and
 * [property@Cymem.Pool:n-allocations] move with it. The two pools must use
 * the same allocator, since the block must go back to the one it came from.
 *
 * A block @from does not own and pools with different allocators are
 * refused with a critical warning. A block that would take @pool over its
 * [property@Cymem.Pool:limit], or that @pool has no memory to record, is
 * refused without one. Nothing changes when the steal is refused.
 *
 * A block that a [method@Cymem.Pool.foreach] of @from may be visiting (or
 * a cleanup of @from reading) stays readable even if @pool frees it: @pool
 * keeps the memory of the blocks it frees until @from's walks and cleanups
 * in progress are done, and so does a pool that takes the block from @pool
 * meanwhile (unless that one is itself walked, read, or keeping memory
 * for other pools: pools never wait for each other in a cycle). Moving such a block into a pool
 * that is being finalized, which could keep nothing, is refused without a
 * warning; try again once the walks are done.
 *
 * Returns: %TRUE if @pool now owns @mem
 *
 * Since: 1.0
 */
gboolean
cymem_pool_steal (CymemPool *pool,
                  CymemPool *from,
                  gpointer   mem)
{
  CymemPoolStatus status;
  gsize n_bytes;

  g_return_val_if_fail (CYMEM_IS_POOL (pool), FALSE);
  g_return_val_if_fail (CYMEM_IS_POOL (from), FALSE);

  status = cymem_pool_steal_internal (pool, from, mem, &n_bytes);
  if (status == CYMEM_POOL_STATUS_OK)
    return TRUE;

  cymem_pool_warn_status (from, status, G_STRFUNC, mem);
  return FALSE;
}

/* --- the links between pools ---
 *
 * A pool can hold another in two ways: by owning it (new_child,
 * own_object: a cleanup of the holder drops the reference) and by being
 * the owner it is attached to. Each pool lists its holders, and its first
 * owner is its parent. One process-wide lock guards all of these lists, so
 * that checking for a cycle and making the link it allows are one step for
 * every thread; it is only taken when links change, never on the
 * allocation paths, and no pool lock is held while taking it. */

typedef struct
{
  CymemPool *holder;
  CymemPool *child;
} PoolLink;

static void
links_add (GPtrArray **links,
           CymemPool  *pool)
{
  if (*links == NULL)
    *links = g_ptr_array_new ();
  g_ptr_array_add (*links, pool);
}

static void
links_remove (GPtrArray *links,
              CymemPool *pool)
{
  if (links != NULL)
    g_ptr_array_remove (links, pool);
}

void
cymem_pool_tree_lock (void)
{
  cymem_lock_acquire (&tree_lock);
}

void
cymem_pool_tree_unlock (void)
{
  cymem_lock_release (&tree_lock);
}

/* Marks which pools of @pool's subtree are bounded by a limit. */
static void
update_limited_locked (CymemPool *pool,
                       gboolean   inherited)
{
  CymemPoolExtra *extra = cymem_pool_extra (pool);
  GPtrArray *children = extra->children;
  gboolean limited = inherited || __atomic_load_n (&extra->limit, __ATOMIC_RELAXED) != 0;

  /* Under the pool's lock: a growth that read the flag clear before the
   * lock sees it set once it holds the lock, and takes the tree's path. */
  cymem_lock_acquire (&pool->lock);
  __atomic_store_n (&pool->tree_limited, limited, __ATOMIC_RELAXED);
  cymem_lock_release (&pool->lock);

  for (guint i = 0; children != NULL && i < children->len; i++)
    update_limited_locked (g_ptr_array_index (children, i), limited);
}

static gboolean
parent_limited_locked (CymemPool *pool)
{
  CymemPool *parent = cymem_pool_extra (pool)->parent;

  return parent != NULL && __atomic_load_n (&parent->tree_limited, __ATOMIC_RELAXED);
}

void
cymem_pool_tree_set_limit (CymemPool *pool,
                           guint64    limit)
{
  CymemPoolExtra *extra = cymem_pool_extra_ensure (pool);

  cymem_lock_acquire (&tree_lock);
  cymem_lock_acquire (&pool->lock);
  __atomic_store_n (&extra->limit, limit, __ATOMIC_RELAXED);
  cymem_lock_release (&pool->lock);
  update_limited_locked (pool, parent_limited_locked (pool));
  cymem_lock_release (&tree_lock);
}

/* Bytes used and reserved in @pool and its descendants. */
static guint64
subtree_used_locked (CymemPool *pool,
                     gboolean   with_reserved)
{
  GPtrArray *children = cymem_pool_extra (pool)->children;
  guint64 used;

  cymem_lock_acquire (&pool->lock);
  used = (guint64) pool->size + (with_reserved ? cymem_pool_extra (pool)->reserved : 0);
  cymem_lock_release (&pool->lock);

  for (guint i = 0; children != NULL && i < children->len; i++)
    used += subtree_used_locked (g_ptr_array_index (children, i), with_reserved);
  return used;
}

static gboolean
is_descendant_or_self_locked (CymemPool *pool,
                              CymemPool *ancestor)
{
  for (CymemPool *p = pool; p != NULL; p = cymem_pool_extra (p)->parent)
    if (p == ancestor)
      return TRUE;
  return FALSE;
}

gboolean
cymem_pool_tree_fits (CymemPool *pool,
                      gsize      n_bytes,
                      gsize      reserved,
                      CymemPool *from)
{
  for (CymemPool *a = pool; a != NULL; a = cymem_pool_extra (a)->parent)
    {
      guint64 limit = __atomic_load_n (&cymem_pool_extra (a)->limit, __ATOMIC_RELAXED);
      guint64 used;

      /* A block moving within @a's subtree does not change its total. */
      if (limit == 0 || (from != NULL && is_descendant_or_self_locked (from, a)))
        continue;
      used = subtree_used_locked (a, TRUE) - reserved;
      /* Over the limit already (it was lowered), only 0 bytes fit. */
      if (n_bytes > (used >= limit ? 0 : limit - used))
        return FALSE;
    }
  return TRUE;
}

/* TRUE if @holder is @pool or holds it, directly or through other pools. */
static gboolean
held_by_locked (CymemPool *pool,
                CymemPool *holder)
{
  GPtrArray *holders = cymem_pool_extra (pool)->holders;

  if (pool == holder)
    return TRUE;
  for (guint i = 0; holders != NULL && i < holders->len; i++)
    if (held_by_locked (g_ptr_array_index (holders, i), holder))
      return TRUE;
  return FALSE;
}

/* The cleanup through which a pool owns another: the links go before the
 * holder's reference does. */
static void
link_release (gpointer data)
{
  PoolLink *link = data;
  CymemPool *child = link->child;

  cymem_lock_acquire (&tree_lock);
  links_remove (cymem_pool_extra (child)->holders, link->holder);
  if (cymem_pool_extra (child)->parent == link->holder)
    {
      cymem_pool_extra (child)->parent = NULL;
      links_remove (cymem_pool_extra (link->holder)->children, child);
      update_limited_locked (child, FALSE);
    }
  cymem_lock_release (&tree_lock);

  g_free (link);
  g_object_unref (child);
}

gboolean
cymem_pool_cleanup_is_link (const CymemCleanup *cleanup,
                            gpointer            object)
{
  return cleanup->destroy == link_release && ((PoolLink *) cleanup->data)->child == object;
}

gboolean
cymem_pool_link_child (CymemPool *holder,
                       CymemPool *child)
{
  PoolLink *link;

  cymem_lock_acquire (&tree_lock);
  if (held_by_locked (holder, child))
    {
      cymem_lock_release (&tree_lock);
      return FALSE;
    }
  link = g_new (PoolLink, 1);
  link->holder = holder;
  link->child = child;
  links_add (&cymem_pool_extra_ensure (child)->holders, holder);
  if (cymem_pool_extra (child)->parent == NULL)
    {
      cymem_pool_extra (child)->parent = holder;
      links_add (&cymem_pool_extra_ensure (holder)->children, child);
      update_limited_locked (child, __atomic_load_n (&holder->tree_limited, __ATOMIC_RELAXED));
    }
  cymem_pool_own (holder, link, link_release);
  cymem_lock_release (&tree_lock);

  return TRUE;
}

CymemPoolLinkStatus
cymem_pool_link_owner (CymemPool *pool,
                       CymemPool *owner,
                       GQuark     quark)
{
  CymemPoolLinkStatus status = CYMEM_POOL_LINK_OK;

  CymemPoolExtra *owner_extra = cymem_pool_extra_ensure (owner);

  cymem_lock_acquire (&tree_lock);
  /* Set first: the owner's finalize looks for an attached pool only then. */
  owner_extra->holds_attached = TRUE;
  if (held_by_locked (owner, pool))
    status = CYMEM_POOL_LINK_CYCLE;
  else if (g_object_replace_qdata (G_OBJECT (owner), quark, NULL, g_object_ref (pool),
                                   g_object_unref, NULL))
    links_add (&cymem_pool_extra_ensure (pool)->holders, owner);
  else
    {
      g_object_unref (pool);
      status = CYMEM_POOL_LINK_TAKEN;
    }
  cymem_lock_release (&tree_lock);

  return status;
}

void
cymem_pool_unlink_owner (CymemPool *pool,
                         CymemPool *owner)
{
  cymem_lock_acquire (&tree_lock);
  links_remove (cymem_pool_extra (pool)->holders, owner);
  cymem_lock_release (&tree_lock);
}

void
cymem_pool_tree_finalize (CymemPool *pool)
{
  /* Nobody links a pool with no references left: most never had links. */
  if (cymem_pool_extra (pool)->children == NULL && cymem_pool_extra (pool)->holders == NULL)
    return;
  cymem_lock_acquire (&tree_lock);
  g_clear_pointer (&cymem_pool_extra (pool)->children, g_ptr_array_unref);
  g_clear_pointer (&cymem_pool_extra (pool)->holders, g_ptr_array_unref);
  cymem_lock_release (&tree_lock);
}

/**
 * cymem_pool_new_child:
 * @parent: a pool
 *
 * Creates a pool owned by @parent that uses @parent's allocator, so blocks
 * can be stolen between them. The child dies when @parent is cleared or
 * finalized, before any of @parent's blocks is freed (so the child's
 * cleanups can still read its parent's memory), or earlier through
 * [method@Cymem.Pool.disown_object].
 *
 * Returns: (transfer none): the new child, owned by @parent
 *
 * Since: 1.0
 */
CymemPool *
cymem_pool_new_child (CymemPool *parent)
{
  CymemPool *child;

  g_return_val_if_fail (CYMEM_IS_POOL (parent), NULL);

  child = g_object_new (CYMEM_TYPE_POOL, NULL);
  if (cymem_pool_extra (parent)->malloc_func != NULL)
    {
      CymemPoolExtra *extra = cymem_pool_extra_ensure (child);

      extra->malloc_func = cymem_pool_extra (parent)->malloc_func;
      extra->free_func = cymem_pool_extra (parent)->free_func;
    }

  /* The parent takes over our reference; a new pool cannot form a cycle. */
  cymem_pool_link_child (parent, child);

  return child;
}

/**
 * cymem_pool_disown_object:
 * @pool: a pool
 * @object: (type GObject.Object): an object @pool owns
 *
 * Drops the reference that [method@Cymem.Pool.own_object] (or
 * [method@Cymem.Pool.new_child]) gave @pool, now rather than when the pool
 * is cleared: a child pool can die early this way. If @object was owned
 * several times, the latest is dropped. Disowning an object the pool does
 * not own is a critical warning.
 *
 * Since: 1.0
 */
void
cymem_pool_disown_object (CymemPool *pool,
                          gpointer   object)
{
  GDestroyNotify destroy = NULL;
  gpointer data = NULL;
  GArray *cleanups;

  g_return_if_fail (CYMEM_IS_POOL (pool));
  g_return_if_fail (G_IS_OBJECT (object));

  /* Cleanups still pending in a clear or finalize are in the array too:
   * they are popped one at a time. */
  cymem_lock_acquire (&pool->lock);
  cleanups = cymem_pool_extra (pool)->cleanups;
  for (guint i = cleanups != NULL ? cleanups->len : 0; i > 0; i--)
    {
      CymemCleanup *cleanup = &g_array_index (cleanups, CymemCleanup, i - 1);

      if ((cleanup->data == object && cleanup->destroy == g_object_unref) ||
          cymem_pool_cleanup_is_link (cleanup, object))
        {
          destroy = cleanup->destroy;
          data = cleanup->data;
          g_array_remove_index (cleanups, i - 1);
          break;
        }
    }
  cymem_lock_release (&pool->lock);

  if (destroy == NULL)
    {
      g_critical ("%s: %s does not own %s %p", G_STRFUNC, cymem_pool_label (pool),
                  G_OBJECT_TYPE_NAME (object), object);
      return;
    }

  /* Outside the lock: this may finalize @object, a child pool included. */
  destroy (data);
}

/**
 * cymem_pool_get_parent:
 * @pool: a pool
 *
 * Gets the pool that made @pool with [method@Cymem.Pool.new_child], or that
 * first took it with [method@Cymem.Pool.own_object]. A pool leaves its
 * parent's tree when the parent lets it go: when the parent is cleared or
 * finalized (the child then dies unless something else holds it), or
 * through [method@Cymem.Pool.disown_object]; it then has no parent. The
 * object a pool is attached to ([method@Cymem.Pool.attach]) is not its
 * parent, and the death of that owner does not change the tree.
 *
 * Returns: (transfer none) (nullable): the parent, or %NULL
 *
 * Since: 1.2
 */
CymemPool *
cymem_pool_get_parent (CymemPool *pool)
{
  CymemPool *parent;

  g_return_val_if_fail (CYMEM_IS_POOL (pool), NULL);

  cymem_lock_acquire (&tree_lock);
  parent = cymem_pool_extra (pool)->parent;
  cymem_lock_release (&tree_lock);

  return parent;
}

/**
 * cymem_pool_is_ancestor:
 * @pool: a pool
 * @ancestor: another pool
 *
 * Checks whether @ancestor is a strict ancestor of @pool: its parent, its
 * parent's parent, and so on (see [method@Cymem.Pool.get_parent]), as
 * `gtk_widget_is_ancestor()` and `apr_pool_is_ancestor()` do. A pool is not
 * its own ancestor.
 *
 * Returns: %TRUE if @ancestor is an ancestor of @pool
 *
 * Since: 1.2
 */
gboolean
cymem_pool_is_ancestor (CymemPool *pool,
                        CymemPool *ancestor)
{
  gboolean found = FALSE;

  g_return_val_if_fail (CYMEM_IS_POOL (pool), FALSE);
  g_return_val_if_fail (CYMEM_IS_POOL (ancestor), FALSE);

  cymem_lock_acquire (&tree_lock);
  for (CymemPool *p = cymem_pool_extra (pool)->parent; p != NULL && !found; p = cymem_pool_extra (p)->parent)
    found = p == ancestor;
  cymem_lock_release (&tree_lock);

  return found;
}

/**
 * cymem_pool_list_children:
 * @pool: a pool
 *
 * Lists the pools whose parent is @pool, oldest first.
 *
 * Returns: (transfer container) (element-type CymemPool): the children;
 *   free the array with g_ptr_array_unref(). The pools are not referenced
 *   (as with gtk_widget_get_first_child()): they stay valid while @pool
 *   owns them; take a reference to keep one longer, or across threads
 *   that may release it.
 *
 * Since: 1.2
 */
GPtrArray *
cymem_pool_list_children (CymemPool *pool)
{
  GPtrArray *children, *own;

  g_return_val_if_fail (CYMEM_IS_POOL (pool), NULL);

  children = g_ptr_array_new ();
  cymem_lock_acquire (&tree_lock);
  own = cymem_pool_extra (pool)->children;
  for (guint i = 0; own != NULL && i < own->len; i++)
    g_ptr_array_add (children, g_ptr_array_index (own, i));
  cymem_lock_release (&tree_lock);

  return children;
}

/**
 * cymem_pool_get_total_size: (get-property total-size)
 * @pool: a pool
 *
 * Gets the size of @pool and of all its descendants (children, their
 * children...), in bytes, as `talloc_total_size()` does: the figure that
 * [property@Cymem.Pool:limit] bounds.
 *
 * Returns: the [property@Cymem.Pool:total-size]
 *
 * Since: 1.2
 */
guint64
cymem_pool_get_total_size (CymemPool *pool)
{
  guint64 total;

  g_return_val_if_fail (CYMEM_IS_POOL (pool), 0);

  cymem_lock_acquire (&tree_lock);
  total = cymem_pool_total_size_locked (pool);
  cymem_lock_release (&tree_lock);

  return total;
}

guint64
cymem_pool_total_size_locked (CymemPool *pool)
{
  return subtree_used_locked (pool, FALSE);
}
