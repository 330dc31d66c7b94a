/* cymem-perturb.c: schedule perturbation for the stress tests
 *
 * SPDX-License-Identifier: MIT
 *
 * Built only with -Dperturb=true. With CYMEM_PERTURB=1 in the environment,
 * each transition point of the pool's protocol (after a lock is dropped,
 * between a table update and an allocator call, between the phases of a
 * clear) yields the processor now and then, and sleeps a little more
 * rarely, so that the interleavings a race needs happen within a short
 * test. CYMEM_PERTURB_SEED fixes the random sequence of the first thread.
 */

#include "config.h"

#include "cymem-pool-private.h"

static gint enabled = -1;
static _Thread_local guint64 state;

void
cymem_perturb (void)
{
  gint on = __atomic_load_n (&enabled, __ATOMIC_RELAXED);
  guint64 x;

  if (G_UNLIKELY (on < 0))
    {
      const gchar *value = g_getenv ("CYMEM_PERTURB");

      on = value != NULL && g_strcmp0 (value, "0") != 0;
      __atomic_store_n (&enabled, on, __ATOMIC_RELAXED);
    }
  if (!on)
    return;

  if (G_UNLIKELY (state == 0))
    {
      const gchar *seed = g_getenv ("CYMEM_PERTURB_SEED");

      state = seed != NULL ? g_ascii_strtoull (seed, NULL, 10) : (guint64) g_get_monotonic_time ();
      state ^= (guint64) (guintptr) &state;  /* differs per thread */
      state |= 1;
    }

  /* xorshift64 */
  x = state;
  x ^= x << 13;
  x ^= x >> 7;
  x ^= x << 17;
  state = x;

  switch (x % 64)
    {
    case 0:
      g_usleep (50 + (x >> 8) % 200);
      break;
    case 1: case 2: case 3: case 4: case 5: case 6: case 7: case 8:
      g_thread_yield ();
      break;
    default:
      break;
    }
}
