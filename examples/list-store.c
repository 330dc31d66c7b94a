/* list-store.c: a GListStore whose items keep their C data in their own pools
 *
 * SPDX-License-Identifier: MIT
 *
 * Each DocumentItem owns a pool (attached with cymem_pool_ensure_for_object)
 * holding its title and an array of word offsets. Nothing in this file frees
 * any of it: removing an item from the store drops the last reference, the
 * item is finalized, and its pool goes with it. A counting allocator is not
 * possible here (ensure_for_object uses the default allocator), so the
 * example counts the pools that die instead, with weak references.
 */

#include <string.h>

#include <gio/gio.h>
#include <cymem-glib/cymem-glib.h>

#define DOCUMENT_TYPE_ITEM (document_item_get_type ())
G_DECLARE_FINAL_TYPE (DocumentItem, document_item, DOCUMENT, ITEM, GObject)

struct _DocumentItem
{
  GObject  parent_instance;
  gchar   *title;     /* pool memory */
  guint   *offsets;   /* pool memory: where each word starts */
  guint    n_words;
};

G_DEFINE_FINAL_TYPE (DocumentItem, document_item, G_TYPE_OBJECT)

static void document_item_class_init (DocumentItemClass *klass) { }
static void document_item_init (DocumentItem *self) { }

static guint pools_alive;

static void
pool_died (gpointer data, GObject *where_the_pool_was)
{
  pools_alive--;
}

static DocumentItem *
document_item_new (const gchar *text)
{
  DocumentItem *self = g_object_new (DOCUMENT_TYPE_ITEM, NULL);
  CymemPool *pool = cymem_pool_ensure_for_object (G_OBJECT (self));
  g_auto(GStrv) words = g_strsplit (text, " ", -1);
  guint offset = 0;

  pools_alive++;
  g_object_weak_ref (G_OBJECT (pool), pool_died, NULL);

  self->title = cymem_pool_strdup_printf (pool, "\"%s\"", text);
  self->n_words = g_strv_length (words);
  self->offsets = cymem_pool_alloc (pool, self->n_words, sizeof (guint));
  for (guint i = 0; i < self->n_words; i++)
    {
      self->offsets[i] = offset;
      offset += strlen (words[i]) + 1;
    }
  return self;
}

int
main (void)
{
  static const gchar *texts[] = {
    "memory pools tied to objects",
    "no deallocator to write",
    "freed when the item goes",
  };
  GListStore *store = g_list_store_new (DOCUMENT_TYPE_ITEM);

  for (guint i = 0; i < G_N_ELEMENTS (texts); i++)
    {
      g_autoptr(DocumentItem) item = document_item_new (texts[i]);
      g_list_store_append (store, item);
    }

  for (guint i = 0; i < g_list_model_get_n_items (G_LIST_MODEL (store)); i++)
    {
      g_autoptr(DocumentItem) item = g_list_model_get_item (G_LIST_MODEL (store), i);
      CymemPool *pool = cymem_pool_get_for_object (G_OBJECT (item));

      g_print ("%s: %u words, last at offset %u; pool holds %" G_GSIZE_FORMAT " bytes\n",
               item->title, item->n_words, item->offsets[item->n_words - 1],
               cymem_pool_get_size (pool));
    }

  g_list_store_remove (store, 0);
  g_print ("after removing one item: %u pools alive\n", pools_alive);
  g_list_store_remove_all (store);
  g_print ("after removing all: %u pools alive\n", pools_alive);
  g_object_unref (store);

  return pools_alive == 0 ? 0 : 1;
}
