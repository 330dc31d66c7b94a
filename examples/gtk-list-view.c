/* gtk-list-view.c: a GtkListView whose items own nested C data through pools
 *
 * SPDX-License-Identifier: MIT
 *
 * Each TrackItem in the GListStore keeps its C data (a Track struct, its
 * title, an array of points and an array of tag strings) in a pool attached
 * to the item with cymem_pool_attach. Nothing in this file frees any of
 * it: when the store drops an item and the list view has unbound its row,
 * the item is finalized and its pool goes with it.
 *
 * The pools use a counting allocator, so the program can show that every
 * block went back by the time the window closed. It runs by itself: it
 * shows the window, removes items a few at a time over some frames, closes
 * the window and exits with status 0 only if no block is left. Run it
 * headless with
 *
 *   xvfb-run -a ./build/examples/gtk-list-view
 */

#include <stdlib.h>

#include <gtk/gtk.h>
#include <cymem-glib/cymem-glib.h>

/* --- a counting allocator (any malloc/free pair works) --- */

static guint n_mallocs;
static guint n_frees;

static gpointer
counting_malloc (gsize n_bytes)
{
  g_atomic_int_inc (&n_mallocs);
  return malloc (n_bytes);
}

static void
counting_free (gpointer mem)
{
  g_atomic_int_inc (&n_frees);
  free (mem);
}

static guint
blocks_live (void)
{
  return (guint) g_atomic_int_get (&n_mallocs) - (guint) g_atomic_int_get (&n_frees);
}

/* --- the item: a GObject holding nested C structs from its pool --- */

typedef struct { gdouble x, y; } Point;

typedef struct
{
  gchar  *title;
  Point  *points;
  guint   n_points;
  gchar **tags;      /* NULL-terminated, every string in the pool too */
} Track;

#define TRACK_TYPE_ITEM (track_item_get_type ())
G_DECLARE_FINAL_TYPE (TrackItem, track_item, TRACK, ITEM, GObject)

struct _TrackItem
{
  GObject  parent_instance;
  Track   *track;    /* pool memory */
};

G_DEFINE_FINAL_TYPE (TrackItem, track_item, G_TYPE_OBJECT)

static void track_item_class_init (TrackItemClass *klass) { }
static void track_item_init (TrackItem *self) { }

static TrackItem *
track_item_new (guint index)
{
  static const gchar *tag_names[] = { "gps", "walk", "bike", "run" };
  TrackItem *self = g_object_new (TRACK_TYPE_ITEM, NULL);
  CymemPool *pool = cymem_pool_new_with_allocator (counting_malloc, counting_free);
  Track *track;

  /* The item holds the pool from now on; drop our reference. */
  cymem_pool_attach (pool, G_OBJECT (self));
  g_object_unref (pool);
  g_assert (cymem_pool_ensure_for_object (G_OBJECT (self)) == pool);

  track = cymem_pool_alloc (pool, 1, sizeof (Track));
  track->title = cymem_pool_strdup_printf (pool, "Track %u", index + 1);
  track->n_points = 10 + index % 7;
  track->points = cymem_pool_alloc (pool, track->n_points, sizeof (Point));
  for (guint i = 0; i < track->n_points; i++)
    {
      track->points[i].x = index + i * 0.5;
      track->points[i].y = (gdouble) (i * i);
    }
  track->tags = cymem_pool_alloc (pool, 3, sizeof (gchar *));
  track->tags[0] = cymem_pool_strdup (pool, tag_names[index % 4]);
  track->tags[1] = cymem_pool_strdup (pool, tag_names[(index + 1) % 4]);
  /* tags[2] stays NULL: the pool's blocks come zeroed */

  self->track = track;
  return self;
}

/* --- the list view --- */

static void
setup_row (GtkSignalListItemFactory *factory, GtkListItem *list_item, gpointer user_data)
{
  gtk_list_item_set_child (list_item, gtk_label_new (NULL));
}

static void
bind_row (GtkSignalListItemFactory *factory, GtkListItem *list_item, gpointer user_data)
{
  TrackItem *item = gtk_list_item_get_item (list_item);
  Track *track = item->track;
  g_autofree gchar *tags = g_strjoinv (", ", track->tags);
  g_autofree gchar *text = g_strdup_printf ("%s: %u points, ends at (%.1f, %.1f) [%s]",
                                            track->title, track->n_points,
                                            track->points[track->n_points - 1].x,
                                            track->points[track->n_points - 1].y,
                                            tags);

  gtk_label_set_text (GTK_LABEL (gtk_list_item_get_child (list_item)), text);
}

