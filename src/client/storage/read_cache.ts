/** Uploads read the data in windows of this size (or the piece, when smaller). */
export const READ_WINDOW = 256 * 1024;
const MAX_WINDOWS = 16;
/** Window keys: piece index * 2^16 + window number (pieces up to 16 GiB). */
const KEY_SHIFT = 2 ** 16;

/**
 * Fills `out` with the bytes at `start` of the piece, synchronously. False: not on disk;
 * undefined: it cannot be read synchronously right now (the caller reads asynchronously).
 */
export type WindowReader = (start: number, out: Uint8Array) => boolean | undefined;

/**
 * Recently read piece windows, for serving uploads. Peers ask for a piece's 16 KiB blocks
 * in order, so one read of a 256 KiB window serves 16 requests: 1/16 of the seek+read calls
 * (bench/RESULTS.md). At most 16 windows (4 MiB), whose buffers are reused: a fresh, zeroed
 * 256 KiB buffer per window cost a seeder ~0.1 s of memset and ~0.25 s of GC per GiB served
 * and ~80 MB of RSS. So a returned block is a view that is valid only until the next call:
 * send (copy) it at once.
 */
export class ReadWindowCache {
  /** Least recently used first (Map keeps insertion order). */
  readonly #windows = new Map<number, Uint8Array>();
  /** Buffers of forgotten windows, for the next ones. */
  readonly #free: Uint8Array[] = [];

  /**
   * Block `begin..begin+length` of piece `index` (of `pieceSize` bytes) from its window,
   * reading the window with `read` on a miss. Undefined when the block crosses a window
   * edge or the window cannot be read now: the caller then reads the block itself.
   */
  block(
    index: number,
    begin: number,
    length: number,
    pieceSize: number,
    read: WindowReader,
  ): Uint8Array | undefined {
    const number = Math.floor(begin / READ_WINDOW);
    const start = number * READ_WINDOW;
    const end = Math.min(pieceSize, start + READ_WINDOW);
    if (begin + length > end) return undefined;
    const key = index * KEY_SHIFT + number;
    let window = this.#windows.get(key);
    if (window) this.#windows.delete(key);
    else {
      const buffer = this.#buffer();
      window = buffer.subarray(0, end - start);
      if (read(start, window) !== true) {
        this.#free.push(buffer);
        return undefined;
      }
    }
    this.#windows.set(key, window);
    return window.subarray(begin - start, begin - start + length);
  }

  /** Drops piece `index`'s windows (it is being rewritten). */
  forget(index: number): void {
    for (const [key, window] of this.#windows) {
      if (Math.floor(key / KEY_SHIFT) !== index) continue;
      this.#windows.delete(key);
      this.#free.push(whole(window));
    }
  }

  /** A window buffer: a free one, the least recently used window's, or a new one. */
  #buffer(): Uint8Array {
    const free = this.#free.pop();
    if (free) return free;
    if (this.#windows.size >= MAX_WINDOWS) {
      const [key, oldest] = this.#windows.entries().next().value!;
      this.#windows.delete(key);
      return whole(oldest);
    }
    return new Uint8Array(READ_WINDOW);
  }
}

/** The whole READ_WINDOW buffer under a (possibly shorter) window. */
function whole(window: Uint8Array): Uint8Array {
  return new Uint8Array(window.buffer, window.byteOffset, READ_WINDOW);
}
