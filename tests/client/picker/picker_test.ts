import assert from "node:assert/strict";
import { Bitfield } from "../../../src/torrent/bitfield.ts";
import { type BlockRequest, PiecePicker } from "../../../src/client/picker/picker.ts";
import { BLOCK_SIZE, FileLayout } from "../../../src/torrent/layout.ts";
import { equals } from "../../../src/util/bytes.ts";
import { sha1 } from "../../../src/util/sha1.ts";

function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}

function layoutOf(length: number, pieceLength: number): FileLayout {
  return new FileLayout({
    files: [{ path: ["f"], length, offset: 0, pad: false }],
    pieceLength,
    length,
    pieceCount: Math.ceil(length / pieceLength),
  });
}

interface FakePeer {
  key: string;
  has: Bitfield;
  connected: boolean;
  choking: boolean;
  bad: boolean;
  strikes: number;
  queue: BlockRequest[];
}

Deno.test("picker: simulated swarm downloads every piece exactly once", () => {
  let cancels = 0;
  let failures = 0;
  let badDropped = 0;
  for (const seed of [1, 2, 3, 4, 5]) {
    const stats = simulate(seed);
    cancels += stats.cancels;
    failures += stats.failures;
    if (stats.badDropped) badDropped++;
  }
  assert.ok(cancels > 0, "endgame produced cancels");
  assert.ok(failures > 0, "the corrupting peer caused hash failures");
  assert.equal(badDropped, 5, "the corrupting peer was dropped after strikes in every run");
});

function simulate(seed: number): { cancels: number; failures: number; badDropped: boolean } {
  const rng = seeded(seed);
  const pieceLength = 4 * BLOCK_SIZE;
  const layout = layoutOf(37 * pieceLength + 5000, pieceLength);
  const data = new Uint8Array(layout.length).map((_, i) => (i * 7 + (i >> 9)) & 0xff);
  const piece = (i: number) =>
    data.subarray(i * pieceLength, i * pieceLength + layout.pieceSize(i));
  const hashes = Array.from({ length: layout.pieceCount }, (_, i) => sha1(piece(i)));
  const have = new Bitfield(layout.pieceCount);
  const picker = new PiecePicker({
    layout,
    have,
    maxUnverifiedBytes: 6 * pieceLength,
    random: rng,
  });
  const peers: FakePeer[] = Array.from({ length: 6 }, (_, p) => {
    const has = new Bitfield(layout.pieceCount);
    for (let i = 0; i < layout.pieceCount; i++) if (p === 0 || rng() < 0.5) has.set(i);
    return {
      key: `p${p}`,
      has,
      connected: true,
      choking: false,
      bad: p === 5,
      strikes: 0,
      queue: [],
    };
  });
  for (const p of peers) picker.peerBitfield(p.has);
  const completions = new Map<number, number>();
  let now = 0;
  let sawEndgame = false;
  let cancels = 0;
  let failures = 0;

  const drop = (p: FakePeer) => {
    picker.release(p.key);
    p.queue = [];
  };
  for (let step = 0; step < 100_000 && !have.isComplete(); step++) {
    now += Math.floor(rng() * 200);
    const p = peers[Math.floor(rng() * peers.length)]!;
    const action = rng();
    if (!p.connected) {
      if (!p.bad && action < 0.1) {
        p.connected = true;
        picker.peerBitfield(p.has);
      }
    } else if (action < 0.02) {
      if (p.bad) continue; // it leaves only through strikes, which the test checks
      p.connected = false; // disconnect
      picker.peerGone(p.has);
      drop(p);
    } else if (action < 0.05) {
      p.choking = !p.choking;
      if (p.choking) drop(p);
    } else if (action < 0.35 && !p.choking) {
      const reqs = picker.pick({ key: p.key, has: p.has, count: 1 + Math.floor(rng() * 12), now });
      for (const r of reqs) {
        assert.ok(p.has.has(r.index) && !have.has(r.index), "asked for a piece it lacks");
        assert.ok(
          !p.queue.some((q) => q.index === r.index && q.begin === r.begin),
          "same peer twice",
        );
      }
      p.queue.push(...reqs);
      sawEndgame ||= picker.endgame;
    } else if (action < 0.95 && p.queue.length > 0) {
      const r = p.queue.splice(Math.floor(rng() * Math.min(3, p.queue.length)), 1)[0]!;
      const block = data.slice(
        r.index * pieceLength + r.begin,
        r.index * pieceLength + r.begin + r.length,
      );
      if (p.bad) block[0] = block[0]! ^ 0xff;
      const res = picker.received(p.key, r.index, r.begin, r.length, block, now);
      for (const c of res.cancel) {
        const other = peers.find((q) => q.key === c.peerKey)!;
        const before = other.queue.length;
        other.queue = other.queue.filter((q) => !(q.index === c.index && q.begin === c.begin));
        assert.equal(other.queue.length, before - 1, "cancel for a request the peer holds");
        cancels++;
      }
      if (res.complete) {
        if (equals(sha1(res.complete), hashes[r.index]!)) {
          picker.verified(r.index);
          completions.set(r.index, (completions.get(r.index) ?? 0) + 1);
        } else {
          failures++;
          for (const key of picker.failed(r.index)) {
            const culprit = peers.find((q) => q.key === key)!;
            if (++culprit.strikes >= 2 && culprit.bad && culprit.connected) {
              culprit.connected = false;
              picker.peerGone(culprit.has);
              drop(culprit);
            }
          }
        }
      }
    } else {
      for (const e of picker.timeouts(now, 5_000).expired) {
        const q = peers.find((x) => x.key === e.peerKey)!;
        q.queue = q.queue.filter((x) => !(x.index === e.index && x.begin === e.begin));
      }
    }
    picker.checkInvariants();
    assert.ok(picker.unverifiedBytes <= 6 * pieceLength, "memory cap");
  }
  assert.ok(have.isComplete(), `seed ${seed}: finished ${have.count()}/${layout.pieceCount}`);
  assert.equal(completions.size, layout.pieceCount);
  assert.ok([...completions.values()].every((n) => n === 1), "each piece completed once");
  assert.ok(sawEndgame, "endgame was entered");
  assert.equal(picker.unverifiedBytes, 0);
  return { cancels, failures, badDropped: peers[5]!.strikes >= 2 && !peers[5]!.connected };
}

