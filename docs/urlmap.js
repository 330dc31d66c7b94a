// SPDX-License-Identifier: MIT
// Where gi-docgen links types from other namespaces (GObject.Object,
// GLib.Bytes, GLib.Error, ...). docs/check-links.py fails the `docs` suite
// on a link to a namespace missing here.
baseURLs = [
  ['GLib', 'https://docs.gtk.org/glib/'],
  ['GModule', 'https://docs.gtk.org/gmodule/'],
  ['GObject', 'https://docs.gtk.org/gobject/'],
  ['Gio', 'https://docs.gtk.org/gio/'],
]
