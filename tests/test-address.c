/* test-address.c: the address-based API that bindings use, from C
 *
 * SPDX-License-Identifier: MIT
 */

#include <string.h>

#include <cymem-glib/cymem-glib.h>

#include "counting-allocator.h"

static void
test_address_alloc (void)
{
  CymemPool *pool = cymem_pool_new ();
  g_autoptr(GError) error = NULL;
  guintptr addr;

  addr = cymem_pool_alloc_address (pool, 3, 5, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (addr, !=, 0);
  g_assert_true (cymem_pool_owns_address (pool, addr));
  g_assert_true (cymem_pool_owns (pool, (gpointer) addr));
  g_assert_cmpuint (cymem_pool_get_block_size_address (pool, addr, &error), ==, 15);
  g_assert_no_error (error);

  g_assert_cmpuint (cymem_pool_alloc_address (pool, G_MAXSIZE, 2, &error), ==, 0);
  g_assert_error (error, CYMEM_POOL_ERROR, CYMEM_POOL_ERROR_NO_MEMORY);
  g_assert_nonnull (strstr (error->message, "overflow"));
  g_assert_cmpuint (cymem_pool_get_n_allocations (pool), ==, 1);
  g_object_unref (pool);
}

static void
test_address_alloc_failure (void)
{
  CymemPool *pool = counting_pool_new ();
  g_autoptr(GError) error = NULL;

  counting_fail_at (1);
  g_assert_cmpuint (cymem_pool_alloc_address (pool, 1, 64, &error), ==, 0);
  g_assert_error (error, CYMEM_POOL_ERROR, CYMEM_POOL_ERROR_NO_MEMORY);
  g_assert_cmpuint (cymem_pool_get_n_allocations (pool), ==, 0);
  g_object_unref (pool);
}

static void
test_address_read_write (void)
{
  CymemPool *pool = cymem_pool_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) bytes = NULL;
  guintptr addr = cymem_pool_alloc_address (pool, 1, 8, &error);
  static const guint8 data[] = { 'c', 'y', 'm' };
  gsize n;

  g_assert_true (cymem_pool_write (pool, addr, 5, data, 3, &error));
  g_assert_no_error (error);
  g_assert_true (cymem_pool_write (pool, addr, 8, NULL, 0, &error));
  g_assert_no_error (error);

  bytes = cymem_pool_read (pool, addr, 0, 8, &error);
  g_assert_no_error (error);
  g_assert_cmpmem (g_bytes_get_data (bytes, &n), n, "\0\0\0\0\0cym", 8);
  /* What write wrote is in the block itself. */
  g_assert_cmpmem ((const guint8 *) addr + 5, 3, "cym", 3);
  g_object_unref (pool);
}

static void
test_address_out_of_bounds (void)
{
  CymemPool *pool = cymem_pool_new ();
  guintptr addr = cymem_pool_alloc_address (pool, 1, 8, NULL);
  static const guint8 data[4] = { 1, 2, 3, 4 };
  struct { gsize offset, length; } ranges[] = {
    { 0, 9 }, { 8, 1 }, { 9, 0 }, { 4, 5 },
    /* offset + length wraps around to a small number */
    { G_MAXSIZE, 2 }, { 4, G_MAXSIZE - 2 },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (ranges); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GBytes) bytes = cymem_pool_read (pool, addr, ranges[i].offset, ranges[i].length, &error);

      g_assert_null (bytes);
      g_assert_error (error, CYMEM_POOL_ERROR, CYMEM_POOL_ERROR_OUT_OF_BOUNDS);
    }

  {
    g_autoptr(GError) error = NULL;
    g_autoptr(GBytes) bytes = NULL;

    g_assert_false (cymem_pool_write (pool, addr, 6, data, 4, &error));
    g_assert_error (error, CYMEM_POOL_ERROR, CYMEM_POOL_ERROR_OUT_OF_BOUNDS);
    g_clear_error (&error);
    g_assert_false (cymem_pool_write (pool, addr, G_MAXSIZE - 1, data, 4, &error));
    g_assert_error (error, CYMEM_POOL_ERROR, CYMEM_POOL_ERROR_OUT_OF_BOUNDS);
    g_clear_error (&error);

    /* Nothing was written. */
    bytes = cymem_pool_read (pool, addr, 0, 8, &error);
    g_assert_cmpmem (g_bytes_get_data (bytes, NULL), 8, "\0\0\0\0\0\0\0\0", 8);
  }
  g_object_unref (pool);
}

