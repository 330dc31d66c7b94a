# SPDX-License-Identifier: MIT
"""bindings/cython/cymem_glib.pxd, through tests/cython/cymem_cython_check.pyx:
getting the CymemPool * of a PyGObject pool, borrowed and owned."""

import ctypes
import gc
import unittest

import gi

gi.require_version("Cymem", "1")
from gi.repository import Cymem, GLib, GObject  # noqa: E402

import cymem_cython_check as check  # noqa: E402  (compiled, on PYTHONPATH)


def capsule_pointer(obj):
    get = ctypes.pythonapi.PyCapsule_GetPointer
    get.restype = ctypes.c_void_p
    get.argtypes = [ctypes.py_object, ctypes.c_char_p]
    return get(obj.__gpointer__, None)


class PoolPtr(unittest.TestCase):
    def test_is_the_gobject_behind_the_wrapper(self):
        pool = Cymem.Pool()
        self.assertEqual(check.pointer_of(pool), capsule_pointer(pool))
        child = pool.new_child()
        self.assertEqual(check.pointer_of(child), capsule_pointer(child))
        self.assertNotEqual(check.pointer_of(child), check.pointer_of(pool))

    def test_rejects_other_objects(self):
        for not_a_pool in [None, 1, "x", GObject.Object(), GLib.Bytes.new(b"x"),
                           Cymem.Pool]:
            with self.assertRaises(TypeError):
                check.pointer_of(not_a_pool)

    def test_c_allocations_show_in_python(self):
        pool = Cymem.Pool()
        addrs = check.alloc_many(pool, 100, 24)
        self.assertEqual(pool.props.n_allocations, 100)
        self.assertEqual(pool.props.size, 2400)
        self.assertEqual(len(set(addrs)), 100)
        for a in addrs:
            self.assertTrue(pool.owns(a))
            self.assertEqual(pool.read(a, 0, 24).get_data(), bytes(24))
        s = check.strdup(pool, b"from cython")
        self.assertEqual(pool.read_string(s), "from cython")
        pool.clear()
        self.assertEqual(pool.props.n_allocations, 0)
        self.assertEqual(pool.props.size, 0)

    def test_limit_applies_to_c_calls(self):
        pool = Cymem.Pool(limit=100)
        self.assertTrue(check.try_alloc_over_limit(pool, 101))
        self.assertFalse(check.try_alloc_over_limit(pool, 100))
        self.assertEqual(pool.props.n_allocations, 1)

    def test_address_api_errors(self):
        pool = Cymem.Pool()
        in_domain, code = check.address_api_error(pool, 12345)
        self.assertTrue(in_domain)
        self.assertEqual(code, Cymem.PoolError.UNKNOWN_ADDRESS)

    def test_version(self):
        self.assertEqual(len(check.version()), 3)


class PoolRef(unittest.TestCase):
    def test_keeps_the_pool_after_the_python_object_goes(self):
        pool = Cymem.Pool()
        pool.alloc(1, 8)
        dead = []
        pool.weak_ref(lambda: dead.append(True))
        holder = check.Holder(pool)
        del pool
        gc.collect()
        self.assertEqual(dead, [])
        self.assertEqual(holder.n_allocations(), 1)   # under ASan: no use after free
        holder.alloc(16)
        self.assertEqual(holder.size(), 24)
        del holder
        gc.collect()
        self.assertEqual(dead, [True])


if __name__ == "__main__":
    unittest.main(verbosity=2)
