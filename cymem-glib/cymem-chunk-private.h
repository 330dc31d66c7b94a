/* cymem-chunk-private.h: the chunks small blocks are carved from
 *
 * SPDX-License-Identifier: MIT
 *
 * A pool with the default allocator that has made more than a few small
 * blocks gets a *heap*: per size class, 64 KiB chunks, aligned to their
 * size, from which blocks of up to CYMEM_HEAP_MAX bytes are carved. A
 * block's memory is then a slot: carving pops a free slot or bumps a
 * pointer, freeing pushes the slot back, and finalize releases whole
 * chunks. Larger blocks, pools with their own allocator, small pools and
 * CYMEM_DEBUG=malloc keep one malloc() per block. See docs/design.md for
 * the measurements behind each number.
 *
 * Ownership is still decided by the pool's records. The process-wide
 * registry maps each 64 KiB of address space to "no chunk", "a chunk with
 * no owner" or the heap that owns the chunk there (cymem_chunk_owner()),
 * with lock-free reads and without touching the address; a chunk's header
 * is read only once the registry says the chunk is the reader's own (so it
 * cannot be released or unmapped meanwhile: only its owner, under its lock,
 * releases it).
 *
 * A block stolen into another pool stays in its chunk: the chunk counts it
 * as *lent*. When the borrower frees it, the slot goes back to the owner,
 * under the owner's lock (the heap counts such borrowers, and its owner's
 * finalize waits for them); when the owning pool dies first, its chunks
 * with lent blocks are *orphaned* and the last lent block freed releases
 * them.
 *
 * Locks: the heap is guarded by its pool's lock. The lent counts, the
 * borrowers in progress and orphaning are guarded by one process-wide lock,
 * taken after any pool lock and never held while taking one; the registry's
 * leaves and the cache of released chunks by another. No allocator call is
 * made with a pool lock held: the caller releases the chunk a free returns
 * after unlocking.
 *
 * Memory tools: every carved block is described to valgrind as a
 * malloc-like block and unpoisoned for AddressSanitizer; free slots and the
 * gap after each block are inaccessible to both. Under either tool each slot
 * also gets CYMEM_CHUNK_REDZONE bytes of gap after the block, so that an
 * overflow by one byte is caught whatever the block's size.
 */

#pragma once

#include <string.h>

#include <glib.h>

#include "cymem-lock-private.h"

G_BEGIN_DECLS

#define CYMEM_CHUNK_SHIFT   16
#define CYMEM_CHUNK_SIZE    (((gsize) 1) << CYMEM_CHUNK_SHIFT)
/* The largest block carved from a chunk. */
#define CYMEM_HEAP_MAX      512
#define CYMEM_HEAP_N_CLASSES 16
/* Small blocks a pool makes with malloc() before it gets a heap, so that
 * a pool of a few blocks (one per list item) never holds a 64 KiB chunk. */
#define CYMEM_HEAP_START    64

typedef struct _CymemChunk CymemChunk;
typedef struct _CymemHeap  CymemHeap;

struct _CymemChunk
{
  CymemChunk *next;        /* the owner's chunks */
  CymemChunk *prev;
  CymemChunk *avail_next;  /* the owner's chunks of this class with a free slot */
  CymemChunk *avail_prev;
  guint16    *free_slots;  /* a stack of free slot indices */
  guint32    *entry_of;    /* per slot, the owner's table entry holding it */
  guint32     data;        /* the first slot's offset: no pointer to a block, so
                            * that valgrind's leak check finds none here */
  guint32     klass;
  guint32     slot_size;   /* the class's size, plus the redzone under a memory tool */
  guint32     n_slots;
  guint32     n_used;      /* carved and not freed, lent ones included */
  guint32     n_bumped;    /* slots ever carved: the rest are untouched */
  guint32     n_free;      /* on the free stack */
  guint32     n_lent;      /* guarded by the lent lock */
  guint32     slot_recip;  /* ceil (2^32 / slot_size): a slot's index without a division */
  gboolean    tool;        /* under a memory tool: redzones, valgrind's requests,
                            * and fresh slots before freed ones, so that a use
                            * after free is caught */
};

