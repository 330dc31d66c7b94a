/* cymem-table-private.h: the pool's table of owned addresses
 *
 * SPDX-License-Identifier: MIT
 *
 * A map from a block's start address to its requested size. The pool only
 * ever talks to the table through these functions, so the structure behind
 * them can change without touching the pool. None of them lock: the pool
 * holds its lock around every call.
 *
 * The table never reads the blocks themselves, so it can reject a foreign or
 * already freed pointer without touching memory it does not own.
 *
 * The structure (see cymem-table.c for the why): `entries` holds
 * (address, size) in allocation order, with holes (address NULL) where blocks
 * were removed; `slots` is an open-addressing index (linear probing, at most
 * half full) from an address to its entry. The lookups and the common cases
 * of insert and remove are inline here, since they sit on every allocation.
 *
 * Blocks carved from the chunks of the pool's own heap are not in the index:
 * their chunk records which entry holds each slot (CymemChunk.entry_of), so
 * that a lookup goes from the address to its chunk (through the registry,
 * which reads no memory of the block) to the entry, with no hashing and no
 * index to grow. Their entries carry CYMEM_TABLE_CARVED.
 *
 * While the table is pinned (walkers or cleanups running, see the protocol
 * in cymem-pool.c) a freed block is not removed but *killed*: it leaves the
 * index, so nobody finds it, but keeps its entry, flagged dead, so that its
 * memory is released only when the last pin goes (cymem_table_reap()). No
 * entry moves while the table is pinned, so a walk by index stays valid.
 */

#pragma once

#include <glib.h>

#include "cymem-chunk-private.h"

G_BEGIN_DECLS

/* An entry is a block's address and requested size, with two flags: a
 * killed block, and a block indexed through its chunk. A table's entries
 * are *narrow* (CymemTableWord, 8 bytes) while every address fits in 48 bits
 * and every size in 14, which covers every carved block and nearly every
 * other: the 16 bytes an entry took were a fifth of a 64-byte block's cost
 * (87.1 bytes a block at N = 1,000,000, against calloc's 80). The first
 * entry that does not fit makes the table *wide* (CymemTableEntry, the
 * full address and size) for the rest of its life; a pool resizing a block
 * calls cymem_table_prepare() first, so that only that step can fail. */
typedef struct
{
  gpointer mem;      /* NULL marks a hole left by a removal */
  gsize    n_bytes;  /* with CYMEM_TABLE_DEAD set for a killed block */
} CymemTableEntry;

typedef guint64 CymemTableWord;

/* Sizes stay below CYMEM_TABLE_MAX_SIZE, so the top two bits are free for
 * flags: a killed block, and a block indexed through its chunk. */
#define CYMEM_TABLE_DEAD      (((gsize) 1) << (sizeof (gsize) * 8 - 1))
#define CYMEM_TABLE_CARVED    (((gsize) 1) << (sizeof (gsize) * 8 - 2))
#define CYMEM_TABLE_SIZE_MASK (~(CYMEM_TABLE_DEAD | CYMEM_TABLE_CARVED))
#define CYMEM_TABLE_MAX_SIZE  (CYMEM_TABLE_CARVED - 1)
/* A handle for a carved block: its entry, with this bit. */
#define CYMEM_TABLE_CARVED_HANDLE (((gssize) 1) << (sizeof (gssize) * 8 - 2))

/* A narrow entry: the address in the low 48 bits (0 for a hole), the size
 * in the next 14, and the flags on top. */
#define CYMEM_TABLE_WORD_ADDR      ((G_GUINT64_CONSTANT (1) << 48) - 1)
#define CYMEM_TABLE_WORD_SIZE_SHIFT 48
#define CYMEM_TABLE_WORD_MAX_SIZE  ((1u << 14) - 1)
#define CYMEM_TABLE_WORD_DEAD      (G_GUINT64_CONSTANT (1) << 63)
#define CYMEM_TABLE_WORD_CARVED    (G_GUINT64_CONSTANT (1) << 62)

/* Entries kept in the table itself, so that a pool of one or two blocks
 * (one pool per list item, say) allocates no arrays at all. Until it
 * outgrows them, and while an index could not be built, lookups are a
 * linear search and a "slot" is an entry's position. A wide table always
 * has arrays. */