/* --- driving it: remove items over a few frames, then close --- */

#define N_ITEMS 200

typedef struct
{
  GListStore *store;
  GtkWidget  *window;
  guint       frames;
  guint       blocks_at_start;
  gboolean    done;
  gboolean    timed_out;
} App;

static gboolean
on_tick (GtkWidget *widget, GdkFrameClock *clock, gpointer user_data)
{
  App *app = user_data;
  guint n_items = g_list_model_get_n_items (G_LIST_MODEL (app->store));

  app->frames++;
  if (app->frames < 3)
    return G_SOURCE_CONTINUE;   /* let the first rows be drawn */

  if (n_items > 0)
    {
      /* Remove from the top, where rows are bound and on screen. */
      g_list_store_splice (app->store, 0, MIN (n_items, 40u), NULL, 0);
      g_print ("frame %u: %u items left, %u blocks live\n",
               app->frames, g_list_model_get_n_items (G_LIST_MODEL (app->store)),
               blocks_live ());
      return G_SOURCE_CONTINUE;
    }

  /* Empty for a frame: close the window. */
  gtk_window_destroy (GTK_WINDOW (app->window));
  return G_SOURCE_REMOVE;
}

static void
on_destroy (GtkWidget *window, gpointer user_data)
{
  ((App *) user_data)->done = TRUE;
}

static gboolean
on_timeout (gpointer user_data)
{
  App *app = user_data;

  g_printerr ("no frames after 20 s (%u so far): giving up\n", app->frames);
  app->timed_out = TRUE;
  if (app->window != NULL)
    gtk_window_destroy (GTK_WINDOW (app->window));
  app->done = TRUE;
  return G_SOURCE_REMOVE;
}

int
main (void)
{
  App app = { 0 };
  GtkListItemFactory *factory;
  GtkSelectionModel *selection;
  GtkWidget *scrolled, *list_view;
  guint timeout_id;

  gtk_init ();

  app.store = g_list_store_new (TRACK_TYPE_ITEM);
  for (guint i = 0; i < N_ITEMS; i++)
    {
      g_autoptr(TrackItem) item = track_item_new (i);
      g_list_store_append (app.store, item);
    }
  app.blocks_at_start = blocks_live ();
  g_print ("%u items, %u blocks from their pools\n", N_ITEMS, app.blocks_at_start);

  factory = gtk_signal_list_item_factory_new ();
  g_signal_connect (factory, "setup", G_CALLBACK (setup_row), NULL);
  g_signal_connect (factory, "bind", G_CALLBACK (bind_row), NULL);
  /* The selection model takes the store, the view both. */
  selection = GTK_SELECTION_MODEL (gtk_no_selection_new (G_LIST_MODEL (g_object_ref (app.store))));
  list_view = gtk_list_view_new (selection, factory);

  scrolled = gtk_scrolled_window_new ();
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scrolled), list_view);
  app.window = gtk_window_new ();
  gtk_window_set_title (GTK_WINDOW (app.window), "cymem-glib: tracks");
  gtk_window_set_default_size (GTK_WINDOW (app.window), 480, 360);
  gtk_window_set_child (GTK_WINDOW (app.window), scrolled);
  g_signal_connect (app.window, "destroy", G_CALLBACK (on_destroy), &app);
  gtk_widget_add_tick_callback (list_view, on_tick, &app, NULL);
  timeout_id = g_timeout_add_seconds (20, on_timeout, &app);
  gtk_window_present (GTK_WINDOW (app.window));

  while (!app.done)
    g_main_context_iteration (NULL, TRUE);
  if (!app.timed_out)
    g_source_remove (timeout_id);
  app.window = NULL;

  /* The window is gone, and with it the view's rows. */
  g_print ("window closed after %u frames: %u blocks allocated, %u freed, %u live\n",
           app.frames, n_mallocs, n_frees, blocks_live ());
  g_object_unref (app.store);

  if (app.timed_out || app.blocks_at_start == 0 || blocks_live () != 0)
    {
      g_printerr ("FAIL: %u blocks still live\n", blocks_live ());
      return EXIT_FAILURE;
    }
  g_print ("every block released\n");
  return EXIT_SUCCESS;
}
