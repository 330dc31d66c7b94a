/* test-pool.c: CymemPool allocation, ownership and accounting
 *
 * SPDX-License-Identifier: MIT
 */

#include <stdlib.h>
#include <string.h>

#include <cymem-glib/cymem-glib.h>

#include "counting-allocator.h"

#define NOT_OWNED_MSG "*is not a block owned by pool*"

static gboolean
is_zeroed (gconstpointer mem,
           gsize         n_bytes)
{
  const guint8 *bytes = mem;

  for (gsize i = 0; i < n_bytes; i++)
    if (bytes[i] != 0)
      return FALSE;
  return TRUE;
}

/* Each allocation test runs on the default and on a custom allocator. */
typedef CymemPool *(*PoolFactory) (void);

/* Function pointers cannot travel as test data in ISO C: wrapped. */
typedef struct
{
  PoolFactory make;
} Factory;

static const Factory default_factory = { cymem_pool_new };
static const Factory custom_factory = { counting_pool_new };

static void
test_alloc_zeroed (gconstpointer data)
{
  PoolFactory factory = ((const Factory *) data)->make;
  CymemPool *pool = factory ();
  gint *ints;
  gdouble *doubles;

  ints = cymem_pool_alloc (pool, 10, sizeof (gint));
  doubles = cymem_pool_alloc (pool, 12, sizeof (gdouble));

  g_assert_nonnull (ints);
  g_assert_nonnull (doubles);
  g_assert_true (is_zeroed (ints, 10 * sizeof (gint)));
  g_assert_true (is_zeroed (doubles, 12 * sizeof (gdouble)));
  g_assert_true (cymem_pool_owns (pool, ints));
  g_assert_true (cymem_pool_owns (pool, doubles));
  g_assert_cmpuint (cymem_pool_get_block_size (pool, ints), ==, 10 * sizeof (gint));
  g_assert_cmpuint (cymem_pool_get_size (pool), ==, 10 * sizeof (gint) + 12 * sizeof (gdouble));
  g_assert_cmpuint (cymem_pool_get_n_allocations (pool), ==, 2);

  /* Write to the whole block: valgrind and ASan see its bounds. */
  for (guint i = 0; i < 10; i++)
    ints[i] = i;

  g_object_unref (pool);
}

static void
test_alloc_large (void)
{
  /* Big enough to take the calloc() path of the default allocator. */
  gsize n_bytes = 1024 * 1024;
  CymemPool *pool = cymem_pool_new ();
  guint8 *mem = cymem_pool_alloc (pool, 1, n_bytes);

  g_assert_true (is_zeroed (mem, n_bytes));
  g_assert_cmpuint (cymem_pool_get_size (pool), ==, n_bytes);
  g_object_unref (pool);
}

static void
test_alloc_zero_bytes (gconstpointer data)
{
  PoolFactory factory = ((const Factory *) data)->make;
  CymemPool *pool = factory ();
  gpointer a = cymem_pool_alloc (pool, 0, 8);
  gpointer b = cymem_pool_alloc (pool, 8, 0);
  gpointer c = cymem_pool_try_alloc (pool, 0, 0);

  g_assert_nonnull (a);
  g_assert_nonnull (b);
  g_assert_nonnull (c);
  g_assert_true (a != b && b != c && a != c);
  g_assert_true (cymem_pool_owns (pool, a));
  g_assert_cmpuint (cymem_pool_get_block_size (pool, a), ==, 0);
  g_assert_cmpuint (cymem_pool_get_size (pool), ==, 0);
  g_assert_cmpuint (cymem_pool_get_n_allocations (pool), ==, 3);

  cymem_pool_free (pool, b);
  g_assert_false (cymem_pool_owns (pool, b));
  g_assert_cmpuint (cymem_pool_get_n_allocations (pool), ==, 2);
  g_object_unref (pool);
}

static void
test_alloc_zero_bytes_custom_request (void)
{
  CymemPool *pool = counting_pool_new ();

  g_test_summary ("A 0-byte block asks the allocator for 1 byte: g_malloc (0) returns NULL");
  cymem_pool_alloc (pool, 0, 16);
  g_assert_cmpuint (counting_last_request (), ==, 1);
  g_object_unref (pool);

  pool = cymem_pool_new_with_allocator (g_malloc, g_free);
  g_assert_nonnull (cymem_pool_alloc (pool, 0, 16));
  g_object_unref (pool);
}

static void
test_alloc_overflow_try (void)
{
  CymemPool *pool = counting_pool_new ();

  cymem_pool_alloc (pool, 1, 32);
  g_assert_null (cymem_pool_try_alloc (pool, G_MAXSIZE / 2 + 1, 2));
  g_assert_null (cymem_pool_try_alloc (pool, ((gsize) 1) << 62, 8));
  g_assert_cmpuint (cymem_pool_get_size (pool), ==, 32);
  g_assert_cmpuint (cymem_pool_get_n_allocations (pool), ==, 1);
  /* The allocator was not even asked. */
  g_assert_cmpuint (counting_n_mallocs (), ==, 1);
  g_object_unref (pool);
  g_assert_cmpuint (counting_n_live (), ==, 0);
}