#define CYMEM_TABLE_SMALL 2

typedef struct
{
  gpointer         entries;     /* allocation order: CymemTableWord, or
                                 * CymemTableEntry once @wide */
  guint            n_entries;   /* used, holes included */
  guint            n_holes;     /* dead entries included */
  guint            n_dead;
  guint            pins;        /* while nonzero: kill, do not remove; no compaction */
  guint            debt_pins;   /* of @pins, those held for other pools (the
                                 * pool's business; kept here, where it packs) */
  guint            entries_capacity;
  guint            n_indexed;   /* live entries in the index (the others are carved) */
  guint8           slots_shift; /* 64 - log2 (number of slots) */
  guint8           wide;        /* whether @entries are CymemTableEntry */

  guint32         *slots;       /* entry index + 1, or 0 for empty */
  CymemHeap       *heap;        /* the pool's heap, whose blocks are carved; or NULL */
  CymemTableWord   small[CYMEM_TABLE_SMALL];  /* the entries while @entries is NULL */
} CymemTable;

/* The narrow entries (not for a wide table). */
G_ALWAYS_INLINE static inline CymemTableWord *
cymem_table_words (const CymemTable *table)
{
  return table->entries != NULL ? (CymemTableWord *) table->entries : (CymemTableWord *) table->small;
}

/* The wide entries (only for a wide table). */
G_ALWAYS_INLINE static inline CymemTableEntry *
cymem_table_wide (const CymemTable *table)
{
  return (CymemTableEntry *) table->entries;
}

/* The address bits a narrow entry cannot hold: all of them under a leak
 * checker (memcheck, LeakSanitizer), which finds a block only through a
 * plain pointer to it, so that tables are wide there from their first
 * entry (cymem_table_init_tools()). */
extern guint64 cymem_table_word_reject;
void cymem_table_init_tools (void);

/* Whether an entry for @mem of @n_bytes fits a narrow table. */
G_ALWAYS_INLINE static inline gboolean
cymem_table_word_fits (gconstpointer mem,
                       gsize         n_bytes)
{
  return ((guint64) (guintptr) mem & cymem_table_word_reject) == 0 &&
         (n_bytes & CYMEM_TABLE_SIZE_MASK) <= CYMEM_TABLE_WORD_MAX_SIZE;
}

/* A narrow entry for @mem, with @bits its size and flags; it must fit. */
G_ALWAYS_INLINE static inline CymemTableWord
cymem_table_word (gconstpointer mem,
                  gsize         bits)
{
#if GLIB_SIZEOF_SIZE_T == 8
  /* The flags are in the same bits. */
  return (guint64) (guintptr) mem |
         ((guint64) (bits & CYMEM_TABLE_SIZE_MASK) << CYMEM_TABLE_WORD_SIZE_SHIFT) |
         (bits & (CYMEM_TABLE_DEAD | CYMEM_TABLE_CARVED));
#else
  return (guint64) (guintptr) mem |
         ((guint64) (bits & CYMEM_TABLE_SIZE_MASK) << CYMEM_TABLE_WORD_SIZE_SHIFT) |
         ((bits & CYMEM_TABLE_DEAD) ? CYMEM_TABLE_WORD_DEAD : 0) |
         ((bits & CYMEM_TABLE_CARVED) ? CYMEM_TABLE_WORD_CARVED : 0);
#endif
}

/* A narrow entry's size, with its flags (CYMEM_TABLE_DEAD, CYMEM_TABLE_CARVED). */
G_ALWAYS_INLINE static inline gsize
cymem_table_word_bits (CymemTableWord word)
{
#if GLIB_SIZEOF_SIZE_T == 8
  return (gsize) (((word >> CYMEM_TABLE_WORD_SIZE_SHIFT) & CYMEM_TABLE_WORD_MAX_SIZE) |
                  (word & (CYMEM_TABLE_WORD_DEAD | CYMEM_TABLE_WORD_CARVED)));
#else
  return (gsize) ((word >> CYMEM_TABLE_WORD_SIZE_SHIFT) & CYMEM_TABLE_WORD_MAX_SIZE) |
         ((word & CYMEM_TABLE_WORD_DEAD) ? CYMEM_TABLE_DEAD : 0) |
         ((word & CYMEM_TABLE_WORD_CARVED) ? CYMEM_TABLE_CARVED : 0);
#endif
}

