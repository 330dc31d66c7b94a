/* test-stress.c: eight threads racing on shared pools
 *
 * SPDX-License-Identifier: MIT
 *
 * Threads allocate, reallocate, free, steal, clear, attach pools to owners
 * and let owners die, all at once on a few shared pools. A thread's record
 * of "its" blocks goes stale whenever another thread clears a pool, so it
 * only ever touches them through the address API, which checks every
 * address and reports a stale one as an error. At the end the counting
 * allocator must show every block freed exactly once. Run it under
 * ThreadSanitizer (meson setup -Db_sanitize=thread) to look for races.
 */

#include <cymem-glib/cymem-glib.h>

#include "counting-allocator.h"

#define N_THREADS 8
#define N_SHARED  3
#define N_OPS     3000
#define N_HELD    32

static CymemPool *shared[N_SHARED];

typedef struct
{
  CymemPool *pool;  /* the pool the block was in when last seen */
  guintptr   addr;
} Held;

static gboolean
expected_error (GError *error)
{
  /* Stale addresses and refusals are expected; nothing else is. */
  return error == NULL ||
         g_error_matches (error, CYMEM_POOL_ERROR, CYMEM_POOL_ERROR_UNKNOWN_ADDRESS);
}

static gpointer
worker (gpointer data)
{
  GRand *rand = g_rand_new_with_seed (GPOINTER_TO_UINT (data));
  Held held[N_HELD] = { { NULL, 0 }, };
  static const guint8 payload[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };

  for (guint op = 0; op < N_OPS; op++)
    {
      guint slot = g_rand_int_range (rand, 0, N_HELD);
      CymemPool *pool = shared[g_rand_int_range (rand, 0, N_SHARED)];
      Held *h = &held[slot];
      GError *error = NULL;
      guint choice = g_rand_int_range (rand, 0, 100);

      if (h->addr == 0 || choice < 30)
        {
          gsize n_bytes = g_rand_int_range (rand, 0, 200);
          guintptr addr = cymem_pool_alloc_address (pool, 1, n_bytes, &error);

          g_assert_no_error (error);
          /* The old record (if any) is forgotten; its pool still owns it. */
          h->pool = pool;
          h->addr = addr;
          /* Another thread may have cleared the pool already. */
          cymem_pool_write (pool, addr, 0, payload, MIN (8, n_bytes), &error);
          g_assert_true (expected_error (error));
        }
      else if (choice < 50)
        {
          guintptr moved = cymem_pool_realloc_address (h->pool, h->addr, g_rand_int_range (rand, 0, 300), &error);
          g_assert_true (expected_error (error));
          h->addr = moved;
        }
      else if (choice < 70)
        {
          cymem_pool_free_address (h->pool, h->addr, &error);
          g_assert_true (expected_error (error));
          h->addr = 0;
        }
      else if (choice < 88)
        {
          if (cymem_pool_steal_address (pool, h->pool, h->addr, &error))
            h->pool = pool;
          g_assert_true (expected_error (error));
        }
      else if (choice < 90)
        {
          cymem_pool_clear (pool);
        }
      else if (choice < 95)
        {
          /* A pool of an owner that dies, after taking blocks from a
           * shared pool and lending one back. */
          GObject *owner = g_object_new (G_TYPE_OBJECT, NULL);
          CymemPool *mine = cymem_pool_new_with_allocator (counting_malloc, counting_free);
          guintptr addr;

          cymem_pool_attach (mine, owner);
          g_object_unref (mine);
          addr = cymem_pool_alloc_address (mine, 4, 4, NULL);
          cymem_pool_steal_address (mine, h->pool, h->addr, &error);
          g_assert_true (expected_error (error));
          g_clear_error (&error);
          cymem_pool_steal_address (pool, mine, addr, &error);
          g_assert_no_error (error);
          h->addr = 0;
          g_object_unref (owner);  /* mine dies here, with what it holds */
        }
      else
        {
          /* Shared pools attached to short-lived owners. */
          GObject *owner = g_object_new (G_TYPE_OBJECT, NULL);

          cymem_pool_attach (pool, owner);
          g_assert_true (cymem_pool_get_for_object (owner) == pool);
          g_object_unref (owner);
        }

      g_clear_error (&error);
    }

  g_rand_free (rand);
  return NULL;
}

static void
test_stress (void)
{
  GThread *threads[N_THREADS];

  counting_reset ();
  for (guint i = 0; i < N_SHARED; i++)
    shared[i] = cymem_pool_new_with_allocator (counting_malloc, counting_free);

  for (guint i = 0; i < N_THREADS; i++)
    threads[i] = g_thread_new ("stress", worker, GUINT_TO_POINTER (1000 + i));
  for (guint i = 0; i < N_THREADS; i++)
    g_thread_join (threads[i]);

  /* The pools agree with the allocator about what is alive. */
  {
    guint owned = 0;
    for (guint i = 0; i < N_SHARED; i++)
      owned += cymem_pool_get_n_allocations (shared[i]);
    g_assert_cmpuint (owned, ==, counting_n_live ());
  }

  for (guint i = 0; i < N_SHARED; i++)
    g_object_unref (shared[i]);

  g_assert_cmpuint (counting_n_live (), ==, 0);
  g_assert_cmpuint (counting_n_frees (), ==, counting_n_mallocs ());
  g_test_message ("%u blocks allocated and freed exactly once", counting_n_mallocs ());
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/Cymem/Stress/threads", test_stress);

  return g_test_run ();
}
