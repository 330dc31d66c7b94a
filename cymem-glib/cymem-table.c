/* cymem-table.c: the pool's table of owned addresses, slow paths
 *
 * SPDX-License-Identifier: MIT
 *
 * Why two arrays rather than one hash table: a GHashTable of address -> size
 * frees blocks in hash order at teardown, which scatters the frees over the
 * heap and misses the cache (60-250 ns per block against 9-15 ns for
 * oldest-first on this kind of machine). Here `entries` keeps the blocks in
 * allocation order, so teardown is a sequential walk that frees oldest-first,
 * and `slots` is a compact index (4 bytes a slot) for the O(1) lookups that
 * free, realloc and owns need.
 *
 * A removal leaves a hole rather than moving an entry, so the order survives
 * random frees. Holes are squeezed out when the entries array is full and at
 * least half of it is holes: amortised O(1), and at most twice the live
 * entries in memory. The index uses backward-shift deletion, so there are no
 * tombstones to pile up.
 */

#define _GNU_SOURCE  /* mremap() */

#include "config.h"

#include <string.h>

#ifdef CYMEM_LINUX
#include <sys/mman.h>
#include <unistd.h>
#endif

#include "cymem-lock-private.h"
#include "cymem-table-private.h"

#define MIN_ENTRIES 32
#define MIN_SLOTS   64

#if defined(__SANITIZE_THREAD__)
# define CYMEM_TSAN 1
#elif defined(__has_feature)
# if __has_feature(thread_sanitizer)
#  define CYMEM_TSAN 1
# endif
#endif

#ifdef CYMEM_LINUX
/* Unmaps an array. The kernel refuses only what it would have to split a
 * mapping for, which an array never is; should it refuse all the same,
 * the pages are given back and only the address space is lost (found by
 * adversarial review with a munmap() that always fails). */
static void
array_unmap (gpointer mem,
             gsize    n_bytes)
{
  if (munmap (mem, n_bytes) != 0)
    (void) madvise (mem, n_bytes, MADV_DONTNEED);
}

/* mremap (MREMAP_MAYMOVE), but for ThreadSanitizer, which does not see
 * it: the pages it moves look like another thread's once the old address
 * is mapped again, by any pool (a false data race, found by adversarial
 * review). There a new mapping and a copy. */
