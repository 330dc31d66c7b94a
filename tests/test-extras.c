/* test-extras.c: strings, steal, limits, peak size, foreach and children
 *
 * SPDX-License-Identifier: MIT
 */

#include <string.h>

#include <cymem-glib/cymem-glib.h>

#include "counting-allocator.h"


/* --- strings and copies --- */

static void
test_strings (void)
{
  CymemPool *pool = counting_pool_new ();
  static const guint8 bytes[] = { 0, 1, 2, 255 };
  gchar *s;
  guint8 *copy;

  s = cymem_pool_strdup (pool, "hello");
  g_assert_cmpstr (s, ==, "hello");
  g_assert_true (cymem_pool_owns (pool, s));
  g_assert_cmpuint (cymem_pool_get_block_size (pool, s), ==, 6);
  g_assert_null (cymem_pool_strdup (pool, NULL));

  s = cymem_pool_strndup (pool, "hello world", 5);
  g_assert_cmpstr (s, ==, "hello");
  g_assert_cmpuint (cymem_pool_get_block_size (pool, s), ==, 6);
  s = cymem_pool_strndup (pool, "hi", 10);
  g_assert_cmpstr (s, ==, "hi");
  g_assert_cmpuint (cymem_pool_get_block_size (pool, s), ==, 3);
  g_assert_null (cymem_pool_strndup (pool, NULL, 3));

  copy = cymem_pool_memdup (pool, bytes, sizeof bytes);
  g_assert_cmpmem (copy, sizeof bytes, bytes, sizeof bytes);
  g_assert_true (cymem_pool_owns (pool, copy));
  g_assert_null (cymem_pool_memdup (pool, NULL, 4));
  copy = cymem_pool_memdup (pool, bytes, 0);
  g_assert_nonnull (copy);
  g_assert_cmpuint (cymem_pool_get_block_size (pool, copy), ==, 0);

  s = cymem_pool_strdup_printf (pool, "%s-%d-%.1f", "x", 42, 2.5);
  g_assert_cmpstr (s, ==, "x-42-2.5");
  g_assert_true (cymem_pool_owns (pool, s));

  /* Everything went through the pool's allocator, and back. */
  g_assert_cmpuint (counting_n_live (), ==, cymem_pool_get_n_allocations (pool));
  g_object_unref (pool);
  g_assert_cmpuint (counting_n_live (), ==, 0);
}

static void
test_strings_failure (void)
{
  CymemPool *pool = counting_pool_new ();

  counting_fail_at (1);
  g_assert_null (cymem_pool_strdup (pool, "abc"));
  counting_fail_at (1);
  g_assert_null (cymem_pool_memdup (pool, "abc", 3));
  counting_fail_at (1);
  g_assert_null (cymem_pool_strdup_printf (pool, "%d", 7));
  g_assert_cmpuint (cymem_pool_get_n_allocations (pool), ==, 0);

  cymem_pool_set_limit (pool, 4);
  g_assert_null (cymem_pool_strdup (pool, "abcd"));   /* 5 bytes with the nul */
  g_assert_nonnull (cymem_pool_strdup (pool, "abc"));
  g_object_unref (pool);
}

/* --- steal --- */

static void
test_steal (void)
{
  CymemPool *a = counting_pool_new ();
  CymemPool *b = cymem_pool_new_with_allocator (counting_malloc, counting_free);
  gchar *s = cymem_pool_strdup (a, "moving");

  g_assert_true (cymem_pool_steal (b, a, s));
  g_assert_false (cymem_pool_owns (a, s));
  g_assert_true (cymem_pool_owns (b, s));
  g_assert_cmpstr (s, ==, "moving");  /* not copied */
  g_assert_cmpuint (cymem_pool_get_size (a), ==, 0);
  g_assert_cmpuint (cymem_pool_get_n_allocations (a), ==, 0);
  g_assert_cmpuint (cymem_pool_get_size (b), ==, 7);
  g_assert_cmpuint (cymem_pool_get_n_allocations (b), ==, 1);

  /* The new owner frees it, exactly once. */
  g_object_unref (a);
  g_assert_cmpuint (counting_n_live (), ==, 1);
  g_object_unref (b);
  g_assert_cmpuint (counting_n_live (), ==, 0);
  g_assert_cmpuint (counting_n_frees (), ==, 1);
}

