/* test-table.c: the owned-address table against a GHashTable model
 *
 * SPDX-License-Identifier: MIT
 *
 * The table never dereferences the addresses it stores, so the test feeds it
 * made-up addresses, including patterns that collide on purpose, and, in
 * one pattern, blocks carved from the chunks of a heap, indexed through
 * their chunk.
 */

#include "config.h"  /* before the private headers: HAVE_VALGRIND */

#include <string.h>
#include <sys/resource.h>

#include "cymem-table-private.h"

typedef struct
{
  GArray *seen;  /* addresses, in the order foreach reported them */
} Walk;

static void
record (gpointer mem, gsize n_bytes, gpointer user_data)
{
  Walk *walk = user_data;

  g_assert_cmpuint (n_bytes, ==, GPOINTER_TO_SIZE (mem) % 1000);
  g_array_append_val (walk->seen, mem);
}

/* Checks every model entry is found with its size, the count agrees, and
 * foreach visits exactly the live entries in insertion order. */
static void
check_against_model (CymemTable *table,
                     GHashTable *model,
                     GPtrArray  *order)
{
  Walk walk = { g_array_new (FALSE, FALSE, sizeof (gpointer)) };
  guint j = 0;

  g_assert_cmpuint (cymem_table_count (table), ==, g_hash_table_size (model));

  cymem_table_foreach (table, record, &walk);
  g_assert_cmpuint (walk.seen->len, ==, g_hash_table_size (model));
  for (guint i = 0; i < order->len; i++)
    {
      gpointer mem = g_ptr_array_index (order, i);
      gsize n_bytes = 0;

      if (!g_hash_table_contains (model, mem))
        continue;
      g_assert_true (cymem_table_lookup (table, mem, &n_bytes));
      g_assert_cmpuint (n_bytes, ==, GPOINTER_TO_SIZE (mem) % 1000);
      g_assert_true (g_array_index (walk.seen, gpointer, j) == mem);
      j++;
    }
  g_array_unref (walk.seen);
}

/* The heap of the "carved" pattern. */
static CymemHeap *test_heap;

static gpointer
carve_address (void)
{
  CymemChunk *chunk;
  guint slot = 0;
  gpointer mem = cymem_heap_carve (test_heap, 64, &chunk, &slot);

  if (mem == NULL)
    {
      chunk = cymem_chunk_new (64);
      g_assert_nonnull (chunk);
      cymem_heap_add (test_heap, chunk);
      mem = cymem_heap_carve (test_heap, 64, &chunk, &slot);
    }
  chunk->entry_of[slot] = G_MAXUINT32;
  return mem;
}

static void
forget_carved (gpointer mem, gsize n_bytes, gpointer user_data)
{
  if (cymem_chunk_contains (mem))
    cymem_heap_forget (mem);
}

static gpointer
make_address (guint pattern, guint i, GRand *rand)
{
  switch (pattern)
    {
    case 4:  /* carved from chunks, and malloc-like, in turn */
      return i % 3 ? carve_address () : GSIZE_TO_POINTER (0x10000 + (gsize) i * 80);
    case 0:  /* what malloc hands out: ascending, 16-byte aligned */
      return GSIZE_TO_POINTER (0x10000 + (gsize) i * 80);
    case 1:  /* page-aligned, as large blocks are */
      return GSIZE_TO_POINTER (0x7f0000000000 + (gsize) i * 4096);
    case 2:  /* scattered */
      return GSIZE_TO_POINTER (((gsize) g_rand_int (rand) << 20 | g_rand_int (rand)) << 4 | 16);
    default: /* the same low bits, high bits differing: hash worst case */
      return GSIZE_TO_POINTER (((gsize) i << 32) | 0x40);
    }
}

