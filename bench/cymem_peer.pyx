# cython: language_level=3, boundscheck=False, wraparound=False
# SPDX-License-Identifier: MIT
#
# cymem's Pool, driven from Cython the way its users call it, on the same
# workloads as cymem-bench.c. Timings in ns per block; under callgrind the
# counters are zeroed and dumped around each region, labelled like the C
# benchmark's.

from cymem.cymem cimport Pool
from libc.stdint cimport uint8_t, uint32_t

cdef extern from *:
    """
    #include <time.h>
    #ifdef HAVE_CALLGRIND_H
    #include <valgrind/callgrind.h>
    #else
    #define CALLGRIND_ZERO_STATS
    #define CALLGRIND_DUMP_STATS_AT(label) ((void) (label))
    #endif
    static long long peer_now_ns (void)
    {
      struct timespec ts;
      clock_gettime (CLOCK_MONOTONIC, &ts);
      return (long long) ts.tv_sec * 1000000000LL + ts.tv_nsec;
    }
    static void peer_cg_zero (void) { CALLGRIND_ZERO_STATS; }
    static void peer_cg_dump (const char *label) { CALLGRIND_DUMP_STATS_AT (label); }
    """
    long long peer_now_ns()
    void peer_cg_zero()
    void peer_cg_dump(const char *label)

cdef bint use_callgrind = False

def set_callgrind(bint on):
    global use_callgrind
    use_callgrind = on

cdef long long begin():
    if use_callgrind:
        peer_cg_zero()
        return 0
    return peer_now_ns()

cdef long long end(str workload, str phase, size_t size, size_t n):
    if use_callgrind:
        label = ("cymem,%s,%s,%d,%d" % (workload, phase, size, n)).encode()
        peer_cg_dump(label)
        return 0
    return peer_now_ns()

def w1(size_t size, size_t n):
    cdef Pool pool = Pool()
    cdef size_t i
    cdef void *mem
    cdef long long t0 = begin()
    for i in range(n):
        mem = pool.alloc(1, size)
        (<uint8_t *> mem)[0] = 1
        pool.free(mem)
    cdef long long t1 = end("W1", "pair", size, n)
    return (t1 - t0) / <double> n

def w2(size_t size, size_t n):
    cdef Pool pool = Pool()
    cdef size_t i
    cdef void *mem
    cdef long long t0 = begin()
    for i in range(n):
        mem = pool.alloc(1, size)
        (<uint8_t *> mem)[0] = 1
    cdef long long t1 = end("W2", "alloc", size, n)
    if use_callgrind:
        t1 = begin()
    pool = None   # cymem's bulk path: the Pool's dealloc frees everything
    cdef long long t2 = end("W2", "teardown", size, n)
    return (t1 - t0) / <double> n, (t2 - t1) / <double> n

def w3(size_t size, list order):
    cdef size_t n = len(order)
    cdef Pool pool = Pool()
    cdef size_t i
    cdef void **blocks = <void **> pool.alloc(n, sizeof(void *))
    cdef uint32_t[::1] idx = memoryview(bytearray(4 * n)).cast('I')
    for i in range(n):
        idx[i] = order[i]
    # The pointer array is the benchmark's own; it comes from a separate pool.
    cdef Pool work = Pool()
    cdef long long t0 = begin()
    for i in range(n):
        blocks[i] = work.alloc(1, size)
        (<uint8_t *> blocks[i])[0] = 1
    for i in range(n // 2):
        work.free(blocks[idx[i]])
    work = None
    cdef long long t1 = end("W3", "total", size, n)
    return (t1 - t0) / <double> n
