import { join } from "node:path";
import { createHash } from "node:crypto";

/** Deterministic pseudo-random bytes (xorshift), so failures are reproducible. */
export function pseudoRandomBytes(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed | 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/** Writes `files` (relative path → length) under `root`, each with its own seed. */
export async function writeTree(root: string, files: Record<string, number>): Promise<void> {
  let seed = 1;
  for (const [path, length] of Object.entries(files)) {
    const full = join(root, path);
    await Deno.mkdir(join(full, ".."), { recursive: true });
    await Deno.writeFile(full, pseudoRandomBytes(length, seed++ * 7919));
  }
}

export async function sha256File(path: string): Promise<string> {
  return createHash("sha256").update(await Deno.readFile(path)).digest("hex");
}

/** Asserts every file below `a` exists with the same bytes below `b`; returns the count. */
export async function compareTrees(a: string, b: string): Promise<number> {
  let n = 0;
  for await (const e of Deno.readDir(a)) {
    if (e.isDirectory) n += await compareTrees(join(a, e.name), join(b, e.name));
    else if (e.isFile) {
      const [x, y] = [await sha256File(join(a, e.name)), await sha256File(join(b, e.name))];
      if (x !== y) throw new Error(`${join(b, e.name)} differs from ${join(a, e.name)}`);
      n++;
    }
  }
  return n;
}
