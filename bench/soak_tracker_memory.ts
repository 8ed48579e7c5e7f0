/**
 * Tracker memory under 1,000,000 announces from distinct peers, in process, with a
 * simulated clock. Two runs:
 *  - expiry: 1,000 announces per simulated second over 1,000 torrents with a 60 s interval, so
 *    about 120 s of peers are live at once: the heap must level off once expiry keeps pace;
 *  - caps: all 1,000,000 announces within one interval, each for a new info hash: the swarm
 *    cap (--max-swarms) must hold the store, and the heap, at its bound.
 * Prints heap after every 100,000 announces and exits 1 if either bound is broken.
 *   deno run --allow-read --allow-env --v8-flags=--expose-gc bench/soak_tracker_memory.ts
 */
import { createTrackerApp } from "../src/tracker/server/mod.ts";

const TOTAL = Number(Deno.env.get("TOTAL") ?? 1_000_000);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) console.log("note: run with --v8-flags=--expose-gc for exact heap numbers");

const heapMiB = () => {
  gc?.();
  return Deno.memoryUsage().heapUsed / 2 ** 20;
};

function hashOf(n: number): string {
  let out = "";
  for (let i = 0; i < 20; i++) {
    out += "%" + ((n >>> ((i % 4) * 8)) & 0xff ^ i).toString(16).padStart(2, "0");
  }
  return out;
}

function peerIdOf(n: number): string {
  return `-BX0001-${n.toString(16).padStart(12, "0")}`;
}

async function run(
  label: string,
  opts: { interval: number; perSecond: number; hashes: number; maxSwarms?: number },
): Promise<{ heaps: number[]; swarms: number; peers: number }> {
  let clock = 1_000_000;
  const t = await createTrackerApp({
    now: () => clock,
    interval: opts.interval,
    sweepIntervalMs: 3_600_000, // swept below, on the simulated clock
    ...(opts.maxSwarms === undefined ? {} : { maxSwarms: opts.maxSwarms }),
  });
  const heaps: number[] = [];
  const hashes = Array.from({ length: Math.min(opts.hashes, 100_000) }, (_, i) => hashOf(i));
  try {
    for (let n = 1; n <= TOTAL; n++) {
      const hash = opts.hashes > hashes.length ? hashOf(n) : hashes[n % hashes.length]!;
      const ip = `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;
      t.announce(
        `http://t/announce?info_hash=${hash}&peer_id=${peerIdOf(n)}&port=${1024 + (n % 60000)}` +
          `&uploaded=0&downloaded=0&left=${n % 3 === 0 ? 0 : 1000}&numwant=50`,
        ip,
      );
      if (n % opts.perSecond === 0) {
        clock += 1000;
        // What the sweep timer does every few seconds in a real tracker.
        if ((clock / 1000) % 10 === 0) t.store.sweep(clock - 2 * opts.interval * 1000);
      }
      if (n % 100_000 === 0) {
        const heap = heapMiB();
        heaps.push(heap);
        const totals = t.store.totals();
        console.log(
          `${label}: ${n} announces, ${totals.swarms} swarms, ${totals.peers} live peers, ` +
            `heap ${heap.toFixed(1)} MiB`,
        );
      }
    }
    const totals = t.store.totals();
    return { heaps, swarms: totals.swarms, peers: totals.peers };
  } finally {
    await t.close();
  }
}

let failed = false;
const base = heapMiB();
const expiry = await run("expiry", { interval: 60, perSecond: 1000, hashes: 1000 });
// Live peers: at most 2 intervals (the sweep cutoff) plus one sweep period of announces.
const livePeerBound = (2 * 60 + 10) * 1000;
const mid = expiry.heaps[Math.floor(expiry.heaps.length / 2)]!;
const end = expiry.heaps.at(-1)!;
console.log(`expiry: heap ${mid.toFixed(1)} MiB half way, ${end.toFixed(1)} MiB at the end`);
if (expiry.peers > livePeerBound) {
  console.log(`FAIL expiry: ${expiry.peers} live peers > ${livePeerBound}`);
  failed = true;
}
if (end > mid * 1.25 + 8) {
  console.log(`FAIL expiry: heap kept growing (${mid.toFixed(1)} -> ${end.toFixed(1)} MiB)`);
  failed = true;
}

const caps = await run("caps", {
  interval: 1800,
  perSecond: 1_000_000,
  hashes: TOTAL,
  maxSwarms: 100_000,
});
console.log(`caps: ${caps.swarms} swarms, ${caps.peers} peers kept`);
if (caps.swarms > 100_000) {
  console.log(`FAIL caps: ${caps.swarms} swarms > 100000`);
  failed = true;
}
const capMid = caps.heaps[Math.floor(caps.heaps.length / 2)]!;
const capEnd = caps.heaps.at(-1)!;
if (capEnd > capMid * 1.25 + 8) {
  console.log(`FAIL caps: heap kept growing (${capMid.toFixed(1)} -> ${capEnd.toFixed(1)} MiB)`);
  failed = true;
}
console.log(`baseline heap ${base.toFixed(1)} MiB; ${failed ? "FAILED" : "bounded"}`);
if (failed) Deno.exit(1);
