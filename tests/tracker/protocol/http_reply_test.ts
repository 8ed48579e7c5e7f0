import assert from "node:assert/strict";
import { decode } from "../../../src/bencode/mod.ts";
import { announceReply } from "../../../src/tracker/protocol/http_reply.ts";
import type { PeerSample } from "../../../src/tracker/server/mod.ts";

/** A sample of `n4` IPv4 and `n6` IPv6 peers whose bytes count up from `seed`. */
function sample(n4: number, n6: number, seed: number): PeerSample {
  const fill = (out: Uint8Array, at: number, bytes: number) => {
    for (let i = 0; i < bytes; i++) out[at + i] = (seed + i) & 0xff;
    return at + bytes;
  };
  return {
    count4: n4,
    count6: n6,
    writeCompact4: (out, at) => fill(out, at, n4 * 6),
    writeCompact6: (out, at) => fill(out, at, n6 * 18),
    forEach: () => {},
  };
}

Deno.test("response: compact announce replies decode to the counts and peers written", () => {
  const numbers = [0, 1, 9, 10, 99, 100, 12345, 2 ** 31, 2 ** 40 + 7];
  let k = 0;
  for (const complete of numbers) {
    for (const [n4, n6] of [[0, 0], [1, 0], [50, 0], [3, 2], [0, 200], [200, 200]] as const) {
      const downloaded = numbers[k++ % numbers.length]!;
      const incomplete = numbers[(k * 5) % numbers.length]!;
      const reply = announceReply(
        { complete, incomplete, downloaded, peers: sample(n4, n6, k) },
        { interval: 1800 + k, minInterval: 900, compact: true, noPeerId: false },
      );
      const d = decode(reply) as Map<string, unknown>;
      assert.equal(d.get("complete"), complete);
      assert.equal(d.get("incomplete"), incomplete);
      assert.equal(d.get("downloaded"), downloaded);
      assert.equal(d.get("interval"), 1800 + k);
      assert.equal(d.get("min interval"), 900);
      const peers = d.get("peers") as Uint8Array;
      assert.equal(peers.length, n4 * 6);
      if (n4 > 0) assert.equal(peers[n4 * 6 - 1], (k + n4 * 6 - 1) & 0xff);
      assert.equal(
        (d.get("peers6") as Uint8Array | undefined)?.length,
        n6 > 0 ? n6 * 18 : undefined,
      );
    }
  }
});
