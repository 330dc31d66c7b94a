/* test-tree.c: pool trees, budgets across trees, names, reports and
 * disown (issue 12), with the equivalents of talloc's memlimit tests and
 * APR's ancestor tests
 *
 * SPDX-License-Identifier: MIT
 */

#include <string.h>

#include <cymem-glib/cymem-glib.h>

#include "counting-allocator.h"

/* --- talloc's memlimit: a limit bounds a whole tree --- */

static void
test_limit_bounds_children (void)
{
  CymemPool *root = counting_pool_new ();
  CymemPool *child = cymem_pool_new_child (root);
  CymemPool *grandchild = cymem_pool_new_child (child);
  GError *error = NULL;

  g_test_summary ("A limit bounds the pool's own blocks plus all its descendants' "
                  "(talloc memlimit)");
  cymem_pool_set_limit (root, 100);
  g_assert_nonnull (cymem_pool_try_alloc (root, 1, 40));
  g_assert_nonnull (cymem_pool_try_alloc (child, 1, 30));
  g_assert_nonnull (cymem_pool_try_alloc (grandchild, 1, 30));
  g_assert_cmpuint (cymem_pool_get_total_size (root), ==, 100);
  g_assert_cmpuint (cymem_pool_get_total_size (child), ==, 60);

  /* Any pool of the tree is refused now, each the way its API reports. */
  g_assert_null (cymem_pool_try_alloc (grandchild, 1, 1));
  g_assert_null (cymem_pool_try_alloc (child, 1, 1));
  g_assert_null (cymem_pool_strdup (grandchild, "x"));
  g_assert_cmpuint (cymem_pool_alloc_address (grandchild, 1, 1, &error), ==, 0);
  g_assert_error (error, CYMEM_POOL_ERROR, CYMEM_POOL_ERROR_LIMIT_EXCEEDED);
  g_clear_error (&error);
  /* 0 bytes always fit, as in a single pool. */
  g_assert_nonnull (cymem_pool_try_alloc (grandchild, 0, 1));

  /* Freeing anywhere in the tree makes room anywhere in it. */
  cymem_pool_clear (grandchild);
  g_assert_nonnull (cymem_pool_try_alloc (child, 1, 30));
  g_assert_null (cymem_pool_try_alloc (grandchild, 1, 1));

  /* A tighter limit below applies too (talloc: the smallest wins). */
  cymem_pool_clear (root);   /* frees the children too */
  child = cymem_pool_new_child (root);
  cymem_pool_set_limit (child, 10);
  g_assert_null (cymem_pool_try_alloc (child, 1, 11));
  g_assert_nonnull (cymem_pool_try_alloc (child, 1, 10));
  g_assert_nonnull (cymem_pool_try_alloc (root, 1, 90));
  g_assert_null (cymem_pool_try_alloc (root, 1, 1));

  g_object_unref (root);
  g_assert_cmpuint (counting_n_live (), ==, 0);
}

static void
test_limit_realloc_in_tree (void)
{
  CymemPool *root = counting_pool_new ();
  CymemPool *child = cymem_pool_new_child (root);
  gpointer mem;

  g_test_summary ("Growing a child's block obeys its ancestors' limits");
  cymem_pool_set_limit (root, 64);
  mem = cymem_pool_alloc (child, 1, 32);
  cymem_pool_alloc (root, 1, 16);
  g_assert_null (cymem_pool_try_realloc (child, mem, 64));
  g_assert_true (cymem_pool_owns (child, mem));
  mem = cymem_pool_try_realloc (child, mem, 48);
  g_assert_nonnull (mem);
  g_assert_cmpuint (cymem_pool_get_total_size (root), ==, 64);
  /* Shrinking always works, even over a lowered limit. */
  cymem_pool_set_limit (root, 8);
  g_assert_nonnull (cymem_pool_try_realloc (child, mem, 4));
  g_object_unref (root);
  g_assert_cmpuint (counting_n_live (), ==, 0);
}