/* An entry's address: NULL for a hole. */
G_ALWAYS_INLINE static inline gpointer
cymem_table_entry_mem (const CymemTable *table,
                       guint             entry)
{
  if (G_UNLIKELY (table->wide))
    return cymem_table_wide (table)[entry].mem;
  return (gpointer) (guintptr) (cymem_table_words (table)[entry] & CYMEM_TABLE_WORD_ADDR);
}

/* An entry's size, with its flags (CYMEM_TABLE_DEAD, CYMEM_TABLE_CARVED). */
G_ALWAYS_INLINE static inline gsize
cymem_table_entry_bits (const CymemTable *table,
                        guint             entry)
{
  if (G_UNLIKELY (table->wide))
    return cymem_table_wide (table)[entry].n_bytes;
  return cymem_table_word_bits (cymem_table_words (table)[entry]);
}

/* Sets an entry; in a narrow table it must fit (cymem_table_prepare()). */
G_ALWAYS_INLINE static inline void
cymem_table_entry_set (CymemTable    *table,
                       guint          entry,
                       gconstpointer  mem,
                       gsize          bits)
{
  if (G_UNLIKELY (table->wide))
    {
      cymem_table_wide (table)[entry].mem = (gpointer) mem;
      cymem_table_wide (table)[entry].n_bytes = bits;
    }
  else
    cymem_table_words (table)[entry] = cymem_table_word (mem, bits);
}

/* Makes an entry a hole. */
G_ALWAYS_INLINE static inline void
cymem_table_entry_clear (CymemTable *table,
                         guint       entry)
{
  if (G_UNLIKELY (table->wide))
    cymem_table_wide (table)[entry].mem = NULL;
  else
    cymem_table_words (table)[entry] = 0;
}

/* Flags an entry dead. */
G_ALWAYS_INLINE static inline void
cymem_table_entry_kill (CymemTable *table,
                        guint       entry)
{
  if (G_UNLIKELY (table->wide))
    cymem_table_wide (table)[entry].n_bytes |= CYMEM_TABLE_DEAD;
  else
    cymem_table_words (table)[entry] |= CYMEM_TABLE_WORD_DEAD;
}

/* Whether an entry is a live block: not a hole, not dead. */
G_ALWAYS_INLINE static inline gboolean
cymem_table_entry_is_live (const CymemTable *table,
                           guint             entry)
{
  return cymem_table_entry_mem (table, entry) != NULL &&
         (cymem_table_entry_bits (table, entry) & CYMEM_TABLE_DEAD) == 0;
}

typedef void (*CymemTableFunc) (gpointer mem,
                                gsize    n_bytes,
                                gpointer user_data);

#define CYMEM_TABLE_INIT { NULL, 0, 0, 0, 0, 0, 0, 0, 64, 0, NULL, NULL, { 0, 0 } }

/* Slow paths, in cymem-table.c. */
gboolean cymem_table_insert_slow (CymemTable    *table,
                                  gpointer       mem,
                                  gsize          n_bytes);
void     cymem_table_unindex     (CymemTable    *table,
                                  gsize          slot);
void     cymem_table_update      (CymemTable    *table,
                                  gssize         slot,
                                  gpointer       new_mem,
                                  gsize          n_bytes);
void     cymem_table_take        (CymemTable    *dest,
                                  CymemTable    *src);
void     cymem_table_foreach     (CymemTable    *table,
                                  CymemTableFunc func,
                                  gpointer       user_data);
/* @carved_func is called for the blocks carved from the table's heap, and
 * may be NULL to skip them. */
void     cymem_table_drain       (CymemTable    *table,
                                  CymemTableFunc func,
                                  CymemTableFunc carved_func,
                                  gpointer       user_data);
void     cymem_table_kill        (CymemTable    *table,
                                  gssize         slot);
void     cymem_table_kill_all    (CymemTable    *table);
/* The most entries one cymem_table_reap() looks at. */
#define CYMEM_TABLE_REAP_SCAN 4096
guint    cymem_table_reap        (CymemTable    *table,
                                  gpointer      *out,
                                  guint          max,
                                  guint         *cursor);
