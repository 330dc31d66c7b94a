/* test-chunks.c: small blocks carved from chunks
 *
 * SPDX-License-Identifier: MIT
 *
 * Built with the library's sources compiled in, so that it can ask the
 * chunk layer which blocks it carved and look at its counts.
 */

#include "config.h"

#include <pthread.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include "cymem-pool-private.h"

/* Makes the pool past CYMEM_HEAP_START small blocks, so it has a heap;
 * returns those blocks, all made with malloc(). */
static void
prime (CymemPool *pool)
{
  for (guint i = 0; i < CYMEM_HEAP_START; i++)
    {
      gpointer mem = cymem_pool_alloc (pool, 1, 64);

      g_assert_false (cymem_chunk_contains (mem));
      cymem_pool_free (pool, mem);
    }
}

static guint
count_chunks (CymemPool *pool)
{
  guint n = 0;

  cymem_lock_acquire (&pool->lock);
  for (CymemChunk *chunk = pool->table.heap != NULL ? pool->table.heap->chunks : NULL; chunk != NULL;
       chunk = chunk->next)
    n++;
  cymem_lock_release (&pool->lock);
  return n;
}

static gboolean
all_zero (const guint8 *mem,
          gsize         n)
{
  for (gsize i = 0; i < n; i++)
    if (mem[i] != 0)
      return FALSE;
  return TRUE;
}

static void
collect (gpointer mem,
         gsize    n_bytes,
         gpointer user_data)
{
  g_ptr_array_add (user_data, mem);
}

/* The first CYMEM_HEAP_START small blocks are malloc()ed, the rest carved;
 * both kinds are zeroed, sized and walked in allocation order. */
static void
test_chunks_carve (void)
{
  CymemPool *pool = cymem_pool_new ();
  GPtrArray *made = g_ptr_array_new (), *walked = g_ptr_array_new ();

  for (guint i = 0; i < 3 * CYMEM_HEAP_START; i++)
    {
      guint8 *mem = cymem_pool_alloc (pool, 1, 64);

      g_assert_true (all_zero (mem, 64));
      memset (mem, 0xEE, 64);
      g_assert_cmpint (cymem_chunk_contains (mem), ==, i >= CYMEM_HEAP_START);
      g_assert_cmpuint (cymem_pool_get_block_size (pool, mem), ==, 64);
      g_ptr_array_add (made, mem);
    }
  g_assert_cmpuint (count_chunks (pool), ==, 1);
  g_assert_cmpuint (cymem_pool_get_size (pool), ==, 3 * CYMEM_HEAP_START * 64);

  cymem_pool_foreach (pool, collect, walked);
  g_assert_cmpuint (walked->len, ==, made->len);
  for (guint i = 0; i < made->len; i++)
    g_assert_true (walked->pdata[i] == made->pdata[i]);

  /* A freed slot is reused at once, zeroed again; under a memory tool,
   * only once the chunk's fresh slots are used up (so that a use after
   * free is caught). */
  cymem_pool_free (pool, made->pdata[CYMEM_HEAP_START + 1]);
  {
    guint8 *again = cymem_pool_alloc (pool, 1, 64);

    if (cymem_chunk_of (again)->tool)
      g_assert_true (again != made->pdata[CYMEM_HEAP_START + 1]);
    else
      g_assert_true (again == made->pdata[CYMEM_HEAP_START + 1]);
    g_assert_true (all_zero (again, 64));
  }

  g_ptr_array_unref (made);
  g_ptr_array_unref (walked);
  g_object_unref (pool);
}

/* Each size goes to its class: aligned, distinct, writable to its last
 * byte (AddressSanitizer checks the rest); above CYMEM_HEAP_MAX, malloc(). */
static void
test_chunks_sizes (void)
{
  static const gsize sizes[] = { 0, 1, 15, 16, 17, 100, 128, 129, 200, 256, 257, 400, 511, 512 };
  CymemPool *pool = cymem_pool_new ();
  gpointer big;

  prime (pool);
  for (guint i = 0; i < G_N_ELEMENTS (sizes); i++)
    for (guint j = 0; j < 3; j++)
      {
        guint8 *mem = cymem_pool_alloc (pool, 1, sizes[i]);

        g_assert_true (cymem_chunk_contains (mem));
        g_assert_cmpuint ((guintptr) mem % 16, ==, 0);
        g_assert_true (all_zero (mem, sizes[i]));
        memset (mem, 0x5A, sizes[i]);
        g_assert_cmpuint (cymem_chunk_of (mem)->slot_size, >=, MAX (sizes[i], 1));
        g_assert_cmpuint (cymem_pool_get_block_size (pool, mem), ==, sizes[i]);
      }
  big = cymem_pool_alloc (pool, 1, CYMEM_HEAP_MAX + 1);
  g_assert_false (cymem_chunk_contains (big));
  g_assert_cmpuint (cymem_pool_get_n_allocations (pool), ==, 3 * G_N_ELEMENTS (sizes) + 1);
  g_object_unref (pool);
}

/* Every size up to the largest class is zeroed exactly, also in a slot
 * reused after garbage was written to it, and the zeroing stops at the
 * block's end: its neighbour in the chunk keeps its bytes. */
static void
test_chunks_zero_reuse (void)
{
  CymemPool *pool = cymem_pool_new ();

  prime (pool);
  for (gsize n = 0; n <= CYMEM_HEAP_MAX; n++)
    {
      guint8 *a = cymem_pool_alloc (pool, 1, n);
      guint8 *b = cymem_pool_alloc (pool, 1, n);
      guint8 *again;

      g_assert_true (all_zero (a, n) && all_zero (b, n));
      memset (a, 0xA5, n);
      memset (b, 0x77, n);
      cymem_pool_free (pool, a);
      again = cymem_pool_alloc (pool, 1, n);
      if (!cymem_chunk_of (again)->tool)
        g_assert_true (again == a);
      g_assert_true (all_zero (again, n));
      for (gsize i = 0; i < n; i++)
        g_assert_cmpuint (b[i], ==, 0x77);
      g_assert_cmpuint (cymem_pool_get_block_size (pool, again), ==, n);
      cymem_pool_free (pool, again);
      cymem_pool_free (pool, b);
    }
  g_assert_cmpuint (cymem_pool_get_n_allocations (pool), ==, 0);
  g_assert_cmpuint (cymem_pool_get_size (pool), ==, 0);
  g_object_unref (pool);
}

