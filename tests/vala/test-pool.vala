// SPDX-License-Identifier: MIT
// CymemPool from Vala, through the VAPI generated from the GIR plus
// cymem-glib/cymem-glib-1-custom.vala: pointers as in C (alloc, realloc,
// free, strdup, memdup, ...), and the binding API under its C names
// (alloc_address, ...; vapigen does not apply rename-to).

static uint n_mallocs = 0;
static uint n_frees = 0;

static void* counting_malloc (size_t n_bytes) {
    n_mallocs++;
    return GLib.malloc (n_bytes);
}

static void counting_free (void* mem) {
    n_frees++;
    GLib.free (mem);
}

int main (string[] args) {
    Test.init (ref args);

    Test.add_func ("/Cymem/Vala/pointers", () => {
        var pool = new Cymem.Pool ();
        void* p = pool.alloc (4, 8);
        uint8* bytes = (uint8*) p;
        for (int i = 0; i < 32; i++) {
            assert (bytes[i] == 0);
        }
        bytes[0] = 42;
        assert (pool.owns (p));
        assert (pool.get_block_size (p) == 32);

        p = pool.realloc (p, 64);
        bytes = (uint8*) p;
        assert (bytes[0] == 42 && bytes[63] == 0);
        assert (pool.get_block_size (p) == 64);

        unowned string name = pool.strdup ("widget");
        unowned string label = pool.strdup_printf ("%s #%d", name, 3);
        assert (label == "widget #3");
        assert (pool.strndup ("abcdef", 3) == "abc");
        int32[] values = { 1, 2, 3 };
        int32* copy = (int32*) pool.memdup (values, values.length * sizeof (int32));
        assert (copy[2] == 3);

        size_t seen = 0;
        pool.foreach ((mem, n_bytes) => { seen += n_bytes; });
        assert (seen == 64 + 7 + 10 + 4 + 12);

        var other = new Cymem.Pool ();
        assert (other.steal (pool, copy));
        assert (other.owns (copy) && !pool.owns (copy));

        pool.free (p);
        assert (!pool.owns (p));
        assert (pool.n_allocations == 3);
        assert (pool.try_alloc (size_t.MAX, 2) == null);
    });

    Test.add_func ("/Cymem/Vala/allocator", () => {
        n_mallocs = n_frees = 0;
        var pool = new Cymem.Pool.with_allocator (counting_malloc, counting_free);
        void* a = pool.alloc (1, 16);
        pool.alloc (2, 16);
        pool.free (a);
        assert (n_mallocs == 2 && n_frees == 1);
        pool = null;
        assert (n_frees == 2);
    });

    Test.add_func ("/Cymem/Vala/alloc-read-write", () => {
        var pool = new Cymem.Pool ();
        size_t addr = 0;
        try {
            addr = pool.alloc_address (4, 4);
            pool.write (addr, 0, "vala".data);
            assert (pool.read (addr, 0, 4).compare (new Bytes ("vala".data)) == 0);
            assert (pool.get_block_size_address (addr) == 16);
        } catch (Error e) {
            assert_not_reached ();
        }
        assert (pool.size == 16);
        assert (pool.n_allocations == 1);
        assert (pool.owns_address (addr));
        assert (!pool.owns_address (addr + 1));
    });

    Test.add_func ("/Cymem/Vala/errors", () => {
        var pool = new Cymem.Pool ();
        try {
            pool.free_address (12345);
            assert_not_reached ();
        } catch (Cymem.PoolError e) {
            assert (e is Cymem.PoolError.UNKNOWN_ADDRESS);
        } catch (Error e) {
            assert_not_reached ();
        }
        pool.limit = 8;
        try {
            pool.alloc_address (1, 9);
            assert_not_reached ();
        } catch (Cymem.PoolError e) {
            assert (e is Cymem.PoolError.LIMIT_EXCEEDED);
        } catch (Error e) {
            assert_not_reached ();
        }
    });

    Test.add_func ("/Cymem/Vala/owner", () => {
        var owner = new Object ();
        unowned Cymem.Pool pool = Cymem.Pool.ensure_for_object (owner);
        assert (Cymem.Pool.get_for_object (owner) == pool);
        unowned Cymem.Pool child = pool.new_child ();
        try {
            var s = child.strdup_address ("tree");
            assert (child.read_string (s) == "tree");
            pool.steal_address (child, s);
            assert (pool.owns_address (s));
        } catch (Error e) {
            assert_not_reached ();
        }
        size_t seen = 0;
        pool.foreach_address ((address, n_bytes) => { seen += n_bytes; });
        assert (seen == 5);
    });

    return Test.run ();
}