static void
test_address_unknown (void)
{
  CymemPool *pool = counting_pool_new ();
  CymemPool *other = cymem_pool_new_with_allocator (counting_malloc, counting_free);
  guintptr mine = cymem_pool_alloc_address (pool, 1, 16, NULL);
  guintptr foreign = cymem_pool_alloc_address (other, 1, 16, NULL);
  guintptr freed = cymem_pool_alloc_address (pool, 1, 16, NULL);
  gint on_stack;
  guintptr bad[] = { 0, foreign, mine + 1, (guintptr) &on_stack, freed };
  static const guint8 byte = 7;
  guint frees;

  g_assert_true (cymem_pool_free_address (pool, freed, NULL));
  frees = counting_n_frees ();

  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      GError *error = NULL;
      GBytes *bytes;

      g_assert_false (cymem_pool_free_address (pool, bad[i], &error));
      g_assert_error (error, CYMEM_POOL_ERROR, CYMEM_POOL_ERROR_UNKNOWN_ADDRESS);
      g_clear_error (&error);

      if (bad[i] != 0)  /* realloc of address 0 allocates: test_address_realloc_zero */
        {
          g_assert_cmpuint (cymem_pool_realloc_address (pool, bad[i], 64, &error), ==, 0);
          g_assert_error (error, CYMEM_POOL_ERROR, CYMEM_POOL_ERROR_UNKNOWN_ADDRESS);
          g_clear_error (&error);
        }

      g_assert_cmpuint (cymem_pool_get_block_size_address (pool, bad[i], &error), ==, 0);
      g_assert_error (error, CYMEM_POOL_ERROR, CYMEM_POOL_ERROR_UNKNOWN_ADDRESS);
      g_clear_error (&error);

      bytes = cymem_pool_read (pool, bad[i], 0, 1, &error);
      g_assert_null (bytes);
      g_assert_error (error, CYMEM_POOL_ERROR, CYMEM_POOL_ERROR_UNKNOWN_ADDRESS);
      g_clear_error (&error);

      g_assert_false (cymem_pool_write (pool, bad[i], 0, &byte, 1, &error));
      g_assert_error (error, CYMEM_POOL_ERROR, CYMEM_POOL_ERROR_UNKNOWN_ADDRESS);
      g_clear_error (&error);

      g_assert_false (cymem_pool_owns_address (pool, bad[i]));
    }

  /* Nothing was freed or changed, and no critical was logged. */
  g_assert_cmpuint (counting_n_frees (), ==, frees);
  g_assert_true (cymem_pool_owns_address (other, foreign));
  g_assert_cmpuint (cymem_pool_get_n_allocations (pool), ==, 1);
  g_assert_cmpuint (cymem_pool_get_size (pool), ==, 16);

  g_object_unref (other);
  g_object_unref (pool);
  g_assert_cmpuint (counting_n_live (), ==, 0);
}

static void
test_address_realloc (void)
{
  CymemPool *pool = counting_pool_new ();
  g_autoptr(GError) error = NULL;
  guintptr addr = cymem_pool_alloc_address (pool, 1, 4, NULL);
  guintptr grown;
  static const guint8 data[] = { 1, 2, 3, 4 };

  cymem_pool_write (pool, addr, 0, data, 4, NULL);

  counting_fail_at (1);
  g_assert_cmpuint (cymem_pool_realloc_address (pool, addr, 100, &error), ==, 0);
  g_assert_error (error, CYMEM_POOL_ERROR, CYMEM_POOL_ERROR_NO_MEMORY);
  g_clear_error (&error);
  g_assert_true (cymem_pool_owns_address (pool, addr));
  g_assert_cmpuint (cymem_pool_get_block_size_address (pool, addr, NULL), ==, 4);

  grown = cymem_pool_realloc_address (pool, addr, 100, &error);
  g_assert_no_error (error);
  g_assert_cmpmem ((guint8 *) grown, 4, data, 4);
  g_assert_cmpuint (((guint8 *) grown)[99], ==, 0);
  g_assert_cmpuint (cymem_pool_get_size (pool), ==, 100);
  g_object_unref (pool);
  g_assert_cmpuint (counting_n_live (), ==, 0);
}

