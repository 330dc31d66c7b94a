/* cymem-pool-report.c: names, reports and leak reports
 *
 * SPDX-License-Identifier: MIT
 *
 * talloc_report_full and talloc's names, the GLib way: a pool has a name
 * property, cymem_pool_report() describes a pool and its subtree,
 * G_MESSAGES_DEBUG=Cymem logs each pool's figures when it is finalized,
 * and CYMEM_DEBUG=leaks reports the pools still alive at exit. None of it
 * is on the allocation path.
 */

#include "config.h"

#include <stdio.h>

#include "cymem-pool-private.h"

#define LABEL_SIZE 96

const gchar *
cymem_pool_label (gpointer data)
{
  static _Thread_local gchar labels[2][LABEL_SIZE];
  static _Thread_local guint next;
  CymemPool *pool = data;
  gchar *label = labels[next++ % 2];

  const gchar *name;

  cymem_lock_acquire (&pool->lock);
  name = cymem_pool_extra (pool)->name;
  if (name != NULL)
    g_snprintf (label, LABEL_SIZE, "pool %p '%s'", data, name);
  else
    g_snprintf (label, LABEL_SIZE, "pool %p", data);
  cymem_lock_release (&pool->lock);

  return label;
}

static void
append_figures (CymemPool *pool,
                GString   *out)
{
  guint n_blocks;
  gsize size;
  guint64 peak, limit;

  cymem_lock_acquire (&pool->lock);
  n_blocks = cymem_table_count (&pool->table);
  size = pool->size;
  peak = pool->peak_size;
  limit = cymem_pool_extra (pool)->limit;
  cymem_lock_release (&pool->lock);

  g_string_append_printf (out, "%u block%s, %" G_GSIZE_FORMAT " bytes, peak %"
                          G_GUINT64_FORMAT " bytes, ",
                          n_blocks, n_blocks == 1 ? "" : "s", size, peak);
  if (limit != 0)
    g_string_append_printf (out, "limit %" G_GUINT64_FORMAT " bytes", limit);
  else
    g_string_append (out, "no limit");
}

void
cymem_pool_report_locked (CymemPool *pool,
                          GString   *out,
                          guint      depth)
{
  GType owner_type = __atomic_load_n (&pool->owner_type, __ATOMIC_RELAXED);
  GPtrArray *children = cymem_pool_extra (pool)->children;

  for (guint i = 0; i < depth; i++)
    g_string_append (out, "  ");
  g_string_append (out, cymem_pool_label (pool));
  if (owner_type != 0)
    g_string_append_printf (out, " (attached to %s)", g_type_name (owner_type));
  g_string_append (out, ": ");
  append_figures (pool, out);
  if (children != NULL && children->len > 0)
    g_string_append_printf (out, "; %" G_GUINT64_FORMAT " bytes in its subtree (%u child%s)",
                            cymem_pool_total_size_locked (pool), children->len,
                            children->len == 1 ? "" : "ren");
  g_string_append_c (out, '\n');

  for (guint i = 0; children != NULL && i < children->len; i++)
    cymem_pool_report_locked (g_ptr_array_index (children, i), out, depth + 1);
}

/**
 * cymem_pool_report:
 * @pool: a pool
 *
 * Describes @pool and its whole subtree (the pools it made with
 * [method@Cymem.Pool.new_child] or owns with [method@Cymem.Pool.own_object],
 * theirs, and so on), one line a pool, indented by depth, in the spirit of
 * `talloc_report_full()`: each pool's name, the type of the object it was
 * first attached to, its number of blocks, their exact size in bytes, its
 * peak size and its limit, and for a pool with children the total of its
 * subtree. For example:
 *
 * ```
 * pool 0x5581c0 'request' (attached to GtkWindow): 2 blocks, 96 bytes, peak 96 bytes, limit 4096 bytes; 160 bytes in its subtree (1 child)
 *   pool 0x5581f0 'headers': 1 block, 64 bytes, peak 64 bytes, no limit
 * ```
 *
 * Returns: (transfer full): the report, one line a pool
 *
 * Since: 1.2
 */
gchar *
cymem_pool_report (CymemPool *pool)
{
  GString *out;

  g_return_val_if_fail (CYMEM_IS_POOL (pool), NULL);

  out = g_string_new (NULL);
  cymem_pool_tree_lock ();
  cymem_pool_report_locked (pool, out, 0);
  cymem_pool_tree_unlock ();

  return g_string_free (out, FALSE);
}

/* --- CYMEM_DEBUG=leaks --- */

static gboolean track_leaks;
/* Whether G_MESSAGES_DEBUG asked for our debug messages when the class was
 * made: asking GLib at every finalize reads the environment each time. */
static gboolean log_finalize;
static CymemLock live_lock = CYMEM_LOCK_INIT;
static GHashTable *live_pools;

