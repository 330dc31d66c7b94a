/* lock-latency.c: how long a waiter stalls behind the pool's lock when the
 * scheduler is against it, for the lock of 1.2 (spin briefly, then sleep
 * on a futex), the spin-then-yield lock of 1.0 and GMutex.
 *
 * SPDX-License-Identifier: MIT
 *
 * Every thread is pinned to CPU 0. A holder takes the lock, lets the waiter
 * run, and keeps the lock for HOLD_US of work; the waiter then takes the
 * lock and records how long that took, and how much CPU it used meanwhile.
 * Scenarios:
 *   plain   both threads SCHED_OTHER, nice 0
 *   nice    holder at nice 19, waiter at nice 0
 *   fifo    waiter SCHED_FIFO, holder SCHED_OTHER (needs CAP_SYS_NICE)
 * A waiter that spins or yields keeps a low-priority holder off the CPU;
 * one that sleeps lets it finish. Usage: lock-latency [ROUNDS]
 */

#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "cymem-lock-private.h"

#define HOLD_US 20000

/* The lock of 1.0, for comparison: test-and-set, 64 spins, then
 * sched_yield() forever. */
static gint spin_state;

static void
spin_acquire (void)
{
  while (__atomic_exchange_n (&spin_state, 1, __ATOMIC_ACQUIRE) != 0)
    {
      for (guint i = 0; i < 64; i++)
        if (__atomic_load_n (&spin_state, __ATOMIC_RELAXED) == 0)
          break;
      sched_yield ();
    }
}

static void
spin_release (void)
{
  __atomic_store_n (&spin_state, 0, __ATOMIC_RELEASE);
}

static CymemLock futex_lock = CYMEM_LOCK_INIT;
static GMutex mutex;

typedef enum { LOCK_FUTEX, LOCK_SPIN, LOCK_GMUTEX } LockKind;
static const char *lock_names[] = { "1.2 futex lock", "1.0 spin lock", "GMutex" };
static LockKind kind;

static void
acquire (void)
{
  switch (kind)
    {
    case LOCK_FUTEX: cymem_lock_acquire (&futex_lock); break;
    case LOCK_SPIN: spin_acquire (); break;
    case LOCK_GMUTEX: g_mutex_lock (&mutex); break;
    }
}

static void
release (void)
{
  switch (kind)
    {
    case LOCK_FUTEX: cymem_lock_release (&futex_lock); break;
    case LOCK_SPIN: spin_release (); break;
    case LOCK_GMUTEX: g_mutex_unlock (&mutex); break;
    }
}

static gint64
now_us (clockid_t clock)
{
  struct timespec ts;

  clock_gettime (clock, &ts);
  return (gint64) ts.tv_sec * G_USEC_PER_SEC + ts.tv_nsec / 1000;
}

static void
pin_to_cpu0 (void)
{
  cpu_set_t set;

  CPU_ZERO (&set);
  CPU_SET (0, &set);
  pthread_setaffinity_np (pthread_self (), sizeof set, &set);
}

typedef enum { SCEN_PLAIN, SCEN_NICE, SCEN_FIFO } Scenario;
static const char *scenario_names[] = { "plain", "nice 19 holder", "SCHED_FIFO waiter" };
static Scenario scenario;

static gint held;
static gint64 wait_us, wait_cpu_us;
static gboolean fifo_ok;

static gpointer
holder (gpointer data)
{
  gint64 end;

  pin_to_cpu0 ();
  if (scenario == SCEN_NICE)
    setpriority (PRIO_PROCESS, (id_t) syscall (SYS_gettid), 19);
  acquire ();
  g_atomic_int_set (&held, 1);
  /* The waiter is woken now and, on one CPU, competes with this work. */
  end = now_us (CLOCK_MONOTONIC) + HOLD_US;
  while (now_us (CLOCK_MONOTONIC) < end)
    ;
  release ();
  return NULL;
}

static gpointer
waiter (gpointer data)
{
  gint64 start, cpu_start;

  pin_to_cpu0 ();
  if (scenario == SCEN_FIFO)
    {
      struct sched_param param = { .sched_priority = 10 };

      fifo_ok = pthread_setschedparam (pthread_self (), SCHED_FIFO, &param) == 0;
    }
  while (!g_atomic_int_get (&held))
    g_usleep (100);
  start = now_us (CLOCK_MONOTONIC);
  cpu_start = now_us (CLOCK_THREAD_CPUTIME_ID);
  acquire ();
  wait_us = now_us (CLOCK_MONOTONIC) - start;
  wait_cpu_us = now_us (CLOCK_THREAD_CPUTIME_ID) - cpu_start;
  release ();
  return NULL;
}

int
main (int   argc,
      char *argv[])
{
  guint rounds = argc > 1 ? (guint) atoi (argv[1]) : 5;

  g_mutex_init (&mutex);
  printf ("| scenario | lock | worst wait (ms) | worst waiter CPU (ms) |\n|---|---|---:|---:|\n");
  for (scenario = SCEN_PLAIN; scenario <= SCEN_FIFO; scenario++)
    for (kind = LOCK_FUTEX; kind <= LOCK_GMUTEX; kind++)
      {
        gint64 worst = 0, worst_cpu = 0;

        for (guint r = 0; r < rounds; r++)
          {
            GThread *h, *w;

            held = 0;
            w = g_thread_new ("waiter", waiter, NULL);
            g_usleep (1000);
            h = g_thread_new ("holder", holder, NULL);
            g_thread_join (h);
            g_thread_join (w);
            worst = MAX (worst, wait_us);
            worst_cpu = MAX (worst_cpu, wait_cpu_us);
          }
        if (scenario == SCEN_FIFO && !fifo_ok)
          {
            printf ("| %s | %s | (no SCHED_FIFO permission) | |\n",
                    scenario_names[scenario], lock_names[kind]);
            continue;
          }
        printf ("| %s | %s | %.1f | %.1f |\n", scenario_names[scenario], lock_names[kind],
                worst / 1000.0, worst_cpu / 1000.0);
        fflush (stdout);
      }
  return 0;
}
