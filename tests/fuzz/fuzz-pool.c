/* fuzz-pool.c: a model-checked fuzzer for CymemPool
 *
 * SPDX-License-Identifier: MIT
 *
 * The input is decoded into a sequence of pool operations on a few pools:
 * two on a counting allocator (the second a child of the first), two on the
 * default allocator, whose small blocks are carved from chunks. A simple
 * model (for each pool, its blocks with their sizes, contents and whether
 * they came from a chunk, its limit and cleanups) predicts every result:
 * which calls succeed, which are refused with a critical or a GError. After
 * every step the pools must agree with the model, and the counting allocator
 * must show exactly the model's blocks alive; at the end, everything freed
 * once. Blocks stolen between the two default pools stay in their chunks,
 * lent, and outlive their first pool when it is replaced.
 *
 * Built with -fsanitize=fuzzer as a libFuzzer target, or with
 * fuzz-replay.c as a program that replays the corpus in tests/fuzz/corpus.
 * Both compile the library in, to ask which blocks were carved.
 */

#include "config.h"

#include <string.h>

#include "cymem-pool-private.h"
#include "cymem-table-private.h"

#include "../counting-allocator.h"

#define N_POOLS   4   /* 0: counting; 1: counting, child of 0; 2, 3: default */
#define MAX_SIZE  512

typedef struct
{
  guint8 *mem;
  gsize   n_bytes;
  guint8  fill;     /* every byte of the block holds this value */
  gboolean carved;  /* from a chunk */
} ModelBlock;

typedef struct
{
  CymemPool *pool;
  GArray    *blocks;    /* ModelBlock */
  guint64    limit;
  guint      cleanups;  /* registered and not yet run */
} ModelPool;

typedef struct
{
  const guint8 *data;
  gsize         len;
  gsize         pos;
} Input;

static ModelPool pools[N_POOLS];
static guint8 *last_freed;  /* the last block freed, to try freeing again */
static guint criticals;
static guint cleanups_run;

static guint8
next (Input *in)
{
  return in->pos < in->len ? in->data[in->pos++] : 0;
}

static void
count_critical (const gchar    *domain,
                GLogLevelFlags  level,
                const gchar    *message,
                gpointer        user_data)
{
  criticals++;
}

/* Runs @call and checks it logged exactly @expected criticals. */
#define EXPECT_CRITICALS(expected, call) \
  G_STMT_START { \
    guint before_ = criticals; \
    call; \
    g_assert_cmpuint (criticals - before_, ==, (expected)); \
  } G_STMT_END

static void
count_cleanup (gpointer data)
{
  cleanups_run++;
}

static gsize
model_size (ModelPool *mp)
{
  gsize total = 0;

  for (guint i = 0; i < mp->blocks->len; i++)
    total += g_array_index (mp->blocks, ModelBlock, i).n_bytes;
  return total;
}

static gboolean
is_counting (guint p)
{
  return p < 2;
}

/* The default pools are made past the blocks they make with malloc(): all
 * their blocks up to CYMEM_HEAP_MAX bytes come from chunks. */
static gboolean
expect_carved (guint  p,
               gsize  n_bytes)
{
  return !is_counting (p) && n_bytes <= CYMEM_HEAP_MAX && cymem_heap_enabled ();
}

static CymemPool *
default_pool_new (void)
{
  CymemPool *pool = cymem_pool_new ();

  for (guint i = 0; i < CYMEM_HEAP_START; i++)
    cymem_pool_free (pool, cymem_pool_alloc (pool, 1, 16));
  return pool;
}

/* Pool 1 is pool 0's child until pool 0 is cleared (its cleanups release
 * the child, which the fuzzer keeps alive). A limit bounds a pool's own
 * blocks and its descendants'. */
static gboolean child_linked;

static gsize
model_total (guint p)
{
  return model_size (&pools[p]) + (p == 0 && child_linked ? model_size (&pools[1]) : 0);
}

