import { dirname, join, resolve } from "node:path";
import { FileLayout } from "../../torrent/layout.ts";
import type { Metainfo } from "../../torrent/types.ts";
import { equals } from "../../util/bytes.ts";
import { preallocate } from "../../sys/preallocate.ts";
import { sha1 } from "../../util/sha1.ts";
import { Bitfield } from "../../torrent/bitfield.ts";
import { ReadWindowCache } from "./read_cache.ts";
import { type FileStamp, loadResume, resumePath, saveResume } from "./resume.ts";
import {
  ensureSafePath,
  isStrictlyInside,
  refuseEscapingLink,
  sameStamps,
  StorageError,
  toStorageError,
} from "./fs.ts";

export { StorageError };

export interface StorageOptions {
  /** Upper bound on simultaneously open file handles (LRU-evicted). Default 64. */
  maxOpenFiles?: number;
  /**
   * Create missing folders and files (full length) when writing. Default true; a seeder
   * passes false so that a missing file is an error rather than a hole.
   */
  create?: boolean;
  /**
   * Allocate a short file's blocks when it is first opened for writing (fallocate, Linux with
   * FFI), instead of leaving it sparse. Default true.
   */
  preallocate?: boolean;
}

export interface CheckOptions {
  /** Trust the resume file when every file's size and mtime match it. Default true. */
  useResume?: boolean;
}

/** Called while hashing existing data: bytes checked so far and in total. */
export type CheckProgress = (checkedBytes: number, totalBytes: number) => void;

interface Slot {
  path: string;
  length: number;
  pad: boolean;
  file: Deno.FsFile | undefined;
  writable: boolean;
  /** Operations on one handle run one at a time: Deno has no pwrite, so seek+read/write. */
  tail: Promise<void>;
  busy: number;
  /** Operations started through `#run` and not finished (running or waiting on `tail`). */
  queued: number;
  /** Set once every path component was checked not to escape the output folder. */
  safe: boolean;
}

/**
 * A torrent's files on disk under an output folder: positional block reads, piece writes
 * across file boundaries, SHA-1 verification, and checking what is already there.
 */
export class Storage {
  readonly layout: FileLayout;
  /** The data's root: `<dir>/<name>` (a folder for multi-file torrents, else the file). */
  readonly root: string;
  readonly #meta: Metainfo;
  readonly #dir: string;
  readonly #realDir: string;
  readonly #slots: Slot[];
  readonly #maxOpen: number;
  readonly #create: boolean;
  readonly #preallocate: boolean;
  /** Slots with an open handle, least recently used first (Set keeps insertion order). */
  readonly #lru = new Set<number>();
  #waiters: (() => void)[] = [];
  #opening = 0;
  #peakOpen = 0;
  #closed = false;
  readonly #windows = new ReadWindowCache();