/* The free fast path refuses what the pool does not own, as the full path
 * does: each refusal is a critical, frees nothing and changes no count. */
static void
test_chunks_free_refusals (void)
{
  CymemPool *pool = cymem_pool_new (), *other = cymem_pool_new ();
  guint8 *mine, *theirs, *freed, stack_byte = 0;
  gsize size;

  prime (pool);
  prime (other);
  mine = cymem_pool_alloc (pool, 1, 64);
  freed = cymem_pool_alloc (pool, 1, 64);
  theirs = cymem_pool_alloc (other, 1, 64);
  g_assert_true (cymem_chunk_contains (mine) && cymem_chunk_contains (theirs));
  cymem_pool_free (pool, freed);
  size = cymem_pool_get_size (pool);

  g_test_expect_message ("Cymem", G_LOG_LEVEL_CRITICAL, "*not a block owned by*");
  cymem_pool_free (pool, mine + 16);          /* interior */
  g_test_expect_message ("Cymem", G_LOG_LEVEL_CRITICAL, "*not a block owned by*");
  cymem_pool_free (pool, theirs);             /* another pool's */
  g_test_expect_message ("Cymem", G_LOG_LEVEL_CRITICAL, "*not a block owned by*");
  cymem_pool_free (pool, &stack_byte);
  g_test_expect_message ("Cymem", G_LOG_LEVEL_CRITICAL, "*not a block owned by*");
  cymem_pool_free (pool, freed);              /* twice (its slot not reused yet) */
  g_test_assert_expected_messages ();

  g_assert_cmpuint (cymem_pool_get_size (pool), ==, size);
  g_assert_true (cymem_pool_owns (pool, mine));
  g_assert_true (cymem_pool_owns (other, theirs));
  g_assert_cmpuint (cymem_pool_get_n_allocations (pool), ==, 1);
  g_object_unref (other);
  g_object_unref (pool);
}

/* The quick free of the newest block, which finds it from the table's last
 * entry rather than the registry: a stack of frees, newest first, each
 * taking its own size; then what must not pass for the newest. */
static void
test_chunks_free_newest (void)
{
  CymemPool *pool = cymem_pool_new (), *other = cymem_pool_new ();
  guint8 *blocks[8], *theirs;
  gsize size = 0;

  prime (pool);
  prime (other);
  for (guint i = 0; i < G_N_ELEMENTS (blocks); i++)
    {
      blocks[i] = cymem_pool_alloc (pool, 1, 16 + 16 * i);
      g_assert_true (cymem_chunk_contains (blocks[i]));
      size += 16 + 16 * i;
    }
  theirs = cymem_pool_alloc (other, 1, 64);

  /* Not the newest: an interior pointer of it, the same address with bits
   * past 48 set (which a comparison on the low bits would take), and the
   * newest of another pool. */
  g_test_expect_message ("Cymem", G_LOG_LEVEL_CRITICAL, "*not a block owned by*");
  cymem_pool_free (pool, blocks[7] + 16);
  g_test_expect_message ("Cymem", G_LOG_LEVEL_CRITICAL, "*not a block owned by*");
  cymem_pool_free (pool, (gpointer) ((guintptr) blocks[7] | (G_GUINT64_CONSTANT (1) << 62)));
  g_test_expect_message ("Cymem", G_LOG_LEVEL_CRITICAL, "*not a block owned by*");
  cymem_pool_free (pool, theirs);
  g_test_assert_expected_messages ();
  g_assert_cmpuint (cymem_pool_get_size (pool), ==, size);

  /* A block under the newest, freed first, leaves a hole that the newest's
   * free pops with it. */
  cymem_pool_free (pool, blocks[6]);
  size -= 16 + 16 * 6;
  g_assert_cmpuint (cymem_pool_get_size (pool), ==, size);
  for (gint i = 7; i >= 0; i--)
    {
      if (i == 6)
        continue;
      cymem_pool_free (pool, blocks[i]);
      size -= 16 + 16 * i;
      g_assert_cmpuint (cymem_pool_get_size (pool), ==, size);
      g_assert_false (cymem_pool_owns (pool, blocks[i]));
      if (i > 0)
        g_assert_true (cymem_pool_owns (pool, blocks[i - 1]) == (i - 1 != 6));

      /* Freed already: no longer the newest entry. */
      g_test_expect_message ("Cymem", G_LOG_LEVEL_CRITICAL, "*not a block owned by*");
      cymem_pool_free (pool, blocks[i]);
      g_test_assert_expected_messages ();
      g_assert_cmpuint (cymem_pool_get_size (pool), ==, size);
    }
  g_assert_cmpuint (cymem_pool_get_n_allocations (pool), ==, 0);
  g_assert_true (cymem_pool_owns (other, theirs));

  /* A block made again is zeroed, and freed as the newest. */
  blocks[0] = cymem_pool_alloc (pool, 1, 64);
  g_assert_true (all_zero (blocks[0], 64));
  memset (blocks[0], 0xa5, 64);
  cymem_pool_free (pool, blocks[0]);
  g_assert_cmpuint (cymem_pool_get_size (pool), ==, 0);

  g_object_unref (other);
  g_object_unref (pool);
}

/* A pool's rarely used fields are allocated only by the features that use
 * them: plain use, attaching and walking leave a pool without them; each
 * feature then works on its own pool. */
static void
add_to_total (gpointer mem,
              gsize    n_bytes,
              gpointer user_data)
{
  *(gsize *) user_data += n_bytes;
}