struct _CymemHeap
{
  CymemChunk *avail[CYMEM_HEAP_N_CLASSES];
  CymemChunk *chunks;
  guint       borrowers;   /* threads giving a lent slot back (lent lock) */
  CymemLock  *lock;        /* the owning pool's lock, which guards the heap */
};

/* Chunk numbers below 2^31 (addresses below 2^47) have an entry in the
 * registry; a chunk mapped higher is given back and malloc() used. A leaf
 * covers 4 GiB of address space in 512 KiB, mapped lazily by the kernel. */
#define CYMEM_REGISTRY_LEAF_SHIFT 16
#define CYMEM_REGISTRY_ROOT_SIZE  (1u << 15)
extern guintptr *cymem_chunk_registry[CYMEM_REGISTRY_ROOT_SIZE];
/* A registry entry: 0 for no chunk, this for a chunk with no owner (cached
 * or orphaned), or the owning heap's address, inverted, so that valgrind's
 * leak check finds no pointer to the heap there. */
#define CYMEM_CHUNK_UNOWNED ((guintptr) 1)

/* The registry's entry for the 64 KiB of address space @mem lies in. It
 * reads the registry, never @mem's memory. */
G_ALWAYS_INLINE static inline guintptr
cymem_chunk_lookup (gconstpointer mem)
{
  guintptr n = (guintptr) mem >> CYMEM_CHUNK_SHIFT;
  guintptr root = n >> CYMEM_REGISTRY_LEAF_SHIFT;
  guintptr *leaf;

  if (G_UNLIKELY (root >= CYMEM_REGISTRY_ROOT_SIZE))
    return 0;
  leaf = __atomic_load_n (&cymem_chunk_registry[root], __ATOMIC_ACQUIRE);
  if (leaf == NULL)
    return 0;
  return __atomic_load_n (&leaf[n & ((1u << CYMEM_REGISTRY_LEAF_SHIFT) - 1)], __ATOMIC_ACQUIRE);
}

/* Whether @mem lies in a chunk (one mapped and not unmapped since). */
G_ALWAYS_INLINE static inline gboolean
cymem_chunk_contains (gconstpointer mem)
{
  return cymem_chunk_lookup (mem) != 0;
}

/* The heap owning the chunk @mem lies in, or NULL (none, or no chunk). */
G_ALWAYS_INLINE static inline CymemHeap *
cymem_chunk_owner_at (gconstpointer mem)
{
  guintptr entry = cymem_chunk_lookup (mem);

  return entry > CYMEM_CHUNK_UNOWNED ? (CymemHeap *) ~entry : NULL;
}

G_ALWAYS_INLINE static inline CymemChunk *
cymem_chunk_of (gconstpointer mem)
{
  return (CymemChunk *) ((guintptr) mem & ~(guintptr) (CYMEM_CHUNK_SIZE - 1));
}

/* The heap that owns @chunk, or NULL. */
G_ALWAYS_INLINE static inline CymemHeap *
cymem_chunk_owner (CymemChunk *chunk)
{
  return cymem_chunk_owner_at (chunk);
}

/* Whether @mem, a block some pool's table holds, is a slot of a chunk of
 * @heap. */
G_ALWAYS_INLINE static inline gboolean
cymem_heap_owns_chunk_of (CymemHeap     *heap,
                          gconstpointer  mem)
{
  return heap != NULL && cymem_chunk_owner_at (mem) == heap;
}

/* 16-byte steps to 128, then 32 to 256, then 64 to 512. */
G_ALWAYS_INLINE static inline guint
cymem_heap_class (gsize n_bytes)
{
  if (n_bytes <= 128)
    return (guint) ((n_bytes - (n_bytes != 0)) >> 4);
  if (n_bytes <= 256)
    return 8 + (guint) ((n_bytes - 129) >> 5);
  return 12 + (guint) ((n_bytes - 257) >> 6);
}