static void
test_alloc_overflow_abort (void)
{
  if (g_test_subprocess ())
    {
      CymemPool *pool = cymem_pool_new ();
      cymem_pool_alloc (pool, ((gsize) 1) << 62, 8);
      return;
    }

  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_failed ();
  g_test_trap_assert_stderr ("*overflow allocating 4611686018427387904*8 bytes*");
}

static void
test_alloc_failure_abort (void)
{
  if (g_test_subprocess ())
    {
      CymemPool *pool = counting_pool_new ();
      counting_fail_at (1);
      cymem_pool_alloc (pool, 25, 4);
      return;
    }

  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_failed ();
  g_test_trap_assert_stderr ("*failed to allocate 100 bytes*");
}

static void
test_alloc_failure_try (void)
{
  CymemPool *pool = counting_pool_new ();
  gpointer kept = cymem_pool_alloc (pool, 1, 10);

  counting_fail_at (1);
  g_assert_null (cymem_pool_try_alloc (pool, 25, 4));
  g_assert_cmpuint (cymem_pool_get_size (pool), ==, 10);
  g_assert_cmpuint (cymem_pool_get_n_allocations (pool), ==, 1);
  g_assert_true (cymem_pool_owns (pool, kept));

  /* The next call succeeds again. */
  g_assert_nonnull (cymem_pool_try_alloc (pool, 25, 4));
  g_object_unref (pool);
  g_assert_cmpuint (counting_n_live (), ==, 0);
}

static void
test_realloc_grow (gconstpointer data)
{
  PoolFactory factory = ((const Factory *) data)->make;
  CymemPool *pool = factory ();
  guint8 *mem = cymem_pool_alloc (pool, 16, 1);
  guint8 *grown;

  for (guint i = 0; i < 16; i++)
    mem[i] = i + 1;

  grown = cymem_pool_realloc (pool, mem, 4096);
  g_assert_nonnull (grown);
  for (guint i = 0; i < 16; i++)
    g_assert_cmpuint (grown[i], ==, i + 1);
  g_assert_true (is_zeroed (grown + 16, 4096 - 16));
  g_assert_true (cymem_pool_owns (pool, grown));
  g_assert_true (grown == mem || !cymem_pool_owns (pool, mem));
  g_assert_cmpuint (cymem_pool_get_block_size (pool, grown), ==, 4096);
  g_assert_cmpuint (cymem_pool_get_size (pool), ==, 4096);
  g_assert_cmpuint (cymem_pool_get_n_allocations (pool), ==, 1);
  g_object_unref (pool);
}

static void
test_realloc_shrink (gconstpointer data)
{
  PoolFactory factory = ((const Factory *) data)->make;
  CymemPool *pool = factory ();
  guint8 *mem = cymem_pool_alloc (pool, 100, 1);
  guint8 *small, *empty, *again;

  memset (mem, 7, 100);
  small = cymem_pool_realloc (pool, mem, 10);
  for (guint i = 0; i < 10; i++)
    g_assert_cmpuint (small[i], ==, 7);
  g_assert_cmpuint (cymem_pool_get_size (pool), ==, 10);

  empty = cymem_pool_realloc (pool, small, 0);
  g_assert_nonnull (empty);
  g_assert_true (cymem_pool_owns (pool, empty));
  g_assert_cmpuint (cymem_pool_get_block_size (pool, empty), ==, 0);
  g_assert_cmpuint (cymem_pool_get_size (pool), ==, 0);

  /* Growing from 0 zeroes everything, even if the allocator gave dirty memory. */
  again = cymem_pool_realloc (pool, empty, 50);
  g_assert_true (is_zeroed (again, 50));
  g_assert_cmpuint (cymem_pool_get_n_allocations (pool), ==, 1);
  g_object_unref (pool);
}

static void
test_realloc_not_owned (gconstpointer data)
{
  PoolFactory factory = ((const Factory *) data)->make;
  CymemPool *pool = factory ();
  CymemPool *other = cymem_pool_new ();
  guint8 *mem = cymem_pool_alloc (pool, 64, 1);
  gpointer foreign = cymem_pool_alloc (other, 64, 1);
  gpointer freed = cymem_pool_alloc (pool, 8, 1);
  gint on_stack = 0;
  gpointer bad[] = { foreign, mem + 8, &on_stack, freed };

  cymem_pool_free (pool, freed);

  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_test_expect_message ("Cymem", G_LOG_LEVEL_CRITICAL, NOT_OWNED_MSG);
      g_assert_null (cymem_pool_realloc (pool, bad[i], 128));
      g_test_assert_expected_messages ();

      g_test_expect_message ("Cymem", G_LOG_LEVEL_CRITICAL, NOT_OWNED_MSG);
      g_assert_null (cymem_pool_try_realloc (pool, bad[i], 128));
      g_test_assert_expected_messages ();
    }

  g_assert_cmpuint (cymem_pool_get_size (pool), ==, 64);
  g_assert_cmpuint (cymem_pool_get_n_allocations (pool), ==, 1);
  g_assert_true (cymem_pool_owns (other, foreign));
  g_assert_cmpuint (cymem_pool_get_size (other), ==, 64);
  g_object_unref (other);
  g_object_unref (pool);
}

