import assert from "node:assert/strict";
import { PeerSources } from "../../../src/client/peers/sources.ts";
import type { PeerAddress } from "../../../src/util/ip.ts";

Deno.test("PeerSources: checks, de-duplicates and counts by source", () => {
  const taken: PeerAddress[] = [];
  const sources = new PeerSources({ accept: (a) => taken.push(...a) });
  assert.equal(
    sources.add("tracker", [
      { hostname: "10.0.0.1", port: 6881 },
      { hostname: "10.0.0.1", port: 6881 },
      { hostname: "10.0.0.2", port: 0 },
      { hostname: "10.0.0.3", port: 70000 },
      { hostname: "", port: 1 },
    ]),
    1,
  );
  assert.equal(sources.add("magnet", [{ hostname: "10.0.0.1", port: 6881 }]), 0);
  assert.equal(sources.add("magnet", [{ hostname: "::1", port: 51413 }]), 1);
  assert.deepEqual(taken, [{ hostname: "10.0.0.1", port: 6881 }, { hostname: "::1", port: 51413 }]);
  assert.deepEqual([...sources.counts()], [["tracker", 1], ["magnet", 1]]);
});

Deno.test("PeerSources: a flood stops at the cap, the user's own addresses still get in", () => {
  let taken = 0;
  const sources = new PeerSources({ accept: (a) => taken += a.length, maxKnown: 100 });
  const flood = Array.from(
    { length: 10_000 },
    (_, i) => ({ hostname: `10.1.${i >> 8}.${i & 255}`, port: 1 }),
  );
  assert.equal(sources.add("pex", flood), 100);
  assert.equal(sources.add("dht", [{ hostname: "10.9.9.9", port: 2 }]), 0);
  assert.equal(sources.add("user", [{ hostname: "10.9.9.9", port: 2 }]), 1);
  assert.equal(taken, 101);
  assert.equal(sources.size, 101);
});