/* Whether chunks are made for a memory tool (memcheck, or an
 * AddressSanitizer build): redzones, annotations, late reuse. */
gboolean    cymem_chunk_tool_active (void);
/* Whether the heap layer is on: not with CYMEM_DEBUG=malloc. */
gboolean    cymem_heap_enabled      (void);
/* @lock: the owning pool's lock. */
CymemHeap  *cymem_heap_new          (CymemLock  *lock);
/* Finalize, with no lock held: chunks with lent blocks are orphaned, the
 * others released, and @heap freed. The blocks the pool still had must
 * have been passed to cymem_heap_forget() first. */
void        cymem_heap_destroy      (CymemHeap  *heap);
/* A new chunk for blocks of @n_bytes (from the cache, or mapped), not yet
 * in any heap; NULL if none could be had. No lock held. */
CymemChunk *cymem_chunk_new         (gsize       n_bytes);
/* With the pool's lock held: puts a new chunk in the heap. */
void        cymem_heap_add          (CymemHeap  *heap,
                                     CymemChunk *chunk);
/* With no lock held: to the cache, or unmapped. */
void        cymem_chunk_release     (CymemChunk *chunk);
/* cymem_heap_put()'s rare cases: @chunk, whose slot was just put back,
 * was full (it goes back to its class's list) or is empty (it leaves the
 * heap and is returned, for the caller to release). */
CymemChunk *cymem_heap_put_slow     (CymemHeap  *heap,
                                     CymemChunk *chunk,
                                     gboolean    was_full);
/* With no pool lock held: frees a block its pool borrowed from another
 * pool's chunk (cymem_heap_owns_chunk_of() said no). */
void        cymem_chunk_free_lent   (gpointer    mem);
/* The blocks of a pool being finalized: the memory tools forget the
 * block, the heap does nothing (its chunk goes as a whole). */
void        cymem_heap_forget       (gpointer    mem);
/* With the locks of both pools held: @mem, carved from a chunk, moves
 * from the pool of heap @from to the pool of heap @to (either NULL). */
void        cymem_chunk_note_steal  (gpointer    mem,
                                     CymemHeap  *from,
                                     CymemHeap  *to);
/* The cache of released chunks: empty it, and its size. */
void        cymem_chunk_trim        (void);
gsize       cymem_chunk_cached_bytes (void);
/* For tests: every munmap() of chunks is taken as refused while @refuse,
 * as it is for a process at its map count limit. */
void        cymem_chunk_refuse_unmaps (gboolean refuse);

/* Memory-tool annotations: a few instructions natively (valgrind's client
 * requests do nothing outside it), calls in AddressSanitizer builds. */
#if defined(__SANITIZE_ADDRESS__)
# define CYMEM_ASAN 1
#elif defined(__has_feature)
# if __has_feature(address_sanitizer)
#  define CYMEM_ASAN 1
# endif
#endif
#ifdef CYMEM_ASAN
# include <sanitizer/asan_interface.h>
#endif
#ifdef HAVE_VALGRIND
# include <valgrind/memcheck.h>
#endif

/* The gap kept after every block under a memory tool. */
#define CYMEM_CHUNK_REDZONE 16

#ifdef HAVE_VALGRIND
/* Valgrind's requests, out of line: a request's arguments go through the
 * stack, which the allocation fast paths otherwise do without. */
void cymem_chunk_valgrind_alloc (gpointer mem,
                                 gsize    n_bytes);
void cymem_chunk_valgrind_free  (gpointer mem);
#endif

G_ALWAYS_INLINE static inline void
cymem_chunk_annotate_alloc (CymemChunk *chunk,
                            gpointer    mem,
                            gsize       n_bytes)
{
#ifdef HAVE_VALGRIND
  if (G_UNLIKELY (chunk->tool))
    cymem_chunk_valgrind_alloc (mem, n_bytes);
#endif
#ifdef CYMEM_ASAN
  ASAN_UNPOISON_MEMORY_REGION (mem, n_bytes);
#endif
  (void) chunk;
  (void) mem;
  (void) n_bytes;
}

