/* cymem-lock.c: the contended path of the pool's lock
 *
 * SPDX-License-Identifier: MIT
 */

#include "config.h"

#include "cymem-lock-private.h"

#define SPINS_BEFORE_YIELD 64

void
cymem_lock_wait (CymemLock *lock)
{
  for (;;)
    {
      /* Wait for the lock to look free before trying the exchange again,
       * so that waiters do not keep stealing the holder's cache line. */
      for (guint spin = 0; spin < SPINS_BEFORE_YIELD; spin++)
        {
          if (__atomic_load_n (&lock->locked, __ATOMIC_RELAXED) == 0 &&
              __atomic_exchange_n (&lock->locked, 1, __ATOMIC_ACQUIRE) == 0)
            return;
#if defined (__x86_64__) || defined (__i386__)
          __builtin_ia32_pause ();
#endif
        }
      /* The holder may have been preempted: let it run. */
      g_thread_yield ();
    }
}
