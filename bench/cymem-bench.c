/* cymem-bench.c: CymemPool against calloc, g_malloc0, talloc and APR pools
 *
 * SPDX-License-Identifier: MIT
 *
 * Prints one CSV row per measurement:
 *   allocator,workload,phase,block_size,n,ns_per_block,runs
 * where ns_per_block is the median over the runs. bench/run.py adds cymem's
 * Pool (from Cython), computes ratios and draws the table.
 *
 * With --callgrind, each selected case runs once with callgrind's collection
 * switched on only around the measured region; run.py reads the instruction
 * counts from callgrind's output.
 *
 * Built a second time as cymem-bench-mimalloc, with mimalloc's heaps as the
 * only allocator (see CYMEM_BENCH_MIMALLOC below).
 *
 * Workloads:
 *   W1  alloc + free one block, n times
 *   W2  alloc n blocks, then release them all by the bulk path
 *   W3  alloc n blocks, free a random half (fixed seed), then teardown
 *   W4  W1 and W2 from 4 threads sharing one allocator
 */

#include "config.h"

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cymem-glib/cymem-glib.h>

#ifdef HAVE_TALLOC
#include <talloc.h>
#endif
#ifdef HAVE_APR
#include <apr_pools.h>
#endif
#ifdef CYMEM_BENCH_MIMALLOC
#include <mimalloc.h>
#endif
#ifdef HAVE_CALLGRIND_H
#include <valgrind/callgrind.h>
#else
#define CALLGRIND_ZERO_STATS
#define CALLGRIND_DUMP_STATS_AT(label) ((void) (label))
#endif


typedef struct
{
  const char *name;
  gboolean    can_free_one;   /* APR cannot free a single block */
  gboolean    thread_safe;
  gpointer  (*ctx_new)   (void);
  gpointer  (*alloc)     (gpointer ctx, gsize n_bytes);
  void      (*free_one)  (gpointer ctx, gpointer mem);
  /* Releases every block still live and the context itself. @blocks lists
   * all blocks in allocation order, NULL where one was freed, for the
   * allocators that have no bulk path of their own. */
  void      (*teardown)  (gpointer ctx, gpointer *blocks, gsize n);
} Allocator;

#ifndef CYMEM_BENCH_MIMALLOC
/* --- raw calloc + free, and g_malloc0 + g_free --- */

static gpointer none_ctx_new (void) { return NULL; }

static gpointer calloc_alloc (gpointer ctx, gsize n) { return calloc (1, n); }
static void calloc_free (gpointer ctx, gpointer mem) { free (mem); }
static gpointer gmalloc_alloc (gpointer ctx, gsize n) { return g_malloc0 (n); }
static void gmalloc_free (gpointer ctx, gpointer mem) { g_free (mem); }

static void
list_teardown_free (gpointer ctx, gpointer *blocks, gsize n)
{
  for (gsize i = 0; i < n; i++)
    free (blocks[i]);
}

static void
list_teardown_gfree (gpointer ctx, gpointer *blocks, gsize n)
{
  for (gsize i = 0; i < n; i++)
    g_free (blocks[i]);
}

/* --- CymemPool --- */

static gpointer pool_ctx_new (void) { return cymem_pool_new (); }
static gpointer pool_ctx_new_custom (void) { return cymem_pool_new_with_allocator (malloc, free); }
static gpointer pool_alloc (gpointer ctx, gsize n) { return cymem_pool_alloc (ctx, 1, n); }
static void pool_free (gpointer ctx, gpointer mem) { cymem_pool_free (ctx, mem); }
static void pool_teardown (gpointer ctx, gpointer *blocks, gsize n) { g_object_unref (ctx); }

#ifdef HAVE_TALLOC
static gpointer talloc_ctx_new (void) { return talloc_new (NULL); }
static gpointer talloc_alloc (gpointer ctx, gsize n) { return talloc_zero_size (ctx, n); }
static void talloc_free_one (gpointer ctx, gpointer mem) { talloc_free (mem); }
static void talloc_teardown (gpointer ctx, gpointer *blocks, gsize n) { talloc_free (ctx); }
#endif

#ifdef HAVE_APR
static gpointer
apr_ctx_new (void)
{
  apr_pool_t *pool = NULL;

  apr_pool_create (&pool, NULL);
  return pool;
}
static gpointer apr_alloc (gpointer ctx, gsize n) { return apr_pcalloc (ctx, n); }
static void apr_teardown (gpointer ctx, gpointer *blocks, gsize n) { apr_pool_destroy (ctx); }
#endif

