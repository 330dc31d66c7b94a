/* consumer.c: a program outside the tree, built against an installed
 * cymem-glib with `pkg-config --cflags --libs cymem-glib-1`, that calls every
 * public function once and checks what it gets.
 *
 * SPDX-License-Identifier: MIT
 */

#include <stdlib.h>
#include <string.h>

#include <cymem-glib/cymem-glib.h>

#if !CYMEM_CHECK_VERSION (1, 0, 0)
#error "cymem-glib 1.0 expected"
#endif

#define CHECK(cond) \
  G_STMT_START { if (!(cond)) { g_printerr ("check failed: %s\n", #cond); exit (1); } } G_STMT_END

static int frees;

static void
count_free (gpointer mem)
{
  frees++;
  free (mem);
}

static void
note_cleanup (gpointer data)
{
  *(int *) data += 1;
}

int
main (void)
{
  CymemPool *pool = cymem_pool_new ();
  CymemPool *custom = cymem_pool_new_with_allocator (malloc, count_free);
  GObject *owner = g_object_new (G_TYPE_OBJECT, NULL);
  GObject *other = g_object_new (G_TYPE_OBJECT, NULL);
  int cleanups = 0;
  guint8 *a, *b;

  a = cymem_pool_alloc (pool, 4, 8);
  b = cymem_pool_try_alloc (pool, 1, 16);
  CHECK (a != NULL && b != NULL && a[31] == 0);
  CHECK (cymem_pool_try_alloc (pool, G_MAXSIZE, 2) == NULL);
  a = cymem_pool_realloc (pool, a, 64);
  b = cymem_pool_try_realloc (pool, b, 8);
  CHECK (a[63] == 0 && b != NULL);
  CHECK (cymem_pool_owns (pool, a) && !cymem_pool_owns (pool, a + 1));
  CHECK (cymem_pool_get_block_size (pool, a) == 64);
  CHECK (cymem_pool_get_size (pool) == 72);
  CHECK (cymem_pool_get_n_allocations (pool) == 2);
  cymem_pool_free (pool, b);
  CHECK (cymem_pool_get_n_allocations (pool) == 1);

  cymem_pool_own (pool, &cleanups, note_cleanup);
  cymem_pool_own_object (pool, other);
  cymem_pool_clear (pool);
  CHECK (cleanups == 1 && cymem_pool_get_size (pool) == 0);

  cymem_pool_alloc (custom, 3, 3);
  cymem_pool_attach (custom, owner);
  CHECK (cymem_pool_get_for_object (owner) == custom);
  cymem_pool_detach (custom, owner);
  CHECK (cymem_pool_get_for_object (owner) == NULL);
  CHECK (cymem_pool_ensure_for_object (owner) != NULL);
  CHECK (cymem_pool_get_type () == CYMEM_TYPE_POOL);

  g_object_unref (custom);
  CHECK (frees == 1);
  g_object_unref (pool);
  g_object_unref (other);
  g_object_unref (owner);

  CHECK (cymem_get_major_version () == CYMEM_MAJOR_VERSION);
  CHECK (cymem_get_minor_version () == CYMEM_MINOR_VERSION);
  CHECK (cymem_get_micro_version () == CYMEM_MICRO_VERSION);
  g_print ("consumer OK against cymem-glib %s\n", CYMEM_VERSION_S);
  return 0;
}
