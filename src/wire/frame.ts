import { WireError } from "./errors.ts";
import { decodeMessage, getU32, type Message } from "./messages.ts";

/**
 * Default bound on a frame's length prefix: a piece message carrying a 1 MiB block (9 header
 * bytes + 1 MiB). Real clients send 16 KiB blocks, so this is generous for pieces, and it also
 * admits a bitfield of ~8.4 million pieces, far beyond real torrents. It caps what one peer can
 * make us buffer at about 1 MiB. Torrents with even larger bitfields pass `maxFrame`.
 */
export const DEFAULT_MAX_FRAME = (1 << 20) + 9;

// The reused buffer keeps this much capacity between frames; a larger one (a huge bitfield)
// is dropped after use so one odd message does not pin memory for the connection's life.
const KEPT_CAPACITY = 64 * 1024;

/** Options for {@link FrameParser}. */
export interface FrameParserOptions {
  /** Largest accepted length prefix (id + body bytes). Default {@link DEFAULT_MAX_FRAME}. */
  maxFrame?: number;
  /**
   * Piece blocks are views (of the pushed chunk, or for a frame split across chunks of one of
   * the parser's two buffers), valid only until the next `push`, instead of fresh copies:
   * saves an allocation and a copy per block for a consumer that copies them anyway (into a
   * piece buffer). Default false.
   */
  borrowBlocks?: boolean;
}

/**
 * Splits a TCP byte stream into messages, incrementally. `push` chunks as they arrive, then
 * call `next()` until it returns undefined.
 *
 * Ownership: a pushed chunk is never retained (its caller may reuse it right after `push`),
 * and every byte array in a returned message (piece `block`, `bitfield`, extension
 * `payload`) is a fresh copy that stays valid forever; with `borrowBlocks`, piece blocks are
 * views valid until the next `push` (split frames included). Complete frames are decoded straight
 * from the chunk; only a frame split across chunks goes through the internal buffer.
 *
 * Errors: an oversized length prefix is rejected as soon as its 4 bytes are seen, before any
 * buffer is sized for it; that and a malformed message make `next()` throw a
 * {@link WireError} once the messages before it are consumed. The stream cannot be resynced
 * after that, so later pushes are ignored.
 */
export class FrameParser {
  /** Largest accepted length prefix. */
  readonly maxFrame: number;
  readonly #borrowBlocks: boolean;
  #buf = new Uint8Array(0);
  /** With borrowBlocks: the buffer of the last split frame lent out, reused after next push. */
  #spare = new Uint8Array(0);
  /** Bytes of the partial frame held in #buf (length prefix included). */
  #len = 0;
  #queue: Message[] = [];
  #head = 0;
  #error: WireError | undefined;

  constructor(options: FrameParserOptions = {}) {
    this.maxFrame = options.maxFrame ?? DEFAULT_MAX_FRAME;
    this.#borrowBlocks = options.borrowBlocks ?? false;
  }

  /** Bytes of an incomplete frame waiting for more data. */
  get partialBytes(): number {
    return this.#len;
  }

  /** Feeds the next bytes of the stream. Does not throw; errors surface from `next()`. */
  push(chunk: Uint8Array): void {
    if (this.#error) return;
    let pos = this.#len > 0 ? this.#continuePartial(chunk) : 0;
    // Fast path: whole frames decoded directly from the chunk.
    while (this.#error === undefined && chunk.length - pos >= 4) {
      const frameLength = getU32(chunk, pos);
      if (!this.#checkLength(frameLength)) return;
      if (chunk.length - pos - 4 < frameLength) break;
      this.#emit(chunk.subarray(pos + 4, pos + 4 + frameLength), this.#borrowBlocks);
      pos += 4 + frameLength;
    }
    if (this.#error || pos === chunk.length) return;
    // Keep the tail: at most a length prefix plus part of one frame.
    const rest = chunk.subarray(pos);
    let capacity = 4;
    if (rest.length >= 4) {
      const frameLength = getU32(rest, 0);
      capacity = 4 + frameLength;
    }
    this.#reserve(capacity);
    this.#buf.set(rest, 0);
    this.#len = rest.length;
  }

  /**
   * The next complete message, or undefined when more bytes are needed.
   * @throws {WireError} on an oversized or malformed frame (after earlier messages).
   */
  next(): Message | undefined {
    if (this.#head < this.#queue.length) {
      const m = this.#queue[this.#head]!;
      this.#queue[this.#head++] = undefined as unknown as Message;
      if (this.#head === this.#queue.length) {
        this.#queue.length = 0;
        this.#head = 0;
      }
      return m;
    }
    if (this.#error) throw this.#error;
    return undefined;
  }

  /** Completes the frame held in #buf from the chunk; returns how many chunk bytes it used. */
  #continuePartial(chunk: Uint8Array): number {
    let pos = 0;
    if (this.#len < 4) {
      const take = Math.min(4 - this.#len, chunk.length);
      this.#buf.set(chunk.subarray(0, take), this.#len);
      this.#len += take;
      pos = take;
      if (this.#len < 4) return pos;
      const frameLength = getU32(this.#buf, 0);
      if (!this.#checkLength(frameLength)) return chunk.length;
      this.#reserve(4 + frameLength);
    }
    const need = 4 + getU32(this.#buf, 0);
    const take = Math.min(need - this.#len, chunk.length - pos);
    this.#buf.set(chunk.subarray(pos, pos + take), this.#len);
    this.#len += take;
    pos += take;
    if (this.#len === need) {
      // The chunk's tail is stored within this same push, so a lent block must not share a
      // buffer with it: the tail goes to the spare buffer. Two buffers a connection instead
      // of a 16 KiB copy for every block split across reads (about 1 in 4 with 64 KiB reads).
      const borrow = this.#borrowBlocks && this.#buf.length <= KEPT_CAPACITY;
      this.#emit(this.#buf.subarray(4, need), borrow);
      this.#len = 0;
      if (this.#buf.length > KEPT_CAPACITY) this.#buf = new Uint8Array(0);
      else if (borrow) [this.#buf, this.#spare] = [this.#spare, this.#buf];
    }
    return pos;
  }

  #checkLength(frameLength: number): boolean {
    if (frameLength <= this.maxFrame) return true;
    this.#fail(new WireError(`frame of ${frameLength} bytes exceeds the ${this.maxFrame} limit`));
    return false;
  }

  /** Grows #buf to hold `size` bytes, keeping its first #len bytes. */
  #reserve(size: number) {
    if (this.#buf.length >= size) return;
    // Start at 32 KiB so the common case, 16 KiB blocks split across reads, never regrows.
    const next = new Uint8Array(Math.max(size, 32 * 1024));
    next.set(this.#buf.subarray(0, this.#len));
    this.#buf = next;
  }

  #emit(payload: Uint8Array, borrow: boolean) {
    let m: Message;
    try {
      m = decodeMessage(payload);
    } catch (e) {
      if (e instanceof WireError) return this.#fail(e);
      throw e;
    }
    // decodeMessage returns views; the source (chunk or #buf) is about to be reused.
    switch (m.type) {
      case "piece":
        if (!borrow) m.block = m.block.slice();
        break;
      case "bitfield":
        m.bitfield = m.bitfield.slice();
        break;
      case "extended":
      case "unknown":
        m.payload = m.payload.slice();
        break;
    }
    this.#queue.push(m);
  }

  #fail(error: WireError) {
    this.#error = error;
    this.#len = 0;
    this.#buf = new Uint8Array(0);
    this.#spare = new Uint8Array(0);
  }
}
