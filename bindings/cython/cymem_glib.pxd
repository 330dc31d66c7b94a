# cython: language_level=3
# SPDX-License-Identifier: MIT
#
# Cython declarations for cymem-glib, and the bridge from a PyGObject
# `Cymem.Pool` to its `CymemPool *`.
#
#     from cymem_glib cimport CymemPool, cymem_pool_alloc, pool_ptr
#
#     cdef CymemPool *p = pool_ptr(pool)          # pool: a Cymem.Pool from Python
#     cdef Foo *f = <Foo *> cymem_pool_alloc(p, n, sizeof(Foo))
#
# Compile against `pkg-config --cflags --libs cymem-glib-1` and link with
# libcymem-glib-1. This file is declarations and inline functions only: there
# is no runtime `cymem_glib` module to import.
#
# Every function is declared nogil: the pool is thread-safe. Those that
# abort on failure in C (alloc, realloc) do so here too; use the try_ forms
# to get NULL instead.

from libc.stdint cimport uint8_t, uint32_t, uint64_t, uintptr_t
from cpython.pycapsule cimport PyCapsule_GetPointer, PyCapsule_IsValid

cdef extern from "glib-object.h" nogil:
    ctypedef void *gpointer
    ctypedef const void *gconstpointer
    ctypedef size_t gsize
    ctypedef unsigned int guint
    ctypedef int gboolean
    ctypedef char gchar
    ctypedef uint8_t guint8
    ctypedef uint32_t GQuark
    ctypedef uint64_t guint64
    ctypedef uintptr_t guintptr
    ctypedef void (*GDestroyNotify)(gpointer data)

    ctypedef struct GObject:
        pass
    ctypedef struct GBytes:
        pass
    ctypedef struct GError:
        GQuark domain
        int code
        gchar *message

    gpointer g_object_ref(gpointer object)
    void g_object_unref(gpointer object)
    void g_free(gpointer mem)
    void g_error_free(GError *error)
    gconstpointer g_bytes_get_data(GBytes *bytes, gsize *size)
    void g_bytes_unref(GBytes *bytes)

