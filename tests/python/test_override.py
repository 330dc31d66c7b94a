# SPDX-License-Identifier: MIT
"""The PyGObject override of Cymem (gi/overrides/Cymem.py): context manager,
len, in, iteration and the live `addresses` mapping.

PyGObject finds the override through a `gi/overrides` directory on sys.path:
the test suite puts <build>/bindings/python on PYTHONPATH, the consumer test
the installed <prefix>/lib/python3/dist-packages. If CYMEM_EXPECTED_OVERRIDE
is set, the override must have been loaded from a path under it.
"""

import collections.abc
import gc
import os
import sys
import unittest

import gi

gi.require_version("Cymem", "1")
from gi.repository import Cymem, GLib, GObject  # noqa: E402


class Loading(unittest.TestCase):
    def test_override_is_loaded(self):
        module = sys.modules.get("gi.overrides.Cymem")
        self.assertIsNotNone(module, "gi/overrides/Cymem.py was not found on sys.path")
        expected = os.environ.get("CYMEM_EXPECTED_OVERRIDE")
        if expected:
            self.assertTrue(
                os.path.realpath(module.__file__).startswith(os.path.realpath(expected)),
                "override loaded from %s, not under %s" % (module.__file__, expected))
        self.assertEqual(Cymem.Pool.__module__, "gi.overrides.Cymem")

    def test_every_way_to_get_a_pool_gives_the_override(self):
        owner = GObject.Object()
        pools = [
            Cymem.Pool(),
            Cymem.Pool.new(),
            Cymem.Pool(limit=4096),
            Cymem.Pool.ensure_for_object(owner),
        ]
        pools.append(pools[0].new_child())
        for pool in pools:
            self.assertIsInstance(pool, Cymem.Pool)
            self.assertEqual(len(pool), 0)
        self.assertIs(Cymem.Pool.get_for_object(owner), pools[3])

    def test_binding_api_unchanged(self):
        pool = Cymem.Pool()
        addr = pool.alloc(2, 4)
        pool.write(addr, 0, b"ab")
        self.assertEqual(pool.read(addr, 0, 2).get_data(), b"ab")
        self.assertEqual(pool.props.n_allocations, 1)


class ContextManager(unittest.TestCase):
    def test_clears_on_exit(self):
        with Cymem.Pool() as pool:
            self.assertIsInstance(pool, Cymem.Pool)
            a = pool.alloc(4, 8)
            pool.strdup("kept until exit")
            self.assertEqual(len(pool), 2)
        self.assertEqual(len(pool), 0)
        self.assertEqual(pool.props.size, 0)
        self.assertNotIn(a, pool)
        # still usable afterwards
        b = pool.alloc(1, 1)
        self.assertIn(b, pool)

    def test_clears_on_exception_and_lets_it_through(self):
        pool = Cymem.Pool()
        with self.assertRaises(KeyError):
            with pool as same:
                self.assertIs(same, pool)
                pool.alloc(1, 16)
                raise KeyError("boom")
        self.assertEqual(len(pool), 0)

    def test_exit_runs_cleanups(self):
        kept = GObject.Object()
        dead = []
        kept.weak_ref(lambda: dead.append(True))
        with Cymem.Pool() as pool:
            pool.own_object(kept)
            del kept
            gc.collect()
            self.assertEqual(dead, [])
        self.assertEqual(dead, [True])

    def test_attached_pool(self):
        owner = GObject.Object()
        with Cymem.Pool.ensure_for_object(owner) as pool:
            pool.alloc(1, 8)
        self.assertEqual(len(Cymem.Pool.get_for_object(owner)), 0)