static void
test_table_model (gconstpointer data)
{
  guint pattern = GPOINTER_TO_UINT (data);
  CymemTable table = CYMEM_TABLE_INIT;
  GHashTable *model = g_hash_table_new (NULL, NULL);
  GPtrArray *order = g_ptr_array_new ();
  GRand *rand = g_rand_new_with_seed (42 + pattern);
  guint next = 1;

  if (pattern == 4)
    table.heap = test_heap = cymem_heap_new (NULL);

  for (guint step = 0; step < 30000; step++)
    {
      guint op = g_rand_int_range (rand, 0, 10);

      if (op < 6 || order->len == 0)
        {
          gpointer mem = make_address (pattern, next++, rand);

          if (g_hash_table_contains (model, mem))
            continue;
          cymem_table_insert (&table, mem, GPOINTER_TO_SIZE (mem) % 1000);
          g_hash_table_add (model, mem);
          g_ptr_array_add (order, mem);
        }
      else
        {
          gpointer mem = g_ptr_array_index (order, g_rand_int_range (rand, 0, order->len));
          gboolean live = g_hash_table_contains (model, mem);
          gsize n_bytes = 12345;

          /* Removing what is not there must fail and change nothing. */
          g_assert_cmpint (cymem_table_remove (&table, mem, &n_bytes, NULL), ==, live);
          if (live)
            {
              g_assert_cmpuint (n_bytes, ==, GPOINTER_TO_SIZE (mem) % 1000);
              g_hash_table_remove (model, mem);
            }
          else
            g_assert_cmpuint (n_bytes, ==, 12345);
          cymem_table_maybe_shrink (&table);
        }

      if (step % 10000 == 0)
        check_against_model (&table, model, order);
    }

  /* Free everything oldest-first, as a burst of removals. */
  check_against_model (&table, model, order);
  for (guint i = 0; i < order->len; i++)
    {
      gpointer mem = g_ptr_array_index (order, i);
      if (g_hash_table_remove (model, mem))
        g_assert_true (cymem_table_remove (&table, mem, NULL, NULL));
    }
  g_assert_cmpuint (cymem_table_count (&table), ==, 0);
  {
    gpointer absent = make_address (pattern, 1, rand);

    g_assert_false (cymem_table_lookup (&table, absent, NULL));
    if (pattern == 4 && cymem_chunk_contains (absent))
      cymem_heap_forget (absent);
  }

  cymem_table_drain (&table, record, pattern == 4 ? forget_carved : NULL, NULL);
  if (pattern == 4)
    {
      /* Every address carved is forgotten, not only the live ones. */
      for (guint i = 0; i < order->len; i++)
        if (!g_hash_table_contains (model, order->pdata[i]) && cymem_chunk_contains (order->pdata[i]))
          cymem_heap_forget (order->pdata[i]);
      cymem_heap_destroy (test_heap);
      test_heap = NULL;
    }
  g_rand_free (rand);
  g_ptr_array_unref (order);
  g_hash_table_unref (model);
}

static void
test_table_update_keeps_order (void)
{
  CymemTable table = CYMEM_TABLE_INIT;
  Walk walk = { g_array_new (FALSE, FALSE, sizeof (gpointer)) };
  gpointer moved = GSIZE_TO_POINTER (900777);
  gssize slot;
  gsize n_bytes = 0;

  for (gsize i = 1; i <= 100; i++)
    cymem_table_insert (&table, GSIZE_TO_POINTER (i * 1000 + i), i);

  /* Entry 50 moves to a new address, keeping its place and taking a size. */
  slot = cymem_table_find (&table, GSIZE_TO_POINTER (50 * 1000 + 50), &n_bytes);
  g_assert_cmpint (slot, >=, 0);
  g_assert_cmpuint (n_bytes, ==, 50);
  cymem_table_update (&table, slot, moved, 777);
  g_assert_false (cymem_table_lookup (&table, GSIZE_TO_POINTER (50 * 1000 + 50), NULL));
  g_assert_true (cymem_table_lookup (&table, moved, &n_bytes));
  g_assert_cmpuint (n_bytes, ==, 777);
  g_assert_cmpuint (cymem_table_count (&table), ==, 100);

  cymem_table_foreach (&table, record, &walk);
  g_assert_true (g_array_index (walk.seen, gpointer, 49) == moved);
  g_assert_true (g_array_index (walk.seen, gpointer, 50) == GSIZE_TO_POINTER (51 * 1000 + 51));

  g_array_unref (walk.seen);
  walk.seen = g_array_new (FALSE, FALSE, sizeof (gpointer));
  cymem_table_drain (&table, record, record, &walk);
  g_assert_cmpuint (walk.seen->len, ==, 100);
  g_array_unref (walk.seen);
}

static void
count_entry (gpointer mem, gsize n_bytes, gpointer user_data)
{
  (*(guint *) user_data)++;
}