static void
test_steal_refused (void)
{
  CymemPool *a = counting_pool_new ();
  CymemPool *b = cymem_pool_new_with_allocator (counting_malloc, counting_free);
  CymemPool *plain = cymem_pool_new ();
  gchar *s = cymem_pool_strdup (a, "abc");
  gchar *other = cymem_pool_strdup (b, "xyz");

  /* A block @from does not own: its own is the other pool's. */
  g_test_expect_message ("Cymem", G_LOG_LEVEL_CRITICAL, "*is not a block owned by pool*");
  g_assert_false (cymem_pool_steal (b, a, other));
  g_test_assert_expected_messages ();
  g_test_expect_message ("Cymem", G_LOG_LEVEL_CRITICAL, "*is not a block owned by pool*");
  g_assert_false (cymem_pool_steal (b, a, s + 1));
  g_test_assert_expected_messages ();

  /* Different allocators. */
  g_test_expect_message ("Cymem", G_LOG_LEVEL_CRITICAL, "*different allocators*");
  g_assert_false (cymem_pool_steal (plain, a, s));
  g_test_assert_expected_messages ();

  /* Over the new owner's limit: refused quietly. */
  cymem_pool_set_limit (b, 5);
  g_assert_false (cymem_pool_steal (b, a, s));

  /* Nothing changed. */
  g_assert_true (cymem_pool_owns (a, s));
  g_assert_true (cymem_pool_owns (b, other));
  g_assert_cmpuint (cymem_pool_get_size (a), ==, 4);
  g_assert_cmpuint (cymem_pool_get_size (b), ==, 4);
  g_assert_cmpuint (cymem_pool_get_n_allocations (plain), ==, 0);

  /* Stealing from itself is a no-op that succeeds. */
  g_assert_true (cymem_pool_steal (a, a, s));

  g_object_unref (plain);
  g_object_unref (b);
  g_object_unref (a);
  g_assert_cmpuint (counting_n_live (), ==, 0);
}

typedef struct
{
  CymemPool *to;
  CymemPool *from;
  guint      moved;
} StealJob;

static gpointer
steal_back_and_forth (gpointer data)
{
  StealJob *job = data;

  for (guint i = 0; i < 20000; i++)
    {
      gpointer mem = cymem_pool_alloc (job->from, 1, 8);

      if (cymem_pool_steal (job->to, job->from, mem))
        job->moved++;
    }
  return NULL;
}

static void
test_steal_threads (void)
{
  CymemPool *a = counting_pool_new ();
  CymemPool *b = cymem_pool_new_with_allocator (counting_malloc, counting_free);
  StealJob jobs[2] = { { a, b, 0 }, { b, a, 0 } };
  GThread *threads[2];

  g_test_summary ("Two threads stealing in opposite directions at once do not deadlock");
  for (guint i = 0; i < 2; i++)
    threads[i] = g_thread_new ("steal", steal_back_and_forth, &jobs[i]);
  for (guint i = 0; i < 2; i++)
    g_thread_join (threads[i]);

  g_assert_cmpuint (jobs[0].moved, ==, 20000);
  g_assert_cmpuint (jobs[1].moved, ==, 20000);
  g_assert_cmpuint (cymem_pool_get_n_allocations (a), ==, 20000);
  g_assert_cmpuint (cymem_pool_get_n_allocations (b), ==, 20000);
  g_assert_cmpuint (counting_n_live (), ==, 40000);

  g_object_unref (a);
  g_object_unref (b);
  g_assert_cmpuint (counting_n_live (), ==, 0);
  g_assert_cmpuint (counting_n_frees (), ==, 40000);
}

/* --- limits and peak size --- */

static guint limit_notifications;

static void
on_limit_notify (GObject *object, GParamSpec *pspec, gpointer user_data)
{
  limit_notifications++;
}

