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

static void
visit_in_order (gpointer mem, gsize n_bytes, gpointer user_data)
{
  gsize *next = user_data;

  g_assert_cmpuint (GPOINTER_TO_SIZE (mem), ==, *next * 16);
  g_assert_cmpuint (n_bytes, ==, *next);
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

      g_assert_true (cymem_table_insert (table, GSIZE_TO_POINTER (i * 16), i));
      if (i % 10000 == 0)
        {
          g_assert_true (cymem_table_lookup (table, GSIZE_TO_POINTER (16), &n_bytes));
          g_assert_cmpuint (n_bytes, ==, 1);
          g_assert_true (cymem_table_lookup (table, GSIZE_TO_POINTER (i * 16), &n_bytes));
          g_assert_cmpuint (n_bytes, ==, i);
        }
    }
}

static void
test_table_long_entries (void)
{
  CymemTable table = CYMEM_TABLE_INIT;
  const guint n = 300000;  /* 4.6 MiB of entries: past a 1 MiB reservation */
  gsize next, cached;

  g_test_summary ("Big entries arrays grow in place, in whole steps, and past "
                  "their reservation without losing an entry or the order; a "
                  "released one is kept for the next table, and trimmed");
  if (!cymem_table_has_long_entries ())
    {
      g_test_skip ("entries arrays are plain arrays on this platform");
      return;
    }
  cymem_table_set_long_layout (4096, 1 << 20);

  fill_in_order (&table, n);
  /* Whole 1 MiB steps (65,536 entries), not the next power of two. */
  g_assert_cmpuint (table.entries_capacity, ==, 5 * 65536);
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

  /* Within one reservation: released into the cache, then taken again. */
  cymem_table_trim ();
  fill_in_order (&table, 40000);
  g_assert_cmpuint (table.entries_capacity, ==, 65536);
  cached = cymem_table_cached_bytes ();
  for (guint i = 1; i <= 40000; i++)
    g_assert_true (cymem_table_remove (&table, GSIZE_TO_POINTER (i * 16), NULL, NULL));
  cymem_table_drain (&table, NULL, NULL, NULL);
  g_assert_cmpuint (cymem_table_cached_bytes (), >=, cached + 40000 * sizeof (CymemTableEntry));
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
  cymem_table_set_long_layout (0, 0);
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
  g_test_add_func ("/Cymem/Table/long-entries", test_table_long_entries);

  return g_test_run ();
}
