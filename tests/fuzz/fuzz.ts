import { encode } from "../../src/bencode/mod.ts";
import {
  type FuzzCase,
  mutateBytes,
  mutateTree,
  randomBytes,
  randomValue,
  seedTorrents,
} from "./cases.ts";
import { checkDecode, checkMetainfo, type Outcome } from "./oracle.ts";
import { Prng } from "./prng.ts";

/** Totals of a fuzz run. */
export interface FuzzStats {
  cases: number;
  decoded: number;
  parsed: number;
  /** Slowest case in ms (the runner enforces a limit; tests do not time anything). */
  slowestMs: number;
  slowestKind: string;
}

/** A property broke: enough to replay the case (seed + index) and see the input. */
export class FuzzFailure extends Error {
  constructor(
    readonly seed: number,
    readonly index: number,
    readonly fuzzCase: FuzzCase,
    override readonly cause: unknown,
  ) {
    super(
      `case ${index} of seed ${seed} (${fuzzCase.kind}, ${fuzzCase.bytes.length} bytes): ` +
        `${cause instanceof Error ? cause.message : String(cause)}`,
    );
  }
}

/** The input of case `index` of a run seeded with `seed`: each case has its own PRNG. */
export function generateCase(seed: number, index: number, seeds: readonly Uint8Array[]): FuzzCase {
  const rng = new Prng((seed * 0x9e3779b1 + index * 0x85ebca6b) >>> 0);
  const r = rng.int(100);
  if (r < 15) return { kind: "random", bytes: randomBytes(rng) };
  if (r < 25) return { kind: "valid", bytes: encode(randomValue(rng)) };
  if (r < 65) return mutateBytes(rng, rng.pick(seeds), seeds);
  return mutateTree(rng, rng.pick(seeds));
}

/** Runs both targets (bencode decode, metainfo parse) on one input. */
export function runCase(c: FuzzCase): { decode: Outcome; metainfo: Outcome } {
  const decode = checkDecode(c.bytes);
  if (c.kind === "valid" && decode !== "ok") throw new Error("a valid encoding was rejected");
  const metainfo = checkMetainfo(c.bytes);
  if (decode === "rejected" && metainfo === "ok") throw new Error("parsed what decode rejects");
  return { decode, metainfo };
}

/**
 * Runs cases `first .. first+count-1` of `seed`. Throws a {@link FuzzFailure} at the first
 * broken property.
 */
export function fuzz(
  seed: number,
  count: number,
  opts: { first?: number; onCase?: (index: number, ms: number, c: FuzzCase) => void } = {},
): FuzzStats {
  const seeds = seedTorrents();
  const stats: FuzzStats = { cases: 0, decoded: 0, parsed: 0, slowestMs: 0, slowestKind: "" };
  const first = opts.first ?? 0;
  for (let i = first; i < first + count; i++) {
    const c = generateCase(seed, i, seeds);
    const t0 = performance.now();
    let out;
    try {
      out = runCase(c);
    } catch (e) {
      throw new FuzzFailure(seed, i, c, e);
    }
    const ms = performance.now() - t0;
    stats.cases++;
    if (out.decode === "ok") stats.decoded++;
    if (out.metainfo === "ok") stats.parsed++;
    if (ms > stats.slowestMs) {
      stats.slowestMs = ms;
      stats.slowestKind = c.kind;
    }
    opts.onCase?.(i, ms, c);
  }
  return stats;
}
