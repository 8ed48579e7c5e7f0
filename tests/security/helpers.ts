import { join } from "node:path";
import { type Encodable, encode } from "../../src/bencode/mod.ts";
import { concat } from "../../src/util/bytes.ts";
import { sha1 } from "../../src/util/sha1.ts";
import { pseudoRandomBytes } from "../helpers/data.ts";

/** A file of a hand-built torrent: its path below the torrent folder and its bytes. */
export interface HandFile {
  path: (string | Uint8Array)[];
  data: Uint8Array;
}

/**
 * Bencodes a torrent by hand (no validation, so hostile names get through to the parser),
 * with correct piece hashes over the files' data.
 */
export function handTorrent(
  name: string | Uint8Array,
  files: HandFile[] | Uint8Array,
  pieceLength = 16384,
  extra: Record<string, Encodable> = {},
): Uint8Array {
  const all = files instanceof Uint8Array ? files : concat(files.map((f) => f.data));
  const hashes: Uint8Array[] = [];
  for (let i = 0; i < all.length; i += pieceLength) {
    hashes.push(sha1(all.subarray(i, i + pieceLength)));
  }
  const info: Record<string, Encodable> = {
    name,
    "piece length": pieceLength,
    pieces: concat(hashes),
  };
  if (files instanceof Uint8Array) info.length = files.length;
  else info.files = files.map((f) => ({ length: f.data.length, path: f.path }));
  return encode({ ...extra, info });
}

/** Deterministic content of `n` bytes. */
export const content = (n: number, seed: number) => pseudoRandomBytes(n, seed);

/** Every path below `root` (files, folders, symlinks) with its size, for before/after checks. */
export async function snapshot(root: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  async function walk(dir: string) {
    for await (const e of Deno.readDir(dir)) {
      const full = join(dir, e.name);
      const st = await Deno.lstat(full);
      const mtime = st.mtime?.getTime() ?? 0;
      out.set(
        full,
        `${st.isSymlink ? "link" : st.isDirectory ? "dir" : "file"} ${st.size} ${mtime}`,
      );
      if (e.isDirectory && !e.isSymlink) await walk(full);
    }
  }
  await walk(root);
  return out;
}

export { btx, recordingIo } from "../helpers/cli.ts";

/** A temp folder removed afterwards, whatever the test did to permissions inside it. */
export async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "btx-sec-" });
  try {
    await fn(dir);
  } finally {
    await new Deno.Command("chmod", { args: ["-R", "u+rwx", dir] }).output().catch(() => {});
    await Deno.remove(dir, { recursive: true });
  }
}
