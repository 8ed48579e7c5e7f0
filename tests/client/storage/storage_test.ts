import assert from "node:assert/strict";
import { join } from "node:path";
import { Storage, StorageError } from "../../../src/client/storage/storage.ts";
import { decodeResume, encodeResume, resumePath } from "../../../src/client/storage/resume.ts";
import type { Metainfo, TorrentFile } from "../../../src/torrent/types.ts";
import { concat } from "../../../src/util/bytes.ts";
import { canPreallocate } from "../../../src/sys/preallocate.ts";
import { sha1 } from "../../../src/util/sha1.ts";

/** A Metainfo for `files` (pad files are zeros) whose piece hashes match `data`. */
function makeTorrent(
  specs: { path: string[]; length: number; pad?: boolean }[],
  pieceLength: number,
  opts: { multiFile?: boolean; name?: string; seed?: number } = {},
): { meta: Metainfo; data: Uint8Array } {
  let offset = 0;
  const files: TorrentFile[] = specs.map((s) => {
    const f = { path: s.path, length: s.length, offset, pad: s.pad ?? false };
    offset += s.length;
    return f;
  });
  const data = new Uint8Array(offset);
  let x = opts.seed ?? 7;
  for (const f of files) {
    if (f.pad) continue;
    for (let i = f.offset; i < f.offset + f.length; i++) data[i] = x = (x * 31 + 17) & 0xff;
  }
  const pieceCount = Math.ceil(offset / pieceLength);
  const hashes = [];
  for (let i = 0; i < pieceCount; i++) {
    hashes.push(sha1(data.subarray(i * pieceLength, Math.min(offset, (i + 1) * pieceLength))));
  }
  const infoHash = sha1(new Uint8Array([pieceLength & 0xff, offset & 0xff, x]));
  const meta: Metainfo = {
    infoHash,
    infoHashHex: "",
    infoBytes: new Uint8Array(),
    name: opts.name ?? "data",
    pieceLength,
    pieceCount,
    pieces: concat(hashes),
    length: offset,
    files,
    multiFile: opts.multiFile ?? true,
    private: false,
    announceList: [],
    urlList: [],
    raw: new Map(),
  };
  return { meta, data };
}

function pieceOf(meta: Metainfo, data: Uint8Array, i: number): Uint8Array {
  return data.slice(i * meta.pieceLength, Math.min(meta.length, (i + 1) * meta.pieceLength));
}

async function writeAll(s: Storage, meta: Metainfo, data: Uint8Array, skip: number[] = []) {
  for (let i = 0; i < meta.pieceCount; i++) {
    if (!skip.includes(i)) await s.writePiece(i, pieceOf(meta, data, i));
  }
}