gboolean cymem_table_reserve     (CymemTable    *table,
                                  guint          n_more);
gboolean cymem_table_widen       (CymemTable    *table);
void     cymem_table_shrink      (CymemTable    *table);
/* The process-wide cache of released arrays: empty it, and its size. */
void     cymem_table_trim        (void);
gsize    cymem_table_cached_bytes (void);
/* Whether big entries arrays are mappings grown without a copy (64-bit
 * Linux), and, for tests and the fuzzer, from which size (a power of two
 * from 256 entries; 0 for the default). Only while no table has one. */
gboolean cymem_table_has_long_entries (void);
void     cymem_table_set_long_layout  (guint          min_entries);
/* For tests: the table's next @n_allocs array allocations succeed, the
 * ones after fail; -1 for none failing. */
void     cymem_table_fail_allocs_after (gint          n_allocs);


/* Fibonacci hashing: the top bits of the product mix every address bit, so
 * the low bits that alignment keeps at zero do not matter. */
G_ALWAYS_INLINE static inline gsize
cymem_table_home (const CymemTable *table,
                  gconstpointer     mem)
{
  return (gsize) (((guint64) (guintptr) mem * G_GUINT64_CONSTANT (0x9E3779B97F4A7C15))
                  >> table->slots_shift);
}

/* Makes sure an entry for @mem of @n_bytes can be set without allocating:
 * FALSE, with the table unchanged, if it could not be widened. */
G_ALWAYS_INLINE static inline gboolean
cymem_table_prepare (CymemTable    *table,
                     gconstpointer  mem,
                     gsize          n_bytes)
{
  return table->wide || cymem_table_word_fits (mem, n_bytes) || cymem_table_widen (table);
}

/* The number of slots of the index, less one: derived rather than stored,
 * to keep a pool of one block small. */
G_ALWAYS_INLINE static inline gsize
cymem_table_slots_mask (const CymemTable *table)
{
  return (gsize) (G_MAXUINT64 >> table->slots_shift);
}

/* The live entries the index takes before it must grow: half its slots;
 * 0 without one. Derived rather than stored, to keep a pool small. */
G_ALWAYS_INLINE static inline guint
cymem_table_max_live (const CymemTable *table)
{
  return table->slots != NULL ? (guint) ((cymem_table_slots_mask (table) + 1) / 2) : 0;
}

G_ALWAYS_INLINE static inline guint
cymem_table_count (const CymemTable *table)
{
  return table->n_entries - table->n_holes;
}

/* The slot of @mem if it lies in a chunk of the table's heap: >= 0 if it is
 * in a slot carved at some time (its start or not: callers compare with the
 * entry), -2 if it is not (the answer then is no), -1 if @mem is not in the
 * heap's chunks. The chunk's header is read only once the registry says
 * the chunk is the heap's. */
G_ALWAYS_INLINE static inline gssize
cymem_table_carved_slot (const CymemTable  *table,
                         gconstpointer      mem,
                         CymemChunk       **chunk_out)
{
  CymemChunk *chunk;
  gsize offset;
  guint32 slot;

  /* The registry first: only a chunk of this table's own heap is read. */
  if (table->heap == NULL || cymem_chunk_owner_at (mem) != table->heap)
    return -1;
  chunk = cymem_chunk_of (mem);
  /* Below the first slot, the offset wraps and fails the first bound. An
   * interior pointer gives its slot, whose entry holds another address:
   * the caller's comparison with the entry refuses it. */
  offset = (gsize) ((const guint8 *) mem - (const guint8 *) chunk) - chunk->data;
  if (offset >= CYMEM_CHUNK_SIZE)
    return -2;
  slot = cymem_chunk_slot_at (chunk, offset);
  if (slot >= chunk->n_bumped)
    return -2;
  *chunk_out = chunk;
  return slot;
}

/* The entry @mem's chunk notes for its slot (which may hold another
 * address, or a dead block), with the chunk and slot; -1 or -2 as
 * cymem_table_carved_slot() says, or -2 if the note is stale. */
