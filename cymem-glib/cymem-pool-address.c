/* cymem-pool-address.c: the address-based API, for bindings
 *
 * SPDX-License-Identifier: MIT
 *
 * PyGObject and GJS cannot pass raw pointers, so these functions name a
 * block by its address as an integer. Every address is checked against the
 * pool's table before anything is read, written or freed, so a wrong integer
 * gets a GError instead of crashing the process or freeing foreign memory.
 */

#include "config.h"

#include <string.h>

#include "cymem-pool-private.h"

/**
 * cymem_pool_error_quark:
 *
 * The quark of the %CYMEM_POOL_ERROR error domain.
 *
 * Returns: the error domain's quark
 *
 * Since: 1.0
 */
G_DEFINE_QUARK (cymem-pool-error-quark, cymem_pool_error)

static void
set_unknown_address (GError   **error,
                     guintptr   address)
{
  g_set_error (error, CYMEM_POOL_ERROR, CYMEM_POOL_ERROR_UNKNOWN_ADDRESS,
               "Address 0x%" G_GINT64_MODIFIER "x is not the start of a block of this pool",
               (guint64) address);
}

/**
 * cymem_pool_alloc_address: (rename-to cymem_pool_alloc)
 * @pool: a pool
 * @n_elements: the number of elements
 * @element_size: the size of one element, in bytes
 * @error: return location for a #GError
 *
 * Allocates a zeroed block of @n_elements × @element_size bytes owned by
 * @pool, like [method@Cymem.Pool.try_alloc], and returns its address. A size
 * that overflows or an allocator failure is a %CYMEM_POOL_ERROR_NO_MEMORY
 * error, never an abort.
 *
 * Returns: the block's address, or 0 with @error set
 *
 * Since: 1.0
 */
guintptr
cymem_pool_alloc_address (CymemPool  *pool,
                          gsize       n_elements,
                          gsize       element_size,
                          GError    **error)
{
  gpointer mem;
  gsize n_bytes;

  g_return_val_if_fail (CYMEM_IS_POOL (pool), 0);
  g_return_val_if_fail (error == NULL || *error == NULL, 0);

  if (!g_size_checked_mul (&n_bytes, n_elements, element_size))
    {
      g_set_error (error, CYMEM_POOL_ERROR, CYMEM_POOL_ERROR_NO_MEMORY,
                   "Cannot allocate %" G_GSIZE_FORMAT " × %" G_GSIZE_FORMAT
                   " bytes: the size overflows", n_elements, element_size);
      return 0;
    }

  mem = cymem_pool_try_alloc_internal (pool, n_elements, element_size);
  if (mem == NULL)
    {
      g_set_error (error, CYMEM_POOL_ERROR, CYMEM_POOL_ERROR_NO_MEMORY,
                   "Cannot allocate %" G_GSIZE_FORMAT " bytes: out of memory", n_bytes);
      return 0;
    }

  return (guintptr) mem;
}

/**
 * cymem_pool_free_address: (rename-to cymem_pool_free)
 * @pool: a pool
 * @address: the address of a block of @pool
 * @error: return location for a #GError
 *
 * Frees the block at @address, like [method@Cymem.Pool.free]. An address
 * that is not the start of a block of @pool, 0 included, is a
 * %CYMEM_POOL_ERROR_UNKNOWN_ADDRESS error and nothing is freed.
 *
 * Returns: %TRUE if the block was freed
 *
 * Since: 1.0
 */
