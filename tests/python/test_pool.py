# SPDX-License-Identifier: MIT
"""CymemPool from Python, through PyGObject and the Cymem-1 typelib."""

import ctypes
import gc
import unittest

import gi

gi.require_version("Cymem", "1")
from gi.repository import Cymem, GLib, GObject  # noqa: E402


def error_code(ctx):
    """The Cymem.PoolError of a caught GLib.Error."""
    err = ctx.exception
    assert err.domain == "cymem-pool-error-quark", err.domain
    return err.code


class AddressApi(unittest.TestCase):
    def setUp(self):
        self.pool = Cymem.Pool()

    def test_alloc_is_zeroed_and_owned(self):
        addr = self.pool.alloc(10, 4)
        self.assertIsInstance(addr, int)
        self.assertNotEqual(addr, 0)
        self.assertTrue(self.pool.owns(addr))
        self.assertFalse(self.pool.owns(addr + 1))
        self.assertEqual(self.pool.get_block_size(addr), 40)
        self.assertEqual(self.pool.read(addr, 0, 40).get_data(), bytes(40))
        self.assertEqual(self.pool.props.size, 40)
        self.assertEqual(self.pool.props.n_allocations, 1)

    def test_zero_byte_blocks_are_distinct(self):
        a, b = self.pool.alloc(0, 8), self.pool.alloc(8, 0)
        self.assertNotEqual(a, b)
        self.assertEqual(self.pool.get_block_size(a), 0)
        self.assertEqual(self.pool.get_n_allocations(), 2)

    def test_alloc_overflow_is_an_error(self):
        with self.assertRaises(GLib.Error) as ctx:
            self.pool.alloc(2**63, 4)
        self.assertEqual(error_code(ctx), Cymem.PoolError.NO_MEMORY)
        self.assertIn("overflow", ctx.exception.message)
        self.assertEqual(self.pool.props.n_allocations, 0)

    def test_write_read(self):
        addr = self.pool.alloc(1, 16)
        self.pool.write(addr, 4, b"hello")
        self.pool.write(addr, 10, bytearray(b"\x01\x02"))
        self.assertEqual(self.pool.read(addr, 4, 5).get_data(), b"hello")
        self.assertEqual(self.pool.read(addr, 0, 16).get_data(),
                         b"\0\0\0\0hello\0\x01\x02\0\0\0\0")

    def test_ctypes_sees_what_write_wrote(self):
        addr = self.pool.alloc(1, 8)
        self.pool.write(addr, 0, b"cymem!!\0")
        view = (ctypes.c_char * 8).from_address(addr)
        self.assertEqual(view.raw, b"cymem!!\0")
        # and the other way round
        view[0] = b"C"
        self.assertEqual(self.pool.read(addr, 0, 5).get_data(), b"Cymem")

    def test_out_of_bounds(self):
        addr = self.pool.alloc(1, 8)
        for offset, length in [(0, 9), (8, 1), (9, 0), (2**64 - 1, 2), (4, 2**64 - 2)]:
            with self.assertRaises(GLib.Error) as ctx:
                self.pool.read(addr, offset, length)
            self.assertEqual(error_code(ctx), Cymem.PoolError.OUT_OF_BOUNDS)
        with self.assertRaises(GLib.Error) as ctx:
            self.pool.write(addr, 6, b"abc")
        self.assertEqual(error_code(ctx), Cymem.PoolError.OUT_OF_BOUNDS)
        # nothing was written
        self.assertEqual(self.pool.read(addr, 0, 8).get_data(), bytes(8))
        # the last byte and an empty range at the end are inside
        self.assertEqual(self.pool.read(addr, 8, 0).get_data(), b"")
        self.pool.write(addr, 7, b"z")

    def test_unknown_addresses(self):
        other = Cymem.Pool()
        foreign = other.alloc(1, 8)
        mine = self.pool.alloc(1, 8)
        freed = self.pool.alloc(1, 8)
        self.pool.free(freed)
        for addr in [0, 12345, foreign, mine + 1, freed]:
            calls = [lambda: self.pool.free(addr),
                     lambda: self.pool.get_block_size(addr),
                     lambda: self.pool.read(addr, 0, 1),
                     lambda: self.pool.write(addr, 0, b"x")]
            if addr != 0:   # realloc of 0 allocates, as realloc(NULL) does
                calls.append(lambda: self.pool.realloc(addr, 16))
            for call in calls:
                with self.assertRaises(GLib.Error) as ctx:
                    call()
                self.assertEqual(error_code(ctx), Cymem.PoolError.UNKNOWN_ADDRESS)
            self.assertFalse(self.pool.owns(addr))
        # nothing changed
        self.assertTrue(other.owns(foreign))
        self.assertEqual(self.pool.props.n_allocations, 1)
        self.assertEqual(other.props.size, 8)

    def test_realloc_keeps_contents_and_zeroes_tail(self):
        addr = self.pool.alloc(1, 4)
        self.pool.write(addr, 0, b"abcd")
        grown = self.pool.realloc(addr, 4096)
        self.assertTrue(self.pool.owns(grown))
        data = self.pool.read(grown, 0, 4096).get_data()
        self.assertEqual(data[:4], b"abcd")
        self.assertEqual(data[4:], bytes(4092))
        shrunk = self.pool.realloc(grown, 2)
        self.assertEqual(self.pool.read(shrunk, 0, 2).get_data(), b"ab")
        self.assertEqual(self.pool.props.size, 2)

    def test_realloc_failure_leaves_block(self):
        addr = self.pool.alloc(1, 4)
        with self.assertRaises(GLib.Error) as ctx:
            self.pool.realloc(addr, 2**62)
        self.assertEqual(error_code(ctx), Cymem.PoolError.NO_MEMORY)
        self.assertTrue(self.pool.owns(addr))
        self.assertEqual(self.pool.get_block_size(addr), 4)

    def test_clear(self):
        for i in range(10):
            self.pool.alloc(i, 3)
        self.pool.clear()
        self.assertEqual(self.pool.props.size, 0)
        self.assertEqual(self.pool.props.n_allocations, 0)
        self.assertTrue(self.pool.owns(self.pool.alloc(1, 1)))