G_ALWAYS_INLINE static inline gssize
cymem_table_carved_note (const CymemTable  *table,
                         gconstpointer      mem,
                         CymemChunk       **chunk_out,
                         gssize            *slot_out)
{
  gssize slot = cymem_table_carved_slot (table, mem, chunk_out);
  guint32 e;

  if (slot < 0)
    return slot;
  e = (*chunk_out)->entry_of[slot];
  if (e >= table->n_entries)
    return -2;
  *slot_out = slot;
  return e;
}

/* In a narrow table, the newest entry if it holds @mem, alive and carved
 * from the table's heap (its index, and its size in *@n_bytes), with its
 * chunk and slot; -1 otherwise. The block freed most often is the newest
 * (a pair, a stack of temporaries), and for it this skips the registry: an
 * entry flagged carved is the pool's own record that the block is in one
 * of its heap's chunks, so the chunk's header may be read. */
G_ALWAYS_INLINE static inline gssize
cymem_table_newest_carved (const CymemTable  *table,
                           gconstpointer      mem,
                           gsize             *n_bytes,
                           CymemChunk       **chunk_out,
                           gssize            *slot_out)
{
  guint e = table->n_entries - 1;
  CymemTableWord word;

  /* With no entry, e wraps. */
  if (G_UNLIKELY (e >= table->n_entries))
    return -1;
  word = cymem_table_words (table)[e];
  /* No narrow entry holds an address past 48 bits (one would match on its
   * low bits); then the address, alive and carved, in one comparison. */
  if (((guint64) (guintptr) mem & ~CYMEM_TABLE_WORD_ADDR) != 0 ||
      (word & (CYMEM_TABLE_WORD_ADDR | CYMEM_TABLE_WORD_DEAD | CYMEM_TABLE_WORD_CARVED)) !=
      ((guint64) (guintptr) mem | CYMEM_TABLE_WORD_CARVED))
    return -1;
  *n_bytes = cymem_table_word_bits (word) & CYMEM_TABLE_SIZE_MASK;
  *chunk_out = cymem_chunk_of (mem);
  *slot_out = cymem_chunk_slot_of (*chunk_out, mem);
  return e;
}

/* cymem_table_carved_entry() for a narrow table. */
G_ALWAYS_INLINE static inline gssize
cymem_table_carved_entry_quick (const CymemTable  *table,
                                gconstpointer      mem,
                                gsize             *n_bytes,
                                CymemChunk       **chunk_out,
                                gssize            *slot_out)
{
  gssize e = cymem_table_carved_note (table, mem, chunk_out, slot_out);
  CymemTableWord word;

  if (e < 0)
    return e;
  word = cymem_table_words (table)[e];
  /* The address, and not dead, in one comparison. */
  if ((word & (CYMEM_TABLE_WORD_ADDR | CYMEM_TABLE_WORD_DEAD)) != (guint64) (guintptr) mem)
    return -2;
  *n_bytes = cymem_table_word_bits (word) & CYMEM_TABLE_SIZE_MASK;
  return e;
}

/* The entry of @mem if it is a live block carved from the table's heap
 * (its index, and its size in *@n_bytes), with its chunk and slot there;
 * -1 if @mem is not in the heap's chunks (the index may have it), -2 if it
 * is but is no live block's start. */
G_ALWAYS_INLINE static inline gssize
cymem_table_carved_entry (const CymemTable  *table,
                          gconstpointer      mem,
                          gsize             *n_bytes,
                          CymemChunk       **chunk_out,
                          gssize            *slot_out)
{
  const CymemTableEntry *entry;
  gssize e;

  if (G_LIKELY (!table->wide))
    return cymem_table_carved_entry_quick (table, mem, n_bytes, chunk_out, slot_out);
  e = cymem_table_carved_note (table, mem, chunk_out, slot_out);
  if (e < 0)
    return e;
  entry = &cymem_table_wide (table)[e];
  if (entry->mem != mem || (entry->n_bytes & CYMEM_TABLE_DEAD) != 0)
    return -2;
  *n_bytes = entry->n_bytes & CYMEM_TABLE_SIZE_MASK;
  return e;
}

/* Without an index (a small table, or one whose index could not be built):
 * a linear search, and the slot is the entry's position. */
