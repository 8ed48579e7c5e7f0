import type { Metainfo } from "./types.ts";

/** The request size every real client uses (BEP 3 recommends 2^14; larger is often refused). */
export const BLOCK_SIZE = 16384;

/** One contiguous stretch of a piece that lives in a single file. */
export interface FileRange {
  /** Index into `Metainfo.files`. */
  fileIndex: number;
  /** Byte offset inside that file. */
  fileOffset: number;
  length: number;
  /** Byte offset of this stretch inside the piece (not inside the requested sub-range). */
  pieceOffset: number;
}

/** What the layout needs from a torrent; a full `Metainfo` fits. */
export type LayoutSource = Pick<Metainfo, "files" | "pieceLength" | "length" | "pieceCount">;

/**
 * Maps pieces (and blocks inside them) onto the files of a torrent. The torrent's data is the
 * concatenation of its files in order, cut into `pieceLength` pieces; the last one is short.
 * Pure: no I/O, so storage and scheduler share it and tests need no disk.
 */
export class FileLayout {
  readonly files: LayoutSource["files"];
  readonly pieceLength: number;
  readonly length: number;
  readonly pieceCount: number;
  /** File start offsets, for binary search; zero-length files are kept (they map to nothing). */
  readonly #starts: number[];

  constructor(m: LayoutSource) {
    if (!(m.pieceLength > 0)) throw new RangeError(`piece length ${m.pieceLength} must be > 0`);
    const expected = Math.ceil(m.length / m.pieceLength);
    if (m.pieceCount !== expected) {
      throw new RangeError(`piece count ${m.pieceCount} does not fit length ${m.length}`);
    }
    let offset = 0;
    for (const [i, f] of m.files.entries()) {
      if (f.offset !== offset) throw new RangeError(`file ${i} offset ${f.offset} != ${offset}`);
      offset += f.length;
    }
    if (offset !== m.length) throw new RangeError(`files sum to ${offset}, not ${m.length}`);
    this.files = m.files;
    this.pieceLength = m.pieceLength;
    this.length = m.length;
    this.pieceCount = m.pieceCount;
    this.#starts = m.files.map((f) => f.offset);
  }

  /** Size of piece `index`: `pieceLength` except for a shorter last piece. */
  pieceSize(index: number): number {
    this.#checkPiece(index);
    if (index < this.pieceCount - 1) return this.pieceLength;
    return this.length - index * this.pieceLength;
  }

  /** Number of 16 KiB blocks in piece `index` (the last one may be short). */
  blockCount(index: number): number {
    return Math.ceil(this.pieceSize(index) / BLOCK_SIZE);
  }

  /** Size of block `block` of piece `index`. */
  blockSize(index: number, block: number): number {
    const size = this.pieceSize(index);
    const count = Math.ceil(size / BLOCK_SIZE);
    if (!Number.isInteger(block) || block < 0 || block >= count) {
      throw new RangeError(`block ${block} out of range 0..${count - 1} of piece ${index}`);
    }
    return block < count - 1 ? BLOCK_SIZE : size - block * BLOCK_SIZE;
  }

  /**
   * The file stretches covering `length` bytes at `begin` inside piece `index`, in order.
   * Zero-length files never appear; pad files (BEP 47) do, so callers decide to skip them.
   */
  ranges(index: number, begin = 0, length = this.pieceSize(index)): FileRange[] {
    const size = this.pieceSize(index);
    if (begin < 0 || length < 0 || begin + length > size) {
      throw new RangeError(`range ${begin}+${length} outside piece ${index} of size ${size}`);
    }
    const out: FileRange[] = [];
    if (length === 0) return out;
    const start = index * this.pieceLength + begin;
    const end = start + length;
    let fi = this.#fileAt(start);
    let pos = start;
    while (pos < end) {
      const f = this.files[fi]!;
      const fileEnd = f.offset + f.length;
      if (fileEnd > pos) {
        const n = Math.min(fileEnd, end) - pos;
        out.push({
          fileIndex: fi,
          fileOffset: pos - f.offset,
          length: n,
          pieceOffset: pos - index * this.pieceLength,
        });
        pos += n;
      }
      fi++;
    }
    return out;
  }

  /** First and last piece touching file `fileIndex`, or undefined for an empty file. */
  piecesOfFile(fileIndex: number): { first: number; last: number } | undefined {
    const f = this.files[fileIndex];
    if (!f) throw new RangeError(`file ${fileIndex} out of range`);
    if (f.length === 0) return undefined;
    return {
      first: Math.floor(f.offset / this.pieceLength),
      last: Math.floor((f.offset + f.length - 1) / this.pieceLength),
    };
  }

  /**
   * Index of the last file starting at or before `pos`. Since `pos` < total length, that file
   * is non-empty and holds byte `pos` (empty files share their start with the next file).
   */
  #fileAt(pos: number): number {
    let lo = 0;
    let hi = this.#starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.#starts[mid]! <= pos) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  #checkPiece(index: number): void {
    if (!Number.isInteger(index) || index < 0 || index >= this.pieceCount) {
      throw new RangeError(`piece ${index} out of range 0..${this.pieceCount - 1}`);
    }
  }
}
