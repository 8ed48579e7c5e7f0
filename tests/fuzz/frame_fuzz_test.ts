import assert from "node:assert/strict";
import { concat } from "../../src/util/bytes.ts";
import {
  decodeMessage,
  encodeMessage,
  FrameParser,
  type FrameParserOptions,
  type Message,
  WireError,
} from "../../src/wire/mod.ts";
import { Prng } from "./prng.ts";

// The peer wire framing under random chunking: a stream of random messages is cut at random
// points and pushed through one reused read buffer, as a connection does. Every message must
// come out intact when drained right after its push, whatever options the parser has (the
// borrowing option, when present, hands out blocks that are valid until the next push: it is
// tested to that contract too), and random garbage must end in a WireError, never a crash.

function randomMessage(rng: Prng): Message {
  switch (rng.int(7)) {
    case 0:
      return {
        type: "piece",
        index: rng.int(5000),
        begin: rng.int(64) * 16384,
        block: rng.bytes(rng.size(20_000)),
      };
    case 1:
      return { type: "have", index: rng.int(1 << 20) };
    case 2:
      return { type: "bitfield", bitfield: rng.bytes(1 + rng.size(300)) };
    case 3:
      return { type: "request", index: rng.int(5000), begin: rng.int(64) * 16384, length: 16384 };
    case 4:
      return { type: "extended", id: rng.int(4), payload: rng.bytes(rng.size(200)) };
    case 5:
      return { type: "keepalive" };
    default:
      return { type: rng.pick(["choke", "unchoke", "interested", "haveAll"] as const) };
  }
}

const OPTION_SETS: [string, FrameParserOptions][] = [
  ["copying", {}],
  // Unknown to parsers without the option: then it is the copying parser again.
  ["borrowing", { borrowBlocks: true } as unknown as FrameParserOptions],
];

for (const [label, options] of OPTION_SETS) {
  Deno.test(`frame fuzz (${label}): random messages under random chunking come out intact`, () => {
    for (let seed = 1; seed <= 40; seed++) {
      const rng = new Prng(seed * 7919);
      const messages = Array.from({ length: 20 + rng.int(60) }, () => randomMessage(rng));
      const stream = concat(messages.map(encodeMessage));
      const parser = new FrameParser(options);
      const readBuffer = new Uint8Array(70_000);
      let at = 0;
      let got = 0;
      while (at < stream.length) {
        const n = Math.min(stream.length - at, 1 + rng.size(65_536));
        readBuffer.set(stream.subarray(at, at + n));
        at += n;
        parser.push(readBuffer.subarray(0, n));
        for (let m = parser.next(); m; m = parser.next()) {
          assert.deepEqual(
            m,
            messages[got],
            `seed ${seed}: message ${got} (${messages[got]?.type})`,
          );
          got++;
        }
        readBuffer.fill(0xee, 0, n); // the connection reuses its buffer for the next read
      }
      assert.equal(got, messages.length, `seed ${seed}`);
      assert.equal(parser.partialBytes, 0);
    }
  });
}

Deno.test("frame fuzz: garbage streams end in a WireError or messages, never another error", () => {
  for (let seed = 1; seed <= 2000; seed++) {
    const rng = new Prng(seed);
    const parser = new FrameParser();
    const bytes = rng.bytes(rng.size(2000));
    // Small length prefixes so frames complete and their bodies get decoded.
    for (let i = 0; i + 4 < bytes.length; i += 4 + rng.int(40)) {
      bytes.set([0, 0, 0, rng.int(40)], i);
    }
    try {
      for (let at = 0; at < bytes.length;) {
        const n = 1 + rng.size(300);
        parser.push(bytes.subarray(at, at + n));
        at += n;
        while (parser.next()) { /* drain */ }
      }
    } catch (e) {
      if (!(e instanceof WireError)) throw new Error(`seed ${seed}: ${e}`, { cause: e });
    }
    // Single payloads straight through the decoder as well.
    try {
      decodeMessage(bytes.subarray(0, rng.size(bytes.length)));
    } catch (e) {
      if (!(e instanceof WireError)) throw new Error(`seed ${seed}: ${e}`, { cause: e });
    }
  }
});