static void
check_model (void)
{
  guint counting_blocks = 0;

  for (guint p = 0; p < N_POOLS; p++)
    {
      ModelPool *mp = &pools[p];

      g_assert_cmpuint (cymem_pool_get_n_allocations (mp->pool), ==, mp->blocks->len);
      g_assert_cmpuint (cymem_pool_get_size (mp->pool), ==, model_size (mp));
      g_assert_cmpuint (cymem_pool_get_total_size (mp->pool), ==, model_total (p));
      g_assert_cmpuint (cymem_pool_get_limit (mp->pool), ==, mp->limit);
      for (guint i = 0; i < mp->blocks->len; i++)
        {
          ModelBlock *b = &g_array_index (mp->blocks, ModelBlock, i);

          g_assert_true (cymem_pool_owns (mp->pool, b->mem));
          g_assert_cmpuint (cymem_pool_get_block_size (mp->pool, b->mem), ==, b->n_bytes);
          g_assert_cmpint (cymem_chunk_contains (b->mem), ==, b->carved);
          /* Every byte of a small block; of a big one (op_big) the ends
           * and every 61st, which keeps a run of inputs as fast. */
          for (gsize j = 0; j < b->n_bytes; j += b->n_bytes <= 1024 || j < 64 ? 1 : 61)
            g_assert_cmpuint (b->mem[j], ==, b->fill);
          if (b->n_bytes > 0)
            g_assert_cmpuint (b->mem[b->n_bytes - 1], ==, b->fill);
          if (is_counting (p))
            g_assert_true (counting_is_live (b->mem));
        }
      if (is_counting (p))
        counting_blocks += mp->blocks->len;
    }
  g_assert_cmpuint (counting_n_live (), ==, counting_blocks);
}

static void
model_add (guint p, gpointer mem, gsize n_bytes, guint8 fill)
{
  ModelBlock b = { mem, n_bytes, fill, expect_carved (p, n_bytes) };

  memset (mem, fill, n_bytes);
  g_array_append_val (pools[p].blocks, b);
}

static gboolean
under_limit (guint p, gsize grow)
{
  /* Growing by nothing never exceeds the limit, even a lowered one. */
  return pools[p].limit == 0 || grow == 0 || model_total (p) + grow <= pools[p].limit;
}

/* Whether pool @p may grow by @grow bytes coming from pool @from (-1 for
 * new bytes): a move within a subtree does not change its total. */
static gboolean
fits_limit_from (guint p, gsize grow, gint from)
{
  gboolean ok = TRUE;

  if (!(p == 0 && from == 1 && child_linked))
    ok = ok && under_limit (p, grow);
  if (p == 1 && child_linked && from != 0)
    ok = ok && under_limit (0, grow);
  return ok;
}

static gboolean
fits_limit (guint p, gsize grow)
{
  return fits_limit_from (p, grow, -1);
}

static void
op_alloc (Input *in, guint p)
{
  gsize n = next (in) * 2 % MAX_SIZE;
  gboolean fail = is_counting (p) && next (in) % 8 == 0;
  gboolean expected = fits_limit (p, n) && !fail;
  gpointer mem;

  if (fail && fits_limit (p, n))
    counting_fail_at (1);
  mem = cymem_pool_try_alloc (pools[p].pool, 1, n);
  counting_fail_at (0);
  g_assert_true ((mem != NULL) == expected);
  if (mem != NULL)
    model_add (p, mem, n, (guint8) in->pos);
}

static void
op_huge (guint p)
{
  g_assert_null (cymem_pool_try_alloc (pools[p].pool, G_MAXSIZE / 2, 3));
  g_assert_null (cymem_pool_try_alloc (pools[p].pool, 1, G_MAXSIZE));
}

static ModelBlock *
pick (Input *in, guint p, guint *index)
{
  ModelPool *mp = &pools[p];

  if (mp->blocks->len == 0)
    return NULL;
  *index = next (in) % mp->blocks->len;
  return &g_array_index (mp->blocks, ModelBlock, *index);
}