#endif

#ifdef CYMEM_BENCH_MIMALLOC
/* mimalloc's heaps: a heap is owned by the thread that made it, and
 * mi_heap_destroy() frees all its blocks at once. This program is built
 * apart (cymem-bench-mimalloc), since linking mimalloc replaces malloc for
 * the whole process: only this allocator's figures come from it. */
static gpointer mimalloc_ctx_new (void) { return mi_heap_new (); }
static gpointer mimalloc_alloc (gpointer ctx, gsize n) { return mi_heap_zalloc (ctx, n); }
static void mimalloc_free (gpointer ctx, gpointer mem) { mi_free (mem); }
static void mimalloc_teardown (gpointer ctx, gpointer *blocks, gsize n) { mi_heap_destroy (ctx); }

static const Allocator allocators[] = {
  { "mimalloc-heap", TRUE, FALSE, mimalloc_ctx_new, mimalloc_alloc, mimalloc_free, mimalloc_teardown },
};
#else
static const Allocator allocators[] = {
  { "calloc", TRUE, TRUE, none_ctx_new, calloc_alloc, calloc_free, list_teardown_free },
  { "g_malloc0", TRUE, TRUE, none_ctx_new, gmalloc_alloc, gmalloc_free, list_teardown_gfree },
  { "cymem-glib", TRUE, TRUE, pool_ctx_new, pool_alloc, pool_free, pool_teardown },
  { "cymem-glib-custom", TRUE, TRUE, pool_ctx_new_custom, pool_alloc, pool_free, pool_teardown },
#ifdef HAVE_TALLOC
  { "talloc", TRUE, FALSE, talloc_ctx_new, talloc_alloc, talloc_free_one, talloc_teardown },
#endif
#ifdef HAVE_APR
  { "apr", FALSE, FALSE, apr_ctx_new, apr_alloc, NULL, apr_teardown },
#endif
};
#endif

static gboolean use_callgrind;
/* Under callgrind each case runs once unmeasured first, so lazy symbol
 * binding and first-use initialisation stay out of the counts. */
static gboolean warming_up;

static gint64
now_ns (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (gint64) ts.tv_sec * G_GINT64_CONSTANT (1000000000) + ts.tv_nsec;
}

/* A measured region: under callgrind the counters are zeroed at its start
 * and dumped, labelled "allocator,workload,phase,size,n", at its end;
 * otherwise the clock is read. */
static gint64
region_begin (void)
{
  if (use_callgrind)
    {
      CALLGRIND_ZERO_STATS;
      return 0;
    }
  return now_ns ();
}

static gint64
region_end (const Allocator *a, const char *workload, const char *phase,
            gsize size, gsize n)
{
  if (use_callgrind && warming_up)
    return 0;
  if (use_callgrind)
    {
      g_autofree char *label =
        g_strdup_printf ("%s,%s,%s,%" G_GSIZE_FORMAT ",%" G_GSIZE_FORMAT,
                         a->name, workload, phase, size, n);
      CALLGRIND_DUMP_STATS_AT (label);
      return 0;
    }
  return now_ns ();
}

static void
emit (const Allocator *a, const char *workload, const char *phase,
      gsize size, gsize n, gdouble value, guint runs)
{
  printf ("%s,%s,%s,%" G_GSIZE_FORMAT ",%" G_GSIZE_FORMAT ",%.3f,%u\n",
          a->name, workload, phase, size, n, value, runs);
  fflush (stdout);
}

static int
cmp_double (gconstpointer a, gconstpointer b)
{
  gdouble x = *(const gdouble *) a, y = *(const gdouble *) b;
  return (x > y) - (x < y);
}

