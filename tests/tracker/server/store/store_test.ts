import assert from "node:assert/strict";
import { MemorySwarmStore, type PeerAnnounce } from "../../../../src/tracker/server/mod.ts";
import { hashKey } from "../../../../src/tracker/server/store/peer_index.ts";

/** Deterministic PRNG (mulberry32) so every run does the same operations. */
function seeded(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const HASHES = ["a", "b", "c"].map((c) => c.repeat(20));

interface ModelPeer {
  seeder: boolean;
  lastSeen: number;
  v6: boolean;
}

function keyOf(a: PeerAnnounce): string {
  let key = a.peerId;
  for (const b of a.ip) key += String.fromCharCode(b);
  return key + String.fromCharCode(a.port >> 8, a.port & 0xff);
}

Deno.test("store: 12,000 random announces, stops, flips and sweeps match a plain Map model", () => {
  const random = seeded(7);
  const store = new MemorySwarmStore({ random: seeded(11), maxPeersPerSwarm: 1500 });
  const model = new Map<string, Map<string, ModelPeer>>();
  let now = 0;
  for (let step = 0; step < 12_000; step++) {
    now += 10;
    const infoHash = HASHES[Math.floor(random() * HASHES.length)]!;
    // Few distinct peers, so the same peer comes back often (updates, flips, stops).
    const n = Math.floor(random() * 2000);
    const v6 = n % 7 === 0;
    const ip = v6
      ? Uint8Array.of(0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, n >> 8, n & 0xff)
      : Uint8Array.of(10, 0, n >> 8, n & 0xff);
    const roll = random();
    const a: PeerAnnounce = {
      infoHash,
      peerId: `-TT0001-${String(n % 500).padStart(12, "0")}`,
      ip,
      port: 6881 + (n % 3),
      left: random() < 0.4 ? 0 : 100,
      uploaded: 0,
      downloaded: 0,
      event: roll < 0.15 ? "stopped" : roll < 0.2 ? "completed" : undefined,
      numwant: Math.floor(random() * 60),
      checkable: true,
    };
    const swarm = model.get(infoHash) ?? new Map<string, ModelPeer>();
    const key = keyOf(a);
    const out = store.announce(a, now);
    if (a.event === "stopped") {
      swarm.delete(key);
    } else if (swarm.has(key) || swarm.size < 1500) {
      swarm.set(key, { seeder: a.left === 0, lastSeen: now, v6 });
      model.set(infoHash, swarm);
    }
    const peers = [...swarm.values()];
    assert.equal(out.complete, peers.filter((p) => p.seeder).length, `step ${step}`);
    assert.equal(out.incomplete, peers.filter((p) => !p.seeder).length, `step ${step}`);
    if (a.event !== "stopped") {
      const seen = new Set<string>();
      out.peers.forEach((p) => {
        assert.notEqual(p.key, key, "a peer got itself");
        assert.ok(!seen.has(p.key), "a peer came twice");
        seen.add(p.key);
        const stored = swarm.get(p.key);
        assert.ok(stored, "a peer that is not in the swarm");
        if (a.left === 0) assert.equal(stored.seeder, false, "a seeder got a seeder");
      });
      const eligible = [...swarm].filter(([k, p]) => k !== key && !(a.left === 0 && p.seeder));
      assert.equal(seen.size, Math.min(a.numwant, eligible.length), `step ${step}`);
      assert.equal(out.peers.count4 + out.peers.count6, seen.size);
    }
    if (step % 3000 === 2999) {
      const cutoff = now - 20_000;
      let expected = 0;
      for (const s of model.values()) {
        for (const [k, p] of s) {
          if (p.lastSeen < cutoff) {
            s.delete(k);
            expected++;
          }
        }
      }
      assert.equal(store.sweep(cutoff), expected);
    }
  }
  let total = 0;
  let seeders = 0;
  for (const s of model.values()) {
    total += s.size;
    for (const p of s.values()) if (p.seeder) seeders++;
  }
  assert.deepEqual(store.totals(), {
    swarms: model.size,
    peers: total,
    seeders,
    leechers: total - seeders,
  });
});

Deno.test("store: a swarm emptied by stops and sweeps takes new peers and finds them again", () => {
  const store = new MemorySwarmStore({ random: seeded(3) });
  const a = (n: number, event: PeerAnnounce["event"], left = 5): PeerAnnounce => ({
    infoHash: HASHES[0]!,
    peerId: `-TT0001-${String(n).padStart(12, "0")}`,
    ip: Uint8Array.of(10, 0, n >> 8, n & 0xff),
    port: 6881,
    left,
    uploaded: 0,
    downloaded: 0,
    event,
    numwant: 0,
    checkable: true,
  });
  for (let n = 0; n < 3000; n++) store.announce(a(n, "started"), 0);
  for (let n = 0; n < 3000; n += 2) store.announce(a(n, "stopped"), 1);
  assert.equal(store.scrape(HASHES[0]!)?.incomplete, 1500);
  // Each odd peer is found (not added twice) and flips to seeder.
  for (let n = 1; n < 3000; n += 2) store.announce(a(n, undefined, 0), 2);
  assert.deepEqual(store.scrape(HASHES[0]!), { complete: 1500, incomplete: 0, downloaded: 0 });
  assert.equal(store.sweep(3), 1500);
  assert.equal(store.totals().swarms, 0);
  assert.equal(store.announce(a(1, "completed"), 4).incomplete, 1);
  assert.equal(store.scrape(HASHES[0]!)?.downloaded, 1);
});

Deno.test("store: key hash is FNV-1a (spreads keys that differ in one byte)", () => {
  assert.equal(hashKey(""), 0x811c9dc5 | 0);
  assert.equal(hashKey("a"), 0xe40c292c | 0);
  const slots = new Set<number>();
  for (let i = 0; i < 256; i++) slots.add(hashKey("x".repeat(25) + String.fromCharCode(i)) & 1023);
  assert.ok(slots.size > 200, `only ${slots.size} distinct slots of 256 keys`);
});
