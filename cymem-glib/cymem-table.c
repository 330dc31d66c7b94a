/* cymem-table.c: the pool's table of owned addresses, on a GHashTable
 *
 * SPDX-License-Identifier: MIT
 */

#include "config.h"

#include "cymem-table-private.h"

/* Sizes are stored in the value pointer: no allocation per entry beyond the
 * hash table's own arrays. */

void
cymem_table_insert (CymemTable *table,
                    gpointer    mem,
                    gsize       n_bytes)
{
  if (table->blocks == NULL)
    table->blocks = g_hash_table_new (g_direct_hash, g_direct_equal);

  g_hash_table_insert (table->blocks, mem, GSIZE_TO_POINTER (n_bytes));
}

gboolean
cymem_table_lookup (CymemTable    *table,
                    gconstpointer  mem,
                    gsize         *n_bytes)
{
  gpointer value;

  if (table->blocks == NULL ||
      !g_hash_table_lookup_extended (table->blocks, mem, NULL, &value))
    return FALSE;

  if (n_bytes != NULL)
    *n_bytes = GPOINTER_TO_SIZE (value);
  return TRUE;
}

gboolean
cymem_table_remove (CymemTable    *table,
                    gconstpointer  mem,
                    gsize         *n_bytes)
{
  gpointer value;

  if (table->blocks == NULL ||
      !g_hash_table_steal_extended (table->blocks, mem, NULL, &value))
    return FALSE;

  if (n_bytes != NULL)
    *n_bytes = GPOINTER_TO_SIZE (value);
  return TRUE;
}

guint
cymem_table_count (CymemTable *table)
{
  return table->blocks != NULL ? g_hash_table_size (table->blocks) : 0;
}

/* Moves every entry of @src into the empty table @dest, leaving @src empty,
 * so the caller can release the blocks after dropping its lock. */
void
cymem_table_take (CymemTable *dest,
                  CymemTable *src)
{
  g_assert (dest->blocks == NULL);

  dest->blocks = g_steal_pointer (&src->blocks);
}

void
cymem_table_foreach (CymemTable     *table,
                     CymemTableFunc  func,
                     gpointer        user_data)
{
  GHashTableIter iter;
  gpointer key, value;

  if (table->blocks == NULL)
    return;

  g_hash_table_iter_init (&iter, table->blocks);
  while (g_hash_table_iter_next (&iter, &key, &value))
    func (key, GPOINTER_TO_SIZE (value), user_data);
}

/* Calls @func on every entry, then frees the table's own storage. */
void
cymem_table_drain (CymemTable     *table,
                   CymemTableFunc  func,
                   gpointer        user_data)
{
  cymem_table_foreach (table, func, user_data);
  g_clear_pointer (&table->blocks, g_hash_table_unref);
}
