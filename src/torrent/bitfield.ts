import { BtxError } from "../util/errors.ts";

/** A peer sent a bitfield that breaks BEP 3 (wrong length or spare bits set): drop the peer. */
export class BitfieldError extends BtxError {
  override name = "BitfieldError";
  constructor(readonly reason: string) {
    super(`invalid bitfield: ${reason}`);
  }
}

/**
 * One bit per piece, in BEP 3 wire order: piece 0 is the high bit of byte 0. Keeps its count
 * up to date so `count`/`isComplete` are O(1) (the scheduler asks on every pick).
 */
export class Bitfield {
  readonly size: number;
  readonly #bytes: Uint8Array;
  #count = 0;

  /** `bytes`, when given, is copied; spare bits in it are ignored (cleared). */
  constructor(size: number, bytes?: Uint8Array) {
    if (!Number.isInteger(size) || size < 0) throw new RangeError(`bitfield size ${size}`);
    this.size = size;
    this.#bytes = new Uint8Array(Math.ceil(size / 8));
    if (bytes) {
      this.#bytes.set(bytes.subarray(0, this.#bytes.length));
      const spare = this.#bytes.length * 8 - size;
      if (spare > 0) this.#bytes[this.#bytes.length - 1]! &= (0xff << spare) & 0xff;
      for (const b of this.#bytes) this.#count += popcount(b);
    }
  }

  /**
   * Parses a peer's `bitfield` message payload for a torrent of `size` pieces. BEP 3: the
   * length must be exactly ceil(size / 8) and the spare bits at the end must be zero.
   */
  static fromWire(bytes: Uint8Array, size: number): Bitfield {
    const want = Math.ceil(size / 8);
    if (bytes.length !== want) {
      throw new BitfieldError(`${bytes.length} bytes, expected ${want} for ${size} pieces`);
    }
    const spare = want * 8 - size;
    if (spare > 0 && (bytes[want - 1]! & ((1 << spare) - 1)) !== 0) {
      throw new BitfieldError("spare bits after the last piece are set");
    }
    return new Bitfield(size, bytes);
  }

  /** A bitfield with every piece set (a seed, or BEP 6 have-all). */
  static full(size: number): Bitfield {
    const b = new Bitfield(size);
    b.setAll();
    return b;
  }

  has(index: number): boolean {
    if (index < 0 || index >= this.size) return false;
    return (this.#bytes[index >> 3]! & (0x80 >> (index & 7))) !== 0;
  }

  /** Sets bit `index`; returns true when it was not set before. */
  set(index: number): boolean {
    this.#check(index);
    const mask = 0x80 >> (index & 7);
    const i = index >> 3;
    if (this.#bytes[i]! & mask) return false;
    this.#bytes[i]! |= mask;
    this.#count++;
    return true;
  }

  /** Clears bit `index`; returns true when it was set before. */
  unset(index: number): boolean {
    this.#check(index);
    const mask = 0x80 >> (index & 7);
    const i = index >> 3;
    if (!(this.#bytes[i]! & mask)) return false;
    this.#bytes[i]! &= ~mask;
    this.#count--;
    return true;
  }

  setAll(): void {
    for (let i = 0; i < this.size; i++) this.set(i);
  }

  count(): number {
    return this.#count;
  }

  isComplete(): boolean {
    return this.#count === this.size;
  }

  /** The wire encoding (a copy), spare bits zero. */
  toBytes(): Uint8Array {
    return this.#bytes.slice();
  }

  clone(): Bitfield {
    return new Bitfield(this.size, this.#bytes);
  }

  /** Indexes of set bits, ascending. */
  *indexes(): IterableIterator<number> {
    for (let i = 0; i < this.size; i++) if (this.has(i)) yield i;
  }

  #check(index: number): void {
    if (!Number.isInteger(index) || index < 0 || index >= this.size) {
      throw new RangeError(`piece ${index} out of range 0..${this.size - 1}`);
    }
  }
}

function popcount(b: number): number {
  let n = 0;
  for (; b; b &= b - 1) n++;
  return n;
}
