/* uses.c: compiled, never run, by check-version-macros.py with different
 * CYMEM_VERSION_MIN_REQUIRED / CYMEM_VERSION_MAX_ALLOWED settings.
 *
 * SPDX-License-Identifier: MIT
 */

#include <cymem-glib/cymem-glib.h>

/* No public function is deprecated yet, so these stand-ins carry the
 * macros a future header would put on them. */
CYMEM_DEPRECATED_IN_1_2_FOR (cymem_pool_alloc)
void cymem_stand_in_deprecated_in_1_2 (void);
CYMEM_DEPRECATED_IN_1_0
void cymem_stand_in_deprecated_in_1_0 (void);

void uses (void);

void
uses (void)
{
  CymemPool *pool = cymem_pool_new ();

  cymem_pool_free (pool, cymem_pool_alloc (pool, 4, 8));
#ifdef USE_ADDED_IN_1_2
  g_free (cymem_pool_report (pool));
#endif
#ifdef USE_DEPRECATED_IN_1_2
  cymem_stand_in_deprecated_in_1_2 ();
#endif
#ifdef USE_DEPRECATED_IN_1_0
  cymem_stand_in_deprecated_in_1_0 ();
#endif
  g_object_unref (pool);
}
