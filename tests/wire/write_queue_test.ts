import assert from "node:assert/strict";
import { ChunkPool, WriteQueue } from "../../src/wire/write_queue.ts";

const bytes = (n: number, seed: number) =>
  Uint8Array.from({ length: n }, (_, i) => (i + seed) & 0xff);

Deno.test("WriteQueue: bytes are copied in, in order, across chunks", () => {
  const q = new WriteQueue(new ChunkPool(100, 4));
  const header = bytes(13, 1);
  const block = bytes(250, 7);
  q.push(header);
  q.push(block, true);
  // The caller may reuse its buffers right away.
  header.fill(0);
  block.fill(0);
  assert.equal(q.size, 263);
  assert.equal(q.pieceBytes, 250);
  const out: number[] = [];
  let pieceBytes = 0;
  for (let c = q.take(); c !== undefined; c = q.take()) {
    assert.ok(c.length <= 100);
    out.push(...c.buf.subarray(0, c.length));
    pieceBytes += c.pieceBytes;
    q.recycle(c);
  }
  assert.deepEqual(Uint8Array.from(out), Uint8Array.from([...bytes(13, 1), ...bytes(250, 7)]));
  assert.equal(pieceBytes, 250);
  assert.equal(q.size, 0);
  assert.equal(q.pieceBytes, 0);
});

Deno.test("WriteQueue: a taken chunk is closed to later pushes, and its buffer is reused", () => {
  const q = new WriteQueue(new ChunkPool(64, 4));
  q.push(bytes(10, 0));
  const first = q.take()!;
  q.push(bytes(5, 3));
  assert.equal(first.length, 10, "a push after take went into the chunk being written");
  q.recycle(first);
  const second = q.take()!;
  assert.equal(second.length, 5);
  q.push(bytes(1, 9));
  assert.equal(q.take()!.buf, first.buf, "the written chunk's buffer was not reused");
  q.push(bytes(3, 0));
  q.clear();
  assert.equal(q.size, 0);
  assert.equal(q.take(), undefined);
});

Deno.test("ChunkPool: shared by queues, bounded, idle queues hold no buffers", () => {
  const pool = new ChunkPool(16, 3);
  const a = new WriteQueue(pool);
  const b = new WriteQueue(pool);
  for (let i = 0; i < 5; i++) a.push(bytes(16, i));
  const written = [];
  for (let c = a.take(); c !== undefined; c = a.take()) written.push(c);
  for (const c of written) a.recycle(c);
  assert.equal(pool.size, 3, "the pool kept more than its bound");
  // Another connection's next chunks come from what the first one wrote.
  b.push(bytes(40, 0));
  const reused = new Set(written.map((c) => c.buf));
  for (let c = b.take(); c !== undefined; c = b.take()) assert.ok(reused.has(c.buf));
  assert.equal(pool.size, 0);
  b.push(bytes(16, 1));
  b.clear();
  assert.equal(pool.size, 1, "clear() gave the queued buffer back");
});