static void
test_chunks_extra_lazy (void)
{
  CymemPool *plain = cymem_pool_new (), *named = cymem_pool_new (), *limited = cymem_pool_new ();
  CymemPool *owning = cymem_pool_new (), *parent = cymem_pool_new (), *child;
  CymemPool *custom = cymem_pool_new_with_allocator (malloc, free), *custom_child;
  GObject *owner = g_object_new (G_TYPE_OBJECT, NULL);
  gsize total = 0;

  for (guint i = 0; i < 3 * CYMEM_HEAP_START; i++)
    cymem_pool_free (plain, cymem_pool_alloc (plain, 1, 32));
  cymem_pool_alloc (plain, 1, 32);
  cymem_pool_attach (plain, owner);
  cymem_pool_foreach (plain, add_to_total, &total);
  g_assert_cmpuint (total, ==, 32);
  g_assert_true (plain->extra == &cymem_pool_no_extra);

  cymem_pool_set_name (named, "named");
  g_assert_true (named->extra != &cymem_pool_no_extra);
  {
    g_autofree gchar *label = g_strdup_printf ("pool %p 'named'", (gpointer) named);

    g_assert_cmpstr (cymem_pool_label (named), ==, label);
  }
  cymem_pool_set_limit (limited, 100);
  g_assert_true (limited->extra != &cymem_pool_no_extra);
  g_assert_null (cymem_pool_try_alloc (limited, 1, 101));
  cymem_pool_own (owning, g_strdup ("x"), g_free);
  g_assert_true (owning->extra != &cymem_pool_no_extra);
  child = cymem_pool_new_child (parent);
  g_assert_true (parent->extra != &cymem_pool_no_extra && child->extra != &cymem_pool_no_extra);
  g_assert_true (cymem_pool_get_parent (child) == parent);
  custom_child = cymem_pool_new_child (custom);
  g_assert_true (cymem_pool_extra (custom_child)->malloc_func == (CymemMallocFunc) malloc);
  g_assert_true (cymem_pool_steal (custom_child, custom, cymem_pool_alloc (custom, 1, 8)));

  g_object_unref (plain);
  g_object_unref (owner);   /* and @plain with it */
  g_object_unref (named);
  g_object_unref (limited);
  g_object_unref (owning);
  g_object_unref (parent);
  g_object_unref (custom);
}

/* Chunks emptied by frees go (the last of a class stays), so a pool holds
 * memory in proportion to its live blocks. */
static void
test_chunks_release_empty (void)
{
  CymemPool *pool = cymem_pool_new ();
  gpointer *blocks = g_new (gpointer, 20000);
  guint peak;

  prime (pool);
  for (guint i = 0; i < 20000; i++)
    blocks[i] = cymem_pool_alloc (pool, 1, 64);
  peak = count_chunks (pool);
  g_assert_cmpuint (peak, >=, 20000 * 64 / CYMEM_CHUNK_SIZE);
  for (guint i = 1; i < 20000; i++)
    cymem_pool_free (pool, blocks[i]);
  /* The chunk of the live block, and at most one kept empty. */
  g_assert_cmpuint (count_chunks (pool), <=, 2);
  g_assert_cmpuint (cymem_chunk_cached_bytes (), <=, 4u << 20);
  g_assert_cmpuint (cymem_pool_get_n_allocations (pool), ==, 1);

  cymem_pool_clear (pool);
  g_assert_cmpuint (count_chunks (pool), <=, 1);
  g_free (blocks);
  g_object_unref (pool);
}

/* A block stolen out of its chunk's pool is lent: it outlives that pool,
 * and the last one freed releases the orphaned chunk. */
static void
test_chunks_steal_outlives_owner (void)
{
  CymemPool *a = cymem_pool_new (), *b = cymem_pool_new ();
  gpointer blocks[100];
  CymemChunk *chunk;

  prime (a);
  for (guint i = 0; i < G_N_ELEMENTS (blocks); i++)
    {
      blocks[i] = cymem_pool_alloc (a, 1, 48);
      memset (blocks[i], i, 48);
      g_assert_true (cymem_pool_steal (b, a, blocks[i]));
    }
  chunk = cymem_chunk_of (blocks[0]);
  g_assert_cmpuint (chunk->n_lent, ==, G_N_ELEMENTS (blocks));
  g_assert_cmpuint (cymem_pool_get_n_allocations (a), ==, 0);

  g_object_unref (a);
  g_assert_null (cymem_chunk_owner (chunk));  /* orphaned, not released */
  for (guint i = 0; i < G_N_ELEMENTS (blocks); i++)
    {
      guint8 *mem = blocks[i];

      g_assert_cmpuint (mem[47], ==, (guint8) i);
      memset (mem, 0xFF, 48);
    }
  for (guint i = 0; i < G_N_ELEMENTS (blocks) / 2; i++)
    cymem_pool_free (b, blocks[i]);
  g_assert_cmpuint (chunk->n_lent, ==, G_N_ELEMENTS (blocks) / 2);
  g_object_unref (b);  /* the rest, and the chunk with them */
}

/* A borrower's frees go back to the owner at once, so that an owner that
 * lent everything keeps no memory for it, even while other threads keep
 * its lock busy. */
typedef struct
{
  CymemPool *pool;
  gint       stop;
} Reader;

static gpointer
read_size (gpointer data)
{
  Reader *reader = data;
  gsize sum = 0;

  while (!g_atomic_int_get (&reader->stop))
    sum += cymem_pool_get_size (reader->pool);
  return GSIZE_TO_POINTER (sum);
}

static void
test_chunks_steal_returned (void)
{
  CymemPool *a = cymem_pool_new (), *b = cymem_pool_new ();
  Reader reader = { a, 0 };
  GThread *thread;
  gpointer *blocks = g_new (gpointer, 40000);

  prime (a);
  /* 20,000 blocks lent out and freed by the borrower leave one chunk. */
  for (guint i = 0; i < 20000; i++)
    g_assert_true (cymem_pool_steal (b, a, cymem_pool_alloc (a, 1, 64)));
  g_assert_cmpuint (count_chunks (a), >=, 20000 * 64 / CYMEM_CHUNK_SIZE);
  cymem_pool_clear (b);
  g_assert_cmpuint (count_chunks (a), <=, 1);

  /* The same with another thread keeping the owner's lock busy, in several
   * size classes; the owner frees its own blocks too. */
  thread = g_thread_new ("reader", read_size, &reader);
  for (guint i = 0; i < 40000; i++)
    {
      blocks[i] = cymem_pool_alloc (a, 1, 16 + (i % 8) * 16);
      if (i % 2 == 0)
        g_assert_true (cymem_pool_steal (b, a, blocks[i]));
    }
  for (guint i = 0; i < 40000; i += 2)
    cymem_pool_free (b, blocks[i]);
  g_atomic_int_set (&reader.stop, 1);
  g_thread_join (thread);
  for (guint i = 1; i < 40000; i += 2)
    cymem_pool_free (a, blocks[i]);
  g_assert_cmpuint (cymem_pool_get_n_allocations (a), ==, 0);
  g_assert_cmpuint (count_chunks (a), <=, 8);   /* one kept per class */

  g_free (blocks);
  g_object_unref (b);
  g_object_unref (a);
}

