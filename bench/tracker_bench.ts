/**
 * Tracker hot path in process, without sockets: parsing an announce's HTTP head, and the
 * announce itself (query parse, swarm store, compact reply): re-announces of 20,000 peers in
 * 1,000 swarms, and announces from a new peer every time, as bench/tracker.sh's wrk script
 * sends them (the store grows by one peer per announce). What is left of an announce's CPU
 * under wrk is the kernel's (accept, recv, send, close) and cache misses: bench/RESULTS.md,
 * Tracker.
 */
import { parseRequestHead } from "../src/net/http/http1.ts";
import { createTrackerApp } from "../src/tracker/server/mod.ts";

const POOL = 20_000;
let seed = 1;
/** Deterministic, so every run announces the same peers. */
function next(n: number): number {
  // xorshift32, not an LCG: an LCG's low bits cycle fast, and `% 256` of one gave only 64
  // distinct info hashes (with a plain product, which rounds past 2^53, 419 peers in 97 swarms).
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return (seed >>> 0) % n;
}
const hex = (n: number, width: number) => next(n).toString(16).padStart(width, "0");
const hashes = Array.from({ length: 1000 }, () => {
  let h = "";
  for (let i = 0; i < 20; i++) h += "%" + hex(256, 2);
  return h;
});
const encoder = new TextEncoder();
const decoder = new TextDecoder();
/** A new peer's announce, decoded from bytes as the server does (one flat string). */
const announceTarget = () =>
  decoder.decode(encoder.encode(
    `/announce?info_hash=${hashes[next(1000)]}&peer_id=-BX0001-${hex(0xffffff, 6)}${
      hex(0xffffff, 6)
    }&port=${1024 + next(60000)}&uploaded=0&downloaded=0&left=${next(1_000_000)}` +
      "&compact=1&event=started",
  ));
const targets = Array.from({ length: POOL }, announceTarget);
const heads = targets.map((t) =>
  encoder.encode(
    `GET ${t} HTTP/1.1\r\nHost: 127.0.0.1:28979\r\nUser-Agent: bench\r\nConnection: close\r\n\r\n`,
  )
);
const limits = { maxRequestLine: 24 * 1024, maxHead: 64 * 1024 };

let h = 0;
Deno.bench("http1: parse an announce's request head (~300 bytes)", () => {
  const head = heads[h++ % POOL]!;
  parseRequestHead(head, 0, head.length, limits);
});

const tracker = await createTrackerApp({});
let a = 0;
Deno.bench("tracker: announce, compact reply (20,000 peers in 1,000 swarms)", () => {
  tracker.announce(targets[a++ % POOL]!, "127.0.0.1", null, true);
});

const NEW_PEERS = 200_000;
const fresh = Array.from({ length: NEW_PEERS }, announceTarget);
const growing = await createTrackerApp({});
let f = 0;
Deno.bench({
  name: "tracker: announce from a new peer, compact reply (store grows to 200,000 peers)",
  n: NEW_PEERS - 1000,
  warmup: 1000,
  fn: () => {
    growing.announce(fresh[f++]!, "127.0.0.1", null, true);
  },
});

globalThis.addEventListener("unload", () => {
  tracker.close();
  growing.close();
});