G_ALWAYS_INLINE static inline void
cymem_chunk_annotate_free (CymemChunk *chunk,
                           gpointer    mem)
{
#ifdef HAVE_VALGRIND
  if (G_UNLIKELY (chunk->tool))
    cymem_chunk_valgrind_free (mem);
#endif
#ifdef CYMEM_ASAN
  ASAN_POISON_MEMORY_REGION (mem, chunk->slot_size);
#endif
  (void) chunk;
  (void) mem;
}

/* The index of the slot at @offset from the chunk's first slot, which must
 * be below CYMEM_CHUNK_SIZE: exact for every such offset, since
 * offset * (slot_recip * slot_size - 2^32) < 2^16 * 2^10 < 2^32. */
G_ALWAYS_INLINE static inline guint32
cymem_chunk_slot_at (const CymemChunk *chunk,
                     gsize             offset)
{
  return (guint32) (((guint64) offset * chunk->slot_recip) >> 32);
}

/* Zeroes a carved block: a few stores for the common sizes, where a call
 * to memset() costs more than the work. The stores overlap but never leave
 * the block. */
G_ALWAYS_INLINE static inline void
cymem_chunk_zero (guint8 *mem,
                  gsize   n_bytes)
{
  if (n_bytes > 64)
    {
      /* Not memset(): a call would make the allocation fast paths save
       * registers. The empty asm keeps the compiler from turning the loop
       * back into one. */
      gsize i = 0;

      for (; i + 64 <= n_bytes; i += 64)
        {
          __builtin_memset (mem + i, 0, 64);
          __asm__ ("" : : : "memory");
        }
      for (; i + 16 <= n_bytes; i += 16)
        {
          __builtin_memset (mem + i, 0, 16);
          __asm__ ("" : : : "memory");
        }
      __builtin_memset (mem + n_bytes - 16, 0, 16);
    }
  else if (n_bytes >= 16)
    {
      __builtin_memset (mem + n_bytes - 16, 0, 16);
      if (n_bytes > 16)
        __builtin_memset (mem, 0, 16);
      if (n_bytes > 32)
        __builtin_memset (mem + 16, 0, 16);
      if (n_bytes > 48)
        __builtin_memset (mem + 32, 0, 16);
    }
  else if (n_bytes >= 4)
    {
      __builtin_memset (mem, 0, 4);
      __builtin_memset (mem + n_bytes - 4, 0, 4);
      if (n_bytes > 8)
        {
          __builtin_memset (mem + 4, 0, 4);
          __builtin_memset (mem + n_bytes - 8, 0, 4);
        }
    }
  else if (n_bytes > 0)
    {
      /* 1 to 3 bytes: the first, the last and the middle one. */
      mem[0] = 0;
      mem[n_bytes - 1] = 0;
      mem[n_bytes / 2] = 0;
    }
}

/* With the pool's lock held: a slot for @n_bytes, or NULL when no chunk of
 * the heap has one free (the pool then gets a chunk, lock dropped). The
 * block is not zeroed. Its chunk and slot go to *@chunk_out, *@slot_out. */
G_ALWAYS_INLINE static inline gpointer
cymem_heap_carve_from (CymemHeap   *heap,
                       CymemChunk  *chunk,
                       CymemChunk **chunk_out,
                       guint       *slot_out)
{
  guint32 slot;

  if (chunk->n_free > 0 && !(chunk->tool && chunk->n_bumped < chunk->n_slots))
    slot = chunk->free_slots[--chunk->n_free];
  else
    slot = chunk->n_bumped++;
  if (G_UNLIKELY (++chunk->n_used == chunk->n_slots))
    {
      /* Full: out of the class's list. */
      heap->avail[chunk->klass] = chunk->avail_next;
      if (chunk->avail_next != NULL)
        chunk->avail_next->avail_prev = NULL;
      chunk->avail_next = NULL;
    }
  *chunk_out = chunk;
  *slot_out = slot;
  return (guint8 *) chunk + chunk->data + (gsize) slot * chunk->slot_size;
}