/* Stolen and stolen back: the block is its owner's again. */
static void
test_chunks_steal_home (void)
{
  CymemPool *a = cymem_pool_new (), *b = cymem_pool_new (), *c = cymem_pool_new ();
  gpointer mem;
  CymemChunk *chunk;

  prime (a);
  prime (b);
  mem = cymem_pool_alloc (a, 1, 32);
  chunk = cymem_chunk_of (mem);
  g_assert_true (cymem_pool_steal (b, a, mem));
  g_assert_true (cymem_pool_steal (c, b, mem));
  g_assert_cmpuint (chunk->n_lent, ==, 1);
  g_assert_true (cymem_pool_steal (a, c, mem));
  g_assert_cmpuint (chunk->n_lent, ==, 0);
  cymem_pool_free (a, mem);
  g_assert_cmpuint (chunk->n_used, ==, 0);

  g_object_unref (c);
  g_object_unref (b);
  g_object_unref (a);
}

static gsize custom_live;

static gpointer
custom_malloc (gsize n_bytes)
{
  custom_live++;
  return g_malloc (n_bytes);
}

static void
custom_free (gpointer mem)
{
  custom_live--;
  g_free (mem);
}

/* A pool with its own allocator keeps one call per block. */
static void
test_chunks_custom_allocator (void)
{
  CymemPool *pool = cymem_pool_new_with_allocator (custom_malloc, custom_free);

  for (guint i = 0; i < 500; i++)
    g_assert_false (cymem_chunk_contains (cymem_pool_alloc (pool, 1, 64)));
  g_assert_cmpuint (custom_live, ==, 500);
  g_assert_null (pool->table.heap);
  g_object_unref (pool);
  g_assert_cmpuint (custom_live, ==, 0);
}

/* CYMEM_DEBUG=malloc: one malloc() per block, in the whole process. */
static void
test_chunks_debug_malloc (void)
{
  if (g_test_subprocess ())
    {
      CymemPool *pool;

      g_setenv ("CYMEM_DEBUG", "malloc", TRUE);
      pool = cymem_pool_new ();
      for (guint i = 0; i < 500; i++)
        g_assert_false (cymem_chunk_contains (cymem_pool_alloc (pool, 1, 64)));
      g_assert_null (pool->table.heap);
      g_object_unref (pool);
      return;
    }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
}

/* cymem_trim() gives back every cached chunk. */
static void
test_chunks_trim (void)
{
  CymemPool *pool = cymem_pool_new ();

  prime (pool);
  for (guint i = 0; i < 100000; i++)
    cymem_pool_alloc (pool, 1, 64);
  g_object_unref (pool);
  g_assert_cmpuint (cymem_chunk_cached_bytes (), >, 0);
  cymem_trim ();
  g_assert_cmpuint (cymem_chunk_cached_bytes (), ==, 0);
}

/* Threads take blocks out of a pool that keeps allocating and then dies,
 * and free them on their side: every slot is lent and returned or
 * orphaned exactly once (AddressSanitizer and ThreadSanitizer watch). */
/* A pthread mutex, not a GMutex: ThreadSanitizer does not see GLib's
 * uninstrumented futexes. */
typedef struct
{
  CymemPool       *source;
  pthread_mutex_t  lock;   /* guards @source, which the main thread drops */
} Borrow;

typedef struct
{
  Borrow *borrow;
  guint   seed;
} Borrower;

static gpointer
borrower (gpointer data)
{
  Borrow *borrow = ((Borrower *) data)->borrow;
  CymemPool *mine = cymem_pool_new ();
  GRand *rand = g_rand_new_with_seed (((Borrower *) data)->seed);
  GPtrArray *held = g_ptr_array_new ();

  for (guint i = 0; i < 4000; i++)
    {
      CymemPool *source;

      pthread_mutex_lock (&borrow->lock);
      source = borrow->source != NULL ? g_object_ref (borrow->source) : NULL;
      pthread_mutex_unlock (&borrow->lock);
      if (source != NULL)
        {
          guint8 *mem = cymem_pool_alloc (source, 1, 16 + g_rand_int_range (rand, 0, 100));

          mem[0] = 1;
          if (cymem_pool_steal (mine, source, mem))
            g_ptr_array_add (held, mem);
          g_object_unref (source);
        }
      if (held->len > 0 && g_rand_boolean (rand))
        {
          guint k = g_rand_int_range (rand, 0, held->len);

          g_assert_cmpuint (*(guint8 *) held->pdata[k], ==, 1);
          cymem_pool_free (mine, g_ptr_array_steal_index_fast (held, k));
        }
      if (i % 97 == 0)
        g_thread_yield ();
    }
  for (guint k = 0; k < held->len; k++)
    g_assert_cmpuint (*(guint8 *) held->pdata[k], ==, 1);
  g_ptr_array_unref (held);
  g_rand_free (rand);
  g_object_unref (mine);
  return NULL;
}

