# cython: language_level=3
# SPDX-License-Identifier: MIT
"""The array of sparse matrices from cymem's README, ported to cymem-glib:
C structs whose memory belongs to a Cymem.Pool created in Python. A matrix
is a list of rows, a row a list of (index, value) pairs.

    import gi; gi.require_version("Cymem", "1")
    from gi.repository import Cymem
    import sparse_matrix

    pool = Cymem.Pool()
    array = sparse_matrix.MatrixArray([[[(0, 1.5), (3, 2.0)]]], pool)
    array.get(0, 0, 3)      # 2.0
    len(pool)               # the blocks the Cython code allocated
    pool.clear()            # frees them all; `array` must not be used again

The pool may also be omitted (MatrixArray makes its own, as cymem's version
does with `Pool()`), or come from `Cymem.Pool.ensure_for_object(owner)`.
"""

from cymem_glib cimport CymemPool, cymem_pool_alloc, pool_ptr

cdef struct SparseRow:
    size_t length
    size_t *indices
    double *values

cdef struct SparseMatrix:
    size_t length
    SparseRow *rows


cdef class MatrixArray:
    # The Python Cymem.Pool keeps the memory alive: `mem` is borrowed from it
    # and is valid exactly as long as `pool` is referenced from here.
    cdef readonly object pool
    cdef CymemPool *mem
    cdef size_t length
    cdef SparseMatrix **matrices

    def __init__(self, sparse_matrices, pool=None):
        if pool is None:
            import gi
            gi.require_version("Cymem", "1")
            from gi.repository import Cymem
            pool = Cymem.Pool()
        self.pool = pool
        self.mem = pool_ptr(pool)
        self.length = len(sparse_matrices)
        self.matrices = <SparseMatrix **> cymem_pool_alloc(
            self.mem, self.length, sizeof(SparseMatrix *))
        for i, py_matrix in enumerate(sparse_matrices):
            self.matrices[i] = get_sparse_matrix(self.mem, py_matrix)

    def __len__(self):
        return self.length

    @property
    def address(self):
        """The address of the C array of matrices (a block of the pool)."""
        return <size_t> self.matrices

    def get(self, size_t m, size_t row, size_t index):
        """The value at (row, index) of matrix m, 0.0 if not stored."""
        if m >= self.length or row >= self.matrices[m].length:
            raise IndexError((m, row))
        cdef SparseRow *r = &self.matrices[m].rows[row]
        cdef size_t j
        for j in range(r.length):
            if r.indices[j] == index:
                return r.values[j]
        return 0.0

    def total(self):
        """The sum of every stored value, computed without the GIL."""
        cdef double total = 0.0
        cdef size_t m, i, j
        with nogil:
            for m in range(self.length):
                for i in range(self.matrices[m].length):
                    for j in range(self.matrices[m].rows[i].length):
                        total += self.matrices[m].rows[i].values[j]
        return total


cdef SparseMatrix *get_sparse_matrix(CymemPool *mem, py_matrix) except NULL:
    cdef SparseMatrix *matrix = <SparseMatrix *> cymem_pool_alloc(mem, 1, sizeof(SparseMatrix))
    matrix.length = len(py_matrix)
    matrix.rows = <SparseRow *> cymem_pool_alloc(mem, matrix.length, sizeof(SparseRow))
    for i, py_row in enumerate(py_matrix):
        matrix.rows[i].length = len(py_row)
        matrix.rows[i].indices = <size_t *> cymem_pool_alloc(mem, len(py_row), sizeof(size_t))
        matrix.rows[i].values = <double *> cymem_pool_alloc(mem, len(py_row), sizeof(double))
        for j, (index, value) in enumerate(py_row):
            matrix.rows[i].indices[j] = index
            matrix.rows[i].values[j] = value
    return matrix


def fill(pool, size_t n, double value):
    """Allocates n doubles from `pool` in C, without the GIL, sets each to
    `value`, and returns the block's address."""
    cdef CymemPool *mem = pool_ptr(pool)
    cdef double *values
    cdef size_t i
    with nogil:
        values = <double *> cymem_pool_alloc(mem, n, sizeof(double))
        for i in range(n):
            values[i] = value
    return <size_t> values