G_ALWAYS_INLINE static inline gpointer
cymem_heap_carve (CymemHeap   *heap,
                  gsize        n_bytes,
                  CymemChunk **chunk_out,
                  guint       *slot_out)
{
  CymemChunk *chunk = heap->avail[cymem_heap_class (n_bytes)];
  gpointer mem;

  if (G_UNLIKELY (chunk == NULL))
    return NULL;
  mem = cymem_heap_carve_from (heap, chunk, chunk_out, slot_out);
  cymem_chunk_annotate_alloc (chunk, mem, n_bytes);
  return mem;
}

/* cymem_heap_carve() with no call at all: NULL, changing nothing, when it
 * would need one (a chunk under a memory tool, or none with room). */
G_ALWAYS_INLINE static inline gpointer
cymem_heap_carve_quick (CymemHeap   *heap,
                        gsize        n_bytes,
                        CymemChunk **chunk_out,
                        guint       *slot_out)
{
  CymemChunk *chunk = heap->avail[cymem_heap_class (n_bytes)];

  if (G_UNLIKELY (chunk == NULL || chunk->tool))
    return NULL;
  return cymem_heap_carve_from (heap, chunk, chunk_out, slot_out);
}

/* Whether a slot can go back to @chunk, one of @heap's, with
 * cymem_heap_put_quick(): cymem_heap_put() would find nothing to do but
 * that (the chunk neither leaves the full ones nor is released). */
G_ALWAYS_INLINE static inline gboolean
cymem_heap_put_is_quick (const CymemHeap  *heap,
                         const CymemChunk *chunk)
{
  return chunk->n_used != chunk->n_slots &&
         (chunk->n_used > 1 ||
          (heap->avail[chunk->klass] == chunk && chunk->avail_next == NULL));
}

G_ALWAYS_INLINE static inline void
cymem_heap_put_quick (CymemChunk *chunk,
                      guint       slot)
{
  chunk->free_slots[chunk->n_free++] = (guint16) slot;
  chunk->n_used--;
}

/* With the pool's lock held: puts @slot back in @chunk, one of @heap's.
 * Returns an empty chunk to release with the lock dropped, or NULL. */
G_ALWAYS_INLINE static inline CymemChunk *
cymem_heap_put (CymemHeap  *heap,
                CymemChunk *chunk,
                guint       slot)
{
  gboolean was_full = chunk->n_used == chunk->n_slots;

  cymem_heap_put_quick (chunk, slot);
  /* A chunk that was full goes back to the class's list, and an empty one
   * goes unless it is the last of its class with room (a pool that frees
   * and allocates one block in turn keeps it): both are rare. */
  if (G_UNLIKELY (was_full) ||
      (chunk->n_used == 0 &&
       (heap->avail[chunk->klass] != chunk || chunk->avail_next != NULL)))
    return cymem_heap_put_slow (heap, chunk, was_full);
  return NULL;
}

/* The slot @mem starts, in its chunk. */
G_ALWAYS_INLINE static inline guint
cymem_chunk_slot_of (CymemChunk    *chunk,
                     gconstpointer  mem)
{
  return cymem_chunk_slot_at (chunk, (gsize) ((const guint8 *) mem - (guint8 *) chunk) - chunk->data);
}

/* With the pool's lock held: frees @mem, at @slot of one of @heap's
 * chunks (cymem_heap_owns_chunk_of() said so). Returns an empty chunk to
 * release with the lock dropped, or NULL. */
G_ALWAYS_INLINE static inline CymemChunk *
cymem_heap_free (CymemHeap *heap,
                 gpointer   mem,
                 guint      slot)
{
  CymemChunk *chunk = cymem_chunk_of (mem);

  cymem_chunk_annotate_free (chunk, mem);
  return cymem_heap_put (heap, chunk, slot);
}

G_END_DECLS
