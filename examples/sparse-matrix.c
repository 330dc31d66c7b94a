/* sparse-matrix.c: cymem's motivating example, the GObject way
 *
 * SPDX-License-Identifier: MIT
 *
 * A MatrixArray object holds an array of sparse matrices; each matrix is a C
 * struct with rows, and each row owns two arrays. Every one of those blocks
 * comes from a pool attached to the MatrixArray, so there is no deallocator
 * anywhere in this file: the memory goes when the object goes.
 *
 * The pool here uses a counting allocator only to show that every block was
 * freed; a real program would call cymem_pool_ensure_for_object() and let the
 * pool use the default allocator.
 */

#include <stdlib.h>

#include <cymem-glib/cymem-glib.h>

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
} SparseMatrix;

/* One (column, value) entry of the input. */
typedef struct
{
  gsize   index;
  gdouble value;
} Entry;

/* --- a counting allocator, to prove the point --- */

static gint n_mallocs;
static gint n_frees;

static gpointer
counting_malloc (gsize n_bytes)
{
  g_atomic_int_inc (&n_mallocs);
  return malloc (n_bytes);
}

static void
counting_free (gpointer mem)
{
  g_atomic_int_inc (&n_frees);
  free (mem);
}

/* --- MatrixArray --- */

#define MATRIX_TYPE_ARRAY (matrix_array_get_type ())
G_DECLARE_FINAL_TYPE (MatrixArray, matrix_array, MATRIX, ARRAY, GObject)

struct _MatrixArray
{
  GObject        parent_instance;
  gsize          length;
  SparseMatrix **matrices;  /* pool memory, all the way down */
};

/* No finalize, no dispose: the attached pool frees everything. */
G_DEFINE_FINAL_TYPE (MatrixArray, matrix_array, G_TYPE_OBJECT)

static void
matrix_array_class_init (MatrixArrayClass *klass)
{
}

static void
matrix_array_init (MatrixArray *self)
{
  CymemPool *pool = cymem_pool_new_with_allocator (counting_malloc, counting_free);

  cymem_pool_attach (pool, G_OBJECT (self));
  g_object_unref (pool);
}

static SparseMatrix *
sparse_matrix_init (CymemPool   *pool,
                    gsize        n_rows,
                    const Entry *const *rows,
                    const gsize *row_lengths)
{
  SparseMatrix *sm = cymem_pool_alloc (pool, 1, sizeof (SparseMatrix));

  sm->length = n_rows;
  sm->rows = cymem_pool_alloc (pool, n_rows, sizeof (SparseRow));
  for (gsize i = 0; i < n_rows; i++)
    {
      SparseRow *row = &sm->rows[i];

      row->length = row_lengths[i];
      row->indices = cymem_pool_alloc (pool, row->length, sizeof (gsize));
      row->values = cymem_pool_alloc (pool, row->length, sizeof (gdouble));
      for (gsize j = 0; j < row->length; j++)
        {
          row->indices[j] = rows[i][j].index;
          row->values[j] = rows[i][j].value;
        }
    }

  return sm;
}

static MatrixArray *
matrix_array_new (gsize n_matrices)
{
  MatrixArray *self = g_object_new (MATRIX_TYPE_ARRAY, NULL);
  CymemPool *pool = cymem_pool_get_for_object (G_OBJECT (self));

  self->length = n_matrices;
  self->matrices = cymem_pool_alloc (pool, n_matrices, sizeof (SparseMatrix *));

  return self;
}

static void
matrix_array_print (MatrixArray *self)
{
  for (gsize m = 0; m < self->length; m++)
    {
      SparseMatrix *sm = self->matrices[m];

      g_print ("matrix %" G_GSIZE_FORMAT ": %" G_GSIZE_FORMAT " rows\n", m, sm->length);
      for (gsize i = 0; i < sm->length; i++)
        {
          g_print ("  row %" G_GSIZE_FORMAT ":", i);
          for (gsize j = 0; j < sm->rows[i].length; j++)
            g_print (" [%" G_GSIZE_FORMAT "]=%g", sm->rows[i].indices[j], sm->rows[i].values[j]);
          g_print ("\n");
        }
    }
}

int
main (void)
{
  static const Entry r0[] = { { 0, 1.5 }, { 7, -2.0 } };
  static const Entry r1[] = { { 3, 4.25 } };
  static const Entry r2[] = { { 1, 0.5 }, { 2, 0.25 }, { 9, 8.0 } };
  static const Entry *rows_a[] = { r0, r1, r2 };
  static const gsize lengths_a[] = { G_N_ELEMENTS (r0), G_N_ELEMENTS (r1), G_N_ELEMENTS (r2) };
  static const Entry *rows_b[] = { r2, NULL, r0 };
  static const gsize lengths_b[] = { G_N_ELEMENTS (r2), 0, G_N_ELEMENTS (r0) };
  MatrixArray *array;
  CymemPool *pool;
  guint64 size;
  guint n_allocations;

  array = matrix_array_new (2);
  pool = cymem_pool_get_for_object (G_OBJECT (array));
  array->matrices[0] = sparse_matrix_init (pool, 3, rows_a, lengths_a);
  array->matrices[1] = sparse_matrix_init (pool, 3, rows_b, lengths_b);

  matrix_array_print (array);

  g_object_get (pool, "size", &size, "n-allocations", &n_allocations, NULL);
  g_print ("pool: size = %" G_GUINT64_FORMAT " bytes in n-allocations = %u blocks\n",
           size, n_allocations);

  g_object_unref (array);
  g_print ("after the MatrixArray died: %d blocks allocated, %d freed\n",
           g_atomic_int_get (&n_mallocs), g_atomic_int_get (&n_frees));

  if (n_mallocs != (gint) n_allocations || n_frees != n_mallocs)
    {
      g_printerr ("error: not every block was freed exactly once\n");
      return 1;
    }

  return 0;
}
