import { dirname, join } from "node:path";
import { decode, encode, isBytes, isDict, isInt, isList } from "../../bencode/mod.ts";
import type { BValue } from "../../bencode/mod.ts";
import { toHex } from "../../util/bytes.ts";

/**
 * The resume file: which pieces were verified, and each file's size and mtime when that was
 * true. On start, if every file still has the recorded size and mtime, the bitfield is trusted
 * and nothing is re-hashed; any difference means someone touched the data, so re-hash it all.
 */
export interface ResumeData {
  infoHash: Uint8Array;
  pieceCount: number;
  /** Verified pieces, wire order (see Bitfield.toBytes). */
  bitfield: Uint8Array;
  /** One entry per torrent file, in order. */
  files: FileStamp[];
}

/** A file's size and modification time in ms; size -1 means the file did not exist. */
export interface FileStamp {
  size: number;
  mtimeMs: number;
}

const VERSION = 1;

/** Where the resume file of a torrent lives: `<dir>/.btx/<infohash hex>.resume`. */
export function resumePath(dir: string, infoHash: Uint8Array): string {
  return join(dir, ".btx", `${toHex(infoHash)}.resume`);
}

/** Bencodes resume data (pure). */
export function encodeResume(data: ResumeData): Uint8Array {
  return encode({
    version: VERSION,
    "info-hash": data.infoHash,
    pieces: data.pieceCount,
    bitfield: data.bitfield,
    files: data.files.map((f) => [f.size, Math.round(f.mtimeMs)]),
  });
}

/** Decodes resume data; anything malformed gives undefined (the caller then re-hashes). */
export function decodeResume(bytes: Uint8Array): ResumeData | undefined {
  let root: BValue;
  try {
    root = decode(bytes);
  } catch {
    return undefined;
  }
  if (!isDict(root) || root.get("version") !== VERSION) return undefined;
  const infoHash = root.get("info-hash");
  const pieces = root.get("pieces");
  const bitfield = root.get("bitfield");
  const files = root.get("files");
  if (!isBytes(infoHash) || typeof pieces !== "number" || !isBytes(bitfield) || !isList(files)) {
    return undefined;
  }
  if (bitfield.length !== Math.ceil(pieces / 8)) return undefined;
  const stamps: FileStamp[] = [];
  for (const f of files) {
    if (!isList(f) || f.length !== 2) return undefined;
    const [size, mtime] = f;
    if (!isInt(size) || !isInt(mtime)) return undefined;
    stamps.push({ size: Number(size), mtimeMs: Number(mtime) });
  }
  return {
    infoHash: infoHash.slice(),
    pieceCount: pieces,
    bitfield: bitfield.slice(),
    files: stamps,
  };
}

/** Reads a resume file; a missing or unreadable file gives undefined. */
export async function loadResume(path: string): Promise<ResumeData | undefined> {
  try {
    return decodeResume(await Deno.readFile(path));
  } catch {
    return undefined;
  }
}

/**
 * Writes a resume file atomically (temp file in the same folder, then rename), so a crash
 * mid-write leaves the previous file or none, never a torn one.
 */
export async function saveResume(path: string, data: ResumeData): Promise<void> {
  await Deno.mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.${crypto.randomUUID()}.tmp`;
  try {
    await Deno.writeFile(tmp, encodeResume(data));
    await Deno.rename(tmp, path);
  } catch (e) {
    // The write's error is the one to report; a temp file we could not remove is harmless.
    await Deno.remove(tmp).catch(() => {});
    throw e;
  }
}