static void
test_chunks_threads_borrow (void)
{
  Borrow borrow = { cymem_pool_new (), PTHREAD_MUTEX_INITIALIZER };
  Borrower borrowers[4];
  GThread *threads[4];

  for (guint i = 0; i < CYMEM_HEAP_START; i++)
    cymem_pool_free (borrow.source, cymem_pool_alloc (borrow.source, 1, 64));
  for (guint t = 0; t < G_N_ELEMENTS (threads); t++)
    {
      borrowers[t].borrow = &borrow;
      borrowers[t].seed = t + 1;
      threads[t] = g_thread_new ("borrower", borrower, &borrowers[t]);
    }
  for (guint i = 0; i < 20000; i++)
    {
      gpointer mem = cymem_pool_alloc (borrow.source, 1, 64);

      if (i % 3 == 0)
        cymem_pool_free (borrow.source, mem);
      if (i == 10000)
        {
          /* The owner dies while the others still hold its blocks. */
          pthread_mutex_lock (&borrow.lock);
          g_clear_object (&borrow.source);
          borrow.source = cymem_pool_new ();
          pthread_mutex_unlock (&borrow.lock);
        }
    }
  for (guint t = 0; t < G_N_ELEMENTS (threads); t++)
    g_thread_join (threads[t]);
  g_object_unref (borrow.source);
  pthread_mutex_destroy (&borrow.lock);
}

/* Blocks stolen away shrink the pool they left, as frees do. */
static void
test_chunks_steal_shrinks (void)
{
  CymemPool *a = cymem_pool_new (), *b = cymem_pool_new ();
  gpointer *blocks = g_new (gpointer, 50000);

  for (guint i = 0; i < 50000; i++)
    blocks[i] = cymem_pool_alloc (a, 1, 8);
  g_assert_cmpuint (a->table.entries_capacity, >=, 50000);
  for (guint i = 0; i < 50000; i++)
    g_assert_true (cymem_pool_steal (b, a, blocks[i]));
  g_free (blocks);
  g_assert_cmpuint (cymem_pool_get_n_allocations (a), ==, 0);
  g_assert_cmpuint (a->table.entries_capacity, <, 1024);
  g_object_unref (b);
  g_object_unref (a);
}

/* Stale pointers into chunks that other threads release, recycle and unmap
 * (cymem_trim) are refused without touching those chunks: only the
 * registry is read until a chunk is known to be the pool's own. (1.2.1's
 * first version read the chunk's header for its owner: SEGV under
 * ThreadSanitizer with CYMEM_PERTURB=1, about one run in eight.) */
typedef struct
{
  gpointer   stale[64];
  gint       stop;
  CymemPool *prober_pool;
} Stale;

static gpointer
churn_chunks (gpointer data)
{
  Stale *stale = data;

  while (!g_atomic_int_get (&stale->stop))
    {
      CymemPool *pool = cymem_pool_new ();

      for (guint i = 0; i < 3000; i++)
        {
          gpointer mem = cymem_pool_alloc (pool, 1, (i * 16) % 512);

          if (i % 47 == 0)
            g_atomic_pointer_set (&stale->stale[(i / 47) % 64], mem);
        }
      g_object_unref (pool);
      cymem_trim ();
    }
  return NULL;
}

static void
test_chunks_stale_pointers (void)
{
  Stale stale = { { NULL }, 0, cymem_pool_new () };
  GThread *thread;
  gint64 end = g_get_monotonic_time () + G_USEC_PER_SEC;
  guint64 probes = 0;

  for (guint i = 0; i < 100; i++)
    cymem_pool_alloc (stale.prober_pool, 1, 16);   /* a pool with chunks too */
  thread = g_thread_new ("churn", churn_chunks, &stale);
  while (g_get_monotonic_time () < end)
    for (guint i = 0; i < 64; i++)
      {
        gpointer mem = g_atomic_pointer_get (&stale.stale[i]);

        if (mem == NULL)
          continue;
        g_assert_false (cymem_pool_owns (stale.prober_pool, mem));
        probes++;
      }
  g_atomic_int_set (&stale.stop, 1);
  g_thread_join (thread);
  g_assert_cmpuint (probes, >, 0);
  g_object_unref (stale.prober_pool);
}

typedef struct
{
  CymemPool *pool;
  gpointer   blocks[8];
  gsize      sizes[8];
  guint      n;
  gpointer   resize;  /* resized to WIDE_SIZE when the walk reaches it */
  gpointer   resized;
} WideWalk;

/* More than a narrow table entry holds (CYMEM_TABLE_WORD_MAX_SIZE). */
#define WIDE_SIZE 20000

static void
wide_walk (gpointer mem, gsize n_bytes, gpointer user_data)
{
  WideWalk *walk = user_data;

  g_assert_cmpuint (walk->n, <, G_N_ELEMENTS (walk->blocks));
  walk->blocks[walk->n] = mem;
  walk->sizes[walk->n++] = n_bytes;
  if (mem == walk->resize)
    {
      /* The pool is pinned by this walk: the old block stays, dead. */
      walk->resized = cymem_pool_realloc (walk->pool, mem, WIDE_SIZE);
      g_assert_true (walk->resized != mem);
    }
}

