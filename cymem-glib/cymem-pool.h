/* cymem-pool.h: a GObject that owns C memory
 *
 * SPDX-License-Identifier: MIT
 */

#pragma once

#if !defined (CYMEM_INSIDE) && !defined (CYMEM_COMPILATION)
#error "Only <cymem-glib/cymem-glib.h> can be included directly."
#endif

#include <glib-object.h>

#include "cymem-version-macros.h"

G_BEGIN_DECLS

/**
 * CymemMallocFunc:
 * @n_bytes: the number of bytes to allocate, at least 1
 *
 * A function a [class@Cymem.Pool] calls to get memory for a block, with the
 * signature of `malloc()` and `g_malloc()`. It may return dirty memory: the
 * pool zeroes every block itself. Returning %NULL reports an allocation
 * failure. It must be thread-safe if the pool is used from several threads,
 * and must not call back into the pool.
 *
 * Returns: (nullable): a new block of at least @n_bytes bytes, or %NULL
 *
 * Since: 1.0
 */
typedef gpointer (*CymemMallocFunc) (gsize n_bytes);

/**
 * CymemFreeFunc:
 * @mem: a block returned by the matching [callback@Cymem.MallocFunc]
 *
 * A function a [class@Cymem.Pool] calls to release a block, with the
 * signature of `free()` and `g_free()`. It is called exactly once for each
 * block the matching malloc function returned, and never with %NULL.
 *
 * Since: 1.0
 */
typedef void (*CymemFreeFunc) (gpointer mem);

/**
 * CymemBlockFunc:
 * @mem: the start of a block
 * @n_bytes: the block's size
 * @user_data: the data passed to [method@Cymem.Pool.foreach]
 *
 * Called by [method@Cymem.Pool.foreach] for each block of a pool.
 *
 * Since: 1.0
 */
typedef void (*CymemBlockFunc) (gpointer mem,
                                gsize    n_bytes,
                                gpointer user_data);

/**
 * CymemAddressFunc:
 * @address: the address of a block
 * @n_bytes: the block's size
 * @user_data: the data passed to [method@Cymem.Pool.foreach_address]
 *
 * Called by [method@Cymem.Pool.foreach_address] for each block of a pool.
 *
 * Since: 1.0
 */
typedef void (*CymemAddressFunc) (guintptr address,
                                  gsize    n_bytes,
                                  gpointer user_data);

/**
 * CymemPoolError:
 * @CYMEM_POOL_ERROR_UNKNOWN_ADDRESS: the address is not the start of a block
 *   the pool owns
 * @CYMEM_POOL_ERROR_OUT_OF_BOUNDS: an offset and length reach outside the
 *   block
 * @CYMEM_POOL_ERROR_NO_MEMORY: the size overflows or the allocator failed
 * @CYMEM_POOL_ERROR_LIMIT_EXCEEDED: the block would take the pool over its
 *   [property@Cymem.Pool:limit]
 * @CYMEM_POOL_ERROR_IN_FOREACH: a walk or cleanup in progress prevents the
 *   call. Until 1.2, a change to a pool from inside its own
 *   [method@Cymem.Pool.foreach] was refused with it; every call is allowed
 *   there now. Since 1.2.1 it is reported only by
 *   [method@Cymem.Pool.steal_address], when a pool being finalized would
 *   take a block that a walk may be reading: see [method@Cymem.Pool.steal].
 * @CYMEM_POOL_ERROR_DIFFERENT_ALLOCATORS: a block cannot move between pools
 *   with different allocators
 *
 * Errors of the address-based API that bindings use, in the
 * %CYMEM_POOL_ERROR domain.
 *
 * Since: 1.0
 */
typedef enum
{
  CYMEM_POOL_ERROR_UNKNOWN_ADDRESS,
  CYMEM_POOL_ERROR_OUT_OF_BOUNDS,
  CYMEM_POOL_ERROR_NO_MEMORY,
  CYMEM_POOL_ERROR_LIMIT_EXCEEDED,
  CYMEM_POOL_ERROR_IN_FOREACH,
  CYMEM_POOL_ERROR_DIFFERENT_ALLOCATORS,
} CymemPoolError;

/**
 * CYMEM_POOL_ERROR:
 *
 * The error domain of [class@Cymem.Pool]; errors are [enum@Cymem.PoolError].
 *
 * Since: 1.0
 */
#define CYMEM_POOL_ERROR (cymem_pool_error_quark ())

CYMEM_AVAILABLE_IN_1_0
GQuark cymem_pool_error_quark (void);

