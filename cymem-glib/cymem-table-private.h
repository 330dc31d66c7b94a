/* cymem-table-private.h: the pool's table of owned addresses
 *
 * SPDX-License-Identifier: MIT
 *
 * A map from a block's start address to its requested size. The pool only
 * ever talks to the table through these functions, so the structure behind
 * them can change without touching the pool. None of them lock: the pool
 * holds its mutex around every call.
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct
{
  GHashTable *blocks; /* created on first insert */
} CymemTable;

typedef void (*CymemTableFunc) (gpointer mem,
                                gsize    n_bytes,
                                gpointer user_data);

#define CYMEM_TABLE_INIT { NULL }

void     cymem_table_insert  (CymemTable    *table,
                              gpointer       mem,
                              gsize          n_bytes);
gboolean cymem_table_lookup  (CymemTable    *table,
                              gconstpointer  mem,
                              gsize         *n_bytes);
gboolean cymem_table_remove  (CymemTable    *table,
                              gconstpointer  mem,
                              gsize         *n_bytes);
guint    cymem_table_count   (CymemTable    *table);
void     cymem_table_take    (CymemTable    *dest,
                              CymemTable    *src);
void     cymem_table_foreach (CymemTable    *table,
                              CymemTableFunc func,
                              gpointer       user_data);
void     cymem_table_drain   (CymemTable    *table,
                              CymemTableFunc func,
                              gpointer       user_data);

G_END_DECLS
