import assert from "node:assert/strict";
import { parseAnnounce } from "../../../src/tracker/server/mod.ts";
import { parseAnnounceUrl, rawQuery } from "../../../src/tracker/protocol/http_query.ts";
import { pct } from "../server/helpers.ts";

/** The result or the refusal text: what the tracker would act on or send back. */
function outcome(parse: () => unknown): unknown {
  try {
    return { ok: parse() };
  } catch (e) {
    return { error: (e as Error).message };
  }
}

function seeded(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const HASH = pct(Uint8Array.from({ length: 20 }, (_, i) => 0xf0 - i * 7));
const BASE: [string, string][] = [
  ["info_hash", HASH],
  ["peer_id", "-qB4650-abcdefghijkl"],
  ["port", "6881"],
  ["uploaded", "0"],
  ["downloaded", "12"],
  ["left", "1000"],
  ["corrupt", "0"],
  ["key", "A1B2%43"],
  ["event", "started"],
  ["numwant", "80"],
  ["compact", "1"],
  ["no_peer_id", "1"],
  ["supportcrypto", "1"],
];

/** Odd values a parameter might get, valid and not. */
const VALUES = [
  "",
  "0",
  "1",
  "65535",
  "65536",
  "-1",
  "1e3",
  "007",
  "99999999999999999",
  "123456789012345678901",
  "completed",
  "stopped",
  "paused",
  "Started",
  "%41",
  "%4",
  "%zz",
  "a+b",
  "\u00e9",
  "-TT0001-000000000001",
  "-TT0001-00000000001",
  "-TT0001-0000000000011",
  "%2DTT0001%2D000000000001",
  HASH,
  HASH.slice(3),
  "::1",
  "10.0.0.9",
];

const NAMES = ["info%5Fhash", "port%3D", "ip", "trackerid", "event", "numwant", "left", "x"];

Deno.test("query: the announce fast path parses exactly like the general parser (5,000 variants)", () => {
  const random = seeded(42);
  const pick = <T>(list: readonly T[]) => list[Math.floor(random() * list.length)]!;
  let fast = 0;
  for (let n = 0; n < 5000; n++) {
    const params = BASE.map(([k, v]) => [k, v] as [string, string]);
    for (let m = Math.floor(random() * 4); m > 0; m--) {
      const roll = random();
      const at = Math.floor(random() * params.length);
      if (roll < 0.3) params[at]![1] = pick(VALUES);
      else if (roll < 0.45) params.splice(at, 1);
      else if (roll < 0.6) params.splice(at, 0, [pick(NAMES), pick(VALUES)]);
      else if (roll < 0.75) params.push([...params[at] ?? ["port", "1"]]);
      else if (roll < 0.85) params.splice(at, 0, ["", ""]);
      else params[at] = [params[at]?.[0] ?? "port", ""];
    }
    let url = "http://t.example:6969/announce?" +
      params.map(([k, v]) => (v === "" && random() < 0.5 ? k : `${k}=${v}`)).join("&");
    if (random() < 0.05) url += "#frag&port=1";
    const general = outcome(() => parseAnnounce(rawQuery(url)));
    assert.deepEqual(outcome(() => parseAnnounceUrl(url)), general, url);
    if ("ok" in (general as object)) fast++;
  }
  // The variants must exercise both accepted and refused announces.
  assert.ok(fast > 500 && fast < 4500, `${fast} of 5000 accepted`);
});

Deno.test("query: an ordinary announce URL is decoded byte by byte", () => {
  const url = `http://h/announce?info_hash=${HASH}&peer_id=-qB4650-abcdefghijkl&port=6881` +
    "&uploaded=5&downloaded=7&left=0&event=completed&compact=0&numwant=500&key=k%20y&ip=%3A%3A1";
  const r = parseAnnounceUrl(url);
  assert.equal(r.infoHash.length, 20);
  assert.equal(r.infoHash.charCodeAt(0), 0xf0);
  assert.equal(r.infoHash.charCodeAt(19), 0xf0 - 19 * 7);
  assert.deepEqual(
    [r.peerId, r.port, r.uploaded, r.downloaded, r.left, r.event, r.compact, r.numwant],
    ["-qB4650-abcdefghijkl", 6881, 5, 7, 0, "completed", false, 500],
  );
  assert.deepEqual([r.noPeerId, r.key, r.ip], [false, "k y", "::1"]);
});

Deno.test("query: no event or an empty one is a regular announce; numwant is left to the core", () => {
  const base = `/announce?info_hash=${HASH}&peer_id=-qB4650-abcdefghijkl&port=6881`;
  for (const url of [base, `${base}&event=`, `${base}&event`]) {
    const r = parseAnnounceUrl(url);
    assert.deepEqual([r.event, r.numwant], [undefined, undefined], url);
  }
  assert.equal(parseAnnounceUrl(`${base}&event=paused&numwant=0`).event, "paused");
  assert.equal(parseAnnounceUrl(`${base}&numwant=0`).numwant, 0);
  assert.throws(() => parseAnnounceUrl(`${base}&event=Started`), /invalid event: "Started"/);
});