class Container(unittest.TestCase):
    def setUp(self):
        self.pool = Cymem.Pool()

    def test_len_counts_blocks(self):
        self.assertEqual(len(self.pool), 0)
        addrs = [self.pool.alloc(i, 8) for i in range(5)]
        self.assertEqual(len(self.pool), 5)
        self.pool.free(addrs[2])
        self.assertEqual(len(self.pool), 4)
        self.assertEqual(len(self.pool), self.pool.props.n_allocations)

    def test_an_empty_pool_is_still_true(self):
        self.assertEqual(len(self.pool), 0)
        self.assertTrue(self.pool)
        self.assertIs(self.pool or None, self.pool)

    def test_contains(self):
        a = self.pool.alloc(1, 16)
        other = Cymem.Pool()
        b = other.alloc(1, 16)
        self.assertIn(a, self.pool)
        self.assertNotIn(a + 1, self.pool)
        self.assertNotIn(b, self.pool)
        self.assertIn(b, other)
        self.pool.free(a)
        self.assertNotIn(a, self.pool)

    def test_contains_never_raises(self):
        for value in [0, -1, -2**70, 2**64, 2**200, None, "x", 1.0, True, b"", object()]:
            self.assertNotIn(value, self.pool)
            self.assertNotIn(value, self.pool.addresses)

    def test_iteration_yields_address_size_pairs_oldest_first(self):
        sizes = [8, 0, 24, 3]
        addrs = [self.pool.alloc(1, n) for n in sizes]
        self.assertEqual(list(self.pool), list(zip(addrs, sizes)))
        self.assertEqual(dict(self.pool), dict(zip(addrs, sizes)))
        self.assertEqual(list(Cymem.Pool()), [])

    def test_iteration_sees_realloc_and_strdup(self):
        a = self.pool.alloc(1, 8)
        a = self.pool.realloc(a, 100)
        s = self.pool.strdup("hello")
        self.assertEqual(dict(self.pool), {a: 100, s: 6})

    def test_free_while_iterating(self):
        for n in range(1, 11):
            self.pool.alloc(1, n)
        seen = 0
        for address, n_bytes in self.pool:
            self.pool.free(address)
            seen += n_bytes
        self.assertEqual(seen, sum(range(1, 11)))
        self.assertEqual(len(self.pool), 0)

    def test_alloc_while_iterating(self):
        self.pool.alloc(1, 1)
        for _ in self.pool:
            self.pool.alloc(1, 2)   # not visited: the walk is a snapshot
        self.assertEqual(len(self.pool), 2)


class Addresses(unittest.TestCase):
    def setUp(self):
        self.pool = Cymem.Pool()

    def test_is_a_read_only_mapping(self):
        addresses = self.pool.addresses
        self.assertIsInstance(addresses, collections.abc.Mapping)
        self.assertNotIsInstance(addresses, collections.abc.MutableMapping)
        a = self.pool.alloc(1, 8)
        with self.assertRaises(TypeError):
            addresses[a] = 16
        with self.assertRaises(TypeError):
            del addresses[a]
        with self.assertRaises(AttributeError):
            self.pool.addresses = {}
        self.assertEqual(addresses[a], 8)

    def test_is_live(self):
        addresses = self.pool.addresses
        self.assertEqual(len(addresses), 0)
        a = self.pool.alloc(2, 8)
        b = self.pool.alloc(1, 5)
        self.assertEqual(len(addresses), 2)
        self.assertEqual(addresses[a], 16)
        self.assertEqual(addresses.get(b), 5)
        self.assertIn(a, addresses)
        self.assertEqual(list(addresses), [a, b])
        self.assertEqual(list(addresses.keys()), [a, b])
        self.assertEqual(list(addresses.values()), [16, 5])
        self.assertEqual(list(addresses.items()), [(a, 16), (b, 5)])
        self.assertEqual(addresses, {a: 16, b: 5})
        self.pool.free(a)
        self.assertNotIn(a, addresses)
        self.assertEqual(dict(addresses), {b: 5})
        self.pool.clear()
        self.assertEqual(len(addresses), 0)
        self.assertEqual(dict(addresses), {})

    def test_missing_keys(self):
        a = self.pool.alloc(1, 8)
        for key in [a + 1, 0, -1, 2**64, "a", None, 1.5]:
            with self.assertRaises(KeyError):
                self.pool.addresses[key]
            self.assertIsNone(self.pool.addresses.get(key))

    def test_items_survive_frees_during_iteration(self):
        addrs = [self.pool.alloc(1, n) for n in range(1, 6)]
        pairs = []
        for address, n_bytes in self.pool.addresses.items():
            pairs.append((address, n_bytes))
            if addrs:
                self.pool.free(addrs.pop())
        self.assertEqual(len(pairs), 5)

    def test_keeps_the_pool_alive(self):
        pool = Cymem.Pool()
        a = pool.alloc(1, 32)
        addresses = pool.addresses
        del pool
        gc.collect()
        self.assertEqual(addresses[a], 32)

    def test_other_errors_are_not_key_errors(self):
        # Only UNKNOWN_ADDRESS becomes KeyError; the binding API's other
        # errors still surface as GLib.Error.
        self.assertTrue(issubclass(GLib.Error, Exception))
        a = self.pool.alloc(1, 4)
        with self.assertRaises(GLib.Error):
            self.pool.read(a, 0, 5)


if __name__ == "__main__":
    unittest.main(verbosity=2)
