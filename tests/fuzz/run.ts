/**
 * `deno task fuzz [--cases N] [--seed S] [--first I]`: the long fuzz run (default 100,000
 * cases) of bencode decode and metainfo parse. Fails on the first broken property, on any case
 * slower than 1 s, or when the heap keeps growing. Prints how to replay a failure.
 */
import { parseArgs } from "node:util";
import { worstCases } from "./cases.ts";
import { fuzz, FuzzFailure, runCase } from "./fuzz.ts";

const CASE_LIMIT_MS = 1000;
const { values } = parseArgs({
  options: {
    cases: { type: "string", default: "100000" },
    seed: { type: "string", default: "1" },
    first: { type: "string", default: "0" },
  },
});
const cases = Number(values.cases);
const seed = Number(values.seed);
const first = Number(values.first);

let failed = false;
for (const c of worstCases()) {
  const t0 = performance.now();
  const out = runCase(c);
  const ms = performance.now() - t0;
  console.log(
    `worst case ${c.kind}: decode ${out.decode}, metainfo ${out.metainfo}, ${ms.toFixed(0)} ms`,
  );
  if (ms > CASE_LIMIT_MS) failed = true;
}

const heapAt = (label: string) => {
  // With --v8-flags=--expose-gc (as `deno task fuzz` runs it) the number is live data only.
  (globalThis as { gc?: () => void }).gc?.();
  const mb = Deno.memoryUsage().heapUsed / 2 ** 20;
  console.log(`${label}: heap ${mb.toFixed(1)} MiB`);
  return mb;
};
const slow: string[] = [];
const started = performance.now();
let heapMid = 0;
try {
  const stats = fuzz(seed, cases, {
    first,
    onCase(i, ms, c) {
      if (ms > CASE_LIMIT_MS) slow.push(`case ${i} (${c.kind}) took ${ms.toFixed(0)} ms`);
      if (i === first + Math.floor(cases / 2)) heapMid = heapAt("half way");
    },
  });
  const heapEnd = heapAt("end");
  const seconds = (performance.now() - started) / 1000;
  console.log(
    `${stats.cases} cases (seed ${seed}) in ${seconds.toFixed(1)} s: ${stats.decoded} decoded, ` +
      `${stats.parsed} parsed as torrents, the rest rejected with typed errors; slowest ` +
      `${stats.slowestMs.toFixed(1)} ms (${stats.slowestKind})`,
  );
  if (slow.length > 0) {
    console.log(`cases over ${CASE_LIMIT_MS} ms:\n  ${slow.join("\n  ")}`);
    failed = true;
  }
  // Nothing is kept between cases: the heap must not keep growing (GC noise allowed).
  if (heapMid > 0 && heapEnd > heapMid + 64) {
    console.log(`heap grew from ${heapMid.toFixed(1)} to ${heapEnd.toFixed(1)} MiB`);
    failed = true;
  }
} catch (e) {
  if (!(e instanceof FuzzFailure)) throw e;
  console.log(`FAILED ${e.message}`);
  console.log(`replay: deno task fuzz --seed ${e.seed} --first ${e.index} --cases 1`);
  console.log(
    `input (base64): ${btoa(String.fromCharCode(...e.fuzzCase.bytes.subarray(0, 4096)))}`,
  );
  if (e.cause instanceof Error && e.cause.stack) console.log(e.cause.stack);
  failed = true;
}
if (failed) Deno.exit(1);