static void
test_realloc_failure_try (void)
{
  CymemPool *pool = counting_pool_new ();
  guint8 *mem = cymem_pool_alloc (pool, 32, 1);
  guint mallocs;

  memset (mem, 9, 32);
  mallocs = counting_n_mallocs ();
  counting_fail_at (1);
  g_assert_null (cymem_pool_try_realloc (pool, mem, 1 << 20));

  g_assert_true (cymem_pool_owns (pool, mem));
  g_assert_cmpuint (cymem_pool_get_block_size (pool, mem), ==, 32);
  g_assert_cmpuint (cymem_pool_get_size (pool), ==, 32);
  for (guint i = 0; i < 32; i++)
    g_assert_cmpuint (mem[i], ==, 9);
  g_assert_cmpuint (counting_n_mallocs (), ==, mallocs);
  g_assert_cmpuint (counting_n_frees (), ==, 0);
  g_object_unref (pool);
  g_assert_cmpuint (counting_n_live (), ==, 0);
}

static void
test_realloc_failure_abort (void)
{
  if (g_test_subprocess ())
    {
      CymemPool *pool = counting_pool_new ();
      gpointer mem = cymem_pool_alloc (pool, 32, 1);
      counting_fail_at (1);
      mem = cymem_pool_realloc (pool, mem, 4000);
      return;
    }

  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_failed ();
  g_test_trap_assert_stderr ("*failed to reallocate * to 4000 bytes*");
}

static void
test_free (gconstpointer data)
{
  PoolFactory factory = ((const Factory *) data)->make;
  CymemPool *pool = factory ();
  gpointer a = cymem_pool_alloc (pool, 3, 8);
  gpointer b = cymem_pool_alloc (pool, 5, 8);

  cymem_pool_free (pool, NULL);
  g_assert_cmpuint (cymem_pool_get_n_allocations (pool), ==, 2);

  cymem_pool_free (pool, a);
  g_assert_false (cymem_pool_owns (pool, a));
  g_assert_true (cymem_pool_owns (pool, b));
  g_assert_cmpuint (cymem_pool_get_size (pool), ==, 40);
  g_assert_cmpuint (cymem_pool_get_n_allocations (pool), ==, 1);
  g_object_unref (pool);
}

static void
test_free_not_owned (void)
{
  CymemPool *pool = counting_pool_new ();
  CymemPool *other = cymem_pool_new_with_allocator (counting_malloc, counting_free);
  guint8 *mem = cymem_pool_alloc (pool, 64, 1);
  gpointer foreign = cymem_pool_alloc (other, 16, 1);
  gpointer freed = cymem_pool_alloc (pool, 8, 1);
  gint on_stack = 0;
  gpointer bad[] = { foreign, mem + 1, &on_stack, freed };
  gchar *expected;

  cymem_pool_free (pool, freed);
  g_assert_cmpuint (counting_n_frees (), ==, 1);

  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      /* The message names the pointer. */
      expected = g_strdup_printf ("*cymem_pool_free*%p*is not a block owned by pool %p*",
                                  bad[i], (gpointer) pool);
      g_test_expect_message ("Cymem", G_LOG_LEVEL_CRITICAL, expected);
      cymem_pool_free (pool, bad[i]);
      g_test_assert_expected_messages ();
      g_free (expected);
    }

  /* Nothing was freed, nothing lost. */
  g_assert_cmpuint (counting_n_frees (), ==, 1);
  g_assert_true (counting_is_live (foreign));
  g_assert_true (cymem_pool_owns (other, foreign));
  g_assert_true (cymem_pool_owns (pool, mem));
  g_assert_cmpuint (cymem_pool_get_size (pool), ==, 64);
  g_assert_cmpuint (cymem_pool_get_n_allocations (pool), ==, 1);

  g_object_unref (other);
  g_object_unref (pool);
  g_assert_cmpuint (counting_n_live (), ==, 0);
  g_assert_cmpuint (counting_n_frees (), ==, counting_n_mallocs ());
}

typedef struct
{
  CymemPool *pool;
  gpointer   victim;   /* freed from inside the walk, while it pins the table */
  guint      n_seen;
} BigWalk;

static void
big_walk_free (gpointer mem,
               gsize    n_bytes,
               gpointer user_data)
{
  BigWalk *walk = user_data;

  walk->n_seen++;
  if (mem == walk->victim)
    {
      /* The block being visited stays readable until this returns. */
      cymem_pool_free (walk->pool, mem);
      walk->victim = NULL;
      for (gsize i = 0; i < n_bytes; i++)
        g_assert_cmpuint (((const guint8 *) mem)[i], ==, 0xa5);
    }
}