static void
test_table_take (void)
{
  CymemTable table = CYMEM_TABLE_INIT, taken = CYMEM_TABLE_INIT;
  guint n = 0;

  for (gsize i = 1; i <= 5000; i++)
    cymem_table_insert (&table, GSIZE_TO_POINTER (i * 16), i);
  cymem_table_take (&taken, &table);
  g_assert_cmpuint (cymem_table_count (&table), ==, 0);
  g_assert_false (cymem_table_lookup (&table, GSIZE_TO_POINTER (16), NULL));
  g_assert_cmpuint (cymem_table_count (&taken), ==, 5000);

  cymem_table_drain (&taken, count_entry, count_entry, &n);
  g_assert_cmpuint (n, ==, 5000);
  g_assert_cmpuint (cymem_table_count (&taken), ==, 0);
}

/* A table with no index is searched entry by entry: only a live entry's
 * exact address is found, never a hole, a dead entry, or an address that
 * differs in the bits a narrow entry keeps its size and flags in. */
static void
test_table_linear_search (void)
{
  CymemTable table = CYMEM_TABLE_INIT;
  gsize n_bytes = 0;
  gssize slot;

  g_test_summary ("Lookups in a table with no index find live entries only, "
                  "by their exact address, narrow and wide");
  g_assert_true (cymem_table_insert (&table, GSIZE_TO_POINTER (0x1000), 7));
  g_assert_true (cymem_table_insert (&table, GSIZE_TO_POINTER (0x2000), 9));
  g_assert_null (table.slots);
  for (guint wide = 0; wide < 2; wide++)
    {
      g_assert_cmpint (table.wide, ==, wide || cymem_table_word_reject == G_MAXUINT64);
      g_assert_true (cymem_table_lookup (&table, GSIZE_TO_POINTER (0x2000), &n_bytes));
      g_assert_cmpuint (n_bytes, ==, 9);
      g_assert_false (cymem_table_lookup (&table, GSIZE_TO_POINTER (0x2001), NULL));
#if GLIB_SIZEOF_VOID_P == 8
      /* The address with a size or flag bit set above it. */
      g_assert_false (cymem_table_lookup (&table, GSIZE_TO_POINTER (0x2000 | (G_GUINT64_CONSTANT (1) << 48)), NULL));
      g_assert_false (cymem_table_lookup (&table, GSIZE_TO_POINTER (0x2000 | (G_GUINT64_CONSTANT (1) << 63)), NULL));
#endif
      /* Dead: not found, not even with the dead flag's bit set. */
      slot = cymem_table_find (&table, GSIZE_TO_POINTER (0x1000), NULL);
      g_assert_cmpint (slot, >=, 0);
      cymem_table_kill (&table, slot);
      g_assert_false (cymem_table_lookup (&table, GSIZE_TO_POINTER (0x1000), NULL));
#if GLIB_SIZEOF_VOID_P == 8
      g_assert_false (cymem_table_lookup (&table, GSIZE_TO_POINTER (0x1000 | (G_GUINT64_CONSTANT (1) << 63)), NULL));
#endif
      {
        gpointer out[4];
        guint cursor = 0;

        g_assert_cmpuint (cymem_table_reap (&table, out, G_N_ELEMENTS (out), &cursor), ==, 1);
        g_assert_true (out[0] == GSIZE_TO_POINTER (0x1000));
      }
      g_assert_cmpuint (cymem_table_count (&table), ==, 1);
      g_assert_true (cymem_table_insert (&table, GSIZE_TO_POINTER (0x1000), 7));
      /* The second time round, wide: a block too big for a narrow entry. */
      g_assert_true (cymem_table_insert (&table, GSIZE_TO_POINTER (0x3000), 1 << 20));
      g_assert_true (cymem_table_remove (&table, GSIZE_TO_POINTER (0x3000), NULL, NULL));
    }
  g_assert_true (cymem_table_remove (&table, GSIZE_TO_POINTER (0x1000), NULL, NULL));
  g_assert_true (cymem_table_remove (&table, GSIZE_TO_POINTER (0x2000), NULL, NULL));
  cymem_table_drain (&table, NULL, NULL, NULL);   /* empty: func is not called */
}

