import assert from "node:assert/strict";
import { isAbsolute, join, relative } from "node:path";
import { BencodeError, type BValue, decode, encode } from "../../src/bencode/mod.ts";
import { FileLayout, type Metainfo, MetainfoError, parseMetainfo } from "../../src/torrent/mod.ts";
import { equals, toHex } from "../../src/util/bytes.ts";
import { InputError } from "../../src/util/errors.ts";
import { sha1 } from "../../src/util/sha1.ts";

/** What a fuzz target did with one input. */
export type Outcome = "ok" | "rejected";

/**
 * Decodes `bytes` and checks the properties that must hold for any input: it either decodes
 * or throws a BencodeError (never anything else); a decoded value re-encodes to something that
 * decodes to the same value; no byte string is copied (all are views of the input) and the
 * value has fewer nodes than the input has bytes, so decoding allocates in proportion to the
 * input and never to what a length prefix claims.
 */
export function checkDecode(bytes: Uint8Array): Outcome {
  let value: BValue;
  try {
    value = decode(bytes);
  } catch (e) {
    if (e instanceof BencodeError) {
      assert.ok(e.offset >= 0 && e.offset <= bytes.length, `error offset ${e.offset} out of range`);
      return "rejected";
    }
    throw new Error(`decode threw an untyped error: ${e}`, { cause: e });
  }
  const nodes = countNodes(value, bytes.buffer);
  assert.ok(nodes <= bytes.length, `${nodes} nodes from ${bytes.length} bytes`);
  const again = decode(encode(value));
  assert.deepEqual(again, value);
  return "ok";
}

function countNodes(v: BValue, buffer: ArrayBufferLike): number {
  if (v instanceof Uint8Array) {
    assert.equal(v.buffer, buffer, "a byte string was copied out of the input");
    return 1;
  }
  if (Array.isArray(v)) return v.reduce((n: number, x) => n + countNodes(x, buffer), 1);
  if (v instanceof Map) {
    let n = 1;
    for (const x of v.values()) n += 1 + countNodes(x, buffer);
    return n;
  }
  return 1;
}

/**
 * Parses `bytes` as a .torrent. Either a typed InputError (BencodeError or MetainfoError), or
 * a Metainfo whose every promise holds: the info hash is SHA-1 of info bytes found verbatim in
 * the input, sizes add up, the layout is consistent, and every file maps strictly inside the
 * torrent's folder (no traversal, no absolute or drive paths, no NUL, no separators).
 */
export function checkMetainfo(bytes: Uint8Array): Outcome {
  let m: Metainfo;
  try {
    m = parseMetainfo(bytes);
  } catch (e) {
    if (e instanceof BencodeError || e instanceof MetainfoError) return "rejected";
    if (e instanceof InputError) throw new Error(`unexpected InputError subtype ${e.name}`);
    throw new Error(`parseMetainfo threw an untyped error: ${e}`, { cause: e });
  }
  assert.equal(toHex(m.infoHash), toHex(sha1(m.infoBytes)));
  assert.ok(containsAt(bytes, m.infoBytes), "info bytes are not a slice of the input");
  // Copies made by the parser stay within the input's size.
  assert.ok(m.infoBytes.length + m.pieces.length <= 2 * bytes.length);
  assert.equal(m.pieces.length, m.pieceCount * 20);
  assert.ok(m.pieceLength >= 1 && Number.isSafeInteger(m.length) && m.length > 0);
  assert.equal(m.pieceCount, Math.ceil(m.length / m.pieceLength));
  assert.equal(m.files.reduce((n, f) => n + f.length, 0), m.length);
  new FileLayout(m); // throws on any inconsistency between files, offsets and pieces
  checkSafeComponent(m.name);
  const root = join("/out", m.name);
  assert.ok(isInside("/out", root), `name ${JSON.stringify(m.name)} escapes`);
  const seen = new Set<string>();
  for (const f of m.files) {
    assert.ok(Number.isSafeInteger(f.length) && f.length >= 0);
    if (!m.multiFile) continue;
    assert.ok(f.path.length > 0);
    for (const c of f.path) checkSafeComponent(c);
    const full = join(root, ...f.path);
    assert.ok(isInside(root, full), `path ${JSON.stringify(f.path)} escapes`);
    if (!f.pad) {
      assert.ok(!seen.has(full), `duplicate path ${full}`);
      seen.add(full);
    }
  }
  if (!m.multiFile) assert.deepEqual(m.files.map((f) => f.path), [[m.name]]);
  return "ok";
}

function checkSafeComponent(c: string) {
  assert.ok(c.length > 0 && c !== "." && c !== "..", `component ${JSON.stringify(c)}`);
  assert.ok(!/[\0/\\]/.test(c), `component ${JSON.stringify(c)} has a separator or NUL`);
  assert.ok(!/^[A-Za-z]:/.test(c), `component ${JSON.stringify(c)} is a drive`);
}

function isInside(dir: string, path: string): boolean {
  const rel = relative(dir, path);
  return rel !== "" && rel !== ".." && !rel.startsWith("../") && !isAbsolute(rel);
}

function containsAt(haystack: Uint8Array, needle: Uint8Array): boolean {
  // The info dict of a parsed torrent starts right after "4:info" somewhere in the input.
  for (let i = 0; i + needle.length <= haystack.length; i++) {
    if (haystack[i] === needle[0] && equals(haystack.subarray(i, i + needle.length), needle)) {
      return true;
    }
  }
  return false;
}
