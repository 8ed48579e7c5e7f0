/**
 * The torrent shapes every interop case is run over: single- and multi-file, piece lengths of
 * 16 KiB, 256 KiB and 4 MiB, totals that are not a multiple of the piece length, and an empty
 * file (plus a nested folder and a name with a space) inside a multi-file torrent.
 * @module
 */
import { join } from "node:path";
import { writeTree } from "../helpers/data.ts";

export interface Shape {
  /** Used in test names. */
  label: string;
  /** The file or folder name the torrent is made from (its `name`). */
  name: string;
  pieceLength: number;
  /** Relative path (below `name` for a folder) → length. A single file has the key "". */
  files: Record<string, number>;
}

const KiB = 1024;
const MiB = 1024 * KiB;

export const SINGLE_16K: Shape = {
  label: "single file, 16 KiB pieces",
  name: "one.bin",
  pieceLength: 16 * KiB,
  files: { "": MiB + 1000 },
};

export const MULTI_256K: Shape = {
  label: "multi-file with an empty file, 256 KiB pieces",
  name: "pack",
  pieceLength: 256 * KiB,
  files: {
    "a.bin": 300_001,
    "empty.txt": 0,
    "sub/b.bin": MiB + 7,
    "sub/c d.txt": 65_537,
  },
};

export const SINGLE_4M: Shape = {
  label: "single file, 4 MiB pieces",
  name: "big.bin",
  pieceLength: 4 * MiB,
  files: { "": 2 * 4 * MiB + 12_345 },
};

export const MULTI_4M: Shape = {
  label: "multi-file with an empty file, 4 MiB pieces",
  name: "album",
  pieceLength: 4 * MiB,
  files: {
    "01.flac": 3 * MiB + 333,
    "cover/empty": 0,
    "02.flac": 2 * MiB + 4097,
  },
};

export const SHAPES: Shape[] = [SINGLE_16K, MULTI_256K, SINGLE_4M];

export function totalLength(shape: Shape): number {
  return Object.values(shape.files).reduce((a, b) => a + b, 0);
}

/**
 * Writes the shape's content under `parent` (deterministic bytes) and returns the path of the
 * file or folder to make a torrent of.
 */
export async function writeShape(parent: string, shape: Shape): Promise<string> {
  const root = join(parent, shape.name);
  if ("" in shape.files) {
    await writeTree(parent, { [shape.name]: shape.files[""]! });
  } else {
    await writeTree(root, shape.files);
  }
  return root;
}
