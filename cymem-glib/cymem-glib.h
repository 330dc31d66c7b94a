/* cymem-glib.h: the one header to include
 *
 * SPDX-License-Identifier: MIT
 */

#pragma once

#include <glib-object.h>

#define CYMEM_INSIDE
# include "cymem-version.h"
# include "cymem-version-macros.h"
# include "cymem-pool.h"
# include "cymem-enum-types.h"
#undef CYMEM_INSIDE