static void
test_address_bad_arguments (void)
{
  CymemPool *pool = cymem_pool_new ();
  GError *error = NULL;
  guintptr addr = cymem_pool_alloc_address (pool, 1, 4, NULL);

  g_test_expect_message ("Cymem", G_LOG_LEVEL_CRITICAL, "*CYMEM_IS_POOL*");
  g_assert_cmpuint (cymem_pool_alloc_address (NULL, 1, 1, NULL), ==, 0);
  g_test_assert_expected_messages ();

  g_test_expect_message ("Cymem", G_LOG_LEVEL_CRITICAL, "*CYMEM_IS_POOL*");
  g_assert_null (cymem_pool_read (NULL, addr, 0, 1, NULL));
  g_test_assert_expected_messages ();

  g_test_expect_message ("Cymem", G_LOG_LEVEL_CRITICAL, "*data != NULL*");
  g_assert_false (cymem_pool_write (pool, addr, 0, NULL, 2, NULL));
  g_test_assert_expected_messages ();

  /* An error that is already set is a programming error. */
  g_set_error_literal (&error, G_FILE_ERROR, G_FILE_ERROR_FAILED, "earlier");
  g_test_expect_message ("Cymem", G_LOG_LEVEL_CRITICAL, "*error == NULL*");
  g_assert_false (cymem_pool_free_address (pool, addr, &error));
  g_test_assert_expected_messages ();
  g_clear_error (&error);

  g_assert_true (cymem_pool_owns_address (pool, addr));
  g_object_unref (pool);
}

static void
test_error_enum_type (void)
{
  GEnumClass *klass = g_type_class_ref (CYMEM_TYPE_POOL_ERROR);

  g_assert_true (G_TYPE_IS_ENUM (CYMEM_TYPE_POOL_ERROR));
  g_assert_cmpstr (g_enum_get_value (klass, CYMEM_POOL_ERROR_OUT_OF_BOUNDS)->value_nick, ==, "out-of-bounds");
  g_assert_cmpstr (g_quark_to_string (CYMEM_POOL_ERROR), ==, "cymem-pool-error-quark");
  g_type_class_unref (klass);
}