Deno.test("storage: concurrent writes over many files keep the open-file bound", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const specs = Array.from({ length: 30 }, (_, i) => ({ path: [`f${i}`], length: 97 + i }));
    const { meta, data } = makeTorrent(specs, 256);
    const s = await Storage.open(meta, dir, { maxOpenFiles: 3 });
    await Promise.all(
      Array.from({ length: meta.pieceCount }, (_, i) => s.writePiece(i, pieceOf(meta, data, i))),
    );
    const blocks = await Promise.all(
      Array.from({ length: meta.pieceCount }, (_, i) => s.readBlock(i, 0, s.layout.pieceSize(i))),
    );
    assert.deepEqual(concat(blocks), data);
    assert.equal((await s.check(undefined, { useResume: false })).isComplete(), true);
    assert.ok(s.peakOpenFiles <= 3 && s.peakOpenFiles >= 1, `peak ${s.peakOpenFiles}`);
    await s.close();
    assert.equal(s.openFiles, 0);
    await assert.rejects(s.readBlock(0, 0, 1), /storage closed/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

const SPANNING = [
  { path: ["a.bin"], length: 10_000 },
  { path: ["empty.txt"], length: 0 },
  { path: ["sub", "b.bin"], length: 3 },
  { path: [".pad", "5"], length: 5, pad: true },
  { path: ["sub", "deeper", "c.bin"], length: 40_001 },
];

Deno.test("storage: write, read back and verify across file boundaries", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const { meta, data } = makeTorrent(SPANNING, 4096);
    const s = await Storage.open(meta, dir, { maxOpenFiles: 2 });
    assert.equal((await Deno.stat(join(dir, "data", "empty.txt"))).size, 0);
    assert.ok(s.verify(2, pieceOf(meta, data, 2)));
    assert.ok(!s.verify(2, pieceOf(meta, data, 3)));
    await writeAll(s, meta, data);
    assert.ok(s.openFiles <= 2);
    // Piece 2 spans a.bin, b.bin and the pad file.
    const block = await s.readBlock(2, 1000, 3000);
    assert.deepEqual(block, data.slice(2 * 4096 + 1000, 2 * 4096 + 4000));
    await s.close();
    assert.deepEqual(await Deno.readFile(join(dir, "data", "a.bin")), data.slice(0, 10_000));
    assert.deepEqual(
      await Deno.readFile(join(dir, "data", "sub", "b.bin")),
      data.slice(10_000, 10_003),
    );
    assert.deepEqual(
      await Deno.readFile(join(dir, "data", "sub", "deeper", "c.bin")),
      data.slice(10_008),
    );
    await assert.rejects(Deno.stat(join(dir, "data", ".pad")), Deno.errors.NotFound);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("storage: check finds exactly the pieces on disk; missing and short files are holes", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const { meta, data } = makeTorrent(SPANNING, 4096);
    const s = await Storage.open(meta, dir, { maxOpenFiles: 3 });
    await writeAll(s, meta, data, [0, 5]);
    let last = 0;
    const have = await s.check((done, total) => {
      assert.ok(done >= last && total === meta.length);
      last = done;
    });
    assert.equal(last, meta.length);
    const expected = Array.from({ length: meta.pieceCount }, (_, i) => i).filter((i) =>
      i !== 0 && i !== 5
    );
    assert.deepEqual([...have.indexes()], expected);
    await s.close();
    // Truncating c.bin loses its tail pieces; deleting a.bin loses pieces 0..2.
    await Deno.truncate(join(dir, "data", "sub", "deeper", "c.bin"), 30_000);
    await Deno.remove(join(dir, "data", "a.bin"));
    const s2 = await Storage.open(meta, dir, { create: false });
    const have2 = await s2.check(undefined, { useResume: false });
    const lastGood = Math.floor((10_008 + 30_000) / 4096) - 1;
    assert.deepEqual(
      [...have2.indexes()],
      expected.filter((i) => i > 2 && i <= lastGood),
    );
    await assert.rejects(s2.readBlock(0, 0, 10), StorageError);
    await s2.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("storage: single-file torrent lives at dir/name", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const { meta, data } = makeTorrent([{ path: ["one.iso"], length: 20_000 }], 16384, {
      multiFile: false,
      name: "one.iso",
    });
    const s = await Storage.open(meta, dir);
    await writeAll(s, meta, data);
    await s.close();
    assert.deepEqual(await Deno.readFile(join(dir, "one.iso")), data);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("storage: refuses a symlink that leads outside the output folder", async () => {
  const dir = await Deno.makeTempDir();
  const outside = await Deno.makeTempDir();
  try {
    const { meta, data } = makeTorrent(SPANNING, 4096);
    await Deno.mkdir(join(dir, "data"));
    await Deno.symlink(outside, join(dir, "data", "sub"));
    const s = await Storage.open(meta, dir);
    await assert.rejects(s.writePiece(2, pieceOf(meta, data, 2)), /symlink points outside/);
    await assert.rejects(s.check(), StorageError);
    await s.close();
    assert.deepEqual([...Deno.readDirSync(outside)], []);
    // A symlink that stays inside the folder is fine.
    await Deno.remove(join(dir, "data", "sub"));
    await Deno.mkdir(join(dir, "real-sub"));
    await Deno.symlink(join(dir, "real-sub"), join(dir, "data", "sub"));
    const s2 = await Storage.open(meta, dir);
    await s2.writePiece(2, pieceOf(meta, data, 2));
    await s2.close();
    assert.deepEqual(
      await Deno.readFile(join(dir, "real-sub", "b.bin")),
      data.slice(10_000, 10_003),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
    await Deno.remove(outside, { recursive: true });
  }
});

Deno.test("storage: a path escaping the folder is refused when mapping", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const { meta } = makeTorrent([{ path: ["..", "evil"], length: 10 }, {
      path: ["ok"],
      length: 1,
    }], 16);
    await assert.rejects(Storage.open(meta, dir), /escapes the output folder/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("resume: matching sizes and mtimes skip hashing; any change re-hashes", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const { meta, data } = makeTorrent(SPANNING, 4096);
    const s = await Storage.open(meta, dir);
    await writeAll(s, meta, data, [1]);
    const have = await s.check();
    assert.equal(have.count(), meta.pieceCount - 1);
    // Record a bitfield that claims only piece 0: if the fast path is taken, that is what
    // check returns (a full re-hash would find every piece but 1).
    const claimed = have.clone();
    for (let i = 1; i < meta.pieceCount; i++) claimed.unset(i);
    await s.saveResume(claimed);
    await s.close();
    const path = resumePath(dir, meta.infoHash);
    const saved = decodeResume(await Deno.readFile(path));
    assert.ok(saved);
    assert.deepEqual(decodeResume(encodeResume(saved)), saved);

    const s2 = await Storage.open(meta, dir);
    assert.deepEqual([...(await s2.check()).indexes()], [0]);
    // Touch one file's mtime: mismatch -> full re-hash.
    await Deno.utime(join(dir, "data", "sub", "b.bin"), new Date(), new Date(2001, 1, 1));
    assert.equal((await s2.check()).count(), meta.pieceCount - 1);
    await s2.close();

    // A corrupt resume file is ignored, not an error.
    await Deno.writeFile(path, new TextEncoder().encode("d7:versioni1e"));
    const s3 = await Storage.open(meta, dir);
    assert.equal((await s3.check()).count(), meta.pieceCount - 1);
    await s3.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("storage: readBlockNow reads open files synchronously; readBlock returns copies", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const { meta, data } = makeTorrent(SPANNING, 4096);
    const w = await Storage.open(meta, dir);
    await writeAll(w, meta, data);
    await w.close();
    const s = await Storage.open(meta, dir, { create: false });
    // No handle open yet: the caller must take the asynchronous path.
    assert.equal(s.readBlockNow(2, 1000, 3000), undefined);
    const copy = await s.readBlock(2, 1000, 3000);
    assert.deepEqual(copy, data.slice(2 * 4096 + 1000, 2 * 4096 + 4000));
    copy.fill(0);
    // Now every file of piece 2 is open and idle: answered at once, from the window.
    const view = s.readBlockNow(2, 1000, 3000);
    assert.deepEqual(view, data.slice(2 * 4096 + 1000, 2 * 4096 + 4000));
    for (let i = 0; i < meta.pieceCount; i++) {
      const size = s.layout.pieceSize(i);
      const block = s.readBlockNow(i, 0, size) ?? await s.readBlock(i, 0, size);
      assert.deepEqual(block, pieceOf(meta, data, i), `piece ${i}`);
    }
    await s.close();
    assert.throws(() => s.readBlockNow(0, 0, 1), /storage closed/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name: "storage: a file being downloaded is allocated whole before its first piece lands",
  // Linux with FFI (the suite's --allow-all); elsewhere it is extended sparsely.
  ignore: !canPreallocate(),
  fn: async () => {
    const { meta, data } = makeTorrent([{ path: ["big.bin"], length: 1 << 20 }], 16384, {
      multiFile: false,
      name: "big.bin",
    });
    const dir = await Deno.makeTempDir();
    try {
      const s = await Storage.open(meta, dir);
      await s.writePiece(3, pieceOf(meta, data, 3));
      await s.close();
      const info = await Deno.stat(join(dir, "big.bin"));
      assert.equal(info.size, 1 << 20);
      assert.ok(info.blocks! * 512 >= 1 << 20, `${info.blocks} blocks: sparse`);
      const back = await Deno.readFile(join(dir, "big.bin"));
      assert.deepEqual(back.subarray(3 * 16384, 4 * 16384), pieceOf(meta, data, 3));
      assert.ok(back.subarray(0, 3 * 16384).every((b) => b === 0));
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