/* Blocks past the largest class, in a pool that never carved (no heap) and
 * in one that has: each takes its own free path, which must keep the size,
 * refuse what the pool does not own, and free each block once. */
static void
test_free_big (gconstpointer data)
{
  gboolean with_heap = GPOINTER_TO_INT (data);
  CymemPool *pool = cymem_pool_new ();
  CymemPool *other = cymem_pool_new ();
  gpointer small = with_heap ? cymem_pool_alloc (pool, 1, 64) : NULL;
  gsize base = with_heap ? 64 : 0;
  guint8 *big[5];
  gpointer foreign_big = cymem_pool_alloc (other, 1, 4096);
  gpointer foreign_small = cymem_pool_alloc (other, 1, 64);
  gpointer bad[4];
  BigWalk walk = { pool, NULL, 0 };

  for (gsize i = 0; i < G_N_ELEMENTS (big); i++)
    {
      big[i] = cymem_pool_alloc (pool, 1, 4096 + i);
      g_assert_true (is_zeroed (big[i], 4096 + i));
      memset (big[i], 0xa5, 4096 + i);
    }
  g_assert_cmpuint (cymem_pool_get_size (pool), ==, base + 5 * 4096 + 10);

  /* NULL is ignored, with no message. */
  cymem_pool_free (pool, NULL);

  cymem_pool_free (pool, big[1]);
  g_assert_false (cymem_pool_owns (pool, big[1]));
  g_assert_cmpuint (cymem_pool_get_size (pool), ==, base + 4 * 4096 + 9);

  bad[0] = big[1];            /* freed already */
  bad[1] = big[2] + 8;        /* interior */
  bad[2] = foreign_big;       /* another pool's, not carved */
  bad[3] = foreign_small;     /* another pool's, carved */
  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_test_expect_message ("Cymem", G_LOG_LEVEL_CRITICAL, NOT_OWNED_MSG);
      cymem_pool_free (pool, bad[i]);
      g_test_assert_expected_messages ();
    }
  g_assert_cmpuint (cymem_pool_get_size (pool), ==, base + 4 * 4096 + 9);
  g_assert_true (cymem_pool_owns (other, foreign_big));
  g_assert_true (cymem_pool_owns (other, foreign_small));

  /* Freed by the walk that is visiting it, which pins the table: gone
   * from the pool at once, its memory released after the walk. */
  walk.victim = big[4];
  cymem_pool_foreach (pool, big_walk_free, &walk);
  g_assert_null (walk.victim);
  g_assert_cmpuint (walk.n_seen, ==, with_heap ? 5 : 4);
  g_assert_false (cymem_pool_owns (pool, big[4]));
  g_assert_cmpuint (cymem_pool_get_size (pool), ==, base + 3 * 4096 + 5);

  /* The last big ones, newest first and oldest first. */
  cymem_pool_free (pool, big[3]);
  cymem_pool_free (pool, big[0]);
  g_assert_cmpuint (cymem_pool_get_size (pool), ==, base + 4096 + 2);
  g_assert_cmpuint (cymem_pool_get_n_allocations (pool), ==, with_heap ? 2 : 1);
  g_assert_true (cymem_pool_owns (pool, big[2]));
  if (small != NULL)
    g_assert_true (cymem_pool_owns (pool, small));

  g_object_unref (other);
  g_object_unref (pool);
}

static void
test_owns_and_block_size (void)
{
  CymemPool *pool = cymem_pool_new ();
  guint8 *mem = cymem_pool_alloc (pool, 4, 4);

  g_assert_true (cymem_pool_owns (pool, mem));
  g_assert_false (cymem_pool_owns (pool, mem + 4));
  g_assert_false (cymem_pool_owns (pool, NULL));
  g_assert_false (cymem_pool_owns (pool, &mem));

  g_test_expect_message ("Cymem", G_LOG_LEVEL_CRITICAL, NOT_OWNED_MSG);
  g_assert_cmpuint (cymem_pool_get_block_size (pool, mem + 4), ==, 0);
  g_test_assert_expected_messages ();

  g_test_expect_message ("Cymem", G_LOG_LEVEL_CRITICAL, NOT_OWNED_MSG);
  g_assert_cmpuint (cymem_pool_get_block_size (pool, NULL), ==, 0);
  g_test_assert_expected_messages ();

  g_object_unref (pool);
}

static void
test_properties (void)
{
  CymemPool *pool = cymem_pool_new ();
  guint64 size = 1;
  guint n_allocations = 1;
  GParamSpec *pspec;

  g_object_get (pool, "size", &size, "n-allocations", &n_allocations, NULL);
  g_assert_cmpuint (size, ==, 0);
  g_assert_cmpuint (n_allocations, ==, 0);

  cymem_pool_alloc (pool, 3, 100);
  cymem_pool_alloc (pool, 1, 7);
  g_object_get (pool, "size", &size, "n-allocations", &n_allocations, NULL);
  g_assert_cmpuint (size, ==, 307);
  g_assert_cmpuint (n_allocations, ==, 2);

  pspec = g_object_class_find_property (G_OBJECT_GET_CLASS (pool), "size");
  g_assert_true (G_IS_PARAM_SPEC_UINT64 (pspec));
  g_assert_false (pspec->flags & G_PARAM_WRITABLE);
  pspec = g_object_class_find_property (G_OBJECT_GET_CLASS (pool), "n-allocations");
  g_assert_true (G_IS_PARAM_SPEC_UINT (pspec));
  g_assert_false (pspec->flags & G_PARAM_WRITABLE);

  g_object_unref (pool);
}

