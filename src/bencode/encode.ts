import { fromBinary, utf8Bytes } from "../util/bytes.ts";
import { BencodeError } from "./errors.ts";
import type { Encodable } from "./types.ts";

/**
 * Encodes to canonical bencode: dictionary keys sorted by raw bytes, integers in shortest form.
 * @throws {BencodeError} for values bencode cannot hold (floats, booleans, null).
 */
export function encode(value: Encodable): Uint8Array {
  const w = new Writer();
  w.value(value);
  return w.finish();
}

class Writer {
  #buf = new Uint8Array(256);
  #len = 0;

  finish(): Uint8Array {
    return this.#buf.slice(0, this.#len);
  }

  #reserve(n: number) {
    if (this.#len + n <= this.#buf.length) return;
    let size = this.#buf.length * 2;
    while (size < this.#len + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.#buf.subarray(0, this.#len));
    this.#buf = next;
  }

  #ascii(text: string) {
    this.#reserve(text.length);
    for (let i = 0; i < text.length; i++) this.#buf[this.#len++] = text.charCodeAt(i);
  }

  #bytes(b: Uint8Array) {
    this.#ascii(`${b.length}:`);
    this.#reserve(b.length);
    this.#buf.set(b, this.#len);
    this.#len += b.length;
  }

  value(v: Encodable): void {
    if (v instanceof Uint8Array) return this.#bytes(v);
    if (typeof v === "string") return this.#bytes(utf8Bytes(v));
    if (typeof v === "bigint") return this.#ascii(`i${v}e`);
    if (typeof v === "number") {
      if (!Number.isSafeInteger(v)) throw new BencodeError(`cannot encode number ${v}`, this.#len);
      return this.#ascii(`i${v}e`);
    }
    if (Array.isArray(v)) {
      this.#ascii("l");
      for (const item of v as readonly Encodable[]) this.value(item);
      return this.#ascii("e");
    }
    if (v instanceof Map) return this.#dict([...v.entries()]);
    if (typeof v === "object" && v !== null) {
      // Plain-object keys are text: stored as UTF-8 then compared as bytes like Map keys.
      const entries: [string, Encodable][] = [];
      for (const [k, item] of Object.entries(v)) {
        if (item !== undefined) entries.push([binaryOfText(k), item as Encodable]);
      }
      return this.#dict(entries);
    }
    throw new BencodeError(`cannot encode ${v === null ? "null" : typeof v}`, this.#len);
  }

  #dict(entries: [string, Encodable][]) {
    entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    this.#ascii("d");
    for (const [k, item] of entries) {
      this.#bytes(fromBinary(k));
      this.value(item);
    }
    this.#ascii("e");
  }
}

function binaryOfText(text: string): string {
  // ASCII keys (nearly all of them) are already their own binary string.
  // deno-lint-ignore no-control-regex
  if (/^[\x00-\x7f]*$/.test(text)) return text;
  let out = "";
  for (const b of utf8Bytes(text)) out += String.fromCharCode(b);
  return out;
}
