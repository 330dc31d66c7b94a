/* counting-allocator.c: see counting-allocator.h
 *
 * SPDX-License-Identifier: MIT
 */

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "counting-allocator.h"

/* A pthread mutex rather than a GMutex: ThreadSanitizer sees it. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static GHashTable *live;  /* block -> its requested size */
static guint n_mallocs;
static guint n_frees;
static guint fail_countdown;
static gsize last_request;

void
counting_reset (void)
{
  pthread_mutex_lock (&lock);
  if (live != NULL)
    g_assert_cmpuint (g_hash_table_size (live), ==, 0);
  g_clear_pointer (&live, g_hash_table_unref);
  live = g_hash_table_new (NULL, NULL);
  n_mallocs = n_frees = fail_countdown = 0;
  last_request = 0;
  pthread_mutex_unlock (&lock);
}

gpointer
counting_malloc (gsize n_bytes)
{
  gpointer mem = NULL;

  pthread_mutex_lock (&lock);
  if (fail_countdown > 0 && --fail_countdown == 0)
    goto out;

  mem = malloc (n_bytes);
  if (mem == NULL)
    goto out;   /* a real failure, such as a huge request: reported as such */
  memset (mem, 0xA5, n_bytes);
  g_hash_table_insert (live, mem, GSIZE_TO_POINTER (n_bytes));
  n_mallocs++;
  last_request = n_bytes;

out:
  pthread_mutex_unlock (&lock);
  return mem;
}

void
counting_free (gpointer mem)
{
  gboolean was_live;

  pthread_mutex_lock (&lock);
  was_live = g_hash_table_remove (live, mem);
  n_frees++;
  pthread_mutex_unlock (&lock);

  /* A block freed twice, or one this allocator never gave out. */
  g_assert_true (was_live);
  free (mem);
}

void
counting_fail_at (guint n)
{
  pthread_mutex_lock (&lock);
  fail_countdown = n;
  pthread_mutex_unlock (&lock);
}

#define COUNTING_GETTER(type, name, expr) \
  type name (void) { type v; pthread_mutex_lock (&lock); v = (expr); pthread_mutex_unlock (&lock); return v; }

COUNTING_GETTER (guint, counting_n_mallocs, n_mallocs)
COUNTING_GETTER (guint, counting_n_frees, n_frees)
COUNTING_GETTER (guint, counting_n_live, g_hash_table_size (live))
COUNTING_GETTER (gsize, counting_last_request, last_request)

gboolean
counting_is_live (gconstpointer mem)
{
  gboolean is_live;

  pthread_mutex_lock (&lock);
  is_live = g_hash_table_contains (live, mem);
  pthread_mutex_unlock (&lock);

  return is_live;
}

CymemPool *
counting_pool_new (void)
{
  counting_reset ();
  return cymem_pool_new_with_allocator (counting_malloc, counting_free);
}
