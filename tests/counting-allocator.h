/* counting-allocator.h: a custom allocator for tests that records every
 * block it hands out, so a test can prove each one was freed exactly once.
 *
 * SPDX-License-Identifier: MIT
 */

#pragma once

#include <cymem-glib/cymem-glib.h>

G_BEGIN_DECLS

/* Resets the counters; every block from an earlier test must be gone. */
void     counting_reset         (void);
/* The allocator itself, for cymem_pool_new_with_allocator(). It returns
 * memory filled with 0xA5, so tests see whether the pool zeroes it. */
gpointer counting_malloc        (gsize    n_bytes);
void     counting_free          (gpointer mem);
/* Makes the Nth malloc call from now fail (1 = the next one); 0 = never. */
void     counting_fail_at       (guint    n);
guint    counting_n_mallocs     (void);
guint    counting_n_frees       (void);
guint    counting_n_live        (void);
gboolean counting_is_live       (gconstpointer mem);
/* Resets the counters and returns a pool that uses this allocator. */
CymemPool *counting_pool_new    (void);
/* The size the last successful malloc call asked for. */
gsize    counting_last_request  (void);

G_END_DECLS