class BeyondCymem(unittest.TestCase):
    def test_strings_and_copies(self):
        pool = Cymem.Pool()
        s = pool.strdup("héllo")
        self.assertEqual(pool.read_string(s), "héllo")
        self.assertEqual(pool.get_block_size(s), len("héllo".encode()) + 1)
        m = pool.memdup(b"\x00\x01\xff")
        self.assertEqual(pool.read(m, 0, 3).get_data(), b"\x00\x01\xff")
        with self.assertRaises(GLib.Error) as ctx:
            pool.read_string(pool.memdup(b"no nul"))
        self.assertEqual(error_code(ctx), Cymem.PoolError.OUT_OF_BOUNDS)

    def test_steal(self):
        a, b = Cymem.Pool(), Cymem.Pool()
        addr = a.strdup("moving")
        b.steal(a, addr)
        self.assertFalse(a.owns(addr))
        self.assertTrue(b.owns(addr))
        self.assertEqual(b.read_string(addr), "moving")
        self.assertEqual((a.props.size, b.props.size), (0, 7))
        with self.assertRaises(GLib.Error) as ctx:
            b.steal(a, addr)
        self.assertEqual(error_code(ctx), Cymem.PoolError.UNKNOWN_ADDRESS)

    def test_big_pools_lend_blocks(self):
        # Past 64 small blocks a pool carves them from chunks; a stolen one
        # stays readable after its first pool is gone, and is freed once.
        a, b = Cymem.Pool(), Cymem.Pool()
        addrs = [a.memdup(bytes([i % 256]) * 48) for i in range(300)]
        for addr in addrs[100:200]:
            b.steal(a, addr)
        self.assertEqual((a.props.n_allocations, b.props.n_allocations), (200, 100))
        del a
        gc.collect()
        for i, addr in enumerate(addrs[100:200], start=100):
            self.assertEqual(b.read(addr, 0, 48).get_data(), bytes([i % 256]) * 48)
            self.assertEqual(b.get_block_size(addr), 48)
        for addr in addrs[100:150]:
            b.free(addr)
        with self.assertRaises(GLib.Error) as ctx:
            b.free(addrs[100])
        self.assertEqual(error_code(ctx), Cymem.PoolError.UNKNOWN_ADDRESS)
        with self.assertRaises(GLib.Error) as ctx:
            b.free(addrs[150] + 8)   # inside a block
        self.assertEqual(error_code(ctx), Cymem.PoolError.UNKNOWN_ADDRESS)
        self.assertEqual(b.props.size, 50 * 48)
        # Freed slots are reused, zeroed.
        c = Cymem.Pool()
        for _ in range(200):
            addr = c.alloc(1, 48)
            self.assertEqual(c.read(addr, 0, 48).get_data(), bytes(48))
            c.write(addr, 0, b"\xff" * 48)
            c.free(addr)

    def test_limit_and_peak(self):
        pool = Cymem.Pool(limit=100)
        notified = []
        pool.connect("notify::limit", lambda *args: notified.append(pool.props.limit))
        self.assertEqual(pool.get_limit(), 100)
        a = pool.alloc(1, 60)
        with self.assertRaises(GLib.Error) as ctx:
            pool.alloc(1, 41)
        self.assertEqual(error_code(ctx), Cymem.PoolError.LIMIT_EXCEEDED)
        with self.assertRaises(GLib.Error) as ctx:
            pool.realloc(a, 101)
        self.assertEqual(error_code(ctx), Cymem.PoolError.LIMIT_EXCEEDED)
        pool.props.limit = 10       # below the size: frees nothing
        pool.props.limit = 10       # no change, no notification
        self.assertEqual(notified, [10])
        self.assertEqual(pool.props.size, 60)
        pool.free(a)
        self.assertEqual(pool.props.peak_size, 60)
        pool.reset_peak_size()
        self.assertEqual(pool.get_peak_size(), 0)

    def test_foreach(self):
        pool = Cymem.Pool()
        addrs = [pool.alloc(1, n) for n in (3, 5, 7)]
        pool.free(addrs[1])
        seen = []

        def visit(address, n_bytes):
            seen.append((address, n_bytes))
            # The pool is not locked while the callback runs: changing it
            # works, and a freed block stays readable until we return.
            pool.free(address)
            other = pool.alloc(1, 4)
            pool.free(other)

        pool.foreach(visit)
        self.assertEqual(seen, [(addrs[0], 3), (addrs[2], 7)])
        self.assertEqual(pool.props.n_allocations, 0)

    def test_children(self):
        root = Cymem.Pool()
        child = root.new_child()
        grandchild = child.new_child()
        dead = []
        grandchild.weak_ref(lambda: dead.append("grandchild"))
        child.weak_ref(lambda: dead.append("child"))
        addr = grandchild.strdup("deep")
        root.steal(grandchild, addr)   # same allocator: allowed
        del child, grandchild
        gc.collect()
        self.assertEqual(dead, [], "the parent keeps its children")
        root.clear()
        self.assertEqual(sorted(dead), ["child", "grandchild"])

    def test_disown_object(self):
        root = Cymem.Pool()
        child = root.new_child()
        dead = []
        child.weak_ref(lambda: dead.append(True))
        root.disown_object(child)       # the child may now die early
        self.assertEqual(dead, [], "Python's reference still holds it")
        del child
        gc.collect()
        self.assertEqual(dead, [True])
        # Disowning what the pool does not own is a critical, and no change.
        stranger = Owner()
        old = GLib.log_set_always_fatal(GLib.LogLevelFlags.LEVEL_ERROR)
        try:
            root.disown_object(stranger)
        finally:
            GLib.log_set_always_fatal(old)
        self.assertEqual(stranger.__grefcount__, 1)


