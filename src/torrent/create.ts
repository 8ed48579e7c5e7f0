import { createHash } from "node:crypto";
import { basename, join, resolve } from "node:path";
import { VERSION } from "../util/version.ts";
import { type Encodable, encode } from "../bencode/mod.ts";
import { utf8Bytes } from "../util/bytes.ts";
import { BtxError } from "../util/errors.ts";
import { CreateTorrentError, MetainfoError } from "./errors.ts";
import { checkComponent, parseMetainfo } from "./metainfo.ts";
import type { Metainfo } from "./types.ts";

/** Options of {@link createTorrent}. Every field is optional. */
export interface CreateTorrentOptions {
  /** Bytes per piece, a power of two from 16 KiB to 256 MiB. Default: {@link autoPieceLength}. */
  pieceLength?: number;
  /** The first is `announce`; with more than one, each also gets its own `announce-list` tier. */
  trackers?: readonly string[];
  /** BEP 27: peers come only from the trackers. */
  private?: boolean;
  comment?: string;
  /** BEP 19 `url-list`. */
  webSeeds?: readonly string[];
  /** The torrent's name; defaults to the file or folder's own name. */
  name?: string;
  /** Defaults to `btx/<version>`. */
  createdBy?: string;
  /** Seconds since the epoch; defaults to now. `false` leaves the field out. */
  creationDate?: number | false;
  /** Called after every read with the bytes hashed so far. */
  onProgress?: (hashedBytes: number, totalBytes: number) => void;
  /** Aborts hashing between reads. */
  signal?: AbortSignal;
}

/** The result of {@link createTorrent}. */
export interface CreatedTorrent {
  /** The encoded .torrent file. */
  torrent: Uint8Array;
  metainfo: Metainfo;
  /** Paths (relative to the folder) left out because they are symlinks or not regular files. */
  skipped: string[];
}

/** One file to put in a torrent, in torrent order. */
export interface SourceFile {
  /** Path below the root folder (for a single-file torrent: just its name). */
  path: string[];
  /** Where to read it from. */
  location: string;
  length: number;
}

export const MIN_AUTO_PIECE_LENGTH = 16 * 1024;
export const MAX_AUTO_PIECE_LENGTH = 16 * 1024 * 1024;
const MAX_PIECE_LENGTH = 256 * 1024 * 1024;
/** Read size while hashing. Two such buffers exist at once: memory stays bounded at any size. */
const READ_SIZE = 4 * 1024 * 1024;

/**
 * Picks the smallest power-of-two piece length giving at most 2,000 pieces, clamped to
 * 16 KiB..16 MiB: between 1,000 and 2,000 pieces unless the clamp bites.
 */
export function autoPieceLength(totalLength: number): number {
  let p = MIN_AUTO_PIECE_LENGTH;
  while (p < MAX_AUTO_PIECE_LENGTH && totalLength / p > 2000) p *= 2;
  return p;
}

/**
 * Creates a .torrent from a file or a folder (BEP 3). Files inside a folder are ordered by
 * their '/'-joined relative path compared as UTF-8 bytes, which is what mktorrent 1.1 does, so
 * both produce the same info hash for the same tree and piece length. (libtorrent orders
 * component by component; the two differ only when a name holds a byte below '/', such as
 * "a b" or "a-b" next to a folder "a".) Empty folders are left out. Symlinks inside the
 * folder are skipped and reported in `skipped` (mktorrent follows them; following links
 * could leave the folder or loop); a symlink given as `path` itself is followed.
 * @throws {CreateTorrentError} for nothing to share or a bad option.
 * @throws {BtxError} when a file shrinks while it is hashed.
 */
export async function createTorrent(
  path: string,
  opts: CreateTorrentOptions = {},
): Promise<CreatedTorrent> {
  const { files, multiFile, skipped } = await listSourceFiles(path);
  const total = files.reduce((sum, f) => sum + f.length, 0);
  if (total === 0) throw new CreateTorrentError(path, "it holds no data (only empty files)");
  const pieceLength = opts.pieceLength ?? autoPieceLength(total);
  if (
    !Number.isSafeInteger(pieceLength) || pieceLength < MIN_AUTO_PIECE_LENGTH ||
    pieceLength > MAX_PIECE_LENGTH || (pieceLength & (pieceLength - 1)) !== 0
  ) {
    throw new CreateTorrentError(
      path,
      `piece length ${pieceLength} is not a power of two from 16 KiB to 256 MiB`,
    );
  }
  const name = opts.name ?? basename(resolve(path));
  try {
    checkComponent(utf8Bytes(name), "name");
  } catch (e) {
    if (e instanceof MetainfoError) throw new CreateTorrentError(path, `bad name: ${e.reason}`);
    throw e;
  }
  if (!multiFile) files[0]!.path = [name];

  const pieces = await hashFiles(files, total, pieceLength, opts);
  const info = buildInfoDict({
    name,
    pieceLength,
    pieces,
    files,
    multiFile,
    private: opts.private ?? false,
  });
  const torrent = encode(buildTorrentDict(info, opts));
  return { torrent, metainfo: parseMetainfo(torrent), skipped };
}

/** Input of {@link buildInfoDict}. */
export interface InfoDictInput {
  name: string;
  pieceLength: number;
  pieces: Uint8Array;
  files: readonly { path: readonly string[]; length: number }[];
  multiFile: boolean;
  private: boolean;
}

/**
 * The BEP 3 info dictionary, with exactly the keys mktorrent writes (`private` only when set),
 * so equal input gives an equal info hash.
 */
