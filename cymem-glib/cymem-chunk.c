/* cymem-chunk.c: the chunks small blocks are carved from
 *
 * SPDX-License-Identifier: MIT
 *
 * See cymem-chunk-private.h for the model and the locks, docs/design.md for
 * the measurements.
 */

#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "cymem-chunk-private.h"
#include "cymem-lock-private.h"

#ifdef G_OS_UNIX
#include <sys/mman.h>
#include <unistd.h>
#endif

#ifdef CYMEM_ASAN
#include <sanitizer/lsan_interface.h>
#endif


guintptr *cymem_chunk_registry[CYMEM_REGISTRY_ROOT_SIZE];

/* Guards the registry's writes and the cache of released chunks. */
static CymemLock chunk_lock = CYMEM_LOCK_INIT;
/* Guards the lent counts, the borrowers in progress and orphaning. */
static CymemLock lent_lock = CYMEM_LOCK_INIT;

/* Released chunks kept for reuse, since a fresh page costs a page fault:
 * at most 4 MiB of them, and cymem_trim() returns them all. */
#define CACHE_MAX ((4u << 20) / CYMEM_CHUNK_SIZE)
/* Chunks mapped at once, one huge page's worth: one mmap() and two
 * munmap() calls per 2 MiB. */
#define MAP_ALIGN (((gsize) 2) << 20)
#define MAP_BATCH (MAP_ALIGN / CYMEM_CHUNK_SIZE)
static CymemChunk *cache;
static guint n_cached;

static const guint16 class_sizes[CYMEM_HEAP_N_CLASSES] = {
  16, 32, 48, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384, 448, 512,
};

G_STATIC_ASSERT (CYMEM_HEAP_MAX == 512);

gboolean
cymem_heap_enabled (void)
{
  static gint enabled = -1;
  gint e = __atomic_load_n (&enabled, __ATOMIC_RELAXED);

  if (G_UNLIKELY (e < 0))
    {
      /* Only "malloc" itself: CYMEM_DEBUG=all is for the reports, which
       * want the real allocation path. */
      g_auto(GStrv) words = g_strsplit_set (g_getenv ("CYMEM_DEBUG") ? g_getenv ("CYMEM_DEBUG") : "",
                                            ",;: \t", -1);

      e = !g_strv_contains ((const gchar * const *) words, "malloc");
      __atomic_store_n (&enabled, e, __ATOMIC_RELAXED);
    }
  return e;
}

/* Under a memory tool every slot keeps a gap after its block. Only under
 * memcheck among valgrind's tools: callgrind must count the very path a
 * program runs natively. */
static guint32
chunk_redzone (void)
{
#ifdef CYMEM_ASAN
  return CYMEM_CHUNK_REDZONE;
#else
#ifdef HAVE_VALGRIND
  static gint memcheck = -1;
  gint known = __atomic_load_n (&memcheck, __ATOMIC_RELAXED);

  if (known < 0)
    {
      /* Only memcheck answers this request (1: done); other tools and
       * native runs give the default, 0. */
      guint8 byte = 0, vbits = 0;

      known = RUNNING_ON_VALGRIND && VALGRIND_GET_VBITS (&byte, &vbits, 1) == 1;
      __atomic_store_n (&memcheck, known, __ATOMIC_RELAXED);
    }
  if (known)
    return CYMEM_CHUNK_REDZONE;
#endif
  return 0;
#endif
}

gboolean
cymem_chunk_tool_active (void)
{
  return chunk_redzone () != 0;
}

/* The registry's entry for @chunk; NULL if it has none (too high an
 * address, or no memory for a leaf). With chunk_lock held when @create. */