static void
test_limit_steal_into_tree (void)
{
  CymemPool *root = counting_pool_new ();
  CymemPool *child = cymem_pool_new_child (root);
  CymemPool *outside = cymem_pool_new_with_allocator (counting_malloc, counting_free);
  gpointer big = cymem_pool_alloc (outside, 1, 80);
  gpointer small = cymem_pool_alloc (outside, 1, 20);
  gpointer inside;

  g_test_summary ("A steal into a tree obeys that tree's limits; a move within "
                  "it does not count twice (talloc memlimit)");
  cymem_pool_set_limit (root, 100);
  inside = cymem_pool_alloc (root, 1, 50);
  /* Into the child: the root's limit counts. */
  g_assert_false (cymem_pool_steal (child, outside, big));
  g_assert_true (cymem_pool_owns (outside, big));
  g_assert_true (cymem_pool_steal (child, outside, small));
  g_assert_cmpuint (cymem_pool_get_total_size (root), ==, 70);
  /* Within the tree: the total does not change. */
  g_assert_true (cymem_pool_steal (child, root, inside));
  g_assert_true (cymem_pool_steal (root, child, inside));
  g_assert_cmpuint (cymem_pool_get_total_size (root), ==, 70);
  /* Out of the tree: always. */
  g_assert_true (cymem_pool_steal (outside, child, small));
  g_assert_cmpuint (cymem_pool_get_total_size (root), ==, 50);

  g_object_unref (outside);
  g_object_unref (root);
  g_assert_cmpuint (counting_n_live (), ==, 0);
}

typedef struct
{
  CymemPool *pool;
  gint       go;
} Budget;

static gpointer
fill_child (gpointer data)
{
  Budget *b = data;
  CymemPool *child = cymem_pool_new_child (b->pool);

  while (!g_atomic_int_get (&b->go))
    ;
  while (cymem_pool_try_alloc (child, 1, 10) != NULL)
    ;
  return NULL;
}

static void
test_limit_tree_threads (void)
{
  Budget b = { counting_pool_new (), 0 };
  GThread *threads[4];

  g_test_summary ("Four children filling up at once stop at exactly their "
                  "parent's limit");
  cymem_pool_set_limit (b.pool, 10000);
  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    threads[i] = g_thread_new ("fill", fill_child, &b);
  g_atomic_int_set (&b.go, 1);
  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    g_thread_join (threads[i]);
  g_assert_cmpuint (cymem_pool_get_total_size (b.pool), ==, 10000);
  g_object_unref (b.pool);
  g_assert_cmpuint (counting_n_live (), ==, 0);
}

/* --- APR's ancestor tests, parents and children --- */

static void
test_ancestors (void)
{
  CymemPool *root = cymem_pool_new ();
  CymemPool *child = cymem_pool_new_child (root);
  CymemPool *grandchild = cymem_pool_new_child (child);
  CymemPool *other = cymem_pool_new ();
  CymemPool *owned = cymem_pool_new ();
  GPtrArray *children;

  g_test_summary ("get_parent, is_ancestor (apr_pool_is_ancestor), list_children");
  g_assert_null (cymem_pool_get_parent (root));
  g_assert_true (cymem_pool_get_parent (child) == root);
  g_assert_true (cymem_pool_get_parent (grandchild) == child);

  g_assert_true (cymem_pool_is_ancestor (child, root));
  g_assert_true (cymem_pool_is_ancestor (grandchild, root));
  g_assert_true (cymem_pool_is_ancestor (grandchild, child));
  g_assert_false (cymem_pool_is_ancestor (root, child));
  g_assert_false (cymem_pool_is_ancestor (root, root));      /* strict */
  g_assert_false (cymem_pool_is_ancestor (child, other));
  g_assert_false (cymem_pool_is_ancestor (other, root));

  /* own_object of a pool with no parent makes the owner its parent. */
  cymem_pool_own_object (root, owned);
  g_assert_true (cymem_pool_get_parent (owned) == root);
  g_assert_true (cymem_pool_is_ancestor (owned, root));

  children = cymem_pool_list_children (root);
  g_assert_cmpuint (children->len, ==, 2);
  g_assert_true (g_ptr_array_index (children, 0) == child);
  g_assert_true (g_ptr_array_index (children, 1) == owned);
  g_ptr_array_unref (children);

  /* disown_object: the pool leaves the tree (it lives on through our ref). */
  cymem_pool_disown_object (root, owned);
  g_assert_null (cymem_pool_get_parent (owned));
  g_assert_false (cymem_pool_is_ancestor (owned, root));
  children = cymem_pool_list_children (root);
  g_assert_cmpuint (children->len, ==, 1);
  g_ptr_array_unref (children);

  /* The parent's clear releases its children: kept alive, they have no
   * parent any more. */
  g_object_ref (child);
  cymem_pool_clear (root);
  g_assert_null (cymem_pool_get_parent (child));
  g_assert_true (cymem_pool_get_parent (grandchild) == child);
  g_assert_false (cymem_pool_is_ancestor (grandchild, root));

  g_object_unref (child);
  g_object_unref (owned);
  g_object_unref (other);
  g_object_unref (root);
}