static void
test_table_small_and_shrink (void)
{
  CymemTable table = CYMEM_TABLE_INIT;
  const guint n = 200000;

  g_test_summary ("Two blocks need no arrays; a table that empties gives its "
                  "arrays back; the cache of released arrays is bounded and trimmed");
  g_assert_true (cymem_table_insert (&table, GSIZE_TO_POINTER (16), 1));
  g_assert_true (cymem_table_insert (&table, GSIZE_TO_POINTER (32), 2));
  g_assert_null (table.entries);
  g_assert_null (table.slots);
  g_assert_true (cymem_table_lookup (&table, GSIZE_TO_POINTER (32), NULL));
  g_assert_false (cymem_table_lookup (&table, NULL, NULL));
  g_assert_true (cymem_table_remove (&table, GSIZE_TO_POINTER (16), NULL, NULL));
  g_assert_false (cymem_table_lookup (&table, GSIZE_TO_POINTER (16), NULL));
  g_assert_true (cymem_table_remove (&table, GSIZE_TO_POINTER (32), NULL, NULL));
  g_assert_cmpuint (cymem_table_count (&table), ==, 0);

  for (guint i = 1; i <= n; i++)
    g_assert_true (cymem_table_insert (&table, GSIZE_TO_POINTER (i * 16), i));
  g_assert_cmpuint (table.entries_capacity, >=, n);
  for (guint i = 2; i <= n; i++)
    {
      g_assert_true (cymem_table_remove (&table, GSIZE_TO_POINTER (i * 16), NULL, NULL));
      cymem_table_maybe_shrink (&table);
    }
  g_assert_cmpuint (cymem_table_count (&table), ==, 1);
  g_assert_cmpuint (table.entries_capacity, <, 1024);
  g_assert_true (cymem_table_lookup (&table, GSIZE_TO_POINTER (16), NULL));
  g_assert_true (cymem_table_remove (&table, GSIZE_TO_POINTER (16), NULL, NULL));

  cymem_table_drain (&table, NULL, NULL, NULL);   /* empty: func is not called */
  g_assert_cmpuint (cymem_table_cached_bytes (), <=, 4 << 20);
  cymem_table_trim ();
  g_assert_cmpuint (cymem_table_cached_bytes (), ==, 0);
}

/* A shrink whose new index cannot be had leaves a table searched entry by
 * entry; its live entries are then not counted as indexed, and the next
 * insertion must build an index for all of them (one sized by the count
 * of indexed entries, 0, filled up and never returned). */
static void
test_table_shrink_without_index (void)
{
  CymemTable table = CYMEM_TABLE_INIT;
  const guint n = 2000, kept = 200;
  gsize n_bytes = 0;
  guint n_drained;

  g_test_summary ("After a shrink that could not get an index, lookups search, "
                  "and the next insertion indexes every live entry");
  for (guint i = 1; i <= n; i++)
    g_assert_true (cymem_table_insert (&table, GSIZE_TO_POINTER (i * 16), i));
  for (guint i = kept + 1; i <= n; i++)
    g_assert_true (cymem_table_remove (&table, GSIZE_TO_POINTER (i * 16), NULL, NULL));
  g_assert_true (cymem_table_too_big (&table, 0));
  /* The new entries array may be had, its index not. */
  cymem_table_fail_allocs_after (1);
  cymem_table_maybe_shrink (&table);
  cymem_table_fail_allocs_after (-1);
  g_assert_cmpuint (table.entries_capacity, <, 1024);
  g_assert_null (table.slots);
  g_assert_true (cymem_table_lookup (&table, GSIZE_TO_POINTER (kept * 16), &n_bytes));
  g_assert_cmpuint (n_bytes, ==, kept);

  for (guint i = n + 1; i <= n + kept; i++)
    g_assert_true (cymem_table_insert (&table, GSIZE_TO_POINTER (i * 16), i));
  g_assert_nonnull (table.slots);
  g_assert_cmpuint (cymem_table_count (&table), ==, 2 * kept);
  for (guint i = 1; i <= n + kept; i++)
    {
      gboolean live = i <= kept || i > n;

      g_assert_cmpint (cymem_table_lookup (&table, GSIZE_TO_POINTER (i * 16), &n_bytes), ==, live);
      if (live)
        g_assert_cmpuint (n_bytes, ==, i);
    }
  n_drained = 0;
  cymem_table_drain (&table, count_entry, count_entry, &n_drained);
  g_assert_cmpuint (n_drained, ==, 2 * kept);
}

/* The size fill_in_order() gives its i-th block: all different, and all
 * small enough for narrow entries (a bigger one widens the table). */
static gsize
size_in_order (gsize i)
{
  return i % 12288;
}

static void
visit_in_order (gpointer mem, gsize n_bytes, gpointer user_data)
{
  gsize *next = user_data;

  g_assert_cmpuint (GPOINTER_TO_SIZE (mem), ==, *next * 16);
  g_assert_cmpuint (n_bytes, ==, size_in_order (*next));
  (*next)++;
}