gboolean
cymem_pool_free_address (CymemPool  *pool,
                         guintptr    address,
                         GError    **error)
{
  g_return_val_if_fail (CYMEM_IS_POOL (pool), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (address == 0 || !cymem_pool_free_internal (pool, (gpointer) address))
    {
      set_unknown_address (error, address);
      return FALSE;
    }

  return TRUE;
}

/**
 * cymem_pool_realloc_address: (rename-to cymem_pool_realloc)
 * @pool: a pool
 * @address: the address of a block of @pool
 * @n_bytes: the new size, in bytes; 0 is allowed
 * @error: return location for a #GError
 *
 * Resizes the block at @address, like [method@Cymem.Pool.try_realloc]: it
 * may move, its contents are kept up to the smaller size and a grown tail is
 * zeroed. On failure the old block stays owned and intact.
 *
 * Returns: the block's new address, or 0 with @error set
 *
 * Since: 1.0
 */
guintptr
cymem_pool_realloc_address (CymemPool  *pool,
                            guintptr    address,
                            gsize       n_bytes,
                            GError    **error)
{
  gpointer new_mem = NULL;

  g_return_val_if_fail (CYMEM_IS_POOL (pool), 0);
  g_return_val_if_fail (error == NULL || *error == NULL, 0);

  if (address == 0)
    {
      set_unknown_address (error, address);
      return 0;
    }

  switch (cymem_pool_realloc_internal (pool, (gpointer) address, n_bytes, &new_mem))
    {
    case CYMEM_POOL_STATUS_OK:
      return (guintptr) new_mem;
    case CYMEM_POOL_STATUS_NOT_OWNED:
      set_unknown_address (error, address);
      return 0;
    case CYMEM_POOL_STATUS_NO_MEMORY:
      g_set_error (error, CYMEM_POOL_ERROR, CYMEM_POOL_ERROR_NO_MEMORY,
                   "Cannot resize the block to %" G_GSIZE_FORMAT " bytes: out of memory",
                   n_bytes);
      return 0;
    default:
      g_assert_not_reached ();
    }
}

/**
 * cymem_pool_owns_address: (rename-to cymem_pool_owns)
 * @pool: a pool
 * @address: any address
 *
 * Checks whether @address is the start of a block @pool currently owns.
 *
 * Returns: %TRUE if @pool owns the block at @address
 *
 * Since: 1.0
 */
gboolean
cymem_pool_owns_address (CymemPool *pool,
                         guintptr   address)
{
  g_return_val_if_fail (CYMEM_IS_POOL (pool), FALSE);

  return cymem_pool_owns (pool, (gconstpointer) address);
}

/* Looks @address up with the pool locked; on success the lock stays held
 * for the caller to release. */
static gboolean
lock_block (CymemPool  *pool,
            guintptr    address,
            gsize      *n_bytes,
            GError    **error)
{
  cymem_lock_acquire (&pool->lock);
  if (address != 0 && cymem_table_lookup (&pool->table, (gconstpointer) address, n_bytes))
    return TRUE;
  cymem_lock_release (&pool->lock);

  set_unknown_address (error, address);
  return FALSE;
}

/**
 * cymem_pool_get_block_size_address: (rename-to cymem_pool_get_block_size)
 * @pool: a pool
 * @address: the address of a block of @pool
 * @error: return location for a #GError
 *
 * Gets the size the block at @address was requested with.
 *
 * Returns: the block's size in bytes, or 0 with @error set
 *
 * Since: 1.0
 */
gsize
cymem_pool_get_block_size_address (CymemPool  *pool,
                                   guintptr    address,
                                   GError    **error)
{
  gsize n_bytes;

  g_return_val_if_fail (CYMEM_IS_POOL (pool), 0);
  g_return_val_if_fail (error == NULL || *error == NULL, 0);

  if (!lock_block (pool, address, &n_bytes, error))
    return 0;
  cymem_lock_release (&pool->lock);

  return n_bytes;
}

/* Checks that [offset, offset + length) lies inside a block of @n_bytes,
 * without computing offset + length, which could wrap. */
static gboolean
check_range (gsize     n_bytes,
             gsize     offset,
             gsize     length,
             GError  **error)
{
  if (offset <= n_bytes && length <= n_bytes - offset)
    return TRUE;

  g_set_error (error, CYMEM_POOL_ERROR, CYMEM_POOL_ERROR_OUT_OF_BOUNDS,
               "%" G_GSIZE_FORMAT " bytes at offset %" G_GSIZE_FORMAT
               " do not fit in a block of %" G_GSIZE_FORMAT " bytes",
               length, offset, n_bytes);
  return FALSE;
}

/* Locks the pool if [offset, offset + length) lies inside the block at
 * @address; on success the lock stays held for the caller to release. */
static gboolean
lock_range (CymemPool  *pool,
            guintptr    address,
            gsize       offset,
            gsize       length,
            GError    **error)
{
  gsize n_bytes;

  if (!lock_block (pool, address, &n_bytes, error))
    return FALSE;

  if (!check_range (n_bytes, offset, length, error))
    {
      cymem_lock_release (&pool->lock);
      return FALSE;
    }

  return TRUE;
}

/**
 * cymem_pool_read:
 * @pool: a pool
 * @address: the address of a block of @pool
 * @offset: where to start reading, in bytes from the start of the block
 * @length: how many bytes to read
 * @error: return location for a #GError
 *
 * Copies bytes out of a block. A range that does not lie inside the block is
 * a %CYMEM_POOL_ERROR_OUT_OF_BOUNDS error.
 *
 * Returns: (transfer full): a copy of the bytes, or %NULL with @error set
 *
 * Since: 1.0
 */
GBytes *
cymem_pool_read (CymemPool  *pool,
                 guintptr    address,
                 gsize       offset,
                 gsize       length,
                 GError    **error)
{
  GBytes *bytes;

  g_return_val_if_fail (CYMEM_IS_POOL (pool), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!lock_range (pool, address, offset, length, error))
    return NULL;

  /* Copied under the lock, so another thread cannot free the block midway. */
  bytes = g_bytes_new ((const guint8 *) address + offset, length);
  cymem_lock_release (&pool->lock);

  return bytes;
}

/**
 * cymem_pool_write:
 * @pool: a pool
 * @address: the address of a block of @pool
 * @offset: where to start writing, in bytes from the start of the block
 * @data: (array length=n_bytes) (element-type guint8): the bytes to write
 * @n_bytes: the number of bytes in @data
 * @error: return location for a #GError
 *
 * Copies bytes into a block. A range that does not lie inside the block is
 * a %CYMEM_POOL_ERROR_OUT_OF_BOUNDS error, and nothing is written.
 *
 * Returns: %TRUE if the bytes were written
 *
 * Since: 1.0
 */
gboolean
cymem_pool_write (CymemPool     *pool,
                  guintptr       address,
                  gsize          offset,
                  const guint8  *data,
                  gsize          n_bytes,
                  GError       **error)
{
  g_return_val_if_fail (CYMEM_IS_POOL (pool), FALSE);
  g_return_val_if_fail (data != NULL || n_bytes == 0, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!lock_range (pool, address, offset, n_bytes, error))
    return FALSE;

  if (n_bytes > 0)
    memcpy ((guint8 *) address + offset, data, n_bytes);
  cymem_lock_release (&pool->lock);

  return TRUE;
}
