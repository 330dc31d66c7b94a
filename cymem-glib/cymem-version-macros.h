/* cymem-version-macros.h: symbol export and availability macros
 *
 * SPDX-License-Identifier: MIT
 */

#pragma once

#if !defined (CYMEM_INSIDE) && !defined (CYMEM_COMPILATION)
#error "Only <cymem-glib/cymem-glib.h> can be included directly."
#endif

#include <glib.h>

#include "cymem-version.h"

#ifndef CYMEM_EXTERN
# if defined (_WIN32) && defined (CYMEM_COMPILATION)
#  define CYMEM_EXTERN __declspec(dllexport) extern
# elif defined (__GNUC__)
#  define CYMEM_EXTERN __attribute__((visibility ("default"))) extern
# else
#  define CYMEM_EXTERN extern
# endif
#endif

#define CYMEM_VERSION_1_0 (G_ENCODE_VERSION (1, 0))

#define CYMEM_AVAILABLE_IN_ALL CYMEM_EXTERN
#define CYMEM_AVAILABLE_IN_1_0 CYMEM_EXTERN

G_BEGIN_DECLS

CYMEM_AVAILABLE_IN_1_0
guint cymem_get_major_version (void);
CYMEM_AVAILABLE_IN_1_0
guint cymem_get_minor_version (void);
CYMEM_AVAILABLE_IN_1_0
guint cymem_get_micro_version (void);

G_END_DECLS
