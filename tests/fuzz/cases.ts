import { type BValue, decode, encode } from "../../src/bencode/mod.ts";
import { concat, utf8Bytes } from "../../src/util/bytes.ts";
import type { Prng } from "./prng.ts";

/** One generated input and how it was made (for the failure report). */
export interface FuzzCase {
  kind: string;
  bytes: Uint8Array;
}

const FIXTURE_NAMES = [
  "leaves",
  "alice",
  "folder",
  "numbers",
  "lotsOfNumbers",
  "bunny",
  "sintel",
  "leavesMetadata",
  "corrupt",
] as const;

/**
 * The webtorrent-fixtures npm package (real-world .torrent files, MIT), which only tests use.
 * It must stay out of deno.lock: `deno task` installs every npm package in deno.lock before it
 * runs any task, so a locked test package would be downloaded by `deno task demo` on every
 * fresh machine. So the specifier is a variable, which `deno check` does not resolve, and what
 * imports this module runs with the tests' own lockfile, `--lock=tests/deno.lock` (`deno task
 * test` and `deno task fuzz` do).
 * tests/torrent/fixtures_test.ts fails if the package reaches deno.lock anyway.
 */
const WEBTORRENT_FIXTURES = "npm:webtorrent-fixtures@2.0.3";
export const fixtures: Record<(typeof FIXTURE_NAMES)[number], { torrent: Uint8Array }> =
  (await import(WEBTORRENT_FIXTURES)).default;

/** Path components that other clients have been tricked by. */
export const HOSTILE_COMPONENTS: readonly (string | Uint8Array)[] = [
  "..",
  ".",
  "",
  "/abs",
  "/etc/passwd",
  "a/b",
  "../../x",
  "C:\\x",
  "C:",
  "c:x",
  "..\\..\\x",
  "\\\\server\\share",
  "a\0b",
  "\0",
  "x".repeat(300),
  "é".repeat(128),
  "CON",
  ".btx",
  Uint8Array.of(0xff, 0xfe, 0x2e, 0x2e),
  Uint8Array.of(0xc0, 0xae, 0xc0, 0xae), // overlong UTF-8 for ".."
];

const INTERESTING_BYTES = [0x69, 0x65, 0x6c, 0x64, 0x3a, 0x2d, 0x30, 0x31, 0x39, 0, 0xff, 0x2f];
const INTERESTING_NUMBERS = [
  "0",
  "-0",
  "-1",
  "00",
  "1",
  "16384",
  "2147483648",
  "4294967296",
  "9007199254740991",
  "9007199254740993",
  "18446744073709551616",
  "99999999999999999999999",
];

/** Seed torrents: the real-world webtorrent fixtures plus a few made here to cover BEP fields. */
export function seedTorrents(): Uint8Array[] {
  const real = FIXTURE_NAMES.map((n) => new Uint8Array(fixtures[n].torrent));
  const pieces = (n: number) => new Uint8Array(20 * n).fill(7);
  const made = [
    encode({
      announce: "http://127.0.0.1:1/announce",
      "announce-list": [["http://a/announce"], ["udp://b:1", "http://c/"]],
      "url-list": ["http://w/"],
      comment: "c",
      "creation date": 1,
      info: {
        name: "multi",
        "piece length": 16384,
        pieces: pieces(3),
        private: 1,
        files: [
          { length: 20000, path: ["a", "b.bin"] },
          { length: 12768, path: [".pad", "12768"], attr: "p" },
          { length: 1, path: ["c"], "path.utf-8": ["c"] },
          { length: 0, path: ["empty"] },
          { length: 16383, path: ["a", "d"] },
        ],
      },
    }),
    encode({
      info: { name: "one", "name.utf-8": "ünï", "piece length": 1, pieces: pieces(5), length: 5 },
    }),
    // Unsorted keys, as some old creators wrote them: still a valid torrent.
    utf8Bytes(
      `d4:infod6:lengthi3e4:name1:x6:pieces20:${"p".repeat(20)}12:piece lengthi4eee`,
    ),
  ];
  return [...real, ...made];
}