static gdouble
median (gdouble *values, guint n)
{
  qsort (values, n, sizeof (gdouble), cmp_double);
  return n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

/* Touches the block as a user would, so the allocators' zeroing counts. */
static inline void
use_block (gpointer mem)
{
  *(volatile guint8 *) mem = 1;
}

static gdouble
run_w1 (const Allocator *a, gsize size, gsize n)
{
  gpointer ctx = a->ctx_new ();
  gint64 start, end;

  start = region_begin ();
  for (gsize i = 0; i < n; i++)
    {
      gpointer mem = a->alloc (ctx, size);
      use_block (mem);
      a->free_one (ctx, mem);
    }
  end = region_end (a, "W1", "pair", size, n);

  a->teardown (ctx, NULL, 0);
  return (gdouble) (end - start) / n;
}

static void
run_w2 (const Allocator *a, gsize size, gsize n, gpointer *blocks,
        gdouble *alloc_ns, gdouble *teardown_ns)
{
  gpointer ctx = a->ctx_new ();
  gint64 t0, t1, t2;

  t0 = region_begin ();
  for (gsize i = 0; i < n; i++)
    {
      blocks[i] = a->alloc (ctx, size);
      use_block (blocks[i]);
    }
  t1 = region_end (a, "W2", "alloc", size, n);
  t1 = use_callgrind ? region_begin () : t1;
  a->teardown (ctx, blocks, n);
  t2 = region_end (a, "W2", "teardown", size, n);

  *alloc_ns = (gdouble) (t1 - t0) / n;
  *teardown_ns = (gdouble) (t2 - t1) / n;
}

static gdouble
run_w3 (const Allocator *a, gsize size, gsize n, gpointer *blocks, const guint32 *order)
{
  gpointer ctx = a->ctx_new ();
  gint64 start, end;

  start = region_begin ();
  for (gsize i = 0; i < n; i++)
    {
      blocks[i] = a->alloc (ctx, size);
      use_block (blocks[i]);
    }
  for (gsize i = 0; i < n / 2; i++)
    {
      a->free_one (ctx, blocks[order[i]]);
      blocks[order[i]] = NULL;
    }
  a->teardown (ctx, blocks, n);
  end = region_end (a, "W3", "total", size, n);

  return (gdouble) (end - start) / n;
}

/* --- W4: threads sharing one allocator --- */

/* --threads: 4 by default; 1, 2, 4 and 8 for the scaling figures. */
#define MAX_THREADS 16
static guint n_threads = 4;

typedef struct
{
  const Allocator *a;
  gpointer         ctx;
  gsize            size;
  gsize            n;
  gpointer        *blocks;  /* NULL for the W1 shape */
} ThreadJob;

static gpointer
thread_job (gpointer data)
{
  ThreadJob *job = data;

  for (gsize i = 0; i < job->n; i++)
    {
      gpointer mem = job->a->alloc (job->ctx, job->size);
      use_block (mem);
      if (job->blocks != NULL)
        job->blocks[i] = mem;
      else
        job->a->free_one (job->ctx, mem);
    }
  return NULL;
}

/* Returns ns per block for the threaded part; for the W2 shape, the
 * teardown is done afterwards and timed into @teardown_ns. */
static gdouble
run_w4 (const Allocator *a, gsize size, gsize n, gpointer *blocks, gdouble *teardown_ns)
{
  gpointer ctx = a->ctx_new ();
  GThread *threads[MAX_THREADS];
  ThreadJob jobs[MAX_THREADS];
  gsize per_thread = n / n_threads;
  gint64 t0, t1, t2;

  t0 = region_begin ();
  for (guint i = 0; i < n_threads; i++)
    {
      jobs[i] = (ThreadJob) { a, ctx, size, per_thread,
                              blocks != NULL ? blocks + i * per_thread : NULL };
      threads[i] = g_thread_new ("bench", thread_job, &jobs[i]);
    }
  for (guint i = 0; i < n_threads; i++)
    g_thread_join (threads[i]);
  t1 = region_end (a, blocks != NULL ? "W4-W2" : "W4-W1",
                   blocks != NULL ? "alloc" : "pair", size, n);
  t1 = use_callgrind ? region_begin () : t1;
  a->teardown (ctx, blocks, blocks != NULL ? per_thread * n_threads : 0);
  t2 = region_end (a, blocks != NULL ? "W4-W2" : "W4-W1", "teardown", size, n);

  if (teardown_ns != NULL)
    *teardown_ns = (gdouble) (t2 - t1) / (per_thread * n_threads);
  return (gdouble) (t1 - t0) / (per_thread * n_threads);
}

/* --- memory overhead --- */

/* Resident bytes of anonymous mappings: glibc's own large chunks, and the
 * chunks and arrays a CymemPool maps for its bookkeeping, which
 * mallinfo2() does not see. Resident, not mapped: a pool's big entries
 * array is a reservation of address space whose pages exist only once
 * used. */
static gsize
anonymous_resident (void)
{
  g_autofree char *smaps = NULL;
  g_auto(GStrv) lines = NULL;
  gboolean anonymous = FALSE;
  gsize total = 0;

  if (!g_file_get_contents ("/proc/self/smaps", &smaps, NULL, NULL))
    return 0;
  lines = g_strsplit (smaps, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      guint64 start, end, kib;
      char path[256] = "";

      /* A mapping's line, "start-end perms offset dev inode [path]", then
       * its fields, "Rss:  N kB" among them. */
      if (sscanf (lines[i], "%" G_GINT64_MODIFIER "x-%" G_GINT64_MODIFIER "x %*s %*s %*s %*s %255s",
                  &start, &end, path) >= 2)
        anonymous = path[0] == '\0';
      else if (anonymous && sscanf (lines[i], "Rss: %" G_GINT64_MODIFIER "u kB", &kib) == 1)
        total += kib * 1024;
    }
  return total;
}

/* What malloc has handed out on the heap plus every anonymous mapping's
 * resident pages (which include malloc's mmapped chunks, so those are not
 * counted twice). */
static gsize
heap_in_use (void)
{
  struct mallinfo2 info = mallinfo2 ();
  return info.uordblks + anonymous_resident ();
}

/* Heap bytes per live block, allocator overhead and bookkeeping included. */
static gdouble
heap_per_block (const Allocator *a, gsize size, gsize n, gpointer *blocks)
{
  gpointer ctx;
  gsize before, after;

  /* The array of block pointers is ours, not the allocator's: its pages
   * must be resident before, or they would count as used. */
  memset (blocks, 0, n * sizeof (gpointer));
  malloc_trim (0);
  before = heap_in_use ();
  ctx = a->ctx_new ();
  for (gsize i = 0; i < n; i++)
    blocks[i] = a->alloc (ctx, size);
  after = heap_in_use ();
  a->teardown (ctx, blocks, n);

  return (gdouble) (after - before) / n;
}

static gboolean
selected (const char *list, const char *name)
{
  g_auto(GStrv) parts = NULL;

  if (list == NULL)
    return TRUE;
  parts = g_strsplit (list, ",", -1);
  return g_strv_contains ((const char * const *) parts, name);
}

int
main (int argc, char *argv[])
{
  g_autofree char *only_allocators = NULL;
  g_autofree char *only_workloads = NULL;
  g_autofree char *only_sizes = NULL;
  g_autofree char *only_ns = NULL;
  gint runs = 5;
  gint w1_n = 1000000;
  gint threads_option = 4;
  GOptionEntry entries[] = {
    { "allocators", 'a', 0, G_OPTION_ARG_STRING, &only_allocators, "Comma-separated allocators", "LIST" },
    { "workloads", 'w', 0, G_OPTION_ARG_STRING, &only_workloads, "Comma-separated workloads (W1,W2,W3,W4,MEM)", "LIST" },
    { "sizes", 's', 0, G_OPTION_ARG_STRING, &only_sizes, "Comma-separated block sizes", "LIST" },
    { "counts", 'n', 0, G_OPTION_ARG_STRING, &only_ns, "Comma-separated W2 block counts", "LIST" },
    { "runs", 'r', 0, G_OPTION_ARG_INT, &runs, "Runs per case (median reported)", "R" },
    { "w1-count", 0, 0, G_OPTION_ARG_INT, &w1_n, "Iterations of W1", "N" },
    { "callgrind", 0, 0, G_OPTION_ARG_NONE, &use_callgrind, "One run per case, collection toggled around it", NULL },
    { "threads", 't', 0, G_OPTION_ARG_INT, &threads_option, "Threads in W4 (1-16, default 4)", "T" },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new ("- benchmark CymemPool against its peers");
  g_autoptr(GError) error = NULL;
  static const gsize sizes[] = { 16, 64, 256, 4096 };
  static const gsize w2_counts[] = { 1000, 100000, 1000000 };
  const gsize w3_n = 100000;
  gsize max_n = 1000000;
  gpointer *blocks;
  guint32 *order;
  GRand *rand;

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("%s\n", error->message);
      return 2;
    }
  if (threads_option < 1 || threads_option > MAX_THREADS)
    {
      g_printerr ("--threads must be between 1 and %d\n", MAX_THREADS);
      return 2;
    }
  n_threads = (guint) threads_option;
  if (use_callgrind)
    runs = 2;
  runs = MAX (runs, 1);

#ifdef HAVE_APR
  apr_initialize ();
#endif

  blocks = g_new0 (gpointer, max_n);

  /* W3's random half, the same for every allocator. */
  order = g_new (guint32, w3_n);
  rand = g_rand_new_with_seed (20261126);
  for (guint32 i = 0; i < w3_n; i++)
    order[i] = i;
  for (guint32 i = w3_n - 1; i > 0; i--)
    {
      guint32 j = g_rand_int_range (rand, 0, i + 1), t = order[i];
      order[i] = order[j];
      order[j] = t;
    }
  g_rand_free (rand);

  printf ("allocator,workload,phase,block_size,n,ns_per_block,runs\n");

  for (gsize ai = 0; ai < G_N_ELEMENTS (allocators); ai++)
    {
      const Allocator *a = &allocators[ai];
      gdouble *v1 = g_new (gdouble, runs), *v2 = g_new (gdouble, runs);

      if (!selected (only_allocators, a->name))
        continue;

      for (gsize si = 0; si < G_N_ELEMENTS (sizes); si++)
        {
          gsize size = sizes[si];
          char size_s[32];

          g_snprintf (size_s, sizeof size_s, "%" G_GSIZE_FORMAT, size);
          if (!selected (only_sizes, size_s))
            continue;

          if (a->can_free_one && selected (only_workloads, "W1"))
            {
              for (gint r = 0; r < runs; r++)
                {
                  warming_up = use_callgrind && r == 0;
                  v1[r] = run_w1 (a, size, w1_n);
                }
              emit (a, "W1", "pair", size, w1_n, median (v1, runs), runs);
            }

          for (gsize ni = 0; ni < G_N_ELEMENTS (w2_counts) && selected (only_workloads, "W2"); ni++)
            {
              gsize n = w2_counts[ni];
              char n_s[32];

              g_snprintf (n_s, sizeof n_s, "%" G_GSIZE_FORMAT, n);
              if (!selected (only_ns, n_s))
                continue;
              for (gint r = 0; r < runs; r++)
                {
                  warming_up = use_callgrind && r == 0;
                  run_w2 (a, size, n, blocks, &v1[r], &v2[r]);
                }
              emit (a, "W2", "alloc", size, n, median (v1, runs), runs);
              emit (a, "W2", "teardown", size, n, median (v2, runs), runs);
            }

          if (a->can_free_one && size == 64 && selected (only_workloads, "W3"))
            {
              for (gint r = 0; r < runs; r++)
                {
                  warming_up = use_callgrind && r == 0;
                  v1[r] = run_w3 (a, size, w3_n, blocks, order);
                }
              emit (a, "W3", "total", size, w3_n, median (v1, runs), runs);
            }

          if (a->thread_safe && selected (only_workloads, "W4"))
            {
              for (gint r = 0; r < runs; r++)
                v1[r] = run_w4 (a, size, w1_n, NULL, NULL);
              emit (a, "W4-W1", "pair", size, w1_n, median (v1, runs), runs);
              for (gint r = 0; r < runs; r++)
                v1[r] = run_w4 (a, size, 100000, blocks, &v2[r]);
              emit (a, "W4-W2", "alloc", size, 100000, median (v1, runs), runs);
              emit (a, "W4-W2", "teardown", size, 100000, median (v2, runs), runs);
            }

          /* Run alone (-w MEM -n N) in a fresh process, the measure is
           * not blurred by memory earlier workloads left cached. */
          for (gsize ni = 0; ni < G_N_ELEMENTS (w2_counts) && size == 64 && !use_callgrind &&
                             selected (only_workloads, "MEM"); ni++)
            {
              gsize n = w2_counts[ni];
              char n_s[32];

              g_snprintf (n_s, sizeof n_s, "%" G_GSIZE_FORMAT, n);
              if (n >= 100000 && selected (only_ns, n_s))
                emit (a, "MEM", "heap_bytes_per_block", size, n,
                      heap_per_block (a, size, n, blocks), 1);
            }
        }

      g_free (v1);
      g_free (v2);
    }

  g_free (order);
  g_free (blocks);
#ifdef HAVE_APR
  apr_terminate ();
#endif
  return 0;
}
