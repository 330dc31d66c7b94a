/* per-item.c: one small pool per object, against g_malloc0 + qdata
 *
 * SPDX-License-Identifier: MIT
 *
 * What a GTK developer following the README does: N list items, each a
 * GObject with one 64-byte struct, the struct either in a pool attached to
 * the item (cymem_pool_ensure_for_object + cymem_pool_alloc) or from
 * g_malloc0 and freed by g_object_set_data_full. One mode per process, so
 * that resident memory is the mode's own:
 *
 *   per-item MODE [N]     MODE: qdata | pool | floor | big | shrink
 *
 * "floor" is the least any pool that is a GObject could cost: a final
 * GObject with one property and no other code, holding the block (freed in
 * its finalize), attached as the pool is (qdata). It is what the pool
 * mode's overhead is measured against.
 *
 * "big" is one pool of N 64-byte blocks instead, for the memory left after
 * it dies, before and after cymem_trim(); "shrink" the same pool with all
 * its blocks but one freed.
 *
 * Prints MODE, ns per item to create, ns per item to destroy, resident bytes
 * per item while alive, and resident bytes left over after the teardown and
 * malloc_trim() (and cymem_trim() where it exists), against the start.
 */

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cymem-glib/cymem-glib.h>

/* The floor: a GObject that holds one block, and does nothing else. */
#define BENCH_TYPE_HOLDER (bench_holder_get_type ())
G_DECLARE_FINAL_TYPE (BenchHolder, bench_holder, BENCH, HOLDER, GObject)

struct _BenchHolder
{
  GObject  parent_instance;
  gpointer block;
};

G_DEFINE_FINAL_TYPE (BenchHolder, bench_holder, G_TYPE_OBJECT)

static void
bench_holder_get_property (GObject    *object,
                           guint       prop_id,
                           GValue     *value,
                           GParamSpec *pspec)
{
  g_value_set_pointer (value, BENCH_HOLDER (object)->block);
}

static void
bench_holder_finalize (GObject *object)
{
  g_free (((BenchHolder *) object)->block);
  G_OBJECT_CLASS (bench_holder_parent_class)->finalize (object);
}

static void
bench_holder_class_init (BenchHolderClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->get_property = bench_holder_get_property;
  object_class->finalize = bench_holder_finalize;
  /* Like the pool's: a class with properties costs GObject more. */
  g_object_class_install_property (object_class, 1,
    g_param_spec_pointer ("block", NULL, NULL, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));
}

static void
bench_holder_init (BenchHolder *self)
{
}

static gsize
resident_bytes (void)
{
  g_autofree gchar *status = NULL;
  const gchar *line;

  if (!g_file_get_contents ("/proc/self/status", &status, NULL, NULL) ||
      (line = strstr (status, "VmRSS:")) == NULL)
    return 0;
  return g_ascii_strtoull (line + 6, NULL, 10) * 1024;
}

int
main (int   argc,
      char *argv[])
{
  gboolean pool_mode, floor_mode;
  guint n = argc > 2 ? (guint) atoi (argv[2]) : 100000;
  GObject **items;
  gsize rss_start, rss_alive, rss_after;
  gint64 t0, t1, t2;

  if (argc > 1 && strcmp (argv[1], "big") == 0)
    {
      CymemPool *pool = cymem_pool_new ();
      gsize after_unref;

      malloc_trim (0);
      rss_start = resident_bytes ();
      for (guint i = 0; i < n; i++)
        cymem_pool_alloc (pool, 1, 64);
      rss_alive = resident_bytes ();
      g_object_unref (pool);
      malloc_trim (0);
      after_unref = resident_bytes ();
      cymem_trim ();
      rss_after = resident_bytes ();
      printf ("big,%u blocks,alive %+.1f MiB,after unref %+.2f MiB,after cymem_trim %+.2f MiB\n", n,
              ((gdouble) rss_alive - (gdouble) rss_start) / 1048576.0,
              ((gdouble) after_unref - (gdouble) rss_start) / 1048576.0,
              ((gdouble) rss_after - (gdouble) rss_start) / 1048576.0);
      return 0;
    }
  if (argc > 1 && strcmp (argv[1], "shrink") == 0)
    {
      /* N blocks, all but the last freed: what the pool still holds, and
       * the process with it (the caches, until cymem_trim()). */
      CymemPool *pool = cymem_pool_new ();
      gpointer *blocks = g_new (gpointer, n);
      gsize with_caches;

      malloc_trim (0);
      rss_start = resident_bytes ();
      for (guint i = 0; i < n; i++)
        blocks[i] = cymem_pool_alloc (pool, 1, 64);
      rss_alive = resident_bytes ();
      for (guint i = 0; i + 1 < n; i++)
        cymem_pool_free (pool, blocks[i]);
      g_free (blocks);
      malloc_trim (0);
      with_caches = resident_bytes ();
      cymem_trim ();
      rss_after = resident_bytes ();
      printf ("shrink,%u blocks,alive %+.1f MiB,all but one freed %+.2f MiB,"
              "after cymem_trim %+.2f MiB\n", n,
              ((gdouble) rss_alive - (gdouble) rss_start) / 1048576.0,
              ((gdouble) with_caches - (gdouble) rss_start) / 1048576.0,
              ((gdouble) rss_after - (gdouble) rss_start) / 1048576.0);
      g_object_unref (pool);
      return 0;
    }
  if (argc < 2 || (strcmp (argv[1], "qdata") != 0 && strcmp (argv[1], "pool") != 0 &&
                    strcmp (argv[1], "floor") != 0))
    {
      fprintf (stderr, "usage: %s qdata|pool|floor|big|shrink [N]\n", argv[0]);
      return 2;
    }
  pool_mode = strcmp (argv[1], "pool") == 0;
  floor_mode = strcmp (argv[1], "floor") == 0;
  items = g_new (GObject *, n);

  /* Warm up the type system and the allocator's arenas. */
  g_object_unref (g_object_new (G_TYPE_OBJECT, NULL));
  g_object_unref (cymem_pool_new ());
  g_object_unref (g_object_new (BENCH_TYPE_HOLDER, NULL));
  malloc_trim (0);
  rss_start = resident_bytes ();

  t0 = g_get_monotonic_time ();
  for (guint i = 0; i < n; i++)
    {
      GObject *item = g_object_new (G_TYPE_OBJECT, NULL);
      guint8 *data;

      if (pool_mode)
        data = cymem_pool_alloc (cymem_pool_ensure_for_object (item), 1, 64);
      else if (floor_mode)
        {
          BenchHolder *holder = g_object_new (BENCH_TYPE_HOLDER, NULL);

          data = holder->block = g_malloc0 (64);
          g_object_set_data_full (item, "holder", holder, g_object_unref);
        }
      else
        {
          data = g_malloc0 (64);
          g_object_set_data_full (item, "data", data, g_free);
        }
      data[0] = 1;
      items[i] = item;
    }
  t1 = g_get_monotonic_time ();
  rss_alive = resident_bytes ();

  for (guint i = 0; i < n; i++)
    g_object_unref (items[i]);
  t2 = g_get_monotonic_time ();
  g_free (items);
  malloc_trim (0);
  rss_after = resident_bytes ();

  printf ("%s,%.1f,%.1f,%.1f,%.1f\n", argv[1],
          (t1 - t0) * 1000.0 / n, (t2 - t1) * 1000.0 / n,
          ((gdouble) rss_alive - (gdouble) rss_start) / n,
          ((gdouble) rss_after - (gdouble) rss_start) / n);
  return 0;
}
