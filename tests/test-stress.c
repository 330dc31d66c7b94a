/* test-stress.c: eight threads racing on shared pools
 *
 * SPDX-License-Identifier: MIT
 *
 * Threads allocate, reallocate, free, copy, steal, clear, walk, register
 * cleanups, attach pools to owners and let owners die, all at once on a few
 * shared pools; cleanups and foreach functions call back into the same pool
 * and into others, and child pools die in their parents' cleanups. A thread's record
 * of "its" blocks goes stale whenever another thread clears a pool, so it
 * only ever touches them through the address API, which checks every
 * address and reports a stale one as an error. At the end the counting
 * allocator must show every block freed exactly once. tools/test-all.sh
 * runs it under AddressSanitizer and ThreadSanitizer with the library built
 * with -Dperturb=true and CYMEM_PERTURB=1, so that the pool yields and
 * sleeps at random at every transition point of its protocol.
 */

#include <string.h>

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

typedef struct
{
  CymemPool *pool;
  CymemPool *other;
  guint      n;
} WalkState;

/* A foreach function that reads the visited block and changes the pool it
 * walks and another one. */
static void
reenter_walk (gpointer mem, gsize n_bytes, gpointer user_data)
{
  WalkState *walk = user_data;
  volatile guint8 sink = 0;
  GError *error = NULL;

  /* The block is readable until we return, whatever other threads do. */
  for (gsize i = 0; i < n_bytes; i++)
    sink ^= ((guint8 *) mem)[i];
  (void) sink;

  switch (walk->n++ % 16)
    {
    case 0:
      cymem_pool_free_address (walk->pool, (guintptr) mem, &error);
      g_assert_true (expected_error (error));
      break;
    case 3:
      cymem_pool_free_address (walk->other,
                               cymem_pool_alloc_address (walk->other, 1, 24, NULL), &error);
      g_assert_true (expected_error (error));
      break;
    case 7:
      cymem_pool_alloc_address (walk->pool, 1, 8, NULL);
      break;
    case 11:
      if (walk->n % 5 == 0)
        cymem_pool_clear (walk->pool);
      break;
    default:
      break;
    }
  g_clear_error (&error);
}

static void
noop_walk (gpointer mem, gsize n_bytes, gpointer user_data)
{
  (*(guint *) user_data)++;
}

/* A cleanup of a shared pool that uses its own pool: it may run in a
 * clear on any thread, or in the finalize at the end. */
static void
reenter_own_pool (gpointer data)
{
  CymemPool *pool = data;
  guint n = 0;
  GError *error = NULL;
  guintptr addr = cymem_pool_strdup_address (pool, "cleanup", &error);

  g_assert_no_error (error);
  cymem_pool_foreach (pool, noop_walk, &n);
  cymem_pool_free_address (pool, addr, &error);
  g_assert_true (expected_error (error));
  g_clear_error (&error);
}

typedef struct
{
  CymemPool *self;   /* the pool this cleanup belongs to (no reference) */
  guint8    *block;  /* a block of it, read by the cleanup */
  CymemPool *other;  /* a shared pool, referenced */
} OwnedCleanup;

/* A cleanup of a short-lived pool: reads its pool's block, which no block
 * release may precede, and allocates in its own pool and a shared one. */
static void
reenter_cleanup (gpointer data)
{
  OwnedCleanup *c = data;

  g_assert_true (counting_is_live (c->block));
  g_assert_cmpuint (c->block[3], ==, 0x3c);
  cymem_pool_alloc_address (c->self, 1, 16, NULL);
  cymem_pool_free_address (c->other, cymem_pool_alloc_address (c->other, 1, 40, NULL), NULL);
  g_object_unref (c->other);
  g_free (c);
}

static void
own_reentering_cleanup (CymemPool *pool,
                        CymemPool *other)
{
  OwnedCleanup *c = g_new (OwnedCleanup, 1);

  c->self = pool;
  c->block = cymem_pool_alloc (pool, 1, 8);
  c->block[3] = 0x3c;
  c->other = g_object_ref (other);
  cymem_pool_own (pool, c, reenter_cleanup);
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
          guint8 contents[200];
          guintptr addr;

          /* Written before it is visible: other threads read blocks in
           * their walks, and nobody writes a visible block. */
          memset (contents, (int) n_bytes, sizeof contents);
          addr = cymem_pool_memdup_address (pool, contents, n_bytes, &error);
          g_assert_no_error (error);
          /* The old record (if any) is forgotten; its pool still owns it. */
          h->pool = pool;
          h->addr = addr;
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
      else if (choice < 89)
        {
          cymem_pool_clear (pool);
        }
      else if (choice < 91)
        {
          /* A pool of an owner that dies, after taking blocks from a
           * shared pool and lending one back; its cleanups and its
           * child's re-enter pools while it is finalized. */
          GObject *owner = g_object_new (G_TYPE_OBJECT, NULL);
          CymemPool *mine = cymem_pool_new_with_allocator (counting_malloc, counting_free);
          CymemPool *child;
          guintptr addr;

          cymem_pool_attach (mine, owner);
          g_object_unref (mine);
          addr = cymem_pool_alloc_address (mine, 4, 4, NULL);
          own_reentering_cleanup (mine, pool);
          child = cymem_pool_new_child (mine);
          own_reentering_cleanup (child, pool);
          cymem_pool_steal_address (mine, h->pool, h->addr, &error);
          g_assert_true (expected_error (error));
          g_clear_error (&error);
          cymem_pool_steal_address (pool, mine, addr, &error);
          g_assert_no_error (error);
          h->addr = 0;
          g_object_unref (owner);  /* mine dies here, with what it holds */
        }
      else if (choice < 93)
        {
          /* Shared pools attached to short-lived owners. */
          GObject *owner = g_object_new (G_TYPE_OBJECT, NULL);

          cymem_pool_attach (pool, owner);
          g_assert_true (cymem_pool_get_for_object (owner) == pool);
          g_object_unref (owner);
        }
      else if (choice < 96)
        {
          /* Copies are complete whenever they can be seen. */
          guintptr addr = cymem_pool_strdup_address (pool, "a complete copy", &error);
          gchar *str;

          g_assert_no_error (error);
          str = cymem_pool_read_string (pool, addr, &error);
          g_assert_true (expected_error (error));
          if (str != NULL)
            g_assert_cmpstr (str, ==, "a complete copy");
          g_free (str);
          g_clear_error (&error);
          addr = cymem_pool_memdup_address (pool, payload, sizeof payload, &error);
          g_assert_no_error (error);
          h->pool = pool;
          h->addr = addr;
        }
      else if (choice < 98)
        {
          WalkState walk = { pool, shared[g_rand_int_range (rand, 0, N_SHARED)], op };

          cymem_pool_foreach (pool, reenter_walk, &walk);
        }
      else
        {
          cymem_pool_own (pool, pool, reenter_own_pool);
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

  GError *warm_up = NULL;

  /* GLib (not built with ThreadSanitizer) creates the lock of its error
   * domain registry lazily with atomics TSan cannot see: create it before
   * the threads start, so that its first use is not reported as a race. */
  g_set_error_literal (&warm_up, CYMEM_POOL_ERROR, CYMEM_POOL_ERROR_UNKNOWN_ADDRESS, "warm-up");
  g_clear_error (&warm_up);

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
