import assert from "node:assert/strict";
import { Bitfield, BitfieldError } from "../../src/torrent/bitfield.ts";

Deno.test("bitfield: wire order is high bit first and count tracks set/unset", () => {
  const b = new Bitfield(10);
  assert.equal(b.set(0), true);
  assert.equal(b.set(0), false);
  b.set(9);
  assert.deepEqual([...b.toBytes()], [0x80, 0x40]);
  assert.equal(b.count(), 2);
  assert.equal(b.unset(0), true);
  assert.equal(b.unset(0), false);
  assert.equal(b.count(), 1);
  assert.equal(b.has(9), true);
  assert.equal(b.has(10), false);
  assert.throws(() => b.set(10), RangeError);
  assert.deepEqual([...b.indexes()], [9]);
});

Deno.test("bitfield: fromWire accepts exact length with clear spare bits", () => {
  const b = Bitfield.fromWire(new Uint8Array([0xff, 0xc0]), 10);
  assert.equal(b.count(), 10);
  assert.equal(b.isComplete(), true);
  assert.deepEqual([...b.clone().toBytes()], [0xff, 0xc0]);
});

Deno.test("bitfield: fromWire rejects wrong length and set spare bits", () => {
  assert.throws(() => Bitfield.fromWire(new Uint8Array([0xff]), 10), BitfieldError);
  assert.throws(() => Bitfield.fromWire(new Uint8Array(3), 10), BitfieldError);
  assert.throws(() => Bitfield.fromWire(new Uint8Array([0xff, 0xe0]), 10), /spare bits/);
  // A multiple of 8 has no spare bits at all.
  assert.equal(Bitfield.fromWire(new Uint8Array([0xff]), 8).isComplete(), true);
});

Deno.test("bitfield: full and empty sizes", () => {
  assert.equal(Bitfield.full(13).count(), 13);
  assert.deepEqual([...Bitfield.full(13).toBytes()], [0xff, 0xf8]);
  const empty = new Bitfield(0);
  assert.equal(empty.isComplete(), true);
  assert.equal(empty.toBytes().length, 0);
});
