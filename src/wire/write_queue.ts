/** Spare buffers kept at most: a few more than a sender's high-water mark (1 MiB) holds. */
const MAX_SPARE = 12;

/** Outgoing bytes staged for a socket, in chunks that are written one at a time. */
export interface WriteChunk {
  /** The chunk's buffer; bytes `0..length` are to be written. */
  readonly buf: Uint8Array;
  length: number;
  /** Piece-block bytes among them (upload statistics). */
  pieceBytes: number;
}

/**
 * A connection's send queue. Bytes are copied in when queued, into chunks of `chunkSize`, so
 * a caller may reuse its buffer at once (an uploader's read buffer, a frame header) and one
 * write carries many messages. Written chunks come back through `recycle`, so a busy
 * connection allocates no buffer per write.
 */
export class WriteQueue {
  readonly chunkSize: number;
  readonly #chunks: WriteChunk[] = [];
  /** Buffers of written chunks, for the next ones (see `trim`). */
  readonly #spare: Uint8Array[] = [];
  #size = 0;
  #pieceBytes = 0;

  constructor(chunkSize: number) {
    this.chunkSize = Math.max(1, chunkSize);
  }

  /** Bytes queued (not including a chunk taken for writing). */
  get size(): number {
    return this.#size;
  }

  /** Piece-block bytes queued. */
  get pieceBytes(): number {
    return this.#pieceBytes;
  }

  /** Copies `bytes` in; `block` marks them as piece-block payload (for the statistics). */
  push(bytes: Uint8Array, block = false): void {
    let at = 0;
    while (at < bytes.length) {
      let last = this.#chunks.at(-1);
      if (!last || last.length === last.buf.length) {
        last = { buf: this.#newBuffer(), length: 0, pieceBytes: 0 };
        this.#chunks.push(last);
      }
      const n = Math.min(bytes.length - at, last.buf.length - last.length);
      last.buf.set(n === bytes.length ? bytes : bytes.subarray(at, at + n), last.length);
      last.length += n;
      // A block split over two chunks counts in each for the part it put there.
      if (block) last.pieceBytes += n;
      at += n;
    }
    this.#size += bytes.length;
    if (block) this.#pieceBytes += bytes.length;
  }

  /** The oldest chunk, removed from the queue (later pushes start a new one); or undefined. */
  take(): WriteChunk | undefined {
    const chunk = this.#chunks.shift();
    if (chunk) {
      this.#size -= chunk.length;
      this.#pieceBytes -= chunk.pieceBytes;
    }
    return chunk;
  }

  /** A taken chunk was written: its buffer may be reused. */
  recycle(chunk: WriteChunk): void {
    if (chunk.buf.length === this.chunkSize && this.#spare.length < MAX_SPARE) {
      this.#spare.push(chunk.buf);
    }
  }

  /**
   * Keeps at most `keep` spare buffers. Call it when the queue runs empty: a busy connection
   * reuses its buffers (a fresh, zeroed one per write cost a seeder ~0.14 s per GiB), an
   * idle one does not hold them.
   */
  trim(keep: number): void {
    if (this.#spare.length > keep) this.#spare.length = keep;
  }

  /** Drops everything queued. */
  clear(): void {
    this.#chunks.length = 0;
    this.#size = 0;
    this.#pieceBytes = 0;
    this.#spare.length = 0;
  }

  #newBuffer(): Uint8Array {
    return this.#spare.pop() ?? new Uint8Array(this.chunkSize);
  }
}
