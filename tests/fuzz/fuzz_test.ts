import assert from "node:assert/strict";
import { encode } from "../../src/bencode/mod.ts";
import { MetainfoError, parseMetainfo } from "../../src/torrent/mod.ts";
import { utf8Bytes } from "../../src/util/bytes.ts";
import { HOSTILE_COMPONENTS, seedTorrents, worstCases } from "./cases.ts";
import { fuzz, runCase } from "./fuzz.ts";
import { checkMetainfo } from "./oracle.ts";

// The short, fixed-seed slice of `deno task fuzz` that runs with every test run. The long run
// (100,000+ cases, with the 1 s per-case limit) is `deno task fuzz`.
const SLICE = 3000;

Deno.test("fuzz slice: bencode decode and metainfo parse keep their properties", () => {
  const stats = fuzz(20261125, SLICE);
  assert.equal(stats.cases, SLICE);
  // The generator must reach both outcomes of both targets, or the slice proves little.
  assert.ok(stats.decoded > SLICE / 4 && stats.decoded < SLICE, `${stats.decoded} decoded`);
  assert.ok(stats.parsed > SLICE / 50 && stats.parsed < stats.decoded, `${stats.parsed} parsed`);
});

Deno.test("fuzz slice: a second seed window, away from the first cases", () => {
  const stats = fuzz(7, 1000, { first: 1_000_000 });
  assert.equal(stats.cases, 1000);
});

Deno.test("worst cases (deep nesting, huge prefixes, deep paths) end in a value or a typed error", () => {
  const outcomes = Object.fromEntries(worstCases().map((c) => [c.kind, runCase(c)]));
  assert.equal(outcomes["deep-list"]?.decode, "rejected");
  assert.equal(outcomes["huge-length"]?.decode, "rejected");
  assert.equal(outcomes["length-2^53"]?.decode, "rejected");
  assert.equal(outcomes["long-int"]?.decode, "ok");
  assert.equal(outcomes["deep-path"]?.metainfo, "ok");
  assert.equal(outcomes["many-files"]?.metainfo, "ok");
  assert.equal(outcomes["huge-total-length"]?.metainfo, "rejected");
  assert.equal(outcomes["piece-length-2^31"]?.metainfo, "rejected");
});

Deno.test("every seed torrent except the corrupt fixture parses", () => {
  const results = seedTorrents().map((t) => checkMetainfo(t));
  assert.equal(results.filter((r) => r === "rejected").length, 1);
});

const single = (name: string | Uint8Array) =>
  encode({ info: { name, "piece length": 4, pieces: new Uint8Array(20), length: 3 } });
const multi = (path: (string | Uint8Array)[]) =>
  encode({
    info: {
      name: "top",
      "piece length": 4,
      pieces: new Uint8Array(20),
      files: [{ length: 3, path }],
    },
  });

Deno.test("hostile path components are rejected as a name and anywhere in a file path", () => {
  // Safe on every platform btx runs on: kept (the storage layer still checks symlinks).
  const allowed = new Set(["CON", ".btx"]);
  for (const c of HOSTILE_COMPONENTS) {
    const label = typeof c === "string" ? JSON.stringify(c.slice(0, 20)) : `bytes ${c}`;
    for (const t of [single(c), multi([c]), multi(["ok", c]), multi([c, "ok"])]) {
      const outcome = checkMetainfo(t);
      if (typeof c === "string" && allowed.has(c)) continue;
      if (c instanceof Uint8Array) continue; // legacy encodings: decoded, never a separator
      assert.equal(outcome, "rejected", label);
      assert.throws(() => parseMetainfo(t), MetainfoError, label);
    }
  }
  // Overlong or invalid UTF-8 is decoded to U+FFFD, never to "." or "/".
  const m = parseMetainfo(multi([Uint8Array.of(0xc0, 0xae, 0xc0, 0xae)]));
  assert.ok(!m.files[0]!.path[0]!.includes("."));
  assert.equal(checkMetainfo(multi([utf8Bytes("ok")])), "ok");
});