/* Resizes @b to @n bytes and checks the contents moved with it. */
static void
model_realloc (guint p, ModelBlock *b, gsize n)
{
  guint8 *grown = cymem_pool_try_realloc (pools[p].pool, b->mem, n);

  g_assert_true ((grown != NULL) == (n <= b->n_bytes || fits_limit (p, n - b->n_bytes)));
  if (grown == NULL)
    return;
  for (gsize j = 0; j < n; j++)
    g_assert_cmpuint (grown[j], ==, j < b->n_bytes ? b->fill : 0);
  b->mem = grown;
  b->n_bytes = n;
  b->carved = expect_carved (p, n);
  memset (grown, b->fill, n);
}

static void
op_realloc (Input *in, guint p)
{
  guint i;
  ModelBlock *b = pick (in, p, &i);
  /* Sometimes past the largest chunk-carved size. */
  gsize n = next (in) * 5 % (2 * MAX_SIZE);

  if (b != NULL)
    model_realloc (p, b, n);
}

/* A block of 16,383 to about 32 KiB, made or grown to: from 16 KiB a
 * table's entries no longer fit one word, and it widens for good. */
static void
op_big (Input *in, guint p)
{
  gsize n = 16383 + (gsize) next (in) * 64;
  guint i;
  ModelBlock *b = next (in) % 2 ? pick (in, p, &i) : NULL;
  gpointer mem;

  if (b != NULL)
    {
      model_realloc (p, b, n);
      return;
    }
  mem = cymem_pool_try_alloc (pools[p].pool, 1, n);
  g_assert_true ((mem != NULL) == fits_limit (p, n));
  if (mem != NULL)
    model_add (p, mem, n, (guint8) in->pos);
}

static void
op_free (Input *in, guint p)
{
  guint i;
  ModelBlock *b = pick (in, p, &i);

  if (b == NULL)
    return;
  EXPECT_CRITICALS (0, cymem_pool_free (pools[p].pool, b->mem));
  last_freed = b->mem;
  g_array_remove_index (pools[p].blocks, i);
}

/* free, realloc and get_block_size of pointers the pool does not own:
 * another pool's block, an interior pointer, a stack address. */
static void
op_misuse (Input *in, guint p)
{
  guint other = (p + 1 + next (in) % (N_POOLS - 1)) % N_POOLS;
  guint i;
  ModelBlock *b = pick (in, other, &i);
  guint8 on_stack[4];
  gpointer bad[4] = { on_stack, NULL, NULL, NULL };

  if (b != NULL)
    bad[1] = b->mem;
  b = pick (in, p, &i);
  if (b != NULL && b->n_bytes > 1)
    bad[2] = b->mem + 1;
  /* A block freed earlier (a free slot of a chunk, or reused since by
   * another pool's block). */
  if (last_freed != NULL)
    {
      gboolean owned = FALSE;

      for (guint k = 0; k < pools[p].blocks->len; k++)
        owned |= g_array_index (pools[p].blocks, ModelBlock, k).mem == last_freed;
      if (!owned)
        bad[3] = last_freed;
    }

  for (guint k = 0; k < G_N_ELEMENTS (bad); k++)
    {
      if (bad[k] == NULL)
        continue;
      EXPECT_CRITICALS (1, cymem_pool_free (pools[p].pool, bad[k]));
      EXPECT_CRITICALS (1, g_assert_null (cymem_pool_try_realloc (pools[p].pool, bad[k], 8)));
      EXPECT_CRITICALS (1, g_assert_cmpuint (cymem_pool_get_block_size (pools[p].pool, bad[k]), ==, 0));
      g_assert_false (cymem_pool_owns (pools[p].pool, bad[k]));
    }
}