static void
test_chunks_wide_entries (void)
{
  CymemPool *pool = cymem_pool_new ();
  guint8 *carved[4], *big;
  WideWalk walk = { pool, { NULL }, { 0 }, 0, NULL, NULL };
  gboolean narrow_first;

  g_test_summary ("A block whose size does not fit the table's 8-byte "
                  "entries, allocated or resized (also during a walk), turns "
                  "the table to wide entries without losing a carved block, "
                  "its size, its contents or its place in the order");
  g_assert_cmpuint (CYMEM_TABLE_WORD_MAX_SIZE, <, WIDE_SIZE);
  /* Under a leak checker, tables are wide from their first entry. */
  narrow_first = cymem_table_word_reject != G_MAXUINT64;

  /* Allocated among carved blocks. */
  prime (pool);
  for (guint i = 0; i < G_N_ELEMENTS (carved); i++)
    {
      carved[i] = cymem_pool_alloc (pool, 1, 64 - i);
      g_assert_true (cymem_chunk_contains (carved[i]));
      memset (carved[i], 'a' + i, 64 - i);
    }
  g_assert_true (pool->table.wide == !narrow_first);
  big = cymem_pool_alloc (pool, 1, WIDE_SIZE);
  g_assert_true (pool->table.wide);
  g_assert_cmpuint (cymem_pool_get_block_size (pool, big), ==, WIDE_SIZE);
  for (guint i = 0; i < G_N_ELEMENTS (carved); i++)
    {
      g_assert_cmpuint (cymem_pool_get_block_size (pool, carved[i]), ==, 64 - i);
      g_assert_cmpuint (carved[i][63 - i - 1], ==, 'a' + i);
    }
  cymem_pool_foreach (pool, wide_walk, &walk);
  g_assert_cmpuint (walk.n, ==, 5);
  g_assert_true (walk.blocks[0] == carved[0] && walk.blocks[3] == carved[3] && walk.blocks[4] == big);
  g_assert_cmpuint (cymem_pool_get_size (pool), ==, WIDE_SIZE + 64 + 63 + 62 + 61);
  g_object_unref (pool);

  /* Resized: a carved block grows out of its chunk and out of a narrow
   * entry, and keeps its place. */
  pool = cymem_pool_new ();
  prime (pool);
  for (guint i = 0; i < G_N_ELEMENTS (carved); i++)
    {
      carved[i] = cymem_pool_alloc (pool, 1, 64);
      memset (carved[i], 'a' + i, 64);
    }
  big = cymem_pool_realloc (pool, carved[1], WIDE_SIZE);
  g_assert_true (pool->table.wide);
  g_assert_false (cymem_pool_owns (pool, carved[1]));
  g_assert_cmpuint (cymem_pool_get_block_size (pool, big), ==, WIDE_SIZE);
  g_assert_cmpuint (big[63], ==, 'b');
  g_assert_cmpuint (big[64], ==, 0);
  memset (&walk, 0, sizeof walk);
  walk.pool = pool;
  cymem_pool_foreach (pool, wide_walk, &walk);
  g_assert_cmpuint (walk.n, ==, 4);
  g_assert_true (walk.blocks[1] == big && walk.sizes[1] == WIDE_SIZE);
  g_object_unref (pool);

  /* Resized while a walk pins the pool: the entry is widened in place. */
  pool = cymem_pool_new ();
  prime (pool);
  for (guint i = 0; i < G_N_ELEMENTS (carved); i++)
    carved[i] = cymem_pool_alloc (pool, 1, 64);
  memset (&walk, 0, sizeof walk);
  walk.pool = pool;
  walk.resize = carved[2];
  cymem_pool_foreach (pool, wide_walk, &walk);
  g_assert_true (pool->table.wide);
  g_assert_cmpuint (walk.n, ==, 4);
  g_assert_true (cymem_pool_owns (pool, walk.resized));
  g_assert_false (cymem_pool_owns (pool, carved[2]));
  g_assert_cmpuint (cymem_pool_get_block_size (pool, walk.resized), ==, WIDE_SIZE);
  g_assert_cmpuint (cymem_pool_get_n_allocations (pool), ==, 4);
  walk.n = 0;
  walk.resize = NULL;
  cymem_pool_foreach (pool, wide_walk, &walk);
  g_assert_cmpuint (walk.n, ==, 4);
  g_assert_true (walk.blocks[2] == walk.resized && walk.sizes[2] == WIDE_SIZE);
  g_object_unref (pool);
}

/* A table widened out of its own two entries has no index yet: the block
 * that widened it is found by a search. Compacting that table (once its
 * entries array is full and half holes) must keep it so, not index into
 * an index it does not have (found by the fuzzer). */
static void
test_chunks_wide_compact (void)
{
  CymemPool *pool = cymem_pool_new ();
  guint8 *carved[40], *big;
  guint n = 0;

  g_test_summary ("A table widened before it had an index compacts without "
                  "losing its uncarved block or touching a missing index");
  prime (pool);
  /* A cleared table has neither entries array nor index (but a heap). */
  cymem_pool_clear (pool);
  big = cymem_pool_alloc (pool, 1, 64);
  g_assert_true (cymem_chunk_contains (big));
  big = cymem_pool_realloc (pool, big, WIDE_SIZE);
  memset (big, 'w', WIDE_SIZE);
  g_assert_true (pool->table.wide);
  /* Fill the entries array, then free half of it: holes to squeeze. */
  while (pool->table.entries == NULL ||
         pool->table.n_entries < pool->table.entries_capacity)
    {
      g_assert_cmpuint (n, <, G_N_ELEMENTS (carved));
      carved[n] = cymem_pool_alloc (pool, 1, 32);
      g_assert_true (cymem_chunk_contains (carved[n]));
      n++;
    }
  /* The oldest half: freeing the newest entry would shorten the array. */
  for (guint i = 0; i <= n / 2; i++)
    cymem_pool_free (pool, carved[i]);
  /* What the next allocation meets: a full array, half holes, no index. */
  g_assert_null (pool->table.slots);
  g_assert_cmpuint (pool->table.n_entries, ==, pool->table.entries_capacity);
  g_assert_cmpuint (pool->table.n_holes, >=, pool->table.n_entries / 2);
  for (guint i = 0; i <= n / 2; i++)
    {
      carved[i] = cymem_pool_alloc (pool, 1, 32);
      memset (carved[i], 'c', 32);
    }

  g_assert_true (cymem_pool_owns (pool, big));
  g_assert_cmpuint (cymem_pool_get_block_size (pool, big), ==, WIDE_SIZE);
  g_assert_cmpuint (big[WIDE_SIZE - 1], ==, 'w');
  g_assert_cmpuint (cymem_pool_get_n_allocations (pool), ==, n + 1);
  for (guint i = 0; i < n; i++)
    g_assert_cmpuint (cymem_pool_get_block_size (pool, carved[i]), ==, 32);
  big = cymem_pool_realloc (pool, big, 2 * WIDE_SIZE);
  g_assert_cmpuint (big[WIDE_SIZE - 1], ==, 'w');
  cymem_pool_free (pool, big);
  g_assert_false (cymem_pool_owns (pool, big));
  g_assert_cmpuint (cymem_pool_get_n_allocations (pool), ==, n);
  g_object_unref (pool);
}

