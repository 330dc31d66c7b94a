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
GQuark
cymem_pool_error_quark (void)
{
  static GQuark quark;

  return cymem_quark_once (&quark, "cymem-pool-error-quark");
}

static void
set_unknown_address (GError   **error,
                     guintptr   address)
{
  g_set_error (error, CYMEM_POOL_ERROR, CYMEM_POOL_ERROR_UNKNOWN_ADDRESS,
               "Address 0x%" G_GINT64_MODIFIER "x is not the start of a block of this pool",
               (guint64) address);
}

/* Turns a failed status into the binding API's error. */
static void
set_status_error (GError          **error,
                  CymemPool        *pool,
                  CymemPoolStatus   status,
                  guintptr          address,
                  gsize             n_bytes)
{
  switch (status)
    {
    case CYMEM_POOL_STATUS_NOT_OWNED:
      set_unknown_address (error, address);
      break;
    case CYMEM_POOL_STATUS_OVERFLOW:
      g_set_error (error, CYMEM_POOL_ERROR, CYMEM_POOL_ERROR_NO_MEMORY,
                   "Cannot allocate the block: its size overflows");
      break;
    case CYMEM_POOL_STATUS_NO_MEMORY:
      g_set_error (error, CYMEM_POOL_ERROR, CYMEM_POOL_ERROR_NO_MEMORY,
                   "Cannot allocate %" G_GSIZE_FORMAT " bytes: out of memory", n_bytes);
      break;
    case CYMEM_POOL_STATUS_LIMIT_EXCEEDED:
      g_set_error (error, CYMEM_POOL_ERROR, CYMEM_POOL_ERROR_LIMIT_EXCEEDED,
                   "%" G_GSIZE_FORMAT " more bytes would take the pool over its limit of %"
                   G_GUINT64_FORMAT " bytes", n_bytes, cymem_pool_get_limit (pool));
      break;
    case CYMEM_POOL_STATUS_DIFFERENT_ALLOCATORS:
      g_set_error_literal (error, CYMEM_POOL_ERROR, CYMEM_POOL_ERROR_DIFFERENT_ALLOCATORS,
                           "Blocks cannot move between pools with different allocators");
      break;
    case CYMEM_POOL_STATUS_BUSY:
      g_set_error_literal (error, CYMEM_POOL_ERROR, CYMEM_POOL_ERROR_IN_FOREACH,
                           "The block may still be read by a walk or cleanup of a pool it "
                           "came from, and this pool, being finalized, cannot keep it for "
                           "them; try again once they are done");
      break;
    default:
      g_assert_not_reached ();
    }
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
 * error, the pool's limit a %CYMEM_POOL_ERROR_LIMIT_EXCEEDED error; never an
 * abort.
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
  gpointer mem = NULL;
  CymemPoolStatus status;

  g_return_val_if_fail (CYMEM_IS_POOL (pool), 0);
  g_return_val_if_fail (error == NULL || *error == NULL, 0);

  status = cymem_pool_alloc_internal (pool, n_elements, element_size, &mem);
  if (status != CYMEM_POOL_STATUS_OK)
    {
      set_status_error (error, pool, status, 0, n_elements * element_size);
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
  CymemPoolStatus status;

  g_return_val_if_fail (CYMEM_IS_POOL (pool), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  status = address == 0 ? CYMEM_POOL_STATUS_NOT_OWNED
                        : cymem_pool_free_internal (pool, (gpointer) address);
  if (status != CYMEM_POOL_STATUS_OK)
    {
      set_status_error (error, pool, status, address, 0);
      return FALSE;
    }

  return TRUE;
}

/**
 * cymem_pool_realloc_address: (rename-to cymem_pool_realloc)
 * @pool: a pool
 * @address: the address of a block of @pool, or 0 for a new block
 * @n_bytes: the new size, in bytes; 0 is allowed
 * @error: return location for a #GError
 *
 * Resizes the block at @address, like [method@Cymem.Pool.try_realloc]: it
 * may move, its contents are kept up to the smaller size and a grown tail is
 * zeroed. On failure the old block stays owned and intact. Address 0
 * allocates a new zeroed block, as `realloc (NULL, n)` does (since 1.2).
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
  CymemPoolStatus status;

  g_return_val_if_fail (CYMEM_IS_POOL (pool), 0);
  g_return_val_if_fail (error == NULL || *error == NULL, 0);

  if (address == 0)
    return cymem_pool_alloc_address (pool, 1, n_bytes, error);

  status = cymem_pool_realloc_internal (pool, (gpointer) address, n_bytes, &new_mem);
  if (status != CYMEM_POOL_STATUS_OK)
    {
      set_status_error (error, pool, status, address, n_bytes);
      return 0;
    }

  return (guintptr) new_mem;
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

/* Looks @address up; on success *@n_bytes is the block's size. */
static gboolean
lookup_block (CymemPool  *pool,
              guintptr    address,
              gsize      *n_bytes,
              GError    **error)
{
  gboolean owned;

  cymem_lock_acquire (&pool->lock);
  owned = address != 0 && cymem_table_lookup (&pool->table, (gconstpointer) address, n_bytes);
  cymem_lock_release (&pool->lock);

  if (!owned)
    set_unknown_address (error, address);
  return owned;
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

  if (!lookup_block (pool, address, &n_bytes, error))
    return 0;

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

/* Pins the pool if @address is a block of it and, when @range, if
 * [offset, offset + length) lies inside it: the block's memory then stays
 * valid, even if it is freed meanwhile, until cymem_pool_unpin_unlock().
 * So the copies in and out of blocks run without the lock. */
static gboolean
pin_block (CymemPool  *pool,
           guintptr    address,
           gboolean    range,
           gsize       offset,
           gsize       length,
           gsize      *n_bytes,
           GError    **error)
{
  cymem_lock_acquire (&pool->lock);
  if (address == 0 || !cymem_table_lookup (&pool->table, (gconstpointer) address, n_bytes))
    {
      cymem_lock_release (&pool->lock);
      set_unknown_address (error, address);
      return FALSE;
    }
  if (range && !check_range (*n_bytes, offset, length, error))
    {
      cymem_lock_release (&pool->lock);
      return FALSE;
    }
  pool->table.pins++;
  cymem_lock_release (&pool->lock);

  CYMEM_PERTURB ();
  return TRUE;
}

static void
unpin (CymemPool *pool)
{
  CYMEM_PERTURB ();
  cymem_lock_acquire (&pool->lock);
  cymem_pool_unpin_unlock (pool);
}

static void
set_no_memory (GError **error,
               gsize    n_bytes)
{
  g_set_error (error, CYMEM_POOL_ERROR, CYMEM_POOL_ERROR_NO_MEMORY,
               "Cannot allocate %" G_GSIZE_FORMAT " bytes: out of memory", n_bytes);
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
  guint8 *copy;
  gsize n_bytes;

  g_return_val_if_fail (CYMEM_IS_POOL (pool), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!pin_block (pool, address, TRUE, offset, length, &n_bytes, error))
    return NULL;

  /* The table is pinned: the block cannot be released midway. */
  copy = g_try_malloc (MAX (length, 1));
  if (copy != NULL)
    memcpy (copy, (const guint8 *) address + offset, length);
  unpin (pool);

  if (copy == NULL)
    {
      set_no_memory (error, length);
      return NULL;
    }
  return g_bytes_new_take (copy, length);
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
  gsize block_bytes;

  g_return_val_if_fail (CYMEM_IS_POOL (pool), FALSE);
  g_return_val_if_fail (data != NULL || n_bytes == 0, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!pin_block (pool, address, TRUE, offset, n_bytes, &block_bytes, error))
    return FALSE;

  if (n_bytes > 0)
    memcpy ((guint8 *) address + offset, data, n_bytes);
  unpin (pool);

  return TRUE;
}

/**
 * cymem_pool_read_string:
 * @pool: a pool
 * @address: the address of a block of @pool holding a nul-terminated string
 * @error: return location for a #GError
 *
 * Copies out the string that starts a block, such as one made by
 * [method@Cymem.Pool.strdup_address]. A block with no nul byte is a
 * %CYMEM_POOL_ERROR_OUT_OF_BOUNDS error.
 *
 * Returns: (transfer full): a copy of the string, or %NULL with @error set
 *
 * Since: 1.0
 */
gchar *
cymem_pool_read_string (CymemPool  *pool,
                        guintptr    address,
                        GError    **error)
{
  const gchar *end;
  gchar *str = NULL;
  gsize n_bytes, len = 0;

  g_return_val_if_fail (CYMEM_IS_POOL (pool), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!pin_block (pool, address, FALSE, 0, 0, &n_bytes, error))
    return NULL;

  end = memchr ((const gchar *) address, '\0', n_bytes);
  if (end != NULL)
    {
      len = end - (const gchar *) address;
      str = g_try_malloc (len + 1);
      if (str != NULL)
        memcpy (str, (const gchar *) address, len + 1);
    }
  unpin (pool);

  if (end == NULL)
    g_set_error (error, CYMEM_POOL_ERROR, CYMEM_POOL_ERROR_OUT_OF_BOUNDS,
                 "The block of %" G_GSIZE_FORMAT " bytes holds no nul-terminated string",
                 n_bytes);
  else if (str == NULL)
    set_no_memory (error, len + 1);
  return str;
}

/* The binding counterpart of the strdup and memdup family: the copy's
 * address, or 0 with @error set. */
static guintptr
copy_to_address (CymemPool      *pool,
                 gconstpointer   src,
                 gsize           n_copy,
                 gsize           n_alloc,
                 GError        **error)
{
  gpointer mem = NULL;
  CymemPoolStatus status = cymem_pool_copy_internal (pool, src, n_copy, n_alloc, &mem);

  if (status != CYMEM_POOL_STATUS_OK)
    set_status_error (error, pool, status, 0, n_alloc);
  return (guintptr) mem;
}

/**
 * cymem_pool_strdup_address: (rename-to cymem_pool_strdup)
 * @pool: a pool
 * @str: the string to copy
 * @error: return location for a #GError
 *
 * Copies a string into a new nul-terminated block of @pool, like
 * [method@Cymem.Pool.strdup], and returns its address.
 *
 * Returns: the block's address, or 0 with @error set
 *
 * Since: 1.0
 */
guintptr
cymem_pool_strdup_address (CymemPool    *pool,
                           const gchar  *str,
                           GError      **error)
{
  gsize len;

  g_return_val_if_fail (CYMEM_IS_POOL (pool), 0);
  g_return_val_if_fail (str != NULL, 0);
  g_return_val_if_fail (error == NULL || *error == NULL, 0);

  len = strlen (str);
  return copy_to_address (pool, str, len, len + 1, error);
}

/**
 * cymem_pool_memdup_address: (rename-to cymem_pool_memdup)
 * @pool: a pool
 * @data: (array length=n_bytes) (element-type guint8): the bytes to copy
 * @n_bytes: the number of bytes in @data
 * @error: return location for a #GError
 *
 * Copies bytes into a new block of @pool, like [method@Cymem.Pool.memdup],
 * and returns its address.
 *
 * Returns: the block's address, or 0 with @error set
 *
 * Since: 1.0
 */
guintptr
cymem_pool_memdup_address (CymemPool     *pool,
                           const guint8  *data,
                           gsize          n_bytes,
                           GError       **error)
{
  g_return_val_if_fail (CYMEM_IS_POOL (pool), 0);
  g_return_val_if_fail (data != NULL || n_bytes == 0, 0);
  g_return_val_if_fail (error == NULL || *error == NULL, 0);

  return copy_to_address (pool, data, n_bytes, n_bytes, error);
}

/**
 * cymem_pool_steal_address: (rename-to cymem_pool_steal)
 * @pool: the pool to move the block to
 * @from: the pool that owns it now
 * @address: the address of a block of @from
 * @error: return location for a #GError
 *
 * Moves the block at @address from @from to @pool, like
 * [method@Cymem.Pool.steal]. Each refusal is an error:
 * %CYMEM_POOL_ERROR_UNKNOWN_ADDRESS, %CYMEM_POOL_ERROR_DIFFERENT_ALLOCATORS,
 * %CYMEM_POOL_ERROR_LIMIT_EXCEEDED, %CYMEM_POOL_ERROR_NO_MEMORY, or (since
 * 1.2.1, when @pool is being finalized and a walk may be reading the block,
 * see [method@Cymem.Pool.steal]) %CYMEM_POOL_ERROR_IN_FOREACH. It never emits a critical
 * warning.
 *
 * Returns: %TRUE if @pool now owns the block
 *
 * Since: 1.0
 */
gboolean
cymem_pool_steal_address (CymemPool  *pool,
                          CymemPool  *from,
                          guintptr    address,
                          GError    **error)
{
  CymemPoolStatus status;
  gsize n_bytes = 0;

  g_return_val_if_fail (CYMEM_IS_POOL (pool), FALSE);
  g_return_val_if_fail (CYMEM_IS_POOL (from), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  status = address == 0 ? CYMEM_POOL_STATUS_NOT_OWNED
                        : cymem_pool_steal_internal (pool, from, (gpointer) address, &n_bytes);
  if (status != CYMEM_POOL_STATUS_OK)
    {
      /* The size comes with the status: looking it up again could race
       * with another thread, and report through a critical. */
      set_status_error (error, pool, status, address, n_bytes);
      return FALSE;
    }

  return TRUE;
}

typedef struct
{
  CymemAddressFunc func;
  gpointer         user_data;
} AddressWalk;

static void
call_with_address (gpointer mem,
                   gsize    n_bytes,
                   gpointer user_data)
{
  AddressWalk *walk = user_data;

  walk->func ((guintptr) mem, n_bytes, walk->user_data);
}

/**
 * cymem_pool_foreach_address: (rename-to cymem_pool_foreach)
 * @pool: a pool
 * @func: (scope call): the function to call for each block
 * @user_data: data to pass to @func
 *
 * Calls @func with the address and size of each block @pool owns, oldest
 * first, like [method@Cymem.Pool.foreach], which says what @func may do
 * (anything) and which blocks it sees.
 *
 * Since: 1.0
 */
void
cymem_pool_foreach_address (CymemPool        *pool,
                            CymemAddressFunc  func,
                            gpointer          user_data)
{
  AddressWalk walk = { func, user_data };

  g_return_if_fail (CYMEM_IS_POOL (pool));
  g_return_if_fail (func != NULL);

  cymem_pool_foreach (pool, call_with_address, &walk);
}
