import assert from "node:assert/strict";
import { encode } from "../../src/bencode/mod.ts";
import { decodeResume, encodeResume } from "../../src/client/storage/resume.ts";
import { MagnetError, parseMagnet } from "../../src/torrent/mod.ts";
import { decodeExtendedHandshake, encodeExtendedHandshake, WireError } from "../../src/wire/mod.ts";
import { mutateBytes, mutateTree, randomBytes, randomValue } from "./cases.ts";
import { Prng } from "./prng.ts";

// The other decoders of untrusted bytes: magnet links (from users and web pages), BEP 10
// extended handshakes (from peers) and resume files (from disk, possibly corrupted). Each one
// either returns its documented result or throws its own typed error; nothing else.

const CASES = 3000;

Deno.test("fuzz: parseMagnet returns a magnet or throws MagnetError", () => {
  const hash = "c12fe1c06bba254a9dc9f519b335aa7c1367a88a";
  const seeds = [
    `magnet:?xt=urn:btih:${hash}&dn=name&tr=http%3A%2F%2Ft%2Fa&x.pe=1.2.3.4:5`,
    `magnet:?xt=urn:btih:YEX6DQDLXISUVHOJ6UM3GNNKPQJWPKEK&tr.1=udp://x:1&tr.2=http://y/`,
  ];
  const alphabet = "magnet:?xt=urn:btih:&%+.-_/0123456789abcdefABCDEFxyzZ\u00e9\0";
  const rng = new Prng(97);
  let parsed = 0;
  for (let i = 0; i < CASES; i++) {
    let uri: string;
    if (rng.chance(0.5)) {
      const seed = new TextEncoder().encode(rng.pick(seeds));
      uri = new TextDecoder().decode(mutateBytes(rng, seed, [seed]).bytes);
    } else {
      uri = "magnet:?" +
        Array.from({ length: rng.size(80) }, () => alphabet[rng.int(alphabet.length)]).join("");
    }
    try {
      const m = parseMagnet(uri);
      assert.equal(m.infoHash.length, 20);
      assert.match(m.infoHashHex, /^[0-9a-f]{40}$/);
      parsed++;
    } catch (e) {
      if (!(e instanceof MagnetError)) throw new Error(`case ${i} ${JSON.stringify(uri)}: ${e}`);
    }
  }
  assert.ok(parsed > 0 && parsed < CASES, `${parsed} parsed`);
});

Deno.test("fuzz: decodeExtendedHandshake returns a handshake or throws WireError", () => {
  const seed = encodeExtendedHandshake({
    m: { ut_metadata: 3, ut_pex: 1 },
    v: "x",
    reqq: 250,
    p: 6881,
  });
  const rng = new Prng(98);
  let decoded = 0;
  for (let i = 0; i < CASES; i++) {
    const r = rng.int(3);
    const payload = r === 0
      ? randomBytes(rng, 200)
      : r === 1
      ? mutateBytes(rng, seed, [seed]).bytes
      : encode(rng.chance(0.5) ? mutateTreeValue(rng, seed) : randomValue(rng));
    try {
      const h = decodeExtendedHandshake(payload);
      assert.ok(h.reqq === undefined || (Number.isInteger(h.reqq) && h.reqq > 0), `reqq ${h.reqq}`);
      decoded++;
    } catch (e) {
      if (!(e instanceof WireError)) throw new Error(`case ${i}: ${e}`, { cause: e });
    }
  }
  assert.ok(decoded > 0, "nothing decoded");
});

function mutateTreeValue(rng: Prng, seed: Uint8Array) {
  return mutateTree(rng, seed).bytes;
}

Deno.test("fuzz: decodeResume returns resume data or undefined, never throws", () => {
  const seed = encodeResume({
    infoHash: new Uint8Array(20).fill(3),
    pieceCount: 10,
    bitfield: Uint8Array.of(0xff, 0xc0),
    files: [{ size: 100, mtimeMs: 1_700_000_000_000 }, { size: -1, mtimeMs: 0 }],
  });
  const rng = new Prng(99);
  let valid = 0;
  for (let i = 0; i < CASES; i++) {
    const c = rng.chance(0.5) ? mutateBytes(rng, seed, [seed]) : mutateTree(rng, seed);
    const r = decodeResume(c.bytes);
    if (r) {
      assert.equal(r.bitfield.length, Math.ceil(r.pieceCount / 8));
      assert.ok(r.files.every((f) => Number.isFinite(f.size) && Number.isFinite(f.mtimeMs)));
      valid++;
    }
  }
  assert.ok(valid > 0 && valid < CASES, `${valid} valid`);
});
