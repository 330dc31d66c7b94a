// SPDX-License-Identifier: MIT
// CymemPool from Vala, through the VAPI generated from the GIR. Vala sees
// the binding API under its C names (vapigen does not apply rename-to).

int main (string[] args) {
    Test.init (ref args);

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
