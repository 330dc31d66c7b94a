/* cymem-pool-private.h: CymemPool internals shared by its source files
 *
 * SPDX-License-Identifier: MIT
 */

#pragma once

#include "cymem-pool.h"
#include "cymem-lock-private.h"
#include "cymem-table-private.h"

G_BEGIN_DECLS

typedef struct
{
  gpointer       data;
  GDestroyNotify destroy;
} CymemCleanup;

struct _CymemPool
{
  GObject          parent_instance;

  CymemLock        lock;       /* guards every field below */
  CymemTable       table;      /* owned blocks: address -> requested size */
  gsize            size;       /* sum of the requested sizes in @table */
  GArray          *cleanups;   /* CymemCleanup, run last-in-first-out; lazily created */

  CymemMallocFunc  malloc_func; /* NULL for the default allocator */
  CymemFreeFunc    free_func;
};

typedef enum
{
  CYMEM_POOL_STATUS_OK,
  CYMEM_POOL_STATUS_NOT_OWNED,
  CYMEM_POOL_STATUS_NO_MEMORY,
} CymemPoolStatus;

/* The pool's operations without argument checks or messages, for the
 * C API and the address-based binding API to report failures their own
 * way. */
gpointer        cymem_pool_try_alloc_internal (CymemPool *self,
                                               gsize      n_elements,
                                               gsize      element_size);
CymemPoolStatus cymem_pool_realloc_internal   (CymemPool *self,
                                               gpointer   mem,
                                               gsize      n_bytes,
                                               gpointer  *new_mem);
gboolean        cymem_pool_free_internal      (CymemPool *self,
                                               gpointer   mem);

G_END_DECLS