/** Any bytes: sometimes uniform, mostly drawn from the bencode alphabet so parsing goes deep. */
export function randomBytes(rng: Prng, max = 512): Uint8Array {
  const n = rng.size(max);
  if (rng.chance(0.3)) return rng.bytes(n);
  const alphabet = utf8Bytes("ilde0123456789:-");
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = rng.chance(0.9) ? rng.pick([...alphabet]) : rng.u32() & 0xff;
  return out;
}

/** A random valid bencode value (its encoding must decode back to it). */
export function randomValue(rng: Prng, depth = 0): BValue {
  const r = rng.int(depth > 4 ? 2 : 4);
  if (r === 0) {
    if (rng.chance(0.1)) return BigInt(rng.pick(["-", ""]) + "1" + "0".repeat(16 + rng.int(40)));
    return rng.int(3) === 0 ? -rng.int(1_000_000) : rng.int(2 ** 31);
  }
  if (r === 1) return rng.bytes(rng.size(40));
  if (r === 2) return Array.from({ length: rng.size(6) }, () => randomValue(rng, depth + 1));
  const dict = new Map<string, BValue>();
  for (let i = rng.size(6); i > 0; i--) {
    dict.set(String.fromCharCode(...rng.bytes(rng.size(8))), randomValue(rng, depth + 1));
  }
  return dict;
}

/** Byte-level mutations of a seed: flips, inserts, deletions, splices, numbers, truncation. */
export function mutateBytes(rng: Prng, seed: Uint8Array, donors: readonly Uint8Array[]): FuzzCase {
  let b: Uint8Array = seed.slice();
  const kinds: string[] = [];
  for (let n = 1 + rng.int(4); n > 0; n--) {
    const at = rng.int(b.length + 1);
    switch (rng.int(7)) {
      case 0:
        kinds.push("flip");
        if (b.length > 0) b[at % b.length]! ^= 1 << rng.int(8);
        break;
      case 1:
        kinds.push("byte");
        if (b.length > 0) b[at % b.length] = rng.pick(INTERESTING_BYTES);
        break;
      case 2: {
        kinds.push("delete");
        const len = rng.size(64);
        b = concat([b.subarray(0, at), b.subarray(at + len)]);
        break;
      }
      case 3: {
        kinds.push("splice");
        const donor = rng.pick(donors);
        const from = rng.int(donor.length);
        const piece = donor.subarray(from, from + rng.size(256));
        b = concat([b.subarray(0, at), piece, b.subarray(at)]);
        break;
      }
      case 4: {
        kinds.push("number");
        // Replace the digit run under `at` (a length prefix or an integer) with a tricky one.
        let s = at, e = at;
        while (s > 0 && isDigit(b[s - 1])) s--;
        while (e < b.length && isDigit(b[e])) e++;
        const text = utf8Bytes(rng.pick(INTERESTING_NUMBERS));
        b = concat([b.subarray(0, s), text, b.subarray(e)]);
        break;
      }
      case 5:
        kinds.push("truncate");
        b = b.slice(0, at);
        break;
      default: {
        kinds.push("repeat");
        const len = 1 + rng.size(16);
        const part = b.subarray(at, at + len);
        b = concat([
          b.subarray(0, at),
          ...Array.from({ length: 1 + rng.int(50) }, () => part),
          b.subarray(at),
        ]);
      }
    }
  }
  return { kind: `bytes:${kinds.join(",")}`, bytes: b };
}

function isDigit(c: number | undefined): boolean {
  return c !== undefined && c >= 0x30 && c <= 0x39;
}

type Slot = { get(): BValue; set(v: BValue | undefined): void };

/** Every replaceable place in a decoded tree (dict entries and list items). */
function slots(v: BValue, out: Slot[] = []): Slot[] {
  if (v instanceof Map) {
    for (const [k, child] of v) {
      out.push({ get: () => v.get(k)!, set: (x) => (x === undefined ? v.delete(k) : v.set(k, x)) });
      slots(child, out);
    }
  } else if (Array.isArray(v)) {
    v.forEach((child, i) => {
      out.push({ get: () => v[i]!, set: (x) => (x === undefined ? v.splice(i, 1) : (v[i] = x)) });
      slots(child, out);
    });
  }
  return out;
}

