/** Outgoing bytes staged for a socket, in chunks that are written one at a time. */
export interface WriteChunk {
  /** The chunk's buffer; bytes `0..length` are to be written. */
  readonly buf: Uint8Array;
  length: number;
  /** Piece-block bytes among them (upload statistics). */
  pieceBytes: number;
}

/**
 * Written chunks' buffers, for the next chunks of any connection. Shared and bounded: a busy
 * connection allocates no buffer per write (a fresh, zeroed one per write cost a seeder ~0.14
 * s per GiB), an idle one holds none, and all spares together stay under `max` buffers.
 */
export class ChunkPool {
  readonly #free: Uint8Array[] = [];
  constructor(readonly chunkSize: number, readonly max: number) {}

  /** Buffers waiting for reuse. */
  get size(): number {
    return this.#free.length;
  }

  take(): Uint8Array {
    return this.#free.pop() ?? new Uint8Array(this.chunkSize);
  }

  give(buf: Uint8Array): void {
    if (buf.length === this.chunkSize && this.#free.length < this.max) this.#free.push(buf);
  }
}

/** Chunk size of the connections' queues: a few 16 KiB blocks per write when seeding. */
export const WRITE_CHUNK = 128 * 1024;
/** The pool every connection shares: 32 spares, 4 MiB, about four busy uploads' worth. */
export const sharedChunks: ChunkPool = new ChunkPool(WRITE_CHUNK, 32);

/**
 * A connection's send queue. Bytes are copied in when queued, into chunks from `pool`, so a
 * caller may reuse its buffer at once (an uploader's read buffer, a frame header) and one
 * write carries many messages. Written chunks go back to the pool through `recycle`.
 */
export class WriteQueue {
  readonly #pool: ChunkPool;
  readonly #chunks: WriteChunk[] = [];
  #size = 0;
  #pieceBytes = 0;

  constructor(pool: ChunkPool = sharedChunks) {
    this.#pool = pool;
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
        last = { buf: this.#pool.take(), length: 0, pieceBytes: 0 };
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

  /** A taken chunk was written: its buffer goes back to the pool. */
  recycle(chunk: WriteChunk): void {
    this.#pool.give(chunk.buf);
  }

  /** Drops everything queued; the buffers go back to the pool. */
  clear(): void {
    for (const c of this.#chunks.splice(0)) this.#pool.give(c.buf);
    this.#size = 0;
    this.#pieceBytes = 0;
  }
}
