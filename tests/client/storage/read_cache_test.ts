import assert from "node:assert/strict";
import { READ_WINDOW, ReadWindowCache } from "../../../src/client/storage/read_cache.ts";

/** A fake piece source: byte i of piece p is (p * 7 + i) & 0xff; counts the reads. */
function source() {
  const reads: { index: number; start: number; length: number }[] = [];
  const reader = (index: number) => (start: number, out: Uint8Array) => {
    reads.push({ index, start, length: out.length });
    for (let i = 0; i < out.length; i++) out[i] = (index * 7 + start + i) & 0xff;
    return true;
  };
  return { reads, reader };
}

function expected(index: number, begin: number, length: number): Uint8Array {
  return Uint8Array.from({ length }, (_, i) => (index * 7 + begin + i) & 0xff);
}

Deno.test("read cache: a piece's blocks in order cost one read per window", () => {
  const cache = new ReadWindowCache();
  const { reads, reader } = source();
  const pieceSize = 2 * READ_WINDOW + 16384; // two full windows and a short last one
  for (let begin = 0; begin < pieceSize; begin += 16384) {
    const block = cache.block(3, begin, 16384, pieceSize, reader(3));
    assert.deepEqual(block, expected(3, begin, 16384));
  }
  assert.deepEqual(reads, [
    { index: 3, start: 0, length: READ_WINDOW },
    { index: 3, start: READ_WINDOW, length: READ_WINDOW },
    { index: 3, start: 2 * READ_WINDOW, length: 16384 },
  ]);
});

Deno.test("read cache: a block across a window edge or a failed read is left to the caller", () => {
  const cache = new ReadWindowCache();
  const { reads, reader } = source();
  assert.equal(cache.block(0, READ_WINDOW - 100, 200, 4 * READ_WINDOW, reader(0)), undefined);
  assert.equal(reads.length, 0);
  const failing = () => false;
  assert.equal(cache.block(1, 0, 16384, READ_WINDOW, failing), undefined);
  // The failed window was not kept: the next call reads again.
  assert.deepEqual(cache.block(1, 0, 16384, READ_WINDOW, reader(1)), expected(1, 0, 16384));
});

Deno.test("read cache: forget drops a piece's windows; at most 16 windows are kept", () => {
  const cache = new ReadWindowCache();
  const { reads, reader } = source();
  cache.block(5, 0, 16384, READ_WINDOW, reader(5));
  cache.forget(5);
  cache.block(5, 0, 16384, READ_WINDOW, reader(5));
  assert.equal(reads.length, 2, "forgotten window read again");
  for (let p = 10; p < 26; p++) cache.block(p, 0, 16384, READ_WINDOW, reader(p));
  const before = reads.length;
  cache.block(5, 0, 16384, READ_WINDOW, reader(5));
  assert.equal(reads.length, before + 1, "the oldest window was evicted");
  cache.block(25, 0, 16384, READ_WINDOW, reader(25));
  assert.equal(reads.length, before + 1, "a recent window is still there");
});

Deno.test("read cache: window buffers are reused, blocks are views valid until the next call", () => {
  const cache = new ReadWindowCache();
  const { reader } = source();
  const buffers = new Set<ArrayBufferLike>();
  for (let p = 0; p < 100; p++) {
    const block = cache.block(p, 16384, 16384, READ_WINDOW, reader(p))!;
    assert.deepEqual(block, expected(p, 16384, 16384));
    buffers.add(block.buffer);
  }
  assert.equal(buffers.size, 16, "one buffer per cached window, reused on eviction");
  // Not readable synchronously now: nothing kept, the caller reads it itself.
  assert.equal(cache.block(200, 0, 16384, READ_WINDOW, () => undefined), undefined);
  cache.forget(99);
  const again = cache.block(300, 0, 16384, READ_WINDOW, reader(300))!;
  assert.ok(buffers.has(again.buffer), "a forgotten window's buffer is reused");
  assert.deepEqual(again, expected(300, 0, 16384));
});