/**
 * Tree-level mutations: decode a seed, replace or delete values (hostile path components,
 * extreme numbers, random subtrees), re-encode. These reach the metainfo checks that byte
 * mutations rarely get past the decoder to.
 */
export function mutateTree(rng: Prng, seed: Uint8Array): FuzzCase {
  const root = decode(seed);
  const kinds: string[] = [];
  for (let n = 1 + rng.int(3); n > 0; n--) {
    const all = slots(root);
    if (all.length === 0) break;
    const slot = rng.pick(all);
    const old = slot.get();
    switch (rng.int(6)) {
      case 0: {
        kinds.push("hostile-path");
        const c = rng.pick(HOSTILE_COMPONENTS);
        const bytes = typeof c === "string" ? utf8Bytes(c) : c;
        slot.set(
          Array.isArray(old) && old.every((x) => x instanceof Uint8Array) ? [...old, bytes] : bytes,
        );
        break;
      }
      case 1:
        kinds.push("number");
        slot.set(BigInt(rng.pick(INTERESTING_NUMBERS).replace("-0", "0").replace(/^0+(?=\d)/, "")));
        break;
      case 2:
        kinds.push("delete");
        slot.set(undefined);
        break;
      case 3:
        kinds.push("random");
        slot.set(randomValue(rng, 3));
        break;
      case 4:
        kinds.push("duplicate");
        if (Array.isArray(old)) slot.set([...old, ...old]);
        else slot.set([old, old]);
        break;
      default:
        kinds.push("empty");
        slot.set(rng.pick<BValue>([new Uint8Array(0), [], new Map(), 0]));
    }
  }
  return { kind: `tree:${kinds.join(",")}`, bytes: encode(root) };
}

/** Hand-written worst cases: deep nesting, huge length prefixes, long numbers, deep paths. */
export function worstCases(): FuzzCase[] {
  const t = (s: string) => utf8Bytes(s);
  const deepPath = Array.from({ length: 30_000 }, () => "a");
  const manyFiles = Array.from({ length: 20_000 }, (_, i) => ({ length: 1, path: ["d", `${i}`] }));
  return [
    { kind: "deep-list", bytes: t("l".repeat(100_000)) },
    { kind: "deep-dict", bytes: t("d1:a".repeat(50_000)) },
    { kind: "huge-length", bytes: t("99999999999999999999:x") },
    { kind: "length-2^53", bytes: t("9007199254740993:x") },
    { kind: "length-2^32", bytes: t("4294967296:x") },
    { kind: "long-int", bytes: t(`i${"9".repeat(200_000)}e`) },
    {
      kind: "many-keys",
      bytes: t(
        `d${Array.from({ length: 50_000 }, (_, i) => `${String(i).length}:${i}i0e`).join("")}e`,
      ),
    },
    { kind: "duplicate-keys", bytes: t("d1:ai1e1:ai2ee") },
    {
      kind: "deep-path",
      bytes: encode({
        info: {
          name: "x",
          "piece length": 16384,
          pieces: new Uint8Array(20),
          files: [{ length: 1, path: deepPath }],
        },
      }),
    },
    {
      kind: "many-files",
      bytes: encode({
        info: { name: "x", "piece length": 1 << 20, pieces: new Uint8Array(20), files: manyFiles },
      }),
    },
    {
      kind: "huge-total-length",
      bytes: encode({
        info: {
          name: "x",
          "piece length": 1 << 20,
          pieces: new Uint8Array(20),
          files: [{ length: 2 ** 52, path: ["a"] }, { length: 2 ** 52, path: ["b"] }],
        },
      }),
    },
    {
      kind: "piece-length-2^31",
      bytes: encode({
        info: { name: "x", "piece length": 2 ** 31, pieces: new Uint8Array(20), length: 1 },
      }),
    },
  ];
}
