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

function cut(size: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < stream.length; i += size) out.push(stream.subarray(i, i + size));
  return out;
}
const chunks = cut(READ);
// Odd-sized reads: almost every frame straddles two reads and goes through the parser's buffer.
const oddChunks = cut(10_007);

/** Parses the whole stream from `reads`; checks every piece came out. */
function parseAll(reads: Uint8Array[], borrowBlocks: boolean) {
  const parser = new FrameParser({ borrowBlocks });
  let pieces = 0;
  for (const chunk of reads) {
    parser.push(chunk);
    for (let m = parser.next(); m !== undefined; m = parser.next()) pieces++;
  }
  if (pieces !== BLOCKS) throw new Error(`parsed ${pieces} of ${BLOCKS} pieces`);
}

Deno.bench("FrameParser: 4 MiB of 16 KiB piece messages in 64 KiB reads", {
  group: "parse",
  baseline: true,
}, () => parseAll(chunks, false));

Deno.bench(
  "FrameParser: same stream in 10,007-byte reads (frames straddle reads)",
  { group: "parse" },
  () => parseAll(oddChunks, false),
);

Deno.bench(
  "FrameParser (borrowBlocks): same 64 KiB reads, blocks as views",
  { group: "parse" },
  () => parseAll(chunks, true),
);

Deno.bench(
  "FrameParser (borrowBlocks): 10,007-byte reads, split blocks lent too",
  { group: "parse" },
  () => parseAll(oddChunks, true),
);

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