static void
test_custom_allocator_exactly_once (void)
{
  CymemPool *pool = counting_pool_new ();
  gpointer blocks[20];

  for (guint i = 0; i < G_N_ELEMENTS (blocks); i++)
    blocks[i] = cymem_pool_alloc (pool, i, 8);
  g_assert_cmpuint (counting_n_mallocs (), ==, 20);

  for (guint i = 0; i < 5; i++)
    cymem_pool_free (pool, blocks[i]);
  for (guint i = 5; i < 10; i++)
    blocks[i] = cymem_pool_realloc (pool, blocks[i], 1000);
  g_assert_cmpuint (counting_n_live (), ==, 15);
  g_assert_cmpuint (cymem_pool_get_n_allocations (pool), ==, 15);

  /* Each realloc of a custom allocator is one malloc and one free. */
  g_assert_cmpuint (counting_n_mallocs (), ==, 25);
  g_assert_cmpuint (counting_n_frees (), ==, 10);

  g_object_unref (pool);
  g_assert_cmpuint (counting_n_live (), ==, 0);
  g_assert_cmpuint (counting_n_frees (), ==, 25);
}

static void
test_custom_allocator_libc (void)
{
  CymemPool *pool;
  gchar *str;

  g_test_summary ("cymem's WrapMalloc/WrapFree story: plain malloc/free and g_malloc/g_free work as written");
  pool = cymem_pool_new_with_allocator (malloc, free);
  str = cymem_pool_alloc (pool, 6, 1);
  memcpy (str, "hello", 5);
  str = cymem_pool_realloc (pool, str, 12);
  g_assert_cmpstr (str, ==, "hello");
  g_object_unref (pool);

  pool = cymem_pool_new_with_allocator (g_malloc, g_free);
  str = cymem_pool_alloc (pool, 6, 1);
  g_assert_true (is_zeroed (str, 6));
  g_object_unref (pool);
}

static GString *cleanup_log;

static void
log_cleanup (gpointer data)
{
  const gchar *text = data;

  /* Cleanups may read pool memory: no block has been freed yet. */
  g_assert_cmpuint (counting_n_frees (), ==, 0);
  g_string_append (cleanup_log, text);
}

static void
test_own_order (void)
{
  CymemPool *pool = counting_pool_new ();
  gchar *a = cymem_pool_alloc (pool, 2, 1);
  gchar *b = cymem_pool_alloc (pool, 2, 1);
  gchar *c = cymem_pool_alloc (pool, 2, 1);

  a[0] = 'a';
  b[0] = 'b';
  c[0] = 'c';
  cleanup_log = g_string_new (NULL);
  cymem_pool_own (pool, a, log_cleanup);
  cymem_pool_own (pool, b, log_cleanup);
  cymem_pool_own (pool, c, log_cleanup);

  g_object_unref (pool);
  g_assert_cmpstr (cleanup_log->str, ==, "cba");
  g_assert_cmpuint (counting_n_live (), ==, 0);
  g_string_free (cleanup_log, TRUE);
}

static void
allocate_in_cleanup (gpointer data)
{
  CymemPool *pool = data;
  gpointer late = cymem_pool_alloc (pool, 1, 64);

  g_assert_true (cymem_pool_owns (pool, late));
}

static void
test_own_cleanup_allocates (void)
{
  CymemPool *pool = counting_pool_new ();

  g_test_summary ("A cleanup may allocate from its pool: that block is freed too");
  cymem_pool_own (pool, pool, allocate_in_cleanup);
  cymem_pool_clear (pool);
  g_assert_cmpuint (cymem_pool_get_n_allocations (pool), ==, 0);
  g_assert_cmpuint (counting_n_live (), ==, 0);

  cymem_pool_own (pool, pool, allocate_in_cleanup);
  g_object_unref (pool);
  g_assert_cmpuint (counting_n_mallocs (), ==, 2);
  g_assert_cmpuint (counting_n_live (), ==, 0);
}

static void
clear_from_cleanup (gpointer data)
{
  CymemPool *pool = data;

  g_test_expect_message ("Cymem", G_LOG_LEVEL_CRITICAL, "*already being cleared*");
  cymem_pool_clear (pool);
  g_test_assert_expected_messages ();
  /* The block is still there for the cleanups that run after this one. */
  g_assert_cmpuint (cymem_pool_get_n_allocations (pool), ==, 1);
}

