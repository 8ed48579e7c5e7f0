import assert from "node:assert/strict";
import { READ_WINDOW, ReadWindowCache } from "../../src/client/read_cache.ts";

/** A fake piece source: byte i of piece p is (p * 7 + i) & 0xff; counts the reads. */
function source() {
  const reads: { index: number; start: number; length: number }[] = [];
  const reader = (index: number) => (start: number, out: Uint8Array) => {
    reads.push({ index, start, length: out.length });
    for (let i = 0; i < out.length; i++) out[i] = (index * 7 + start + i) & 0xff;
    return Promise.resolve(true);
  };
  return { reads, reader };
}

function expected(index: number, begin: number, length: number): Uint8Array {
  return Uint8Array.from({ length }, (_, i) => (index * 7 + begin + i) & 0xff);
}

Deno.test("read cache: a piece's blocks in order cost one read per window", async () => {
  const cache = new ReadWindowCache();
  const { reads, reader } = source();
  const pieceSize = 2 * READ_WINDOW + 16384; // two full windows and a short last one
  for (let begin = 0; begin < pieceSize; begin += 16384) {
    const block = await cache.block(3, begin, 16384, pieceSize, reader(3));
    assert.deepEqual(block, expected(3, begin, 16384));
  }
  assert.deepEqual(reads, [
    { index: 3, start: 0, length: READ_WINDOW },
    { index: 3, start: READ_WINDOW, length: READ_WINDOW },
    { index: 3, start: 2 * READ_WINDOW, length: 16384 },
  ]);
});

Deno.test("read cache: a block across a window edge or a failed read is left to the caller", async () => {
  const cache = new ReadWindowCache();
  const { reads, reader } = source();
  assert.equal(await cache.block(0, READ_WINDOW - 100, 200, 4 * READ_WINDOW, reader(0)), undefined);
  assert.equal(reads.length, 0);
  const failing = () => Promise.resolve(false);
  assert.equal(await cache.block(1, 0, 16384, READ_WINDOW, failing), undefined);
  // The failed window was not kept: the next call reads again.
  assert.deepEqual(await cache.block(1, 0, 16384, READ_WINDOW, reader(1)), expected(1, 0, 16384));
});

Deno.test("read cache: forget drops a piece's windows; at most 16 windows are kept", async () => {
  const cache = new ReadWindowCache();
  const { reads, reader } = source();
  await cache.block(5, 0, 16384, READ_WINDOW, reader(5));
  cache.forget(5);
  await cache.block(5, 0, 16384, READ_WINDOW, reader(5));
  assert.equal(reads.length, 2, "forgotten window read again");
  for (let p = 10; p < 26; p++) await cache.block(p, 0, 16384, READ_WINDOW, reader(p));
  const before = reads.length;
  await cache.block(5, 0, 16384, READ_WINDOW, reader(5));
  assert.equal(reads.length, before + 1, "the oldest window was evicted");
  await cache.block(25, 0, 16384, READ_WINDOW, reader(25));
  assert.equal(reads.length, before + 1, "a recent window is still there");
});
