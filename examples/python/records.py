#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""A document that keeps fixed-size binary records in C memory owned by a
pool attached to it: they are written, read back (also through ctypes),
one is grown with realloc, and everything goes when the document does."""

import ctypes
import gc
import struct

import gi

gi.require_version("Cymem", "1")
from gi.repository import Cymem, GLib, GObject  # noqa: E402

RECORD = struct.Struct("<I d 12s")   # id, score, name: 24 bytes


class Document(GObject.Object):
    def __init__(self):
        super().__init__()
        self.records = []                     # addresses of C blocks
        self.pool = Cymem.Pool.ensure_for_object(self)

    def add(self, rec_id, score, name):
        addr = self.pool.alloc(1, RECORD.size)
        self.pool.write(addr, 0, RECORD.pack(rec_id, score, name.encode()))
        self.records.append(addr)
        return addr

    def get(self, index):
        raw = self.pool.read(self.records[index], 0, RECORD.size).get_data()
        rec_id, score, name = RECORD.unpack(raw)
        return rec_id, score, name.rstrip(b"\0").decode()


doc = Document()
for i, (name, score) in enumerate([("ada", 9.5), ("grace", 8.25), ("linus", 7.0)]):
    doc.add(i + 1, score, name)
print("records:", [doc.get(i) for i in range(3)])

# C code (here ctypes) sees the same memory.
first = doc.records[0]
print("ctypes sees id", ctypes.c_uint32.from_address(first).value)

# Grow one record into a record plus a 16-byte note; the tail comes zeroed.
doc.records[1] = doc.pool.realloc(doc.records[1], RECORD.size + 16)
doc.pool.write(doc.records[1], RECORD.size, b"needs review")
print("grown record:", doc.get(1), doc.pool.read(doc.records[1], RECORD.size, 16).get_data())
print("pool: size = %d bytes in n-allocations = %d blocks" %
      (doc.pool.props.size, doc.pool.props.n_allocations))

try:
    doc.pool.read(first, 20, 8)
except GLib.Error as e:
    print("reading past the end is refused:", e.message)

dead = []
doc.pool.weak_ref(lambda: dead.append(True))
doc.pool = None
del doc
gc.collect()
print("document gone, pool finalized:", dead == [True])
if dead != [True]:
    raise SystemExit(1)