static void
op_steal (Input *in, guint p)
{
  guint from = next (in) % N_POOLS;
  guint i;
  ModelBlock *b = pick (in, from, &i);
  gboolean same_allocator = is_counting (p) == is_counting (from);
  gboolean ok;
  ModelBlock moved;

  if (b == NULL || from == p)
    return;
  moved = *b;

  if (!same_allocator)
    {
      EXPECT_CRITICALS (1, ok = cymem_pool_steal (pools[p].pool, pools[from].pool, b->mem));
      g_assert_false (ok);
      return;
    }

  EXPECT_CRITICALS (0, ok = cymem_pool_steal (pools[p].pool, pools[from].pool, b->mem));
  g_assert_true (ok == fits_limit_from (p, b->n_bytes, (gint) from));
  if (ok)
    {
      g_array_remove_index (pools[from].blocks, i);
      g_array_append_val (pools[p].blocks, moved);
    }
}

static void
op_clear (guint p)
{
  guint expected = cleanups_run + pools[p].cleanups;

  cymem_pool_clear (pools[p].pool);
  if (p == 0)
    child_linked = FALSE;
  g_assert_cmpuint (cleanups_run, ==, expected);
  pools[p].cleanups = 0;
  g_array_set_size (pools[p].blocks, 0);
}

static void
op_own (guint p)
{
  cymem_pool_own (pools[p].pool, NULL, count_cleanup);
  pools[p].cleanups++;
}

static void
op_limit (Input *in, guint p)
{
  guint8 v = next (in);

  pools[p].limit = v < 64 ? 0 : (guint64) v * 8;
  cymem_pool_set_limit (pools[p].pool, pools[p].limit);
}

static void
op_strings (Input *in, guint p)
{
  gchar text[32];
  gsize n = next (in) % sizeof text;
  gchar *copy;

  for (gsize j = 0; j < n; j++)
    text[j] = 'a' + next (in) % 26;
  text[n] = '\0';

  copy = cymem_pool_strdup (pools[p].pool, text);
  g_assert_true ((copy != NULL) == fits_limit (p, n + 1));
  if (copy == NULL)
    return;
  g_assert_cmpstr (copy, ==, text);
  /* The model wants uniform blocks: overwrite with the fill byte. */
  model_add (p, copy, n + 1, (guint8) n);
}

static void
op_binding (Input *in, guint p)
{
  guint i;
  ModelBlock *b = pick (in, p, &i);
  gsize offset = next (in) % (MAX_SIZE + 8);
  gsize length = next (in) % 64;
  gboolean huge = next (in) % 4 == 0;
  gboolean inside;
  GError *error = NULL;
  GBytes *bytes;
  guint8 data[64];

  if (b == NULL)
    return;
  if (huge)
    length = G_MAXSIZE - offset / 2;   /* offset + length wraps */
  inside = offset <= b->n_bytes && length <= b->n_bytes - offset;

  bytes = cymem_pool_read (pools[p].pool, (guintptr) b->mem, offset, length, &error);
  g_assert_true ((bytes != NULL) == inside);
  if (inside)
    {
      gsize got;
      const guint8 *d = g_bytes_get_data (bytes, &got);

      g_assert_cmpuint (got, ==, length);
      for (gsize j = 0; j < got; j++)
        g_assert_cmpuint (d[j], ==, b->fill);
      g_bytes_unref (bytes);
    }
  else
    g_assert_error (error, CYMEM_POOL_ERROR, CYMEM_POOL_ERROR_OUT_OF_BOUNDS);
  g_clear_error (&error);

  /* Write the block's own fill back: contents stay as the model says. */
  memset (data, b->fill, sizeof data);
  g_assert_true (cymem_pool_write (pools[p].pool, (guintptr) b->mem, offset,
                                   data, huge ? 0 : length, &error) ==
                 (offset <= b->n_bytes && (huge || length <= b->n_bytes - offset)));
  g_clear_error (&error);

  g_assert_false (cymem_pool_free_address (pools[p].pool, (guintptr) b->mem + 1, &error));
  g_assert_error (error, CYMEM_POOL_ERROR, CYMEM_POOL_ERROR_UNKNOWN_ADDRESS);
  g_clear_error (&error);
}

