import assert from "node:assert/strict";
import { type ChokePeer, Choker } from "../../../src/client/peers/choker.ts";

/** A seeded LCG so optimistic choices are reproducible. */
function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}

function peers(n: number): ChokePeer[] {
  return Array.from({ length: n }, (_, i) => ({
    key: `p${i}`,
    interested: true,
    downloadRate: 1000 * (n - i), // p0 fastest
    uploadRate: 1000 * i, // p(n-1) takes our uploads fastest
  }));
}

Deno.test("choker: fastest interested peers get the regular slots plus one optimistic", () => {
  const c = new Choker({ slots: 4, random: seeded(1) });
  const list = peers(10);
  list[1]!.interested = false;
  const un = c.rechoke(list, false, 0);
  assert.equal(un.size, 4);
  for (const k of ["p0", "p2", "p3"]) assert.ok(un.has(k), k);
  assert.ok(!un.has("p1"), "uninterested peers get no slot");
  const opt = c.optimistic!;
  assert.ok(un.has(opt) && !["p0", "p2", "p3", "p1"].includes(opt));
});

Deno.test("choker: seeding ranks by upload rate", () => {
  const c = new Choker({ slots: 3, random: seeded(2) });
  const un = c.rechoke(peers(6), true, 0);
  assert.ok(un.has("p5") && un.has("p4"));
  assert.equal(un.size, 3);
});

Deno.test("choker: optimistic unchoke rotates every 30 s, not every rechoke", () => {
  const c = new Choker({ slots: 2, random: seeded(3) });
  const list = peers(8);
  const seen = new Set<string>();
  let last = "";
  let changes = 0;
  for (let now = 0; now <= 300_000; now += 10_000) {
    assert.equal(c.due(now), true);
    c.rechoke(list, false, now);
    assert.equal(c.due(now + 5_000), false);
    const opt = c.optimistic!;
    assert.notEqual(opt, "p0", "the regular slot holder is never the optimistic one");
    if (opt !== last) changes++;
    last = opt;
    seen.add(opt);
  }
  // 31 rechokes over 300 s: the slot changes at 0, 30, ..., 300 s -> 11 times.
  assert.equal(changes, 11);
  assert.ok(seen.size >= 3, `rotation reached ${seen.size} peers`);
});

Deno.test("choker: a gone or now-regular optimistic peer is replaced at once", () => {
  const c = new Choker({ slots: 2, random: seeded(4) });
  const list = peers(4);
  c.rechoke(list, false, 0);
  const first = c.optimistic!;
  const rest = list.filter((p) => p.key !== first);
  const un = c.rechoke(rest, false, 10_000);
  assert.notEqual(c.optimistic, first);
  assert.ok(un.has(c.optimistic!));
  // With fewer interested peers than slots, everyone interested is unchoked.
  assert.deepEqual([...new Choker({ slots: 4 }).rechoke(peers(2), false, 0)].sort(), ["p0", "p1"]);
});