static inline gssize
cymem_table_find_linear (const CymemTable *table,
                         gconstpointer     mem,
                         gsize            *n_bytes)
{
  if (mem == NULL)
    return -1;
  /* The width tested once, not at each entry: the compiler reads it again
   * after every store (it is a byte), which cost custom-allocator pools,
   * whose small tables are searched this way, 18 instructions a W1 pair. */
  if (G_LIKELY (!table->wide))
    {
      const CymemTableWord *words = cymem_table_words (table);

      /* No narrow entry holds an address past 48 bits. */
      if (((guint64) (guintptr) mem & ~CYMEM_TABLE_WORD_ADDR) != 0)
        return -1;
      for (guint e = 0; e < table->n_entries; e++)
        /* A live entry's word, flags aside, is its address; a hole is 0. */
        if ((words[e] & (CYMEM_TABLE_WORD_ADDR | CYMEM_TABLE_WORD_DEAD)) == (guint64) (guintptr) mem)
          {
            if (n_bytes != NULL)
              *n_bytes = cymem_table_word_bits (words[e]) & CYMEM_TABLE_SIZE_MASK;
            return (gssize) e;
          }
      return -1;
    }
  for (guint e = 0; e < table->n_entries; e++)
    {
      const CymemTableEntry *entry = &cymem_table_wide (table)[e];

      if (entry->mem == mem && (entry->n_bytes & CYMEM_TABLE_DEAD) == 0)
        {
          if (n_bytes != NULL)
            *n_bytes = entry->n_bytes & CYMEM_TABLE_SIZE_MASK;
          return (gssize) e;
        }
    }
  return -1;
}

/* The slot of @mem among the entries not carved from the table's heap
 * (the index, or a small table's entries), with its size in *@n_bytes;
 * -1 if it is not one. */
G_ALWAYS_INLINE static inline gssize
cymem_table_find_uncarved (const CymemTable *table,
                           gconstpointer     mem,
                           gsize            *n_bytes)
{
  gsize mask, i;

  if (G_UNLIKELY (table->slots == NULL))
    return cymem_table_find_linear (table, mem, n_bytes);

  mask = cymem_table_slots_mask (table);
  /* Indexed entries are live and not carved: their bits are the size. */
  for (i = cymem_table_home (table, mem); table->slots[i] != 0; i = (i + 1) & mask)
    if (cymem_table_entry_mem (table, table->slots[i] - 1) == mem)
      {
        if (n_bytes != NULL)
          *n_bytes = cymem_table_entry_bits (table, table->slots[i] - 1);
        return (gssize) i;
      }

  return -1;
}

/* cymem_table_find(), also giving the chunk slot of a carved block in
 * *@carved_slot (-1 for the others). */
G_ALWAYS_INLINE static inline gssize
cymem_table_find_slot (const CymemTable *table,
                       gconstpointer     mem,
                       gsize            *n_bytes,
                       gint             *carved_slot)
{
  *carved_slot = -1;
  if (table->heap != NULL)
    {
      CymemChunk *chunk;
      gssize slot;
      gsize size;
      gssize e = cymem_table_carved_entry (table, mem, &size, &chunk, &slot);

      if (e >= 0)
        {
          if (n_bytes != NULL)
            *n_bytes = size;
          *carved_slot = (gint) slot;
          return e | CYMEM_TABLE_CARVED_HANDLE;
        }
      if (e == -2)
        return -1;
    }
  return cymem_table_find_uncarved (table, mem, n_bytes);
}

/* Finds @mem's slot, a handle for cymem_table_update(), valid until the
 * table next changes; -1 if @mem is not in the table. */
G_ALWAYS_INLINE static inline gssize
cymem_table_find (const CymemTable *table,
                  gconstpointer     mem,
                  gsize            *n_bytes)
{
  gint carved_slot;

  return cymem_table_find_slot (table, mem, n_bytes, &carved_slot);
}

G_ALWAYS_INLINE static inline gboolean
cymem_table_lookup (const CymemTable *table,
                    gconstpointer     mem,
                    gsize            *n_bytes)
{
  return cymem_table_find (table, mem, n_bytes) >= 0;
}

/* Room for one more entry without allocating: in the arrays, or in the
 * table itself while it has none. */
G_ALWAYS_INLINE static inline gboolean
cymem_table_has_room (const CymemTable *table)
{
  return table->entries != NULL ? table->n_entries < table->entries_capacity
                                : table->n_entries < CYMEM_TABLE_SMALL;
}