static void
test_limit (void)
{
  CymemPool *pool = counting_pool_new ();
  guint64 limit = 0;
  gpointer a, b;

  limit_notifications = 0;
  g_signal_connect (pool, "notify::limit", G_CALLBACK (on_limit_notify), NULL);

  g_assert_cmpuint (cymem_pool_get_limit (pool), ==, 0);
  cymem_pool_set_limit (pool, 100);
  cymem_pool_set_limit (pool, 100);   /* no change, no notification */
  g_assert_cmpuint (limit_notifications, ==, 1);
  g_object_get (pool, "limit", &limit, NULL);
  g_assert_cmpuint (limit, ==, 100);

  a = cymem_pool_try_alloc (pool, 1, 60);
  g_assert_nonnull (a);
  g_assert_null (cymem_pool_try_alloc (pool, 1, 41));
  g_assert_cmpuint (counting_n_mallocs (), ==, 1);  /* the allocator was not asked */
  b = cymem_pool_try_alloc (pool, 1, 40);             /* exactly at the limit */
  g_assert_nonnull (b);
  g_assert_cmpuint (cymem_pool_get_size (pool), ==, 100);

  /* Growing is refused; shrinking is fine, and makes room. */
  g_assert_null (cymem_pool_try_realloc (pool, a, 61));
  g_assert_cmpuint (cymem_pool_get_block_size (pool, a), ==, 60);
  a = cymem_pool_try_realloc (pool, a, 10);
  g_assert_nonnull (a);
  g_assert_nonnull (cymem_pool_try_alloc (pool, 1, 50));

  /* Lowering below the size frees nothing, it only stops growth. */
  g_object_set (pool, "limit", (guint64) 20, NULL);
  g_assert_cmpuint (limit_notifications, ==, 2);
  g_assert_cmpuint (cymem_pool_get_size (pool), ==, 100);
  g_assert_null (cymem_pool_try_alloc (pool, 1, 1));
  /* A 0-byte block takes nothing from the budget. */
  g_assert_nonnull (cymem_pool_try_alloc (pool, 0, 1));

  cymem_pool_set_limit (pool, 0);
  g_assert_nonnull (cymem_pool_try_alloc (pool, 1, 1000));
  g_object_unref (pool);
  g_assert_cmpuint (counting_n_live (), ==, 0);
}

static void
test_limit_default_allocator (void)
{
  CymemPool *pool = cymem_pool_new ();
  gpointer a;

  cymem_pool_set_limit (pool, 64);
  a = cymem_pool_alloc (pool, 8, 8);
  g_assert_null (cymem_pool_try_realloc (pool, a, 65));
  g_assert_cmpuint (cymem_pool_get_block_size (pool, a), ==, 64);
  g_assert_null (cymem_pool_try_alloc (pool, 1, 1));
  g_object_unref (pool);
}

static void
test_limit_abort (void)
{
  if (g_test_subprocess ())
    {
      CymemPool *pool = cymem_pool_new ();
      cymem_pool_set_limit (pool, 1000);
      cymem_pool_alloc (pool, 1, 999);
      cymem_pool_alloc (pool, 1, 2);
      return;
    }

  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_failed ();
  g_test_trap_assert_stderr ("*allocating 2 bytes would take pool * over its limit of 1000 bytes*");
}

static void
test_limit_realloc_abort (void)
{
  if (g_test_subprocess ())
    {
      CymemPool *pool = cymem_pool_new ();
      gpointer mem = cymem_pool_alloc (pool, 1, 10);
      cymem_pool_set_limit (pool, 16);
      mem = cymem_pool_realloc (pool, mem, 17);
      return;
    }

  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_failed ();
  g_test_trap_assert_stderr ("*to 17 bytes would take pool * over its limit of 16 bytes*");
}

typedef struct
{
  CymemPool *pool;
  guint      got;
} LimitJob;

static gpointer
allocate_until_refused (gpointer data)
{
  LimitJob *job = data;

  while (cymem_pool_try_alloc (job->pool, 1, 10) != NULL)
    job->got++;
  return NULL;
}

static void
test_limit_threads (void)
{
  CymemPool *pool = counting_pool_new ();
  LimitJob jobs[4];
  GThread *threads[4];
  guint total = 0;

  g_test_summary ("Threads allocating at once never take a pool past its limit");
  cymem_pool_set_limit (pool, 10000);
  for (guint i = 0; i < 4; i++)
    {
      jobs[i] = (LimitJob) { pool, 0 };
      threads[i] = g_thread_new ("limit", allocate_until_refused, &jobs[i]);
    }
  for (guint i = 0; i < 4; i++)
    {
      g_thread_join (threads[i]);
      total += jobs[i].got;
    }

  g_assert_cmpuint (total, ==, 1000);
  g_assert_cmpuint (cymem_pool_get_size (pool), ==, 10000);
  g_assert_cmpuint (counting_n_mallocs (), ==, 1000);
  g_object_unref (pool);
}