static void
test_address_strings (void)
{
  CymemPool *pool = cymem_pool_new ();
  g_autoptr(GError) error = NULL;
  g_autofree gchar *back = NULL;
  static const guint8 data[] = { 'n', 'o', 'n', 'u', 'l' };
  guintptr s, m;

  s = cymem_pool_strdup_address (pool, "héllo", &error);
  g_assert_no_error (error);
  g_assert_cmpstr ((const gchar *) s, ==, "héllo");
  back = cymem_pool_read_string (pool, s, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (back, ==, "héllo");

  m = cymem_pool_memdup_address (pool, data, sizeof data, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (cymem_pool_get_block_size_address (pool, m, NULL), ==, 5);
  /* No nul inside the block: refused rather than read past its end. */
  g_assert_null (cymem_pool_read_string (pool, m, &error));
  g_assert_error (error, CYMEM_POOL_ERROR, CYMEM_POOL_ERROR_OUT_OF_BOUNDS);
  g_clear_error (&error);
  g_assert_null (cymem_pool_read_string (pool, m + 1, &error));
  g_assert_error (error, CYMEM_POOL_ERROR, CYMEM_POOL_ERROR_UNKNOWN_ADDRESS);
  g_clear_error (&error);

  cymem_pool_set_limit (pool, cymem_pool_get_size (pool) + 3);
  g_assert_cmpuint (cymem_pool_strdup_address (pool, "abc", &error), ==, 0);
  g_assert_error (error, CYMEM_POOL_ERROR, CYMEM_POOL_ERROR_LIMIT_EXCEEDED);
  g_clear_error (&error);
  g_assert_cmpuint (cymem_pool_alloc_address (pool, 1, 4, &error), ==, 0);
  g_assert_error (error, CYMEM_POOL_ERROR, CYMEM_POOL_ERROR_LIMIT_EXCEEDED);
  g_object_unref (pool);
}

static void
test_address_steal (void)
{
  CymemPool *a = counting_pool_new ();
  CymemPool *b = cymem_pool_new_with_allocator (counting_malloc, counting_free);
  CymemPool *plain = cymem_pool_new ();
  GError *error = NULL;
  guintptr addr = cymem_pool_alloc_address (a, 1, 32, NULL);

  g_assert_false (cymem_pool_steal_address (plain, a, addr, &error));
  g_assert_error (error, CYMEM_POOL_ERROR, CYMEM_POOL_ERROR_DIFFERENT_ALLOCATORS);
  g_clear_error (&error);
  g_assert_false (cymem_pool_steal_address (b, a, addr + 1, &error));
  g_assert_error (error, CYMEM_POOL_ERROR, CYMEM_POOL_ERROR_UNKNOWN_ADDRESS);
  g_clear_error (&error);
  cymem_pool_set_limit (b, 16);
  g_assert_false (cymem_pool_steal_address (b, a, addr, &error));
  g_assert_error (error, CYMEM_POOL_ERROR, CYMEM_POOL_ERROR_LIMIT_EXCEEDED);
  g_clear_error (&error);
  cymem_pool_set_limit (b, 0);

  g_assert_true (cymem_pool_steal_address (b, a, addr, &error));
  g_assert_no_error (error);
  g_assert_true (cymem_pool_owns_address (b, addr));
  g_assert_false (cymem_pool_owns_address (a, addr));

  g_object_unref (plain);
  g_object_unref (a);
  g_object_unref (b);
  g_assert_cmpuint (counting_n_live (), ==, 0);
}

typedef struct
{
  CymemPool *pool;
  guint      n;
  gsize      total;
} AddressWalk;

static void
visit_address (guintptr address, gsize n_bytes, gpointer user_data)
{
  AddressWalk *walk = user_data;
  GError *error = NULL;
  GBytes *bytes;

  walk->n++;
  walk->total += n_bytes;

  /* Reading works from inside; changing is an error, not a crash. */
  bytes = cymem_pool_read (walk->pool, address, 0, n_bytes, &error);
  g_assert_no_error (error);
  g_bytes_unref (bytes);
  g_assert_true (cymem_pool_write (walk->pool, address, 0, (const guint8 *) "z", 1, &error));
  g_assert_no_error (error);

  /* Changing the pool from inside works too; the visited block stays
   * readable until the callback returns, even once freed. */
  if (walk->n == 1)
    {
      guintptr other = cymem_pool_alloc_address (walk->pool, 1, 1, &error);

      g_assert_no_error (error);
      g_assert_cmpuint (other, !=, 0);
      other = cymem_pool_realloc_address (walk->pool, other, 99, &error);
      g_assert_no_error (error);
      g_assert_true (cymem_pool_free_address (walk->pool, other, &error));
      g_assert_no_error (error);
    }
  else
    {
      g_assert_true (cymem_pool_free_address (walk->pool, address, &error));
      g_assert_no_error (error);
      g_assert_cmpuint (*(const guint8 *) address, ==, 'z');
    }
}

static void
test_address_realloc_zero (void)
{
  CymemPool *pool = cymem_pool_new ();
  GError *error = NULL;
  guintptr address = cymem_pool_realloc_address (pool, 0, 24, &error);

  g_test_summary ("realloc with address 0 allocates, as realloc (NULL, n) does");
  g_assert_no_error (error);
  g_assert_cmpuint (address, !=, 0);
  g_assert_cmpuint (cymem_pool_get_block_size_address (pool, address, &error), ==, 24);
  g_assert_cmpuint (cymem_pool_get_n_allocations (pool), ==, 1);
  cymem_pool_set_limit (pool, 30);
  g_assert_cmpuint (cymem_pool_realloc_address (pool, 0, 24, &error), ==, 0);
  g_assert_error (error, CYMEM_POOL_ERROR, CYMEM_POOL_ERROR_LIMIT_EXCEEDED);
  g_clear_error (&error);
  g_object_unref (pool);
}

static void
test_address_foreach (void)
{
  CymemPool *pool = cymem_pool_new ();
  AddressWalk walk = { pool, 0, 0 };
  guintptr first = cymem_pool_alloc_address (pool, 1, 3, NULL);

  cymem_pool_alloc_address (pool, 1, 5, NULL);
  cymem_pool_foreach_address (pool, visit_address, &walk);
  g_assert_cmpuint (walk.n, ==, 2);
  g_assert_cmpuint (walk.total, ==, 8);
  g_assert_cmpuint (*(const guint8 *) first, ==, 'z');
  /* The block made in the first visit was freed there; the second block
   * was freed in its own visit. */
  g_assert_cmpuint (cymem_pool_get_n_allocations (pool), ==, 1);
  g_object_unref (pool);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/Cymem/Address/alloc", test_address_alloc);
  g_test_add_func ("/Cymem/Address/alloc-failure", test_address_alloc_failure);
  g_test_add_func ("/Cymem/Address/read-write", test_address_read_write);
  g_test_add_func ("/Cymem/Address/out-of-bounds", test_address_out_of_bounds);
  g_test_add_func ("/Cymem/Address/unknown", test_address_unknown);
  g_test_add_func ("/Cymem/Address/realloc", test_address_realloc);
  g_test_add_func ("/Cymem/Address/bad-arguments", test_address_bad_arguments);
  g_test_add_func ("/Cymem/Address/error-enum", test_error_enum_type);
  g_test_add_func ("/Cymem/Address/strings", test_address_strings);
  g_test_add_func ("/Cymem/Address/steal", test_address_steal);
  g_test_add_func ("/Cymem/Address/foreach", test_address_foreach);
  g_test_add_func ("/Cymem/Address/realloc-zero", test_address_realloc_zero);

  return g_test_run ();
}
