/* cymem-lock-private.h: the pool's lock
 *
 * SPDX-License-Identifier: MIT
 *
 * A test-and-set lock whose release is a plain store. GMutex takes an atomic
 * read-modify-write to lock *and* to unlock (it must learn whether a waiter
 * needs waking), and a call into libglib for each; measured in the
 * alloc-then-teardown benchmark that pair was a fifth of the pool's time.
 * The pool's critical sections are a few dozen instructions and never call
 * out, so waiters spin briefly and then yield instead of sleeping.
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct
{
  gint locked;
} CymemLock;

#define CYMEM_LOCK_INIT { 0 }

void cymem_lock_wait (CymemLock *lock);

static inline void
cymem_lock_acquire (CymemLock *lock)
{
  if (G_UNLIKELY (__atomic_exchange_n (&lock->locked, 1, __ATOMIC_ACQUIRE) != 0))
    cymem_lock_wait (lock);
}

static inline void
cymem_lock_release (CymemLock *lock)
{
  __atomic_store_n (&lock->locked, 0, __ATOMIC_RELEASE);
}

G_END_DECLS