#define CYMEM_TYPE_POOL (cymem_pool_get_type ())

CYMEM_AVAILABLE_IN_1_0
G_DECLARE_FINAL_TYPE (CymemPool, cymem_pool, CYMEM, POOL, GObject)

CYMEM_AVAILABLE_IN_1_0
CymemPool *cymem_pool_new                (void);
CYMEM_AVAILABLE_IN_1_0
CymemPool *cymem_pool_new_with_allocator (CymemMallocFunc  malloc_func,
                                          CymemFreeFunc    free_func);
CYMEM_AVAILABLE_IN_1_0
gpointer   cymem_pool_alloc              (CymemPool       *pool,
                                          gsize            n_elements,
                                          gsize            element_size);
CYMEM_AVAILABLE_IN_1_0
gpointer   cymem_pool_try_alloc          (CymemPool       *pool,
                                          gsize            n_elements,
                                          gsize            element_size);
CYMEM_AVAILABLE_IN_1_0
gpointer   cymem_pool_realloc            (CymemPool       *pool,
                                          gpointer         mem,
                                          gsize            n_bytes) G_GNUC_WARN_UNUSED_RESULT;
CYMEM_AVAILABLE_IN_1_0
gpointer   cymem_pool_try_realloc        (CymemPool       *pool,
                                          gpointer         mem,
                                          gsize            n_bytes) G_GNUC_WARN_UNUSED_RESULT;
CYMEM_AVAILABLE_IN_1_0
void       cymem_pool_free               (CymemPool       *pool,
                                          gpointer         mem);
CYMEM_AVAILABLE_IN_1_0
gboolean   cymem_pool_owns               (CymemPool       *pool,
                                          gconstpointer    mem);
CYMEM_AVAILABLE_IN_1_0
gsize      cymem_pool_get_block_size     (CymemPool       *pool,
                                          gconstpointer    mem);
CYMEM_AVAILABLE_IN_1_0
gsize      cymem_pool_get_size           (CymemPool       *pool);
CYMEM_AVAILABLE_IN_1_0
guint      cymem_pool_get_n_allocations  (CymemPool       *pool);
CYMEM_AVAILABLE_IN_1_0
void       cymem_pool_clear              (CymemPool       *pool);
CYMEM_AVAILABLE_IN_1_0
void       cymem_pool_own                (CymemPool       *pool,
                                          gpointer         data,
                                          GDestroyNotify   destroy);
CYMEM_AVAILABLE_IN_1_0
void       cymem_pool_own_object         (CymemPool       *pool,
                                          gpointer         object);
CYMEM_AVAILABLE_IN_1_0
void       cymem_pool_attach             (CymemPool       *pool,
                                          GObject         *owner);
CYMEM_AVAILABLE_IN_1_0
void       cymem_pool_detach             (CymemPool       *pool,
                                          GObject         *owner);
CYMEM_AVAILABLE_IN_1_0
CymemPool *cymem_pool_get_for_object     (GObject         *owner);
CYMEM_AVAILABLE_IN_1_0
CymemPool *cymem_pool_ensure_for_object  (GObject         *owner);

CYMEM_AVAILABLE_IN_1_0
guint64    cymem_pool_get_limit          (CymemPool       *pool);
CYMEM_AVAILABLE_IN_1_0
void       cymem_pool_set_limit          (CymemPool       *pool,
                                          guint64          limit);
CYMEM_AVAILABLE_IN_1_0
guint64    cymem_pool_get_peak_size      (CymemPool       *pool);
CYMEM_AVAILABLE_IN_1_0
void       cymem_pool_reset_peak_size    (CymemPool       *pool);
CYMEM_AVAILABLE_IN_1_0
void       cymem_pool_foreach            (CymemPool       *pool,
                                          CymemBlockFunc   func,
                                          gpointer         user_data);

/* Strings and copies (cymem-pool-strings.c). */
CYMEM_AVAILABLE_IN_1_0
gchar     *cymem_pool_strdup             (CymemPool       *pool,
                                          const gchar     *str);
CYMEM_AVAILABLE_IN_1_0
gchar     *cymem_pool_strndup            (CymemPool       *pool,
                                          const gchar     *str,
                                          gsize            n);
CYMEM_AVAILABLE_IN_1_0
gpointer   cymem_pool_memdup             (CymemPool       *pool,
                                          gconstpointer    mem,
                                          gsize            n_bytes);
CYMEM_AVAILABLE_IN_1_0
gchar     *cymem_pool_strdup_printf      (CymemPool       *pool,
                                          const gchar     *format,
                                          ...) G_GNUC_PRINTF (2, 3);
