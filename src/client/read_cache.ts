/** Uploads read the data in windows of this size (or the piece, when smaller). */
export const READ_WINDOW = 256 * 1024;
const MAX_WINDOWS = 16;
/** Window keys: piece index * 2^16 + window number (pieces up to 16 GiB). */
const KEY_SHIFT = 2 ** 16;

/**
 * Recently read piece windows, for serving uploads. Peers ask for a piece's 16 KiB blocks
 * in order, so one read of a 256 KiB window serves 16 requests: 1/16 of the seek+read
 * calls and allocations (bench/RESULTS.md). Bounded to 16 windows (4 MiB). Returned blocks
 * are views of a window that is never modified, so they stay valid while queued for sending.
 */
export class ReadWindowCache {
  /** Least recently used first (Map keeps insertion order). */
  readonly #windows = new Map<number, Uint8Array>();

  /**
   * Block `begin..begin+length` of piece `index` (of `pieceSize` bytes) from its window,
   * reading the window with `read(start, out)` on a miss. Undefined when the block crosses
   * a window edge or the window cannot be read: the caller then reads the block itself.
   */
  async block(
    index: number,
    begin: number,
    length: number,
    pieceSize: number,
    read: (start: number, out: Uint8Array) => Promise<boolean>,
  ): Promise<Uint8Array | undefined> {
    const number = Math.floor(begin / READ_WINDOW);
    const start = number * READ_WINDOW;
    const end = Math.min(pieceSize, start + READ_WINDOW);
    if (begin + length > end) return undefined;
    const key = index * KEY_SHIFT + number;
    let window = this.#windows.get(key);
    if (window) this.#windows.delete(key);
    else {
      const fresh = new Uint8Array(end - start);
      if (!(await read(start, fresh))) return undefined;
      window = fresh;
      if (this.#windows.size >= MAX_WINDOWS) {
        this.#windows.delete(this.#windows.keys().next().value!);
      }
    }
    this.#windows.set(key, window);
    return window.subarray(begin - start, begin - start + length);
  }

  /** Drops piece `index`'s windows (it is being rewritten). */
  forget(index: number): void {
    for (const key of this.#windows.keys()) {
      if (Math.floor(key / KEY_SHIFT) === index) this.#windows.delete(key);
    }
  }
}
