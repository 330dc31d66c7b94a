# SPDX-License-Identifier: MIT
"""PyGObject overrides for the Cymem namespace.

PyGObject loads this module when a program does `from gi.repository import
Cymem`, provided a `gi/overrides` directory holding it is on `sys.path` (it
is installed under the prefix's Python directory). It adds to `Cymem.Pool`
the Python protocols cymem users expect, built only on the binding API:

    with Cymem.Pool() as pool:        # the pool is cleared on exit
        addr = pool.alloc(4, 8)
        len(pool)                     # 1: the number of blocks
        addr in pool                  # True
        for address, n_bytes in pool: ...
        pool.addresses[addr]          # 32: a live, read-only mapping
"""

import collections.abc

from ..module import get_introspection_module
from ..overrides import override
from gi.repository import GLib

Cymem = get_introspection_module("Cymem")

__all__ = []

# The largest value a guintptr argument accepts.
_MAX_ADDRESS = (1 << (8 * GLib.SIZEOF_VOID_P)) - 1


def _is_address(value):
    """Whether @value can name a block: an int (not a bool) in guintptr range."""
    return (isinstance(value, int) and not isinstance(value, bool)
            and 0 < value <= _MAX_ADDRESS)


def _snapshot(pool):
    """The pool's blocks as a list of (address, n_bytes), oldest first.

    foreach refuses any change to the pool from inside its callback, so the
    list is taken first; the caller may then free or allocate freely.
    """
    blocks = []
    pool.foreach(lambda address, n_bytes: blocks.append((address, n_bytes)))
    return blocks


class PoolAddresses(collections.abc.Mapping):
    """A read-only, live view of a pool's blocks: address -> size in bytes.

    Like cymem's `Pool.addresses`, but every lookup asks the pool, so the
    view follows allocations and frees made after it was taken. It holds a
    reference to the pool. Iterating walks a snapshot taken when the
    iteration starts.
    """

    __slots__ = ("_pool",)

    def __init__(self, pool):
        self._pool = pool

    def __getitem__(self, address):
        if not _is_address(address):
            raise KeyError(address)
        try:
            return self._pool.get_block_size(address)
        except GLib.Error as err:
            if err.matches(Cymem.pool_error_quark(),
                           Cymem.PoolError.UNKNOWN_ADDRESS):
                raise KeyError(address) from None
            raise

    def __contains__(self, address):
        return _is_address(address) and self._pool.owns(address)

    def __len__(self):
        return self._pool.get_n_allocations()

    def __iter__(self):
        return iter([address for address, _ in _snapshot(self._pool)])

    def items(self):
        return _ItemsView(self)

    def values(self):
        return _ValuesView(self)

    def __repr__(self):
        return "<Cymem.PoolAddresses %r>" % (dict(_snapshot(self._pool)),)


class _ItemsView(collections.abc.ItemsView):
    # Pairs from one snapshot: no lookup can fail if the pool changes.
    def __iter__(self):
        return iter(_snapshot(self._mapping._pool))


class _ValuesView(collections.abc.ValuesView):
    def __iter__(self):
        return iter([n_bytes for _, n_bytes in _snapshot(self._mapping._pool)])


class Pool(Cymem.Pool):
    """A `Cymem.Pool` with Python's container and context-manager protocols."""

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc_value, traceback):
        self.clear()
        return False

    def __len__(self):
        """The number of blocks the pool owns (its `n-allocations`)."""
        return self.get_n_allocations()

    def __bool__(self):
        # A pool is an object, not just a container: an empty pool is still
        # true, so `pool or Cymem.Pool()` and `if pool:` keep their meaning.
        return True

    def __contains__(self, address):
        """Whether @address is the start of a block the pool owns."""
        return _is_address(address) and self.owns(address)

    def __iter__(self):
        """(address, size) for each block, oldest first, from a snapshot."""
        return iter(_snapshot(self))

    @property
    def addresses(self):
        """A live, read-only mapping of the pool's blocks: address -> size."""
        return PoolAddresses(self)


Pool = override(Pool)
__all__.append("Pool")
__all__.append("PoolAddresses")