CYMEM_AVAILABLE_IN_1_0
gchar     *cymem_pool_strdup_vprintf     (CymemPool       *pool,
                                          const gchar     *format,
                                          va_list          args) G_GNUC_PRINTF (2, 0);

/* Moving blocks and pools of pools (cymem-pool-tree.c). */
CYMEM_AVAILABLE_IN_1_0
gboolean   cymem_pool_steal              (CymemPool       *pool,
                                          CymemPool       *from,
                                          gpointer         mem);
CYMEM_AVAILABLE_IN_1_0
CymemPool *cymem_pool_new_child          (CymemPool       *parent);
CYMEM_AVAILABLE_IN_1_0
void       cymem_pool_disown_object      (CymemPool       *pool,
                                          gpointer         object);

/* The address-based API, for bindings (cymem-pool-address.c). */
CYMEM_AVAILABLE_IN_1_0
guintptr   cymem_pool_alloc_address          (CymemPool     *pool,
                                              gsize          n_elements,
                                              gsize          element_size,
                                              GError       **error);
CYMEM_AVAILABLE_IN_1_0
gboolean   cymem_pool_free_address           (CymemPool     *pool,
                                              guintptr       address,
                                              GError       **error);
CYMEM_AVAILABLE_IN_1_0
guintptr   cymem_pool_realloc_address        (CymemPool     *pool,
                                              guintptr       address,
                                              gsize          n_bytes,
                                              GError       **error);
CYMEM_AVAILABLE_IN_1_0
gboolean   cymem_pool_owns_address           (CymemPool     *pool,
                                              guintptr       address);
CYMEM_AVAILABLE_IN_1_0
gsize      cymem_pool_get_block_size_address (CymemPool     *pool,
                                              guintptr       address,
                                              GError       **error);
CYMEM_AVAILABLE_IN_1_0
GBytes    *cymem_pool_read                   (CymemPool     *pool,
                                              guintptr       address,
                                              gsize          offset,
                                              gsize          length,
                                              GError       **error);
CYMEM_AVAILABLE_IN_1_0
gchar     *cymem_pool_read_string            (CymemPool     *pool,
                                              guintptr       address,
                                              GError       **error);
CYMEM_AVAILABLE_IN_1_0
guintptr   cymem_pool_strdup_address         (CymemPool     *pool,
                                              const gchar   *str,
                                              GError       **error);
CYMEM_AVAILABLE_IN_1_0
guintptr   cymem_pool_memdup_address         (CymemPool     *pool,
                                              const guint8  *data,
                                              gsize          n_bytes,
                                              GError       **error);
CYMEM_AVAILABLE_IN_1_0
gboolean   cymem_pool_steal_address          (CymemPool     *pool,
                                              CymemPool     *from,
                                              guintptr       address,
                                              GError       **error);
CYMEM_AVAILABLE_IN_1_0
void       cymem_pool_foreach_address        (CymemPool     *pool,
                                              CymemAddressFunc func,
                                              gpointer       user_data);
CYMEM_AVAILABLE_IN_1_0
gboolean   cymem_pool_write                  (CymemPool     *pool,
                                              guintptr       address,
                                              gsize          offset,
                                              const guint8  *data,
                                              gsize          n_bytes,
                                              GError       **error);

CYMEM_AVAILABLE_IN_1_2
CymemPool *cymem_pool_get_parent             (CymemPool     *pool);
CYMEM_AVAILABLE_IN_1_2
gboolean   cymem_pool_is_ancestor            (CymemPool     *pool,
                                              CymemPool     *ancestor);
CYMEM_AVAILABLE_IN_1_2
GPtrArray *cymem_pool_list_children          (CymemPool     *pool);
CYMEM_AVAILABLE_IN_1_2
guint64    cymem_pool_get_total_size         (CymemPool     *pool);
CYMEM_AVAILABLE_IN_1_2
void       cymem_pool_set_name               (CymemPool     *pool,
                                              const gchar   *name);
CYMEM_AVAILABLE_IN_1_2
gchar     *cymem_pool_dup_name               (CymemPool     *pool);
CYMEM_AVAILABLE_IN_1_2
gchar     *cymem_pool_report                 (CymemPool     *pool);
CYMEM_AVAILABLE_IN_1_2
void       cymem_pool_disown                 (CymemPool     *pool,
                                              gpointer       data);

CYMEM_AVAILABLE_IN_1_2
void       cymem_trim                        (void);

G_END_DECLS
