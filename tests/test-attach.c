/* test-attach.c: tying a CymemPool to the lifetime of other GObjects
 *
 * SPDX-License-Identifier: MIT
 */

#include "config.h"

#include <cymem-glib/cymem-glib.h>

#include "counting-allocator.h"

/* An owner whose finalize reads pool memory: the pool must still be alive
 * then, since qdata is cleared only after the subclass chains up. */
#define TEST_TYPE_OWNER (test_owner_get_type ())
G_DECLARE_FINAL_TYPE (TestOwner, test_owner, TEST, OWNER, GObject)

struct _TestOwner
{
  GObject  parent_instance;
  gint    *numbers;  /* pool memory */
};

G_DEFINE_FINAL_TYPE (TestOwner, test_owner, G_TYPE_OBJECT)

static gint seen_in_finalize;
static guint live_in_finalize;

static void
test_owner_finalize (GObject *object)
{
  TestOwner *self = TEST_OWNER (object);

  live_in_finalize = counting_n_live ();
  seen_in_finalize = self->numbers[0] + self->numbers[99];

  G_OBJECT_CLASS (test_owner_parent_class)->finalize (object);
}

static void
test_owner_class_init (TestOwnerClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = test_owner_finalize;
}

static void
test_owner_init (TestOwner *self)
{
}

static void
test_attach_owner_death (void)
{
  GObject *owner = g_object_new (G_TYPE_OBJECT, NULL);
  CymemPool *pool = counting_pool_new ();
  CymemPool *watch = pool;

  g_object_add_weak_pointer (G_OBJECT (pool), (gpointer *) &watch);
  cymem_pool_attach (pool, owner);
  g_assert_true (cymem_pool_get_for_object (owner) == pool);
  cymem_pool_alloc (pool, 10, 10);
  g_object_unref (pool);

  /* The owner's reference keeps it alive. */
  g_assert_nonnull (watch);
  g_assert_cmpuint (counting_n_live (), ==, 1);

  g_object_unref (owner);
  g_assert_null (watch);
  g_assert_cmpuint (counting_n_live (), ==, 0);
}

static void
test_attach_owner_finalize_reads (void)
{
  TestOwner *owner = g_object_new (TEST_TYPE_OWNER, NULL);
  CymemPool *pool = counting_pool_new ();

  cymem_pool_attach (pool, G_OBJECT (owner));
  g_object_unref (pool);
  owner->numbers = cymem_pool_alloc (pool, 100, sizeof (gint));
  owner->numbers[0] = 40;
  owner->numbers[99] = 2;

  seen_in_finalize = 0;
  g_object_unref (owner);
  g_assert_cmpint (seen_in_finalize, ==, 42);
  g_assert_cmpuint (live_in_finalize, ==, 1);
  g_assert_cmpuint (counting_n_live (), ==, 0);
}

static void
test_attach_several_owners (void)
{
  GObject *first = g_object_new (G_TYPE_OBJECT, NULL);
  GObject *second = g_object_new (G_TYPE_OBJECT, NULL);
  CymemPool *pool = counting_pool_new ();
  CymemPool *watch = pool;

  g_object_add_weak_pointer (G_OBJECT (pool), (gpointer *) &watch);
  cymem_pool_attach (pool, first);
  cymem_pool_attach (pool, second);
  cymem_pool_alloc (pool, 1, 1);
  g_object_unref (pool);

  g_object_unref (first);
  g_assert_nonnull (watch);
  g_assert_cmpuint (counting_n_live (), ==, 1);
  g_object_unref (second);
  g_assert_null (watch);
  g_assert_cmpuint (counting_n_live (), ==, 0);
}

static void
test_attach_same_again (void)
{
  GObject *owner = g_object_new (G_TYPE_OBJECT, NULL);
  CymemPool *pool = cymem_pool_new ();

  cymem_pool_attach (pool, owner);
  g_assert_cmpuint (G_OBJECT (pool)->ref_count, ==, 2);
  cymem_pool_attach (pool, owner);
  g_assert_cmpuint (G_OBJECT (pool)->ref_count, ==, 2);
  g_assert_true (cymem_pool_get_for_object (owner) == pool);

  g_object_unref (pool);
  g_object_unref (owner);
}