/* Fills @table with blocks 1..@n (address 16 i, size i), checking early
 * blocks stay found as the array grows. */
static void
fill_in_order (CymemTable *table,
               guint       n)
{
  for (guint i = 1; i <= n; i++)
    {
      gsize n_bytes = 0;

      g_assert_true (cymem_table_insert (table, GSIZE_TO_POINTER (i * 16), size_in_order (i)));
      if (i % 10000 == 0)
        {
          g_assert_true (cymem_table_lookup (table, GSIZE_TO_POINTER (16), &n_bytes));
          g_assert_cmpuint (n_bytes, ==, size_in_order (1));
          g_assert_true (cymem_table_lookup (table, GSIZE_TO_POINTER (i * 16), &n_bytes));
          g_assert_cmpuint (n_bytes, ==, size_in_order (i));
        }
    }
}

static void
test_table_long_entries (void)
{
  CymemTable table = CYMEM_TABLE_INIT;
  const guint n = 300000;  /* 2.3 MiB of entries, moved at each power of two */
  gsize next, cached;

  g_test_summary ("Big entries arrays grow without a copy, in whole steps, "
                  "without losing an entry or the order; a released one is kept "
                  "for the next table, and trimmed");
  if (!cymem_table_has_long_entries ())
    {
      g_test_skip ("entries arrays are plain arrays on this platform");
      return;
    }
  cymem_table_set_long_layout (4096);

  fill_in_order (&table, n);
  /* Whole 1 MiB steps (131,072 narrow entries), not the next power of two. */
  g_assert_false (table.wide);
  g_assert_cmpuint (table.entries_capacity, ==, 3 * 131072);
  next = 1;
  cymem_table_foreach (&table, visit_in_order, &next);
  g_assert_cmpuint (next, ==, n + 1);
  for (guint i = 2; i <= n; i++)
    {
      g_assert_true (cymem_table_remove (&table, GSIZE_TO_POINTER (i * 16), NULL, NULL));
      cymem_table_maybe_shrink (&table);
    }
  g_assert_cmpuint (table.entries_capacity, <, 1024);
  next = 1;
  cymem_table_foreach (&table, visit_in_order, &next);
  g_assert_cmpuint (next, ==, 2);
  g_assert_true (cymem_table_remove (&table, GSIZE_TO_POINTER (16), NULL, NULL));
  cymem_table_drain (&table, NULL, NULL, NULL);  /* empty: func is not called */
  table = (CymemTable) CYMEM_TABLE_INIT;

  /* Released into the cache, then taken again. */
  cymem_table_trim ();
  fill_in_order (&table, 40000);
  g_assert_cmpuint (table.entries_capacity, ==, 65536);
  cached = cymem_table_cached_bytes ();
  for (guint i = 1; i <= 40000; i++)
    g_assert_true (cymem_table_remove (&table, GSIZE_TO_POINTER (i * 16), NULL, NULL));
  cymem_table_drain (&table, NULL, NULL, NULL);
  g_assert_cmpuint (cymem_table_cached_bytes (), >=, cached + 40000 * sizeof (CymemTableWord));
  g_assert_cmpuint (cymem_table_cached_bytes (), <=, 4 << 20);
  table = (CymemTable) CYMEM_TABLE_INIT;
  fill_in_order (&table, 40000);
  g_assert_cmpuint (cymem_table_cached_bytes (), <=, cached);
  next = 1;
  cymem_table_foreach (&table, visit_in_order, &next);
  g_assert_cmpuint (next, ==, 40001);
  for (guint i = 1; i <= 40000; i++)
    g_assert_true (cymem_table_remove (&table, GSIZE_TO_POINTER (i * 16), NULL, NULL));
  cymem_table_drain (&table, NULL, NULL, NULL);

  cymem_table_trim ();
  g_assert_cmpuint (cymem_table_cached_bytes (), ==, 0);
  cymem_table_set_long_layout (0);
}

static void
ignore_block (gpointer mem, gsize n_bytes, gpointer user_data)
{
}

/* Bytes of address space the process has mapped, from /proc/self/status. */
static gsize
vm_size (void)
{
  g_autofree char *status = NULL;
  const char *line;

  if (!g_file_get_contents ("/proc/self/status", &status, NULL, NULL) ||
      (line = strstr (status, "VmSize:")) == NULL)
    return 0;
  return (gsize) g_ascii_strtoull (line + strlen ("VmSize:"), NULL, 10) * 1024;
}