static void
test_total_size_property (void)
{
  CymemPool *root = cymem_pool_new ();
  CymemPool *child = cymem_pool_new_child (root);
  guint64 total = 0;

  g_test_summary ("total-size: the pool and its descendants (talloc_total_size)");
  cymem_pool_alloc (root, 1, 5);
  cymem_pool_alloc (child, 1, 7);
  g_object_get (root, "total-size", &total, NULL);
  g_assert_cmpuint (total, ==, 12);
  g_assert_cmpuint (cymem_pool_get_size (root), ==, 5);
  g_object_unref (root);
}

/* --- names and reports --- */

static void
count_notify (GObject *object, GParamSpec *pspec, gpointer data)
{
  (*(guint *) data)++;
}

static void
test_name (void)
{
  CymemPool *pool = cymem_pool_new ();
  guint notified = 0;
  gchar *name = NULL;

  g_test_summary ("The name property: set, read, notified on change, shown in criticals");
  g_assert_null (cymem_pool_dup_name (pool));
  g_signal_connect (pool, "notify::name", G_CALLBACK (count_notify), &notified);
  cymem_pool_set_name (pool, "request");
  cymem_pool_set_name (pool, "request");
  g_assert_cmpuint (notified, ==, 1);
  g_object_get (pool, "name", &name, NULL);
  g_assert_cmpstr (name, ==, "request");
  g_free (name);
  g_object_set (pool, "name", "renamed", NULL);
  g_assert_cmpuint (notified, ==, 2);

  g_test_expect_message ("Cymem", G_LOG_LEVEL_CRITICAL,
                         "*cymem_pool_free*is not a block owned by pool 0x* 'renamed'*");
  cymem_pool_free (pool, &notified);
  g_test_assert_expected_messages ();

  cymem_pool_set_name (pool, NULL);
  g_assert_null (cymem_pool_dup_name (pool));
  g_object_unref (pool);
}

static void
test_report (void)
{
  GObject *owner = g_object_new (G_TYPE_OBJECT, NULL);
  CymemPool *root = cymem_pool_ensure_for_object (owner);
  CymemPool *child = cymem_pool_new_child (root);
  CymemPool *grandchild = cymem_pool_new_child (child);
  gchar *report;
  gchar **lines;

  g_test_summary ("A three-level tree with names gives a readable report "
                  "(talloc_report_full)");
  cymem_pool_set_name (root, "request");
  cymem_pool_set_name (child, "headers");
  cymem_pool_set_name (grandchild, "cookie");
  cymem_pool_set_limit (root, 4096);
  cymem_pool_alloc (root, 1, 64);
  cymem_pool_alloc (root, 1, 32);
  cymem_pool_free (child, cymem_pool_alloc (child, 1, 100));
  cymem_pool_alloc (child, 1, 40);
  cymem_pool_strdup (grandchild, "session=1");

  report = cymem_pool_report (root);
  g_test_message ("%s", report);
  lines = g_strsplit (report, "\n", -1);
  g_assert_cmpuint (g_strv_length (lines), ==, 4);   /* 3 lines and "" */
  g_assert_true (g_pattern_match_simple ("pool 0x* 'request' (attached to GObject): 2 blocks, "
                                         "96 bytes, peak 96 bytes, limit 4096 bytes; "
                                         "146 bytes in its subtree (1 child)", lines[0]));
  g_assert_true (g_pattern_match_simple ("  pool 0x* 'headers': 1 block, 40 bytes, peak 100 bytes, "
                                         "no limit; 50 bytes in its subtree (1 child)", lines[1]));
  g_assert_true (g_pattern_match_simple ("    pool 0x* 'cookie': 1 block, 10 bytes, peak 10 bytes, "
                                         "no limit", lines[2]));
  g_strfreev (lines);
  g_free (report);
  g_object_unref (owner);
}

