/* fuzz-replay.c: runs the fuzz target over files, without libFuzzer
 *
 * SPDX-License-Identifier: MIT
 *
 * So that every build, whatever its compiler, replays the seed corpus as an
 * ordinary test; a libFuzzer build explores from the same corpus.
 */

#include <glib.h>
#include <glib/gstdio.h>

int LLVMFuzzerTestOneInput (const guint8 *data, size_t size);

static guint
replay (const gchar *path)
{
  g_autoptr(GError) error = NULL;
  g_autofree gchar *contents = NULL;
  gsize length;

  if (g_file_test (path, G_FILE_TEST_IS_DIR))
    {
      g_autoptr(GDir) dir = g_dir_open (path, 0, &error);
      const gchar *name;
      guint n = 0;

      g_assert_no_error (error);
      while ((name = g_dir_read_name (dir)) != NULL)
        {
          g_autofree gchar *child = g_build_filename (path, name, NULL);
          n += replay (child);
        }
      return n;
    }

  g_file_get_contents (path, &contents, &length, &error);
  g_assert_no_error (error);
  LLVMFuzzerTestOneInput ((const guint8 *) contents, length);
  return 1;
}

int
main (int   argc,
      char *argv[])
{
  guint n = 0;

  for (int i = 1; i < argc; i++)
    n += replay (argv[i]);

  g_print ("%u inputs replayed\n", n);
  return n > 0 ? 0 : 1;
}