static void
test_own_cleanup_clears (void)
{
  CymemPool *pool = counting_pool_new ();

  g_test_summary ("A cleanup that clears its own pool is refused, not re-entered");
  cymem_pool_alloc (pool, 1, 8);
  cymem_pool_own (pool, pool, clear_from_cleanup);
  cymem_pool_clear (pool);
  g_assert_cmpuint (counting_n_live (), ==, 0);

  cymem_pool_alloc (pool, 1, 8);
  cymem_pool_own (pool, pool, clear_from_cleanup);
  g_object_unref (pool);
  g_assert_cmpuint (counting_n_live (), ==, 0);
  g_assert_cmpuint (counting_n_frees (), ==, 2);
}

static void
test_own_object (void)
{
  CymemPool *pool = cymem_pool_new ();
  GObject *object = g_object_new (G_TYPE_OBJECT, NULL);
  GObject *watch = object;

  g_object_add_weak_pointer (object, (gpointer *) &watch);
  cymem_pool_own_object (pool, object);
  g_object_unref (object);
  g_assert_nonnull (watch);

  cymem_pool_clear (pool);
  g_assert_null (watch);

  /* A pool refuses to own itself: that would be a cycle. */
  g_test_expect_message ("Cymem", G_LOG_LEVEL_CRITICAL, "*object != (gpointer)pool*");
  cymem_pool_own_object (pool, pool);
  g_test_assert_expected_messages ();

  g_object_unref (pool);
}

static void
test_hierarchy (void)
{
  CymemPool *parent = counting_pool_new ();
  CymemPool *child = cymem_pool_new_with_allocator (counting_malloc, counting_free);
  CymemPool *grandchild = cymem_pool_new_with_allocator (counting_malloc, counting_free);
  CymemPool *watch = child;

  cymem_pool_own_object (parent, child);
  cymem_pool_own_object (child, grandchild);
  g_object_add_weak_pointer (G_OBJECT (child), (gpointer *) &watch);
  g_object_unref (grandchild);
  g_object_unref (child);

  cymem_pool_alloc (parent, 1, 10);
  cymem_pool_alloc (child, 1, 20);
  cymem_pool_alloc (grandchild, 1, 30);
  g_assert_cmpuint (counting_n_live (), ==, 3);

  cymem_pool_clear (parent);
  g_assert_null (watch);
  g_assert_cmpuint (counting_n_live (), ==, 0);
  g_assert_cmpuint (counting_n_frees (), ==, 3);
  g_object_unref (parent);
}

static void
test_clear (void)
{
  CymemPool *pool = counting_pool_new ();
  gpointer mem;

  for (guint i = 0; i < 100; i++)
    cymem_pool_alloc (pool, i + 1, 3);
  cymem_pool_clear (pool);
  g_assert_cmpuint (cymem_pool_get_size (pool), ==, 0);
  g_assert_cmpuint (cymem_pool_get_n_allocations (pool), ==, 0);
  g_assert_cmpuint (counting_n_live (), ==, 0);

  /* Still usable. */
  mem = cymem_pool_alloc (pool, 4, 4);
  g_assert_true (cymem_pool_owns (pool, mem));
  g_assert_cmpuint (cymem_pool_get_size (pool), ==, 16);
  cymem_pool_clear (pool);
  cymem_pool_clear (pool);
  g_object_unref (pool);
  g_assert_cmpuint (counting_n_frees (), ==, 101);
}

/* --- threads --- */

#define N_THREADS 8
#define N_ROUNDS 4000

static gpointer
thread_worker (gpointer data)
{
  CymemPool *pool = data;
  GRand *rand = g_rand_new_with_seed (GPOINTER_TO_UINT (g_thread_self ()));
  guint8 *mine[16] = { NULL, };
  gsize sizes[16] = { 0, };

  for (guint round = 0; round < N_ROUNDS; round++)
    {
      guint slot = g_rand_int_range (rand, 0, G_N_ELEMENTS (mine));
      gsize n = g_rand_int_range (rand, 0, 300);

      if (mine[slot] == NULL)
        {
          mine[slot] = cymem_pool_alloc (pool, n, 1);
          sizes[slot] = n;
        }
      else if (g_rand_boolean (rand))
        {
          guint8 *grown = cymem_pool_realloc (pool, mine[slot], n);
          /* Contents written below survive: check the first byte. */
          if (sizes[slot] > 0 && n > 0)
            g_assert_cmpuint (grown[0], ==, (guint8) slot);
          mine[slot] = grown;
          sizes[slot] = n;
        }
      else
        {
          g_assert_cmpuint (cymem_pool_get_block_size (pool, mine[slot]), ==, sizes[slot]);
          cymem_pool_free (pool, mine[slot]);
          mine[slot] = NULL;
          continue;
        }

      if (sizes[slot] > 0)
        memset (mine[slot], slot, sizes[slot]);
      g_assert_true (cymem_pool_owns (pool, mine[slot]));
    }

  /* Leave what is still held to the pool; report how much that is. */
  g_rand_free (rand);
  {
    gsize total = 0;
    for (guint i = 0; i < G_N_ELEMENTS (mine); i++)
      if (mine[i] != NULL)
        total += sizes[i] + 1;  /* +1 so 0-byte blocks count too */
    return GSIZE_TO_POINTER (total);
  }
}