cdef extern from "cymem-glib/cymem-glib.h" nogil:
    ctypedef struct CymemPool:
        pass

    ctypedef gpointer (*CymemMallocFunc)(gsize n_bytes)
    ctypedef void (*CymemFreeFunc)(gpointer mem)
    ctypedef void (*CymemBlockFunc)(gpointer mem, gsize n_bytes, gpointer user_data)
    ctypedef void (*CymemAddressFunc)(guintptr address, gsize n_bytes, gpointer user_data)

    ctypedef enum CymemPoolError:
        CYMEM_POOL_ERROR_UNKNOWN_ADDRESS
        CYMEM_POOL_ERROR_OUT_OF_BOUNDS
        CYMEM_POOL_ERROR_NO_MEMORY
        CYMEM_POOL_ERROR_LIMIT_EXCEEDED
        CYMEM_POOL_ERROR_IN_FOREACH
        CYMEM_POOL_ERROR_DIFFERENT_ALLOCATORS

    GQuark CYMEM_POOL_ERROR
    bint CYMEM_IS_POOL(const void *object)

    int CYMEM_MAJOR_VERSION
    int CYMEM_MINOR_VERSION
    int CYMEM_MICRO_VERSION

    # A pool made here is owned by the caller: g_object_unref() it. To use it
    # from Python, pass it to Python through something that wraps GObjects.
    CymemPool *cymem_pool_new()
    CymemPool *cymem_pool_new_with_allocator(CymemMallocFunc malloc_func,
                                             CymemFreeFunc free_func)

    gpointer cymem_pool_alloc(CymemPool *pool, gsize n_elements, gsize element_size)
    gpointer cymem_pool_try_alloc(CymemPool *pool, gsize n_elements, gsize element_size)
    gpointer cymem_pool_realloc(CymemPool *pool, gpointer mem, gsize n_bytes)
    gpointer cymem_pool_try_realloc(CymemPool *pool, gpointer mem, gsize n_bytes)
    void cymem_pool_free(CymemPool *pool, gpointer mem)
    gboolean cymem_pool_owns(CymemPool *pool, gconstpointer mem)
    gsize cymem_pool_get_block_size(CymemPool *pool, gconstpointer mem)
    gsize cymem_pool_get_size(CymemPool *pool)
    guint cymem_pool_get_n_allocations(CymemPool *pool)
    void cymem_pool_clear(CymemPool *pool)
    void cymem_pool_own(CymemPool *pool, gpointer data, GDestroyNotify destroy)
    void cymem_pool_own_object(CymemPool *pool, gpointer object)
    void cymem_pool_attach(CymemPool *pool, GObject *owner)
    void cymem_pool_detach(CymemPool *pool, GObject *owner)
    CymemPool *cymem_pool_get_for_object(GObject *owner)
    CymemPool *cymem_pool_ensure_for_object(GObject *owner)

    guint64 cymem_pool_get_limit(CymemPool *pool)
    void cymem_pool_set_limit(CymemPool *pool, guint64 limit)
    guint64 cymem_pool_get_peak_size(CymemPool *pool)
    void cymem_pool_reset_peak_size(CymemPool *pool)
    void cymem_pool_foreach(CymemPool *pool, CymemBlockFunc func, gpointer user_data)

    gchar *cymem_pool_strdup(CymemPool *pool, const gchar *str)
    gchar *cymem_pool_strndup(CymemPool *pool, const gchar *str, gsize n)
    gpointer cymem_pool_memdup(CymemPool *pool, gconstpointer mem, gsize n_bytes)
    gchar *cymem_pool_strdup_printf(CymemPool *pool, const gchar *format, ...)

    gboolean cymem_pool_steal(CymemPool *pool, CymemPool *from_pool, gpointer mem)
    # Since 1.2: trees, names, reports, disown.
    CymemPool *cymem_pool_get_parent(CymemPool *pool)
    gboolean cymem_pool_is_ancestor(CymemPool *pool, CymemPool *ancestor)
    guint64 cymem_pool_get_total_size(CymemPool *pool)
    void cymem_pool_set_name(CymemPool *pool, const gchar *name)
    gchar *cymem_pool_dup_name(CymemPool *pool)
    gchar *cymem_pool_report(CymemPool *pool)
    void cymem_pool_disown(CymemPool *pool, gpointer data)
    CymemPool *cymem_pool_new_child(CymemPool *parent)
    void cymem_pool_disown_object(CymemPool *pool, gpointer object)

    # The address API bindings use; from Cython the pointer API above is the
    # natural one, but these report failures as a GError instead of NULL.
    guintptr cymem_pool_alloc_address(CymemPool *pool, gsize n_elements,
                                      gsize element_size, GError **error)
    gboolean cymem_pool_free_address(CymemPool *pool, guintptr address, GError **error)
    guintptr cymem_pool_realloc_address(CymemPool *pool, guintptr address,
                                        gsize n_bytes, GError **error)
    gboolean cymem_pool_owns_address(CymemPool *pool, guintptr address)
    gsize cymem_pool_get_block_size_address(CymemPool *pool, guintptr address,
                                            GError **error)
    GBytes *cymem_pool_read(CymemPool *pool, guintptr address, gsize offset,
                            gsize length, GError **error)
    gchar *cymem_pool_read_string(CymemPool *pool, guintptr address, GError **error)
    guintptr cymem_pool_strdup_address(CymemPool *pool, const gchar *str, GError **error)
    guintptr cymem_pool_memdup_address(CymemPool *pool, const guint8 *data,
                                       gsize n_bytes, GError **error)
    gboolean cymem_pool_steal_address(CymemPool *pool, CymemPool *from_pool,
                                      guintptr address, GError **error)
    void cymem_pool_foreach_address(CymemPool *pool, CymemAddressFunc func,
                                    gpointer user_data)
    gboolean cymem_pool_write(CymemPool *pool, guintptr address, gsize offset,
                              const guint8 *data, gsize n_bytes, GError **error)


cdef inline CymemPool *pool_ptr(object pool) except NULL:
    """The `CymemPool *` of a PyGObject `Cymem.Pool`: a **borrowed** pointer.

    It is valid for as long as the Python object `pool` is alive (PyGObject
    holds a reference on the GObject for the wrapper), so keep `pool`
    referenced wherever the pointer is kept: store both in the same cdef
    class, as `cymem.Pool` users store the Pool. To keep the pool beyond the
    Python object, use `pool_ref()` instead.

    Raises TypeError when `pool` is not a `Cymem.Pool`. Needs the GIL; call
    it once and then use the pointer, with or without the GIL.
    """
    import sys
    cdef void *ptr
    Cymem = sys.modules.get("gi.repository.Cymem")
    if Cymem is None or not isinstance(pool, Cymem.Pool):
        raise TypeError("expected a Cymem.Pool, not %s" % type(pool).__name__)
    # PyGObject's __gpointer__ is a capsule without a name around the GObject.
    capsule = pool.__gpointer__
    if not PyCapsule_IsValid(capsule, NULL):
        raise TypeError("Cymem.Pool.__gpointer__ is not an unnamed capsule")
    ptr = PyCapsule_GetPointer(capsule, NULL)
    if not CYMEM_IS_POOL(ptr):
        raise TypeError("the object behind this Cymem.Pool is not a CymemPool")
    return <CymemPool *> ptr


cdef inline CymemPool *pool_ref(object pool) except NULL:
    """Like `pool_ptr()`, but returns a new reference: the pool (and its
    memory) stays alive after the Python object goes, until the caller
    calls `g_object_unref()` on the result."""
    return <CymemPool *> g_object_ref(pool_ptr(pool))
