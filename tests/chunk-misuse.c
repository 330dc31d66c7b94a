/* chunk-misuse.c: misuses a block carved from a chunk, for the memory
 * tools to catch (run by check-chunk-tools.sh)
 *
 * SPDX-License-Identifier: MIT
 *
 *   chunk-misuse ok|overflow|underflow|use-after-free|use-after-reuse|leak|
 *                zero|zero-small|live-many|leak-many
 *
 * Built with the library's sources compiled in, so that it can check the
 * block really came from a chunk.
 */

#include "config.h"

#include <stdio.h>
#include <string.h>

#include "cymem-pool-private.h"

/* A pool alive at exit, reachable from here (volatile: the store must not
 * be dropped as never read). */
static CymemPool *volatile kept;

/* A pool of 300 malloc()ed blocks (too big to carve) and 300 carved ones:
 * its table's arrays are then past the size the library would map rather
 * than malloc(). */
static CymemPool *
pool_of_many (void)
{
  CymemPool *pool = cymem_pool_new ();

  for (guint i = 0; i < 300; i++)
    {
      memset (cymem_pool_alloc (pool, 1, 1000), 1, 1000);
      memset (cymem_pool_alloc (pool, 1, 64), 1, 64);
    }
  return pool;
}

/* Makes a pool of many and drops it, on a thread of its own: no stale copy
 * of the pointer then stays on a stack a leak checker scans. */
static gpointer
leak_many (gpointer data)
{
  (void) pool_of_many ();
  return NULL;
}

int
main (int   argc,
      char *argv[])
{
  CymemPool *pool;
  volatile guint8 *mem;
  const char *mode = argc > 1 ? argv[1] : "ok";

  /* Every block of a live pool is reachable through its table; every block
   * of a leaked pool is lost with it. */
  if (strcmp (mode, "live-many") == 0)
    {
      kept = pool_of_many ();
      return 0;
    }
  if (strcmp (mode, "leak-many") == 0)
    {
      g_thread_join (g_thread_new ("leak-many", leak_many, NULL));
      return 0;
    }

  if (strcmp (mode, "zero-small") == 0)
    {
      /* A 0-byte block of a small pool (one malloc per block) has no byte
       * either. */
      volatile guint8 *zero;

      pool = cymem_pool_new ();
      zero = cymem_pool_alloc (pool, 0, 1);
      zero[0] = 1;
      g_object_unref (pool);
      return 0;
    }

  pool = cymem_pool_new ();
  /* Past the blocks a pool makes with malloc(). */
  for (guint i = 0; i < CYMEM_HEAP_START; i++)
    cymem_pool_free (pool, cymem_pool_alloc (pool, 1, 64));
  mem = cymem_pool_alloc (pool, 1, 64);
  if (!cymem_chunk_contains ((gpointer) mem))
    {
      fprintf (stderr, "chunk-misuse: the block was not carved from a chunk\n");
      return 2;
    }
  memset ((gpointer) mem, 1, 64);

  if (strcmp (mode, "overflow") == 0)
    mem[64] = 1;                      /* one byte past the block */
  else if (strcmp (mode, "zero") == 0)
    {
      volatile guint8 *zero = cymem_pool_alloc (pool, 0, 1);

      zero[0] = 1;                    /* a 0-byte block has no byte */
    }
  else if (strcmp (mode, "underflow") == 0)
    mem[-1] = 1;                      /* one byte before the chunk's first block */
  else if (strcmp (mode, "use-after-reuse") == 0)
    {
      /* The pool hands out another block of that size before the stale
       * pointer is used, as in most real bugs. */
      cymem_pool_free (pool, (gpointer) mem);
      cymem_pool_alloc (pool, 1, 64);
      mem[0] = 2;
    }
  else if (strcmp (mode, "use-after-free") == 0)
    {
      cymem_pool_free (pool, (gpointer) mem);
      printf ("%d\n", mem[0]);        /* read after free */
    }
  else if (strcmp (mode, "leak") == 0)
    {
      /* The pool, and with it the block, is never released. */
      pool = NULL;
      mem = NULL;
      return 0;
    }
  else if (strcmp (mode, "ok") != 0)
    return 2;

  g_object_unref (pool);
  return 0;
}
