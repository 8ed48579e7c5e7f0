/**
 * Peer wire throughput. Each iteration handles 4 MiB of piece data, so MB/s = 4.19 / (time
 * per iteration in seconds). The stream is cut into 64 KiB reads, as PeerConnection reads.
 */
import { concat } from "../src/util/bytes.ts";
import { encodeMessage, encodePieceHeader, FrameParser } from "../src/wire/mod.ts";

const BLOCK = 16 * 1024;
const BLOCKS = 256; // 4 MiB
const READ = 64 * 1024;

const block = Uint8Array.from({ length: BLOCK }, (_, i) => i & 0xff);
const stream = concat(
  Array.from(
    { length: BLOCKS },
    (_, n) => encodeMessage({ type: "piece", index: n >> 4, begin: (n & 15) * BLOCK, block }),
  ),
);
const chunks: Uint8Array[] = [];
for (let i = 0; i < stream.length; i += READ) chunks.push(stream.subarray(i, i + READ));

Deno.bench("FrameParser: 4 MiB of 16 KiB piece messages in 64 KiB reads", {
  group: "parse",
  baseline: true,
}, () => {
  const parser = new FrameParser();
  let pieces = 0;
  for (const chunk of chunks) {
    parser.push(chunk);
    for (let m = parser.next(); m !== undefined; m = parser.next()) pieces++;
  }
  if (pieces !== BLOCKS) throw new Error(`parsed ${pieces} of ${BLOCKS} pieces`);
});

// Odd-sized reads: almost every frame straddles two reads and goes through the reused buffer.
const oddChunks: Uint8Array[] = [];
for (let i = 0; i < stream.length; i += 10_007) oddChunks.push(stream.subarray(i, i + 10_007));

Deno.bench("FrameParser: same stream in 10,007-byte reads (frames straddle reads)", {
  group: "parse",
}, () => {
  const parser = new FrameParser();
  let pieces = 0;
  for (const chunk of oddChunks) {
    parser.push(chunk);
    for (let m = parser.next(); m !== undefined; m = parser.next()) pieces++;
  }
  if (pieces !== BLOCKS) throw new Error(`parsed ${pieces} of ${BLOCKS} pieces`);
});

Deno.bench(
  "encodeMessage: 4 MiB as 256 full piece frames",
  { group: "encode", baseline: true },
  () => {
    for (let n = 0; n < BLOCKS; n++) encodeMessage({ type: "piece", index: n, begin: 0, block });
  },
);

Deno.bench("encodePieceHeader: 256 headers (block sent as is)", { group: "encode" }, () => {
  for (let n = 0; n < BLOCKS; n++) encodePieceHeader(n, 0, BLOCK);
});

Deno.bench("FrameParser (borrowBlocks): same 64 KiB reads, blocks as views", {
  group: "parse",
}, () => {
  const parser = new FrameParser({ borrowBlocks: true });
  let pieces = 0;
  for (const chunk of chunks) {
    parser.push(chunk);
    for (let m = parser.next(); m !== undefined; m = parser.next()) pieces++;
  }
  if (pieces !== BLOCKS) throw new Error(`parsed ${pieces} of ${BLOCKS} pieces`);
});

Deno.bench("FrameParser (borrowBlocks): 10,007-byte reads, split blocks lent too", {
  group: "parse",
}, () => {
  const parser = new FrameParser({ borrowBlocks: true });
  let pieces = 0;
  for (const chunk of oddChunks) {
    parser.push(chunk);
    for (let m = parser.next(); m !== undefined; m = parser.next()) pieces++;
  }
  if (pieces !== BLOCKS) throw new Error(`parsed ${pieces} of ${BLOCKS} pieces`);
});