static void
test_peak_size (void)
{
  CymemPool *pool = cymem_pool_new ();
  guint64 peak = 0;
  gpointer a, b;

  a = cymem_pool_alloc (pool, 1, 100);
  b = cymem_pool_alloc (pool, 1, 50);
  cymem_pool_free (pool, a);
  g_assert_cmpuint (cymem_pool_get_size (pool), ==, 50);
  g_assert_cmpuint (cymem_pool_get_peak_size (pool), ==, 150);

  b = cymem_pool_realloc (pool, b, 300);
  g_object_get (pool, "peak-size", &peak, NULL);
  g_assert_cmpuint (peak, ==, 300);

  cymem_pool_clear (pool);
  g_assert_cmpuint (cymem_pool_get_peak_size (pool), ==, 300);
  cymem_pool_reset_peak_size (pool);
  g_assert_cmpuint (cymem_pool_get_peak_size (pool), ==, 0);
  cymem_pool_alloc (pool, 1, 7);
  g_assert_cmpuint (cymem_pool_get_peak_size (pool), ==, 7);
  g_object_unref (pool);
}

/* --- foreach --- */

typedef struct
{
  CymemPool *pool;
  GPtrArray *seen;
  gsize      total;
} Walk;

static void
collect_block (gpointer mem, gsize n_bytes, gpointer user_data)
{
  Walk *walk = user_data;

  g_ptr_array_add (walk->seen, mem);
  walk->total += n_bytes;
  /* Reading the pool from inside is fine. */
  g_assert_true (cymem_pool_owns (walk->pool, mem));
  g_assert_cmpuint (cymem_pool_get_block_size (walk->pool, mem), ==, n_bytes);
}

static void
test_foreach (void)
{
  CymemPool *pool = cymem_pool_new ();
  Walk walk = { pool, g_ptr_array_new (), 0 };
  gpointer blocks[5];

  for (guint i = 0; i < 5; i++)
    blocks[i] = cymem_pool_alloc (pool, i + 1, 10);
  cymem_pool_free (pool, blocks[2]);

  cymem_pool_foreach (pool, collect_block, &walk);
  g_assert_cmpuint (walk.seen->len, ==, 4);
  g_assert_cmpuint (walk.total, ==, 10 + 20 + 40 + 50);
  /* Oldest first. */
  g_assert_true (walk.seen->pdata[0] == blocks[0]);
  g_assert_true (walk.seen->pdata[1] == blocks[1]);
  g_assert_true (walk.seen->pdata[2] == blocks[3]);
  g_assert_true (walk.seen->pdata[3] == blocks[4]);

  g_ptr_array_unref (walk.seen);
  g_object_unref (pool);
}

static void
change_everything (gpointer mem, gsize n_bytes, gpointer user_data)
{
  CymemPool *pool = user_data;
  GObject *object = g_object_new (G_TYPE_OBJECT, NULL);
  CymemPool *other = cymem_pool_new_with_allocator (counting_malloc, counting_free);
  gpointer foreign = cymem_pool_alloc (other, 1, 1);
  gpointer fresh;
  CymemPool *child;

  /* Every call works from inside the pool's own foreach (1.0 refused them). */
  fresh = cymem_pool_alloc (pool, 1, 1);
  g_assert_nonnull (fresh);
  fresh = cymem_pool_realloc (pool, fresh, 100);
  g_assert_nonnull (fresh);
  g_assert_nonnull (cymem_pool_strdup (pool, "x"));
  cymem_pool_own_object (pool, object);
  cymem_pool_disown_object (pool, object);
  child = cymem_pool_new_child (pool);
  g_assert_nonnull (child);
  g_assert_true (cymem_pool_steal (pool, other, foreign));
  g_assert_true (cymem_pool_steal (other, pool, foreign));
  cymem_pool_free (pool, fresh);

  /* The visited block, freed and then cleared away, can still be read. */
  cymem_pool_free (pool, mem);
  g_assert_false (cymem_pool_owns (pool, mem));
  cymem_pool_clear (pool);
  g_assert_cmpuint (cymem_pool_get_n_allocations (pool), ==, 0);
  g_assert_cmpuint (((guint8 *) mem)[n_bytes - 1], ==, 0xab);

  g_object_unref (other);
  g_object_unref (object);
}

