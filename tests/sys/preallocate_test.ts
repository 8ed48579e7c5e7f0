import assert from "node:assert/strict";
import { join } from "node:path";
import { canPreallocate, preallocate } from "../../src/sys/preallocate.ts";

// The suite runs with --allow-all: on Linux with glibc the FFI path is the one tested.
const ignore = !canPreallocate();

async function inTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir();
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test({
  name: "preallocate: a new empty file gets its length and its blocks, all zeros",
  ignore,
  fn: () =>
    inTempDir(async (dir) => {
      const path = join(dir, "f.bin");
      await Deno.writeFile(path, new Uint8Array());
      assert.equal(preallocate(path, 1 << 20), true);
      const info = await Deno.stat(path);
      assert.equal(info.size, 1 << 20);
      assert.ok(info.blocks! * 512 >= 1 << 20, `${info.blocks} blocks`);
      assert.ok((await Deno.readFile(path)).every((b) => b === 0));
    }),
});

Deno.test({
  name: "preallocate: existing data is kept and a longer file is never shrunk",
  ignore,
  fn: () =>
    inTempDir(async (dir) => {
      const path = join(dir, "f.bin");
      const data = Uint8Array.from({ length: 10_000 }, (_, i) => i % 251);
      await Deno.writeFile(path, data);
      assert.equal(preallocate(path, 4096), true);
      assert.deepEqual(await Deno.readFile(path), data);
      assert.equal(preallocate(path, 20_000), true);
      const grown = await Deno.readFile(path);
      assert.equal(grown.length, 20_000);
      assert.deepEqual(grown.subarray(0, 10_000), data);
      assert.ok(grown.subarray(10_000).every((b) => b === 0));
    }),
});

Deno.test({
  name: "preallocate: refuses a symlink, a missing file and a zero length, touching nothing",
  ignore,
  fn: () =>
    inTempDir(async (dir) => {
      const target = join(dir, "target.bin");
      await Deno.writeFile(target, new Uint8Array([1, 2, 3]));
      const link = join(dir, "link.bin");
      await Deno.symlink(target, link);
      assert.equal(preallocate(link, 1 << 20), false);
      assert.deepEqual(await Deno.readFile(target), new Uint8Array([1, 2, 3]));
      assert.equal(preallocate(join(dir, "missing.bin"), 4096), false);
      assert.equal(preallocate(target, 0), false);
      assert.equal(preallocate(target + "\0x", 4096), false);
    }),
});

Deno.test({
  name: "preallocate: a FIFO at the path neither blocks nor counts as allocated",
  ignore,
  fn: () =>
    inTempDir(async (dir) => {
      const fifo = join(dir, "fifo");
      const made = await new Deno.Command("mkfifo", { args: [fifo] }).output();
      if (!made.success) return; // no mkfifo here: nothing to check
      assert.equal(preallocate(fifo, 4096), false);
    }),
});
