import assert from "node:assert/strict";
import { concat } from "../../src/util/bytes.ts";
import {
  DEFAULT_MAX_FRAME,
  encodeMessage,
  FrameParser,
  type Message,
  WireError,
} from "../../src/wire/mod.ts";
import { hex } from "./helpers.ts";

const MESSAGES: Message[] = [
  { type: "keepalive" },
  { type: "bitfield", bitfield: hex("fffe") },
  { type: "unchoke" },
  { type: "have", index: 77 },
  { type: "piece", index: 1, begin: 0x4000, block: Uint8Array.from({ length: 40 }, (_, i) => i) },
  { type: "request", index: 2, begin: 0, length: 0x4000 },
  { type: "extended", id: 0, payload: hex("6465") },
  { type: "keepalive" },
  { type: "port", port: 6881 },
  { type: "unknown", id: 99, payload: hex("01") },
  { type: "haveNone" },
];
const STREAM = concat(MESSAGES.map(encodeMessage));

function drain(parser: FrameParser, into: Message[]) {
  for (let m = parser.next(); m !== undefined; m = parser.next()) into.push(m);
}

/** Feeds `chunks` through a parser; each chunk buffer is zeroed right after its push. */
function parseChunks(chunks: Uint8Array[], parser = new FrameParser()): Message[] {
  const out: Message[] = [];
  for (const chunk of chunks) {
    const reused = chunk.slice();
    parser.push(reused);
    // The parser must not keep references into a pushed chunk.
    reused.fill(0xee);
    drain(parser, out);
  }
  return out;
}

Deno.test("FrameParser: the whole stream in one chunk", () => {
  assert.deepEqual(parseChunks([STREAM]), MESSAGES);
});

Deno.test("FrameParser: every single split point of the stream", () => {
  for (let split = 0; split <= STREAM.length; split++) {
    const got = parseChunks([STREAM.subarray(0, split), STREAM.subarray(split)]);
    assert.deepEqual(got, MESSAGES, `split at ${split}`);
  }
});

Deno.test("FrameParser: every pair of split points (three chunks)", () => {
  for (let a = 0; a <= STREAM.length; a++) {
    for (let b = a; b <= STREAM.length; b++) {
      const got = parseChunks([STREAM.subarray(0, a), STREAM.subarray(a, b), STREAM.subarray(b)]);
      assert.deepEqual(got, MESSAGES, `splits at ${a} and ${b}`);
    }
  }
});

Deno.test("FrameParser: one byte at a time", () => {
  const chunks = Array.from(STREAM, (byte) => Uint8Array.of(byte));
  assert.deepEqual(parseChunks(chunks), MESSAGES);
});

Deno.test("FrameParser: blocks stay valid after later pushes reuse the chunk", () => {
  const parser = new FrameParser();
  const buffer = new Uint8Array(64);
  const frame = encodeMessage({ type: "piece", index: 0, begin: 0, block: hex("0102030405") });
  buffer.set(frame);
  parser.push(buffer.subarray(0, frame.length));
  const first = parser.next();
  buffer.fill(0);
  parser.push(buffer.subarray(0, 4)); // a keep-alive out of the same buffer
  assert.deepEqual(first, { type: "piece", index: 0, begin: 0, block: hex("0102030405") });
  assert.deepEqual(parser.next(), { type: "keepalive" });
  assert.equal(parser.next(), undefined);
});

Deno.test("FrameParser: an oversized length prefix fails from its 4 bytes alone", () => {
  const parser = new FrameParser({ maxFrame: 100 });
  // The 100-byte limit itself is fine: a bitfield of 99 bytes.
  const atLimit = encodeMessage({ type: "bitfield", bitfield: new Uint8Array(99) });
  parser.push(atLimit);
  assert.equal(parser.next()?.type, "bitfield");
  // 101 bytes announced; no body follows, so rejecting it cannot depend on buffering it.
  parser.push(encodeMessage({ type: "have", index: 1 }));
  parser.push(hex("00000065"));
  assert.equal(parser.partialBytes, 0);
  assert.deepEqual(parser.next(), { type: "have", index: 1 }, "earlier messages come first");
  assert.throws(() => parser.next(), /exceeds the 100 limit/);
  // The stream cannot be resynchronised: further input is ignored, the error stays.
  parser.push(encodeMessage({ type: "choke" }));
  assert.throws(() => parser.next(), WireError);
});