static void
test_foreach_allows_changes (void)
{
  CymemPool *pool = counting_pool_new ();
  gpointer mem = cymem_pool_alloc (pool, 1, 16);
  gpointer second = cymem_pool_alloc (pool, 1, 16);

  memset (mem, 0xab, 16);
  cymem_pool_foreach (pool, change_everything, pool);

  /* The first visit cleared the pool: the second block was not visited
   * (change_everything would have found it empty of 0xab and failed). */
  g_assert_false (cymem_pool_owns (pool, second));
  g_assert_cmpuint (cymem_pool_get_size (pool), ==, 0);
  g_assert_nonnull (cymem_pool_alloc (pool, 1, 1));
  g_object_unref (pool);
  g_assert_cmpuint (counting_n_live (), ==, 0);
}

static gint in_foreach;
static gint other_done;

static void
slow_walk (gpointer mem, gsize n_bytes, gpointer user_data)
{
  gint64 deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;

  g_atomic_int_set (&in_foreach, 1);
  /* The other thread finishes while this callback is still running. */
  while (!g_atomic_int_get (&other_done) && g_get_monotonic_time () < deadline)
    g_usleep (1000);
  g_assert_true (g_atomic_int_get (&other_done));
}

static gpointer
allocate_during_foreach (gpointer data)
{
  CymemPool *pool = data;
  gpointer mem;

  while (!g_atomic_int_get (&in_foreach))
    g_thread_yield ();
  /* Another thread neither waits for the walk nor is refused. */
  mem = cymem_pool_alloc (pool, 1, 4);
  cymem_pool_free (pool, cymem_pool_alloc (pool, 1, 8));
  g_atomic_int_set (&other_done, 1);
  return mem;
}

static void
test_foreach_other_threads_proceed (void)
{
  CymemPool *pool = cymem_pool_new ();
  GThread *thread;
  gpointer mem;

  cymem_pool_alloc (pool, 1, 4);
  in_foreach = 0;
  other_done = 0;
  thread = g_thread_new ("other", allocate_during_foreach, pool);
  cymem_pool_foreach (pool, slow_walk, NULL);
  mem = g_thread_join (thread);

  g_assert_nonnull (mem);
  g_assert_true (cymem_pool_owns (pool, mem));
  g_assert_cmpuint (cymem_pool_get_n_allocations (pool), ==, 2);
  g_object_unref (pool);
}

/* --- children --- */

static GString *order;

static void
note (gpointer data)
{
  g_string_append (order, data);
}

static void
read_parent_memory (gpointer data)
{
  /* A child's cleanup runs before its parent's blocks are freed. */
  g_assert_cmpstr (data, ==, "parent data");
  g_string_append (order, "C");
}

static void
test_children (void)
{
  CymemPool *root = counting_pool_new ();
  CymemPool *child, *grandchild, *watch_child, *watch_grandchild;
  gchar *parent_data;

  g_test_summary ("A three-level tree: everything freed once, children before parents' blocks");
  order = g_string_new (NULL);
  parent_data = cymem_pool_strdup (root, "parent data");
  child = cymem_pool_new_child (root);
  grandchild = cymem_pool_new_child (child);
  watch_child = child;
  watch_grandchild = grandchild;
  g_object_add_weak_pointer (G_OBJECT (child), (gpointer *) &watch_child);
  g_object_add_weak_pointer (G_OBJECT (grandchild), (gpointer *) &watch_grandchild);

  /* transfer none: the parent holds the only reference. */
  g_assert_cmpuint (G_OBJECT (child)->ref_count, ==, 1);

  cymem_pool_alloc (child, 1, 10);
  cymem_pool_alloc (grandchild, 1, 20);
  cymem_pool_alloc (grandchild, 1, 30);
  cymem_pool_own (grandchild, (gpointer) "G", note);
  cymem_pool_own (child, parent_data, read_parent_memory);
  g_assert_cmpuint (counting_n_live (), ==, 4);

  /* Children use the parent's allocator, so blocks move between them. */
  g_assert_true (cymem_pool_steal (grandchild, root, parent_data));
  g_assert_true (cymem_pool_steal (root, grandchild, parent_data));

  g_object_unref (root);
  g_assert_null (watch_child);
  g_assert_null (watch_grandchild);
  /* Child cleanups ran first (LIFO: its own cleanup, then the grandchild
   * it owns), all before any block was freed. */
  g_assert_cmpstr (order->str, ==, "CG");
  g_assert_cmpuint (counting_n_live (), ==, 0);
  g_assert_cmpuint (counting_n_frees (), ==, counting_n_mallocs ());
  g_string_free (order, TRUE);
}

