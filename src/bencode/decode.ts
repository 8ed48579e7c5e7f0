import { toBinary } from "../util/bytes.ts";
import { BencodeError } from "./errors.ts";
import type { BDict, BList, BValue, Span } from "./types.ts";

export interface DecodeOptions {
  /** Deepest list/dict nesting accepted; deeper input is an error, never a stack overflow. */
  maxDepth?: number;
  /**
   * When given, filled with the exact byte span of every byte string, list and dict (the
   * objects are the keys). The info hash is SHA-1 over the info dict's span, never a re-encoding.
   */
  spans?: WeakMap<object, Span>;
}

const DEFAULT_MAX_DEPTH = 256;
// 2^53 needs 16 digits; a length with more digits cannot fit in any input anyway.
const MAX_LENGTH_DIGITS = 16;
const C_0 = 0x30, C_9 = 0x39, C_COLON = 0x3a, C_MINUS = 0x2d;
const C_I = 0x69, C_L = 0x6c, C_D = 0x64, C_E = 0x65;

/**
 * Decodes exactly one bencoded value covering the whole input. Byte strings are returned as
 * views into `data` (no copy): copy them if `data` will be reused.
 * @throws {BencodeError} with the byte offset of the first problem.
 */
export function decode(data: Uint8Array, options: DecodeOptions = {}): BValue {
  const decoder = new Decoder(data, options.maxDepth ?? DEFAULT_MAX_DEPTH, options.spans);
  const value = decoder.value(0);
  if (decoder.pos !== data.length) {
    throw new BencodeError(`${data.length - decoder.pos} trailing bytes`, decoder.pos);
  }
  return value;
}

/** Decodes and also returns the span of every container and byte string. */
export function decodeWithSpans(
  data: Uint8Array,
  options: Omit<DecodeOptions, "spans"> = {},
): { value: BValue; spans: WeakMap<object, Span> } {
  const spans = new WeakMap<object, Span>();
  return { value: decode(data, { ...options, spans }), spans };
}

class Decoder {
  pos = 0;
  constructor(
    readonly data: Uint8Array,
    readonly maxDepth: number,
    readonly spans: WeakMap<object, Span> | undefined,
  ) {}

  value(depth: number): BValue {
    const c = this.peek("a value");
    if (c === C_I) return this.integer();
    if (c >= C_0 && c <= C_9) return this.bytes();
    if (c === C_L || c === C_D) {
      if (depth >= this.maxDepth) {
        throw new BencodeError(`nesting deeper than ${this.maxDepth}`, this.pos);
      }
      return c === C_L ? this.list(depth) : this.dict(depth);
    }
    throw new BencodeError(`unexpected byte 0x${c.toString(16).padStart(2, "0")}`, this.pos);
  }

  peek(expected: string): number {
    const c = this.data[this.pos];
    if (c === undefined) {
      throw new BencodeError(`unexpected end of input, expected ${expected}`, this.pos);
    }
    return c;
  }

  integer(): number | bigint {
    const start = this.pos;
    this.pos++; // 'i'
    const end = this.data.indexOf(C_E, this.pos);
    if (end < 0) throw new BencodeError("unterminated integer", start);
    const digitsStart = this.data[this.pos] === C_MINUS ? this.pos + 1 : this.pos;
    if (digitsStart === end) throw new BencodeError("empty integer", start);
    for (let i = digitsStart; i < end; i++) {
      const d = this.data[i]!;
      if (d < C_0 || d > C_9) throw new BencodeError("non-digit in integer", i);
    }
    if (this.data[digitsStart] === C_0 && end - digitsStart > 1) {
      throw new BencodeError("integer with a leading zero", start);
    }
    if (digitsStart !== this.pos && this.data[digitsStart] === C_0) {
      throw new BencodeError("negative zero", start);
    }
    const text = toBinary(this.data.subarray(this.pos, end));
    this.pos = end + 1;
    const n = Number(text);
    return Number.isSafeInteger(n) ? n : BigInt(text);
  }

  bytes(): Uint8Array {
    const start = this.pos;
    let len = 0;
    let c = this.peek("a string length");
    while (c !== C_COLON) {
      if (c < C_0 || c > C_9) throw new BencodeError("non-digit in string length", this.pos);
      if (this.pos - start >= MAX_LENGTH_DIGITS) {
        throw new BencodeError("string length too long", start);
      }
      len = len * 10 + (c - C_0);
      this.pos++;
      c = this.peek("':' after a string length");
    }
    this.pos++; // ':'
    // Checked before touching the data: a huge length prefix never allocates anything.
    if (len > this.data.length - this.pos) {
      throw new BencodeError(
        `string length ${len} exceeds the ${this.data.length - this.pos} bytes left`,
        start,
      );
    }
    const out = this.data.subarray(this.pos, this.pos + len);
    this.pos += len;
    this.spans?.set(out, { start, end: this.pos });
    return out;
  }

  list(depth: number): BList {
    const start = this.pos;
    this.pos++; // 'l'
    const out: BList = [];
    while (this.peek("a list item or 'e'") !== C_E) out.push(this.value(depth + 1));
    this.pos++;
    this.spans?.set(out, { start, end: this.pos });
    return out;
  }

  dict(depth: number): BDict {
    const start = this.pos;
    this.pos++; // 'd'
    const out: BDict = new Map();
    for (;;) {
      const c = this.peek("a dictionary key or 'e'");
      if (c === C_E) break;
      const keyAt = this.pos;
      if (c < C_0 || c > C_9) throw new BencodeError("dictionary key is not a byte string", keyAt);
      const key = toBinary(this.bytes());
      // Unsorted keys are accepted (real files have them); duplicates are ambiguous, so not.
      if (out.has(key)) {
        throw new BencodeError(`duplicate dictionary key ${JSON.stringify(key)}`, keyAt);
      }
      out.set(key, this.value(depth + 1));
    }
    this.pos++;
    this.spans?.set(out, { start, end: this.pos });
    return out;
  }
}
