/* line-sharing.c: what one lock shared by T threads costs an operation,
 * before any work: the floor under a pool shared by threads (W4).
 *
 * SPDX-License-Identifier: MIT
 *
 * T threads take and release the pool's lock (cymem-lock-private.h) in a
 * loop, writing L cache lines of shared state under it each time, as an
 * operation on a shared pool writes its lock, its counters, its table's
 * tail and the block's chunk. Prints ns an operation for all threads
 * together (wall time / operations), for T = 1, 2, 4, 8 and L = 0, 2, 4, 8.
 * Usage: line-sharing [OPERATIONS_PER_THREAD]
 */

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "cymem-lock-private.h"

#define LINE 64
#define MAX_LINES 8

static CymemLock lock = CYMEM_LOCK_INIT;
static volatile guint8 shared[MAX_LINES * LINE] __attribute__ ((aligned (LINE)));
static guint n_lines;
static glong n_ops;

static gpointer
run (gpointer data)
{
  for (glong i = 0; i < n_ops; i++)
    {
      cymem_lock_acquire (&lock);
      for (guint l = 0; l < n_lines; l++)
        shared[l * LINE]++;
      cymem_lock_release (&lock);
    }
  return NULL;
}

int
main (int   argc,
      char *argv[])
{
  static const guint threads[] = { 1, 2, 4, 8 };
  static const guint lines[] = { 0, 2, 4, 8 };

  n_ops = argc > 1 ? atol (argv[1]) : 2000000;
  printf ("threads,lines_written,ns_per_op\n");
  for (guint t = 0; t < G_N_ELEMENTS (threads); t++)
    for (guint l = 0; l < G_N_ELEMENTS (lines); l++)
      {
        pthread_t ids[8];
        gint64 start;

        n_lines = lines[l];
        start = g_get_monotonic_time ();
        for (guint i = 0; i < threads[t]; i++)
          pthread_create (&ids[i], NULL, run, NULL);
        for (guint i = 0; i < threads[t]; i++)
          pthread_join (ids[i], NULL);
        printf ("%u,%u,%.1f\n", threads[t], lines[l],
                (g_get_monotonic_time () - start) * 1000.0 / ((gdouble) n_ops * threads[t]));
      }
  return 0;
}