static void
test_chunks_wide_steal_failure (void)
{
  CymemPool *from = cymem_pool_new ();
  CymemPool *to = cymem_pool_new ();
  gpointer big = cymem_pool_alloc (from, 1, WIDE_SIZE);

  g_test_summary ("A steal into a pool whose table must widen, when the "
                  "table's arrays cannot be had, fails and changes neither "
                  "pool (found by adversarial review: it lost the block when "
                  "the index failed after the widening)");
  for (gint allowed = 0; allowed < 3; allowed++)
    {
      gboolean stolen;

      cymem_table_fail_allocs_after (allowed);
      stolen = cymem_pool_steal (to, from, big);
      cymem_table_fail_allocs_after (-1);
      if (stolen)
        {
          /* Enough arrays this time: it moved, whole. */
          g_assert_true (cymem_pool_owns (to, big));
          g_assert_cmpuint (cymem_pool_get_size (to), ==, WIDE_SIZE);
          g_assert_cmpuint (cymem_pool_get_n_allocations (to), ==, 1);
          g_assert_false (cymem_pool_owns (from, big));
          break;
        }
      g_assert_true (cymem_pool_owns (from, big));
      g_assert_false (cymem_pool_owns (to, big));
      g_assert_cmpuint (cymem_pool_get_size (from), ==, WIDE_SIZE);
      g_assert_cmpuint (cymem_pool_get_size (to), ==, 0);
      g_assert_cmpuint (cymem_pool_get_n_allocations (to), ==, 0);
    }
  g_assert_true (cymem_pool_owns (to, big));
  g_object_unref (from);
  g_object_unref (to);
}

/* Chunks are mapped 2 MiB at a time, aligned to 2 MiB, which asks for
 * 4 MiB of address space; where that is refused, one chunk is mapped
 * instead and blocks are still carved (not malloc()ed). */
static void
test_chunks_map_fallback (void)
{
  g_test_summary ("Under an address-space limit that refuses a 2 MiB batch "
                  "of chunks, a pool still carves its blocks from chunks "
                  "mapped one at a time");
#ifdef HAVE_VALGRIND
  if (RUNNING_ON_VALGRIND)
    {
      g_test_skip ("valgrind manages the address space itself");
      return;
    }
#endif
  if (g_test_subprocess ())
    {
      CymemPool *pool = cymem_pool_new ();
      struct rlimit limit, old_limit;
      gchar *status = NULL;
      guint64 vm_kb;
      GPtrArray *blocks = g_ptr_array_new ();

      prime (pool);
      cymem_trim ();   /* nothing cached: the next chunk is mapped */
      g_assert_true (g_file_get_contents ("/proc/self/status", &status, NULL, NULL));
      g_assert_nonnull (strstr (status, "VmSize:"));
      vm_kb = g_ascii_strtoull (strstr (status, "VmSize:") + 7, NULL, 10);
      g_free (status);
      /* Room for a chunk, the registry's leaf and the table, not for the
       * 4 MiB a batch asks for (the soft limit only, lifted again for
       * LeakSanitizer's exit). */
      g_assert_no_errno (getrlimit (RLIMIT_AS, &old_limit));
      limit = old_limit;
      limit.rlim_cur = vm_kb * 1024 + (3 << 20);
      g_assert_no_errno (setrlimit (RLIMIT_AS, &limit));
      /* Two chunks' worth of 64-byte blocks. */
      for (guint i = 0; i < 1500; i++)
        {
          guint8 *mem = cymem_pool_alloc (pool, 1, 64);

          g_assert_true (cymem_chunk_contains (mem));
          g_assert_true (all_zero (mem, 64));
          memset (mem, 0xa5, 64);
          g_ptr_array_add (blocks, mem);
        }
      g_assert_cmpuint (count_chunks (pool), ==, 2);
      for (guint i = 0; i < blocks->len; i += 2)
        cymem_pool_free (pool, blocks->pdata[i]);
      g_assert_cmpuint (cymem_pool_get_n_allocations (pool), ==, 750);
      g_assert_no_errno (setrlimit (RLIMIT_AS, &old_limit));
      g_ptr_array_unref (blocks);
      g_object_unref (pool);
      cymem_trim ();
      return;
    }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDERR);
  g_test_trap_assert_passed ();
}

/* Anonymous resident kilobytes of this process, from /proc/self/status. */
static guint64
rss_anon_kb (void)
{
  g_autofree gchar *status = NULL;
  const gchar *line;

  g_assert_true (g_file_get_contents ("/proc/self/status", &status, NULL, NULL));
  line = strstr (status, "RssAnon:");
  g_assert_nonnull (line);
  return g_ascii_strtoull (line + strlen ("RssAnon:"), NULL, 10);
}

/* Memory tools map and keep memory of their own (valgrind manages the
 * address space itself, the sanitizers keep shadow pages), which the
 * map count and resident memory figures of these tests would count. */
static gboolean
skip_under_memory_tools (void)
{
#ifdef HAVE_VALGRIND
  if (RUNNING_ON_VALGRIND)
    {
      g_test_skip ("valgrind manages the address space itself");
      return TRUE;
    }
#endif
#if defined(CYMEM_ASAN) || defined(__SANITIZE_THREAD__)
  g_test_skip ("sanitizers map and keep memory of their own");
  return TRUE;
#else
  return FALSE;
#endif
}

/* At the map count limit, munmap() of part of a mapping fails (it would
 * split it): the chunks a dying pool releases must not be lost then. Their
 * pages are given back at once, and they are unmapped later. */
