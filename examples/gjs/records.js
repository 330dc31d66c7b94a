// SPDX-License-Identifier: MIT
// A document that keeps binary records in C memory owned by a pool attached
// to it. In GJS the pool dies when the document is garbage-collected, which
// happens on GJS's own schedule: clear() releases everything at once.

imports.gi.versions.Cymem = '1';
const {Cymem, GLib, GObject} = imports.gi;

const RECORD_SIZE = 16;   // u32 id, f64 score, u32 flags

function packRecord(id, score, flags) {
    const buf = new ArrayBuffer(RECORD_SIZE);
    const view = new DataView(buf);
    view.setUint32(0, id, true);
    view.setFloat64(4, score, true);
    view.setUint32(12, flags, true);
    return new Uint8Array(buf);
}

function unpackRecord(bytes) {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    return {id: view.getUint32(0, true), score: view.getFloat64(4, true), flags: view.getUint32(12, true)};
}

const doc = new GObject.Object();
const pool = Cymem.Pool.ensure_for_object(doc);
const records = [];
for (const [id, score] of [[1, 9.5], [2, 8.25], [3, 7]]) {
    const addr = pool.alloc(1, RECORD_SIZE);
    pool.write(addr, 0, packRecord(id, score, 0));
    records.push(addr);
}
print('records:', JSON.stringify(records.map(a => unpackRecord(pool.read(a, 0, RECORD_SIZE).toArray()))));

records[1] = pool.realloc(records[1], RECORD_SIZE * 2);
const tail = pool.read(records[1], RECORD_SIZE, RECORD_SIZE).toArray();
print('grown record keeps its data:', JSON.stringify(unpackRecord(pool.read(records[1], 0, RECORD_SIZE).toArray())),
    'tail zeroed:', tail.every(b => b === 0));
print(`pool: size = ${pool.size} bytes in n-allocations = ${pool.n_allocations} blocks`);

try {
    pool.free(records[0] + 1);
} catch (e) {
    print('an interior address is refused:', e.message);
}

pool.clear();
print(`after clear: ${pool.n_allocations} blocks`);
if (pool.n_allocations !== 0)
    imports.system.exit(1);