static void
test_attach_second_pool (void)
{
  GObject *owner = g_object_new (G_TYPE_OBJECT, NULL);
  CymemPool *first = cymem_pool_new ();
  CymemPool *second = cymem_pool_new ();

  cymem_pool_attach (first, owner);
  g_test_expect_message ("Cymem", G_LOG_LEVEL_CRITICAL,
                         "*cymem_pool_attach*already has pool*attached*");
  cymem_pool_attach (second, owner);
  g_test_assert_expected_messages ();

  g_assert_true (cymem_pool_get_for_object (owner) == first);
  g_assert_cmpuint (G_OBJECT (second)->ref_count, ==, 1);

  g_object_unref (second);
  g_object_unref (first);
  g_object_unref (owner);
}

static void
test_detach (void)
{
  GObject *owner = g_object_new (G_TYPE_OBJECT, NULL);
  GObject *stranger = g_object_new (G_TYPE_OBJECT, NULL);
  CymemPool *pool = counting_pool_new ();
  CymemPool *other = cymem_pool_new ();
  CymemPool *watch = pool;

  g_object_add_weak_pointer (G_OBJECT (pool), (gpointer *) &watch);
  cymem_pool_attach (pool, owner);
  cymem_pool_alloc (pool, 1, 8);
  g_object_unref (pool);

  /* Detaching from an object the pool is not attached to changes nothing. */
  g_test_expect_message ("Cymem", G_LOG_LEVEL_CRITICAL, "*is not attached to*");
  cymem_pool_detach (pool, stranger);
  g_test_assert_expected_messages ();
  g_test_expect_message ("Cymem", G_LOG_LEVEL_CRITICAL, "*is not attached to*");
  cymem_pool_detach (other, owner);
  g_test_assert_expected_messages ();
  g_assert_true (cymem_pool_get_for_object (owner) == pool);

  /* Dropping the last reference frees the pool and its memory now. */
  cymem_pool_detach (pool, owner);
  g_assert_null (watch);
  g_assert_cmpuint (counting_n_live (), ==, 0);
  g_assert_null (cymem_pool_get_for_object (owner));

  /* The owner can take another pool afterwards. */
  cymem_pool_attach (other, owner);
  g_assert_true (cymem_pool_get_for_object (owner) == other);

  g_object_unref (other);
  g_object_unref (stranger);
  g_object_unref (owner);
}

static void
test_get_and_ensure (void)
{
  GObject *owner = g_object_new (G_TYPE_OBJECT, NULL);
  CymemPool *pool, *again;
  CymemPool *watch;

  g_assert_null (cymem_pool_get_for_object (owner));

  pool = cymem_pool_ensure_for_object (owner);
  g_assert_true (CYMEM_IS_POOL (pool));
  /* transfer none: only the owner holds it. */
  g_assert_cmpuint (G_OBJECT (pool)->ref_count, ==, 1);
  again = cymem_pool_ensure_for_object (owner);
  g_assert_true (again == pool);
  g_assert_true (cymem_pool_get_for_object (owner) == pool);

  watch = pool;
  g_object_add_weak_pointer (G_OBJECT (pool), (gpointer *) &watch);
  cymem_pool_alloc (pool, 4, 4);
  g_object_unref (owner);
  g_assert_null (watch);
}

static void
test_own_owner_object (void)
{
  GObject *owner = g_object_new (G_TYPE_OBJECT, NULL);
  GObject *kept = g_object_new (G_TYPE_OBJECT, NULL);
  GObject *watch = kept;
  CymemPool *pool = cymem_pool_ensure_for_object (owner);

  g_test_summary ("An owner's pool keeps other objects alive until the owner dies");
  g_object_add_weak_pointer (kept, (gpointer *) &watch);
  cymem_pool_own_object (pool, kept);
  g_object_unref (kept);
  g_assert_nonnull (watch);
  g_object_unref (owner);
  g_assert_null (watch);
}