static void
test_chunks_unmap_refused (void)
{
  g_test_summary ("When munmap() is refused at the map count limit, a dead "
                  "pool's chunks still give their memory back, and are "
                  "unmapped once the limit is gone");
  if (skip_under_memory_tools ())
    return;
  if (g_test_subprocess ())
    {
      CymemPool *pool = cymem_pool_new ();
      GPtrArray *filler = g_ptr_array_new (), *blocks = g_ptr_array_new ();
      guint64 start_kb;
      gsize page = (gsize) sysconf (_SC_PAGESIZE);

      prime (pool);
      cymem_trim ();
      start_kb = rss_anon_kb ();
      /* Chunks of two classes in turn, so that emptying those of one class
       * leaves holes in the middle of mappings. */
      for (guint i = 0; i < 100000; i++)
        {
          memset (cymem_pool_alloc (pool, 1, 64), 1, 64);
          g_ptr_array_add (blocks, memset (cymem_pool_alloc (pool, 1, 128), 1, 128));
        }
      g_assert_cmpuint (rss_anon_kb (), >, start_kb + (15 << 10));

      /* Single pages, alternately readable and not so that neighbours do
       * not merge, until the kernel refuses another mapping. */
      for (guint i = 0;; i++)
        {
          gpointer map = mmap (NULL, page, i % 2 ? PROT_READ : PROT_NONE,
                               MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

          if (map == MAP_FAILED)
            break;
          g_ptr_array_add (filler, map);
        }
      g_assert_cmpuint (filler->len, >, 0);

      /* The emptied chunks past the cache's 4 MiB cannot be unmapped
       * without a split; nor can the rest once the pool dies. */
      for (guint i = 0; i < blocks->len; i++)
        cymem_pool_free (pool, blocks->pdata[i]);
      g_ptr_array_unref (blocks);
      g_object_unref (pool);
      cymem_trim ();
      g_assert_cmpuint (rss_anon_kb (), <, start_kb + (6 << 10));

      for (guint i = 0; i < filler->len; i++)
        munmap (filler->pdata[i], page);
      g_ptr_array_unref (filler);
      cymem_trim ();
      g_assert_cmpuint (cymem_chunk_cached_bytes (), ==, 0);
      g_assert_cmpuint (rss_anon_kb (), <, start_kb + (2 << 10));
      return;
    }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDERR);
  g_test_trap_assert_passed ();
}

/* The same with every unmap of whole batches refused (the kernel does not
 * do that, but it must not matter): the pages come back all the same, and
 * writing a kept chunk's cache link must not fault a huge page back in. */
static void
test_chunks_unmap_refused_whole (void)
{
  g_test_summary ("With every munmap() of chunks refused, a dead pool's "
                  "chunks still give their memory back, huge pages included");
  if (skip_under_memory_tools ())
    return;
  if (g_test_subprocess ())
    {
      CymemPool *pool = cymem_pool_new ();
      guint64 start_kb;

      prime (pool);
      cymem_trim ();
      start_kb = rss_anon_kb ();
      for (guint i = 0; i < 300000; i++)
        memset (cymem_pool_alloc (pool, 1, 64), 1, 64);
      g_assert_cmpuint (rss_anon_kb (), >, start_kb + (15 << 10));
      cymem_chunk_refuse_unmaps (TRUE);
      g_object_unref (pool);
      cymem_trim ();
      /* The cache's 4 MiB went in the trim too; a page a kept chunk stays. */
      g_assert_cmpuint (rss_anon_kb (), <, start_kb + (3 << 10));
      g_assert_cmpuint (cymem_chunk_cached_bytes (), >, 0);
      cymem_chunk_refuse_unmaps (FALSE);
      cymem_trim ();
      g_assert_cmpuint (cymem_chunk_cached_bytes (), ==, 0);
      return;
    }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDERR);
  g_test_trap_assert_passed ();
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  /* The suite also runs with CYMEM_DEBUG=malloc: then no block is carved.
   * (Read here, not through cymem_heap_enabled(), which would fix the
   * answer before the debug-malloc subprocess sets the variable.) */
  if (g_getenv ("CYMEM_DEBUG") != NULL && strstr (g_getenv ("CYMEM_DEBUG"), "malloc") != NULL)
    {
      g_test_add_func ("/Cymem/Chunks/custom-allocator", test_chunks_custom_allocator);
      g_test_add_func ("/Cymem/Chunks/debug-malloc", test_chunks_debug_malloc);
      g_test_add_func ("/Cymem/Chunks/threads-borrow", test_chunks_threads_borrow);
      return g_test_run ();
    }

  g_test_add_func ("/Cymem/Chunks/carve", test_chunks_carve);
  g_test_add_func ("/Cymem/Chunks/sizes", test_chunks_sizes);
  g_test_add_func ("/Cymem/Chunks/zero-reuse", test_chunks_zero_reuse);
  g_test_add_func ("/Cymem/Chunks/free-refusals", test_chunks_free_refusals);
  g_test_add_func ("/Cymem/Chunks/free-newest", test_chunks_free_newest);
  g_test_add_func ("/Cymem/Chunks/extra-lazy", test_chunks_extra_lazy);
  g_test_add_func ("/Cymem/Chunks/release-empty", test_chunks_release_empty);
  g_test_add_func ("/Cymem/Chunks/steal-outlives-owner", test_chunks_steal_outlives_owner);
  g_test_add_func ("/Cymem/Chunks/steal-returned", test_chunks_steal_returned);
  g_test_add_func ("/Cymem/Chunks/steal-home", test_chunks_steal_home);
  g_test_add_func ("/Cymem/Chunks/custom-allocator", test_chunks_custom_allocator);
  g_test_add_func ("/Cymem/Chunks/debug-malloc", test_chunks_debug_malloc);
  g_test_add_func ("/Cymem/Chunks/trim", test_chunks_trim);
  g_test_add_func ("/Cymem/Chunks/steal-shrinks", test_chunks_steal_shrinks);
  g_test_add_func ("/Cymem/Chunks/stale-pointers", test_chunks_stale_pointers);
  g_test_add_func ("/Cymem/Chunks/threads-borrow", test_chunks_threads_borrow);
  g_test_add_func ("/Cymem/Chunks/wide-entries", test_chunks_wide_entries);
  g_test_add_func ("/Cymem/Chunks/wide-compact", test_chunks_wide_compact);
  g_test_add_func ("/Cymem/Chunks/wide-steal-failure", test_chunks_wide_steal_failure);
  g_test_add_func ("/Cymem/Chunks/map-fallback", test_chunks_map_fallback);
  g_test_add_func ("/Cymem/Chunks/unmap-refused", test_chunks_unmap_refused);
  g_test_add_func ("/Cymem/Chunks/unmap-refused-whole", test_chunks_unmap_refused_whole);

  return g_test_run ();
}
