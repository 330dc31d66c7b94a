# cython: language_level=3
# SPDX-License-Identifier: MIT
"""Checks of bindings/cython/cymem_glib.pxd: pool_ptr() and pool_ref()."""

from cymem_glib cimport *


def pointer_of(pool):
    """The CymemPool * pool_ptr() finds, as an int."""
    return <size_t> pool_ptr(pool)


def alloc_many(pool, size_t n, size_t size):
    """n blocks of `size` bytes, allocated without the GIL; their addresses."""
    cdef CymemPool *mem = pool_ptr(pool)
    cdef size_t i
    cdef list out = []
    cdef void *block
    for i in range(n):
        with nogil:
            block = cymem_pool_alloc(mem, 1, size)
        out.append(<size_t> block)
    return out


def try_alloc_over_limit(pool, size_t n_bytes):
    """Whether try_alloc returned NULL (the pool's limit)."""
    return cymem_pool_try_alloc(pool_ptr(pool), 1, n_bytes) == NULL


def strdup(pool, bytes text):
    return <size_t> cymem_pool_strdup(pool_ptr(pool), text)


def address_api_error(pool, size_t address):
    """(domain is CYMEM_POOL_ERROR, code) from free_address of a bad address."""
    cdef GError *error = NULL
    if cymem_pool_free_address(pool_ptr(pool), address, &error):
        return None
    result = (error.domain == CYMEM_POOL_ERROR, error.code)
    g_error_free(error)
    return result


cdef class Holder:
    """Keeps a pool through pool_ref(): a reference of its own, not the
    Python object's."""
    cdef CymemPool *mem

    def __cinit__(self, pool):
        self.mem = pool_ref(pool)

    def __dealloc__(self):
        if self.mem != NULL:
            g_object_unref(self.mem)

    def alloc(self, size_t n_bytes):
        return <size_t> cymem_pool_alloc(self.mem, 1, n_bytes)

    def n_allocations(self):
        return cymem_pool_get_n_allocations(self.mem)

    def size(self):
        return cymem_pool_get_size(self.mem)


def version():
    return (CYMEM_MAJOR_VERSION, CYMEM_MINOR_VERSION, CYMEM_MICRO_VERSION)