/* A default pool dies and another takes its place; blocks the other
 * default pool stole from it live on in its chunks. */
static void
op_replace (guint p)
{
  guint expected = cleanups_run + pools[p].cleanups;

  if (is_counting (p))
    return;
  g_object_unref (pools[p].pool);
  g_assert_cmpuint (cleanups_run, ==, expected);
  pools[p].pool = default_pool_new ();
  pools[p].cleanups = 0;
  pools[p].limit = 0;
  g_array_set_size (pools[p].blocks, 0);
}

static void
op_attach (Input *in, guint p)
{
  GObject *owner = g_object_new (G_TYPE_OBJECT, NULL);

  cymem_pool_attach (pools[p].pool, owner);
  g_assert_true (cymem_pool_get_for_object (owner) == pools[p].pool);
  if (next (in) % 2)
    cymem_pool_detach (pools[p].pool, owner);
  /* Owner death drops only the owner's reference: the pool lives on. */
  g_object_unref (owner);
}

int LLVMFuzzerTestOneInput (const guint8 *data, size_t size);

int
LLVMFuzzerTestOneInput (const guint8 *data,
                        size_t        size)
{
  Input in = { data, size, 0 };
  static gboolean initialized;

  if (!initialized)
    {
      g_log_set_handler ("Cymem", G_LOG_LEVEL_CRITICAL, count_critical, NULL);
      /* Entries arrays from 256 entries (not 4,096) are reservations grown
       * in place, so that inputs of a few hundred blocks reach them. */
      cymem_table_set_long_layout (256);
      initialized = TRUE;
    }

  counting_reset ();
  cleanups_run = 0;
  pools[0].pool = cymem_pool_new_with_allocator (counting_malloc, counting_free);
  pools[1].pool = g_object_ref (cymem_pool_new_child (pools[0].pool));
  child_linked = TRUE;
  pools[2].pool = default_pool_new ();
  pools[3].pool = default_pool_new ();
  last_freed = NULL;
  for (guint p = 0; p < N_POOLS; p++)
    {
      pools[p].blocks = g_array_new (FALSE, FALSE, sizeof (ModelBlock));
      pools[p].limit = 0;
      pools[p].cleanups = 0;
    }

  for (guint step = 0; in.pos < in.len && step < 400; step++)
    {
      guint8 op = next (&in);
      guint p = next (&in) % N_POOLS;

      switch (op % 15)
        {
        case 0: case 1: op_alloc (&in, p); break;
        case 2: op_huge (p); break;
        case 3: op_realloc (&in, p); break;
        case 4: op_free (&in, p); break;
        case 5: op_misuse (&in, p); break;
        case 6: op_steal (&in, p); break;
        case 7: op_clear (p); break;
        case 8: op_own (p); break;
        case 9: op_limit (&in, p); break;
        case 10: op_strings (&in, p); break;
        case 11: op_binding (&in, p); break;
        case 12: op_attach (&in, p); break;
        case 13: op_replace (p); break;
        default: op_big (&in, p); break;
        }
      check_model ();
    }

  /* Teardown: every cleanup runs once, every block is freed once. */
  {
    guint expected = cleanups_run + pools[0].cleanups + pools[1].cleanups +
                     pools[2].cleanups + pools[3].cleanups;

    g_object_unref (pools[3].pool);
    g_object_unref (pools[2].pool);
    g_object_unref (pools[1].pool);   /* pool 0 still owns the child */
    g_object_unref (pools[0].pool);   /* ... until now */
    g_assert_cmpuint (cleanups_run, ==, expected);
  }
  for (guint p = 0; p < N_POOLS; p++)
    g_array_unref (pools[p].blocks);
  g_assert_cmpuint (counting_n_live (), ==, 0);
  g_assert_cmpuint (counting_n_frees (), ==, counting_n_mallocs ());

  return 0;
}
