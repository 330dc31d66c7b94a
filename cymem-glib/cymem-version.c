/* cymem-version.c: the version of the library at run time
 *
 * SPDX-License-Identifier: MIT
 */

#include "config.h"

#include "cymem-glib.h"

/**
 * cymem_get_major_version:
 *
 * Gets the major version of the cymem-glib library the program runs with,
 * which can differ from %CYMEM_MAJOR_VERSION, the one it was built against.
 *
 * Returns: the major version
 *
 * Since: 1.0
 */
guint
cymem_get_major_version (void)
{
  return CYMEM_MAJOR_VERSION;
}

/**
 * cymem_get_minor_version:
 *
 * Gets the minor version of the cymem-glib library the program runs with.
 *
 * Returns: the minor version
 *
 * Since: 1.0
 */
guint
cymem_get_minor_version (void)
{
  return CYMEM_MINOR_VERSION;
}

/**
 * cymem_get_micro_version:
 *
 * Gets the micro version of the cymem-glib library the program runs with.
 *
 * Returns: the micro version
 *
 * Since: 1.0
 */
guint
cymem_get_micro_version (void)
{
  return CYMEM_MICRO_VERSION;
}