/* Room for one more entry in a narrow table: the pool's quickest path
 * takes only those, so that its cymem_table_append_carved() needs no
 * second test of the width. */
G_ALWAYS_INLINE static inline gboolean
cymem_table_has_quick_room (const CymemTable *table)
{
  return !table->wide && cymem_table_has_room (table);
}

/* cymem_table_insert_carved() into a table with room. */
G_ALWAYS_INLINE static inline void
cymem_table_append_carved (CymemTable *table,
                           gpointer    mem,
                           gsize       n_bytes,
                           CymemChunk *chunk,
                           guint       slot)
{
  guint entry = table->n_entries++;

  /* A carved block fits a narrow entry (its address is below 2^47, its
   * size at most CYMEM_HEAP_MAX), unless leak checkers made it wide. */
  cymem_table_entry_set (table, entry, mem, n_bytes | CYMEM_TABLE_CARVED);
  chunk->entry_of[slot] = entry;
}

/* Records @mem, carved from @chunk's @slot (a chunk of the table's heap),
 * which must not be in the table yet: an entry, and the chunk's note of
 * it. Returns FALSE, and changes nothing, if the table could not grow. */
G_ALWAYS_INLINE static inline gboolean
cymem_table_insert_carved (CymemTable *table,
                           gpointer    mem,
                           gsize       n_bytes,
                           CymemChunk *chunk,
                           guint       slot)
{
  if ((G_UNLIKELY (!cymem_table_has_room (table)) && !cymem_table_reserve (table, 1)) ||
      !cymem_table_prepare (table, mem, n_bytes))
    return FALSE;
  cymem_table_append_carved (table, mem, n_bytes, chunk, slot);
  return TRUE;
}

/* cymem_table_insert() for a block known not to be carved from the
 * table's heap (one fresh from malloc, or past the largest class): no
 * registry lookup. */
G_ALWAYS_INLINE static inline gboolean
cymem_table_insert_uncarved (CymemTable *table,
                             gpointer    mem,
                             gsize       n_bytes)
{
  guint entry;
  gsize mask, i;

  /* The fast path needs room for the entry and an index under half full,
   * or a free entry in the table itself; and an entry that fits. */
  if (G_UNLIKELY (table->n_entries == table->entries_capacity ||
                  table->n_indexed >= cymem_table_max_live (table) ||
                  (!table->wide && !cymem_table_word_fits (mem, n_bytes))))
    {
      if (table->entries == NULL && table->n_entries < CYMEM_TABLE_SMALL &&
          cymem_table_word_fits (mem, n_bytes))
        {
          table->small[table->n_entries] = cymem_table_word (mem, n_bytes);
          table->n_entries++;
          return TRUE;
        }
      return cymem_table_insert_slow (table, mem, n_bytes);
    }

  entry = table->n_entries++;
  cymem_table_entry_set (table, entry, mem, n_bytes);

  mask = cymem_table_slots_mask (table);
  for (i = cymem_table_home (table, mem); table->slots[i] != 0; i = (i + 1) & mask)
    ;
  table->slots[i] = entry + 1;
  table->n_indexed++;
  return TRUE;
}

/* Records @mem, which must not be in the table yet. Returns FALSE, and
 * changes nothing, if the table could not grow. */
G_ALWAYS_INLINE static inline gboolean
cymem_table_insert (CymemTable *table,
                    gpointer    mem,
                    gsize       n_bytes)
{
  if (table->heap != NULL)
    {
      CymemChunk *chunk;
      gssize slot = cymem_table_carved_slot (table, mem, &chunk);

      if (slot >= 0)
        return cymem_table_insert_carved (table, mem, n_bytes, chunk, (guint) slot);
    }
  return cymem_table_insert_uncarved (table, mem, n_bytes);
}

/* The entry at @index in allocation order, for a walk that drops the lock
 * between entries: -1 past the end, 0 for a hole or a dead block, 1 for a
 * live block (then *@mem and *@n_bytes are set). */