static void
test_threads (void)
{
  CymemPool *pool = counting_pool_new ();
  GThread *threads[N_THREADS];
  guint n_blocks;

  for (guint i = 0; i < N_THREADS; i++)
    threads[i] = g_thread_new ("pool-worker", thread_worker, pool);
  for (guint i = 0; i < N_THREADS; i++)
    g_thread_join (threads[i]);

  n_blocks = cymem_pool_get_n_allocations (pool);
  g_assert_cmpuint (counting_n_live (), ==, n_blocks);
  g_assert_cmpuint (counting_n_mallocs () - counting_n_frees (), ==, n_blocks);

  g_object_unref (pool);
  g_assert_cmpuint (counting_n_live (), ==, 0);
  g_assert_cmpuint (counting_n_frees (), ==, counting_n_mallocs ());
}

static void
test_threads_default (void)
{
  CymemPool *pool = cymem_pool_new ();
  GThread *threads[N_THREADS];
  gsize expected_size = 0;
  guint n_blocks = 0;

  for (guint i = 0; i < N_THREADS; i++)
    threads[i] = g_thread_new ("pool-worker", thread_worker, pool);
  for (guint i = 0; i < N_THREADS; i++)
    expected_size += GPOINTER_TO_SIZE (g_thread_join (threads[i]));

  /* Each thread returned sum (size + 1) over the blocks it still holds. */
  n_blocks = cymem_pool_get_n_allocations (pool);
  g_assert_cmpuint (cymem_pool_get_size (pool) + n_blocks, ==, expected_size);
  g_object_unref (pool);
}

/* --- bad arguments --- */

