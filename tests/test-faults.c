/* test-faults.c: allocator failure at every possible point
 *
 * SPDX-License-Identifier: MIT
 *
 * Each scenario runs once to count its allocator calls, then again with the
 * Nth call failing, for every N. Every failure must be reported by the try_
 * function that met it, the pool must stay consistent (what it owns matches
 * what the allocator has handed out, sizes included), and after the pool
 * dies every block must have been freed exactly once.
 */

#include <string.h>

#include <cymem-glib/cymem-glib.h>

#include "counting-allocator.h"

typedef struct
{
  gsize    length;
  gsize   *indices;
  gdouble *values;
} SparseRow;

typedef struct
{
  gsize      length;
  SparseRow *rows;
  gchar     *name;
} SparseMatrix;

#define N_MATRICES 3
#define N_ROWS     4

static gboolean
build_sparse_matrices (CymemPool *pool,
                       CymemPool *unused)
{
  SparseMatrix **matrices = cymem_pool_try_alloc (pool, N_MATRICES, sizeof *matrices);

  if (matrices == NULL)
    return FALSE;

  for (guint m = 0; m < N_MATRICES; m++)
    {
      SparseMatrix *sm = cymem_pool_try_alloc (pool, 1, sizeof *sm);

      if (sm == NULL)
        return FALSE;
      matrices[m] = sm;

      sm->name = cymem_pool_strdup_printf (pool, "matrix %u", m);
      if (sm->name == NULL)
        return FALSE;

      sm->length = N_ROWS;
      sm->rows = cymem_pool_try_alloc (pool, N_ROWS, sizeof (SparseRow));
      if (sm->rows == NULL)
        return FALSE;

      for (guint r = 0; r < N_ROWS; r++)
        {
          SparseRow *row = &sm->rows[r];

          row->length = r + 1;
          row->indices = cymem_pool_try_alloc (pool, row->length, sizeof (gsize));
          if (row->indices == NULL)
            return FALSE;
          row->values = cymem_pool_try_alloc (pool, row->length, sizeof (gdouble));
          if (row->values == NULL)
            return FALSE;
          for (gsize j = 0; j < row->length; j++)
            {
              row->indices[j] = j * 3;
              row->values[j] = m + r + j / 10.0;
            }
        }
    }

  return TRUE;
}

static gboolean
grow_and_move (CymemPool *pool,
               CymemPool *other)
{
  guint8 *buffer = cymem_pool_try_alloc (pool, 1, 8);
  gsize size = 8;
  gpointer copy;

  if (buffer == NULL)
    return FALSE;
  memset (buffer, 0x5A, size);

  for (guint i = 1; i <= 12; i++)
    {
      gsize new_size = (i % 4 == 0) ? size / 2 : size + 24 * i;
      guint8 *grown = cymem_pool_try_realloc (pool, buffer, new_size);

      if (grown == NULL)
        {
          /* The old block is still owned and intact. */
          g_assert_true (cymem_pool_owns (pool, buffer));
          g_assert_cmpuint (cymem_pool_get_block_size (pool, buffer), ==, size);
          for (gsize j = 0; j < size; j++)
            g_assert_cmpuint (buffer[j], ==, 0x5A);
          return FALSE;
        }
      for (gsize j = size; j < new_size; j++)
        g_assert_cmpuint (grown[j], ==, 0);   /* the grown tail is zeroed */
      buffer = grown;
      size = new_size;
      memset (buffer, 0x5A, size);
    }

  copy = cymem_pool_memdup (pool, buffer, size);
  if (copy == NULL)
    return FALSE;
  g_assert_true (cymem_pool_steal (other, pool, copy));
  return cymem_pool_strdup (other, "done") != NULL;
}

typedef gboolean (*Scenario) (CymemPool *pool, CymemPool *other);

/* Function pointers cannot travel as test data in ISO C: wrapped. */
typedef struct
{
  Scenario run;
} ScenarioData;

static gsize live_bytes;

static void
add_size (gpointer mem, gsize n_bytes, gpointer user_data)
{
  g_assert_true (counting_is_live (mem));
  live_bytes += n_bytes;
}

static void
check_consistent (CymemPool *pool, CymemPool *other)
{
  live_bytes = 0;
  cymem_pool_foreach (pool, add_size, NULL);
  cymem_pool_foreach (other, add_size, NULL);
  g_assert_cmpuint (live_bytes, ==, cymem_pool_get_size (pool) + cymem_pool_get_size (other));
  g_assert_cmpuint (cymem_pool_get_n_allocations (pool) + cymem_pool_get_n_allocations (other),
                    ==, counting_n_live ());
}

static void
test_fail_everywhere (gconstpointer data)
{
  Scenario scenario = ((const ScenarioData *) data)->run;
  CymemPool *pool = counting_pool_new ();
  CymemPool *other = cymem_pool_new_with_allocator (counting_malloc, counting_free);
  guint total;

  g_assert_true (scenario (pool, other));
  total = counting_n_mallocs ();
  g_object_unref (other);
  g_object_unref (pool);
  g_assert_cmpuint (counting_n_live (), ==, 0);
  g_assert_cmpuint (total, >, 10);

  for (guint n = 1; n <= total; n++)
    {
      pool = counting_pool_new ();
      other = cymem_pool_new_with_allocator (counting_malloc, counting_free);
      counting_fail_at (n);

      /* The failure is reported, at the Nth call exactly. */
      g_assert_false (scenario (pool, other));
      g_assert_cmpuint (counting_n_mallocs (), ==, n - 1);
      check_consistent (pool, other);

      g_object_unref (other);
      g_object_unref (pool);
      g_assert_cmpuint (counting_n_live (), ==, 0);
      g_assert_cmpuint (counting_n_frees (), ==, counting_n_mallocs ());
    }
  g_test_message ("%u failure points checked", total);
}

int
main (int   argc,
      char *argv[])
{
  static const ScenarioData sparse = { build_sparse_matrices }, realloc_steal = { grow_and_move };

  g_test_init (&argc, &argv, NULL);

  g_test_add_data_func ("/Cymem/Faults/sparse-matrices", &sparse, test_fail_everywhere);
  g_test_add_data_func ("/Cymem/Faults/realloc-and-steal", &realloc_steal, test_fail_everywhere);

  return g_test_run ();
}