static void
test_disown (void)
{
  CymemPool *root = counting_pool_new ();
  CymemPool *child = cymem_pool_new_child (root);
  CymemPool *watch = child;
  GObject *object = g_object_new (G_TYPE_OBJECT, NULL);
  GObject *stranger = g_object_new (G_TYPE_OBJECT, NULL);

  g_object_add_weak_pointer (G_OBJECT (child), (gpointer *) &watch);
  cymem_pool_alloc (child, 1, 10);

  /* The child dies early, with its memory. */
  cymem_pool_disown_object (root, child);
  g_assert_null (watch);
  g_assert_cmpuint (counting_n_live (), ==, 0);

  /* Owned twice, disowned once: one reference stays. */
  cymem_pool_own_object (root, object);
  cymem_pool_own_object (root, object);
  g_assert_cmpuint (object->ref_count, ==, 3);
  cymem_pool_disown_object (root, object);
  g_assert_cmpuint (object->ref_count, ==, 2);

  g_test_expect_message ("Cymem", G_LOG_LEVEL_CRITICAL, "*does not own GObject*");
  cymem_pool_disown_object (root, stranger);
  g_test_assert_expected_messages ();
  g_assert_cmpuint (stranger->ref_count, ==, 1);

  g_object_unref (root);
  g_assert_cmpuint (object->ref_count, ==, 1);
  g_object_unref (object);
  g_object_unref (stranger);
}

static void
test_extras_bad_arguments (void)
{
  CymemPool *pool = cymem_pool_new ();

#define EXPECT_CRITICAL(pattern, call) \
  G_STMT_START { \
    g_test_expect_message ("Cymem", G_LOG_LEVEL_CRITICAL, pattern); \
    call; \
    g_test_assert_expected_messages (); \
  } G_STMT_END

  EXPECT_CRITICAL ("*CYMEM_IS_POOL*", g_assert_null (cymem_pool_strdup (NULL, "x")));
  EXPECT_CRITICAL ("*CYMEM_IS_POOL*", g_assert_null (cymem_pool_new_child (NULL)));
  EXPECT_CRITICAL ("*CYMEM_IS_POOL*", g_assert_false (cymem_pool_steal (pool, NULL, NULL)));
  EXPECT_CRITICAL ("*CYMEM_IS_POOL*", cymem_pool_set_limit (NULL, 1));
  EXPECT_CRITICAL ("*CYMEM_IS_POOL*", cymem_pool_reset_peak_size (NULL));
  EXPECT_CRITICAL ("*func != NULL*", cymem_pool_foreach (pool, NULL, NULL));
  EXPECT_CRITICAL ("*format != NULL*", g_assert_null (cymem_pool_strdup_printf (pool, NULL)));
  EXPECT_CRITICAL ("*G_IS_OBJECT*", cymem_pool_disown_object (pool, NULL));
#undef EXPECT_CRITICAL

  g_object_unref (pool);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/Cymem/Strings/copies", test_strings);
  g_test_add_func ("/Cymem/Strings/failure", test_strings_failure);
  g_test_add_func ("/Cymem/Steal/move", test_steal);
  g_test_add_func ("/Cymem/Steal/refused", test_steal_refused);
  g_test_add_func ("/Cymem/Steal/threads", test_steal_threads);
  g_test_add_func ("/Cymem/Limit/try", test_limit);
  g_test_add_func ("/Cymem/Limit/default-allocator", test_limit_default_allocator);
  g_test_add_func ("/Cymem/Limit/abort", test_limit_abort);
  g_test_add_func ("/Cymem/Limit/realloc-abort", test_limit_realloc_abort);
  g_test_add_func ("/Cymem/Limit/threads", test_limit_threads);
  g_test_add_func ("/Cymem/PeakSize", test_peak_size);
  g_test_add_func ("/Cymem/Foreach/walk", test_foreach);
  g_test_add_func ("/Cymem/Foreach/allows-changes", test_foreach_allows_changes);
  g_test_add_func ("/Cymem/Foreach/other-threads-proceed", test_foreach_other_threads_proceed);
  g_test_add_func ("/Cymem/Children/tree", test_children);
  g_test_add_func ("/Cymem/Children/disown", test_disown);
  g_test_add_func ("/Cymem/Extras/bad-arguments", test_extras_bad_arguments);

  return g_test_run ();
}