static void
test_bad_arguments (void)
{
  GObject *not_a_pool = g_object_new (G_TYPE_OBJECT, NULL);
  CymemPool *pool = cymem_pool_new ();
  gpointer mem = cymem_pool_alloc (pool, 1, 1);
  CymemPool *bad_pools[] = { NULL, (CymemPool *) not_a_pool };

  for (gsize i = 0; i < G_N_ELEMENTS (bad_pools); i++)
    {
      CymemPool *bad = bad_pools[i];

#define EXPECT_FAIL(call) \
      G_STMT_START { \
        g_test_expect_message ("Cymem", G_LOG_LEVEL_CRITICAL, "*CYMEM_IS_POOL*failed*"); \
        call; \
        g_test_assert_expected_messages (); \
      } G_STMT_END

      EXPECT_FAIL (g_assert_null (cymem_pool_alloc (bad, 1, 1)));
      EXPECT_FAIL (g_assert_null (cymem_pool_try_alloc (bad, 1, 1)));
      EXPECT_FAIL (g_assert_null (cymem_pool_realloc (bad, mem, 1)));
      EXPECT_FAIL (g_assert_null (cymem_pool_try_realloc (bad, mem, 1)));
      EXPECT_FAIL (cymem_pool_free (bad, mem));
      EXPECT_FAIL (g_assert_false (cymem_pool_owns (bad, mem)));
      EXPECT_FAIL (g_assert_cmpuint (cymem_pool_get_block_size (bad, mem), ==, 0));
      EXPECT_FAIL (g_assert_cmpuint (cymem_pool_get_size (bad), ==, 0));
      EXPECT_FAIL (g_assert_cmpuint (cymem_pool_get_n_allocations (bad), ==, 0));
      EXPECT_FAIL (cymem_pool_clear (bad));
      EXPECT_FAIL (cymem_pool_own (bad, mem, g_free));
      EXPECT_FAIL (cymem_pool_own_object (bad, not_a_pool));
      EXPECT_FAIL (cymem_pool_attach (bad, not_a_pool));
      EXPECT_FAIL (cymem_pool_detach (bad, not_a_pool));
#undef EXPECT_FAIL
    }

#define EXPECT_CRITICAL(pattern, call) \
  G_STMT_START { \
    g_test_expect_message ("Cymem", G_LOG_LEVEL_CRITICAL, pattern); \
    call; \
    g_test_assert_expected_messages (); \
  } G_STMT_END

  /* realloc (NULL) allocates, as g_realloc () does (a critical in 1.0). */
  {
    gpointer fresh = cymem_pool_realloc (pool, NULL, 3);
    gpointer fresh2 = cymem_pool_try_realloc (pool, NULL, 5);

    g_assert_true (cymem_pool_owns (pool, fresh));
    g_assert_cmpuint (cymem_pool_get_block_size (pool, fresh), ==, 3);
    g_assert_cmpuint (cymem_pool_get_block_size (pool, fresh2), ==, 5);
    g_assert_cmpuint (((guint8 *) fresh2)[4], ==, 0);
    cymem_pool_free (pool, fresh);
    cymem_pool_free (pool, fresh2);
  }
  EXPECT_CRITICAL ("*destroy != NULL*", cymem_pool_own (pool, mem, NULL));
  EXPECT_CRITICAL ("*G_IS_OBJECT*", cymem_pool_own_object (pool, NULL));
  EXPECT_CRITICAL ("*G_IS_OBJECT*", cymem_pool_attach (pool, NULL));
  EXPECT_CRITICAL ("*G_IS_OBJECT*", cymem_pool_detach (pool, NULL));
  EXPECT_CRITICAL ("*G_IS_OBJECT*", g_assert_null (cymem_pool_get_for_object (NULL)));
  EXPECT_CRITICAL ("*G_IS_OBJECT*", g_assert_null (cymem_pool_ensure_for_object (NULL)));
  EXPECT_CRITICAL ("*malloc_func != NULL*",
                   g_assert_null (cymem_pool_new_with_allocator (NULL, free)));
  EXPECT_CRITICAL ("*free_func != NULL*",
                   g_assert_null (cymem_pool_new_with_allocator (malloc, NULL)));
#undef EXPECT_CRITICAL

  /* Nothing changed. */
  g_assert_true (cymem_pool_owns (pool, mem));
  g_assert_cmpuint (cymem_pool_get_n_allocations (pool), ==, 1);
  g_object_unref (pool);
  g_object_unref (not_a_pool);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_data_func ("/Cymem/Pool/alloc/zeroed/default", &default_factory, test_alloc_zeroed);
  g_test_add_data_func ("/Cymem/Pool/alloc/zeroed/custom", &custom_factory, test_alloc_zeroed);
  g_test_add_func ("/Cymem/Pool/alloc/large", test_alloc_large);
  g_test_add_data_func ("/Cymem/Pool/alloc/zero-bytes/default", &default_factory, test_alloc_zero_bytes);
  g_test_add_data_func ("/Cymem/Pool/alloc/zero-bytes/custom", &custom_factory, test_alloc_zero_bytes);
  g_test_add_func ("/Cymem/Pool/alloc/zero-bytes/custom-request", test_alloc_zero_bytes_custom_request);
  g_test_add_func ("/Cymem/Pool/alloc/overflow/try", test_alloc_overflow_try);
  g_test_add_func ("/Cymem/Pool/alloc/overflow/abort", test_alloc_overflow_abort);
  g_test_add_func ("/Cymem/Pool/alloc/failure/try", test_alloc_failure_try);
  g_test_add_func ("/Cymem/Pool/alloc/failure/abort", test_alloc_failure_abort);
  g_test_add_data_func ("/Cymem/Pool/realloc/grow/default", &default_factory, test_realloc_grow);
  g_test_add_data_func ("/Cymem/Pool/realloc/grow/custom", &custom_factory, test_realloc_grow);
  g_test_add_data_func ("/Cymem/Pool/realloc/shrink/default", &default_factory, test_realloc_shrink);
  g_test_add_data_func ("/Cymem/Pool/realloc/shrink/custom", &custom_factory, test_realloc_shrink);
  g_test_add_data_func ("/Cymem/Pool/realloc/not-owned/default", &default_factory, test_realloc_not_owned);
  g_test_add_data_func ("/Cymem/Pool/realloc/not-owned/custom", &custom_factory, test_realloc_not_owned);
  g_test_add_func ("/Cymem/Pool/realloc/failure/try", test_realloc_failure_try);
  g_test_add_func ("/Cymem/Pool/realloc/failure/abort", test_realloc_failure_abort);
  g_test_add_data_func ("/Cymem/Pool/free/default", &default_factory, test_free);
  g_test_add_data_func ("/Cymem/Pool/free/custom", &custom_factory, test_free);
  g_test_add_func ("/Cymem/Pool/free/not-owned", test_free_not_owned);
  g_test_add_data_func ("/Cymem/Pool/free/big/no-heap", GINT_TO_POINTER (FALSE), test_free_big);
  g_test_add_data_func ("/Cymem/Pool/free/big/heap", GINT_TO_POINTER (TRUE), test_free_big);
  g_test_add_func ("/Cymem/Pool/owns", test_owns_and_block_size);
  g_test_add_func ("/Cymem/Pool/properties", test_properties);
  g_test_add_func ("/Cymem/Pool/allocator/exactly-once", test_custom_allocator_exactly_once);
  g_test_add_func ("/Cymem/Pool/allocator/libc", test_custom_allocator_libc);
  g_test_add_func ("/Cymem/Pool/own/order", test_own_order);
  g_test_add_func ("/Cymem/Pool/own/cleanup-allocates", test_own_cleanup_allocates);
  g_test_add_func ("/Cymem/Pool/own/cleanup-clears", test_own_cleanup_clears);
  g_test_add_func ("/Cymem/Pool/own/object", test_own_object);
  g_test_add_func ("/Cymem/Pool/own/hierarchy", test_hierarchy);
  g_test_add_func ("/Cymem/Pool/clear", test_clear);
  g_test_add_func ("/Cymem/Pool/threads/custom", test_threads);
  g_test_add_func ("/Cymem/Pool/threads/default", test_threads_default);
  g_test_add_func ("/Cymem/Pool/bad-arguments", test_bad_arguments);

  return g_test_run ();
}