static inline gint
cymem_table_entry_at (const CymemTable *table,
                      guint             index,
                      gpointer         *mem,
                      gsize            *n_bytes)
{
  if (index >= table->n_entries)
    return -1;
  if (!cymem_table_entry_is_live (table, index))
    return 0;
  *mem = cymem_table_entry_mem (table, index);
  *n_bytes = cymem_table_entry_bits (table, index) & CYMEM_TABLE_SIZE_MASK;
  return 1;
}

/* cymem_table_remove_entry() in a narrow table (a hole is all zero). */
G_ALWAYS_INLINE static inline void
cymem_table_remove_entry_quick (CymemTable *table,
                                guint       entry)
{
  CymemTableWord *words = cymem_table_words (table);

  if (entry + 1 == table->n_entries)
    {
      /* The newest block, the one most often freed: pop it, and any holes
       * it was covering. */
      table->n_entries--;
      while (table->n_entries > 0 && words[table->n_entries - 1] == 0)
        {
          table->n_entries--;
          table->n_holes--;
        }
    }
  else
    {
      words[entry] = 0;
      table->n_holes++;
    }
}

/* Takes @entry out of the table, once it is out of the index (or carved). */
G_ALWAYS_INLINE static inline void
cymem_table_remove_entry (CymemTable *table,
                          guint       entry)
{
  if (G_LIKELY (!table->wide))
    {
      cymem_table_remove_entry_quick (table, entry);
      return;
    }
  if (entry + 1 == table->n_entries)
    {
      table->n_entries--;
      while (table->n_entries > 0 && cymem_table_wide (table)[table->n_entries - 1].mem == NULL)
        {
          table->n_entries--;
          table->n_holes--;
        }
    }
  else
    {
      cymem_table_wide (table)[entry].mem = NULL;
      table->n_holes++;
    }
}

/* Whether the table, once @n_removed more entries are gone, is mostly
 * empty, so that cymem_table_maybe_shrink() shrinks it. */
G_ALWAYS_INLINE static inline gboolean
cymem_table_too_big (const CymemTable *table,
                     guint             n_removed)
{
  return G_UNLIKELY (table->entries_capacity >= 1024) &&
         cymem_table_count (table) - n_removed < table->entries_capacity / 8;
}

/* Takes out the entry at a handle cymem_table_find_slot() gave. */
G_ALWAYS_INLINE static inline void
cymem_table_forget_slot (CymemTable *table,
                         gssize      slot)
{
  guint entry;

  if (slot & CYMEM_TABLE_CARVED_HANDLE)
    entry = (guint) (slot & ~CYMEM_TABLE_CARVED_HANDLE);
  else if (G_LIKELY (table->slots != NULL))
    {
      entry = table->slots[slot] - 1;
      cymem_table_unindex (table, slot);
    }
  else
    entry = (guint) slot;

  cymem_table_remove_entry (table, entry);
}

/* Forgets @mem; returns FALSE, changing nothing, if it is not in the table.
 * *@carved_slot (if not NULL) is its slot in its chunk if it was carved
 * from the table's heap, -1 otherwise. */
G_ALWAYS_INLINE static inline gboolean
cymem_table_remove (CymemTable    *table,
                    gconstpointer  mem,
                    gsize         *n_bytes,
                    gint          *carved_slot)
{
  gint slot_in_chunk;
  gssize slot = cymem_table_find_slot (table, mem, n_bytes, &slot_in_chunk);

  if (carved_slot != NULL)
    *carved_slot = slot < 0 ? -1 : slot_in_chunk;
  if (slot < 0)
    return FALSE;
  cymem_table_forget_slot (table, slot);
  return TRUE;
}

/* cymem_table_remove() for a pointer the registry has already placed
 * outside the table's heap (or a table with none): only the index, or a
 * small table's entries, can hold it. */
G_ALWAYS_INLINE static inline gboolean
cymem_table_remove_uncarved (CymemTable    *table,
                             gconstpointer  mem,
                             gsize         *n_bytes)
{
  gssize slot = cymem_table_find_uncarved (table, mem, n_bytes);

  if (slot < 0)
    return FALSE;
  cymem_table_forget_slot (table, slot);
  return TRUE;
}

/* Called after frees: gives memory back once the table is mostly empty. */
static inline void
cymem_table_maybe_shrink (CymemTable *table)
{
  if (cymem_table_too_big (table, 0) && table->pins == 0)
    cymem_table_shrink (table);
}

G_END_DECLS
