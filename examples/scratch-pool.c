/* scratch-pool.c: a temporary pool for one piece of work, with g_autoptr
 *
 * SPDX-License-Identifier: MIT
 *
 * spaCy's answer to unbounded growth in long-running services is a pool per
 * request. g_autoptr makes that scope-bound in C: everything allocated
 * while handling the request is freed when the function returns, on every
 * path, with a budget so that one bad request cannot take all the memory.
 */

#include <string.h>

#include <cymem-glib/cymem-glib.h>

static gboolean
handle_request (const gchar *query,
                guint64     *peak)
{
  g_autoptr(CymemPool) scratch = cymem_pool_new ();
  gchar **tokens;
  guint n = 0;

  cymem_pool_set_limit (scratch, 4096);

  /* Tokenize into pool memory; no g_strfreev needed on any path. */
  tokens = cymem_pool_alloc (scratch, 64, sizeof (gchar *));
  for (const gchar *p = query; *p != '\0' && n < 64; )
    {
      const gchar *end = strchr (p, ' ');
      gsize len = end != NULL ? (gsize) (end - p) : strlen (p);

      tokens[n] = cymem_pool_strndup (scratch, p, len);
      if (tokens[n] == NULL)
        {
          g_print ("  request refused: over its 4096-byte budget\n");
          return FALSE;   /* the pool is still freed */
        }
      n++;
      p += len + (end != NULL ? 1 : 0);
    }

  g_print ("  %u tokens, first \"%s\", last \"%s\"\n", n, tokens[0], tokens[n - 1]);
  *peak = cymem_pool_get_peak_size (scratch);
  return TRUE;
}

int
main (void)
{
  guint64 peak = 0;
  g_autoptr(GString) huge = g_string_new (NULL);
  gboolean ok;

  g_print ("small request:\n");
  ok = handle_request ("find the pools that own these words", &peak);
  g_print ("  peak scratch size: %" G_GUINT64_FORMAT " bytes\n", peak);

  for (guint i = 0; i < 40; i++)
    g_string_append (huge, "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz ");
  g_print ("huge request:\n");
  return ok && !handle_request (huge->str, &peak) ? 0 : 1;
}