class Owner(GObject.Object):
    """A Python subclass, to check pools die with owners defined in Python."""


class Lifetime(unittest.TestCase):
    def watch(self, obj):
        dead = []
        obj.weak_ref(lambda: dead.append(True))
        return dead

    def test_pool_dies_with_owner(self):
        for owner_class in (GObject.Object, Owner):
            owner = owner_class()
            pool = Cymem.Pool.new()
            dead = self.watch(pool)
            pool.attach(owner)
            self.assertIs(Cymem.Pool.get_for_object(owner), pool)
            pool.alloc(100, 8)
            del pool
            gc.collect()
            self.assertEqual(dead, [], "the owner keeps the pool alive")
            del owner
            gc.collect()
            self.assertEqual(dead, [True], owner_class.__name__)

    def test_attach_second_pool_is_refused(self):
        owner = Owner()
        first, second = Cymem.Pool(), Cymem.Pool()
        first.attach(owner)
        first.attach(owner)  # the same pool again changes nothing
        # A different pool is a critical (logged, not raised): still the first.
        old = GLib.log_set_always_fatal(GLib.LogLevelFlags.LEVEL_ERROR)
        try:
            second.attach(owner)
        finally:
            GLib.log_set_always_fatal(old)
        self.assertIs(Cymem.Pool.get_for_object(owner), first)

    def test_detach_and_ensure(self):
        owner = Owner()
        self.assertIsNone(Cymem.Pool.get_for_object(owner))
        pool = Cymem.Pool.ensure_for_object(owner)
        self.assertIs(Cymem.Pool.ensure_for_object(owner), pool)
        pool.detach(owner)
        self.assertIsNone(Cymem.Pool.get_for_object(owner))

    def test_own_object(self):
        pool = Cymem.Pool()
        kept = Owner()
        dead = self.watch(kept)
        pool.own_object(kept)
        del kept
        gc.collect()
        self.assertEqual(dead, [])
        pool.clear()
        self.assertEqual(dead, [True])


