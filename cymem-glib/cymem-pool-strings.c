/* cymem-pool-strings.c: strings and copies owned by a pool
 *
 * SPDX-License-Identifier: MIT
 *
 * The pool's counterparts of g_strdup() and friends (talloc_strdup,
 * apr_pstrdup). They report failure, an allocator failure or the pool's
 * limit, with NULL, like the try_ functions.
 */

#include "config.h"

#include <string.h>

#include "cymem-pool-private.h"

/* The copy is written before the block is recorded, so no other thread
 * (a clear, a walk) can see, or free, a half-written block. */
CymemPoolStatus
cymem_pool_copy_internal (CymemPool     *self,
                          gconstpointer  src,
                          gsize          n_copy,
                          gsize          n_alloc,
                          gpointer      *mem)
{
  gsize reserved;
  CymemPoolStatus status = cymem_pool_block_new (self, n_alloc, mem, &reserved);

  if (status != CYMEM_POOL_STATUS_OK)
    return status;
  if (n_copy > 0)
    memcpy (*mem, src, n_copy);
  status = cymem_pool_record (self, *mem, n_alloc, reserved);
  if (status != CYMEM_POOL_STATUS_OK)
    *mem = NULL;
  return status;
}

static gpointer
pool_copy (CymemPool     *pool,
           gconstpointer  src,
           gsize          n_copy,
           gsize          n_alloc,
           const char    *func)
{
  gpointer mem = NULL;
  CymemPoolStatus status = cymem_pool_copy_internal (pool, src, n_copy, n_alloc, &mem);

  if (status != CYMEM_POOL_STATUS_OK)
    cymem_pool_warn_status (pool, status, func, NULL);
  return mem;
}

/**
 * cymem_pool_strdup: (skip)
 * @pool: a pool
 * @str: (nullable): the string to copy
 *
 * Copies a string into a block of @pool.
 *
 * Returns: (transfer none) (nullable): the copy, or %NULL if @str is %NULL
 *   or the allocation failed
 *
 * Since: 1.0
 */
gchar *
cymem_pool_strdup (CymemPool   *pool,
                   const gchar *str)
{
  gsize len;

  g_return_val_if_fail (CYMEM_IS_POOL (pool), NULL);

  if (str == NULL)
    return NULL;

  len = strlen (str);
  return pool_copy (pool, str, len, len + 1, G_STRFUNC);
}

/**
 * cymem_pool_strndup: (skip)
 * @pool: a pool
 * @str: (nullable): the string to copy
 * @n: the most bytes to copy
 *
 * Copies at most @n bytes of a string into a block of @pool, always
 * nul-terminated.
 *
 * Returns: (transfer none) (nullable): the copy, or %NULL if @str is %NULL
 *   or the allocation failed
 *
 * Since: 1.0
 */
gchar *
cymem_pool_strndup (CymemPool   *pool,
                    const gchar *str,
                    gsize        n)
{
  gsize len;

  g_return_val_if_fail (CYMEM_IS_POOL (pool), NULL);

  if (str == NULL)
    return NULL;

  len = strnlen (str, n);
  return pool_copy (pool, str, len, len + 1, G_STRFUNC);
}

/**
 * cymem_pool_memdup: (skip)
 * @pool: a pool
 * @mem: (nullable): the memory to copy
 * @n_bytes: the number of bytes to copy
 *
 * Copies @n_bytes bytes into a block of @pool. As with g_memdup2(), a %NULL
 * @mem gives %NULL; 0 bytes give a 0-byte block.
 *
 * Returns: (transfer none) (nullable): the copy, or %NULL if @mem is %NULL
 *   or the allocation failed
 *
 * Since: 1.0
 */
gpointer
cymem_pool_memdup (CymemPool     *pool,
                   gconstpointer  mem,
                   gsize          n_bytes)
{
  g_return_val_if_fail (CYMEM_IS_POOL (pool), NULL);

  if (mem == NULL)
    return NULL;

  return pool_copy (pool, mem, n_bytes, n_bytes, G_STRFUNC);
}

/**
 * cymem_pool_strdup_vprintf: (skip)
 * @pool: a pool
 * @format: a printf() format
 * @args: the arguments for @format
 *
 * Formats a string, like g_strdup_vprintf(), into a block of @pool.
 *
 * Returns: (transfer none) (nullable): the string, or %NULL if the
 *   allocation failed
 *
 * Since: 1.0
 */
gchar *
cymem_pool_strdup_vprintf (CymemPool   *pool,
                           const gchar *format,
                           va_list      args)
{
  g_autofree gchar *formatted = NULL;
  gsize len;

  g_return_val_if_fail (CYMEM_IS_POOL (pool), NULL);
  g_return_val_if_fail (format != NULL, NULL);

  formatted = g_strdup_vprintf (format, args);
  len = strlen (formatted);
  return pool_copy (pool, formatted, len, len + 1, G_STRFUNC);
}

/**
 * cymem_pool_strdup_printf: (skip)
 * @pool: a pool
 * @format: a printf() format
 * @...: the arguments for @format
 *
 * Formats a string, like g_strdup_printf(), into a block of @pool.
 *
 * Returns: (transfer none) (nullable): the string, or %NULL if the
 *   allocation failed
 *
 * Since: 1.0
 */
gchar *
cymem_pool_strdup_printf (CymemPool   *pool,
                          const gchar *format,
                          ...)
{
  gchar *str;
  va_list args;

  g_return_val_if_fail (CYMEM_IS_POOL (pool), NULL);
  g_return_val_if_fail (format != NULL, NULL);

  va_start (args, format);
  str = cymem_pool_strdup_vprintf (pool, format, args);
  va_end (args);

  return str;
}