static void
test_table_long_entries_address_space (void)
{
  g_test_summary ("Many tables of a few thousand entries fit in an address "
                  "space limit their arrays fit in: a big entries array maps "
                  "at most twice its size (1.2.3's first version reserved "
                  "16 MiB for each; found by adversarial review)");
#ifdef HAVE_VALGRIND
  if (RUNNING_ON_VALGRIND)
    {
      g_test_skip ("valgrind manages the address space itself");
      return;
    }
#endif
  if (vm_size () == 0)
    {
      g_test_skip ("no /proc/self/status");
      return;
    }
  if (g_test_subprocess ())
    {
      const guint n_tables = 200, n = 5000;  /* 80 KiB of entries each */
      CymemTable *tables = g_new0 (CymemTable, n_tables);
      struct rlimit limit, old_limit;

      /* 200 tables need about 60 MiB of arrays; allow 256 MiB more (the
       * soft limit only, lifted again for LeakSanitizer's exit). */
      g_assert_no_errno (getrlimit (RLIMIT_AS, &old_limit));
      limit = old_limit;
      limit.rlim_cur = vm_size () + ((rlim_t) 256 << 20);
      g_assert_no_errno (setrlimit (RLIMIT_AS, &limit));
      for (guint t = 0; t < n_tables; t++)
        {
          tables[t] = (CymemTable) CYMEM_TABLE_INIT;
          for (guint i = 1; i <= n; i++)
            g_assert_true (cymem_table_insert (&tables[t], GSIZE_TO_POINTER ((t * n + i) * 16), 1));
        }
      g_assert_no_errno (setrlimit (RLIMIT_AS, &old_limit));
      for (guint t = 0; t < n_tables; t++)
        cymem_table_drain (&tables[t], ignore_block, NULL, NULL);
      g_free (tables);
      return;
    }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
}

static void
test_table_reap_cursor (void)
{
  CymemTable table = CYMEM_TABLE_INIT;
  const guint n = 10000;
  GHashTable *reaped = g_hash_table_new (NULL, NULL);
  gpointer out[64];
  guint got, cursor = 0;

  g_test_summary ("Dead blocks are handed over a batch at a time from where "
                  "the last batch stopped, wrapping around, each exactly once");
  for (guint i = 1; i <= n; i++)
    g_assert_true (cymem_table_insert (&table, GSIZE_TO_POINTER (i * 16), i));

  /* Killed while pinned: every odd block. */
  table.pins++;
  for (guint i = 1; i <= n; i += 2)
    cymem_table_kill (&table, cymem_table_find (&table, GSIZE_TO_POINTER (i * 16), NULL));
  table.pins--;
  do
    {
      got = cymem_table_reap (&table, out, G_N_ELEMENTS (out), &cursor);
      for (guint k = 0; k < got; k++)
        {
          g_assert_cmpuint (GPOINTER_TO_SIZE (out[k]) / 16 % 2, ==, 1);
          g_assert_true (g_hash_table_add (reaped, out[k]));  /* not seen before */
        }
    }
  while (got == G_N_ELEMENTS (out));
  g_assert_cmpuint (g_hash_table_size (reaped), ==, n / 2);
  g_assert_cmpuint (table.n_dead, ==, 0);
  g_assert_cmpuint (cymem_table_count (&table), ==, n / 2);

  /* Dead blocks behind the cursor are found by wrapping around. */
  table.pins++;
  cymem_table_kill (&table, cymem_table_find (&table, GSIZE_TO_POINTER (2 * 16), NULL));
  cymem_table_kill (&table, cymem_table_find (&table, GSIZE_TO_POINTER (4 * 16), NULL));
  table.pins--;
  cursor = table.n_entries - 3;
  got = cymem_table_reap (&table, out, G_N_ELEMENTS (out), &cursor);
  g_assert_cmpuint (got, ==, 2);
  g_assert_true (out[0] == GSIZE_TO_POINTER (2 * 16) && out[1] == GSIZE_TO_POINTER (4 * 16));
  g_assert_cmpuint (cymem_table_reap (&table, out, G_N_ELEMENTS (out), &cursor), ==, 0);

  /* One call looks at CYMEM_TABLE_REAP_SCAN entries at most: a dead block
   * further on is found by the next call, from where this one stopped. */
  g_assert_cmpuint (table.n_entries, >, CYMEM_TABLE_REAP_SCAN + 1);
  table.pins++;
  cymem_table_kill (&table, cymem_table_find (&table, GSIZE_TO_POINTER ((n - 2) * 16), NULL));
  table.pins--;
  cursor = 0;
  g_assert_cmpuint (cymem_table_reap (&table, out, G_N_ELEMENTS (out), &cursor), ==, 0);
  g_assert_cmpuint (cursor, ==, CYMEM_TABLE_REAP_SCAN);
  g_assert_cmpuint (table.n_dead, ==, 1);
  g_assert_cmpuint (cymem_table_reap (&table, out, G_N_ELEMENTS (out), &cursor), ==, 0);
  g_assert_cmpuint (cursor, ==, 2 * CYMEM_TABLE_REAP_SCAN);
  g_assert_cmpuint (n - 3, >=, 2 * CYMEM_TABLE_REAP_SCAN);  /* its entry is next */
  g_assert_cmpuint (cymem_table_reap (&table, out, G_N_ELEMENTS (out), &cursor), ==, 1);
  g_assert_true (out[0] == GSIZE_TO_POINTER ((n - 2) * 16));

  for (guint i = 6; i <= n; i += 2)
    if (i != n - 2)
      g_assert_true (cymem_table_remove (&table, GSIZE_TO_POINTER (i * 16), NULL, NULL));
  cymem_table_drain (&table, NULL, NULL, NULL);
  g_hash_table_unref (reaped);
}