/* Threads asking for the pool of one fresh object at once all get the same
 * pool, whole: it is published through qdata, whose lock ThreadSanitizer
 * cannot see (GLib's bit lock), so the pool adds a release/acquire pair of
 * its own, which this test checks under ThreadSanitizer. */
#define ENSURE_THREADS 4

typedef struct
{
  GObject   *owner;
  CymemPool *got[ENSURE_THREADS];
  gint       waiting;
  gint       done;
} EnsureRace;

typedef struct
{
  EnsureRace *race;
  guint       index;
} EnsureJob;

static gpointer
ensure_racer (gpointer data)
{
  EnsureJob *job = data;
  EnsureRace *race = job->race;
  CymemPool *pool;
  guint8 *block;

  /* Start together. */
  g_atomic_int_dec_and_test (&race->waiting);
  while (g_atomic_int_get (&race->waiting) > 0)
    g_thread_yield ();
  pool = cymem_pool_ensure_for_object (race->owner);
  block = cymem_pool_alloc (pool, 1, 16);
  block[15] = (guint8) job->index;
  race->got[job->index] = pool;
  g_atomic_int_inc (&race->done);
  return NULL;
}

static void
test_ensure_threads (void)
{
  g_test_summary ("Threads calling ensure_for_object on one fresh object get one pool");
  for (guint round = 0; round < 200; round++)
    {
      EnsureRace race = { g_object_new (G_TYPE_OBJECT, NULL), { NULL }, ENSURE_THREADS, 0 };
      EnsureJob jobs[ENSURE_THREADS];
      GThread *threads[ENSURE_THREADS];
      CymemPool *pool;
      GObject *watch;

      for (guint i = 0; i < ENSURE_THREADS; i++)
        {
          jobs[i] = (EnsureJob) { &race, i };
          threads[i] = g_thread_new ("ensure", ensure_racer, &jobs[i]);
        }
      for (guint i = 0; i < ENSURE_THREADS; i++)
        g_thread_join (threads[i]);
      pool = cymem_pool_get_for_object (race.owner);
      g_assert_nonnull (pool);
      for (guint i = 0; i < ENSURE_THREADS; i++)
        g_assert_true (race.got[i] == pool);
      g_assert_cmpuint (cymem_pool_get_n_allocations (pool), ==, ENSURE_THREADS);
      watch = G_OBJECT (pool);
      g_object_add_weak_pointer (watch, (gpointer *) &watch);
      g_object_unref (race.owner);
      g_assert_null (watch);
    }
}

static void
test_small_footprint (void)
{
  GTypeQuery query;

  g_test_summary ("One pool per object stays small: the instance is at most 136 bytes "
                  "(1.2.3: 152, 1.2.2: 160, 1.2.1: 272), its rarely used fields living elsewhere until needed");
  g_type_query (CYMEM_TYPE_POOL, &query);
  g_assert_cmpuint (query.instance_size, >, 0);
#ifdef CYMEM_LINUX
  g_assert_cmpuint (query.instance_size, <=, 136);
#else
  /* Elsewhere the lock is a GMutex, 8 bytes aligned to 8 instead of an
   * int: up to one more word with padding. */
  g_assert_cmpuint (query.instance_size, <=, 136 + sizeof (GMutex));
#endif
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/Cymem/Attach/owner-death", test_attach_owner_death);
  g_test_add_func ("/Cymem/Attach/owner-finalize-reads", test_attach_owner_finalize_reads);
  g_test_add_func ("/Cymem/Attach/several-owners", test_attach_several_owners);
  g_test_add_func ("/Cymem/Attach/same-again", test_attach_same_again);
  g_test_add_func ("/Cymem/Attach/second-pool", test_attach_second_pool);
  g_test_add_func ("/Cymem/Attach/detach", test_detach);
  g_test_add_func ("/Cymem/Attach/get-and-ensure", test_get_and_ensure);
  g_test_add_func ("/Cymem/Attach/own-object", test_own_owner_object);
  g_test_add_func ("/Cymem/Attach/small-footprint", test_small_footprint);
  g_test_add_func ("/Cymem/Attach/ensure-threads", test_ensure_threads);

  return g_test_run ();
}