Deno.test("FrameParser: a huge length prefix split across pushes is rejected too", () => {
  const parser = new FrameParser();
  parser.push(hex("ff"));
  assert.equal(parser.next(), undefined);
  parser.push(hex("ffff"));
  assert.equal(parser.next(), undefined);
  parser.push(hex("ff 00"));
  assert.throws(
    () => parser.next(),
    new RegExp(`4294967295 bytes exceeds the ${DEFAULT_MAX_FRAME}`),
  );
});

Deno.test("FrameParser: a malformed message surfaces as WireError after the ones before it", () => {
  const parser = new FrameParser();
  parser.push(concat([encodeMessage({ type: "choke" }), hex("00000002 04 00")]));
  assert.deepEqual(parser.next(), { type: "choke" });
  assert.throws(() => parser.next(), WireError);
});

Deno.test("FrameParser: frames larger than the reused buffer (a big bitfield) in small chunks", () => {
  const bitfield = Uint8Array.from({ length: 200_000 }, (_, i) => i & 0xff);
  const stream = concat([
    encodeMessage({ type: "bitfield", bitfield }),
    encodeMessage({ type: "interested" }),
  ]);
  const chunks: Uint8Array[] = [];
  for (let i = 0; i < stream.length; i += 1000) chunks.push(stream.subarray(i, i + 1000));
  assert.deepEqual(parseChunks(chunks), [{ type: "bitfield", bitfield }, { type: "interested" }]);
});

Deno.test("FrameParser: borrowBlocks gives views that are right until the next push", () => {
  const blocks = [0, 1, 2].map((n) =>
    Uint8Array.from({ length: 300 }, (_, i) => (i * 7 + n) & 0xff)
  );
  const stream = concat(
    blocks.map((block, n) => encodeMessage({ type: "piece", index: n, begin: 0, block })),
  );
  // Every pair of split points: whole frames come from the chunk, split ones from the
  // parser's buffer, which one push may both complete a frame from and refill with a tail.
  const splits: [number, number][] = [];
  for (let a = 1; a < stream.length; a += 7) {
    for (let b = a; b < stream.length; b += 5) splits.push([a, b]);
  }
  for (const [a, b] of splits) {
    const parser = new FrameParser({ borrowBlocks: true });
    const seen: Uint8Array[] = [];
    for (const chunk of [stream.subarray(0, a), stream.subarray(a, b), stream.subarray(b)]) {
      const reused = chunk.slice();
      parser.push(reused);
      // Checked (copied) before the next push, as the borrow contract asks.
      for (let m = parser.next(); m !== undefined; m = parser.next()) {
        assert.equal(m.type, "piece");
        if (m.type === "piece") seen.push(m.block.slice());
      }
      reused.fill(0xee);
    }
    assert.deepEqual(seen, blocks, `split at ${a}, ${b}`);
  }
  // Without a copy: the block of a frame wholly inside a chunk is a view of that chunk.
  const parser = new FrameParser({ borrowBlocks: true });
  parser.push(stream);
  const m = parser.next();
  assert.ok(m?.type === "piece" && m.block.buffer === stream.buffer);
});

Deno.test("FrameParser: borrowBlocks lends split frames from two reused buffers, not copies", () => {
  const blocks = Array.from(
    { length: 40 },
    (_, n) => Uint8Array.from({ length: 300 }, (_, i) => (i * 13 + n) & 0xff),
  );
  const stream = concat(
    blocks.map((block, n) => encodeMessage({ type: "piece", index: n, begin: 0, block })),
  );
  for (const step of [97, 301, 313, 700]) {
    const parser = new FrameParser({ borrowBlocks: true });
    const seen: Uint8Array[] = [];
    const buffers = new Set<ArrayBufferLike>();
    const chunks = new Set<ArrayBufferLike>();
    for (let at = 0; at < stream.length; at += step) {
      const chunk = stream.slice(at, at + step);
      chunks.add(chunk.buffer);
      parser.push(chunk);
      for (let m = parser.next(); m !== undefined; m = parser.next()) {
        assert.ok(m.type === "piece");
        if (!chunks.has(m.block.buffer)) buffers.add(m.block.buffer);
        seen.push(m.block.slice());
      }
      chunk.fill(0xee);
    }
    assert.deepEqual(seen, blocks, `chunks of ${step}`);
    assert.ok(
      buffers.size <= 2,
      `chunks of ${step}: split blocks came from ${buffers.size} buffers`,
    );
  }
});