/* An address a narrow entry cannot hold, where pointers are that wide. */
static gpointer
high_address (gsize i)
{
#if GLIB_SIZEOF_VOID_P == 8
  return GSIZE_TO_POINTER ((G_GUINT64_CONSTANT (1) << 48) + i * 16);
#else
  return GSIZE_TO_POINTER (i * 16);
#endif
}

typedef struct
{
  gpointer mem[8];
  gsize    n_bytes[8];
  guint    n;
} Seen;

static void
see (gpointer mem, gsize n_bytes, gpointer user_data)
{
  Seen *seen = user_data;

  g_assert_cmpuint (seen->n, <, G_N_ELEMENTS (seen->mem));
  seen->mem[seen->n] = mem;
  seen->n_bytes[seen->n++] = n_bytes;
}

static void
test_table_wide (void)
{
  CymemTable table = CYMEM_TABLE_INIT;
  const gsize big = CYMEM_TABLE_WORD_MAX_SIZE + 1;
  const guint n = 1000;
  gsize n_bytes = 0;
  gpointer out[8];
  guint cursor = 0;
  Seen seen = { { NULL }, { 0 }, 0 };

  g_test_summary ("A table whose entries are 8 bytes turns to 16-byte ones "
                  "at the first block whose size or address does not fit, "
                  "from the table itself, from arrays, and while pinned, "
                  "keeping every entry, its size and the order");
  g_assert_cmpuint (sizeof (CymemTableWord), ==, 8);

  /* Out of the table itself: one narrow entry, then a big block. */
  g_assert_true (cymem_table_insert (&table, GSIZE_TO_POINTER (16), 3));
  g_assert_null (table.entries);
  g_assert_true (cymem_table_insert (&table, GSIZE_TO_POINTER (32), big));
  g_assert_true (table.wide);
  g_assert_true (cymem_table_lookup (&table, GSIZE_TO_POINTER (16), &n_bytes));
  g_assert_cmpuint (n_bytes, ==, 3);
  g_assert_true (cymem_table_lookup (&table, GSIZE_TO_POINTER (32), &n_bytes));
  g_assert_cmpuint (n_bytes, ==, big);
  cymem_table_foreach (&table, see, &seen);
  g_assert_cmpuint (seen.n, ==, 2);
  g_assert_true (seen.mem[0] == GSIZE_TO_POINTER (16) && seen.mem[1] == GSIZE_TO_POINTER (32));
  g_assert_cmpuint (seen.n_bytes[1], ==, big);
  seen.n = 0;
  cymem_table_drain (&table, see, NULL, &seen);
  g_assert_cmpuint (seen.n, ==, 2);
  g_assert_false (table.wide);  /* an empty table starts narrow again */

  /* From arrays with holes: a block at an address above 48 bits. */
  for (guint i = 1; i <= n; i++)
    g_assert_true (cymem_table_insert (&table, GSIZE_TO_POINTER (i * 16), i));
  for (guint i = 2; i <= n; i += 3)
    g_assert_true (cymem_table_remove (&table, GSIZE_TO_POINTER (i * 16), NULL, NULL));
  g_assert_false (table.wide);
  g_assert_true (cymem_table_insert (&table, high_address (1), 5));
#if GLIB_SIZEOF_VOID_P == 8
  g_assert_true (table.wide);
#endif
  g_assert_true (cymem_table_insert (&table, high_address (2), big));
  g_assert_true (table.wide);
  for (guint i = 1; i <= n; i++)
    {
      gboolean kept = i % 3 != 2;

      g_assert_cmpint (cymem_table_lookup (&table, GSIZE_TO_POINTER (i * 16), &n_bytes), ==, kept);
      if (kept)
        g_assert_cmpuint (n_bytes, ==, i);
    }
  g_assert_true (cymem_table_lookup (&table, high_address (1), &n_bytes));
  g_assert_cmpuint (n_bytes, ==, 5);

  /* Resized in place while pinned, and dead entries survive. */
  table.pins++;
  cymem_table_kill (&table, cymem_table_find (&table, GSIZE_TO_POINTER (16), NULL));
  g_assert_true (cymem_table_prepare (&table, GSIZE_TO_POINTER (48), 2 * big));
  cymem_table_update (&table, cymem_table_find (&table, GSIZE_TO_POINTER (48), NULL),
                      GSIZE_TO_POINTER (48), 2 * big);
  table.pins--;
  g_assert_true (cymem_table_lookup (&table, GSIZE_TO_POINTER (48), &n_bytes));
  g_assert_cmpuint (n_bytes, ==, 2 * big);
  g_assert_false (cymem_table_lookup (&table, GSIZE_TO_POINTER (16), NULL));
  g_assert_cmpuint (cymem_table_reap (&table, out, G_N_ELEMENTS (out), &cursor), ==, 1);
  g_assert_true (out[0] == GSIZE_TO_POINTER (16));

  /* Emptied down to the big blocks: shrunk, still wide and in order. */
  for (guint i = 4; i <= n; i++)
    if (i % 3 != 2)
      {
        g_assert_true (cymem_table_remove (&table, GSIZE_TO_POINTER (i * 16), NULL, NULL));
        cymem_table_maybe_shrink (&table);
      }
  g_assert_cmpuint (table.entries_capacity, <, 1024);
  seen.n = 0;
  cymem_table_drain (&table, see, NULL, &seen);
  g_assert_cmpuint (seen.n, ==, 3);
  g_assert_true (seen.mem[0] == GSIZE_TO_POINTER (48) && seen.mem[1] == high_address (1) &&
                 seen.mem[2] == high_address (2));
  g_assert_cmpuint (seen.n_bytes[0], ==, 2 * big);
  g_assert_cmpuint (seen.n_bytes[2], ==, big);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_data_func ("/Cymem/Table/model/ascending", GUINT_TO_POINTER (0), test_table_model);
  g_test_add_data_func ("/Cymem/Table/model/page-aligned", GUINT_TO_POINTER (1), test_table_model);
  g_test_add_data_func ("/Cymem/Table/model/scattered", GUINT_TO_POINTER (2), test_table_model);
  g_test_add_data_func ("/Cymem/Table/model/same-low-bits", GUINT_TO_POINTER (3), test_table_model);
  g_test_add_data_func ("/Cymem/Table/model/carved", GUINT_TO_POINTER (4), test_table_model);
  g_test_add_func ("/Cymem/Table/update-keeps-order", test_table_update_keeps_order);
  g_test_add_func ("/Cymem/Table/take", test_table_take);
  g_test_add_func ("/Cymem/Table/small-and-shrink", test_table_small_and_shrink);
  g_test_add_func ("/Cymem/Table/shrink-without-index", test_table_shrink_without_index);
  g_test_add_func ("/Cymem/Table/linear-search", test_table_linear_search);
  g_test_add_func ("/Cymem/Table/long-entries", test_table_long_entries);
  g_test_add_func ("/Cymem/Table/reap-cursor", test_table_reap_cursor);
  g_test_add_func ("/Cymem/Table/long-entries-address-space", test_table_long_entries_address_space);
  g_test_add_func ("/Cymem/Table/wide", test_table_wide);

  return g_test_run ();
}
