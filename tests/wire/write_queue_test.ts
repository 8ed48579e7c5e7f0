import assert from "node:assert/strict";
import { WriteQueue } from "../../src/wire/write_queue.ts";

const bytes = (n: number, seed: number) =>
  Uint8Array.from({ length: n }, (_, i) => (i + seed) & 0xff);

Deno.test("WriteQueue: bytes are copied in, in order, across chunks", () => {
  const q = new WriteQueue(100);
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
  const q = new WriteQueue(64);
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

Deno.test("WriteQueue: a busy queue reuses its written buffers; trim lets an idle one go", () => {
  const q = new WriteQueue(16);
  for (let i = 0; i < 4; i++) q.push(bytes(16, i));
  const chunks = [q.take()!, q.take()!, q.take()!, q.take()!];
  for (const c of chunks) q.recycle(c);
  const reused = new Set(chunks.map((c) => c.buf));
  for (let i = 0; i < 4; i++) q.push(bytes(16, i));
  for (let c = q.take(); c !== undefined; c = q.take()) {
    assert.ok(reused.has(c.buf), "a new buffer while spare ones were kept");
    q.recycle(c);
  }
  q.trim(1);
  q.push(bytes(16, 0));
  q.push(bytes(16, 1));
  const [a, b] = [q.take()!, q.take()!];
  assert.ok(reused.has(a.buf));
  assert.ok(!reused.has(b.buf), "trim(1) kept more than one spare buffer");
});