Deno.test("picker: rarest piece first once random-first is over", () => {
  const layout = layoutOf(10 * BLOCK_SIZE, BLOCK_SIZE);
  const picker = new PiecePicker({
    layout,
    have: new Bitfield(10),
    randomFirst: 0,
    random: seeded(9),
  });
  const common = Bitfield.full(10);
  common.unset(6);
  picker.peerBitfield(common);
  picker.peerBitfield(common);
  const rare = new Bitfield(10);
  rare.set(6);
  rare.set(2);
  picker.peerBitfield(rare); // piece 6: 1 peer, piece 2: 3 peers, others 2
  const seed = Bitfield.full(10);
  picker.peerHaveAll();
  const order = [];
  for (let k = 0; k < 10; k++) {
    const [r] = picker.pick({ key: "s", has: seed, count: 1, now: 0 });
    order.push(r!.index);
    picker.checkInvariants();
  }
  assert.equal(order[0], 6);
  assert.equal(order[9], 2);
  assert.deepEqual([...order].sort((a, b) => a - b), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
});

Deno.test("picker: first pieces are random, not rarest, and vary by seed", () => {
  const firsts = new Set<number>();
  for (let seed = 1; seed <= 8; seed++) {
    const layout = layoutOf(50 * BLOCK_SIZE, BLOCK_SIZE);
    const picker = new PiecePicker({ layout, have: new Bitfield(50), random: seeded(seed) });
    picker.peerHaveAll();
    picker.peerHas(0); // piece 0 is the most common, others equal
    const [r] = picker.pick({ key: "a", has: Bitfield.full(50), count: 1, now: 0 });
    firsts.add(r!.index);
  }
  assert.ok(firsts.size >= 4, `only ${firsts.size} distinct first pieces`);
});

Deno.test("picker: partial pieces are finished before new ones start", () => {
  const layout = layoutOf(8 * 4 * BLOCK_SIZE, 4 * BLOCK_SIZE);
  const picker = new PiecePicker({ layout, have: new Bitfield(8), random: seeded(3) });
  const all = Bitfield.full(8);
  picker.peerHaveAll();
  const a = picker.pick({ key: "a", has: all, count: 2, now: 0 });
  assert.equal(new Set(a.map((r) => r.index)).size, 1);
  const b = picker.pick({ key: "b", has: all, count: 3, now: 0 });
  assert.equal(b[0]!.index, a[0]!.index, "b continues a's piece");
  assert.deepEqual(b.slice(0, 2).map((r) => r.begin), [2 * BLOCK_SIZE, 3 * BLOCK_SIZE]);
  assert.notEqual(b[2]!.index, a[0]!.index);
  picker.checkInvariants();
});

Deno.test("picker: memory cap limits pieces in progress", () => {
  const pieceLength = 2 * BLOCK_SIZE;
  const layout = layoutOf(100 * pieceLength, pieceLength);
  const picker = new PiecePicker({
    layout,
    have: new Bitfield(100),
    maxUnverifiedBytes: 3 * pieceLength,
  });
  picker.peerHaveAll();
  const reqs = picker.pick({ key: "a", has: Bitfield.full(100), count: 50, now: 0 });
  assert.equal(reqs.length, 6);
  assert.equal(picker.unverifiedBytes, 3 * pieceLength);
  assert.equal(picker.pick({ key: "b", has: Bitfield.full(100), count: 50, now: 0 }).length, 0);
  assert.equal(picker.endgame, false, "a full cap is not endgame");
  picker.checkInvariants();
  // Releasing a's requests frees the untouched pieces and their memory.
  assert.equal(picker.release("a").length, 6);
  assert.equal(picker.unverifiedBytes, 0);
  picker.checkInvariants();
});

Deno.test("picker: endgame duplicates the last blocks and cancels on arrival", () => {
  const layout = layoutOf(2 * BLOCK_SIZE, 2 * BLOCK_SIZE);
  const have = new Bitfield(1);
  const picker = new PiecePicker({ layout, have, maxDuplicates: 2 });
  const all = Bitfield.full(1);
  for (let i = 0; i < 3; i++) picker.peerHaveAll();
  assert.equal(picker.pick({ key: "a", has: all, count: 10, now: 0 }).length, 2);
  assert.equal(picker.endgame, true);
  const dup = picker.pick({ key: "b", has: all, count: 10, now: 1 });
  assert.deepEqual(dup.map((r) => r.begin), [0, BLOCK_SIZE]);
  assert.equal(
    picker.pick({ key: "c", has: all, count: 10, now: 1 }).length,
    0,
    "cap of 2 holders",
  );
  picker.checkInvariants();
  const r0 = picker.received("b", 0, 0, BLOCK_SIZE, new Uint8Array(BLOCK_SIZE), 2);
  assert.deepEqual(r0.cancel, [{ peerKey: "a", index: 0, begin: 0, length: BLOCK_SIZE }]);
  const late = picker.received("a", 0, 0, BLOCK_SIZE, new Uint8Array(BLOCK_SIZE), 3);
  assert.equal(late.duplicate, true);
  const r1 = picker.received("a", 0, BLOCK_SIZE, BLOCK_SIZE, new Uint8Array(BLOCK_SIZE).fill(1), 3);
  assert.equal(r1.complete?.length, 2 * BLOCK_SIZE);
  assert.equal(r1.complete![BLOCK_SIZE], 1);
  assert.equal(r1.cancel.length, 1);
  assert.deepEqual(picker.failed(0).sort(), ["a", "b"]);
  picker.checkInvariants();
  assert.equal(have.count(), 0);
});

Deno.test("picker: timed-out requests go back to wanted and name the snubbed peer", () => {
  const layout = layoutOf(4 * BLOCK_SIZE, 4 * BLOCK_SIZE);
  const picker = new PiecePicker({ layout, have: new Bitfield(1) });
  picker.peerHaveAll();
  picker.pick({ key: "slow", has: Bitfield.full(1), count: 2, now: 1000 });
  picker.pick({ key: "fast", has: Bitfield.full(1), count: 1, now: 5000 });
  const t = picker.timeouts(10_000, 6000);
  assert.deepEqual(t.snubbed, ["slow"]);
  assert.equal(t.expired.length, 2);
  assert.equal(picker.inflight("slow"), 0);
  assert.equal(picker.inflight("fast"), 1);
  picker.checkInvariants();
  const again = picker.pick({ key: "other", has: Bitfield.full(1), count: 4, now: 10_000 });
  // The three returned blocks, then (endgame) a duplicate of fast's outstanding block 2.
  assert.deepEqual(again.map((r) => r.begin), [0, BLOCK_SIZE, 3 * BLOCK_SIZE, 2 * BLOCK_SIZE]);
  assert.equal(picker.endgame, true);
  picker.checkInvariants();
});

Deno.test("picker: a finished piece's buffer is reused and holds the next piece's bytes", () => {
  const pieceLength = 2 * BLOCK_SIZE;
  const layout = layoutOf(4 * pieceLength, pieceLength);
  const picker = new PiecePicker({ layout, have: new Bitfield(4), random: seeded(5) });
  picker.peerHaveAll();
  const all = Bitfield.full(4);
  const fill = (index: number) => new Uint8Array(BLOCK_SIZE).fill(index + 1);
  const complete = (index: number, begins: number[]) => {
    let piece: Uint8Array | undefined;
    for (const begin of begins) {
      piece = picker.received("a", index, begin, BLOCK_SIZE, fill(index), 0).complete;
    }
    return piece!;
  };
  const first = picker.pick({ key: "a", has: all, count: 2, now: 0 });
  const index0 = first[0]!.index;
  const buffer0 = complete(index0, first.map((r) => r.begin));
  assert.ok(buffer0.every((b) => b === index0 + 1));
  picker.verified(index0);
  const second = picker.pick({ key: "a", has: all, count: 2, now: 0 });
  const index1 = second[0]!.index;
  assert.notEqual(index1, index0);
  const buffer1 = complete(index1, second.map((r) => r.begin));
  assert.equal(buffer1.buffer, buffer0.buffer, "the verified piece's memory is reused");
  assert.ok(buffer1.every((b) => b === index1 + 1));
  picker.checkInvariants();
});