export function buildInfoDict(input: InfoDictInput): Encodable {
  const info: Record<string, Encodable | undefined> = {
    name: input.name,
    "piece length": input.pieceLength,
    pieces: input.pieces,
    private: input.private ? 1 : undefined,
  };
  if (input.multiFile) {
    info.files = input.files.map((f) => ({ length: f.length, path: [...f.path] }));
  } else {
    info.length = input.files[0]?.length ?? 0;
  }
  return info;
}

function buildTorrentDict(info: Encodable, opts: CreateTorrentOptions): Encodable {
  const trackers = opts.trackers ?? [];
  const webSeeds = opts.webSeeds ?? [];
  const date = opts.creationDate ?? Math.floor(Date.now() / 1000);
  return {
    announce: trackers[0],
    "announce-list": trackers.length > 1 ? trackers.map((t) => [t]) : undefined,
    comment: opts.comment,
    "created by": opts.createdBy ?? `btx/${VERSION}`,
    "creation date": date === false ? undefined : date,
    info,
    "url-list": webSeeds.length > 0 ? [...webSeeds] : undefined,
  };
}

/**
 * Lists what a torrent of `path` would hold, in torrent order (see {@link createTorrent}).
 * @throws {CreateTorrentError} when the folder has no files or a name is unusable.
 */
export async function listSourceFiles(
  path: string,
): Promise<{ files: SourceFile[]; multiFile: boolean; skipped: string[] }> {
  const stat = await Deno.stat(path);
  if (stat.isFile) {
    return {
      files: [{ path: [basename(path)], location: path, length: stat.size }],
      multiFile: false,
      skipped: [],
    };
  }
  if (!stat.isDirectory) throw new CreateTorrentError(path, "not a file or a folder");
  const files: SourceFile[] = [];
  const skipped: string[] = [];
  await walk(path, [], files, skipped);
  if (files.length === 0) throw new CreateTorrentError(path, "the folder has no files");
  const keyed = files.map((f) => ({ f, key: utf8Bytes(f.path.join("/")) }));
  keyed.sort((a, b) => compareBytes(a.key, b.key));
  return { files: keyed.map((k) => k.f), multiFile: true, skipped };
}

async function walk(dir: string, rel: string[], files: SourceFile[], skipped: string[]) {
  for await (const entry of Deno.readDir(dir)) {
    const path = [...rel, entry.name];
    const location = join(dir, entry.name);
    if (entry.isSymlink || !(entry.isFile || entry.isDirectory)) {
      skipped.push(path.join("/"));
      continue;
    }
    try {
      checkComponent(utf8Bytes(entry.name), "path");
    } catch (e) {
      if (e instanceof MetainfoError) throw new CreateTorrentError(location, e.reason);
      throw e;
    }
    if (entry.isDirectory) await walk(location, path, files, skipped);
    else files.push({ path, location, length: (await Deno.stat(location)).size });
  }
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

/**
 * SHA-1 of every piece over the files' concatenation. Double-buffered: the next read runs
 * while the current buffer is hashed, so disk and CPU overlap.
 */
async function hashFiles(
  files: readonly SourceFile[],
  total: number,
  pieceLength: number,
  opts: CreateTorrentOptions,
): Promise<Uint8Array> {
  const pieces = new Uint8Array(Math.ceil(total / pieceLength) * 20);
  let hasher = createHash("sha1");
  let inPiece = 0;
  let pieceIndex = 0;
  let hashed = 0;
  const consume = (chunk: Uint8Array) => {
    let off = 0;
    while (off < chunk.length) {
      const n = Math.min(pieceLength - inPiece, chunk.length - off);
      hasher.update(chunk.subarray(off, off + n));
      inPiece += n;
      off += n;
      if (inPiece === pieceLength) {
        pieces.set(hasher.digest(), pieceIndex++ * 20);
        hasher = createHash("sha1");
        inPiece = 0;
      }
    }
  };
  const buffers = [new Uint8Array(READ_SIZE), new Uint8Array(READ_SIZE)] as const;
  for (const file of files) {
    if (file.length === 0) continue;
    using handle = await Deno.open(file.location, { read: true });
    let remaining = file.length;
    let which = 0;
    let pending: Promise<number> | undefined = readFull(
      handle,
      buffers[0].subarray(0, Math.min(READ_SIZE, remaining)),
    );
    try {
      while (pending) {
        const n = await pending;
        pending = undefined;
        const current = buffers[which]!;
        const expected = Math.min(READ_SIZE, remaining);
        if (n < expected) {
          throw new BtxError(`${file.location} shrank while it was being hashed`);
        }
        remaining -= n;
        if (opts.signal?.aborted) throw new BtxError(`hashing of ${file.location} interrupted`);
        which ^= 1;
        if (remaining > 0) {
          pending = readFull(handle, buffers[which]!.subarray(0, Math.min(READ_SIZE, remaining)));
        }
        consume(current.subarray(0, n));
        hashed += n;
        opts.onProgress?.(hashed, total);
      }
    } finally {
      // Never close the file under a read still in flight.
      await pending?.catch(() => {});
    }
  }
  if (inPiece > 0) pieces.set(hasher.digest(), pieceIndex * 20);
  return pieces;
}

async function readFull(file: Deno.FsFile, into: Uint8Array): Promise<number> {
  let got = 0;
  while (got < into.length) {
    const n = await file.read(into.subarray(got));
    if (n === null) break;
    got += n;
  }
  return got;
}
