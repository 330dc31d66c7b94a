# SPDX-License-Identifier: MIT
"""examples/cython/sparse_matrix.pyx: Cython code allocating, at C speed, from
a Cymem.Pool created in Python."""

import ctypes
import gc
import unittest

import gi

gi.require_version("Cymem", "1")
from gi.repository import Cymem, GObject  # noqa: E402

import sparse_matrix  # noqa: E402  (the compiled example, on PYTHONPATH)

SIZE_T = ctypes.sizeof(ctypes.c_size_t)
POINTER = ctypes.sizeof(ctypes.c_void_p)
DOUBLE = ctypes.sizeof(ctypes.c_double)
SPARSE_MATRIX = SIZE_T + POINTER          # {length, rows}
SPARSE_ROW = SIZE_T + 2 * POINTER         # {length, indices, values}

MATRICES = [
    [[(0, 1.5), (3, 2.0)], [(1, -1.0)]],
    [[(2, 4.0)]],
]


def expected_blocks_and_bytes(matrices):
    blocks, n_bytes = 1, len(matrices) * POINTER          # the array
    for matrix in matrices:
        blocks += 2                                       # matrix, rows
        n_bytes += SPARSE_MATRIX + len(matrix) * SPARSE_ROW
        for row in matrix:
            blocks += 2                                   # indices, values
            n_bytes += len(row) * (SIZE_T + DOUBLE)
    return blocks, n_bytes


class SparseMatrix(unittest.TestCase):
    def test_allocates_from_a_python_pool(self):
        pool = Cymem.Pool()
        before = pool.props.n_allocations
        array = sparse_matrix.MatrixArray(MATRICES, pool)
        blocks, n_bytes = expected_blocks_and_bytes(MATRICES)
        self.assertEqual(before, 0)
        self.assertEqual(pool.props.n_allocations, blocks)
        self.assertEqual(pool.props.size, n_bytes)
        self.assertIs(array.pool, pool)
        self.assertEqual(len(array), 2)
        self.assertEqual(array.get(0, 0, 3), 2.0)
        self.assertEqual(array.get(0, 1, 1), -1.0)
        self.assertEqual(array.get(1, 0, 2), 4.0)
        self.assertEqual(array.get(1, 0, 5), 0.0)
        self.assertEqual(array.total(), 6.5)
        with self.assertRaises(IndexError):
            array.get(2, 0, 0)
        # The C side's blocks are the pool's: the binding API sees them.
        self.assertTrue(pool.owns(array.address))
        self.assertEqual(pool.get_block_size(array.address), 2 * POINTER)

    def test_clearing_the_pool_frees_the_c_memory(self):
        pool = Cymem.Pool()
        array = sparse_matrix.MatrixArray(MATRICES, pool)
        address = array.address
        self.assertGreater(pool.props.n_allocations, 0)
        pool.clear()
        self.assertEqual(pool.props.n_allocations, 0)
        self.assertEqual(pool.props.size, 0)
        self.assertFalse(pool.owns(address))
        del array   # its pointers now dangle: it must not be used again

    def test_override_protocols_see_c_allocations(self):
        with Cymem.Pool() as pool:
            array = sparse_matrix.MatrixArray(MATRICES, pool)
            self.assertIn(array.address, pool)
            self.assertEqual(len(pool), expected_blocks_and_bytes(MATRICES)[0])
            self.assertEqual(pool.addresses[array.address], 2 * POINTER)
        self.assertEqual(len(pool), 0)

    def test_fill_without_the_gil(self):
        pool = Cymem.Pool()
        address = sparse_matrix.fill(pool, 1000, 0.25)
        self.assertEqual(pool.props.n_allocations, 1)
        self.assertEqual(pool.get_block_size(address), 1000 * DOUBLE)
        values = (ctypes.c_double * 1000).from_address(address)
        self.assertEqual(sum(values), 250.0)
        pool.free(address)
        self.assertEqual(pool.props.size, 0)

    def test_own_pool_and_attached_pool(self):
        array = sparse_matrix.MatrixArray(MATRICES)        # makes its own
        self.assertIsInstance(array.pool, Cymem.Pool)
        self.assertEqual(array.total(), 6.5)
        owner = GObject.Object()
        pool = Cymem.Pool.ensure_for_object(owner)
        array = sparse_matrix.MatrixArray(MATRICES, pool)
        self.assertEqual(pool.props.n_allocations, expected_blocks_and_bytes(MATRICES)[0])

    def test_the_array_keeps_the_pool_alive(self):
        array = sparse_matrix.MatrixArray(MATRICES, Cymem.Pool())
        gc.collect()
        self.assertEqual(array.total(), 6.5)    # under ASan: no use after free

    def test_rejects_what_is_not_a_pool(self):
        for not_a_pool in [GObject.Object(), 42, "pool", object()]:
            with self.assertRaises(TypeError):
                sparse_matrix.MatrixArray(MATRICES, not_a_pool)
            with self.assertRaises(TypeError):
                sparse_matrix.fill(not_a_pool, 1, 0.0)


if __name__ == "__main__":
    unittest.main(verbosity=2)
