// SPDX-License-Identifier: MIT
// Added to the VAPI that vapigen generates from Cymem-1.gir: the raw-pointer
// C API, which the GIR marks (skip) because Python and JavaScript cannot use
// it, but which Vala, compiling to C, can. With it Vala code writes
//
//     void* p = pool.alloc (4, 8);
//     p = pool.realloc (p, 64);
//     pool.free (p);
//
// as C does. The address API (alloc_address, ...) stays for the rare
// program that wants a GLib.Error instead of an abort.

namespace Cymem {
	public sealed class Pool : GLib.Object {
		[CCode (cname = "cymem_pool_new_with_allocator", has_construct_function = false)]
		[Version (since = "1.0")]
		public Pool.with_allocator (Cymem.MallocFunc malloc_func, Cymem.FreeFunc free_func);
		[Version (since = "1.0")]
		public void* alloc (size_t n_elements, size_t element_size);
		[Version (since = "1.0")]
		public void* try_alloc (size_t n_elements, size_t element_size);
		[Version (since = "1.0")]
		public void* realloc (void* mem, size_t n_bytes);
		[Version (since = "1.0")]
		public void* try_realloc (void* mem, size_t n_bytes);
		[Version (since = "1.0")]
		public void free (void* mem);
		[Version (since = "1.0")]
		public bool owns (void* mem);
		[Version (since = "1.0")]
		public size_t get_block_size (void* mem);
		[Version (since = "1.0")]
		public unowned string? strdup (string? str);
		[Version (since = "1.0")]
		public unowned string? strndup (string? str, size_t n);
		[Version (since = "1.0")]
		public void* memdup (void* mem, size_t n_bytes);
		[PrintfFormat]
		[Version (since = "1.0")]
		public unowned string? strdup_printf (string format, ...);
		[Version (since = "1.0")]
		public unowned string? strdup_vprintf (string format, va_list args);
		[Version (since = "1.0")]
		public bool steal (Cymem.Pool from, void* mem);
		[Version (since = "1.0")]
		public void @foreach (Cymem.BlockFunc func);
		[Version (since = "1.0")]
		public void own (void* data, GLib.DestroyNotify destroy);
	}
}