  private constructor(meta: Metainfo, dir: string, realDir: string, opts: StorageOptions) {
    this.#meta = meta;
    this.#dir = dir;
    this.#realDir = realDir;
    this.#maxOpen = Math.max(1, opts.maxOpenFiles ?? 64);
    this.#create = opts.create ?? true;
    this.#preallocate = opts.preallocate ?? true;
    this.layout = new FileLayout(meta);
    this.root = join(dir, meta.name);
    this.#slots = meta.files.map((f) => {
      const path = meta.multiFile ? join(this.root, ...f.path) : this.root;
      // The parser validated components already; this guards against a bug or a hand-made
      // Metainfo: each file must stay strictly inside the torrent's root, the root inside dir.
      const inside = meta.multiFile ? isStrictlyInside(this.root, path) : true;
      if (!inside || !isStrictlyInside(dir, this.root)) {
        throw new StorageError(path, "map", `path escapes the output folder ${dir}`);
      }
      return {
        path,
        length: f.length,
        pad: f.pad,
        file: undefined,
        writable: false,
        tail: Promise.resolve(),
        busy: 0,
        queued: 0,
        safe: false,
      };
    });
  }

  /** Opens (and with `create`, prepares) the storage of `meta` under folder `dir`. */
  static async open(meta: Metainfo, dir: string, opts: StorageOptions = {}): Promise<Storage> {
    const abs = resolve(dir);
    if (opts.create ?? true) {
      await Deno.mkdir(abs, { recursive: true }).catch((e) => {
        throw toStorageError(e, abs, "create folder");
      });
    }
    const realDir = await Deno.realPath(abs).catch((e) => {
      throw toStorageError(e, abs, "open folder");
    });
    const storage = new Storage(meta, abs, realDir, opts);
    if (storage.#create) {
      // Empty files belong to no piece, so no write would ever create them.
      for (const [i, s] of storage.#slots.entries()) {
        if (s.length === 0 && !s.pad) await storage.#run(i, true, () => Promise.resolve());
      }
    }
    return storage;
  }

  /** The metainfo this storage was opened for. */
  get meta(): Metainfo {
    return this.#meta;
  }

  /**
   * Block `begin..begin+length` of piece `index` for an upload, read synchronously through
   * the window cache: a view valid only until the next call on this storage, so send (copy)
   * it at once. Undefined when it cannot be read synchronously now (a file not open yet,
   * another operation on it pending, a block across a window edge): use `readBlock`.
   */
  readBlockNow(index: number, begin: number, length: number): Uint8Array | undefined {
    if (this.#closed) throw new StorageError(this.root, "access", "storage closed");
    const size = this.layout.pieceSize(index);
    return this.#windows.block(index, begin, length, size, (start, out) => {
      return this.#readSync(index, start, out);
    });
  }

  /** Reads `length` bytes at `begin` of piece `index` (a copy). Pad files read as zeros. */
  async readBlock(index: number, begin: number, length: number): Promise<Uint8Array> {
    const now = this.readBlockNow(index, begin, length);
    if (now) return now.slice();
    const out = new Uint8Array(length);
    const ok = await this.#read(index, begin, out);
    if (!ok) throw new StorageError(this.root, "read", `piece ${index} is not on disk`);
    return out;
  }

  /** Writes a whole piece (normally after `verify`), splitting it over the files it spans. */
  async writePiece(index: number, data: Uint8Array): Promise<void> {
    const size = this.layout.pieceSize(index);
    if (data.length !== size) {
      throw new RangeError(`piece ${index} is ${size} bytes, got ${data.length}`);
    }
    this.#windows.forget(index);
    await Promise.all(
      this.layout.ranges(index).filter((r) => !this.#slots[r.fileIndex]!.pad).map((r) =>
        this.#run(r.fileIndex, true, (file, slot) => {
          const part = data.subarray(r.pieceOffset, r.pieceOffset + r.length);
          try {
            // Synchronous: a page-cache write of a piece takes microseconds, while the async
            // ops cost a thread hand-off each and measured ~5x the main-thread time (RESULTS.md).
            file.seekSync(r.fileOffset, Deno.SeekMode.Start);
            for (let done = 0; done < part.length;) done += file.writeSync(part.subarray(done));
          } catch (e) {
            throw toStorageError(e, slot.path, "write");
          }
          return Promise.resolve();
        })
      ),
    );
  }

  /** True when `data` is piece `index` with the right SHA-1 (native hashing). */
  verify(index: number, data: Uint8Array): boolean {
    if (data.length !== this.layout.pieceSize(index)) return false;
    return equals(sha1(data), this.#meta.pieces.subarray(index * 20, index * 20 + 20));
  }

  /**
   * Which pieces are already on disk and correct. Uses the resume file when every file's
   * size and mtime still match it; otherwise hashes every piece whose files are all present
   * and long enough (one reused buffer). Missing or short files mean missing pieces.
   */
  async check(onProgress?: CheckProgress, opts: CheckOptions = {}): Promise<Bitfield> {
    const stamps = await this.#stamps();
    if (opts.useResume ?? true) {
      const path = await this.#resumePath().catch(() => undefined);
      const saved = path === undefined ? undefined : await loadResume(path);
      if (
        saved && equals(saved.infoHash, this.#meta.infoHash) &&
        saved.pieceCount === this.#meta.pieceCount && sameStamps(saved.files, stamps)
      ) {
        onProgress?.(this.#meta.length, this.#meta.length);
        return new Bitfield(this.#meta.pieceCount, saved.bitfield);
      }
    }
    const have = new Bitfield(this.#meta.pieceCount);
    const buffer = new Uint8Array(this.layout.pieceLength);
    let checked = 0;
    for (let i = 0; i < this.layout.pieceCount; i++) {
      const size = this.layout.pieceSize(i);
      const present = this.layout.ranges(i).every((r) => {
        const s = this.#slots[r.fileIndex]!;
        return s.pad || stamps[r.fileIndex]!.size >= r.fileOffset + r.length;
      });
      const piece = buffer.subarray(0, size);
      if (present && (await this.#read(i, 0, piece)) && this.verify(i, piece)) have.set(i);
      checked += size;
      onProgress?.(checked, this.#meta.length);
    }
    return have;
  }

  /**
   * Records `have` with the files' current sizes and mtimes, atomically, after all pending
   * writes finished (so the mtimes cover them). Call it periodically and on exit.
   */
  async saveResume(have: Bitfield): Promise<void> {
    await Promise.all(this.#slots.map((s) => s.tail));
    const path = await this.#resumePath();
    const files = await this.#stamps();
    await saveResume(path, {
      infoHash: this.#meta.infoHash,
      pieceCount: this.#meta.pieceCount,
      bitfield: have.toBytes(),
      files,
    }).catch((e) => {
      throw toStorageError(e, path, "save resume");
    });
  }

  /** Number of file handles open right now (never above maxOpenFiles). */
  get openFiles(): number {
    return this.#lru.size;
  }

  /** The most handles ever open at once (diagnostics; tests assert the bound). */
  get peakOpenFiles(): number {
    return this.#peakOpen;
  }

  /** Waits for pending operations and closes every handle. */
  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all(this.#slots.map((s) => s.tail));
    for (const i of this.#lru) this.#closeSlot(i);
  }

  /**
   * The resume file's path, after checking that its folder (`<dir>/.btx`) is not a planted
   * symlink leading out of the output folder: saving must never write outside it.
   */
  async #resumePath(): Promise<string> {
    const path = resumePath(this.#dir, this.#meta.infoHash);
    const folder = dirname(path);
    const info = await Deno.lstat(folder).catch(() => undefined);
    if (info?.isSymlink) await refuseEscapingLink(folder, this.#realDir);
    return path;
  }

  async #stamps(): Promise<FileStamp[]> {
    const out: FileStamp[] = [];
    for (const s of this.#slots) {
      if (s.pad) {
        out.push({ size: 0, mtimeMs: 0 });
        continue;
      }
      await this.#ensureSafe(s, false);
      try {
        const st = await Deno.stat(s.path);
        out.push({ size: st.isFile ? st.size : -1, mtimeMs: st.mtime?.getTime() ?? 0 });
      } catch (e) {
        if (!(e instanceof Deno.errors.NotFound)) throw toStorageError(e, s.path, "stat");
        out.push({ size: -1, mtimeMs: 0 });
      }
    }
    return out;
  }

  /**
   * Reads into `out` the bytes at `begin` of piece `index`. Returns false when a file is
   * missing or too short; throws other I/O errors.
   */
  async #read(index: number, begin: number, out: Uint8Array): Promise<boolean> {
    const results = await Promise.all(
      this.layout.ranges(index, begin, out.length).map((r) => {
        const part = out.subarray(r.pieceOffset - begin, r.pieceOffset - begin + r.length);
        const slot = this.#slots[r.fileIndex]!;
        if (slot.pad) {
          part.fill(0);
          return true;
        }
        return this.#run(r.fileIndex, false, (file) => {
          // Synchronous for the same reason as writes: blocks come from the page cache.
          file.seekSync(r.fileOffset, Deno.SeekMode.Start);
          for (let done = 0; done < part.length;) {
            const n = file.readSync(part.subarray(done));
            if (n === null) return Promise.resolve(false);
            done += n;
          }
          return Promise.resolve(true);
        }).catch((e) => {
          if (e instanceof StorageError && e.reason === "no such file") return false;
          throw e;
        });
      }),
    );
    return results.every(Boolean);
  }

  /**
   * `#read` done synchronously, when every file it touches has an open handle and no
   * operation pending (so nothing can interleave); undefined otherwise.
   */
  #readSync(index: number, begin: number, out: Uint8Array): boolean | undefined {
    const ranges = this.layout.ranges(index, begin, out.length);
    for (const r of ranges) {
      const slot = this.#slots[r.fileIndex]!;
      if (!slot.pad && (slot.file === undefined || slot.queued > 0)) return undefined;
    }
    for (const r of ranges) {
      const part = out.subarray(r.pieceOffset - begin, r.pieceOffset - begin + r.length);
      const slot = this.#slots[r.fileIndex]!;
      if (slot.pad) {
        part.fill(0);
        continue;
      }
      this.#lru.delete(r.fileIndex);
      this.#lru.add(r.fileIndex);
      try {
        slot.file!.seekSync(r.fileOffset, Deno.SeekMode.Start);
        for (let done = 0; done < part.length;) {
          const n = slot.file!.readSync(part.subarray(done));
          if (n === null) return false;
          done += n;
        }
      } catch (e) {
        throw toStorageError(e, slot.path, "read");
      }
    }
    return true;
  }

  /** Runs `fn` with file `i`'s handle, after earlier operations on that file finished. */
  #run<T>(i: number, write: boolean, fn: (f: Deno.FsFile, s: Slot) => Promise<T>): Promise<T> {
    if (this.#closed) {
      return Promise.reject(new StorageError(this.root, "access", "storage closed"));
    }
    const slot = this.#slots[i]!;
    slot.queued++;
    const result = slot.tail.then(async () => {
      slot.busy++;
      try {
        const file = await this.#acquire(i, write);
        return await fn(file, slot);
      } catch (e) {
        throw toStorageError(e, slot.path, write ? "write" : "read");
      } finally {
        slot.busy--;
        slot.queued--;
        const waiters = this.#waiters;
        this.#waiters = [];
        for (const w of waiters) w();
      }
    });
    slot.tail = result.then(() => {}, () => {});
    return result;
  }

  async #acquire(i: number, write: boolean): Promise<Deno.FsFile> {
    const slot = this.#slots[i]!;
    if (slot.file && (slot.writable || !write)) {
      this.#lru.delete(i);
      this.#lru.add(i);
      return slot.file;
    }
    if (slot.file) this.#closeSlot(i);
    // Handles being opened count against the bound too: opens interleave at every await.
    while (this.#lru.size + this.#opening >= this.#maxOpen) {
      const victim = [...this.#lru].find((j) => this.#slots[j]!.busy === 0);
      if (victim !== undefined) this.#closeSlot(victim);
      else await new Promise<void>((r) => this.#waiters.push(r));
    }
    this.#opening++;
    try {
      const creating = write && this.#create;
      await this.#ensureSafe(slot, creating);
      const file = await Deno.open(slot.path, { read: true, write, create: creating });
      try {
        // A short file is allocated up front where the file system can (cheaper random-order
        // piece writes, one contiguous file), else extended sparsely.
        const info = write ? await file.stat() : undefined;
        if (info && info.size < slot.length) {
          const allocated = this.#preallocate && info.isFile &&
            preallocate(slot.path, slot.length);
          if (!allocated) await file.truncate(slot.length);
        }
      } catch (e) {
        file.close();
        throw e;
      }
      slot.file = file;
      slot.writable = write;
      this.#lru.add(i);
      this.#peakOpen = Math.max(this.#peakOpen, this.#lru.size);
      return file;
    } finally {
      this.#opening--;
    }
  }

  #closeSlot(i: number): void {
    const slot = this.#slots[i]!;
    try {
      slot.file?.close();
    } catch { /* already closed */ }
    slot.file = undefined;
    slot.writable = false;
    this.#lru.delete(i);
  }

  /** See `ensureSafePath`: checked once per file, when the whole path exists or was made. */
  async #ensureSafe(slot: Slot, creating: boolean): Promise<void> {
    if (slot.safe) return;
    slot.safe = await ensureSafePath(this.#dir, this.#realDir, slot.path, creating);
  }
}