class TreesNamesReports(unittest.TestCase):
    """The 1.2 API: trees, budgets across trees, names, reports, realloc(0)."""

    def test_parent_ancestor_children(self):
        root = Cymem.Pool()
        child = root.new_child()
        grandchild = child.new_child()
        self.assertIsNone(root.get_parent())
        self.assertIs(child.get_parent(), root)
        self.assertTrue(grandchild.is_ancestor(root))
        self.assertFalse(root.is_ancestor(child))
        self.assertFalse(root.is_ancestor(root))
        self.assertEqual(root.list_children(), [child])
        root.disown_object(child)
        self.assertIsNone(child.get_parent())
        self.assertEqual(root.list_children(), [])

    def test_limit_bounds_the_tree(self):
        root = Cymem.Pool(limit=100)
        child = root.new_child()
        child.alloc(1, 60)
        root.alloc(1, 40)
        self.assertEqual(root.props.total_size, 100)
        self.assertEqual(root.get_total_size(), 100)
        with self.assertRaises(GLib.Error) as ctx:
            child.alloc(1, 1)
        self.assertEqual(error_code(ctx), Cymem.PoolError.LIMIT_EXCEEDED)

    def test_name_and_report(self):
        root = Cymem.Pool(name="root")
        self.assertEqual(root.props.name, "root")
        child = root.new_child()
        child.props.name = "child"
        self.assertEqual(child.dup_name(), "child")
        child.strdup("hello")
        report = root.report()
        lines = report.splitlines()
        self.assertEqual(len(lines), 2)
        self.assertIn("'root': 0 blocks, 0 bytes", lines[0])
        self.assertIn("6 bytes in its subtree (1 child)", lines[0])
        self.assertTrue(lines[1].startswith("  pool 0x"))
        self.assertIn("'child': 1 block, 6 bytes, peak 6 bytes, no limit", lines[1])

    def test_trim(self):
        pool = Cymem.Pool()
        for _ in range(5000):
            pool.alloc(1, 8)
        del pool
        Cymem.trim()   # returns the cached arrays; must not disturb new pools
        self.assertEqual(Cymem.Pool().alloc(1, 4) != 0, True)

    def test_realloc_zero_allocates(self):
        pool = Cymem.Pool()
        addr = pool.realloc(0, 12)
        self.assertNotEqual(addr, 0)
        self.assertEqual(pool.get_block_size(addr), 12)
        self.assertEqual(pool.read(addr, 0, 12).get_data(), bytes(12))


if __name__ == "__main__":
    unittest.main(verbosity=2)
