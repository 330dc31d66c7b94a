/* cymem-lock-private.h: the pool's lock
 *
 * SPDX-License-Identifier: MIT
 *
 * A three-state futex lock (0 free, 1 held, 2 held with sleepers), as in
 * Drepper's "Futexes Are Tricky". The uncontended acquire is one
 * compare-and-swap and the release one exchange, both inline: GMutex does
 * the same atomics but through a call into libglib, which measured a fifth
 * of the pool's time in the alloc-then-teardown benchmark. A waiter spins
 * for a short while (the pool's critical sections are a few dozen
 * instructions) and then sleeps in the kernel, so a thread holding the lock
 * for long, or preempted while holding it, costs its waiters no CPU.
 *
 * Elsewhere than Linux the lock is a GMutex.
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

#ifdef __linux__

typedef struct
{
  gint state;
} CymemLock;

#define CYMEM_LOCK_INIT { 0 }

void cymem_lock_wait (CymemLock *lock);
void cymem_lock_wake (CymemLock *lock);

static inline void
cymem_lock_acquire (CymemLock *lock)
{
  gint expected = 0;

  if (G_UNLIKELY (!__atomic_compare_exchange_n (&lock->state, &expected, 1, FALSE,
                                                __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)))
    cymem_lock_wait (lock);
}

/* Takes the lock only if it is free at once. */
static inline gboolean
cymem_lock_try_acquire (CymemLock *lock)
{
  gint expected = 0;

  return __atomic_compare_exchange_n (&lock->state, &expected, 1, FALSE,
                                      __ATOMIC_ACQUIRE, __ATOMIC_RELAXED);
}

static inline void
cymem_lock_release (CymemLock *lock)
{
  if (G_UNLIKELY (__atomic_exchange_n (&lock->state, 0, __ATOMIC_RELEASE) == 2))
    cymem_lock_wake (lock);
}

#else

typedef struct
{
  GMutex mutex;
} CymemLock;

#define CYMEM_LOCK_INIT { { 0 } }

static inline void
cymem_lock_acquire (CymemLock *lock)
{
  g_mutex_lock (&lock->mutex);
}

static inline gboolean
cymem_lock_try_acquire (CymemLock *lock)
{
  return g_mutex_trylock (&lock->mutex);
}

static inline void
cymem_lock_release (CymemLock *lock)
{
  g_mutex_unlock (&lock->mutex);
}

#endif

G_END_DECLS