static guintptr *
registry_entry (CymemChunk *chunk,
                gboolean    create)
{
  guintptr n = (guintptr) chunk >> CYMEM_CHUNK_SHIFT;
  guintptr root = n >> CYMEM_REGISTRY_LEAF_SHIFT;
  guintptr *leaf;

  if (root >= CYMEM_REGISTRY_ROOT_SIZE)
    return NULL;
  leaf = __atomic_load_n (&cymem_chunk_registry[root], __ATOMIC_ACQUIRE);
  if (leaf == NULL && create)
    {
      /* Leaves are never freed. Mapped, not malloc()ed: a request this big
       * makes glibc consolidate its fast free lists, which slows every
       * later small malloc() of the program (the custom-allocator pools of
       * the benchmark, run after a chunked pool, took 475 instructions a
       * block instead of 271). */
      gsize bytes = ((gsize) 1 << CYMEM_REGISTRY_LEAF_SHIFT) * sizeof (guintptr);
#ifdef G_OS_UNIX
      leaf = mmap (NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (leaf == MAP_FAILED)
        return NULL;
#else
      leaf = calloc (1, bytes);
      if (leaf == NULL)
        return NULL;
#endif
      __atomic_store_n (&cymem_chunk_registry[root], leaf, __ATOMIC_RELEASE);
    }
  return leaf != NULL ? &leaf[n & ((1u << CYMEM_REGISTRY_LEAF_SHIFT) - 1)] : NULL;
}

/* With chunk_lock held: a mapped chunk enters the registry, ownerless, or
 * an unmapped one leaves it. */
static gboolean
registry_set (CymemChunk *chunk,
              gboolean    on)
{
  guintptr *entry = registry_entry (chunk, on);

  if (entry == NULL)
    return !on;
  __atomic_store_n (entry, on ? CYMEM_CHUNK_UNOWNED : 0, __ATOMIC_RELEASE);
  return TRUE;
}

/* A registered chunk's owner, or none. Set under the owner's lock (it is
 * only compared with the reader's own heap), or with no owner at all. */
static void
chunk_set_owner (CymemChunk *chunk,
                 CymemHeap  *heap)
{
  __atomic_store_n (registry_entry (chunk, FALSE),
                    heap != NULL ? ~(guintptr) heap : CYMEM_CHUNK_UNOWNED, __ATOMIC_RELEASE);
}

/* With no lock held; the chunk is out of the registry. */
static void
chunk_unmap (CymemChunk *chunk)
{
#ifdef CYMEM_ASAN
  ASAN_UNPOISON_MEMORY_REGION (chunk, CYMEM_CHUNK_SIZE);
  __lsan_unregister_root_region (chunk, CYMEM_CHUNK_SIZE);
#endif
#ifdef G_OS_UNIX
  munmap (chunk, CYMEM_CHUNK_SIZE);
#endif
}

/* Sorts a list of chunks linked through ->next by address: a merge sort of
 * the list itself, since any malloc() of a kilobyte or more makes glibc
 * consolidate its fast free lists, which slows every later small malloc()
 * of the program (by 200 instructions a block in the custom-allocator
 * benchmark that follows a big pool's teardown). */
static CymemChunk *
chunks_sort (CymemChunk *list)
{
  CymemChunk *a = NULL, *b = NULL, *merged = NULL, **tail = &merged;
  gboolean to_a = TRUE;

  if (list == NULL || list->next == NULL)
    return list;
  while (list != NULL)
    {
      CymemChunk *next = list->next;

      if (to_a)
        {
          list->next = a;
          a = list;
        }
      else
        {
          list->next = b;
          b = list;
        }
      to_a = !to_a;
      list = next;
    }
  a = chunks_sort (a);
  b = chunks_sort (b);
  while (a != NULL && b != NULL)
    {
      CymemChunk **least = (guintptr) a < (guintptr) b ? &a : &b;

      *tail = *least;
      tail = &(*least)->next;
      *least = (*least)->next;
    }
  *tail = a != NULL ? a : b;
  return merged;
}

static gboolean refuse_unmaps;

void
cymem_chunk_refuse_unmaps (gboolean refuse)
{
  __atomic_store_n (&refuse_unmaps, refuse, __ATOMIC_RELAXED);
}

/* For a run of chunks munmap() refused: unmapping part of a mapping splits
 * it, which a process at its map count limit (vm.max_map_count) cannot do.
 * Their pages are given back all the same, but for each chunk's first page,
 * which holds the link that keeps it in the cache (over the cache's bound)
 * for a later release or cymem_trim() to unmap. (They were lost for good:
 * found by adversarial review, 17 MiB of a 200,000-block pool. Giving back
 * the first page too and then writing the link faulted a whole huge page
 * back in: found by the next review.) With no lock held. */
static void
chunks_keep (guint8 *first,
             gsize   run)
{
#ifdef G_OS_UNIX
  gsize page = (gsize) sysconf (_SC_PAGESIZE);

  for (gsize i = 0; i < run; i++)
    (void) madvise (first + i * CYMEM_CHUNK_SIZE + page, CYMEM_CHUNK_SIZE - page, MADV_DONTNEED);
#endif
  cymem_lock_acquire (&chunk_lock);
  for (gsize i = 0; i < run; i++)
    {
      CymemChunk *chunk = (CymemChunk *) (gpointer) (first + i * CYMEM_CHUNK_SIZE);

#ifdef CYMEM_ASAN
      __lsan_register_root_region (chunk, CYMEM_CHUNK_SIZE);
#endif
      /* Cannot fail: the chunk was registered, so its leaf exists. */
      if (registry_set (chunk, TRUE))
        {
          chunk->next = cache;
          cache = chunk;
          n_cached++;
        }
    }
  cymem_lock_release (&chunk_lock);
}

/* Unmaps a list of chunks, already out of the registry, linked through
 * ->next: neighbours in one munmap() each, since every call also costs the
 * other processors a TLB flush (a pool of a million blocks releases about
 * a thousand chunks, mostly neighbours from the same batch). */
static void
chunks_unmap (CymemChunk *list)
{
  list = chunks_sort (list);
  while (list != NULL)
    {
      CymemChunk *first = list, *last = list;
      gsize run = 1;

      while (last->next != NULL &&
             (guint8 *) last->next == (guint8 *) last + CYMEM_CHUNK_SIZE)
        {
          last = last->next;
          run++;
        }
      list = last->next;
#ifdef CYMEM_ASAN
      for (CymemChunk *chunk = first; chunk != list; chunk = chunk->next)
        {
          ASAN_UNPOISON_MEMORY_REGION (chunk, CYMEM_CHUNK_SIZE);
          __lsan_unregister_root_region (chunk, CYMEM_CHUNK_SIZE);
        }
#endif
#ifdef G_OS_UNIX
      if (__atomic_load_n (&refuse_unmaps, __ATOMIC_RELAXED) ||
          munmap (first, run * CYMEM_CHUNK_SIZE) != 0)
        chunks_keep ((guint8 *) first, run);
#endif
    }
}

/* Releases a list of chunks linked through ->next, with no lock held:
 * into the cache while it has room, the rest unmapped. */
static void
chunks_release (CymemChunk *list)
{
  CymemChunk *unmap = NULL;

  cymem_lock_acquire (&chunk_lock);
  while (list != NULL)
    {
      CymemChunk *next = list->next;

      chunk_set_owner (list, NULL);
      if (n_cached < CACHE_MAX)
        {
          list->next = cache;
          cache = list;
          n_cached++;
        }
      else
        {
          registry_set (list, FALSE);
          list->next = unmap;
          unmap = list;
        }
      list = next;
    }
  cymem_lock_release (&chunk_lock);

  if (unmap != NULL)
    chunks_unmap (unmap);
}

#ifdef G_OS_UNIX
/* Maps @n_chunks chunks at an address aligned to @align, populated: their
 * first, or NULL.
 *
 * A fault per 4 KiB page costs about a microsecond on a virtual machine,
 * most of it not the zeroing: populated in one call and backed by
 * transparent huge pages, a batch costs a third of that a page (measured
 * 418 against 1,067 ns a 4 KiB page with MAP_POPULATE, 1,471 touching
 * each page). The kernel decides whether huge pages are given; a kernel
 * without MADV_POPULATE_WRITE (before 5.14) refuses it, and the pages then
 * fault as they are first used. */
static guint8 *
chunks_map_aligned (gsize n_chunks,
                    gsize align)
{
  gsize batch = n_chunks * CYMEM_CHUNK_SIZE, len = batch + align, head, tail;
  guint8 *map, *start;

  map = mmap (NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (map == MAP_FAILED)
    return NULL;
  start = (guint8 *) (((guintptr) map + align - 1) & ~(guintptr) (align - 1));
  head = start - map;
  tail = len - head - batch;
  if (head > 0)
    munmap (map, head);
  if (tail > 0)
    munmap (start + batch, tail);
#ifdef MADV_HUGEPAGE
  if (align >= MAP_ALIGN)
    (void) madvise (start, batch, MADV_HUGEPAGE);
#endif
#ifdef CYMEM_LINUX
# ifndef MADV_POPULATE_WRITE
#  define MADV_POPULATE_WRITE 23
# endif
  (void) madvise (start, batch, MADV_POPULATE_WRITE);
#endif
  return start;
}
#endif

/* Maps MAP_BATCH chunks, registers them, keeps one for the caller and
 * caches the rest. NULL if mapping fails: the pool then uses malloc(). */
static CymemChunk *
chunk_map (void)
{
#ifdef G_OS_UNIX
  guint n_chunks = MAP_BATCH;
  CymemChunk *mine = NULL, *spill = NULL;
  /* Aligned to a huge page, so that the kernel can back the batch with
   * one; a chunk's blocks are found by masking their address, so it must
   * be aligned to its size at least. Under a tight address-space limit,
   * where the 4 MiB this asks for are refused, one chunk is still tried. */
  guint8 *start = chunks_map_aligned (MAP_BATCH, MAP_ALIGN);

  if (start == NULL)
    {
      n_chunks = 1;
      start = chunks_map_aligned (1, CYMEM_CHUNK_SIZE);
      if (start == NULL)
        return NULL;
    }

  cymem_lock_acquire (&chunk_lock);
  for (guint i = 0; i < n_chunks; i++)
    {
      CymemChunk *chunk = (CymemChunk *) (gpointer) (start + i * CYMEM_CHUNK_SIZE);

      if (!registry_set (chunk, TRUE))
        {
          chunk->next = spill;
          spill = chunk;
        }
      else if (mine == NULL)
        mine = chunk;
      else
        {
          chunk->next = cache;
          cache = chunk;
          n_cached++;
        }
#ifdef CYMEM_ASAN
      /* Blocks may hold the only pointer to other memory. */
      __lsan_register_root_region (chunk, CYMEM_CHUNK_SIZE);
#endif
    }
  cymem_lock_release (&chunk_lock);

  while (spill != NULL)
    {
      CymemChunk *next = spill->next;

      chunk_unmap (spill);
      spill = next;
    }
  return mine;
#else
  return NULL;
#endif
}

#ifdef HAVE_VALGRIND
G_GNUC_NO_INLINE void
cymem_chunk_valgrind_alloc (gpointer mem,
                            gsize    n_bytes)
{
  VALGRIND_MALLOCLIKE_BLOCK (mem, n_bytes, CYMEM_CHUNK_REDZONE, 0);
}

G_GNUC_NO_INLINE void
cymem_chunk_valgrind_free (gpointer mem)
{
  VALGRIND_FREELIKE_BLOCK (mem, CYMEM_CHUNK_REDZONE);
}
#endif

CymemChunk *
cymem_chunk_new (gsize n_bytes)
{
  guint klass = cymem_heap_class (n_bytes);
  guint32 slot_size = class_sizes[klass] + chunk_redzone ();
  gsize header = (sizeof (CymemChunk) + 15) & ~(gsize) 15, offset;
  guint32 n_slots;
  CymemChunk *chunk;

  cymem_lock_acquire (&chunk_lock);
  chunk = cache;
  if (chunk != NULL)
    {
      cache = chunk->next;
      n_cached--;
    }
  cymem_lock_release (&chunk_lock);
  if (chunk == NULL)
    chunk = chunk_map ();
  if (chunk == NULL)
    return NULL;

  /* The header holds, after the struct, the table entries (4 bytes a
   * slot) and the free stack (2 bytes a slot); the slots fill the rest. */
  n_slots = (guint32) ((CYMEM_CHUNK_SIZE - header) / (slot_size + 6));
  for (;;)
    {
      /* Under a memory tool the first slot has a redzone before it too. */
      offset = ((header + 6 * (gsize) n_slots + 15) & ~(gsize) 15) +
               (slot_size - class_sizes[klass]);
      if (offset + (gsize) n_slots * slot_size <= CYMEM_CHUNK_SIZE)
        break;
      n_slots--;
    }

  /* A cached chunk may have served another class: its old slots overlap
   * the new header. */
#ifdef HAVE_VALGRIND
  VALGRIND_MAKE_MEM_UNDEFINED (chunk, CYMEM_CHUNK_SIZE);
#endif
#ifdef CYMEM_ASAN
  ASAN_UNPOISON_MEMORY_REGION (chunk, CYMEM_CHUNK_SIZE);
#endif
  memset (chunk, 0, sizeof (CymemChunk));
  chunk->klass = klass;
  chunk->slot_size = slot_size;
  chunk->slot_recip = (guint32) ((G_GUINT64_CONSTANT (1) << 32) / slot_size + 1);
  chunk->tool = slot_size != class_sizes[klass];
  chunk->n_slots = n_slots;
  chunk->entry_of = (guint32 *) (gpointer) ((guint8 *) chunk + header);
  chunk->free_slots = (guint16 *) (gpointer) ((guint8 *) chunk + header + 4 * (gsize) n_slots);
  chunk->data = (guint32) offset;

  /* Nothing in the slots is a block until it is carved, nor is the
   * redzone before the first. */
  offset -= slot_size - class_sizes[klass];
#ifdef HAVE_VALGRIND
  VALGRIND_MAKE_MEM_NOACCESS ((guint8 *) chunk + offset, CYMEM_CHUNK_SIZE - offset);
#endif
#ifdef CYMEM_ASAN
  ASAN_POISON_MEMORY_REGION ((guint8 *) chunk + offset, CYMEM_CHUNK_SIZE - offset);
#endif
  return chunk;
}

void
cymem_chunk_release (CymemChunk *chunk)
{
  chunk->next = NULL;
  chunks_release (chunk);
}

void
cymem_chunk_trim (void)
{
  CymemChunk *list;

  cymem_lock_acquire (&chunk_lock);
  list = cache;
  cache = NULL;
  n_cached = 0;
  for (CymemChunk *chunk = list; chunk != NULL; chunk = chunk->next)
    registry_set (chunk, FALSE);
  cymem_lock_release (&chunk_lock);

  chunks_unmap (list);
}

gsize
cymem_chunk_cached_bytes (void)
{
  gsize bytes;

  cymem_lock_acquire (&chunk_lock);
  bytes = (gsize) n_cached * CYMEM_CHUNK_SIZE;
  cymem_lock_release (&chunk_lock);
  return bytes;
}

CymemHeap *
cymem_heap_new (CymemLock *lock)
{
  CymemHeap *heap = calloc (1, sizeof (CymemHeap));

  if (heap != NULL)
    heap->lock = lock;
  return heap;
}

static void
avail_link (CymemHeap  *heap,
            CymemChunk *chunk)
{
  CymemChunk **head = &heap->avail[chunk->klass];

  chunk->avail_prev = NULL;
  chunk->avail_next = *head;
  if (*head != NULL)
    (*head)->avail_prev = chunk;
  *head = chunk;
}

static void
avail_unlink (CymemHeap  *heap,
              CymemChunk *chunk)
{
  if (chunk->avail_prev != NULL)
    chunk->avail_prev->avail_next = chunk->avail_next;
  else
    heap->avail[chunk->klass] = chunk->avail_next;
  if (chunk->avail_next != NULL)
    chunk->avail_next->avail_prev = chunk->avail_prev;
  chunk->avail_next = chunk->avail_prev = NULL;
}

void
cymem_heap_add (CymemHeap  *heap,
                CymemChunk *chunk)
{
  chunk_set_owner (chunk, heap);
  chunk->prev = NULL;
  chunk->next = heap->chunks;
  if (heap->chunks != NULL)
    heap->chunks->prev = chunk;
  heap->chunks = chunk;
  avail_link (heap, chunk);
}

CymemChunk *
cymem_heap_put_slow (CymemHeap  *heap,
                     CymemChunk *chunk,
                     gboolean    was_full)
{
  if (was_full)
    avail_link (heap, chunk);

  if (chunk->n_used == 0 &&
      (heap->avail[chunk->klass] != chunk || chunk->avail_next != NULL))
    {
      chunk_set_owner (chunk, NULL);  /* nobody finds it as this heap's any more */
      avail_unlink (heap, chunk);
      if (chunk->prev != NULL)
        chunk->prev->next = chunk->next;
      else
        heap->chunks = chunk->next;
      if (chunk->next != NULL)
        chunk->next->prev = chunk->prev;
      return chunk;
    }
  return NULL;
}

void
cymem_chunk_free_lent (gpointer mem)
{
  CymemChunk *chunk = cymem_chunk_of (mem), *empty;
  CymemHeap *owner;

  cymem_chunk_annotate_free (chunk, mem);
  cymem_lock_acquire (&lent_lock);
  chunk->n_lent--;
  owner = cymem_chunk_owner (chunk);
  if (owner == NULL)
    {
      /* Orphaned: the last one out releases it. */
      gboolean release = chunk->n_lent == 0;

      cymem_lock_release (&lent_lock);
      if (release)
        cymem_chunk_release (chunk);
      return;
    }
  /* The slot goes back to its owner, under the owner's lock, which is
   * taken with the lent lock dropped (pool locks come first). Counted as a
   * borrower meanwhile, so that the owner's finalize waits for it. */
  owner->borrowers++;
  cymem_lock_release (&lent_lock);

  CYMEM_PERTURB ();
  cymem_lock_acquire (owner->lock);
  empty = cymem_heap_put (owner, chunk, cymem_chunk_slot_of (chunk, mem));
  cymem_lock_release (owner->lock);

  cymem_lock_acquire (&lent_lock);
  owner->borrowers--;
  cymem_lock_release (&lent_lock);

  if (empty != NULL)
    cymem_chunk_release (empty);
}

void
cymem_heap_forget (gpointer mem)
{
  cymem_chunk_annotate_free (cymem_chunk_of (mem), mem);
}

void
cymem_chunk_note_steal (gpointer   mem,
                        CymemHeap *from,
                        CymemHeap *to)
{
  CymemChunk *chunk = cymem_chunk_of (mem);
  CymemHeap *owner;

  cymem_lock_acquire (&lent_lock);
  owner = cymem_chunk_owner (chunk);
  if (owner != NULL && owner == from)
    chunk->n_lent++;   /* lent out */
  else if (owner != NULL && owner == to)
    chunk->n_lent--;   /* back home: its owner frees it as its own */
  cymem_lock_release (&lent_lock);
}

void
cymem_heap_destroy (CymemHeap *heap)
{
  CymemChunk *release = NULL;

  if (heap == NULL)
    return;

  /* Borrowers giving slots back hold no reference on this pool: wait,
   * sleeping, until they are done with its heap. */
  for (;;)
    {
      cymem_lock_acquire (&lent_lock);
      if (heap->borrowers == 0)
        break;
      cymem_lock_release (&lent_lock);
      g_usleep (50);
    }
  for (CymemChunk *chunk = heap->chunks, *next; chunk != NULL; chunk = next)
    {
      next = chunk->next;
      if (chunk->n_lent > 0)
        chunk_set_owner (chunk, NULL);  /* orphaned */
      else
        {
          chunk->next = release;
          release = chunk;
        }
    }
  cymem_lock_release (&lent_lock);

  chunks_release (release);
  free (heap);
}
