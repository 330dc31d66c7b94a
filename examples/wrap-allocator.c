/* wrap-allocator.c: a pool on a C library's own allocator
 *
 * SPDX-License-Identifier: MIT
 *
 * cymem's WrapMalloc/WrapFree story: some C libraries want the memory they
 * are handed to come from their allocator, because they will free or
 * resize it themselves. Here the "library" is a tiny arena-tracking
 * allocator with a malloc/free pair; a pool built on it gives its blocks the
 * usual pool lifetime while every byte comes from, and returns to, the
 * library.
 */

#include <stdlib.h>

#include <cymem-glib/cymem-glib.h>

/* --- the C library, with its private allocator --- */

typedef struct { gsize bytes_out; guint blocks_out; guint calls; } LibStats;
static LibStats lib_stats;
static G_LOCK_DEFINE (lib);

/* Each block carries a small header the library needs for its accounting. */
static gpointer
lib_malloc (gsize n_bytes)
{
  gsize *header = malloc (sizeof (gsize) + n_bytes);

  if (header == NULL)
    return NULL;
  *header = n_bytes;
  G_LOCK (lib);
  lib_stats.bytes_out += n_bytes;
  lib_stats.blocks_out++;
  lib_stats.calls++;
  G_UNLOCK (lib);
  return header + 1;
}

static void
lib_free (gpointer mem)
{
  gsize *header = (gsize *) mem - 1;

  G_LOCK (lib);
  lib_stats.bytes_out -= *header;
  lib_stats.blocks_out--;
  lib_stats.calls++;
  G_UNLOCK (lib);
  free (header);
}

/* --- the application --- */

int
main (void)
{
  g_autoptr(CymemPool) pool = cymem_pool_new_with_allocator (lib_malloc, lib_free);
  gdouble *samples = cymem_pool_alloc (pool, 100, sizeof (gdouble));
  gchar *label = cymem_pool_strdup (pool, "sensor 7");

  for (guint i = 0; i < 100; i++)
    samples[i] = i * 0.5;
  samples = cymem_pool_realloc (pool, samples, 200 * sizeof (gdouble));

  g_print ("%s: %u blocks, %" G_GSIZE_FORMAT " bytes out of the library's allocator\n",
           label, lib_stats.blocks_out, lib_stats.bytes_out);
  g_print ("samples[99] = %g, samples[150] = %g (a grown tail is zeroed)\n",
           samples[99], samples[150]);

  g_clear_object (&pool);
  g_print ("pool gone: %u blocks, %" G_GSIZE_FORMAT " bytes still out; %u allocator calls\n",
           lib_stats.blocks_out, lib_stats.bytes_out, lib_stats.calls);

  return lib_stats.blocks_out == 0 && lib_stats.bytes_out == 0 ? 0 : 1;
}
