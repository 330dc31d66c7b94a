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
 * While the process has a single thread (glibc's __libc_single_threaded,
 * the flag its own malloc uses the same way), nobody can contend: the lock
 * is then taken and released with plain stores, no atomic instruction. The
 * flag only ever goes from true to false, in pthread_create(), which this
 * thread cannot call while it holds one of these locks (no user code runs
 * under them), and thread creation orders the stores before the new
 * thread's first access.
 *
 * Elsewhere than Linux, and with -Dportable=true (which CI builds, so that
 * this code is compiled and tested), the lock is a GMutex.
 */

#pragma once

#include "config.h"  /* CYMEM_LINUX: tests include this header too */

#include <glib.h>

#if defined(CYMEM_LINUX) && defined(__GLIBC__)
# include <features.h>
# if __GLIBC_PREREQ (2, 32)
#  include <sys/single_threaded.h>
#  define CYMEM_SINGLE_THREADED() G_LIKELY (__libc_single_threaded)
# endif
#endif
#ifndef CYMEM_SINGLE_THREADED
# define CYMEM_SINGLE_THREADED() FALSE
#endif

G_BEGIN_DECLS

/* Schedule perturbation for the stress tests (here since every layer that
 * locks uses it): with -Dperturb=true and CYMEM_PERTURB=1 in the
 * environment, every transition point of the protocol may yield or sleep
 * briefly. Compiled out otherwise. */
#ifdef CYMEM_ENABLE_PERTURB
void cymem_perturb (void);
#define CYMEM_PERTURB() cymem_perturb ()
#else
#define CYMEM_PERTURB() G_STMT_START { } G_STMT_END
#endif

#ifdef CYMEM_LINUX

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

  if (CYMEM_SINGLE_THREADED ())
    {
      __atomic_store_n (&lock->state, 1, __ATOMIC_RELAXED);
      return;
    }
  if (G_UNLIKELY (!__atomic_compare_exchange_n (&lock->state, &expected, 1, FALSE,
                                                __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)))
    cymem_lock_wait (lock);
}

/* Takes the lock only if it is free at once; @single is
 * CYMEM_SINGLE_THREADED(), which a fast path reads once for the acquire and
 * its release: it cannot turn false while this thread holds the lock, and
 * a false that has since turned true only costs the atomic instructions. */
static inline gboolean
cymem_lock_try_acquire_as (CymemLock *lock,
                           gboolean   single)
{
  gint expected = 0;

  if (single)
    {
      /* Held only by this very thread, if at all. */
      if (__atomic_load_n (&lock->state, __ATOMIC_RELAXED) != 0)
        return FALSE;
      __atomic_store_n (&lock->state, 1, __ATOMIC_RELAXED);
      return TRUE;
    }
  return __atomic_compare_exchange_n (&lock->state, &expected, 1, FALSE,
                                      __ATOMIC_ACQUIRE, __ATOMIC_RELAXED);
}

/* Releases the lock and returns TRUE if a sleeper must be woken, with
 * cymem_lock_wake(): so that a fast path can make that call last. */
static inline gboolean
cymem_lock_release_no_wake_as (CymemLock *lock,
                               gboolean   single)
{
  if (single)
    {
      __atomic_store_n (&lock->state, 0, __ATOMIC_RELAXED);
      return FALSE;
    }
  return G_UNLIKELY (__atomic_exchange_n (&lock->state, 0, __ATOMIC_RELEASE) == 2);
}

static inline void
cymem_lock_release (CymemLock *lock)
{
  if (cymem_lock_release_no_wake_as (lock, CYMEM_SINGLE_THREADED ()))
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
cymem_lock_try_acquire_as (CymemLock *lock,
                           gboolean   single)
{
  return g_mutex_trylock (&lock->mutex);
}

/* GMutex wakes its own sleepers. */
static inline gboolean
cymem_lock_release_no_wake_as (CymemLock *lock,
                               gboolean   single)
{
  g_mutex_unlock (&lock->mutex);
  return FALSE;
}

static inline void
cymem_lock_wake (CymemLock *lock)
{
}

static inline void
cymem_lock_release (CymemLock *lock)
{
  g_mutex_unlock (&lock->mutex);
}

#endif

static inline gboolean
cymem_lock_try_acquire (CymemLock *lock)
{
  return cymem_lock_try_acquire_as (lock, CYMEM_SINGLE_THREADED ());
}

static inline gboolean
cymem_lock_release_no_wake (CymemLock *lock)
{
  return cymem_lock_release_no_wake_as (lock, CYMEM_SINGLE_THREADED ());
}

G_END_DECLS