static void
report_leaks (void)
{
  GString *out = g_string_new (NULL);
  guint n_live, n_roots = 0;

  cymem_pool_tree_lock ();
  cymem_lock_acquire (&live_lock);
  n_live = g_hash_table_size (live_pools);
  if (n_live > 0)
    {
      GHashTableIter iter;
      gpointer pool;

      g_hash_table_iter_init (&iter, live_pools);
      while (g_hash_table_iter_next (&iter, &pool, NULL))
        /* A child is in its parent's report. */
        if (cymem_pool_extra (pool)->parent == NULL)
          {
            cymem_pool_report_locked (pool, out, 1);
            n_roots++;
          }
    }
  cymem_lock_release (&live_lock);
  cymem_pool_tree_unlock ();

  if (n_live > 0)
    fprintf (stderr, "cymem: %u pool%s still alive at exit (CYMEM_DEBUG=leaks), in %u tree%s:\n%s",
             n_live, n_live == 1 ? "" : "s", n_roots, n_roots == 1 ? "" : "s", out->str);
  g_string_free (out, TRUE);
}

/* Once, from class_init. */
void
cymem_pool_debug_init (void)
{
  static const GDebugKey keys[] = { { "leaks", 1 } };
  const gchar *value = g_getenv ("CYMEM_DEBUG");

  /* Atomic, as they are read by pools made on other threads: GLib's class
   * initialisation orders these writes before them, but through locks
   * ThreadSanitizer cannot see. */
  __atomic_store_n (&log_finalize,
                    !g_log_writer_default_would_drop (G_LOG_LEVEL_DEBUG, G_LOG_DOMAIN),
                    __ATOMIC_RELEASE);

  if (value == NULL || (g_parse_debug_string (value, keys, G_N_ELEMENTS (keys)) & 1) == 0)
    return;
  live_pools = g_hash_table_new (NULL, NULL);
  __atomic_store_n (&track_leaks, TRUE, __ATOMIC_RELEASE);
  atexit (report_leaks);
}

void
cymem_pool_debug_register (CymemPool *pool)
{
  if (G_LIKELY (!__atomic_load_n (&track_leaks, __ATOMIC_ACQUIRE)))
    return;
  cymem_lock_acquire (&live_lock);
  g_hash_table_add (live_pools, pool);
  cymem_lock_release (&live_lock);
}

void
cymem_pool_debug_finalize (CymemPool *pool)
{
  /* g_log_set_debug_enabled() may turn them on later. */
  if (G_UNLIKELY (__atomic_load_n (&log_finalize, __ATOMIC_ACQUIRE) || g_log_get_debug_enabled ()))
    {
      GString *figures = g_string_new (NULL);

      append_figures (pool, figures);
      g_debug ("finalizing %s: %s", cymem_pool_label (pool), figures->str);
      g_string_free (figures, TRUE);
    }

  if (G_UNLIKELY (__atomic_load_n (&track_leaks, __ATOMIC_ACQUIRE)))
    {
      cymem_lock_acquire (&live_lock);
      g_hash_table_remove (live_pools, pool);
      cymem_lock_release (&live_lock);
    }
}

/**
 * cymem_pool_set_name: (set-property name)
 * @pool: a pool
 * @name: (nullable): a name for people, or %NULL
 *
 * Sets the [property@Cymem.Pool:name].
 *
 * Since: 1.2
 */
void
cymem_pool_set_name (CymemPool   *pool,
                     const gchar *name)
{
  CymemPoolExtra *extra;
  gchar *old;
  gboolean changed;

  g_return_if_fail (CYMEM_IS_POOL (pool));

  extra = cymem_pool_extra_ensure (pool);
  cymem_lock_acquire (&pool->lock);
  changed = g_strcmp0 (extra->name, name) != 0;
  old = extra->name;
  extra->name = changed ? g_strdup (name) : old;
  cymem_lock_release (&pool->lock);

  if (changed)
    {
      g_free (old);
      g_object_notify (G_OBJECT (pool), "name");
    }
}

/**
 * cymem_pool_dup_name: (get-property name)
 * @pool: a pool
 *
 * Gets a copy of the [property@Cymem.Pool:name]: another thread may rename
 * the pool meanwhile, so no pointer into it is handed out.
 *
 * Returns: (transfer full) (nullable): the name, or %NULL
 *
 * Since: 1.2
 */
gchar *
cymem_pool_dup_name (CymemPool *pool)
{
  gchar *name;

  g_return_val_if_fail (CYMEM_IS_POOL (pool), NULL);

  cymem_lock_acquire (&pool->lock);
  name = g_strdup (cymem_pool_extra (pool)->name);
  cymem_lock_release (&pool->lock);

  return name;
}
