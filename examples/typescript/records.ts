// SPDX-License-Identifier: MIT
// The GJS records example, typed: type-checked in CI against definitions
// that @ts-for-gir/cli generates from Cymem-1.gir (tools/check-typescript.sh).

import GLib from 'gi://GLib?version=2.0';
import GObject from 'gi://GObject?version=2.0';
import Cymem from 'gi://Cymem?version=1';

const RECORD_SIZE = 16;

function pack(id: number, score: number): Uint8Array {
    const view = new DataView(new ArrayBuffer(RECORD_SIZE));
    view.setUint32(0, id, true);
    view.setFloat64(4, score, true);
    return new Uint8Array(view.buffer);
}

const doc = new GObject.Object();
const pool: Cymem.Pool = Cymem.Pool.ensure_for_object(doc);
pool.limit = 1024;

const records: number[] = [];
for (const [id, score] of [[1, 9.5], [2, 8.25]]) {
    const address: number = pool.alloc(1, RECORD_SIZE);
    pool.write(address, 0, pack(id, score));
    records.push(address);
}

const bytes: GLib.Bytes = pool.read(records[0], 0, RECORD_SIZE);
print(`first record: ${bytes.get_size()} bytes`);

pool.foreach((address: number, nBytes: number) => {
    print(`block at ${address}: ${nBytes} bytes`);
});

try {
    pool.free(records[0] + 1);
} catch (e) {
    if (e instanceof GLib.Error && e.matches(Cymem.PoolError, Cymem.PoolError.UNKNOWN_ADDRESS))
        print(`refused: ${e.message}`);
}

const name: number = pool.strdup('records');
print(pool.read_string(name));
pool.clear();