static gpointer
array_remap (gpointer mem,
             gsize    old_bytes,
             gsize    new_bytes)
{
#ifdef CYMEM_TSAN
  gpointer moved = mmap (NULL, new_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

  if (moved == MAP_FAILED)
    return MAP_FAILED;
  memcpy (moved, mem, MIN (old_bytes, new_bytes));
  array_unmap (mem, old_bytes);
  return moved;
#else
  return mremap (mem, old_bytes, new_bytes, MREMAP_MAYMOVE);
#endif
}
#endif

#if defined(__GNUC__) && defined(__ELF__)
/* Defined by the sanitizer runtimes that check for leaks (AddressSanitizer,
 * LeakSanitizer), whether or not this library was built with one. */
extern void __lsan_do_leak_check (void) __attribute__ ((weak));
#define LSAN_PRESENT() (__lsan_do_leak_check != NULL)
#else
#define LSAN_PRESENT() FALSE
#endif

/* Whether a leak checker watches the process: memcheck, or a LeakSanitizer
 * runtime. Decided once, before the first array, and never changed, since
 * it says how every array was allocated. */
static gboolean
leak_checked (void)
{
  static gint checked = -1;
  gint known = __atomic_load_n (&checked, __ATOMIC_RELAXED);

  if (G_UNLIKELY (known < 0))
    {
      known = cymem_chunk_tool_active () || LSAN_PRESENT ();
      __atomic_store_n (&checked, known, __ATOMIC_RELAXED);
    }
  return known;
}

/* --- storage for the two arrays ---
 *
 * Arrays under 1 KiB come from malloc; larger ones are mapped directly, off
 * glibc's heap, where a malloc request from 1 KiB up, or the free of a chunk
 * that coalesces into 64 KiB, makes glibc consolidate its fast free lists,
 * after which every small malloc of the program is slower: in the
 * alloc-then-teardown benchmark that cost 170 instructions a block. (They
 * came from GSlice until 1.0, but g_slice_alloc() aborts where the pool
 * must report a failure; GLib 2.76 made GSlice plain malloc anyway.)
 * Released mappings are kept in a small process-wide cache, bounded
 * in count and bytes, because a fresh mapping costs a page fault per 4 KiB
 * on first touch (measured here: more than the whole malloc of the blocks
 * those pages index), where a cached one only needs zeroing. */

#define MAP_MIN_SHIFT    10   /* 1 KiB */
#define CACHE_MAX_SHIFT  25   /* 32 MiB */
#define CACHE_DEPTH      4
/* A process keeps at most this much of released arrays (1.0 kept up to
 * 64 MiB, which a big pool's death left resident); cymem_trim() returns it. */
#define CACHE_MAX_BYTES  ((gsize) 4 << 20)

#ifdef CYMEM_LINUX
/* The pool's own lock kind, which ThreadSanitizer understands. */
static CymemLock cache_lock = CYMEM_LOCK_INIT;
static gsize cache_bytes;
/* CYMEM_NO_ARRAY_CACHE=1 turns the cache off, so that a measurement of a
 * pool's memory counts only the arrays it is using. */
static gint cache_enabled = -1;
static struct {
  gpointer arrays[CACHE_DEPTH];
  guint    n_arrays;
} cache[CACHE_MAX_SHIFT - MAP_MIN_SHIFT + 1];

/* The cache class of a mapped array of @n_bytes, or -1 if it is not a
 * power of two within the cached range. */
static gint
cache_class (gsize n_bytes)
{
  if (n_bytes > ((gsize) 1 << CACHE_MAX_SHIFT) || (n_bytes & (n_bytes - 1)) != 0)
    return -1;
  return g_bit_nth_msf (n_bytes, -1) - MAP_MIN_SHIFT;
}

static gboolean
cache_on_locked (void)
{
  if (cache_enabled < 0)
    cache_enabled = g_getenv ("CYMEM_NO_ARRAY_CACHE") == NULL;
  return cache_enabled;
}

/* A mapping of @n_bytes, zeroed if @zero (fresh mappings always are). */
static gpointer
map_new (gsize    n_bytes,
         gboolean zero)
{
  gint class = cache_class (n_bytes);
  gpointer mem = NULL;

  if (class >= 0)
    {
      cymem_lock_acquire (&cache_lock);
      if (cache[class].n_arrays > 0)
        {
          mem = cache[class].arrays[--cache[class].n_arrays];
          cache_bytes -= n_bytes;
        }
      cymem_lock_release (&cache_lock);
      if (mem != NULL)
        return zero ? memset (mem, 0, n_bytes) : mem;
    }

  /* Fresh mappings are zero-filled. */
  mem = mmap (NULL, n_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  return mem == MAP_FAILED ? NULL : mem;
}

static void
map_free (gpointer mem,
          gsize    n_bytes)
{
  gint class = cache_class (n_bytes);

  if (class >= 0)
    {
      gboolean cached = FALSE;

      cymem_lock_acquire (&cache_lock);
      if (cache_on_locked () &&
          cache[class].n_arrays < CACHE_DEPTH && cache_bytes + n_bytes <= CACHE_MAX_BYTES)
        {
          cache[class].arrays[cache[class].n_arrays++] = mem;
          cache_bytes += n_bytes;
          cached = TRUE;
        }
      cymem_lock_release (&cache_lock);
      if (cached)
        return;
    }

  array_unmap (mem, n_bytes);
}

static void long_trim (void);

void
cymem_table_trim (void)
{
  long_trim ();
  for (guint class = 0; class < G_N_ELEMENTS (cache); class++)
    for (;;)
      {
        gpointer mem = NULL;

        cymem_lock_acquire (&cache_lock);
        if (cache[class].n_arrays > 0)
          {
            mem = cache[class].arrays[--cache[class].n_arrays];
            cache_bytes -= (gsize) 1 << (class + MAP_MIN_SHIFT);
          }
        cymem_lock_release (&cache_lock);
        if (mem == NULL)
          break;
        array_unmap (mem, (gsize) 1 << (class + MAP_MIN_SHIFT));
      }
}

gsize
cymem_table_cached_bytes (void)
{
  gsize bytes;

  cymem_lock_acquire (&cache_lock);
  bytes = cache_bytes;
  cymem_lock_release (&cache_lock);
  return bytes;
}

/* Under a leak checker every array comes from malloc, as any block would:
 * LeakSanitizer does not scan a mapping the library made, so the blocks of
 * a live pool that only its arrays point to were reported leaked, and
 * memcheck scans one as a root, so the blocks of a leaked pool were
 * "still reachable" (both found by adversarial review, from 33 blocks on). */
#define IS_MAPPED(n_bytes) ((n_bytes) >= ((gsize) 1 << MAP_MIN_SHIFT) && !leak_checked ())
#else
#define IS_MAPPED(n_bytes) FALSE
#define map_new(n, zero) g_try_malloc0 (n)
#define map_free(mem, n) g_free (mem)

void
cymem_table_trim (void)
{
}

gsize
cymem_table_cached_bytes (void)
{
  return 0;
}
#endif

/* For tests: how many more of the table's allocations succeed (-1: all). */
static gint allocs_left = -1;

void
cymem_table_fail_allocs_after (gint n_allocs)
{
  __atomic_store_n (&allocs_left, n_allocs, __ATOMIC_RELAXED);
}

static gboolean
alloc_allowed (void)
{
  gint left = __atomic_load_n (&allocs_left, __ATOMIC_RELAXED);

  if (G_LIKELY (left < 0))
    return TRUE;
  if (left == 0)
    return FALSE;
  __atomic_store_n (&allocs_left, left - 1, __ATOMIC_RELAXED);
  return TRUE;
}

/* The table's own storage may fail to allocate like any block: every
 * function that allocates returns NULL then, and the table is unchanged. */
static gpointer
array_alloc0 (gsize n_bytes)
{
  if (!alloc_allowed ())
    return NULL;
  return IS_MAPPED (n_bytes) ? map_new (n_bytes, TRUE) : calloc (1, n_bytes);
}

static void
array_free (gpointer mem,
            gsize    n_bytes)
{
  if (mem == NULL)
    return;
  if (IS_MAPPED (n_bytes))
    map_free (mem, n_bytes);
  else
    free (mem);
}

/* Returns the resized array, or NULL with @mem untouched. */
static gpointer
array_resize (gpointer mem,
              gsize    old_bytes,
              gsize    new_bytes)
{
  gpointer resized;

  if (!alloc_allowed ())
    return NULL;
#ifdef CYMEM_LINUX
  if (old_bytes > ((gsize) 1 << CACHE_MAX_SHIFT) && IS_MAPPED (old_bytes))
    {
      /* The kernel moves the pages; nothing is copied. */
      resized = array_remap (mem, old_bytes, new_bytes);
      return resized == MAP_FAILED ? NULL : resized;
    }
#endif

  /* The entries past the used ones are never read: no need to zero. */
  resized = IS_MAPPED (new_bytes) ? map_new (new_bytes, FALSE) : malloc (new_bytes);
  if (resized == NULL)
    return NULL;
  if (old_bytes > 0)
    memcpy (resized, mem, MIN (old_bytes, new_bytes));
  array_free (mem, old_bytes);
  return resized;
}

/* --- storage for the entries ---
 *
 * Growing an array by copying it into one twice its size copies about
 * 16 bytes an entry in all, which was 20 of the 152 instructions a block
 * of the alloc-then-teardown benchmark at N = 100,000. So an entries array
 * of LONG_MIN_ENTRIES or more is a mapping of its own that grows without a
 * copy: within the mapping, its next pages are populated in one call
 * (MADV_POPULATE_WRITE; a fault per page costs about a microsecond here),
 * in steps of LONG_STEP once it is that big, so a table holds at most one
 * step it does not use; past the mapping, mremap() moves the pages to one
 * twice the size. The address space is at most about twice the array, as
 * with doubling (a fixed bigger reservation made pools fail under an
 * address-space limit: found by adversarial review). A page in front of
 * the entries records the mapping's size and how much of it is populated,
 * so that a released array can be kept (LONG_CACHE_DEPTH of them) with its
 * first LONG_KEEP bytes populated, within the cache's byte budget, and the
 * next big table starts on those pages whatever its size. */

#if defined(CYMEM_LINUX) && GLIB_SIZEOF_VOID_P == 8
#define LONG_MIN_ENTRIES  4096                   /* 64 KiB of entries */
#define LONG_STEP         ((gsize) 1 << 20)      /* populated at a time */
#define LONG_KEEP         ((gsize) 2 << 20)      /* populated bytes a cached one keeps */
#define LONG_CACHE_DEPTH  2
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

G_STATIC_ASSERT (LONG_STEP % (LONG_MIN_ENTRIES * sizeof (CymemTableEntry)) == 0);
G_STATIC_ASSERT (LONG_KEEP % LONG_STEP == 0);

/* The page in front of a long array's entries. */
typedef struct
{
  gsize mapped;     /* bytes of the mapping, this page included */
  gsize populated;  /* bytes of entries asked to be backed by pages */
} LongHeader;

static LongHeader *long_cache[LONG_CACHE_DEPTH];
static guint long_cache_n;
/* LONG_MIN_ENTRIES, but for cymem_table_set_long_layout(). */
static guint long_min_entries = LONG_MIN_ENTRIES;

static gsize
long_page (void)
{
  static gsize page;

  if (page == 0)
    {
      glong size = sysconf (_SC_PAGESIZE);

      page = size >= (glong) sizeof (LongHeader) ? (gsize) size : 4096;
    }
  return page;
}

static LongHeader *
long_header_of (gpointer entries)
{
  return (LongHeader *) (gpointer) ((guint8 *) entries - long_page ());
}

static gpointer
long_entries_of (LongHeader *header)
{
  return (guint8 *) header + long_page ();
}

/* The mapping for @n_bytes of entries: a power of two. */
static gsize
long_mapping_for (gsize n_bytes)
{
  gsize mapped = 2 * long_page ();

  while (mapped < n_bytes + long_page ())
    mapped *= 2;
  return mapped;
}

/* Makes @header's entries hold @n_bytes, populated. Returns the header,
 * moved if the mapping had to grow, or NULL with @header untouched. A
 * kernel without MADV_POPULATE_WRITE refuses it: the pages then fault in
 * one by one when first written, which is all it saves. */
static LongHeader *
long_grow (LongHeader *header,
           gsize       n_bytes)
{
  if (n_bytes + long_page () > header->mapped)
    {
      gsize mapped = long_mapping_for (n_bytes);
      LongHeader *moved = array_remap (header, header->mapped, mapped);

      if (moved == MAP_FAILED)
        return NULL;
      header = moved;
      header->mapped = mapped;
    }
  if (n_bytes > header->populated)
    {
      guint8 *entries = (guint8 *) long_entries_of (header);

      (void) madvise (entries + header->populated, n_bytes - header->populated,
                      MADV_POPULATE_WRITE);
      header->populated = n_bytes;
    }
  return header;
}

/* A cached long array, or NULL. */
static LongHeader *
long_cache_pop (void)
{
  LongHeader *header = NULL;

  cymem_lock_acquire (&cache_lock);
  if (long_cache_n > 0)
    {
      header = long_cache[--long_cache_n];
      cache_bytes -= header->populated;
    }
  cymem_lock_release (&cache_lock);
  return header;
}

/* A long array for @n_bytes of entries, those populated; or NULL. */
static gpointer
long_new (gsize n_bytes)
{
  LongHeader *header, *grown;

  if (!alloc_allowed ())
    return NULL;
  header = long_cache_pop ();
  if (header == NULL)
    {
      gsize mapped = long_mapping_for (n_bytes);

      header = mmap (NULL, mapped, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (header == MAP_FAILED)
        return NULL;
      header->mapped = mapped;
      header->populated = 0;
    }
  grown = long_grow (header, n_bytes);
  if (grown == NULL)
    {
      array_unmap (header, header->mapped);
      return NULL;
    }
  return long_entries_of (grown);
}

static void
long_free (gpointer entries)
{
  LongHeader *header = long_header_of (entries);
  gsize keep = MIN (header->populated, LONG_KEEP);
  gsize mapped = long_mapping_for (keep);
  gboolean cached = FALSE;

  /* Made the size it is kept at while still private: the mapping past
   * the kept pages goes, and the pages past them within it. */
  if (header->mapped > mapped)
    {
      array_unmap ((guint8 *) header + mapped, header->mapped - mapped);
      header->mapped = mapped;
    }
  if (header->populated > keep)
    {
      (void) madvise ((guint8 *) entries + keep, MIN (header->populated, mapped - long_page ()) - keep,
                      MADV_DONTNEED);
      header->populated = keep;
    }

  cymem_lock_acquire (&cache_lock);
  if (cache_on_locked () && long_cache_n < LONG_CACHE_DEPTH && cache_bytes + keep <= CACHE_MAX_BYTES)
    {
      long_cache[long_cache_n++] = header;
      cache_bytes += keep;
      cached = TRUE;
    }
  cymem_lock_release (&cache_lock);
  if (!cached)
    array_unmap (header, header->mapped);
}

static void
long_trim (void)
{
  LongHeader *header;

  while ((header = long_cache_pop ()) != NULL)
    array_unmap (header, header->mapped);
}

void
cymem_table_set_long_layout (guint min_entries)
{
  if (min_entries == 0)
    min_entries = LONG_MIN_ENTRIES;
  /* Populated ranges must start on a page. */
  g_assert (min_entries >= 256 && (min_entries & (min_entries - 1)) == 0 &&
            min_entries <= LONG_MIN_ENTRIES);
  long_trim ();
  long_min_entries = min_entries;
}

gboolean
cymem_table_has_long_entries (void)
{
  return !leak_checked ();
}

/* Whether an array of @n_bytes of entries is a long one. The bound is in
 * bytes, the same for narrow and wide entries. */
static gboolean
is_long (gsize n_bytes)
{
  return n_bytes >= (gsize) long_min_entries * sizeof (CymemTableEntry) && !leak_checked ();
}

/* Entries arrays are of @capacity entries of @size bytes. */
static void
entries_free (gpointer entries,
              guint    capacity,
              gsize    size)
{
  if (is_long ((gsize) capacity * size))
    long_free (entries);
  else
    array_free (entries, (gsize) capacity * size);
}

/* @entries (of @old_capacity, NULL for none) made @new_capacity long, its
 * first @n_used entries kept; NULL, with @entries untouched, on failure. */
static gpointer
entries_resize (gpointer entries,
                guint    old_capacity,
                guint    new_capacity,
                guint    n_used,
                gsize    size)
{
  gsize old_bytes = (gsize) old_capacity * size;
  gsize new_bytes = (gsize) new_capacity * size;
  gpointer resized;

  if (!is_long (new_bytes) && !is_long (old_bytes))
    return array_resize (entries, old_bytes, new_bytes);
  if (is_long (old_bytes) && new_capacity > old_capacity)
    {
      /* In its mapping, or moved by the kernel to a bigger one: no copy. */
      LongHeader *header = long_grow (long_header_of (entries), new_bytes);

      return header != NULL ? long_entries_of (header) : NULL;
    }

  resized = is_long (new_bytes) ? long_new (new_bytes) : array_resize (NULL, 0, new_bytes);
  if (resized == NULL)
    return NULL;
  if (n_used > 0)
    memcpy (resized, entries, (gsize) n_used * size);
  entries_free (entries, old_capacity, size);
  return resized;
}

#else
static gpointer
entries_resize (gpointer entries,
                guint    old_capacity,
                guint    new_capacity,
                guint    n_used,
                gsize    size)
{
  (void) n_used;
  return array_resize (entries, (gsize) old_capacity * size, (gsize) new_capacity * size);
}

static void
entries_free (gpointer entries,
              guint    capacity,
              gsize    size)
{
  array_free (entries, (gsize) capacity * size);
}

void
cymem_table_set_long_layout (guint min_entries)
{
  (void) min_entries;
}

gboolean
cymem_table_has_long_entries (void)
{
  return FALSE;
}
#endif

/* The capacity after @capacity that holds @needed entries: doubling, then
 * whole LONG_STEPs, which a long array populates one call each. */
static guint
entries_next_capacity (guint capacity,
                       guint needed,
                       gsize size)
{
#ifdef LONG_STEP
  const guint step = (guint) (LONG_STEP / size);

  if (needed > step)
    return (needed + step - 1) / step * step;
#endif
  capacity = MAX (MIN_ENTRIES, capacity * 2);
  while (capacity < needed)
    capacity *= 2;
  return capacity;
}

/* The size of one of @table's entries. */
static gsize
entry_size (const CymemTable *table)
{
  return table->wide ? sizeof (CymemTableEntry) : sizeof (CymemTableWord);
}

static gsize
slots_bytes (const CymemTable *table)
{
  return table->slots != NULL ? (cymem_table_slots_mask (table) + 1) * sizeof (guint32) : 0;
}

/* --- the index --- */

/* Indexes @entry, which holds @mem. */
static inline void
index_entry_at (CymemTable    *table,
                guint          entry,
                gconstpointer  mem)
{
  gsize mask = cymem_table_slots_mask (table);
  gsize i = cymem_table_home (table, mem);

  while (table->slots[i] != 0)
    i = (i + 1) & mask;
  table->slots[i] = entry + 1;
  table->n_indexed++;
}

static void
index_entry (CymemTable *table,
             guint       entry)
{
  index_entry_at (table, entry, cymem_table_entry_mem (table, entry));
}

/* Tells a carved entry's chunk where the entry now is. */
static void
note_carved_entry (CymemTable *table,
                   guint       entry)
{
  guint8 *mem = cymem_table_entry_mem (table, entry);
  CymemChunk *chunk = cymem_chunk_of (mem);

  chunk->entry_of[cymem_chunk_slot_at (chunk, (gsize) (mem - (guint8 *) chunk) - chunk->data)] = entry;
}

/* Empties @slot, shifting later members of its probe run back so that every
 * lookup still finds them without tombstones. */
void
cymem_table_unindex (CymemTable *table,
                     gsize       slot)
{
  gsize mask = cymem_table_slots_mask (table);
  gsize i = slot, j = slot;

  for (;;)
    {
      gsize home;

      j = (j + 1) & mask;
      if (table->slots[j] == 0)
        break;

      home = cymem_table_home (table, cymem_table_entry_mem (table, table->slots[j] - 1));
      /* The entry at j may move back to i only if its home is not in (i, j]. */
      if ((i <= j) ? (home <= i || home > j) : (home <= i && home > j))
        {
          table->slots[i] = table->slots[j];
          i = j;
        }
    }

  table->slots[i] = 0;
  table->n_indexed--;
}

/* Whether @entry is carved (dead or alive; not a hole). */
static inline gboolean
entry_is_carved (const CymemTable *table,
                 guint             entry)
{
  return (cymem_table_entry_bits (table, entry) & CYMEM_TABLE_CARVED) != 0;
}

/* Whether @entry is a live block that belongs in the index. */
static inline gboolean
entry_is_indexed (const CymemTable *table,
                  guint             entry)
{
  return cymem_table_entry_is_live (table, entry) && !entry_is_carved (table, entry);
}

/* Copies the entries of @table that are not holes, in order, to @to (an
 * array of the table's width); returns how many. */
static guint
copy_non_holes (const CymemTable *table,
                gpointer          to)
{
  guint out = 0;

  if (table->wide)
    {
      const CymemTableEntry *from = cymem_table_wide (table);

      for (guint e = 0; e < table->n_entries; e++)
        if (from[e].mem != NULL)
          ((CymemTableEntry *) to)[out++] = from[e];
    }
  else
    {
      const CymemTableWord *from = cymem_table_words (table);

      for (guint e = 0; e < table->n_entries; e++)
        if ((from[e] & CYMEM_TABLE_WORD_ADDR) != 0)
          ((CymemTableWord *) to)[out++] = from[e];
    }
  return out;
}

/* The entries an index of @table must hold: its live uncarved ones. */
static guint
count_indexed (const CymemTable *table)
{
  guint n = 0;

  for (guint e = 0; e < table->n_entries; e++)
    n += entry_is_indexed (table, e);
  return n;
}

/* Builds a new index for @n_live entries; FALSE, leaving the old one, if
 * it cannot be allocated. */
static gboolean
rebuild_index (CymemTable *table,
               guint       n_live)
{
  gsize n_slots = MIN_SLOTS;
  guint shift = 64;
  guint32 *slots;

  while (n_slots < (gsize) n_live * 2)
    n_slots *= 2;
  for (gsize s = n_slots; s > 1; s >>= 1)
    shift--;

  slots = array_alloc0 (n_slots * sizeof (guint32));
  if (slots == NULL)
    return FALSE;
  array_free (table->slots, slots_bytes (table));
  table->slots = slots;
  table->slots_shift = shift;
  table->n_indexed = 0;

  /* The width read once, not at every entry (the compiler reads the
   * table's fields again after each store into the index): 4096-byte W2
   * alloc 4,761 -> 4,720 instructions a block, custom-allocator 64-byte
   * W2 alloc 342 -> 302). */
  if (G_LIKELY (!table->wide))
    {
      const CymemTableWord *words = cymem_table_words (table);

      for (guint e = 0; e < table->n_entries; e++)
        /* Live (not a hole, not dead) and not carved. */
        if ((words[e] & CYMEM_TABLE_WORD_ADDR) != 0 &&
            (words[e] & (CYMEM_TABLE_WORD_DEAD | CYMEM_TABLE_WORD_CARVED)) == 0)
          index_entry_at (table, e, (gpointer) (guintptr) (words[e] & CYMEM_TABLE_WORD_ADDR));
      return TRUE;
    }
  for (guint e = 0; e < table->n_entries; e++)
    if (entry_is_indexed (table, e))
      index_entry (table, e);
  return TRUE;
}

/* Squeezes the holes (not the dead entries) out of the entries, keeping
 * allocation order. */
static gboolean
compact (CymemTable *table)
{
  /* Moving down within one array: each entry is read before it is overwritten. */
  guint out = copy_non_holes (table, table->entries);

  table->n_entries = out;
  table->n_holes = table->n_dead;
  /* The live entries are as many as before: the index is reused in place,
   * so that compaction cannot fail. A table without one (widened out of
   * its own entries, or an index that could not be had) stays searched. */
  if (table->slots != NULL)
    memset (table->slots, 0, slots_bytes (table));
  table->n_indexed = 0;
  for (guint e = 0; e < table->n_entries; e++)
    if (entry_is_carved (table, e))
      note_carved_entry (table, e);  /* dead ones too: they moved */
    else if (table->slots != NULL && cymem_table_entry_is_live (table, e))
      index_entry (table, e);
  return TRUE;
}

/* Makes room for @n_more entries without another allocation. */
gboolean
cymem_table_reserve (CymemTable *table,
                     guint       n_more)
{
  guint needed;

  if (n_more > G_MAXUINT32 / 4 - table->n_entries)
    return FALSE;
  needed = table->n_entries + n_more;

  /* The entries held in the table itself are enough. */
  if (table->entries == NULL && needed <= CYMEM_TABLE_SMALL)
    return TRUE;

  if (needed > table->entries_capacity && table->entries != NULL &&
      table->pins == 0 && table->n_entries > 0 &&
      table->n_holes - table->n_dead >= table->n_entries / 2)
    compact (table);

  if (needed > table->entries_capacity)
    {
      guint capacity = entries_next_capacity (table->entries_capacity, needed, entry_size (table));
      gpointer entries;

      entries = entries_resize (table->entries, table->entries_capacity, capacity,
                                table->entries != NULL ? table->n_entries : 0,
                                entry_size (table));
      if (entries == NULL)
        return FALSE;
      /* Out of the table's own entries (always narrow): they move, in
       * order (entries do not move while pinned, but none of their
       * positions change). */
      if (table->entries == NULL)
        memcpy (entries, table->small, table->n_entries * sizeof (CymemTableWord));
      table->entries = entries;
      table->entries_capacity = capacity;
    }

  /* Without an index, the live uncarved entries are not counted in
   * n_indexed: an index sized by it would fill up. */
  if (G_UNLIKELY (table->slots == NULL))
    return rebuild_index (table, count_indexed (table) + n_more);
  if (table->n_indexed + n_more > cymem_table_max_live (table))
    return rebuild_index (table, table->n_indexed + n_more);
  return TRUE;
}

gboolean
cymem_table_insert_slow (CymemTable *table,
                         gpointer    mem,
                         gsize       n_bytes)
{
  guint entry;

  g_assert (mem != NULL);

  if (!cymem_table_prepare (table, mem, n_bytes) || !cymem_table_reserve (table, 1))
    return FALSE;

  entry = table->n_entries++;
  cymem_table_entry_set (table, entry, mem, n_bytes);
  if (table->slots != NULL)
    index_entry (table, entry);
  return TRUE;
}

/* The entry a slot handle stands for. */
static guint
slot_entry (const CymemTable *table,
            gssize            slot)
{
  if (slot & CYMEM_TABLE_CARVED_HANDLE)
    return (guint) (slot & ~CYMEM_TABLE_CARVED_HANDLE);
  return table->slots != NULL ? table->slots[slot] - 1 : (guint) slot;
}

/* Gives back most of a table that has emptied: the live entries move into
 * arrays sized for them. Not while pinned (entries must not move); left as
 * it is if the new arrays cannot be allocated. */
void
cymem_table_shrink (CymemTable *table)
{
  guint live = cymem_table_count (table) + table->n_dead;
  guint capacity = MIN_ENTRIES;
  gpointer entries;
  guint out;

  while (capacity < live * 2)
    capacity *= 2;
  if (capacity >= table->entries_capacity)
    return;
  entries = entries_resize (NULL, 0, capacity, 0, entry_size (table));
  if (entries == NULL)
    return;
  out = copy_non_holes (table, entries);
  entries_free (table->entries, table->entries_capacity, entry_size (table));
  table->entries = entries;
  table->entries_capacity = capacity;
  table->n_entries = out;
  table->n_holes = table->n_dead;
  for (guint e = 0; e < table->n_entries; e++)
    if (entry_is_carved (table, e))
      note_carved_entry (table, e);
  /* A smaller index; if it cannot be had, lookups fall back to a search. */
  array_free (table->slots, slots_bytes (table));
  table->slots = NULL;
  table->n_indexed = 0;
  rebuild_index (table, count_indexed (table));
}

/* Points the entry in @slot at @new_mem (which may be its old address) with
 * a new size, keeping its place in allocation order. The old address is
 * never dereferenced, so it may already have been passed to realloc().
 * cymem_table_prepare() must have said yes for @new_mem and @n_bytes. */
void
cymem_table_update (CymemTable *table,
                    gssize      slot,
                    gpointer    new_mem,
                    gsize       n_bytes)
{
  guint entry = slot_entry (table, slot);
  CymemChunk *chunk;
  gssize carved;

  g_assert (table->wide || cymem_table_word_fits (new_mem, n_bytes));

  if (new_mem == cymem_table_entry_mem (table, entry))
    {
      cymem_table_entry_set (table, entry, new_mem,
                             n_bytes | (cymem_table_entry_bits (table, entry) & CYMEM_TABLE_CARVED));
      return;
    }
  if (!(slot & CYMEM_TABLE_CARVED_HANDLE) && table->slots != NULL)
    cymem_table_unindex (table, slot);
  carved = cymem_table_carved_slot (table, new_mem, &chunk);
  if (carved >= 0)
    {
      cymem_table_entry_set (table, entry, new_mem, n_bytes | CYMEM_TABLE_CARVED);
      chunk->entry_of[carved] = entry;
    }
  else
    {
      cymem_table_entry_set (table, entry, new_mem, n_bytes);
      if (table->slots != NULL)
        index_entry (table, entry);
    }
}

/* Makes a narrow table wide, in arrays of the same capacity (or the least,
 * out of the table itself): entries keep their positions, so the index and
 * the chunks' notes stay valid, and this may happen while pinned. */
gboolean
cymem_table_widen (CymemTable *table)
{
  guint capacity = table->entries != NULL ? table->entries_capacity : MIN_ENTRIES;
  CymemTableEntry *wide;

  g_assert (!table->wide);
  wide = entries_resize (NULL, 0, capacity, 0, sizeof (CymemTableEntry));
  if (wide == NULL)
    return FALSE;
  for (guint e = 0; e < table->n_entries; e++)
    {
      wide[e].mem = cymem_table_entry_mem (table, e);
      wide[e].n_bytes = cymem_table_entry_bits (table, e);
    }
  if (table->entries != NULL)
    entries_free (table->entries, table->entries_capacity, sizeof (CymemTableWord));
  else
    memset (table->small, 0, sizeof table->small);
  table->entries = wide;
  table->entries_capacity = capacity;
  table->wide = TRUE;
  return TRUE;
}

/* Moves every entry of @src into the empty table @dest, leaving @src empty,
 * so the caller can release the blocks after dropping its lock. */
void
cymem_table_take (CymemTable *dest,
                  CymemTable *src)
{
  static const CymemTable empty = CYMEM_TABLE_INIT;

  G_STATIC_ASSERT (G_STRUCT_OFFSET (CymemTable, small) ==
                   G_STRUCT_OFFSET (CymemTable, heap) + sizeof (CymemHeap *));
  g_assert (dest->entries == NULL && dest->slots == NULL);

  *dest = *src;
  dest->heap = NULL;
  /* Every field but the heap, which stays with the pool (and is read
   * without its lock: it is never written here). */
  memcpy (src, &empty, G_STRUCT_OFFSET (CymemTable, heap));
  memcpy (src->small, empty.small, sizeof empty.small);
}

/* Calls @func on every entry, oldest first. */
void
cymem_table_foreach (CymemTable     *table,
                     CymemTableFunc  func,
                     gpointer        user_data)
{
  for (guint e = 0; e < table->n_entries; e++)
    if (cymem_table_entry_is_live (table, e))
      func (cymem_table_entry_mem (table, e),
            cymem_table_entry_bits (table, e) & CYMEM_TABLE_SIZE_MASK, user_data);
}

/* Hands one entry of a drained table to its function; TRUE if it was one
 * of the entries cymem_table_drain() counts down (not a hole, and not a
 * live carved block left to its chunk). */
G_ALWAYS_INLINE static inline gboolean
drain_entry (gpointer        mem,
             gsize           n_bytes,
             gboolean        carved,
             gboolean        dead,
             CymemTableFunc  func,
             CymemTableFunc  carved_func,
             gpointer        user_data)
{
  if (mem == NULL)
    return FALSE;
  if (!carved)
    func (mem, n_bytes, user_data);
  else if (carved_func != NULL)
    carved_func (mem, n_bytes, user_data);
  else if (!dead)
    return FALSE;
  return TRUE;
}

/* Calls @func on every entry, dead ones included, oldest first, then
 * frees the table's own storage, leaving it empty. */
void
cymem_table_drain (CymemTable     *table,
                   CymemTableFunc  func,
                   CymemTableFunc  carved_func,
                   gpointer        user_data)
{
  static const CymemTable empty = CYMEM_TABLE_INIT;
  /* With an index, every live entry not carved is in it: once those and
   * the dead ones are seen, the rest are carved blocks that need nothing
   * (a big pool's teardown then releases its chunks without walking). */
  guint to_see = carved_func == NULL && table->slots != NULL
                 ? table->n_indexed + table->n_dead : G_MAXUINT;
  /* Read once: the calls cannot change the table (teardown's own walk). */
  const guint n_entries = table->n_entries;

  /* One loop per width, so that the width is not tested at every entry
   * (none at all when nothing is left to see). */
  if (to_see > 0 && !table->wide)
    {
      const CymemTableWord *words = cymem_table_words (table);

      /* The flags tested on the word itself: no decoding but the size. */
      for (guint e = 0; e < n_entries; e++)
        {
          CymemTableWord word = words[e];

          if (drain_entry ((gpointer) (guintptr) (word & CYMEM_TABLE_WORD_ADDR),
                           (word >> CYMEM_TABLE_WORD_SIZE_SHIFT) & CYMEM_TABLE_WORD_MAX_SIZE,
                           (word & CYMEM_TABLE_WORD_CARVED) != 0, (word & CYMEM_TABLE_WORD_DEAD) != 0,
                           func, carved_func, user_data) &&
              --to_see == 0)
            break;
        }
    }
  else if (to_see > 0)
    {
      const CymemTableEntry *wide = cymem_table_wide (table);

      for (guint e = 0; e < n_entries; e++)
        if (drain_entry (wide[e].mem, wide[e].n_bytes & CYMEM_TABLE_SIZE_MASK,
                         (wide[e].n_bytes & CYMEM_TABLE_CARVED) != 0,
                         (wide[e].n_bytes & CYMEM_TABLE_DEAD) != 0,
                         func, carved_func, user_data) &&
            --to_see == 0)
          break;
    }
  entries_free (table->entries, table->entries_capacity, entry_size (table));
  array_free (table->slots, slots_bytes (table));
  *table = empty;
}

/* Forgets the block in @slot but keeps its entry, flagged dead, until
 * cymem_table_reap() or cymem_table_drain() hands it back for release. */
void
cymem_table_kill (CymemTable *table,
                  gssize      slot)
{
  guint entry = slot_entry (table, slot);

  if (!(slot & CYMEM_TABLE_CARVED_HANDLE) && table->slots != NULL)
    cymem_table_unindex (table, slot);
  cymem_table_entry_kill (table, entry);
  table->n_holes++;
  table->n_dead++;
}

/* Kills every live block at once: a clear while the table is pinned. */
void
cymem_table_kill_all (CymemTable *table)
{
  for (guint e = 0; e < table->n_entries; e++)
    if (cymem_table_entry_is_live (table, e))
      {
        cymem_table_entry_kill (table, e);
        table->n_dead++;
      }
  table->n_holes = table->n_entries;
  if (table->slots != NULL)
    memset (table->slots, 0, slots_bytes (table));
  table->n_indexed = 0;
}

/* Hands at most @max dead blocks over to @out, turning their entries into
 * holes; returns how many. The search starts at *@cursor (0 at first),
 * wraps around, looks at CYMEM_TABLE_REAP_SCAN entries at most (so the
 * pool's lock is held briefly), and leaves where it stopped in *@cursor:
 * a caller taking the dead blocks a batch at a time walks the table once,
 * not once a batch (which was quadratic in a big pool with many dead
 * blocks: found by adversarial review). Only for an unpinned table. */
guint
cymem_table_reap (CymemTable *table,
                  gpointer   *out,
                  guint       max,
                  guint      *cursor)
{
  guint n = 0;
  guint e = *cursor < table->n_entries ? *cursor : 0;

  g_assert (table->pins == 0);

  for (guint seen = 0;
       seen < MIN (table->n_entries, CYMEM_TABLE_REAP_SCAN) && n < max && table->n_dead > 0;
       seen++)
    {
      gpointer mem = cymem_table_entry_mem (table, e);

      if (mem != NULL && (cymem_table_entry_bits (table, e) & CYMEM_TABLE_DEAD) != 0)
        {
          out[n++] = mem;
          cymem_table_entry_clear (table, e);
          table->n_dead--;
        }
      e = e + 1 == table->n_entries ? 0 : e + 1;
    }
  *cursor = e;

  while (table->n_entries > 0 && cymem_table_entry_mem (table, table->n_entries - 1) == NULL)
    {
      table->n_entries--;
      table->n_holes--;
    }
  return n;
}

/* --- leak checkers --- */

guint64 cymem_table_word_reject = ~CYMEM_TABLE_WORD_ADDR;

void
cymem_table_init_tools (void)
{
  if (leak_checked ())
    cymem_table_word_reject = G_MAXUINT64;
}