static void
test_finalize_log (void)
{
  g_test_summary ("G_MESSAGES_DEBUG=Cymem logs a pool's name, blocks, bytes and "
                  "peak when it is finalized");
  if (g_test_subprocess ())
    {
      CymemPool *pool;

      /* Read when the class is initialised, as GLib reads it at startup. */
      g_setenv ("G_MESSAGES_DEBUG", "Cymem", TRUE);
      pool = cymem_pool_new ();
      cymem_pool_set_name (pool, "short-lived");
      cymem_pool_alloc (pool, 1, 24);
      cymem_pool_alloc (pool, 2, 4);
      g_object_unref (pool);
      return;
    }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
  g_test_trap_assert_stdout ("*finalizing pool 0x* 'short-lived': 2 blocks, 32 bytes, "
                             "peak 32 bytes, no limit*");
}

static CymemPool *leaked;

static void
test_leak_report (void)
{
  g_test_summary ("CYMEM_DEBUG=leaks lists the pools still alive at exit, with "
                  "their reports, on stderr");
  if (g_test_subprocess ())
    {
      /* Read when the class is initialised: before the first pool. */
      g_setenv ("CYMEM_DEBUG", "leaks", TRUE);
      leaked = cymem_pool_new ();   /* a global: reachable for leak checkers */
      cymem_pool_set_name (leaked, "forgotten");
      cymem_pool_set_name (cymem_pool_new_child (leaked), "its-child");
      cymem_pool_alloc (leaked, 1, 8);
      g_object_unref (cymem_pool_new ());  /* finalized: not listed */
      return;
    }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
  g_test_trap_assert_stderr ("*cymem: 2 pools still alive at exit (CYMEM_DEBUG=leaks), in 1 tree:*"
                             "pool 0x* 'forgotten': 1 block, 8 bytes*"
                             "pool 0x* 'its-child': 0 blocks*");
}

/* --- disown --- */

static guint destroyed;

static void
count_destroy (gpointer data)
{
  destroyed++;
}

typedef struct
{
  CymemPool *pool;
  gpointer   data;
} DisownLater;

static void
disown_pending (gpointer user_data)
{
  DisownLater *later = user_data;

  /* Its cleanup has not run yet: take it back. */
  cymem_pool_disown (later->pool, later->data);
}

static void
test_disown (void)
{
  CymemPool *pool = cymem_pool_new ();
  gchar *data = g_strdup ("mine again");
  gint marker = 0;
  DisownLater later = { pool, &marker };

  g_test_summary ("disown removes a cleanup registered with own without running it "
                  "(apr_pool_cleanup_kill), also from another cleanup");
  destroyed = 0;
  cymem_pool_own (pool, data, g_free);
  cymem_pool_disown (pool, data);
  g_assert_cmpstr (data, ==, "mine again");   /* not freed */
  g_free (data);

  /* From a cleanup during clear, for a cleanup still pending. */
  cymem_pool_own (pool, &marker, count_destroy);
  cymem_pool_own (pool, &later, disown_pending);
  cymem_pool_clear (pool);
  g_assert_cmpuint (destroyed, ==, 0);

  g_test_expect_message ("Cymem", G_LOG_LEVEL_CRITICAL, "*does not own*");
  cymem_pool_disown (pool, &marker);
  g_test_assert_expected_messages ();

  /* The latest registration of data owned twice. */
  cymem_pool_own (pool, &marker, count_destroy);
  cymem_pool_own (pool, &marker, count_destroy);
  cymem_pool_disown (pool, &marker);
  g_object_unref (pool);
  g_assert_cmpuint (destroyed, ==, 1);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/Cymem/Tree/limit/bounds-children", test_limit_bounds_children);
  g_test_add_func ("/Cymem/Tree/limit/realloc", test_limit_realloc_in_tree);
  g_test_add_func ("/Cymem/Tree/limit/steal", test_limit_steal_into_tree);
  g_test_add_func ("/Cymem/Tree/limit/threads", test_limit_tree_threads);
  g_test_add_func ("/Cymem/Tree/ancestors", test_ancestors);
  g_test_add_func ("/Cymem/Tree/total-size", test_total_size_property);
  g_test_add_func ("/Cymem/Tree/name", test_name);
  g_test_add_func ("/Cymem/Tree/report", test_report);
  g_test_add_func ("/Cymem/Tree/finalize-log", test_finalize_log);
  g_test_add_func ("/Cymem/Tree/leak-report", test_leak_report);
  g_test_add_func ("/Cymem/Tree/disown", test_disown);

  return g_test_run ();
}
