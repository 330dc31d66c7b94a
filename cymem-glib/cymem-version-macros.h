/* cymem-version-macros.h: symbol export and availability macros
 *
 * SPDX-License-Identifier: MIT
 *
 * As in GLib, json-glib and libdex: a program states the range of
 * cymem-glib versions it targets,
 *
 *   -DCYMEM_VERSION_MIN_REQUIRED=CYMEM_VERSION_1_0
 *   -DCYMEM_VERSION_MAX_ALLOWED=CYMEM_VERSION_1_0
 *
 * and the compiler warns (an error with -Werror) when it uses a function
 * added after MAX_ALLOWED, or one deprecated in or before MIN_REQUIRED.
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

/* The versions that CYMEM_VERSION_MIN_REQUIRED and CYMEM_VERSION_MAX_ALLOWED
 * take (see docs/stability.md). */
#define CYMEM_VERSION_1_0 (G_ENCODE_VERSION (1, 0))

#define CYMEM_VERSION_1_2 (G_ENCODE_VERSION (1, 2))

/* The stable version these headers belong to: during a development cycle
 * (an odd minor version), the next stable one. */
#if (CYMEM_MINOR_VERSION % 2)
# define CYMEM_VERSION_CUR_STABLE (G_ENCODE_VERSION (CYMEM_MAJOR_VERSION, CYMEM_MINOR_VERSION + 1))
#else
# define CYMEM_VERSION_CUR_STABLE (G_ENCODE_VERSION (CYMEM_MAJOR_VERSION, CYMEM_MINOR_VERSION))
#endif

/* CYMEM_VERSION_MIN_REQUIRED: the oldest cymem-glib the including code must
 * still build against; functions deprecated in this version or earlier warn
 * when used. Defaults to the version of these headers. */
#ifndef CYMEM_VERSION_MIN_REQUIRED
# define CYMEM_VERSION_MIN_REQUIRED (CYMEM_VERSION_CUR_STABLE)
#endif

/* CYMEM_VERSION_MAX_ALLOWED: the newest cymem-glib API the including code
 * may use; functions added after this version warn when used. Defaults to
 * the version of these headers, or to CYMEM_VERSION_MIN_REQUIRED when that
 * is newer. */
#ifndef CYMEM_VERSION_MAX_ALLOWED
# if CYMEM_VERSION_MIN_REQUIRED > CYMEM_VERSION_CUR_STABLE
#  define CYMEM_VERSION_MAX_ALLOWED (CYMEM_VERSION_MIN_REQUIRED)
# else
#  define CYMEM_VERSION_MAX_ALLOWED (CYMEM_VERSION_CUR_STABLE)
# endif
#endif

#if CYMEM_VERSION_MAX_ALLOWED < CYMEM_VERSION_MIN_REQUIRED
# error "CYMEM_VERSION_MAX_ALLOWED must be >= CYMEM_VERSION_MIN_REQUIRED"
#endif
#if CYMEM_VERSION_MIN_REQUIRED < CYMEM_VERSION_1_0
# error "CYMEM_VERSION_MIN_REQUIRED must be >= CYMEM_VERSION_1_0"
#endif

/**
 * CYMEM_DEPRECATED_FOR:
 * @f: the function to use instead
 *
 * Marks a declaration as deprecated in favour of @f, unless
 * `CYMEM_DISABLE_DEPRECATION_WARNINGS` is defined.
 *
 * Since: 1.0
 */

/**
 * CYMEM_UNAVAILABLE:
 * @maj: the major version that added the declaration
 * @min: the minor version that added the declaration
 *
 * Marks a declaration newer than `CYMEM_VERSION_MAX_ALLOWED`: using it warns
 * "Not available before @maj.@min".
 *
 * Since: 1.0
 */

/**
 * CYMEM_DEPRECATED_IN_1_0_FOR:
 * @f: the function to use instead
 *
 * Marks a declaration deprecated in cymem-glib 1.0 in favour of @f; it warns
 * when `CYMEM_VERSION_MIN_REQUIRED` is 1.0 or later.
 *
 * Since: 1.0
 */

/**
 * CYMEM_DEPRECATED_IN_1_2_FOR:
 * @f: the function to use instead
 *
 * Marks a declaration deprecated in cymem-glib 1.2 in favour of @f; it warns
 * when `CYMEM_VERSION_MIN_REQUIRED` is 1.2 or later.
 *
 * Since: 1.0
 */

#if defined (CYMEM_DISABLE_DEPRECATION_WARNINGS) || defined (CYMEM_COMPILATION)
# define CYMEM_DEPRECATED CYMEM_EXTERN
# define CYMEM_DEPRECATED_FOR(f) CYMEM_EXTERN
# define CYMEM_UNAVAILABLE(maj,min) CYMEM_EXTERN
#else
# define CYMEM_DEPRECATED G_DEPRECATED CYMEM_EXTERN
# define CYMEM_DEPRECATED_FOR(f) G_DEPRECATED_FOR (f) CYMEM_EXTERN
# define CYMEM_UNAVAILABLE(maj,min) G_UNAVAILABLE (maj, min) CYMEM_EXTERN
#endif

#define CYMEM_AVAILABLE_IN_ALL CYMEM_EXTERN

/* 1.0 */
#if CYMEM_VERSION_MIN_REQUIRED >= CYMEM_VERSION_1_0
# define CYMEM_DEPRECATED_IN_1_0 CYMEM_DEPRECATED
# define CYMEM_DEPRECATED_IN_1_0_FOR(f) CYMEM_DEPRECATED_FOR (f)
#else
# define CYMEM_DEPRECATED_IN_1_0 CYMEM_EXTERN
# define CYMEM_DEPRECATED_IN_1_0_FOR(f) CYMEM_EXTERN
#endif
#if CYMEM_VERSION_MAX_ALLOWED < CYMEM_VERSION_1_0
# define CYMEM_AVAILABLE_IN_1_0 CYMEM_UNAVAILABLE (1, 0)
#else
# define CYMEM_AVAILABLE_IN_1_0 CYMEM_EXTERN
#endif

/* 1.2 */
#if CYMEM_VERSION_MIN_REQUIRED >= CYMEM_VERSION_1_2
# define CYMEM_DEPRECATED_IN_1_2 CYMEM_DEPRECATED
# define CYMEM_DEPRECATED_IN_1_2_FOR(f) CYMEM_DEPRECATED_FOR (f)
#else
# define CYMEM_DEPRECATED_IN_1_2 CYMEM_EXTERN
# define CYMEM_DEPRECATED_IN_1_2_FOR(f) CYMEM_EXTERN
#endif
#if CYMEM_VERSION_MAX_ALLOWED < CYMEM_VERSION_1_2
# define CYMEM_AVAILABLE_IN_1_2 CYMEM_UNAVAILABLE (1, 2)
#else
# define CYMEM_AVAILABLE_IN_1_2 CYMEM_EXTERN
#endif

G_BEGIN_DECLS

CYMEM_AVAILABLE_IN_1_0
guint cymem_get_major_version (void);
CYMEM_AVAILABLE_IN_1_0
guint cymem_get_minor_version (void);
CYMEM_AVAILABLE_IN_1_0
guint cymem_get_micro_version (void);

G_END_DECLS
